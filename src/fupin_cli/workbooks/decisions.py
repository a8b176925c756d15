"""The eligibility list (`fupin eligibility --output`): every pair with its status and reason."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from fupin_cli.fsutil import atomic_path
from fupin_cli.months import format_month_cn
from fupin_cli.workbooks.cells import Formats, new_workbook
from fupin_cli.workbooks.layout import Col, write_table

DECISION_COLS = [
    Col("county", "县(市、区)"),
    Col("workshop_id", "车间编号"),
    Col("workshop_name", "车间名称", max_width=40),
    Col("name", "姓名"),
    Col("id_number", "身份证号", "id"),
    Col("poor_label", "建档立卡"),
    Col("contract_type", "协议类型"),
    Col("start", "协议起始日期", "date"),
    Col("status_label", "状态"),
    Col("qualified_month", "达标月份", "month"),
    Col("payable_month", "可发放月份", "month"),
    Col("months", "累计月数", "int"),
    Col("wages", "累计报酬(元)", "money"),
    Col("amount", "奖补金额(元)", "money", total=True),
    Col("reason", "说明", max_width=70),
]


def write_decisions(path: Path, decisions: pd.DataFrame, *, place: str, month: int) -> Path:
    from fupin_cli.status import STATUS_LABELS

    frame = decisions.assign(
        status_label=decisions["status"].map(STATUS_LABELS),
        poor_label=decisions["poor"].map({True: "是", False: "否"}),
    )
    with atomic_path(Path(path)) as tmp:
        wb = new_workbook(tmp, constant_memory=True)
        write_table(wb.add_worksheet("核定结果"), Formats(wb),
                    title=f"{place}就业扶贫车间一次性带动就业奖补核定结果（{format_month_cn(month)}）",
                    cols=DECISION_COLS, frame=frame, count_text=("name", "共{n}条"))
        wb.close()
    return Path(path)
