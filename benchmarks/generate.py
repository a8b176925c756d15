"""Generate a province-scale input workbook (SPEC §3, §9) for the benchmark.

    python benchmarks/generate.py /tmp/bench.xlsx                    # 3,000 workshops, 100,000 laborers, 1,000,000 wage rows
    python benchmarks/generate.py /tmp/small.xlsx --small            # 300 / 2,000 / 20,000 for quick trials

Sheets 车间, 人员, 工资 (long form) with the canonical headers of fupin_cli.tables under a title row,
as a township clerk would send them. Everything is drawn with numpy from one seed, so the same
arguments give the same cells. The workbook is written with xlsxwriter in constant_memory mode,
row by row (pandas.to_excel cannot stream), so memory stays flat however many rows are written.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import xlsxwriter

from fupin_cli.region import load_region
from fupin_cli.tables import load_tables

SMALL = {"workshops": 300, "laborers": 2000, "months": 10}

# GB 11643 (ID number): weights of the 17 digits, remainder 0..10 -> check character.
ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
ID_CHECK = np.array(list("10X98765432"))
# GB 32100 (统一社会信用代码): 31-character alphabet, weights 3^i mod 31.
CC_ALPHABET = np.array(list("0123456789ABCDEFGHJKLMNPQRTUWXY"))
CC_WEIGHTS = np.array([1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28], dtype=np.int64)

SURNAMES = list("黄农韦陆梁李罗莫王杨覃蒙黎潘卢周谭何冯岑滕许赵刘陈张班凌邓")
GIVEN = list("秀丽美兰英华芳玉春桂梅凤金明建国志强海军平文光成永福德新荣云燕红霞珍贵生林")
TOWNS = list("那坡头塘平百龙田东江河岭洞")
TRADES = ["电子厂", "服装厂", "手工艺品厂", "农产品加工厂", "竹编厂", "玩具厂", "芒果加工厂", "五金配件厂"]
OPERATOR_TYPES = np.array(["企业", "个体工商户", "农民专业合作社"])
CONTRACT_TYPES = np.array(["劳务协议", "承揽合同", "劳动合同"])
BANKS = np.array(["中国农业银行", "广西农村信用社", "中国邮政储蓄银行", "中国工商银行"])
EPOCH = np.datetime64("1899-12-30", "D")  # Excel's day 0 (1900 date system)


def id_check_chars(body: np.ndarray) -> np.ndarray:
    """Check characters of 17-digit ID bodies given as an (n, 17) integer array."""
    return ID_CHECK[(body @ ID_WEIGHTS) % 11]


def make_ids(rng: np.random.Generator, area: np.ndarray, birth: np.ndarray) -> np.ndarray:
    """Unique, valid 18-character ID numbers: 6-digit area code, birth date, sequence, check digit."""
    n = len(area)
    ymd = birth.astype("datetime64[D]").astype(str)
    prefix = np.char.add(area.astype(str), np.char.replace(ymd, "-", ""))
    seq = rng.integers(0, 1000, n)
    while True:  # resample the few sequence numbers that collide with another person's
        bodies = np.char.add(prefix, np.char.zfill(seq.astype(str), 3))
        _, first = np.unique(bodies, return_index=True)
        dup = np.ones(n, dtype=bool)
        dup[first] = False
        if not dup.any():
            break
        seq[dup] = rng.integers(0, 1000, int(dup.sum()))
    digits = np.frombuffer(bodies.astype("S17").tobytes(), dtype=np.uint8).reshape(n, 17).astype(np.int64) - 48
    return np.char.add(bodies, id_check_chars(digits))


def make_credit_codes(rng: np.random.Generator, n: int) -> np.ndarray:
    """Valid 统一社会信用代码: 91/92/93 (enterprise, individual, cooperative) + 451000-area + random body."""
    idx = rng.integers(0, 31, (n, 17))
    idx[:, 0] = 9
    idx[:, 1] = rng.integers(1, 4, n)
    idx[:, 2:8] = [4, 5, 1, 0, 0, 0]
    check = (31 - (idx @ CC_WEIGHTS) % 31) % 31
    chars = CC_ALPHABET[np.concatenate([idx, check[:, None]], axis=1)]
    return np.array(["".join(r) for r in chars])


def make_names(rng: np.random.Generator, n: int) -> np.ndarray:
    s = np.array(SURNAMES)[rng.integers(0, len(SURNAMES), n)]
    g1 = np.array(GIVEN)[rng.integers(0, len(GIVEN), n)]
    g2 = np.where(rng.random(n) < 0.7, np.array(GIVEN)[rng.integers(0, len(GIVEN), n)], "")
    return np.char.add(np.char.add(s, g1), g2)


def days(y: int, m: int, d: int) -> np.datetime64:
    return np.datetime64(date(y, m, d), "D")


def build(workshops: int, laborers: int, months: int, seed: int, error_rate: float) -> dict[str, list[np.ndarray]]:
    """Column arrays per sheet, in canonical header order (see HEADERS)."""
    rng = np.random.default_rng(seed)
    region = load_region()
    counties = region.counties
    # -- 车间
    w = workshops
    w_county = rng.integers(0, len(counties), w)
    county_names = np.array([c.name for c in counties])
    county_codes = np.array([c.code for c in counties])
    w_id = np.char.add("BS", np.char.zfill(np.arange(1, w + 1).astype(str), 5))
    town = np.char.add(np.array(TOWNS)[rng.integers(0, len(TOWNS), w)], "镇")
    village = np.char.add(np.array(TOWNS)[rng.integers(0, len(TOWNS), w)], np.where(rng.random(w) < 0.5, "村", "社区"))
    trade = np.array(TRADES)[rng.integers(0, len(TRADES), w)]
    w_name = np.char.add(np.char.add(np.char.add(county_names[w_county], town), village), trade)
    op_type = OPERATOR_TYPES[rng.choice(3, w, p=[0.6, 0.25, 0.15])]
    operator = np.char.add(np.char.add(county_names[w_county], make_names(rng, w)),
                           np.where(op_type == "企业", "实业有限公司", np.where(op_type == "个体工商户", "加工店", "种养专业合作社")))
    credit = np.where(rng.random(w) < 0.8, make_credit_codes(rng, w), "")
    certified = days(2017, 6, 1) + rng.integers(0, 570, w)  # mid-2017 to end of 2018
    certified_xl = np.where(rng.random(w) < 0.03, np.nan, (certified - EPOCH).astype(float))  # 3% not yet certified
    withdrawn_xl = np.where(rng.random(w) < 0.01, (days(2019, 3, 1) + rng.integers(0, 180, w) - EPOCH).astype(float), np.nan)
    bank = BANKS[rng.integers(0, len(BANKS), w)]
    account = np.char.add("62", np.char.zfill(rng.integers(0, 10**15, w).astype(str), 17))

    # -- 人员: ~1% of rows are a second agreement of someone who moved to another workshop
    n = laborers
    ws_of = rng.integers(0, w, n)
    area = county_codes[w_county[ws_of]]
    birth = days(1960, 1, 1) + rng.integers(0, 41 * 365, n)
    birth = np.where(rng.random(n) < 0.002, days(2003, 1, 1) + rng.integers(0, 300, n), birth)  # a few under 16
    ids = make_ids(rng, area, birth)
    names = make_names(rng, n)
    moved = np.flatnonzero(rng.random(n) < 0.01)
    moved = moved[moved > 0]
    ids[moved], names[moved] = ids[moved - 1], names[moved - 1]
    ws_of[moved] = (ws_of[moved - 1] + 1 + rng.integers(0, w - 1, len(moved))) % w
    bad = rng.random(n) < error_rate  # a clerk's typo in the last digit: id.checksum errors for `check` to report
    ids[bad] = np.char.add(ids[bad].astype("U17"), np.where(np.char.endswith(ids[bad], "1"), "2", "1"))
    poor = np.where(rng.random(n) < 0.3, "是", "否")
    relocated = np.where((poor == "是") & (rng.random(n) < 0.15), "是", "否")
    contract = CONTRACT_TYPES[rng.choice(3, n, p=[0.6, 0.25, 0.15])]
    start = days(2018, 1, 1) + rng.integers(0, 365, n)  # agreements spread over 2018
    end_xl = np.where(rng.random(n) < 0.1, (start + rng.integers(120, 700, n) - EPOCH).astype(float), np.nan)
    start_xl = (start - EPOCH).astype(float)

    # -- 工资: one row per pair and month, `months` consecutive months from the agreement's start month
    start_m = start.astype("datetime64[M]").astype(np.int64)  # months since 1970-01
    pair = np.repeat(np.arange(n), months)
    m = start_m[pair] + np.tile(np.arange(months), n)
    month_txt = np.char.add(np.char.add((1970 + m // 12).astype(str), "-"), np.char.zfill((m % 12 + 1).astype(str), 2))
    level = np.where(rng.random(n) < 0.05, rng.uniform(300, 700, n), rng.uniform(800, 1500, n))  # 5% part-time
    pay = np.round(level[pair] + rng.normal(0, 60, len(pair)), 0)
    zero = rng.random(len(pair)) < 0.08  # months without work
    pay = np.where(zero, 0.0, np.clip(pay, 100, None))
    day = np.where(zero, 0, rng.integers(15, 27, len(pair)))
    return {
        "车间": [w_id, w_name, operator, op_type, credit, county_names[w_county], town, village,
               certified_xl, withdrawn_xl, bank, account],
        "人员": [ids, names, w_id[ws_of], poor, relocated, contract, start_xl, end_xl],
        "工资": [ids[pair], w_id[ws_of][pair], month_txt, pay, day, names[pair]],
    }


TABLE_OF = {"车间": "workshops", "人员": "laborers", "工资": "wages"}
TITLES = {"车间": "百色市就业扶贫车间名册", "人员": "百色市就业扶贫车间吸纳就业人员名册", "工资": "百色市就业扶贫车间务工人员工资发放表"}
DATE_HEADERS = {"认定日期", "撤销日期", "协议起始日期", "协议终止日期"}


# The columns this generator fills, in order. Optional columns added to the tables later (人员类别, a
# laborer's own account) are left out; each header named here must still be a canonical one.
GENERATED = {
    "车间": ["车间编号", "车间名称", "经营主体", "主体类型", "统一社会信用代码", "县(市、区)", "乡镇", "村(社区)",
           "认定日期", "撤销日期", "开户银行", "银行账号"],
    "人员": ["身份证号", "姓名", "车间编号", "是否建档立卡贫困劳动力", "是否易地扶贫搬迁", "协议类型", "协议起始日期",
           "协议终止日期"],
    "工资": ["身份证号", "车间编号", "月份", "实发工资", "出勤天数", "姓名"],
}


def headers(sheet: str) -> list[str]:
    canonical = [c.header for c in load_tables().get(TABLE_OF[sheet]).columns]  # type: ignore[arg-type]
    missing = [h for h in GENERATED[sheet] if h not in canonical]
    assert not missing, (sheet, missing)
    return GENERATED[sheet]


def write_workbook(path: Path, data: dict[str, list[np.ndarray]]) -> int:
    """Stream every sheet row by row; text via write_string (IDs stay text), numbers via write_number."""
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    bold = wb.add_format({"bold": True})
    cells = 0
    for sheet, cols in data.items():
        ws = wb.add_worksheet(sheet)
        hdr = headers(sheet)
        assert len(hdr) == len(cols), (sheet, hdr)
        ws.write_string(0, 0, TITLES[sheet], bold)
        for j, h in enumerate(hdr):
            ws.write_string(1, j, h, bold)
        writers = []
        for h, col in zip(hdr, cols, strict=True):
            if col.dtype.kind == "U":
                writers.append((ws.write_string, col.tolist(), None))
            else:
                writers.append((ws.write_number, col.tolist(), date_fmt if h in DATE_HEADERS else None))
        n = len(cols[0])
        for i in range(n):
            r = i + 2
            for j, (fn, values, fmt) in enumerate(writers):
                v = values[i]
                if v == "" or v != v:  # empty text or NaN: leave the cell blank
                    continue
                fn(r, j, v, fmt)
                cells += 1
    wb.close()
    return cells


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="生成省级规模的基准测试输入工作簿(车间、人员、工资长表)")
    ap.add_argument("out", type=Path, help="输出 xlsx 路径")
    ap.add_argument("--workshops", type=int, default=3000)
    ap.add_argument("--laborers", type=int, default=100_000, help="人员表行数(约 1%% 是换车间的同一人)")
    ap.add_argument("--months", type=int, default=10, help="每人的工资月数;工资表行数 = 人员 × 月数")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--error-rate", type=float, default=0.001, help="身份证号校验位写错的人员比例")
    ap.add_argument("--small", action="store_true", help="小规模预设:300 车间、2,000 人、20,000 行工资")
    a = ap.parse_args(argv)
    if a.small:
        a.workshops, a.laborers, a.months = SMALL["workshops"], SMALL["laborers"], SMALL["months"]
    t0 = time.perf_counter()
    data = build(a.workshops, a.laborers, a.months, a.seed, a.error_rate)
    t1 = time.perf_counter()
    cells = write_workbook(a.out, data)
    t2 = time.perf_counter()
    rows = {k: len(v[0]) for k, v in data.items()}
    print(f"wrote {a.out}: 车间 {rows['车间']:,} 行, 人员 {rows['人员']:,} 行, 工资 {rows['工资']:,} 行, {cells:,} cells, "
          f"{a.out.stat().st_size / 2**20:.1f} MB")
    print(f"generate {t1 - t0:.1f} s, write {t2 - t1:.1f} s, total {t2 - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
