"""One township-style workbook per county: sheets 车间, 人员, 工资 laid out as the plan's style says.

Styles vary the way real county sheets do (SPEC §3): sheet names and header aliases, a merged title
row and a 填报单位 row above the header, a 序号 column and a 合计 row, dates as Excel dates or as
"2018.3.5" text, yes/no as 是/否, Y/N or 1/0, and wages in long form (one row per month) or wide
form (one column per month). ID numbers are always written as text, except the planted one that
Excel turned into a number.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from fupin_cli.demo.plan import Style
from fupin_cli.fsutil import atomic_path
from fupin_cli.months import format_month, format_month_cn
from fupin_cli.tables import load_tables

WORKSHOP_KEYS = ["workshop_id", "workshop_name", "operator", "operator_type", "credit_code", "county", "township",
                 "village", "certified", "withdrawn", "bank", "bank_account"]
LABORER_KEYS = ["name", "id_number", "workshop_id", "poor", "relocated", "contract_type", "start", "end"]
TITLES = {"workshops": "就业扶贫车间名册", "laborers": "就业扶贫车间吸纳就业人员花名册",
          "wages": "就业扶贫车间务工人员劳动报酬发放表"}
# Fixed metadata so that a seed always gives the same file (the date of the seed report).
CREATED = datetime(2019, 3, 12, 9, 0, 0)
FILLED_ON = "填报日期:2019年3月5日"


class _Sheet:
    """Writes one table: title rows, header, data rows (with 序号), 合计 row."""

    def __init__(self, wb: xlsxwriter.Workbook, fmt: dict, style: Style, county: str, table: str,
                 headers: list[str]) -> None:
        self.ws: Worksheet = wb.add_worksheet(style.sheets[table])
        self.fmt, self.style = fmt, style
        self.off = 1 if style.seq else 0
        self.headers = (["序号"] if style.seq else []) + headers
        ncol = len(self.headers)
        row = 0
        if style.title:
            self.ws.merge_range(0, 0, 0, ncol - 1, f"{county}{TITLES[table]}", fmt["title"])
            self.ws.set_row(0, 28)
            row = 1
        if style.unit_row:
            half = max(1, ncol // 2)
            self.ws.merge_range(row, 0, row, half - 1, f"填报单位:{county}人社局", fmt["unit"]) if half > 1 else \
                self.ws.write_string(row, 0, f"填报单位:{county}人社局", fmt["unit"])
            self.ws.write_string(row, ncol - 1, FILLED_ON, fmt["unit"])
            row += 1
        for c, h in enumerate(self.headers):
            self.ws.write_string(row, c, h, fmt["header"])
        self.ws.freeze_panes(row + 1, 0)
        self.row = row + 1
        self.n = 0

    def widths(self, widths: list[float]) -> None:
        for c, w in enumerate(([6] if self.style.seq else []) + widths):
            self.ws.set_column(c, c, w)

    def start_row(self) -> int:
        self.n += 1
        if self.style.seq:
            self.ws.write_number(self.row, 0, self.n, self.fmt["cell"])
        self.row += 1
        return self.row - 1

    def total(self, sums: dict[int, float]) -> None:
        if not self.style.seq:
            return
        self.ws.write_string(self.row, 0, "合计", self.fmt["total"])
        for c, v in sums.items():
            self.ws.write_number(self.row, c + self.off, v, self.fmt["total_money"])


def _formats(wb: xlsxwriter.Workbook) -> dict:
    border = {"border": 1, "font_name": "宋体", "font_size": 10}
    return {
        "title": wb.add_format({"bold": True, "font_size": 16, "align": "center", "valign": "vcenter",
                                "font_name": "宋体"}),
        "unit": wb.add_format({"font_size": 10, "font_name": "宋体"}),
        "header": wb.add_format({**border, "bold": True, "align": "center", "valign": "vcenter",
                                 "text_wrap": True, "bg_color": "#DDEBF7"}),
        "cell": wb.add_format(border),
        "text": wb.add_format({**border, "num_format": "@"}),
        "date": wb.add_format({**border, "num_format": "yyyy-mm-dd"}),
        "month": wb.add_format({**border, "num_format": 'yyyy"年"m"月"'}),
        "money": wb.add_format({**border, "num_format": "#,##0.00"}),
        "total": wb.add_format({**border, "bold": True}),
        "total_money": wb.add_format({**border, "bold": True, "num_format": "#,##0.00"}),
    }


def _header(style: Style, table: str, key: str) -> str:
    return style.headers.get(key) or load_tables().get(table).column(key).header


class _Cells:
    """Value writers per kind of column, for one style."""

    def __init__(self, ws: Worksheet, fmt: dict, style: Style) -> None:
        self.ws, self.fmt, self.style = ws, fmt, style

    def text(self, r: int, c: int, v: object) -> None:
        if v is None or v == "" or (isinstance(v, float) and pd.isna(v)):
            self.ws.write_blank(r, c, None, self.fmt["cell"])
        else:
            self.ws.write_string(r, c, str(v), self.fmt["text"])

    def id(self, r: int, c: int, v: object) -> None:
        if isinstance(v, float):  # the planted ID that Excel stored as a number
            self.ws.write_number(r, c, v, self.fmt["cell"])
        else:
            self.text(r, c, v)

    def date(self, r: int, c: int, v: object) -> None:
        if v is None or pd.isna(v):
            self.ws.write_blank(r, c, None, self.fmt["cell"])
        elif self.style.date_format == "dot":
            self.ws.write_string(r, c, f"{v.year}.{v.month}.{v.day}", self.fmt["text"])
        else:
            self.ws.write_datetime(r, c, datetime(v.year, v.month, v.day), self.fmt["date"])

    def flag(self, r: int, c: int, v: object) -> None:
        out = self.style.bools[0 if v else 1]
        if isinstance(out, int):
            self.ws.write_number(r, c, out, self.fmt["cell"])
        else:
            self.ws.write_string(r, c, out, self.fmt["cell"])

    def month(self, r: int, c: int, m: int) -> None:
        if self.style.month_format == "date":
            y, mm = divmod(int(m), 12)
            self.ws.write_datetime(r, c, datetime(y, mm + 1, 1), self.fmt["month"])
        else:
            self.ws.write_string(r, c, self.month_text(m), self.fmt["text"])

    def month_text(self, m: int) -> str:
        return format_month_cn(m) if self.style.month_format == "cn" else format_month(m)

    def money(self, r: int, c: int, v: float) -> None:
        self.ws.write_number(r, c, float(v), self.fmt["money"])

    def number(self, r: int, c: int, v: float) -> None:
        self.ws.write_number(r, c, v, self.fmt["cell"])


def _write_rows(sheet: _Sheet, frame: pd.DataFrame, writers: list[Callable[[_Cells], Callable]]) -> None:
    cells = _Cells(sheet.ws, sheet.fmt, sheet.style)
    fns = [w(cells) for w in writers]
    for values in frame.itertuples(index=False, name=None):
        r = sheet.start_row()
        for c, (fn, v) in enumerate(zip(fns, values, strict=True)):
            fn(r, c + sheet.off, v)


def _workshops(wb, fmt, style: Style, county: str, frame: pd.DataFrame) -> None:
    sheet = _Sheet(wb, fmt, style, county, "workshops", [_header(style, "workshops", k) for k in WORKSHOP_KEYS])
    kinds = {"certified": "date", "withdrawn": "date"}
    writers = [(lambda c, k=kinds.get(key, "text"): getattr(c, k)) for key in WORKSHOP_KEYS]
    _write_rows(sheet, frame[WORKSHOP_KEYS], writers)
    sheet.total({})
    sheet.widths([8, 34, 30, 12, 21, 10, 12, 10, 12, 12, 24, 22])


def _laborers(wb, fmt, style: Style, county: str, frame: pd.DataFrame) -> None:
    sheet = _Sheet(wb, fmt, style, county, "laborers", [_header(style, "laborers", k) for k in LABORER_KEYS])
    kinds = {"id_number": "id", "poor": "flag", "relocated": "flag", "start": "date", "end": "date"}
    writers = [(lambda c, k=kinds.get(key, "text"): getattr(c, k)) for key in LABORER_KEYS]
    _write_rows(sheet, frame[LABORER_KEYS], writers)
    sheet.total({})
    sheet.widths([9, 21, 8, 10, 10, 10, 12, 12])


def _wages_long(wb, fmt, style: Style, county: str, frame: pd.DataFrame) -> None:
    keys = ["id_number", "name", "workshop_id", "month", "pay"] + (["days"] if style.days else [])
    sheet = _Sheet(wb, fmt, style, county, "wages", [_header(style, "wages", k) for k in keys])
    kinds = {"id_number": "id", "month": "month", "pay": "money", "days": "number"}
    _write_rows(sheet, frame[keys], [(lambda c, k=kinds.get(key, "text"): getattr(c, k)) for key in keys])
    sheet.total({keys.index("pay"): float(frame["pay"].sum())})
    sheet.widths([21, 9, 10, 11, 12] + ([9] if style.days else []))


def _wages_wide(wb, fmt, style: Style, county: str, frame: pd.DataFrame) -> None:
    # One row per (laborer, workshop, name as written); a month without a pay row stays empty.
    first = int(frame["month"].min())
    months = list(range(first, int(frame["month"].max()) + 1))
    keys = [frame["id_number"].astype(str), frame["workshop_id"], frame["name"]]
    row_of = frame.groupby(keys, sort=False).ngroup().to_numpy()
    grid = np.full((row_of.max() + 1, len(months)), np.nan)
    grid[row_of, frame["month"].to_numpy() - first] = 0.0
    np.add.at(grid, (row_of, frame["month"].to_numpy() - first), frame["pay"].to_numpy())
    heads = frame.assign(_row=row_of).drop_duplicates("_row").sort_values("_row")
    month_text = _Cells(None, fmt, style).month_text
    sheet = _Sheet(wb, fmt, style, county, "wages",
                   [_header(style, "wages", k) for k in ("name", "id_number", "workshop_id")]
                   + [month_text(m) for m in months])
    cells = _Cells(sheet.ws, fmt, style)
    for i, (name, id_number, workshop_id) in enumerate(
            heads[["name", "id_number", "workshop_id"]].itertuples(index=False, name=None)):
        r = sheet.start_row()
        cells.text(r, sheet.off, name)
        cells.id(r, sheet.off + 1, id_number)
        cells.text(r, sheet.off + 2, workshop_id)
        for j in np.flatnonzero(~np.isnan(grid[i])):
            cells.money(r, sheet.off + 3 + int(j), grid[i, j])
    sums = np.nansum(grid, axis=0)
    sheet.total({3 + j: float(sums[j]) for j in range(len(months))})
    sheet.widths([9, 21, 10] + [11] * len(months))


def write_county(path: Path, county: str, style: Style, workshops: pd.DataFrame, laborers: pd.DataFrame,
                 wages: pd.DataFrame) -> Path:
    """Write `{county}就业扶贫车间数据.xlsx`-style workbook at `path` (atomically)."""
    with atomic_path(path) as tmp:
        wb = xlsxwriter.Workbook(str(tmp))
        wb.set_properties({"title": f"{county}就业扶贫车间数据", "author": f"{county}人社局", "created": CREATED})
        fmt = _formats(wb)
        _workshops(wb, fmt, style, county, workshops)
        _laborers(wb, fmt, style, county, laborers)
        (_wages_wide if style.wide else _wages_long)(wb, fmt, style, county, wages)
        wb.close()
    return Path(path)

