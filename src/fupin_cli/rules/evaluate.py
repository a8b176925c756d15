"""`evaluate`: exactly one status per (laborer, workshop) pair as of month M, over whole frames.

Steps, each its own function: windows and Q (windows.qualify) → the pair's own checks, decided in
the precedence of `status.STATUS_ORDER` → once per person (ledger, then the earliest P) → amounts
and the workshop cap → shortfalls → the decisions frame → reasons (reasons.py, from the result).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fupin_cli import status as statuses
from fupin_cli.dataset import Dataset
from fupin_cli.months import parse_month_arg
from fupin_cli.policy import Policy
from fupin_cli.reasons import build_reasons
from fupin_cli.rules.gate import Gate, in_categories, workshop_gate
from fupin_cli.rules.params import ParamsUsed
from fupin_cli.rules.result import Evaluation, OncePerPerson, WorkshopFacts
from fupin_cli.rules.windows import Windows, month_array, qualify
from fupin_cli.values import age_on

DECISION_COLUMNS = [
    "id_number", "name", "workshop_id", "workshop_name", "operator", "operator_type", "bank",
    "bank_account", "county_code", "county", "poor", "relocated", "contract_type", "start", "end",
    "start_month", "period", "status", "data_status", "reason", "qualified_month", "payable_month", "months",
    "wages", "amount", "short_months", "short_wages", "check_note", "workshop_check_note",
]
WORKSHOP_COLUMNS = ["workshop_name", "operator", "operator_type", "bank", "bank_account", "county_code", "county"]


def _ages_at(ids: pd.Series, dates: pd.Series) -> np.ndarray:
    """Full years on `dates` from the ID's birth date (digits 7–14), NaN where unreadable."""
    # values.age_on is the single definition of age (周岁; 29 February birthdays on 1 March).
    return age_on(ids, dates).to_numpy(dtype=float, na_value=np.nan)


def _attach_workshops(lab: pd.DataFrame, workshops: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    ws = workshops.drop_duplicates("workshop_id", keep="first").set_index("workshop_id")
    idx = ws.index.get_indexer(lab["workshop_id"])
    found = idx >= 0
    out = {}
    for c in [*WORKSHOP_COLUMNS, "certified", "withdrawn", "check_note"]:
        col = ws[c] if c in ws.columns else pd.Series(pd.NA, index=ws.index, dtype="object")
        out[c] = col.iloc[np.where(found, idx, 0)].where(found).reset_index(drop=True) if len(ws) else \
            pd.Series([None] * len(lab), dtype="object")
    ws_ok = found.copy()
    if "valid" in ws.columns and len(ws):
        ws_ok &= ws["valid"].fillna(False).astype(bool).to_numpy()[np.where(found, idx, 0)]
    return pd.DataFrame(out), ws_ok


def _check_notes(lab: pd.DataFrame, wsd: pd.DataFrame) -> np.ndarray:
    """Per pair: the columns to verify before paying (errors the rule does not read), workshop first."""
    parts = [pd.Series(f.get("check_note", pd.Series(None, index=f.index)).to_numpy(dtype=object))
             for f in (wsd, lab)]
    both = parts[0].notna() & parts[1].notna()
    out = parts[0].where(parts[0].notna(), parts[1])
    out[both] = parts[0][both] + ";" + parts[1][both]
    return out.to_numpy(dtype=object)


def _paid_frame(paid: pd.DataFrame | None) -> pd.DataFrame:
    cols = ["id_number", "workshop_id", "amount", "batch_id", "batch_month", "period", "policy"]
    if paid is None or len(paid) == 0:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in cols})
    p = paid.assign(period=paid["period"] if "period" in paid else None,
                    policy=paid["policy"] if "policy" in paid else None)[cols].copy()
    p["period"] = p["period"].map(lambda v: None if v is None or pd.isna(v) else str(v).strip()).astype(object)
    bm = p["batch_month"]
    if not pd.api.types.is_numeric_dtype(bm):  # "2019-03" from a ledger that stores text
        bm = bm.map(lambda v: None if v is None or pd.isna(v) else parse_month_arg(str(v)))
    p["batch_month"] = pd.to_numeric(bm, errors="coerce")
    return p.sort_values(["batch_month", "workshop_id"], kind="stable")


def _targets(lab: pd.DataFrame, policy: Policy, prm: ParamsUsed) -> np.ndarray:
    """Per pair: in a category the policy counts, as read at the decision month (SPEC §4.3)."""
    vals = policy.values("categories")
    if not vals:  # validation keeps 是否建档立卡 and 人员类别 consistent: the 是/否 column says it
        return lab["poor"].fillna(False).astype(bool).to_numpy()
    hit = np.zeros(len(lab), bool)
    for k, v in enumerate(vals):
        at = prm.category_pos == k
        if at.any():
            hit |= at & in_categories(lab, v.value)
    return hit


def _checks(lab: pd.DataFrame, M: int, w: Windows, prm: ParamsUsed, ws: WorkshopFacts, valid: np.ndarray,
            age: np.ndarray, P0: np.ndarray, P: np.ndarray, targets: np.ndarray) -> dict[str, np.ndarray]:
    """The condition of every status the pair's own data decides (SPEC §4.2 items 1–3, §4.3).

    P0 = max(Q, 认定月); P is the first month from P0 on in which the workshop passes its head-count
    gate (P0 without a gate; NaN when the gate is not passed by M)."""
    n, Q, has_q = len(lab), w.qualified, w.has_q
    ct = lab["contract_type"].astype("object")
    ct_ok = np.zeros(n, bool)
    for k, v in enumerate(prm.contract_values):
        ct_ok |= (prm.contract_pos == k) & ct.isin(v.value).to_numpy()
    vf, vt, C, Wd = prm.valid_from, prm.valid_to, ws.certified, ws.withdrawn
    certified = has_q & ~np.isnan(C) & (P0 <= M)
    gated = certified & np.isnan(P)  # certified in time, but the workshop never had enough targets by M
    return {
        "invalid_data": ~valid | ~ws.found | ~w.start_ok,
        "not_poor": ~targets,
        "contract_type": ~ct_ok,
        "age": np.isnan(age) | (age < prm.min_age) | (~np.isnan(prm.max_age) & (age > prm.max_age)),
        "pending": ~has_q & ~w.closed,
        "short": ~has_q & w.closed,
        "out_of_period": has_q & ((~np.isnan(vf) & (Q < vf)) | (~np.isnan(vt) & (Q > vt))),
        "not_certified": has_q & ~certified,
        # Withdrawn by the month it would be paid (or, gate never passed, by M): it can never be paid.
        "withdrawn": certified & ~np.isnan(Wd) & (Wd <= np.where(gated, M, P)),
        "workshop_gate": gated,
    }


def first_applying(checks: dict[str, np.ndarray]) -> np.ndarray:
    """Per pair, the first status of `STATUS_ORDER` whose condition holds; "payable" if none does."""
    order = statuses.check_statuses()
    if set(order) != set(checks):
        raise ValueError(f"status precedence {order} and the rule's checks {sorted(checks)} differ")
    return np.select([checks[s] for s in order], list(order), default="payable").astype(object)


def person_keys(ids: pd.Series, period: pd.Series | None) -> pd.Series:
    """Who once-per-person is decided for: the ID number, per period under yearly recurrence."""
    if period is None:
        return ids.astype(str).reset_index(drop=True)
    per = pd.Series(period).reset_index(drop=True).map(lambda v: "" if v is None or pd.isna(v) else str(v))
    return ids.astype(str).reset_index(drop=True) + "\x1e" + per


def _once_per_person(lab: pd.DataFrame, status: np.ndarray, P: np.ndarray, Q: np.ndarray,
                     prm: ParamsUsed, pf: pd.DataFrame, yearly: bool, policy_name: str
                     ) -> tuple[pd.Series, pd.Series, pd.DataFrame, np.ndarray]:
    """Mark paid/duplicate/eligible in place (SPEC §4.2 item 4), across all workshops and counties;
    under yearly recurrence (SPEC §4.3) once per person and period.

    `paid` by the ledger comes before every other reason (SPEC §4.2 item 5): a pair an earlier batch
    paid is `paid` whatever today's data says. What the data alone says is returned as the data
    status, for the audit list and the reason (never an unpayment)."""
    payable = status == "payable"
    person = person_keys(lab["id_number"], lab["period"] if yearly else None)
    paid_person_key = person_keys(pf["id_number"], pf["period"] if yearly else None)
    pair_key = person + "\x1f" + lab["workshop_id"].astype(str).reset_index(drop=True)
    paid_keys = paid_person_key + "\x1f" + pf["workshop_id"].astype(str).reset_index(drop=True)
    # A payment under another policy of the exclusive group (SPEC §4.3) is not this pair's payment:
    # the person is then a duplicate here.
    mine = pf["policy"].isna().to_numpy() | (pf["policy"].to_numpy() == policy_name)
    is_paid_pair = pair_key.isin(paid_keys[mine]).to_numpy()
    paid_person = person.isin(paid_person_key).to_numpy()
    once = prm.once_per_person
    status[payable & is_paid_pair] = "paid"
    status[payable & ~is_paid_pair & once & paid_person] = "duplicate"
    contest = payable & ~is_paid_pair & once & ~paid_person
    c = np.flatnonzero(contest)  # only these rows' texts become Python objects (for the sort)
    order = pd.DataFrame({"id": person.iloc[c].to_numpy(), "P": P[c], "Q": Q[c],
                          "ws": lab["workshop_id"].iloc[c].to_numpy(), "i": c})
    order = order.sort_values(["id", "P", "Q", "ws", "i"], kind="stable")
    winner_rows = order.drop_duplicates("id", keep="first")["i"].to_numpy()
    status[np.setdiff1d(order["i"].to_numpy(), winner_rows)] = "duplicate"
    status[status == "payable"] = "eligible"
    data_status = status.copy()
    status[is_paid_pair] = "paid"
    winners = lab.iloc[winner_rows][["id_number", "workshop_id"]].assign(
        P=P[winner_rows], person=person.iloc[winner_rows].to_numpy())
    return pair_key, paid_keys, winners, data_status


def _amounts(lab: pd.DataFrame, status: np.ndarray, prm: ParamsUsed, pf: pd.DataFrame, pair_key: pd.Series,
             paid_keys: pd.Series, P: np.ndarray, Q: np.ndarray, by_year: bool = False
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Amount per pair (paid pairs keep what was paid), the amount before the cap, and the capped mask."""
    amount = np.where(status == "eligible", prm.amount, 0.0)
    paid_amt = pd.Series(pd.to_numeric(pf["amount"], errors="coerce").to_numpy(), index=paid_keys)
    paid_amt = paid_amt[~paid_amt.index.duplicated()]
    is_paid = status == "paid"
    amount[is_paid] = paid_amt.reindex(pair_key[is_paid]).fillna(0.0).to_numpy()
    full_amount = amount.copy()
    capped = _apply_cap(lab, status, amount, prm.cap_per_workshop, P, Q, by_year)
    return amount, full_amount, capped


def _apply_cap(lab: pd.DataFrame, status: np.ndarray, amount: np.ndarray, cap: np.ndarray,
               P: np.ndarray, Q: np.ndarray, by_year: bool = False) -> np.ndarray:
    """Reduce eligible amounts beyond `cap_per_workshop` in place; return the mask of reduced rows.
    `by_year` (cap_scope = "year", SPEC §4.3): the cap holds per workshop and calendar year of P."""
    capped = np.zeros(len(status), bool)
    sel = np.flatnonzero(((status == "eligible") | (status == "paid")) & ~np.isnan(cap))
    if not len(sel):
        return capped
    ws = lab["workshop_id"].astype(str).to_numpy()[sel]
    if by_year:
        ws = ws + "\x1f" + (np.nan_to_num(P[sel], nan=-12) // 12).astype(np.int64).astype(str)
    f = pd.DataFrame({"ws": ws, "first": status[sel] != "paid",
                      "P": P[sel], "Q": Q[sel], "id": lab["id_number"].to_numpy()[sel], "i": sel})
    f = f.sort_values(["ws", "first", "P", "Q", "id", "i"], kind="stable")
    amt = amount[f["i"].to_numpy()]
    before = pd.Series(amt).groupby(f["ws"].to_numpy()).cumsum().to_numpy() - amt
    room = np.maximum(cap[f["i"].to_numpy()] - before, 0.0)
    new = np.where(f["first"].to_numpy(), np.minimum(amt, room), amt)  # paid amounts stand as paid
    i = f["i"].to_numpy()
    capped[i] = new < amt
    amount[i] = new
    return capped


def _frame(lab: pd.DataFrame, wsd: pd.DataFrame, w: Windows, prm: ParamsUsed, status: np.ndarray,
           P: np.ndarray, amount: np.ndarray) -> pd.DataFrame:
    """The decisions frame, without reasons; `short_*` say what a pending/short pair still lacks."""
    n = len(lab)
    gap = (status == "pending") | (status == "short")
    short_m = pd.array(np.where(gap, np.maximum(prm.min_months - w.months, 0), 0), dtype="Int64")
    short_m[~gap] = pd.NA
    d = pd.DataFrame({
        "id_number": lab["id_number"], "name": lab["name"], "workshop_id": lab["workshop_id"],
    })
    for c in WORKSHOP_COLUMNS:
        # An Arrow text column goes in as it is: through numpy objects it is only rebuilt (slowly).
        d[c] = wsd[c].array if isinstance(wsd[c].dtype, pd.StringDtype) else wsd[c].to_numpy()
    for c in ["poor", "relocated", "contract_type", "start", "end"]:
        d[c] = lab[c] if c in lab else pd.NA
    d["start_month"] = pd.array(np.where(w.start_ok, w.start, 0), dtype="Int64")
    d.loc[~w.start_ok, "start_month"] = pd.NA
    has_period = ~np.isnan(w.period)
    d["period"] = np.full(n, None, dtype=object)
    if has_period.any():  # yearly recurrence only: the default policy pays no per-row cost here
        d.loc[has_period, "period"] = w.period[has_period].astype(np.int64).astype(str)
    d["status"] = status
    d["qualified_month"] = pd.array(w.qualified, dtype="Int64") if n else pd.array([], dtype="Int64")
    d["payable_month"] = pd.array(P, dtype="Int64") if n else pd.array([], dtype="Int64")
    d["months"] = w.months
    d["wages"] = w.wages
    d["amount"] = amount
    d["short_months"] = short_m
    d["short_wages"] = np.where(gap, np.maximum(prm.min_wages - w.wages, 0.0), np.nan)
    return d


def _entitlements(lab: pd.DataFrame, M: int) -> tuple[np.ndarray, np.ndarray]:
    """Yearly recurrence (SPEC §4.3): every calendar year in which a pair's agreement runs, up to M, is
    a period of its own. Returns (laborer row of each entitlement, its period); a pair whose agreement
    starts after M (or cannot be read) keeps one row."""
    S = month_array(lab["start"])
    E = month_array(lab["end"])
    y0 = np.where(np.isnan(S), M // 12, S // 12)
    y1 = np.where(np.isnan(S), y0, np.maximum(y0, np.fmin(np.where(np.isnan(E), M, E), M) // 12))
    k = (y1 - y0 + 1).astype(np.int64)
    rows = np.repeat(np.arange(len(lab)), k)
    offs = np.arange(len(rows)) - np.repeat(np.cumsum(k) - k, k)
    return rows, (y0[rows] + offs).astype(np.int64)


def _male(ids: pd.Series) -> np.ndarray:
    """Sex from the ID number's 17th character: odd = 男 (an unreadable digit counts as not male)."""
    d = pd.to_numeric(ids.astype(str).str[16], errors="coerce").to_numpy(dtype=float)
    return np.nan_to_num(d, nan=0.0) % 2 == 1


def _gate(lab: pd.DataFrame, w: Windows, valid: np.ndarray, P0: np.ndarray, M: int, policy: Policy
          ) -> tuple[np.ndarray, Gate | None]:
    """P after the workshop head-count gate (P0 when the policy has none)."""
    if not policy.uses("workshop_min_targets"):
        return P0, None
    g = workshop_gate(lab, w, valid, P0, M, policy)
    return np.where(np.nan_to_num(P0, nan=M + 1) <= M, g.payable, P0), g


def evaluate(ds: Dataset, month: int, policy: Policy, paid: pd.DataFrame | None = None) -> Evaluation:
    """Every `ds.laborers` row's decision as of month M, with the figures behind it. Under yearly
    recurrence a row has one decision per period (the frame repeats the row's index label)."""
    M = int(month)
    lab = ds.laborers.reset_index(drop=True)
    rows = period = None
    yearly = policy.recurrence == "yearly"
    if yearly:
        rows, period = _entitlements(lab, M)
        lab = lab.iloc[rows].reset_index(drop=True).assign(period=[str(p) for p in period])
    n = len(lab)
    w, counted = qualify(lab, ds.wages, M, policy, period)
    male = _male(lab["id_number"]) if policy.uses("max_age") else np.zeros(n, bool)  # only a limit by sex needs it
    prm = ParamsUsed.read(policy, w, male)
    wsd, ws_ok = _attach_workshops(lab, ds.workshops)
    ws = WorkshopFacts(found=ws_ok, certified=month_array(wsd["certified"]),
                       withdrawn=month_array(wsd["withdrawn"]), certified_date=wsd["certified"],
                       withdrawn_date=wsd["withdrawn"],
                       names=ds.workshops.drop_duplicates("workshop_id").set_index("workshop_id")["workshop_name"])
    Q = w.qualified
    P0 = np.where(w.has_q & ~np.isnan(ws.certified), np.fmax(Q, ws.certified), np.nan)
    valid = lab["valid"].fillna(False).astype(bool).to_numpy() if "valid" in lab else np.ones(n, bool)
    P, gate = _gate(lab, w, valid, P0, M, policy)
    age = _ages_at(lab["id_number"], lab["start"])
    checks = _checks(lab, M, w, prm, ws, valid, age, P0, P, _targets(lab, policy, prm))
    status = first_applying(checks)
    P = np.where(status == "workshop_gate", P0, P)  # shown as the month the gate was missed from
    pf = _paid_frame(paid)
    pair_key, paid_keys, winners, data_status = _once_per_person(lab, status, P, Q, prm, pf, yearly, policy.name)
    amount, full_amount, capped = _amounts(lab, status, prm, pf, pair_key, paid_keys, P, Q,
                                           policy.cap_scope == "year")
    d = _frame(lab, wsd, w, prm, status, P, amount)
    d["data_status"] = data_status
    d["check_note"] = _check_notes(lab, wsd)
    d["workshop_check_note"] = wsd["check_note"].to_numpy(dtype=object)
    ev = Evaluation(
        month=M, policy=policy, decisions=d, windows=w, counted=counted, params=prm, workshop=ws, payable=P,
        age=age, valid=valid,
        invalid_reason=list(lab["invalid_reason"]) if "invalid_reason" in lab else [None] * n,
        checks=checks, once=OncePerPerson(paid=pf, winners=winners), full_amount=full_amount, capped=capped,
        period=None if period is None else period, laborers=lab, wages=ds.wages, gate=gate,
        rows=rows, payable_before_gate=P0,
    )
    d["reason"] = build_reasons(ev)
    d.index = ds.laborers.index if rows is None else ds.laborers.index[rows]
    ev.decisions = d[DECISION_COLUMNS]
    return ev
