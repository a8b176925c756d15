"""The payout roster (SPEC §5, §6.1): who is paid this month, per workshop and county, and why not.

`build_roster` cuts the decisions of `rules.evaluate` into the sheets finance pays from (written by
`workbooks.roster`; the `payout` JSON document is `commands.payout.roster_json`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from fupin_cli.policy import Terms
from fupin_cli.region import Region
from fupin_cli.status import STATUS_LABELS, STATUS_ORDER

ROW_COLUMNS = [
    "county_code", "county", "workshop_id", "workshop_name", "operator", "name", "id_number",
    "contract_type", "start", "qualified_month", "payable_month", "months", "wages", "amount",
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
    terms: Terms = field(default_factory=Terms)  # the policy's wording for titles (SPEC §4.3)
    # payee = laborer (SPEC §4.3): payable laborers without a usable account, 暂缓发放 (not recorded)
    held: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def people(self) -> int:
        return int(len(self.rows))

    @property
    def amount(self) -> float:
        return float(self.rows["amount"].sum()) if len(self.rows) else 0.0


def build_roster(
    decisions: pd.DataFrame,
    problems: pd.DataFrame,
    month: int,
    *,
    policy: str,
    region: Region,
    county_code: str | None = None,
    terms: Terms | None = None,
    accounts: pd.DataFrame | None = None,
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
    held = pd.DataFrame()
    if accounts is not None:  # the subsidy goes to the laborer: only those with an account are paid now
        pay, held = _split_by_account(pay, accounts)
    # Under yearly recurrence (SPEC §4.3) a row is one entitlement: it carries its period ("2023").
    extra = [c for c in ("period", *ACCOUNT_COLUMNS) if c in pay]
    rows = pay[ROW_COLUMNS + extra].reset_index(drop=True)

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
        terms=terms or Terms(), held=held,
    )


ACCOUNT_COLUMNS = ("laborer_bank", "laborer_account", "social_card")
HELD_REASON = "没有本人银行账号或社会保障卡号(或账号有误),补填后发放"


def _split_by_account(pay: pd.DataFrame, accounts: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(rows to pay now, with the laborer's account; rows held as 暂缓发放, with the reason)."""
    acc = accounts.drop_duplicates(["id_number", "workshop_id"])
    acc = acc[["id_number", "workshop_id", *[c for c in ACCOUNT_COLUMNS if c in acc]]]
    merged = pay.merge(acc, on=["id_number", "workshop_id"], how="left").set_axis(pay.index)
    usable = pd.Series(False, index=merged.index)
    for c in ("laborer_account", "social_card"):
        if c in merged:
            usable |= merged[c].notna()
    held = merged.loc[~usable].assign(reason=HELD_REASON)
    return merged.loc[usable], held


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
            people=("id_number", "size"),
            amount=("amount", "sum"),
        )
        .reset_index()
    )
    return ws[["county", "workshop_id", "workshop_name", "operator", "operator_type", "bank", "bank_account",
               "people", "amount"]]


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
