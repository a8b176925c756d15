"""The `fupin compare` workbook: money by county, who gains, who loses, and people already paid."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from fupin_cli.fsutil import atomic_path
from fupin_cli.months import format_month_cn
from fupin_cli.status import STATUS_LABELS
from fupin_cli.workbooks.cells import Formats, new_workbook
from fupin_cli.workbooks.layout import Col, write_table

if TYPE_CHECKING:
    from fupin_cli.commands.compare import CompareResult

COUNTY_COLS = [Col("county"), Col("people_current", "int"), Col("amount_current", "money"),
               Col("people_draft", "int"), Col("amount_draft", "money"), Col("difference", "money")]
PERSON_COLS = [Col("county"), Col("name"), Col("id_number", "id"), Col("status_current"),
               Col("amount_current", "money", total=True), Col("status_draft"),
               Col("amount_draft", "money", total=True), Col("difference", "money", total=True)]
PAID_COLS = [Col("county"), Col("name"), Col("id_number", "id"), Col("amount_paid", "money", total=True),
             Col("amount_draft", "money", total=True), Col("change", max_width=60)]


def _people(f: pd.DataFrame) -> pd.DataFrame:
    return f.rename(columns={"amount_a": "amount_current", "amount_b": "amount_draft", "diff": "difference"}).assign(
        status_current=f["status_a"].map(STATUS_LABELS), status_draft=f["status_b"].map(STATUS_LABELS))


def write_compare(path: Path, res: CompareResult, region_name: str) -> Path:
    a, b = res.policies
    when = format_month_cn(res.month)
    note = f"现行:{a.label};拟议:{b.label}"
    counties = res.counties.rename(columns={"people_a": "people_current", "amount_a": "amount_current",
                                            "people_b": "people_draft", "amount_b": "amount_draft",
                                            "diff": "difference"})
    with atomic_path(Path(path)) as tmp:
        wb = new_workbook(tmp)
        fmts = Formats(wb)
        write_table(wb.add_worksheet("县区对比"), fmts, title=f"{region_name}奖补政策对比(截至{when})", cols=COUNTY_COLS,
                    frame=counties, totals="last_row", footer_note=note)
        write_table(wb.add_worksheet("增加人员"), fmts, title=f"按拟议政策增加奖补的人员(截至{when})",
                    cols=PERSON_COLS, frame=_people(res.gains), count_text=("name", "共{n}人"), footer_note=note)
        write_table(wb.add_worksheet("减少人员"), fmts, title=f"按拟议政策减少奖补的人员(截至{when})",
                    cols=PERSON_COLS, frame=_people(res.losses), count_text=("name", "共{n}人"), footer_note=note)
        if res.already_paid is not None:
            write_table(wb.add_worksheet("已发放人员"), fmts, title=f"已发放人员按拟议政策的变化(截至{when})",
                        cols=PAID_COLS, frame=res.already_paid.rename(columns={"paid": "amount_paid",
                                                                                "amount_b": "amount_draft"}),
                        count_text=("name", "共{n}人"), footer_note=note)
        wb.close()
    return Path(path)
