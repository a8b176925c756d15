"""The payout roster (SPEC §5, §6.1): who is paid this month, per workshop and county, and why not.

`build_roster` cuts the decisions of `rules.evaluate` into the sheets finance pays from (written by
`workbooks.roster`; the `payout` JSON document is `commands.payout.roster_json`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from fupin_cli.dataset import isin, pair_keys
from fupin_cli.policy import Terms
from fupin_cli.region import Region
from fupin_cli.status import HELD_LABEL, HELD_REASON, NOT_RECORDED_LABEL, STATUS_LABELS, STATUS_ORDER

ROW_COLUMNS = [
    "county_code", "county", "workshop_id", "workshop_name", "operator", "operator_type", "bank", "bank_account",
    "name", "id_number", "contract_type", "start", "qualified_month", "payable_month", "months", "wages", "amount",
    "check_note",
]
NOT_PAID_COLUMNS = [
    "county", "workshop_id", "workshop_name", "name", "id_number", "status", "status_label", "reason",
    "months", "wages", "short_months", "short_wages", "qualified_month",
]


@dataclass
class Roster:
    month: int
    county: str | None  # county name in force in `month`, None = the whole region
    county_code: str | None
    policy: str
    region_name: str
    rows: pd.DataFrame
    workshops: pd.DataFrame
    counties: pd.DataFrame
    not_paid: pd.DataFrame
    problems: pd.DataFrame
    notes: list[str] = field(default_factory=list)  # printed under the 奖补名单 title (which batch, when)
    terms: Terms = field(default_factory=Terms)  # the policy's wording for titles (SPEC §4.3)
    # payee = laborer (SPEC §4.3): payable laborers without a usable account, 暂缓发放 (not recorded)
    deferred: pd.DataFrame = field(default_factory=pd.DataFrame)
    non_target: int = 0  # pairs left out of not_paid: laborers not from registered poor households

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
    held: pd.DataFrame | None = None,
    terms: Terms | None = None,
    accounts: pd.DataFrame | None = None,
) -> Roster:
    """Roster for month M: every `eligible` pair (P ≤ M, not paid by an earlier batch).

    Once-per-person was decided by the rule over all counties; `county_code` only filters. `held`
    (id_number, batch_id) are people another batch of this month recorded: not on this roster, they
    are listed in 未达标名单 as "已在第N批登记".
    """
    d = scope(decisions, county_code)
    # A pair whose amount a workshop cap reduced to 0 earns nothing this month; it stays in 未达标名单.
    pay = d.loc[(d["status"] == "eligible") & (d["amount"] > 0)]
    if held is not None and len(held):
        pay = pay.loc[~isin(pay["id_number"], held["id_number"])]
    pay = pay.sort_values(["county_code", "workshop_id", "payable_month", "id_number"], kind="stable")
    deferred = pd.DataFrame()
    if accounts is not None:  # the subsidy goes to the laborer: only those with an account are paid now
        pay, deferred = _split_by_account(pay, accounts)
    # Under yearly recurrence (SPEC §4.3) a row is one entitlement: it carries its period ("2023").
    extra = [c for c in ("period", *ACCOUNT_COLUMNS) if c in pay]
    r = assemble_roster(pay.reindex(columns=ROW_COLUMNS + extra).reset_index(drop=True), d, problems, month,
                        policy=policy, region=region, county_code=county_code, held=held)
    r.terms, r.deferred = terms or Terms(), deferred
    return r


ACCOUNT_COLUMNS = ("laborer_bank", "laborer_account", "social_card")
DEFERRED_REASON = "没有本人银行账号或社会保障卡号(或账号有误),补填后发放"


def _split_by_account(pay: pd.DataFrame, accounts: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(rows to pay now, with the laborer's account; rows deferred as 暂缓发放, with the reason)."""
    acc = accounts.drop_duplicates(["id_number", "workshop_id"])
    acc = acc[["id_number", "workshop_id", *[c for c in ACCOUNT_COLUMNS if c in acc]]]
    merged = pay.merge(acc, on=["id_number", "workshop_id"], how="left").set_axis(pay.index)
    usable = pd.Series(False, index=merged.index)
    for c in ("laborer_account", "social_card"):
        if c in merged:
            usable |= merged[c].notna()
    return merged.loc[usable], merged.loc[~usable].assign(reason=DEFERRED_REASON)


def scope(decisions: pd.DataFrame, county_code: str | None) -> pd.DataFrame:
    return decisions if county_code is None else decisions.loc[decisions["county_code"] == county_code]


def assemble_roster(
    rows: pd.DataFrame,
    decisions: pd.DataFrame,
    problems: pd.DataFrame,
    month: int,
    *,
    policy: str,
    region: Region,
    county_code: str | None = None,
    held: pd.DataFrame | None = None,
    notes: list[str] | None = None,
) -> Roster:
    """The roster's sheets around its rows (ROW_COLUMNS: today's rule, or what the ledger recorded).

    `decisions` are today's, already cut to the roster's county; they give 未达标名单.
    """
    names = region.names_by_code(month)  # the names in force in the roster's month (田阳县 in 2018)
    rows = rows.assign(county=rows["county_code"].map(names).fillna(rows["county"]))
    # 未达标名单 lists target laborers only: non-poor laborers are most rows on real data (SPEC §6.1).
    non_target = decisions["status"] == "not_poor"
    targets = decisions.loc[~non_target]
    targets = targets.assign(county=targets["county_code"].map(names).fillna(targets["county"]))
    codes = [c.code for c in region.counties] if county_code is None else [county_code]
    if county_code is not None and "county_code" in problems:
        # A county's roster carries its own data problems (and those no county could be found for).
        problems = problems.loc[problems["county_code"].isna() | (problems["county_code"] == county_code)]
    cname = names.get(county_code) if county_code else None
    return Roster(
        month=month, county=cname, county_code=county_code, policy=policy, region_name=region.name,
        # 车间汇总 flags the workshop's own unchecked details (银行账号…), not its laborers'.
        rows=rows, workshops=_per_workshop(rows.assign(workshop_note=rows["workshop_id"].map(workshop_notes(decisions)))),
        counties=_per_county(rows, codes, names),
        not_paid=_not_paid(targets, rows, held), problems=problems, notes=list(notes or []),
        non_target=int(non_target.sum()),
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


def _pairs_in(d: pd.DataFrame, rows: pd.DataFrame) -> np.ndarray:
    """Which (ID, workshop) pairs of `d` are among those of `rows`: by integer pair keys when no part
    is missing (a missing part is matched as MultiIndex.isin matches it, so that case keeps it)."""
    cols = ["id_number", "workshop_id"]
    if d[cols].isna().any().any() or rows[cols].isna().any().any():
        return pd.MultiIndex.from_frame(d[cols]).isin(pd.MultiIndex.from_frame(rows[cols]))
    dk, rk = pair_keys(d, rows)
    return np.isin(dk, rk)


def _not_paid(d: pd.DataFrame, rows: pd.DataFrame, held: pd.DataFrame | None) -> pd.DataFrame:
    """未达标名单: every pair of `d` this roster does not pay and no earlier month paid, by status then place."""
    on_roster = _pairs_in(d, rows)
    paid_here = d["status"].eq("eligible") & isin(d["id_number"], rows["id_number"])
    rest = d.loc[~on_roster & ~paid_here & (d["status"] != "paid")].copy()
    order = {s: i for i, s in enumerate(STATUS_ORDER)}
    rest["_o"] = rest["status"].map(order)
    rest = rest.sort_values(["_o", "county_code", "workshop_id", "id_number"], kind="stable")
    rest["status_label"] = rest["status"].map(STATUS_LABELS)
    eligible = rest["status"].eq("eligible")
    rest.loc[eligible, "status_label"] = NOT_RECORDED_LABEL
    if held is not None and len(held):
        by_id = held.drop_duplicates("id_number").set_index("id_number")["batch_id"]
        batch = rest["id_number"].map(by_id)
        mark = eligible & batch.notna()
        rest.loc[mark, "status_label"] = [HELD_LABEL.format(batch_id=int(b)) for b in batch[mark]]
        rest.loc[mark, "reason"] = HELD_REASON
    return rest[NOT_PAID_COLUMNS].reset_index(drop=True)
