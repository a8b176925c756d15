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
from fupin_cli.rules.params import ParamsUsed
from fupin_cli.rules.result import Evaluation, OncePerPerson, WorkshopFacts
from fupin_cli.rules.windows import Windows, month_array, qualify
from fupin_cli.values import age_on

DECISION_COLUMNS = [
    "id_number", "name", "workshop_id", "workshop_name", "operator", "operator_type", "bank",
    "bank_account", "county_code", "county", "poor", "relocated", "contract_type", "start", "end",
    "start_month", "status", "data_status", "reason", "qualified_month", "payable_month", "months", "wages",
    "amount", "short_months", "short_wages", "check_note", "workshop_check_note",
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
    cols = ["id_number", "workshop_id", "amount", "batch_id", "batch_month"]
    if paid is None or len(paid) == 0:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in cols})
    p = paid[cols].copy()
    bm = p["batch_month"]
    if not pd.api.types.is_numeric_dtype(bm):  # "2019-03" from a ledger that stores text
        bm = bm.map(lambda v: None if v is None or pd.isna(v) else parse_month_arg(str(v)))
    p["batch_month"] = pd.to_numeric(bm, errors="coerce")
    return p.sort_values(["batch_month", "workshop_id"], kind="stable")


def _checks(lab: pd.DataFrame, M: int, w: Windows, prm: ParamsUsed, ws: WorkshopFacts, valid: np.ndarray,
            age: np.ndarray, P: np.ndarray) -> dict[str, np.ndarray]:
    """The condition of every status the pair's own data decides (SPEC §4.2 items 1–3)."""
    n, Q, has_q = len(lab), w.qualified, w.has_q
    ct = lab["contract_type"].astype("object")
    ct_ok = np.zeros(n, bool)
    for k, v in enumerate(prm.contract_values):
        ct_ok |= (prm.contract_pos == k) & ct.isin(v.value).to_numpy()
    vf, vt, C, Wd = prm.valid_from, prm.valid_to, ws.certified, ws.withdrawn
    return {
        "invalid_data": ~valid | ~ws.found | ~w.start_ok,
        "not_poor": ~lab["poor"].fillna(False).astype(bool).to_numpy(),
        "contract_type": ~ct_ok,
        "age": np.isnan(age) | (age < prm.min_age) | (~np.isnan(prm.max_age) & (age > prm.max_age)),
        "pending": ~has_q & ~w.closed,
        "short": ~has_q & w.closed,
        "out_of_period": has_q & ((~np.isnan(vf) & (Q < vf)) | (~np.isnan(vt) & (Q > vt))),
        "not_certified": has_q & (np.isnan(C) | (P > M)),
        "withdrawn": has_q & ~np.isnan(Wd) & (Wd <= P),
    }


def first_applying(checks: dict[str, np.ndarray]) -> np.ndarray:
    """Per pair, the first status of `STATUS_ORDER` whose condition holds; "payable" if none does."""
    order = statuses.check_statuses()
    if set(order) != set(checks):
        raise ValueError(f"status precedence {order} and the rule's checks {sorted(checks)} differ")
    return np.select([checks[s] for s in order], list(order), default="payable").astype(object)


def _once_per_person(lab: pd.DataFrame, status: np.ndarray, P: np.ndarray, Q: np.ndarray,
                     prm: ParamsUsed, pf: pd.DataFrame) -> tuple[pd.Series, pd.Series, pd.DataFrame, np.ndarray]:
    """Mark paid/duplicate/eligible in place (SPEC §4.2 item 4), across all workshops and counties.

    `paid` by the ledger comes before every other reason (SPEC §4.2 item 5): a pair an earlier batch
    paid is `paid` whatever today's data says. What the data alone says is returned as the data
    status, for the audit list and the reason (never an unpayment)."""
    n = len(lab)
    payable = status == "payable"
    pair_key = lab["id_number"].astype(str) + "\x1f" + lab["workshop_id"].astype(str)
    paid_keys = pf["id_number"].astype(str) + "\x1f" + pf["workshop_id"].astype(str)
    is_paid_pair = pair_key.isin(paid_keys).to_numpy()
    paid_person = lab["id_number"].isin(pf["id_number"]).to_numpy()
    once = prm.once_per_person
    status[payable & is_paid_pair] = "paid"
    status[payable & ~is_paid_pair & once & paid_person] = "duplicate"
    contest = payable & ~is_paid_pair & once & ~paid_person
    order = pd.DataFrame({"id": lab["id_number"], "P": P, "Q": Q, "ws": lab["workshop_id"],
                          "i": np.arange(n)})[contest]
    order = order.sort_values(["id", "P", "Q", "ws", "i"], kind="stable")
    winner_rows = order.drop_duplicates("id", keep="first")["i"].to_numpy()
    status[np.setdiff1d(order["i"].to_numpy(), winner_rows)] = "duplicate"
    status[status == "payable"] = "eligible"
    data_status = status.copy()
    status[is_paid_pair] = "paid"
    winners = lab.iloc[winner_rows][["id_number", "workshop_id"]].assign(P=P[winner_rows])
    return pair_key, paid_keys, winners, data_status


def _amounts(lab: pd.DataFrame, status: np.ndarray, prm: ParamsUsed, pf: pd.DataFrame, pair_key: pd.Series,
             paid_keys: pd.Series, P: np.ndarray, Q: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Amount per pair (paid pairs keep what was paid), the amount before the cap, and the capped mask."""
    amount = np.where(status == "eligible", prm.amount, 0.0)
    paid_amt = pd.Series(pd.to_numeric(pf["amount"], errors="coerce").to_numpy(), index=paid_keys)
    paid_amt = paid_amt[~paid_amt.index.duplicated()]
    is_paid = status == "paid"
    amount[is_paid] = paid_amt.reindex(pair_key[is_paid]).fillna(0.0).to_numpy()
    full_amount = amount.copy()
    capped = _apply_cap(lab, status, amount, prm.cap_per_workshop, P, Q)
    return amount, full_amount, capped


def _apply_cap(lab: pd.DataFrame, status: np.ndarray, amount: np.ndarray, cap: np.ndarray,
               P: np.ndarray, Q: np.ndarray) -> np.ndarray:
    """Reduce eligible amounts beyond `cap_per_workshop` in place; return the mask of reduced rows."""
    capped = np.zeros(len(status), bool)
    sel = np.flatnonzero(((status == "eligible") | (status == "paid")) & ~np.isnan(cap))
    if not len(sel):
        return capped
    f = pd.DataFrame({"ws": lab["workshop_id"].to_numpy()[sel], "first": status[sel] != "paid",
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
        d[c] = wsd[c].to_numpy()
    for c in ["poor", "relocated", "contract_type", "start", "end"]:
        d[c] = lab[c] if c in lab else pd.NA
    d["start_month"] = pd.array(np.where(w.start_ok, w.start, 0), dtype="Int64")
    d.loc[~w.start_ok, "start_month"] = pd.NA
    d["status"] = status
    d["qualified_month"] = pd.array(w.qualified, dtype="Int64") if n else pd.array([], dtype="Int64")
    d["payable_month"] = pd.array(P, dtype="Int64") if n else pd.array([], dtype="Int64")
    d["months"] = w.months
    d["wages"] = w.wages
    d["amount"] = amount
    d["short_months"] = short_m
    d["short_wages"] = np.where(gap, np.maximum(prm.min_wages - w.wages, 0.0), np.nan)
    return d


def evaluate(ds: Dataset, month: int, policy: Policy, paid: pd.DataFrame | None = None) -> Evaluation:
    """Every `ds.laborers` row's decision as of month M, with the figures behind it."""
    M = int(month)
    lab = ds.laborers.reset_index(drop=True)
    n = len(lab)
    w, counted = qualify(lab, ds.wages, M, policy)
    prm = ParamsUsed.read(policy, w)
    wsd, ws_ok = _attach_workshops(lab, ds.workshops)
    ws = WorkshopFacts(found=ws_ok, certified=month_array(wsd["certified"]),
                       withdrawn=month_array(wsd["withdrawn"]), certified_date=wsd["certified"],
                       withdrawn_date=wsd["withdrawn"],
                       names=ds.workshops.drop_duplicates("workshop_id").set_index("workshop_id")["workshop_name"])
    Q = w.qualified
    P = np.where(w.has_q & ~np.isnan(ws.certified), np.fmax(Q, ws.certified), np.nan)
    valid = lab["valid"].fillna(False).astype(bool).to_numpy() if "valid" in lab else np.ones(n, bool)
    age = _ages_at(lab["id_number"], lab["start"])
    checks = _checks(lab, M, w, prm, ws, valid, age, P)
    status = first_applying(checks)
    pf = _paid_frame(paid)
    pair_key, paid_keys, winners, data_status = _once_per_person(lab, status, P, Q, prm, pf)
    amount, full_amount, capped = _amounts(lab, status, prm, pf, pair_key, paid_keys, P, Q)
    d = _frame(lab, wsd, w, prm, status, P, amount)
    d["data_status"] = data_status
    d["check_note"] = _check_notes(lab, wsd)
    d["workshop_check_note"] = wsd["check_note"].to_numpy(dtype=object)
    ev = Evaluation(
        month=M, policy=policy, decisions=d, windows=w, counted=counted, params=prm, workshop=ws, payable=P,
        age=age, valid=valid,
        invalid_reason=list(lab["invalid_reason"]) if "invalid_reason" in lab else [None] * n,
        checks=checks, once=OncePerPerson(paid=pf, winners=winners), full_amount=full_amount, capped=capped,
        laborers=lab, wages=ds.wages,
    )
    d["reason"] = build_reasons(ev)
    d.index = ds.laborers.index
    ev.decisions = d[DECISION_COLUMNS]
    return ev
