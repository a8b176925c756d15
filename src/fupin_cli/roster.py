"""The payout roster (SPEC §5, §6.1): who is paid this month, per workshop and county, and why not.

`build_roster` cuts the decisions of `rules.evaluate` into the sheets finance pays from (written by
`workbooks.roster`; the `payout` JSON document is `commands.payout.roster_json`).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from fupin_cli.region import Region
from fupin_cli.status import STATUS_LABELS, STATUS_ORDER

ROW_COLUMNS = [
    "county_code", "county", "workshop_id", "workshop_name", "operator", "name", "id_number",
    "contract_type", "start", "qualified_month", "payable_month", "months", "wages", "amount", "check_note",
]
NOT_PAID_COLUMNS = [
    "county", "workshop_id", "workshop_name", "name", "id_number", "status", "status_label", "reason",
    "months", "wages", "qualified_month",
]


@dataclass
class Roster:
    month: int
    county: str | None  # current county name, None = the whole region
    county_code: str | None
    policy: str
    region_name: str
    rows: pd.DataFrame
    workshops: pd.DataFrame
    counties: pd.DataFrame
    not_paid: pd.DataFrame
    problems: pd.DataFrame

    @property
    def people(self) -> int:
        return int(len(self.rows))

    @property
    def amount(self) -> float:
        return float(self.rows["amount"].sum()) if len(self.rows) else 0.0


def workshop_notes(decisions: pd.DataFrame) -> pd.Series:
    """Per workshop id: the workshop-row part of `check_note` (it comes first, see rules)."""
    if "workshop_check_note" not in decisions:
        return pd.Series(dtype="object")
    return decisions.drop_duplicates("workshop_id").set_index("workshop_id")["workshop_check_note"]


def build_roster(
    decisions: pd.DataFrame,
    problems: pd.DataFrame,
    month: int,
    *,
    policy: str,
    region: Region,
    county_code: str | None = None,
) -> Roster:
    """Roster for month M: every `eligible` pair (P ≤ M, not paid by an earlier batch).

    Once-per-person was decided by the rule over all counties; `county_code` only filters.
    """
    d = decisions
    if county_code is not None:
        d = d.loc[d["county_code"] == county_code]
    # A pair whose amount a workshop cap reduced to 0 earns nothing this month; it stays in 未达标名单.
    pay = d.loc[(d["status"] == "eligible") & (d["amount"] > 0)].copy()
    pay = pay.sort_values(["county_code", "workshop_id", "payable_month", "id_number"], kind="stable")
    # 车间汇总 flags the workshop's own unchecked details (银行账号…), not its laborers'.
    pay["workshop_note"] = pay["workshop_id"].map(workshop_notes(d)) if len(pay) else None
    rows = pay.reindex(columns=ROW_COLUMNS).reset_index(drop=True)

    ws = _per_workshop(pay)
    names = region.names_by_code()
    codes = [c.code for c in region.counties] if county_code is None else [county_code]
    counties = _per_county(pay, codes, names)
    not_paid = _not_paid(d, pay)

    if county_code is not None and "county_code" in problems:
        # A county's roster carries its own data problems (and those no county could be found for).
        problems = problems.loc[problems["county_code"].isna() | (problems["county_code"] == county_code)]
    cname = names.get(county_code) if county_code else None
    return Roster(
        month=month, county=cname, county_code=county_code, policy=policy, region_name=region.name,
        rows=rows, workshops=ws, counties=counties, not_paid=not_paid, problems=problems,
    )


def _per_workshop(pay: pd.DataFrame) -> pd.DataFrame:
    """车间汇总: what finance pays each workshop (operator and bank details, people, amount)."""
    ws = (
        pay.groupby(["county", "workshop_id"], sort=True, dropna=False)
        .agg(
            workshop_name=("workshop_name", "first"),
            operator=("operator", "first"),
            operator_type=("operator_type", "first"),
            bank=("bank", "first"),
            bank_account=("bank_account", "first"),
            check_note=("workshop_note", "first"),
            people=("id_number", "size"),
            amount=("amount", "sum"),
        )
        .reset_index()
    )
    return ws[["county", "workshop_id", "workshop_name", "operator", "operator_type", "bank", "bank_account",
               "people", "amount", "check_note"]]


def _per_county(pay: pd.DataFrame, codes: list[str], names: dict[str, str]) -> pd.DataFrame:
    """县区汇总: every county of the roster, also those paying nobody this month."""
    by_county = pay.groupby("county_code").agg(
        workshops=("workshop_id", "nunique"), people=("id_number", "size"), amount=("amount", "sum")
    )
    counties = pd.DataFrame({"county_code": codes})
    counties["county"] = counties["county_code"].map(names)
    counties = counties.join(by_county, on="county_code")
    counties[["workshops", "people"]] = counties[["workshops", "people"]].fillna(0).astype(int)
    counties["amount"] = counties["amount"].fillna(0.0).astype(float)
    return counties


def _not_paid(d: pd.DataFrame, pay: pd.DataFrame) -> pd.DataFrame:
    """未达标名单: every pair not paid this month (nor earlier), by status then place."""
    rest = d.loc[~d.index.isin(pay.index) & (d["status"] != "paid")].copy()
    order = {s: i for i, s in enumerate(STATUS_ORDER)}
    rest["_o"] = rest["status"].map(order)
    rest = rest.sort_values(["_o", "county_code", "workshop_id", "id_number"], kind="stable")
    rest["status_label"] = rest["status"].map(STATUS_LABELS)
    return rest[NOT_PAID_COLUMNS].reset_index(drop=True)
