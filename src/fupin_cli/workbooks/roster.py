"""The payout roster workbook (花名册, SPEC §6.1) that goes to the finance department."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import pandas as pd

from fupin_cli.fsutil import atomic_path
from fupin_cli.months import format_month_cn
from fupin_cli.status import STATUS_LABELS
from fupin_cli.workbooks.cells import Formats, new_workbook
from fupin_cli.workbooks.layout import Col, write_table
from fupin_cli.workbooks.problems import PROBLEM_COLS, problem_frame, problems_count_text

SHEETS = ("奖补名单", "车间汇总", "县区汇总", "未达标名单", "数据问题")

ROW_COLS = [
    Col("county", "县(市、区)"),
    Col("workshop_id", "车间编号"),
    Col("workshop_name", "车间名称", max_width=40),
    Col("operator", "经营主体", max_width=40),
    Col("name", "姓名"),
    Col("id_number", "身份证号", "id"),
    Col("contract_type", "协议类型"),
    Col("start", "协议起始日期", "date"),
    Col("qualified_month", "达标月份", "month"),
    Col("payable_month", "可发放月份", "month"),
    Col("months", "累计月数", "int"),
    Col("wages", "累计报酬(元)", "money", total=True),
    Col("amount", "奖补金额(元)", "money", total=True),
]

WORKSHOP_COLS = [
    Col("county", "县(市、区)"),
    Col("workshop_id", "车间编号"),
    Col("workshop_name", "车间名称", max_width=40),
    Col("operator", "经营主体", max_width=40),
    Col("operator_type", "主体类型"),
    Col("bank", "开户银行", max_width=40),
    Col("bank_account", "银行账号", "id"),
    Col("people", "人数", "int", total=True),
    Col("amount", "金额(元)", "money", total=True),
]

COUNTY_COLS = [
    Col("county", "县(市、区)"),
    Col("county_code", "区划代码", "id"),
    Col("workshops", "车间数", "int", total=True),
    Col("people", "人数", "int", total=True),
    Col("amount", "金额(元)", "money", total=True),
]

NOT_PAID_COLS = [
    Col("county", "县(市、区)"),
    Col("workshop_id", "车间编号"),
    Col("workshop_name", "车间名称", max_width=40),
    Col("name", "姓名"),
    Col("id_number", "身份证号", "id"),
    Col("status_label", "状态"),
    Col("reason", "原因", max_width=60),
    Col("months", "累计月数", "int"),
    Col("wages", "累计报酬(元)", "money"),
    Col("qualified_month", "达标月份", "month"),
]


class RosterLike(Protocol):
    """What `payout.build_roster` returns (DESIGN.md "Roster")."""

    month: int
    county: str | None
    policy: str
    region_name: str
    rows: pd.DataFrame
    workshops: pd.DataFrame
    counties: pd.DataFrame
    not_paid: pd.DataFrame
    problems: pd.DataFrame


def roster_title(place: str, month: int) -> str:
    return f"{place}就业扶贫车间一次性带动就业奖补资金发放花名册（{format_month_cn(month)}）"


def _frame(df: pd.DataFrame | None) -> pd.DataFrame:
    return df if df is not None else pd.DataFrame()


def write_roster(path: Path, roster: RosterLike) -> Path:
    """Write the five-sheet payout roster to `path` (atomically) and return `path`.

    constant_memory keeps memory flat for 100,000-row 奖补名单/未达标名单 sheets.
    """
    path = Path(path)
    place = roster.county or roster.region_name
    cn_month = format_month_cn(roster.month)
    note = f"政策:{roster.policy}"
    rows = _frame(roster.rows)
    not_paid = _frame(roster.not_paid)
    if "status_label" not in not_paid.columns and "status" in not_paid.columns:
        not_paid = not_paid.assign(status_label=not_paid["status"].map(STATUS_LABELS).fillna(not_paid["status"]))
    with atomic_path(path) as tmp:
        wb = new_workbook(tmp, constant_memory=True)
        fmts = Formats(wb)
        write_table(wb.add_worksheet(SHEETS[0]), fmts, title=roster_title(place, roster.month), cols=ROW_COLS,
                    frame=rows, count_text=("name", "共{n}人"), signature=True,
                    notes=[f"说明:{x}" for x in getattr(roster, "notes", None) or []], footer_note=note)
        write_table(wb.add_worksheet(SHEETS[1]), fmts,
                    title=f"{place}就业扶贫车间一次性带动就业奖补资金车间汇总表（{cn_month}）",
                    cols=WORKSHOP_COLS, frame=_frame(roster.workshops), count_text=("workshop_name", "共{n}个车间"),
                    signature=True, footer_note=note)
        write_table(wb.add_worksheet(SHEETS[2]), fmts,
                    title=f"{place}就业扶贫车间一次性带动就业奖补资金县区汇总表（{cn_month}）",
                    cols=COUNTY_COLS, frame=_frame(roster.counties), signature=True, footer_note=note)
        write_table(wb.add_worksheet(SHEETS[3]), fmts,
                    title=f"{place}就业扶贫车间未兑现奖补人员名单（{cn_month}）", cols=NOT_PAID_COLS,
                    frame=not_paid, count_text=("name", "共{n}条"), footer_note=note)
        probs = problem_frame(_frame(roster.problems))
        write_table(wb.add_worksheet(SHEETS[4]), fmts, title=f"{place}就业扶贫车间数据问题清单（{cn_month}）",
                    cols=PROBLEM_COLS, frame=probs, count_text=("file", problems_count_text(probs)),
                    footer_note=note)
        wb.close()
    return path
