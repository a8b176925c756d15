"""Windows, counted months and the qualification month Q of every pair (SPEC §4.2 items 1–2).

Wage rows are mapped to pairs, summed per pair and month, sorted by (pair, month), and running
counts/sums are read off global cumulative sums: a million wage rows take well under a second.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from fupin_cli.dataset import pair_keys
from fupin_cli.months import month_index_of
from fupin_cli.policy import Policy

STRIDE = 1 << 20  # key = pair * STRIDE + month; month indexes stay far below (year 87000)
NO_MONTH = STRIDE - 2  # "never": a missing end date, or a start that cannot be read


def month_array(s: pd.Series) -> np.ndarray:
    """datetime64 column → float month indexes (NaN where NaT), for numpy arithmetic."""
    return month_index_of(s).to_numpy(dtype=float, na_value=np.nan)


@dataclass(frozen=True)
class Windows:
    """Per pair (position in the laborer frame): the window and what it held as of M."""

    start: np.ndarray  # S, month of 协议起始日期 (NO_MONTH when unreadable)
    start_ok: np.ndarray
    end: np.ndarray  # month of 协议终止日期 (NO_MONTH when none)
    has_end: np.ndarray
    length: np.ndarray  # window_months, read at S
    rolling: np.ndarray  # window_anchor == "rolling", read at S
    calendar: np.ndarray  # window_anchor == "calendar_year", read at S (SPEC §4.3)
    period: np.ndarray  # the calendar year of a yearly entitlement (recurrence = "yearly"); NaN: none
    first: np.ndarray  # first month that can count: S, or January of the period (not before S)
    last: np.ndarray  # last possible month of the window (NO_MONTH: open, rolling without an end)
    upper: np.ndarray  # min(last, M): the last month that can count as of M
    closed: np.ndarray  # last <= M
    low: np.ndarray  # first month of the window as of M (agreement: S; rolling: trailing, clipped at S)
    qualified: np.ndarray  # Q as float, NaN when none
    months: np.ndarray  # counted months at Q, else of the window as of M
    wages: np.ndarray  # their pay, 元

    @property
    def has_q(self) -> np.ndarray:
        return ~np.isnan(self.qualified)


@dataclass(frozen=True)
class CountedMonths:
    """The months that count (pay > 0 inside the window as of M), long form keyed by pair.

    Rows are sorted by key = pair * STRIDE + month. Months where `min_months`/`min_wages` change
    are candidate months too: they sit here with weight 0 and no pay.
    """

    key: np.ndarray
    cents: np.ndarray  # the month's pay in cents (several rows summed)
    weight: np.ndarray  # 1 for a counted month, 0 for a threshold change
    run_months: np.ndarray  # counted months of the window ending at this month
    run_cents: np.ndarray  # their pay, cents
    _cum_months: np.ndarray  # cumulative sums with a leading 0, for window totals
    _cum_cents: np.ndarray

    def totals(self, pair: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Counted months and pay (cents) of `pair` in months lo..hi (empty when hi < lo)."""
        a = np.searchsorted(self.key, pair * STRIDE + lo, side="left")
        b = np.maximum(a, np.searchsorted(self.key, pair * STRIDE + np.maximum(hi, lo - 1), side="right"))
        return self._cum_months[b] - self._cum_months[a], self._cum_cents[b] - self._cum_cents[a]

    def frame(self) -> pd.DataFrame:
        """One row per counted month: pair, month, pay and the running totals of its window."""
        on = self.weight > 0
        return pd.DataFrame({"pair": self.key[on] // STRIDE, "month": self.key[on] % STRIDE,
                             "pay": self.cents[on] / 100.0, "months": self.run_months[on],
                             "wages": self.run_cents[on] / 100.0})


def wage_rows_of_pairs(lab: pd.DataFrame, wages: pd.DataFrame | None
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(pair, month, wage row) of every wage row with a readable month, and the cents of all rows."""
    empty = np.empty(0, np.int64)
    if wages is None or len(wages) == 0 or len(lab) == 0:
        return empty, empty, empty, empty
    lk, wk = pair_keys(lab, wages)
    month = pd.to_numeric(wages["month"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    pay = pd.to_numeric(wages["pay"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    cents = np.rint(np.nan_to_num(pay) * 100).astype(np.int64)  # exact sums: 5999.99 never becomes 6000
    present = np.sort(lk[lk >= 0])
    if not (present[1:] == present[:-1]).any():  # every pair on one laborer row
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
    return pid[keep], mo[keep].astype(np.int64), w_row[keep], cents


def sum_per_month(pid: np.ndarray, mo: np.ndarray, cents: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted unique keys (pair*STRIDE + month) and the summed cents of each."""
    key = pid * STRIDE + mo
    order = np.argsort(key, kind="stable")
    key, c = key[order], cents[order]
    if len(key) == 0:
        return key, c
    starts = np.r_[0, np.flatnonzero(np.diff(key)) + 1]
    return key[starts], np.add.reduceat(c, starts)  # several rows in one month are summed


def floor_cents(policy: Policy, months: np.ndarray) -> np.ndarray:
    """`min_monthly_wage` in force in each month, in cents (0 when not set)."""
    if not policy.values("min_monthly_wage"):
        return np.zeros(len(months), np.int64)
    return np.rint(policy.lookup("min_monthly_wage", months, none=0.0) * 100).astype(np.int64)


def _counted_keys(lab: pd.DataFrame, wages: pd.DataFrame | None, first: np.ndarray, upper: np.ndarray,
                  policy: Policy) -> tuple[np.ndarray, np.ndarray]:
    """Sorted keys and cents of the months that count: pay > 0 and ≥ the monthly floor, inside
    [first, upper]. Yearly entitlements of one pair are rows of `lab` with the same pair: each gets its pay."""
    pid, mo, w_row, cents = wage_rows_of_pairs(lab, wages)
    keep = (mo >= first[pid]) & (mo <= upper[pid])  # before S, after the end / window / M: not counted
    key, c = sum_per_month(pid[keep], mo[keep], cents[w_row[keep]])
    # A month counts when its pay > 0 and reaches the floor in force that month (SPEC §4.3).
    pos = (c > 0) & (c >= floor_cents(policy, key % STRIDE))
    return key[pos], c[pos]




def _with_threshold_changes(key: np.ndarray, cents: np.ndarray, S: np.ndarray, upper: np.ndarray,
                            policy: Policy) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Add a weight-0 candidate month wherever min_months/min_wages change inside a window."""
    weight = np.ones(len(key), np.int64)
    bps = sorted(set(policy.breakpoints("min_months")) | set(policy.breakpoints("min_wages")))
    extra = [np.flatnonzero((S < b) & (b <= upper)) * STRIDE + b for b in bps]
    extra = [e for e in extra if len(e)]
    if not extra:
        return key, cents, weight
    ek = np.concatenate(extra)
    key = np.concatenate([key, ek])
    cents = np.concatenate([cents, np.zeros(len(ek), np.int64)])
    weight = np.concatenate([weight, np.zeros(len(ek), np.int64)])
    order = np.argsort(key, kind="stable")
    return key[order], cents[order], weight[order]


def _shape(lab: pd.DataFrame, M: int, policy: Policy, period: np.ndarray | None) -> dict[str, np.ndarray]:
    """Start, end, length, anchor and last possible month of every pair's window.

    `agreement`: S … S+wm-1; `rolling` and `calendar_year` (once): any month up to the end date, the
    window being the trailing wm months or the calendar year so far; a yearly entitlement's window
    is its calendar year, clipped to the agreement."""
    S_f = month_array(lab["start"])
    E_f = month_array(lab["end"])
    S = np.where(np.isnan(S_f), NO_MONTH, S_f).astype(np.int64)
    E = np.where(np.isnan(E_f), NO_MONTH, E_f).astype(np.int64)
    wm = policy.lookup("window_months", S).astype(np.int64)
    pos = policy.positions("window_anchor", S)
    rolling = np.array([v.value == "rolling" for v in policy.values("window_anchor")])[pos]
    calendar = np.array([v.value == "calendar_year" for v in policy.values("window_anchor")])[pos]
    if period is None:
        per = np.full(len(S), np.nan)
        first = S
        wlast = np.where(rolling | calendar, E, np.minimum(S + wm - 1, E))
    else:
        per = period.astype(float)
        y0 = period.astype(np.int64) * 12
        first = np.where(S == NO_MONTH, S, np.maximum(S, y0))
        wlast = np.where(S == NO_MONTH, S, np.minimum(y0 + 11, E))
        calendar = np.zeros(len(S), bool)  # the period is the calendar year: a fixed window
    return {"start": S, "start_ok": ~np.isnan(S_f), "end": E, "has_end": ~np.isnan(E_f), "length": wm,
            "rolling": rolling, "calendar": calendar, "period": per, "first": first, "last": wlast,
            "upper": np.minimum(wlast, M), "closed": wlast <= M}


def window_low(first: np.ndarray, rolling: np.ndarray, calendar: np.ndarray, wm: np.ndarray, m: np.ndarray
               ) -> np.ndarray:
    """First month of the window that ends in month m (rolling: trailing wm months; calendar_year:
    January of m's year; otherwise the window's first month), never before `first`."""
    return np.where(rolling, np.maximum(first, m - wm + 1),
                    np.where(calendar, np.maximum(first, (m // 12) * 12), first))


def qualify(lab: pd.DataFrame, wages: pd.DataFrame | None, month: int, policy: Policy,
            period: np.ndarray | None = None) -> tuple[Windows, CountedMonths]:
    """Windows and the qualification month Q of every pair, vectorised. With `period` (yearly
    entitlements, SPEC §4.3), `lab` has one row per (pair, calendar year)."""
    n = len(lab)
    w = _shape(lab, int(month), policy, period)
    f0, wm, rolling, calendar, upper = w["first"], w["length"], w["rolling"], w["calendar"], w["upper"]
    key, cents = _counted_keys(lab, wages, f0, upper, policy)
    key, cents, weight = _with_threshold_changes(key, cents, f0, upper, policy)

    cf0 = np.r_[0, np.cumsum(weight)]
    cc0 = np.r_[0, np.cumsum(cents)]
    pid_r, mon_r = key // STRIDE, key % STRIDE
    lo_m = window_low(f0[pid_r], rolling[pid_r], calendar[pid_r], wm[pid_r], mon_r)
    lo_i = np.searchsorted(key, pid_r * STRIDE + lo_m, side="left")
    hi_i = np.arange(1, len(key) + 1)
    cnt = cf0[hi_i] - cf0[lo_i]
    tot = cc0[hi_i] - cc0[lo_i]
    counted = CountedMonths(key=key, cents=cents, weight=weight, run_months=cnt, run_cents=tot,
                            _cum_months=cf0, _cum_cents=cc0)
    # Thresholds as they stood in each candidate month.
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

    # The window as of M for pairs without Q (agreement: S..upper; rolling: trailing, clipped at S;
    # calendar_year: the year of `upper` so far).
    lo = window_low(f0, rolling, calendar, wm, upper)
    m_cnt, m_cents = counted.totals(np.arange(n, dtype=np.int64), lo, upper)
    has_q = ~np.isnan(Q)
    months = np.where(has_q, q_cnt, m_cnt)
    total = np.where(has_q, q_cents, m_cents) / 100.0
    windows = Windows(**w, low=lo, qualified=Q, months=months.astype(np.int64), wages=total)
    return windows, counted
