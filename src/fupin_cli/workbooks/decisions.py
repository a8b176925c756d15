"""The eligibility list (`fupin eligibility --output`): every pair with its status and reason."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from fupin_cli.fsutil import atomic_path
from fupin_cli.months import format_month_cn
from fupin_cli.wording import say
from fupin_cli.workbooks.cells import Formats, new_workbook
from fupin_cli.workbooks.layout import Col, write_table

if TYPE_CHECKING:
    from fupin_cli.policy import Terms

DECISION_COLS = [
    Col("county"),
    Col("workshop_id"),
    Col("workshop_name", max_width=40),
    Col("name"),
    Col("id_number", "id"),
    Col("poor_label"),
    Col("contract_type"),
    Col("start", "date"),
    Col("status_label"),
    Col("qualified_month", "month"),
    Col("payable_month", "month"),
    Col("months", "int"),
    Col("wages", "money"),
    Col("amount", "money", total=True),
    Col("reason", max_width=70, label="reason_note"),
]


def write_decisions(path: Path, decisions: pd.DataFrame, *, place: str, month: int, terms: Terms | None = None) -> Path:
    from fupin_cli.status import STATUS_LABELS

    frame = decisions.assign(
        status_label=decisions["status"].map(STATUS_LABELS),
        poor_label=decisions["poor"].map({True: "是", False: "否"}),
    )
    with atomic_path(Path(path)) as tmp:
        wb = new_workbook(tmp, constant_memory=True)
        write_table(wb.add_worksheet("核定结果"), Formats(wb),
                    title=say("{place}{workshop}{subsidy}核定结果（{month}）", terms, place=place, month=format_month_cn(month)),
                    cols=DECISION_COLS, frame=frame, count_text=("name", "共{n}条"))
        wb.close()
    return Path(path)
