"""The statistics workbook (SPEC §6.2): the per-county table with a native chart, and payouts by month."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from xlsxwriter.utility import xl_rowcol_to_cell

from fupin_cli.fsutil import atomic_path
from fupin_cli.months import format_month_cn, parse_month_arg
from fupin_cli.stats import StatsResult, footnotes
from fupin_cli.wording import in_terms, say
from fupin_cli.workbooks.cells import Formats, new_workbook
from fupin_cli.workbooks.layout import TOTAL_LABEL, Col, TableInfo, write_table

if TYPE_CHECKING:
    from fupin_cli.policy import Terms

STATS_COLS = [
    Col("county"),
    Col("code", "id", label="county_code"),
    Col("workshops", "int", total=True, label="stats_workshops"),
    Col("employed", "int", total=True),
    Col("poor", "int", total=True),
    Col("relocated", "int", total=True),
    Col("eligible", "int", total=True),
    Col("paid_people", "int", total=True),
    Col("paid_amount", "money", total=True),
    Col("paid_workshops", "int", total=True),
]

MONTHLY_COLS = [
    Col("month", "month"),
    Col("people", "int", total=True, label="monthly_people"),
    Col("amount", "money", total=True, label="monthly_amount"),
]


def _ref(sheet: str, info: TableInfo, n_rows: int, col: int) -> list:
    """[sheet, first_row, col, last_row, col] of the data rows, the form xlsxwriter charts take."""
    return [sheet, info.first_row, col, info.first_row + n_rows - 1, col]


def write_stats(path: Path, table: pd.DataFrame, monthly: pd.DataFrame, title: str,
                notes: list[str] | None = None, terms: Terms | None = None) -> Path:
    """Write 统计表 (per county + 合计, with a chart of paid people) and 按月兑现 (with a chart).

    `table` has the columns of STATS_COLS; its last row is the total with county "合计" (the total
    is computed by the caller: e.g. people working in two counties count once). Without that row the
    total is summed here.
    """
    path = Path(path)
    has_total = len(table) > 0 and str(table["county"].iloc[-1]) == TOTAL_LABEL
    n_counties = len(table) - (1 if has_total else 0)
    with atomic_path(path) as tmp:
        wb = new_workbook(tmp)
        fmts = Formats(wb)
        ws = wb.add_worksheet("统计表")
        info = write_table(ws, fmts, title=title, cols=in_terms(STATS_COLS, terms), frame=table, seq=False,
                           totals="last_row" if has_total else "sum", notes=notes)
        if n_counties > 0:
            chart = wb.add_chart({"type": "column"})
            chart.add_series({
                "name": "已兑现人数",
                "categories": _ref("统计表", info, n_counties, 0),
                "values": _ref("统计表", info, n_counties, 7),
                "data_labels": {"value": True},
            })
            chart.set_title({"name": "各县(市、区)已兑现人数"})
            chart.set_y_axis({"name": "人数", "major_gridlines": {"visible": True}})
            chart.set_legend({"none": True})
            chart.set_size({"width": 760, "height": 360})
            ws.insert_chart(xl_rowcol_to_cell(info.first_row + len(table) + 2 + len(notes or []), 0), chart)

        wm = wb.add_worksheet("按月兑现")
        minfo = write_table(wm, fmts, title="按月兑现情况", cols=MONTHLY_COLS, frame=monthly)
        n_months = len(monthly)
        if n_months > 0:
            chart = wb.add_chart({"type": "column"})
            chart.add_series({
                "name": "兑现金额(元)",
                "categories": _ref("按月兑现", minfo, n_months, 1),
                "values": _ref("按月兑现", minfo, n_months, 3),
            })
            line = wb.add_chart({"type": "line"})
            line.add_series({
                "name": "兑现人数",
                "categories": _ref("按月兑现", minfo, n_months, 1),
                "values": _ref("按月兑现", minfo, n_months, 2),
                "marker": {"type": "circle"},
                "y2_axis": True,
            })
            chart.combine(line)
            chart.set_title({"name": "每月兑现金额"})
            chart.set_y_axis({"name": "金额(元)", "num_format": "#,##0"})
            line.set_y2_axis({"name": "人数"})
            chart.set_legend({"position": "bottom"})
            chart.set_size({"width": 760, "height": 360})
            wm.insert_chart(xl_rowcol_to_cell(minfo.header_row, len(MONTHLY_COLS) + 2), chart)
        wb.close()
    return path


def write_stats_workbook(path: Path, result: StatsResult, region_name: str, terms: Terms | None = None) -> Path:
    """The statistics workbook of a `compute_stats` result (统计表 + 按月兑现), titled for the region."""
    table = pd.DataFrame([r.model_dump() for r in [*result.counties, result.total]])
    table.loc[table.index[-1], "county"] = "合计"
    monthly = pd.DataFrame([m.model_dump() for m in result.monthly], columns=["month", "people", "amount"])
    title = say("{region}{workshop}建设情况统计表(截至{month}底)", terms, region=region_name,
                month=format_month_cn(parse_month_arg(result.month)))
    if result.paid_source == "rules":
        title += "——兑现数为按规则测算的应兑现数(未使用账本)"
    return write_stats(path, table, monthly, title, notes=footnotes(result), terms=terms)
