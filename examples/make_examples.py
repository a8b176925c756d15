"""Regenerate the bundled example workbooks (township style, with a few planted mistakes).

    python examples/make_examples.py

Writes `examples/田阳县就业扶贫车间台账.xlsx` (title rows, merged cells, a 序号 column, a 合计 row,
a wide wage sheet with a `2018年` group header over `1月…12月`) and `examples/那坡县工资补录.csv`
(GBK, as WPS exports it). Deterministic: the same files every run.
"""

from __future__ import annotations

import csv
import random
from datetime import date
from pathlib import Path

import xlsxwriter

HERE = Path(__file__).resolve().parent
WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
CHECK = "10X98765432"


def make_id(region: str, birth: date, seq: int) -> str:
    body = f"{region}{birth:%Y%m%d}{seq:03d}"
    return body + CHECK[sum(int(c) * w for c, w in zip(body, WEIGHTS, strict=True)) % 11]


SURNAMES = "黄韦农陆梁李罗潘覃莫蒙杨"
GIVEN = ["秀英", "海燕", "建国", "美玲", "春花", "志强", "丽萍", "文光", "金凤", "永福", "桂兰", "德明"]

WORKSHOPS = [
    # id, name, operator, type, credit code, county, township, village, certified, withdrawn, bank, account
    ("TY001", "那满镇新立村电子扶贫车间", "百色市民胜电子设备制造有限公司", "企业", "91451021MA5K9A1B2C", "田阳县",
     "那满镇", "新立村", date(2017, 11, 20), None, "广西农村信用社田阳联社", "6228480123456789012"),
    ("TY002", "头塘镇联坡村服装扶贫车间", "田阳县联坡服装厂", "个体工商户", "92451021MA5L0XXXXX", "田阳县",
     "头塘镇", "联坡村", date(2018, 3, 5), None, "中国农业银行田阳支行", "6228480987654321098"),
    ("TY003", "百育镇四那村芒果加工扶贫车间", "田阳县四那芒果专业合作社", "农民专业合作社", "", "田阳县",
     "百育镇", "四那村", date(2018, 6, 1), date(2019, 1, 15), "广西农村信用社田阳联社", "6228480555566667777"),
    ("TY004", "玉凤镇亭怀村竹编扶贫车间", "田阳县亭怀竹编厂", "企业", "", "田阳县",
     "玉凤镇", "亭怀村", None, None, "", ""),
]


def laborers() -> list[dict]:
    rnd = random.Random(2018)
    people = []
    for i in range(24):
        birth = date(1965 + rnd.randrange(35), 1 + rnd.randrange(12), 1 + rnd.randrange(28))
        ws = WORKSHOPS[i % 4][0]
        start = date(2018, 1 + (i % 5), 1 + (i % 20))
        people.append({
            "id": make_id("451021", birth, 100 + i), "name": SURNAMES[i % 12] + GIVEN[(i * 5) % 12],
            "ws": ws, "poor": "是" if i % 3 != 2 else "否", "reloc": "是" if i % 7 == 0 else "否",
            "type": ["劳务协议", "承揽合同", "劳动合同"][i % 3], "start": start,
            "pay": [0 if (i % 4 == 3 and m < 6) else 900 + 50 * ((i + m) % 6) for m in range(12)],
        })
    return people


def write_xlsx(path: Path) -> None:
    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False})
    title = wb.add_format({"bold": True, "font_size": 16, "align": "center", "valign": "vcenter"})
    head = wb.add_format({"bold": True, "border": 1, "align": "center", "valign": "vcenter", "text_wrap": True})
    cell = wb.add_format({"border": 1})
    datef = wb.add_format({"border": 1, "num_format": "yyyy-mm-dd"})
    people = laborers()

    ws = wb.add_worksheet("车间名册")
    headers = ["序号", "车间编号", "车间名称", "经营主体", "主体类型", "统一社会信用代码", "县(市、区)", "乡镇", "村(社区)",
               "认定日期", "撤销日期", "开户银行", "银行账号"]
    ws.merge_range(0, 0, 0, len(headers) - 1, "田阳县就业扶贫车间名册", title)
    ws.write_string(1, 0, "填报单位:田阳县人力资源和社会保障局(盖章)")
    for j, h in enumerate(headers):
        ws.write_string(2, j, h, head)
    for i, w in enumerate(WORKSHOPS):
        r = 3 + i
        ws.write_number(r, 0, i + 1, cell)
        for j, v in enumerate(w, start=1):
            if isinstance(v, date):
                ws.write_datetime(r, j, v, datef)
            elif v is None or v == "":
                ws.write_blank(r, j, None, cell)
            else:
                ws.write_string(r, j, v, cell)
    ws.set_column(0, len(headers), 16)

    ws = wb.add_worksheet("吸纳就业花名册")
    headers = ["序号", "姓名", "公民身份号码", "车间编号", "是否建档立卡贫困劳动力", "易地搬迁", "用工形式", "签订日期", "合同终期"]
    ws.merge_range(0, 0, 0, len(headers) - 1, "田阳县就业扶贫车间吸纳就业花名册", title)
    for j, h in enumerate(headers):
        ws.write_string(1, j, h, head)
    r = 2
    for i, p in enumerate(people):
        ws.write_number(r, 0, i + 1, cell)
        ws.write_string(r, 1, p["name"], cell)
        if i == 5:
            ws.write_number(r, 2, float(p["id"]), cell)  # planted: ID typed as a number, digits lost
        elif i == 9:
            ws.write_string(r, 2, p["id"][:-1] + ("0" if p["id"][-1] != "0" else "1"), cell)  # planted: bad checksum
        elif i == 13:
            ws.write_string(r, 2, p["id"].lower().replace("x", "x") + " ", cell)
        else:
            ws.write_string(r, 2, p["id"], cell)
        ws.write_string(r, 3, p["ws"], cell)
        ws.write_string(r, 4, p["poor"], cell)
        ws.write_string(r, 5, p["reloc"], cell)
        ws.write_string(r, 6, p["type"] if i != 17 else "临时工", cell)  # planted: unknown agreement type
        ws.write_datetime(r, 7, p["start"], datef)
        ws.write_blank(r, 8, None, cell)
        r += 1
    ws.write_string(r, 0, "合计", cell)
    ws.write_string(r, 1, f"{len(people)}人", cell)
    ws.set_column(0, len(headers), 14)
    ws.set_column(2, 2, 22)

    ws = wb.add_worksheet("工资发放")
    ws.merge_range(0, 0, 0, 14, "田阳县就业扶贫车间务工人员工资发放表(单位:元)", title)
    ws.merge_range(1, 0, 2, 0, "序号", head)
    ws.merge_range(1, 1, 2, 1, "姓名", head)
    ws.merge_range(1, 2, 2, 2, "身份证号", head)
    ws.merge_range(1, 3, 2, 3, "车间编号", head)
    ws.merge_range(1, 4, 1, 14, "2018年", head)
    for m in range(11):
        ws.write_string(2, 4 + m, f"{m + 1}月", head)
    r = 3
    for i, p in enumerate(people):
        ws.write_number(r, 0, i + 1, cell)
        ws.write_string(r, 1, p["name"] if i != 20 else p["name"][0] + "某", cell)  # planted: name mismatch
        ws.write_string(r, 2, p["id"], cell)
        ws.write_string(r, 3, p["ws"], cell)
        start_m = p["start"].month - 1
        for m in range(11):
            if m < start_m:
                continue
            v = p["pay"][m]
            if i == 22 and m == 7:
                ws.write_string(r, 4 + m, "-300", cell)  # planted: negative pay
            elif v:
                ws.write_number(r, 4 + m, v, cell)
        r += 1
    ws.write_string(r, 0, "合计", cell)
    ws.set_column(0, 14, 11)
    ws.set_column(2, 2, 22)
    wb.close()


def write_csv(path: Path) -> None:
    """A wage correction for December exported by WPS as GBK, long form."""
    people = laborers()
    with open(path, "w", encoding="gbk", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["身份证号", "姓名", "车间编号", "发放月份", "实发工资(元)", "出勤天数"])
        for p in people[:8]:
            w.writerow([p["id"], p["name"], p["ws"], "2018年12月", f"{p['pay'][11]:,.2f}", 22])
        w.writerow(["452122199001011234", "陆某", "TY009", "2018年12月", "1200", 20])  # planted: unknown workshop


if __name__ == "__main__":
    write_xlsx(HERE / "田阳县就业扶贫车间台账.xlsx")
    write_csv(HERE / "田阳县12月工资补录.csv")
    print("examples written")
