"""The payout roster workbook (花名册, SPEC §6.1) that goes to the finance department."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from fupin_cli.fsutil import atomic_path
from fupin_cli.months import format_month_cn
from fupin_cli.policy import Terms
from fupin_cli.status import STATUS_LABELS
from fupin_cli.wording import say
from fupin_cli.workbooks.cells import Formats, new_workbook
from fupin_cli.workbooks.layout import Col, write_table
from fupin_cli.workbooks.problems import problem_frame, write_problem_sheets

if TYPE_CHECKING:
    from fupin_cli.roster import Roster

SEAL_ROW_HEIGHT = 36  # points: room for a township's seal in 收款单位(签章)
SHEETS = ("奖补名单", "车间汇总", "县区汇总", "未达标名单", "数据问题")

ROW_COLS = [
    Col("county"),
    Col("workshop_id"),
    Col("workshop_name", max_width=40),
    Col("operator", max_width=40),
    Col("name"),
    Col("id_number", "id"),
    Col("contract_type"),
    Col("start", "date"),
    Col("qualified_month", "month"),
    Col("payable_month", "month"),
    Col("months", "int"),
    Col("wages", "money"),  # a sum of wages means nothing on a signed sheet: 合计 totals people and 奖补金额
    Col("amount", "money", total=True),
    Col("check_note", max_width=30),
]

WORKSHOP_COLS = [
    Col("county"),
    Col("workshop_id"),
    Col("workshop_name", max_width=40),
    Col("operator", max_width=40),
    Col("operator_type"),
    Col("bank", max_width=40),
    Col("bank_account", "id"),
    Col("people", "int", total=True),
    Col("amount", "money", total=True, label="amount_sum"),
    Col("check_note", max_width=30),
    Col("stamp", min_width=18),
]

COUNTY_COLS = [
    Col("county"),
    Col("county_code", "id"),
    Col("workshops", "int", total=True),
    Col("people", "int", total=True),
    Col("amount", "money", total=True, label="amount_sum"),
]

NOT_PAID_COLS = [
    Col("county"),
    Col("workshop_id"),
    Col("workshop_name", max_width=40),
    Col("name"),
    Col("id_number", "id"),
    Col("status_label"),
    Col("reason", max_width=60),
    Col("months", "int"),
    Col("wages", "money"),
    Col("short_months", "int"),
    Col("short_wages", "money"),
    Col("qualified_month", "month"),
]


# payee = laborer: the 奖补名单 carries each laborer's own account, and 暂缓发放 lists who has none.
ACCOUNT_COLS = [Col("laborer_bank", max_width=40), Col("laborer_account", "id"), Col("social_card", "id")]
DEFERRED_COLS = [Col("county"), Col("workshop_id"), Col("workshop_name", max_width=40), Col("name"),
                 Col("id_number", "id"), Col("qualified_month", "month"), Col("amount", "money", total=True),
                 Col("reason", max_width=60)]


def roster_title(place: str, month: int, terms: Terms | None = None) -> str:
    return say("{place}{workshop}{subsidy}资金发放花名册（{month}）", terms, place=place, month=format_month_cn(month))


def _non_target_note(n: int, terms: Terms | None = None) -> list[str]:
    return [say("说明:另有非{target}{n}人次不属奖补对象,未列入本名单。", terms, n=n)] if n else []


def _with_notes(cols: list[Col], frame: pd.DataFrame) -> list[Col]:
    """The 备注 column only when a row carries a note (a data error the rule does not read)."""
    noted = "check_note" in frame.columns and bool(frame["check_note"].notna().any())
    return cols if noted else [c for c in cols if c.key != "check_note"]


def _frame(df: pd.DataFrame | None) -> pd.DataFrame:
    return df if df is not None else pd.DataFrame()


def write_roster(path: Path, roster: Roster) -> Path:
    """Write the five-sheet payout roster to `path` (atomically) and return `path`.

    constant_memory keeps memory flat for 100,000-row 奖补名单/未达标名单 sheets.
    """
    path = Path(path)
    place = roster.county or roster.region_name
    cn_month = format_month_cn(roster.month)
    note = f"政策:{roster.policy}"
    terms = getattr(roster, "terms", None) or Terms()
    shop, subsidy = terms.workshop, terms.subsidy  # the policy's wording (SPEC §4.3)
    rows = _frame(roster.rows)
    not_paid = _frame(roster.not_paid)
    if "status_label" not in not_paid.columns and "status" in not_paid.columns:
        not_paid = not_paid.assign(status_label=not_paid["status"].map(STATUS_LABELS).fillna(not_paid["status"]))
    with atomic_path(path) as tmp:
        wb = new_workbook(tmp, constant_memory=True)
        fmts = Formats(wb)
        row_cols = ROW_COLS + (ACCOUNT_COLS if "laborer_account" in rows.columns else [])
        write_table(wb.add_worksheet(SHEETS[0]), fmts, title=roster_title(place, roster.month, terms),
                    cols=_with_notes(row_cols, rows), frame=rows, count_text=("name", "共{n}人"), signature=True,
                    in_words="amount", notes=[f"说明:{x}" for x in getattr(roster, "notes", None) or []],
                    footer_note=note)
        summary = wb.add_worksheet(SHEETS[1])
        summary.set_default_row(SEAL_ROW_HEIGHT)
        write_table(summary, fmts,
                    title=f"{place}{shop}{subsidy}资金车间汇总表（{cn_month}）",
                    cols=_with_notes(WORKSHOP_COLS, _frame(roster.workshops)), frame=_frame(roster.workshops),
                    count_text=("workshop_name", "共{n}个车间"), signature=True, footer_note=note, in_words="amount")
        write_table(wb.add_worksheet(SHEETS[2]), fmts,
                    title=f"{place}{shop}{subsidy}资金县区汇总表（{cn_month}）",
                    cols=COUNTY_COLS, frame=_frame(roster.counties), signature=True, footer_note=note,
                    in_words="amount")
        write_table(wb.add_worksheet(SHEETS[3]), fmts,
                    title=f"{place}{shop}未兑现奖补人员名单（{cn_month}）", cols=NOT_PAID_COLS,
                    frame=not_paid, count_text=("name", "共{n}条"), footer_note=note,
                    notes=_non_target_note(getattr(roster, "non_target", 0), terms))
        deferred = _frame(getattr(roster, "deferred", None))
        if len(deferred):  # payee = laborer (SPEC §4.3): payable, held until the laborer's account is given
            write_table(wb.add_worksheet("暂缓发放"), fmts, title=f"{place}{shop}{subsidy}暂缓发放名单（{cn_month}）",
                        cols=DEFERRED_COLS, frame=deferred, count_text=("name", "共{n}人"), footer_note=note)
        probs = problem_frame(_frame(roster.problems))
        write_problem_sheets(wb, fmts, SHEETS[4], f"{place}{shop}数据问题清单（{cn_month}）", probs,
                             footer_note=note)
        wb.close()
    return path
