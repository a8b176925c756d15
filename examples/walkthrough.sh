#!/bin/sh
# The README's main job, on the bundled data (needs `fupin` on PATH, e.g. an activated .venv):
#   1. check the township-style example workbook and CSV in examples/ (planted mistakes are reported);
#   2. write the 百色市 demo dataset and check it;
#   3. preview 田阳县's roster for 2018-05;
#   4. create the ledger (`fupin ledger init`, once), commit the payout roster month by month from the
#      data's first month (2017-09) to 2019-01, then run the unattended monthly batch for 2019-02;
#   5. print the statistics and the report paragraph that matches the seed report.
# Everything goes to ./out (or the folder given as $1). The input files are never modified.
set -eu
OUT="${1:-out}"
mkdir -p "$OUT"
LEDGER="$OUT/账本.sqlite3"
rm -rf "$LEDGER" "$OUT/输出" "$OUT/演示数据"

ok() { [ "$1" -eq 0 ] || [ "$1" -eq 1 ]; }  # exit 1 = done, but data problems excluded some rows

echo "== 1. 检查示例台账 examples/ =="
fupin check examples/ --report "$OUT/示例问题清单.xlsx" || ok $?

echo "== 2. 生成并检查百色市演示数据 =="
fupin demo "$OUT/演示数据"
fupin check "$OUT/演示数据" --report "$OUT/演示数据问题清单.xlsx" > "$OUT/check.txt" || ok $?
tail -n 3 "$OUT/check.txt"

echo "== 3. 预览田阳县 2018年5月 花名册 =="
fupin payout "$OUT/演示数据" --county 田阳县 --month 2018-05 --output "$OUT/田阳县花名册_2018-05.xlsx" \
    | tail -n 6 || ok $?

echo "== 4. 新建账本,逐月登记发放(2017-09 至 2019-01),再用 batch 跑 2019-02 =="
fupin ledger init "$LEDGER"
for M in 2017-09 2017-10 2017-11 2017-12 2018-01 2018-02 2018-03 2018-04 2018-05 2018-06 2018-07 2018-08 \
         2018-09 2018-10 2018-11 2018-12 2019-01; do
    fupin payout "$OUT/演示数据" --month "$M" --commit --ledger "$LEDGER" --json > "$OUT/payout-$M.json" || ok $?
    python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(sys.argv[2], '登记发放', d['people'], '人', d['amount'], '元')" \
        "$OUT/payout-$M.json" "$M"
done
cat > "$OUT/fupin.toml" <<TOML
input = "演示数据"
output = "输出"
ledger = "账本.sqlite3"
TOML
fupin batch --config "$OUT/fupin.toml" --month 2019-02 || ok $?
fupin ledger list --ledger "$LEDGER" | tail -n 3

echo "== 5. 统计与汇报文字(截至2019年2月底)=="
fupin stats "$OUT/演示数据" --month 2019-02 --ledger "$LEDGER" --output "$OUT/统计_2019-02.xlsx" || ok $?
fupin stats "$OUT/演示数据" --month 2019-02 --ledger "$LEDGER" --text || ok $?
echo "结果在 $OUT/ 中。"
