"""The audit list (审计清单) of `fupin batch`: pairs paid earlier that today's data no longer supports."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from fupin_cli.fsutil import atomic_path
from fupin_cli.months import format_month_cn
from fupin_cli.workbooks.cells import Formats, new_workbook
from fupin_cli.workbooks.layout import Col, write_table

AUDIT_COLS = [
    Col("county"),
    Col("workshop_id"),
    Col("workshop_name", max_width=40),
    Col("name"),
    Col("id_number", "id"),
    Col("batch_id", "int", label="batch_id_paid"),
    Col("batch_month", "month"),
    Col("amount", "money", total=True, label="amount_paid"),
    Col("status_label", label="status_label_now"),
    Col("reason", max_width=60),
]


def write_audit(path: Path, audit: pd.DataFrame, month: int, place: str) -> Path:
    """审计清单: pairs paid earlier whose current data no longer qualifies (never unpaid, SPEC §5)."""
    with atomic_path(Path(path)) as tmp:
        wb = new_workbook(tmp)
        fmts = Formats(wb)
        write_table(wb.add_worksheet("审计清单"), fmts,
                    title=f"{place}已兑现奖补人员审计清单（{format_month_cn(month)}）", cols=AUDIT_COLS,
                    frame=audit, count_text=("name", "共{n}人"), signature=True,
                    notes=["说明:以下人员已在以前批次发放奖补,但按本次输入数据已不符合条件。"
                           "本程序不会撤销发放,请人工核查原因(数据更正或需追回)。"])
        wb.close()
    return path
