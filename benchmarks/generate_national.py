"""Generate national-shape input (issue 13): three CSV files as the national systems export them, and Parquet.

    python benchmarks/generate_national.py /tmp/nat1m  --wages 1000000     # 3,200 车间, 100,000 人员
    python benchmarks/generate_national.py /tmp/nat5m  --wages 5000000     # 16,000 / 500,000
    python benchmarks/generate_national.py /tmp/nat10m --wages 10000000    # 32,000 / 1,000,000

Writes OUT/csv/{车间,人员,工资}.csv (canonical headers in the first line, no title row, UTF-8 or
`--encoding gbk`) and OUT/parquet/{车间,人员,工资}.parquet (typed columns: dates as date32, pay as
float64, days as int32, text as string). Every person has 10 months of wages; workshops are
~1 per 31 people as in the national programme (about 32,000 for 1,000,000 laborers). IDs are
valid GB 11643 numbers drawn with numpy (benchmarks/generate.py), `--error-rate` of them with a
wrong check digit. Wage rows are produced and written in chunks, so memory stays flat.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import (  # noqa: E402  (the sibling script's helpers)
    BANKS,
    CONTRACT_TYPES,
    OPERATOR_TYPES,
    TOWNS,
    TRADES,
    days,
    headers,
    make_credit_codes,
    make_ids,
    make_names,
)

from fupin_cli.region import load_region  # noqa: E402

MONTHS = 10
PEOPLE_PER_WORKSHOP = 31
CHUNK_PEOPLE = 100_000  # wage rows are built for this many people at a time (1,000,000 rows)


def _date_text(d: np.ndarray) -> np.ndarray:
    return d.astype("datetime64[D]").astype(str)


def workshops_and_laborers(rng: np.random.Generator, w: int, n: int, error_rate: float) -> tuple[dict, dict]:
    """Columns (canonical header → numpy array; dates as datetime64[D], NaT for none) of 车间 and 人员."""
    counties = load_region().counties
    names = np.array([c.name for c in counties])
    codes = np.array([c.code for c in counties])
    wc = rng.integers(0, len(counties), w)
    w_id = np.char.add("GX", np.char.zfill(np.arange(1, w + 1).astype(str), 6))
    town = np.char.add(np.array(TOWNS)[rng.integers(0, len(TOWNS), w)], "镇")
    village = np.char.add(np.array(TOWNS)[rng.integers(0, len(TOWNS), w)], np.where(rng.random(w) < 0.5, "村", "社区"))
    trade = np.array(TRADES)[rng.integers(0, len(TRADES), w)]
    op_type = OPERATOR_TYPES[rng.choice(3, w, p=[0.6, 0.25, 0.15])]
    certified = days(2017, 6, 1) + rng.integers(0, 570, w)
    nat = np.datetime64("NaT", "D")
    shops = {
        "车间编号": w_id,
        "车间名称": np.char.add(np.char.add(np.char.add(names[wc], town), village), trade),
        "经营主体": np.char.add(names[wc], np.char.add(make_names(rng, w), "实业有限公司")),
        "主体类型": op_type,
        "统一社会信用代码": np.where(rng.random(w) < 0.8, make_credit_codes(rng, w), ""),
        "县(市、区)": names[wc],
        "乡镇": town,
        "村(社区)": village,
        "认定日期": np.where(rng.random(w) < 0.03, nat, certified),
        "撤销日期": np.where(rng.random(w) < 0.01, days(2019, 3, 1) + rng.integers(0, 180, w), nat),
        "开户银行": BANKS[rng.integers(0, len(BANKS), w)],
        "银行账号": np.char.add("62", np.char.zfill(rng.integers(0, 10**15, w).astype(str), 17)),
    }
    ws_of = rng.integers(0, w, n)
    birth = days(1960, 1, 1) + rng.integers(0, 41 * 365, n)
    ids = make_ids(rng, codes[wc[ws_of]], birth)
    people = make_names(rng, n)
    moved = np.flatnonzero(rng.random(n) < 0.01)
    moved = moved[moved > 0]
    ids[moved], people[moved] = ids[moved - 1], people[moved - 1]
    ws_of[moved] = (ws_of[moved - 1] + 1 + rng.integers(0, w - 1, len(moved))) % w
    bad = rng.random(n) < error_rate
    ids[bad] = np.char.add(ids[bad].astype("U17"), np.where(np.char.endswith(ids[bad], "1"), "2", "1"))
    poor = np.where(rng.random(n) < 0.3, "是", "否")
    start = days(2018, 1, 1) + rng.integers(0, 365, n)
    labs = {
        "身份证号": ids,
        "姓名": people,
        "车间编号": w_id[ws_of],
        "是否建档立卡贫困劳动力": poor,
        "是否易地扶贫搬迁": np.where((poor == "是") & (rng.random(n) < 0.15), "是", "否"),
        "协议类型": CONTRACT_TYPES[rng.choice(3, n, p=[0.6, 0.25, 0.15])],
        "协议起始日期": start,
        "协议终止日期": np.where(rng.random(n) < 0.1, start + rng.integers(120, 700, n), nat),
    }
    return shops, labs


def wage_chunk(rng: np.random.Generator, labs: dict, lo: int, hi: int) -> dict:
    """Wage columns of people lo..hi-1: MONTHS consecutive months from their agreement's start."""
    n = hi - lo
    start_m = labs["协议起始日期"][lo:hi].astype("datetime64[M]").astype(np.int64)
    pair = np.repeat(np.arange(n), MONTHS)
    m = start_m[pair] + np.tile(np.arange(MONTHS), n)
    month = np.char.add(np.char.add((1970 + m // 12).astype(str), "-"), np.char.zfill((m % 12 + 1).astype(str), 2))
    level = np.where(rng.random(n) < 0.05, rng.uniform(300, 700, n), rng.uniform(800, 1500, n))
    pay = np.round(level[pair] + rng.normal(0, 60, len(pair)), 0)
    zero = rng.random(len(pair)) < 0.08
    return {
        "身份证号": labs["身份证号"][lo:hi][pair],
        "车间编号": labs["车间编号"][lo:hi][pair],
        "月份": month,
        "实发工资": np.where(zero, 0.0, np.clip(pay, 100, None)),
        "出勤天数": np.where(zero, 0, rng.integers(15, 27, len(pair))).astype(np.int32),
        "姓名": labs["姓名"][lo:hi][pair],
    }


def arrow_table(cols: dict, text: bool) -> pa.Table:
    """Typed table for Parquet; all text (dates as 2018-03-05, empty for none) for CSV."""
    out = {}
    for h, a in cols.items():
        if a.dtype.kind == "M":
            arr = pa.array(a, type=pa.date32(), from_pandas=True)
            out[h] = pa.array(np.where(np.isnat(a), "", _date_text(a))) if text else arr
        elif a.dtype.kind == "U":
            out[h] = pa.array(a, type=pa.string())
        else:
            shown = np.char.mod("%.2f", a) if a.dtype.kind == "f" else a.astype(str)
            out[h] = pa.array(shown) if text else pa.array(a)
    return pa.table(out)


class Sink:
    """One table written as CSV (header line first, given encoding) and as Parquet, chunk by chunk."""

    def __init__(self, out: Path, sheet: str, encoding: str) -> None:
        self.csv = (out / "csv" / f"{sheet}.csv").open("wb")
        self.csv.write((",".join(headers(sheet)) + "\r\n").encode(encoding))
        self.sheet = sheet
        self.encoding = encoding
        self.pq_path = out / "parquet" / f"{sheet}.parquet"
        self.pq: pq.ParquetWriter | None = None
        self.rows = 0

    def write(self, cols: dict) -> None:
        assert list(cols) == headers(self.sheet), (self.sheet, list(cols))
        buf = pa.BufferOutputStream()
        pcsv.write_csv(arrow_table(cols, text=True), buf,
                       pcsv.WriteOptions(include_header=False, quoting_style="needed", eol="\r\n"))
        data = buf.getvalue().to_pybytes()
        self.csv.write(data if self.encoding == "utf-8" else data.decode("utf-8").encode(self.encoding))
        table = arrow_table(cols, text=False)
        if self.pq is None:
            self.pq = pq.ParquetWriter(self.pq_path, table.schema)
        self.pq.write_table(table)
        self.rows += table.num_rows

    def close(self) -> None:
        self.csv.close()
        if self.pq is not None:
            self.pq.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="生成全国规模的基准测试输入(车间、人员、工资三个CSV文件及Parquet)")
    ap.add_argument("out", type=Path, help="输出文件夹(其中建 csv/ 和 parquet/)")
    ap.add_argument("--wages", type=int, default=1_000_000, help="工资表行数(人员数 = 行数 / 10)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--error-rate", type=float, default=0.001, help="身份证号校验位写错的人员比例")
    ap.add_argument("--encoding", default="utf-8", choices=["utf-8", "gbk", "gb18030"], help="CSV 的文字编码")
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    n = max(a.wages // MONTHS, 1)
    w = max(n // PEOPLE_PER_WORKSHOP, 1)
    rng = np.random.default_rng(a.seed)
    for sub in ("csv", "parquet"):
        (a.out / sub).mkdir(parents=True, exist_ok=True)
    shops, labs = workshops_and_laborers(rng, w, n, a.error_rate)
    for sheet, cols in (("车间", shops), ("人员", labs)):
        sink = Sink(a.out, sheet, a.encoding)
        sink.write(cols)
        sink.close()
    sink = Sink(a.out, "工资", a.encoding)
    for lo in range(0, n, CHUNK_PEOPLE):
        sink.write(wage_chunk(rng, labs, lo, min(n, lo + CHUNK_PEOPLE)))
    sink.close()
    size = sum(f.stat().st_size for f in (a.out / "csv").iterdir()) / 2**20
    print(f"wrote {a.out}: 车间 {w:,} 行, 人员 {n:,} 行, 工资 {sink.rows:,} 行; CSV {size:.0f} MB ({a.encoding}); "
          f"{time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
