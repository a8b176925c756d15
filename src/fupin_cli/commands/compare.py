"""`fupin compare`: what a draft policy would change against the current one, on the county's own data
(issue 12 §4). Both policies are evaluated by the one rule on the same data as of month M; per person
the entitled amount (eligible and paid pairs, every period) is compared. With a ledger, the people it
already paid are listed with what the draft would change for them — nothing is ever unpaid."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from fupin_cli.dataset import Dataset
from fupin_cli.errors import FupinError
from fupin_cli.loading import Progress, default_month, load_dataset
from fupin_cli.months import format_month
from fupin_cli.policy import Policy, load_policy
from fupin_cli.privacy import ids_list
from fupin_cli.region import Region, load_region
from fupin_cli.rules import evaluate
from fupin_cli.settlement import exclusive_key, existing_ledger

ENTITLED = ("eligible", "paid")
PERSON_COLUMNS = ["id_number", "name", "county_code", "county", "amount_a", "amount_b", "diff", "status_a",
                  "status_b"]


@dataclass
class CompareResult:
    month: int
    month_defaulted: bool
    policies: tuple[Policy, Policy]
    people: pd.DataFrame  # PERSON_COLUMNS, one row per person entitled under either policy
    counties: pd.DataFrame  # county, people_a, amount_a, people_b, amount_b, diff
    already_paid: pd.DataFrame | None  # with a ledger: id_number, name, county, paid, amount_b, change
    dataset: Dataset
    outputs: list[Path] = field(default_factory=list)

    @property
    def gains(self) -> pd.DataFrame:
        return self.people.loc[self.people["diff"] > 0]

    @property
    def losses(self) -> pd.DataFrame:
        return self.people.loc[self.people["diff"] < 0]


def _per_person(d: pd.DataFrame) -> pd.DataFrame:
    """Entitled amount and the statuses behind it, per person (all pairs and periods)."""
    ent = d.assign(amount=d["amount"].where(d["status"].isin(ENTITLED), 0.0))
    g = ent.groupby("id_number", sort=False)
    first = ent.drop_duplicates("id_number").set_index("id_number")
    best = ent.sort_values("amount", ascending=False, kind="stable").drop_duplicates("id_number")
    return pd.DataFrame({"name": first["name"], "county_code": first["county_code"], "county": first["county"],
                         "amount": g["amount"].sum(),
                         "status": best.set_index("id_number")["status"]})


def _counties(people: pd.DataFrame, region: Region) -> pd.DataFrame:
    rows = []
    for c in region.counties:
        p = people.loc[people["county_code"] == c.code]
        rows.append({"county": c.name, "people_a": int((p["amount_a"] > 0).sum()), "amount_a": float(p["amount_a"].sum()),
                     "people_b": int((p["amount_b"] > 0).sum()), "amount_b": float(p["amount_b"].sum())})
    out = pd.DataFrame(rows)
    total = {"county": "合计", **{k: out[k].sum() for k in ("people_a", "amount_a", "people_b", "amount_b")}}
    out = pd.concat([out, pd.DataFrame([total])], ignore_index=True)
    out["diff"] = out["amount_b"] - out["amount_a"]
    return out


def compare_policies(ds: Dataset, month: int, a: Policy, b: Policy, region: Region,
                     paid: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    """(people, counties, already paid) for policies a (current) and b (draft) as of `month`.

    `paid` (the ledger's payouts under a) is given to a's evaluation, so a's figures are the real ones;
    b is evaluated as if adopted without that history (what it would entitle)."""
    pa = _per_person(evaluate(ds, month, a, paid).decisions)
    pb = _per_person(evaluate(ds, month, b).decisions)
    people = pa.merge(pb, left_index=True, right_index=True, how="outer", suffixes=("_a", "_b"))
    for c in ("name", "county_code", "county"):
        people[c] = people[f"{c}_a"].combine_first(people[f"{c}_b"])
    people[["amount_a", "amount_b"]] = people[["amount_a", "amount_b"]].fillna(0.0)
    people["diff"] = people["amount_b"] - people["amount_a"]
    people = people.loc[(people["amount_a"] > 0) | (people["amount_b"] > 0)].reset_index(names="id_number")
    people = people[PERSON_COLUMNS].sort_values(["county_code", "diff", "id_number"], kind="stable")
    already = None
    if paid is not None:
        got = paid.groupby("id_number")["amount"].sum()
        already = people.loc[people["id_number"].isin(got.index)].assign(
            paid=lambda f: f["id_number"].map(got))
        already = already.loc[already["amount_b"] != already["paid"]].copy()
        already["change"] = [
            f"按新政策应得{b_:,.0f}元,比已发放多{b_ - p_:,.0f}元,可补发差额" if b_ > p_ else
            f"按新政策应得{b_:,.0f}元(少于已发放的{p_:,.0f}元);已发放的不追回,仍记为已兑现"
            for b_, p_ in zip(already["amount_b"], already["paid"], strict=True)]
        already = already[["id_number", "name", "county", "paid", "amount_b", "change"]]
    return people.reset_index(drop=True), _counties(people, region), already


def run_compare(paths: Sequence[str | Path], *, month: int | None, policies: Sequence[str], region: str | None,
                ledger_path: Path | None, output: Path | None, progress: Progress | None = None) -> CompareResult:
    if len(policies) != 2:
        raise FupinError("请给出两个策略:--policy 现行策略 --policy 拟议策略(内置名称或策略文件)",
                         code="usage.compare_policies")
    reg = load_region(region)
    a, b = load_policy(policies[0]), load_policy(policies[1])
    ds = load_dataset(paths, region=reg, progress=progress)
    m = default_month(ds) if month is None else month
    with existing_ledger(ledger_path) as led:
        paid = led.paid(before_month=m + 1, exclusive_key=exclusive_key(a)) if led is not None else None
    people, counties, already = compare_policies(ds, m, a, b, reg, paid)
    res = CompareResult(month=m, month_defaulted=month is None, policies=(a, b), people=people,
                        counties=counties, already_paid=already, dataset=ds)
    if output is not None:
        from fupin_cli.workbooks.compare import write_compare

        res.outputs.append(write_compare(output, res, reg.name))
    return res


def compare_json(res: CompareResult, *, mask: bool = True) -> dict:
    def people(f: pd.DataFrame) -> list[dict]:
        return [{"id_number": i, "name": n, "county": c, "amount_current": float(x), "amount_draft": float(y),
                 "difference": float(y - x), "status_current": sa, "status_draft": sb}
                for i, n, c, x, y, sa, sb in zip(ids_list(f["id_number"], mask), f["name"], f["county"],
                                                 f["amount_a"], f["amount_b"], f["status_a"], f["status_b"],
                                                 strict=True)]

    a, b = res.policies
    doc = {
        "month": format_month(res.month), "current": a.name, "draft": b.name,
        "counties": [{"county": r.county, "people_current": int(r.people_a), "amount_current": float(r.amount_a),
                      "people_draft": int(r.people_b), "amount_draft": float(r.amount_b), "difference": float(r.diff)}
                     for r in res.counties.itertuples(index=False)],
        "gains": people(res.gains), "losses": people(res.losses),
        "already_paid": None,
    }
    if res.already_paid is not None:
        f = res.already_paid
        doc["already_paid"] = [{"id_number": i, "name": n, "county": c, "paid": float(p), "amount_draft": float(x),
                                "change": ch}
                               for i, n, c, p, x, ch in zip(ids_list(f["id_number"], mask), f["name"], f["county"],
                                                            f["paid"], f["amount_b"], f["change"], strict=True)]
    return doc
