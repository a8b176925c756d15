"""The rule of SPEC §4.2 — 一次性带动就业奖补 (桂人社发〔2018〕82号) — over whole frames.

`evaluate` gives every (laborer, workshop) pair exactly one status as of month M. All pairs are
computed together with numpy/pandas: wage rows are mapped to pairs, summed per pair and month,
sorted by (pair, month), and running counts/sums are read off global cumulative sums, so 1,000,000
wage rows take about a second. Reasons (Chinese, with figures) are built in `reasons.py`.

Choices the SPEC leaves open (documented here, tested in tests/rule_cases.toml):
- `window_months` and `window_anchor` are read at the pair's start month S: the window's shape must
  be fixed before any month is counted. `min_months`/`min_wages` are read at each candidate month,
  so Q is the first month meeting the thresholds as they stood in that month ("read as they stood
  in month Q"); a threshold change is itself a candidate month. `amount`, `contract_types`, ages,
  `valid_from/to`, `once_per_person` and `cap_per_workshop` are read at Q, or — for a pair without
  Q — at the last month evaluated (min(window end, M)), or S if the agreement has not started.
- A pair whose agreement starts after M is `pending` ("协议尚未开始") unless a reason with higher
  precedence (invalid_data, not_poor, contract_type, age) applies: SPEC §4.2 item 5 is applied
  uniformly.
- `months`/`wages`: at Q for a qualified pair; otherwise the window as of M (under `agreement` the
  window from S to min(S+11, end, M); under `rolling` the trailing window ending at min(end, M)).
- `cap_per_workshop`: the workshop's paid pairs count first, then eligible pairs in (P, Q, ID)
  order; an eligible pair beyond the cap keeps status `eligible` with its amount reduced (possibly
  to 0) and the reason says so.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fupin_cli.dataset import Dataset, pair_keys
from fupin_cli.months import month_index_of, parse_month_arg
from fupin_cli.policy import Policy
from fupin_cli.reasons import build_reasons
from fupin_cli.values import age_on

DECISION_COLUMNS = [
    "id_number", "name", "workshop_id", "workshop_name", "operator", "operator_type", "bank",
    "bank_account", "county_code", "county", "poor", "relocated", "contract_type", "start", "end",
    "start_month", "status", "reason", "qualified_month", "payable_month", "months", "wages", "amount",
    "short_months", "short_wages", "_src", "_row",
]
WORKSHOP_COLUMNS = ["workshop_name", "operator", "operator_type", "bank", "bank_account", "county_code", "county"]

_STRIDE = 1 << 20  # key = pair * _STRIDE + month; month indexes stay far below (year 87000)
NO_MONTH = _STRIDE - 2  # "never": a missing end date, or a start that cannot be read


def month_array(s: pd.Series) -> np.ndarray:
    """datetime64 column → float month indexes (NaN where NaT), for numpy arithmetic."""
    return month_index_of(s).to_numpy(dtype=float, na_value=np.nan)


def _ages_at(ids: pd.Series, dates: pd.Series) -> np.ndarray:
    """Full years on `dates` from the ID's birth date (digits 7–14), NaN where unreadable."""
    # values.age_on is the single definition of age (周岁; 29 February birthdays on 1 March).
    return age_on(ids, dates).to_numpy(dtype=float, na_value=np.nan)


def _pay_rows(lab: pd.DataFrame, wages: pd.DataFrame, S: np.ndarray, upper: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray]:
    """Sorted keys (pair*_STRIDE + month) and cents of months with pay > 0 inside [S, upper]."""
    if wages is None or len(wages) == 0 or len(lab) == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    lk, wk = pair_keys(lab, wages)
    month = pd.to_numeric(wages["month"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    pay = pd.to_numeric(wages["pay"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    cents = np.rint(np.nan_to_num(pay) * 100).astype(np.int64)  # exact sums: 5999.99 never becomes 6000
    if len(np.unique(lk[lk >= 0])) == int((lk >= 0).sum()):
        idx = pd.Index(lk).get_indexer(wk)
        idx[wk < 0] = -1
        w_row = np.flatnonzero(idx >= 0)
        pid = idx[w_row]
    else:  # the same pair on two laborer rows (validation flags it): each row gets the pay
        m = pd.DataFrame({"k": wk, "w": np.arange(len(wk))}).merge(
            pd.DataFrame({"k": lk[lk >= 0], "p": np.flatnonzero(lk >= 0)}), on="k")
        w_row, pid = m["w"].to_numpy(), m["p"].to_numpy()
    mo = month[w_row]
    keep = ~np.isnan(mo)
    w_row, pid, mo = w_row[keep], pid[keep], mo[keep].astype(np.int64)
    keep = (mo >= S[pid]) & (mo <= upper[pid])  # before S, after the end / window / M: not counted
    key = pid[keep] * _STRIDE + mo[keep]
    c = cents[w_row[keep]]
    order = np.argsort(key, kind="stable")
    key, c = key[order], c[order]
    if len(key) == 0:
        return key, c
    starts = np.r_[0, np.flatnonzero(np.diff(key)) + 1]
    key, c = key[starts], np.add.reduceat(c, starts)  # several rows in one month are summed
    pos = c > 0  # a month counts when its pay > 0
    return key[pos], c[pos]


def qualify(lab: pd.DataFrame, wages: pd.DataFrame, month: int, policy: Policy) -> dict[str, np.ndarray]:
    """Windows and the qualification month Q of every pair (SPEC §4.2 items 1–2), vectorised."""
    n = len(lab)
    M = int(month)
    S_f = month_array(lab["start"])
    E_f = month_array(lab["end"])
    S = np.where(np.isnan(S_f), NO_MONTH, S_f).astype(np.int64)
    E = np.where(np.isnan(E_f), NO_MONTH, E_f).astype(np.int64)
    wm = policy.lookup("window_months", S).astype(np.int64)
    anchors = np.array([v.value == "rolling" for v in policy.values("window_anchor")])
    rolling = anchors[policy.positions("window_anchor", S)]
    wlast = np.where(rolling, E, np.minimum(S + wm - 1, E))
    upper = np.minimum(wlast, M)

    key, cents = _pay_rows(lab, wages, S, upper)
    flag = np.ones(len(key), np.int64)
    # A change of min_months/min_wages inside a window is a candidate month too.
    bps = sorted(set(policy.breakpoints("min_months")) | set(policy.breakpoints("min_wages")))
    extra = [np.flatnonzero((S < b) & (b <= upper)) * _STRIDE + b for b in bps]
    extra = [e for e in extra if len(e)]
    if extra:
        ek = np.concatenate(extra)
        key = np.concatenate([key, ek])
        cents = np.concatenate([cents, np.zeros(len(ek), np.int64)])
        flag = np.concatenate([flag, np.zeros(len(ek), np.int64)])
        order = np.argsort(key, kind="stable")
        key, cents, flag = key[order], cents[order], flag[order]

    cf0 = np.r_[0, np.cumsum(flag)]
    cc0 = np.r_[0, np.cumsum(cents)]
    pid_r, mon_r = key // _STRIDE, key % _STRIDE
    lo_m = np.where(rolling[pid_r], np.maximum(S[pid_r], mon_r - wm[pid_r] + 1), S[pid_r])
    lo_i = np.searchsorted(key, pid_r * _STRIDE + lo_m, side="left")
    hi_i = np.arange(1, len(key) + 1)
    cnt = cf0[hi_i] - cf0[lo_i]
    tot = cc0[hi_i] - cc0[lo_i]
    need_m = policy.lookup("min_months", mon_r)
    need_c = np.rint(policy.lookup("min_wages", mon_r) * 100)
    ok = np.flatnonzero((cnt >= need_m) & (tot >= need_c))
    Q = np.full(n, np.nan)
    q_cnt = np.zeros(n, np.int64)
    q_cents = np.zeros(n, np.int64)
    if len(ok):
        u, first = np.unique(pid_r[ok], return_index=True)  # rows are in month order per pair
        at = ok[first]
        Q[u], q_cnt[u], q_cents[u] = mon_r[at], cnt[at], tot[at]

    # The window as of M for pairs without Q (agreement: S..upper; rolling: trailing, clipped at S).
    pids = np.arange(n, dtype=np.int64)
    lo = np.where(rolling, np.maximum(S, upper - wm + 1), S)
    a = np.searchsorted(key, pids * _STRIDE + lo, side="left")
    b = np.searchsorted(key, pids * _STRIDE + np.maximum(upper, lo - 1), side="right")
    b = np.maximum(a, b)
    has_q = ~np.isnan(Q)
    months = np.where(has_q, q_cnt, cf0[b] - cf0[a])
    total = np.where(has_q, q_cents, cc0[b] - cc0[a]) / 100.0
    return {
        "S": S, "S_ok": ~np.isnan(S_f), "E": E, "has_end": ~np.isnan(E_f), "wm": wm, "rolling": rolling,
        "wlast": wlast, "upper": upper, "closed": wlast <= M, "win_lo": lo, "Q": Q,
        "months": months.astype(np.int64), "wages": total,
    }


def _attach_workshops(lab: pd.DataFrame, workshops: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    ws = workshops.drop_duplicates("workshop_id", keep="first").set_index("workshop_id")
    idx = ws.index.get_indexer(lab["workshop_id"])
    found = idx >= 0
    out = {}
    for c in [*WORKSHOP_COLUMNS, "certified", "withdrawn"]:
        col = ws[c] if c in ws.columns else pd.Series(pd.NA, index=ws.index, dtype="object")
        out[c] = col.iloc[np.where(found, idx, 0)].where(found).reset_index(drop=True) if len(ws) else \
            pd.Series([None] * len(lab), dtype="object")
    ws_ok = found.copy()
    if "valid" in ws.columns and len(ws):
        ws_ok &= ws["valid"].fillna(False).astype(bool).to_numpy()[np.where(found, idx, 0)]
    return pd.DataFrame(out), ws_ok


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


def evaluate(ds: Dataset, month: int, policy: Policy, paid: pd.DataFrame | None = None) -> pd.DataFrame:
    """The decisions frame of DESIGN.md: one row per `ds.laborers` row, exactly one status each."""
    M = int(month)
    lab = ds.laborers.reset_index(drop=True)
    n = len(lab)
    w = qualify(lab, ds.wages, M, policy)
    wsd, ws_ok = _attach_workshops(lab, ds.workshops)
    S, Q, has_q = w["S"], w["Q"], ~np.isnan(w["Q"])
    # Parameters at Q, else at the last month evaluated (S when not started).
    R = np.where(has_q, np.nan_to_num(Q), np.maximum(S, w["upper"])).astype(np.int64)

    valid = lab["valid"].fillna(False).astype(bool).to_numpy() if "valid" in lab else np.ones(n, bool)
    invalid = ~valid | ~ws_ok | ~w["S_ok"]
    poor = lab["poor"].fillna(False).astype(bool).to_numpy()
    ct = lab["contract_type"].astype("object")
    ct_ok = np.zeros(n, bool)
    ct_pos = policy.positions("contract_types", R)
    for k, v in enumerate(policy.values("contract_types")):
        ct_ok |= (ct_pos == k) & ct.isin(v.value).to_numpy()
    age = _ages_at(lab["id_number"], lab["start"])
    min_age, max_age = policy.lookup("min_age", R), policy.lookup("max_age", R)
    age_bad = np.isnan(age) | (age < min_age) | (~np.isnan(max_age) & (age > max_age))
    no_q_open = ~has_q & ~w["closed"]
    no_q_closed = ~has_q & w["closed"]
    vf, vt = policy.lookup("valid_from", R), policy.lookup("valid_to", R)
    out_period = has_q & ((~np.isnan(vf) & (Q < vf)) | (~np.isnan(vt) & (Q > vt)))
    C = month_array(wsd["certified"])
    Wd = month_array(wsd["withdrawn"])
    P = np.where(has_q & ~np.isnan(C), np.fmax(Q, C), np.nan)
    not_cert = has_q & (np.isnan(C) | (P > M))
    withdrawn = has_q & ~np.isnan(Wd) & (Wd <= P)

    conds = [invalid, ~poor, ~ct_ok, age_bad, no_q_open, no_q_closed, out_period, not_cert, withdrawn]
    names = ["invalid_data", "not_poor", "contract_type", "age", "pending", "short", "out_of_period",
             "not_certified", "withdrawn"]
    status = np.select(conds, names, default="payable").astype(object)
    payable = status == "payable"

    # Once per person (SPEC §4.2 item 4), across all workshops and counties.
    pf = _paid_frame(paid)
    pair_key = lab["id_number"].astype(str) + "\x1f" + lab["workshop_id"].astype(str)
    paid_keys = pf["id_number"].astype(str) + "\x1f" + pf["workshop_id"].astype(str)
    is_paid_pair = pair_key.isin(paid_keys).to_numpy()
    paid_person = lab["id_number"].isin(pf["id_number"]).to_numpy()
    once = policy.lookup("once_per_person", R) > 0.5
    status[payable & is_paid_pair] = "paid"
    status[payable & ~is_paid_pair & once & paid_person] = "duplicate"
    contest = payable & ~is_paid_pair & once & ~paid_person
    order = pd.DataFrame({"id": lab["id_number"], "P": P, "Q": Q, "ws": lab["workshop_id"],
                          "i": np.arange(n)})[contest]
    order = order.sort_values(["id", "P", "Q", "ws", "i"], kind="stable")
    winner_rows = order.drop_duplicates("id", keep="first")["i"].to_numpy()
    losers = np.setdiff1d(order["i"].to_numpy(), winner_rows)
    status[losers] = "duplicate"
    status[status == "payable"] = "eligible"

    amount = np.where(status == "eligible", policy.lookup("amount", np.nan_to_num(Q).astype(np.int64)), 0.0)
    paid_amt = pd.Series(pd.to_numeric(pf["amount"], errors="coerce").to_numpy(), index=paid_keys)
    paid_amt = paid_amt[~paid_amt.index.duplicated()]
    is_paid_status = status == "paid"
    amount[is_paid_status] = paid_amt.reindex(pair_key[is_paid_status]).fillna(0.0).to_numpy()
    full_amount = amount.copy()
    cap = policy.lookup("cap_per_workshop", np.nan_to_num(Q).astype(np.int64))
    capped = _apply_cap(lab, status, amount, cap, P, Q)

    need_m = policy.lookup("min_months", R)
    need_w = policy.lookup("min_wages", R)
    gap = (status == "pending") | (status == "short")
    short_m = pd.array(np.where(gap, np.maximum(need_m - w["months"], 0), 0), dtype="Int64")
    short_m[~gap] = pd.NA
    short_w = np.where(gap, np.maximum(need_w - w["wages"], 0.0), np.nan)

    d = pd.DataFrame({
        "id_number": lab["id_number"], "name": lab["name"], "workshop_id": lab["workshop_id"],
    })
    for c in WORKSHOP_COLUMNS:
        d[c] = wsd[c].to_numpy()
    for c in ["poor", "relocated", "contract_type", "start", "end"]:
        d[c] = lab[c] if c in lab else pd.NA
    d["start_month"] = pd.array(np.where(w["S_ok"], S, 0), dtype="Int64")
    d.loc[~w["S_ok"], "start_month"] = pd.NA
    d["status"] = status
    d["qualified_month"] = pd.array(Q, dtype="Int64") if n else pd.array([], dtype="Int64")
    d["payable_month"] = pd.array(P, dtype="Int64") if n else pd.array([], dtype="Int64")
    d["months"] = w["months"]
    d["wages"] = w["wages"]
    d["amount"] = amount
    d["short_months"] = short_m
    d["short_wages"] = short_w
    d["_src"] = lab["_src"] if "_src" in lab else 0
    d["_row"] = lab["_row"] if "_row" in lab else 0

    ctx = {
        "M": M, "w": w, "R": R, "C": C, "Wd": Wd, "P": P, "age": age, "min_age": min_age, "max_age": max_age,
        "vf": vf, "vt": vt, "need_m": need_m, "need_w": need_w, "ws_found": ws_ok, "valid": valid,
        "invalid_reason": lab["invalid_reason"] if "invalid_reason" in lab else pd.Series([None] * n),
        "ct_pos": ct_pos, "ct_values": policy.values("contract_types"),
        "pf": pf, "winners": lab.iloc[winner_rows][["id_number", "workshop_id"]].assign(P=P[winner_rows]),
        "ws_names": ds.workshops.drop_duplicates("workshop_id").set_index("workshop_id")["workshop_name"],
        "full_amount": full_amount, "capped": capped, "cap": cap,
    }
    d["reason"] = build_reasons(d, ctx)
    d.index = ds.laborers.index
    return d[DECISION_COLUMNS]


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
