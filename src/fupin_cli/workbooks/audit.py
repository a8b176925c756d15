"""The audit list (审计清单) of `fupin batch`: pairs paid earlier that today's data no longer supports."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from fupin_cli.fsutil import atomic_path
from fupin_cli.months import format_month_cn
from fupin_cli.workbooks.cells import Formats, new_workbook
from fupin_cli.workbooks.layout import Col, write_table

AUDIT_COLS = [
    Col("county", "县(市、区)"),
    Col("workshop_id", "车间编号"),
    Col("workshop_name", "车间名称", max_width=40),
    Col("name", "姓名"),
    Col("id_number", "身份证号", "id"),
    Col("batch_id", "发放批次", "int"),
    Col("batch_month", "发放月份", "month"),
    Col("amount", "已发金额(元)", "money", total=True),
    Col("status_label", "按现有数据的状态"),
    Col("reason", "原因", max_width=60),
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
