"""Township-style messy input files for validation and `fupin check` tests.

The workbook looks like what a 乡镇 clerk sends: title rows above merged headers, a 序号 column,
a 合计 row, aliases (公民身份号码, 用工形式, 签订日期, 实发工资(元)…), ID numbers typed as numbers,
dates typed as text, a wide wage sheet (`2019年` over `1月`…`12月`) and a GBK csv exported by WPS.
Each planted mistake is named by a label; `Fixture.rows[label]` is its Excel row as the user sees it,
so the tests state exactly which problem belongs to which row without counting rows by hand.

The ID and credit-code check characters are computed here independently of fupin_cli.values, so a
bug in the library's own check cannot make a fixture agree with it.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.styles import Alignment
from openpyxl.worksheet.worksheet import Worksheet

from conftest import id_check_char, make_id

# GB 32100-2015: 统一社会信用代码 alphabet (no I O S V Z) and weights of the first 17 characters.
_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def bad_check(id_number: str) -> str:
    """The same ID number with a wrong check character."""
    wrong = "0" if id_number[-1] != "0" else "1"
    return id_number[:-1] + wrong


def id_from_15(old: str) -> str:
    """The 18-character number an old 15-digit ID becomes (century 19 inserted, check digit added)."""
    body = old[:6] + "19" + old[6:]
    return body + id_check_char(body)


def credit_code(body17: str) -> str:
    """A valid 统一社会信用代码 from its first 17 characters (GB 32100 check character)."""
    total = sum(_CREDIT_CHARS.index(c) * w for c, w in zip(body17, _CREDIT_WEIGHTS, strict=True))
    return body17 + _CREDIT_CHARS[(31 - total % 31) % 31]


def bad_credit(code: str) -> str:
    i = _CREDIT_CHARS.index(code[-1])
    return code[:-1] + _CREDIT_CHARS[(i + 1) % 31]


def mask(id_number: str) -> str:
    """How an ID number must look in terminal/JSON output without --show-id (SPEC §9)."""
    return id_number[:6] + "*" * (len(id_number) - 10) + id_number[-4:]


# --- the people and workshops of the messy workbook ------------------------------------------

ID = {
    "p1": make_id("19850307", 2),
    "p2": make_id("19900101", 123),
    "p3_old": "452122850307015",  # 15-digit, typed into a number cell
    "p4": make_id("19780412", 31),  # typed into a number cell: Excel keeps 15 digits
    "p5": make_id("19920815", 44),  # planted with a wrong check digit
    "p6": make_id("19880101", 55),
    "p7": make_id("19870202", 66),
    "p8": make_id("19860303", 77),
    "p10": make_id("19950505", 88),
    "p11": make_id("19930606", 99),
    "p12": make_id("19910707", 101),
    "no_name": make_id("19990909", 7),
}
ID["p3"] = id_from_15(ID["p3_old"])

CREDIT_OK = credit_code("92451021MA5KXY312")
CREDIT_OK2 = credit_code("93451021MA5L00011")
CREDIT_BAD = bad_credit(credit_code("91451000MA5N12345"))


@dataclass
class Fixture:
    """A written input set: the files, and label → Excel row of each planted row per sheet."""

    xlsx: Path
    csv: Path | None = None
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def paths(self) -> list[Path]:
        return [self.xlsx] + ([self.csv] if self.csv is not None else [])


class _Sheet:
    """Append rows to a worksheet and remember labelled rows' numbers."""

    def __init__(self, ws: Worksheet, rows: dict[str, int], prefix: str) -> None:
        self.ws = ws
        self.rows = rows
        self.prefix = prefix

    def add(self, values: list[Any], label: str | None = None) -> int:
        self.ws.append(values)
        r = self.ws.max_row
        if label is not None:
            key = f"{self.prefix}.{label}"
            assert key not in self.rows, key
            self.rows[key] = r
        return r

    def title(self, text: str, width: int) -> None:
        self.ws.append([text])
        r = self.ws.max_row
        self.ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=width)
        self.ws.cell(r, 1).alignment = Alignment(horizontal="center")


WORKSHOP_HEADER = ["序号", "编号", "车间\n名称", "企业名称", "主体类型", "信用代码", "县（市、区）", "乡镇(街道)",
                   "认定时间", "撤销日期", "开户银行", "账号"]


def _workshops(ws: Worksheet, rows: dict[str, int]) -> None:
    s = _Sheet(ws, rows, "车间")
    s.title("田阳县就业扶贫车间认定名册", len(WORKSHOP_HEADER))
    s.add(["填报单位:田阳县人力资源和社会保障局", None, None, None, None, None, None, None, "填报日期:2019年6月"])
    s.add(WORKSHOP_HEADER)
    bank = "6228480088123456789"
    s.add([1, "TY001", "田阳县那坡镇巾帼脱贫示范基地电子厂", "百色某某电子有限公司", "企业", CREDIT_OK, "田阳县",
           "那坡镇", datetime(2018, 3, 1), None, "农业银行田阳支行", bank], "ok1")
    # A 合作社 with the current county name, dates typed as text, no credit code.
    s.add([2, "TY002", "田阳区百育镇四那村合作社车间", "田阳县四那种养专业合作社", "农民专业合作社", None, "田阳区",
           "百育镇", "2018.6.1", None, "田阳县农村信用合作联社", bank], "ok2")
    s.add([3, "TY003", "头塘镇服装车间", "某服装厂", "个体工商户", CREDIT_OK2, "451021", "头塘镇",
           "2018-05-01", "2018年1月1日", None, None], "withdrawn_early")
    s.add([4, "TY004", "玉凤镇竹编车间", "某竹编公司", "企业", CREDIT_BAD, "田阳县", "玉凤镇",
           "20180901", None, None, None], "credit_bad")
    s.add([5, "TY005", "那满镇车间", "某甲公司", "企业", None, "田阳县", "那满镇", datetime(2018, 4, 1), None, None,
           None], "dup_a")
    s.add([6, "TY005", "那满镇另一车间", "某乙公司", "企业", None, "田阳县", "那满镇", datetime(2018, 4, 1), None,
           None, None], "dup_b")
    s.add(["合计", None, "6家"], "total")


def _laborers(ws: Worksheet, rows: dict[str, int]) -> None:
    s = _Sheet(ws, rows, "人员")
    s.title("田阳县就业扶贫车间吸纳就业花名册", 9)
    # Two-row header: 协议期限 over 起始日期/终止日期, the other headers merged vertically.
    s.add(["序号", "姓名", "公民身份号码", "车间编号", "是否建档立卡贫困户", "用工形式", "协议期限", None, "易地搬迁"])
    s.add([None, None, None, None, None, None, "起始日期", "终止日期", None])
    top = ws.max_row - 1
    for col in (1, 2, 3, 4, 5, 6, 9):
        ws.merge_cells(start_row=top, start_column=col, end_row=top + 1, end_column=col)
    ws.merge_cells(start_row=top, start_column=7, end_row=top, end_column=8)
    s.add([1, "黄秀英", ID["p1"], "TY001", "是", "劳务协议", datetime(2019, 1, 1), None, "否"], "p1")
    s.add([2, "韦小红", ID["p2"], "TY001", "√", "承揽合同", "2019年1月5日", None, None], "p2")
    s.add([3, "农老三", int(ID["p3_old"]), "TY002", "是", "劳务协议", "2019.2.1", "2020/1/31", "是"], "p3_num15")
    s.add([4, "罗四妹", float(ID["p4"]), "TY002", "是", "劳务协议", "2019-01-01", None, None], "p4_lost")
    s.add([5, "黄五", bad_check(ID["p5"]), "TY001", "是", "劳务协议", "2019-01-01", None, None], "p5_check")
    s.add([6, "陆六", ID["p6"], "TY999", "是", "劳务协议", "2019-01-01", None, None], "p6_unknown_ws")
    s.add([7, "梁七", ID["p7"], "TY003", "是", "劳务协议", "2019-01-01", None, None], "p7_bad_ws")
    s.add([8, "廖八", ID["p8"], "TY004", "是", "劳务协议", "2019-01-01", None, None], "p8_dup_a")
    s.add([None, None, None, None, None, None, None, None, None])  # an empty row in the middle
    s.add([9, "廖八", ID["p8"], "TY004", "是", "承揽合同", "2019-02-01", None, None], "p8_dup_b")
    # The laborer who moved: p1 also works in TY002 (a legitimate second row).
    s.add([10, "黄秀英", ID["p1"], "TY002", "是", "劳务协议", "2019-01-01", None, None], "p1_moved")
    s.add([11, "班十", ID["p10"], "TY001", "是", "劳务协议", "2019-06-01", "2019-03-31", None], "p10_end_early")
    s.add([12, "韦晓明", ID["p11"], "TY004", "是", "劳务协议", "2019-03-01", "2019-08-31", None], "p11")
    s.add([13, "岑十二", ID["p12"], "TY001", "否", "劳动合同", "2019-01-01", None, None], "p12")
    s.add([14, "", ID["no_name"], "TY001", "是", "劳务协议", "2019-01-01", None, None], "no_name")


MONTHS = [f"{m}月" for m in range(1, 13)]
WAGE_MONTH_COL = 5  # column E holds 1月


def _wages(ws: Worksheet, rows: dict[str, int]) -> None:
    s = _Sheet(ws, rows, "工资")
    s.title("2019年就业扶贫车间务工人员工资发放表", 17)
    s.add(["序号", "姓名", "身份证号码", "车间编号", "2019年", *[None] * 11, "合计"])
    s.add([None, None, None, None, *MONTHS, None])
    top = ws.max_row - 1
    for col in (1, 2, 3, 4, 17):
        ws.merge_cells(start_row=top, start_column=col, end_row=top + 1, end_column=col)
    ws.merge_cells(start_row=top, start_column=5, end_row=top, end_column=16)

    sums = [0.0] * 12

    def row(no: Any, name: str, id_number: Any, ws_id: str, pays: list[Any], label: str | None) -> int:
        pays = pays + [None] * (12 - len(pays))
        for i, p in enumerate(pays):
            sums[i] += p if isinstance(p, (int, float)) else 0
        nums = [p for p in pays if isinstance(p, (int, float))]
        return s.add([no, name, id_number, ws_id, *pays, sum(nums) or None], label)

    row(1, "黄秀英", ID["p1"], "TY001", [1100] * 12, "p1")
    # Money typed as text with separators and units; an empty cell (no work that month).
    row(2, "韦小红", ID["p2"], "TY001", ["1,200.50", "1200元", "¥1200", None, 1200, 1200], "p2")
    row(3, "农老三", int(ID["p3_old"]), "TY002", [None, 1000, 1000, 1000, 1000, 1000, 1000], "p3_num15")
    row(4, "韦小红", ID["p2"], "TY002", [900, 900], "p2_not_registered")
    row(5, "黄秀英", ID["p1"], "TY002", [800, 800, -500, 800], "p1_moved_negative")
    row(6, "韦小明", ID["p11"], "TY004", [1000] * 12, "p11_name_outside")
    row(7, "黄秀英", ID["p1"], "TY888", [700], "p1_unknown_ws")
    # The totals row sums each month column, as township sheets do; it must be ignored, not read as pay.
    s.add(["合计", None, None, None, *sums, sum(sums)], "total")


def write_messy_workbook(path: Path) -> dict[str, int]:
    """车间, 人员 and a wide 工资 sheet, each with its planted mistakes; returns label → Excel row."""
    rows: dict[str, int] = {}
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "车间"
    _workshops(ws, rows)
    _laborers(wb.create_sheet("人员"), rows)
    _wages(wb.create_sheet("工资"), rows)
    wb.create_sheet("说明").append(["本表由乡镇劳动保障所填报"])  # a sheet that is none of the tables
    wb.save(path)
    return rows


CSV_HEADER = ["序号", "身份证号", "车间编号", "发放月份", "实发工资(元)", "出勤天数", "姓名"]


def write_gbk_csv(path: Path) -> dict[str, int]:
    """A long-form wage csv as WPS exports it (GBK): months and money in several spellings."""
    rows: dict[str, int] = {}
    lines: list[list[Any]] = [CSV_HEADER]

    def add(values: list[Any], label: str | None = None) -> None:
        lines.append(values)
        if label is not None:
            rows[f"csv.{label}"] = len(lines)

    add([1, ID["p2"], "TY001", "2019/7", "1,300", 22, "韦小红"], "p2_jul")
    add([2, ID["p2"], "TY001", "201908", "1300元", "", "韦小红"], "p2_aug")
    add([3, ID["p12"], "TY001", "2019年13月", "1300", 20, "岑十二"], "p12_bad_month")
    add([4, ID["p12"], "TY001", "2019-10", "一千", 20, "岑十二"], "p12_bad_money")
    add([5, ID["p12"], "TY001", "2019.11", "1300", 45, "岑十二"], "p12_bad_days")
    # p1's January is also in the wide sheet: two pay rows for one month are summed, with a warning.
    add([6, ID["p1"], "TY001", "2019-01", "100", "", "黄秀英"], "p1_jan_again")
    add(["合计", "", "", "", "5300", "", ""], "total")
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(lines)
    path.write_bytes(buf.getvalue().encode("gbk"))
    return rows


def write_messy(folder: Path, *, with_csv: bool = True) -> Fixture:
    folder.mkdir(parents=True, exist_ok=True)
    xlsx = folder / "田阳县车间数据.xlsx"
    fx = Fixture(xlsx=xlsx, rows=write_messy_workbook(xlsx))
    if with_csv:
        fx.csv = folder / "工资补录.csv"
        fx.rows.update(write_gbk_csv(fx.csv))
    return fx


# --- a clean input set (zero problems) ---------------------------------------------------------

def write_clean(path: Path) -> Path:
    """A small workbook without any mistake: 2 workshops, 3 laborers, long-form wages."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "车间"
    ws.append(["车间编号", "车间名称", "经营主体", "主体类型", "县(市、区)", "认定日期"])
    ws.append(["TD001", "田东县祥周镇电子车间", "田东县某电子厂", "企业", "田东县", datetime(2018, 1, 10)])
    ws.append(["TD002", "田东县林逢镇竹编车间", "林逢竹编合作社", "农民专业合作社", "田东县", "2018-02-01"])
    ws = wb.create_sheet("人员")
    ws.append(["身份证号", "姓名", "车间编号", "是否建档立卡贫困劳动力", "协议类型", "协议起始日期"])
    people = [(ID["p1"], "黄秀英", "TD001"), (ID["p2"], "韦小红", "TD001"), (ID["p6"], "陆六", "TD002")]
    for pid, name, wsid in people:
        ws.append([pid, name, wsid, "是", "劳务协议", "2018-03-01"])
    ws = wb.create_sheet("工资")
    ws.append(["身份证号", "车间编号", "月份", "实发工资"])
    for pid, _name, wsid in people:
        for m in range(3, 10):
            ws.append([pid, wsid, f"2018-{m:02d}", 1100])
    wb.save(path)
    return path
