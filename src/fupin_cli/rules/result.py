"""The typed result of `rules.evaluate`: one object that reasons, explain and the documents read.

`Evaluation` keeps what the vectorised rule computed — columnar arrays per pair and the counted
months in long form — and builds pydantic per-pair traces (`PairRecord`) only on demand, for the
few pairs `explain` shows. Nothing here re-decides: a trace reads the arrays of the evaluation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel

from fupin_cli.policy import Policy
from fupin_cli.rules.params import AT_DECISION, AT_START, ParamsUsed, read_month
from fupin_cli.rules.windows import (
    NO_MONTH,
    STRIDE,
    CountedMonths,
    Windows,
    floor_cents,
    sum_per_month,
    wage_rows_of_pairs,
    window_low,
)

# Why a month with pay (or inside the window) did not count, in the order the checks apply.
NotCounted = Literal["before_start", "after_end", "outside_window", "after_month", "no_pay", "below_floor"]


@dataclass(frozen=True)
class WorkshopFacts:
    """Per pair, what the rule used of its workshop."""

    found: np.ndarray  # the workshop exists and its row is valid
    certified: np.ndarray  # C, month of 认定日期 (NaN: none)
    withdrawn: np.ndarray  # Wd, month of 撤销日期 (NaN: none)
    certified_date: pd.Series  # the dates themselves, for display
    withdrawn_date: pd.Series
    names: pd.Series  # workshop_id → 车间名称 (all workshops)


@dataclass(frozen=True)
class OncePerPerson:
    """Once per person (SPEC §4.2 item 4): the ledger's earlier payments and this run's winners."""

    paid: pd.DataFrame  # id_number, workshop_id, amount, batch_id, batch_month (by batch month)
    winners: pd.DataFrame  # id_number, workshop_id, P of the pair that won a contest this run


@dataclass
class Evaluation:
    """Everything `evaluate` decided, per pair (positions 0…n-1 of the laborer frame).

    `decisions` is the frame of DESIGN.md (index = the laborer frame's index); the other fields are
    the figures behind each decision, aligned with its rows.
    """

    month: int
    policy: Policy
    decisions: pd.DataFrame
    windows: Windows
    counted: CountedMonths
    params: ParamsUsed
    workshop: WorkshopFacts
    payable: np.ndarray  # P = max(Q, C) (NaN: no Q or not certified)
    age: np.ndarray  # full years at the agreement's start (NaN: unreadable)
    valid: np.ndarray  # the laborer row passed validation
    invalid_reason: list[Any]
    checks: dict[str, np.ndarray]  # status → its condition, for the statuses a pair's own data decides
    once: OncePerPerson
    full_amount: np.ndarray  # amount before the workshop cap
    capped: np.ndarray  # the cap reduced the amount
    # Per-period entitlements (recurrence = "yearly", SPEC §4.3) will carry a period per pair; today
    # every pair has one entitlement for the whole policy, so there is none.
    period: np.ndarray | None = None
    laborers: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)  # reset index
    wages: pd.DataFrame | None = field(default=None, repr=False)
    gate: Any = None  # rules.gate.Gate when the policy has workshop_min_targets
    rows: np.ndarray | None = None  # yearly: the laborer row (position) of each entitlement
    payable_before_gate: np.ndarray | None = None  # P0 = max(Q, 认定月)

    def positions(self, index: pd.Index) -> np.ndarray:
        """Positions of the decisions of the given labels of the laborer frame's index (all periods
        of a row under yearly recurrence, in order)."""
        if self.rows is None:
            return self.decisions.index.get_indexer(index)
        return np.flatnonzero(self.decisions.index.isin(index))

    def read_at(self, name: str) -> np.ndarray:
        """Per pair, the month at which parameter `name` was read (S or R, rules/params.py)."""
        return np.array([read_month(name, s, r) for s, r in
                         zip(self.windows.start.tolist(), self.params.read_at.tolist(), strict=True)], np.int64)

    def sources(self, name: str) -> np.ndarray:
        """Per pair, the source (文号) of the value of parameter `name` that was used."""
        table = np.array([v.source for v in self.policy.values(name)] or ["未设定"], dtype=object)
        return table[np.maximum(self.policy.positions(name, self.read_at(name)), 0)]

    def traces(self, positions: np.ndarray) -> list[PairRecord]:
        """Per-pair traces, month by month, for the pairs at `positions`."""
        return build_traces(self, np.asarray(positions, dtype=np.int64))


class MonthRecord(BaseModel):
    month: int
    pay: float  # pay recorded for the pair in the month (several rows summed), 元
    has_pay_row: bool
    counted: bool  # counts towards the window as of M
    not_counted: NotCounted | None  # why not (None when counted)
    floor: float | None = None  # min_monthly_wage in force that month (None: no floor)
    targets: int | None = None  # workshop_min_targets: the workshop's target laborers that month
    targets_needed: int | None = None  # the threshold in force that month
    months: int | None  # counted months of the window ending here (None: outside the window as of M)
    wages: float | None  # their pay
    qualifying: bool  # this is Q


class ParamRecord(BaseModel):
    name: str
    value: Any
    read_at: int  # month whose value was used
    since: str | None  # `from` of that value; None if not set
    source: str  # 文号 or URL


class PairRecord(BaseModel):
    position: int
    period: str | None = None  # per-period entitlements (SPEC §4.3); None under recurrence = "once"
    start: int | None  # S (None: unreadable start)
    window_start: int | None = None  # first month that can count (S, or January of the period)
    end: int | None
    anchor: Literal["agreement", "rolling", "calendar_year"] | None
    window_last: int | None  # last possible month; None: open (rolling without an end)
    upper: int | None  # min(window_last, M)
    certified: dt.date | None
    withdrawn: dt.date | None
    months: list[MonthRecord]
    params: list[ParamRecord]
    qualified_month: int | None
    payable_month: int | None
    months_counted: int
    wages: float
    amount: float
    status: str
    reason: str


def _opt_month(v: float) -> int | None:
    return None if np.isnan(v) else int(v)


def _opt_date(v: Any) -> dt.date | None:
    return None if v is None or pd.isna(v) else pd.Timestamp(v).date()


def _not_counted(m: int, pay: float, first: int, end: int | None, last: int | None, M: int, floor: float
                 ) -> NotCounted | None:
    if m < first:
        return "before_start"
    if end is not None and m > end:
        return "after_end"
    if last is not None and m > last:
        return "outside_window"
    if m > M:
        return "after_month"
    if pay <= 0:
        return "no_pay"
    return "below_floor" if pay < floor else None


def _month_records(ev: Evaluation, i: int, pay: dict[int, float]) -> list[MonthRecord]:
    """The window's months and every month with pay; months outside the window without pay are left
    out, and a yearly entitlement shows only its own calendar year."""
    w, M = ev.windows, ev.month
    first, wm = int(w.first[i]), int(w.length[i])
    rolling, calendar = bool(w.rolling[i]), bool(w.calendar[i])
    end = int(w.end[i]) if w.has_end[i] else None
    last = None if w.last[i] >= NO_MONTH else int(w.last[i])
    upper = int(w.upper[i])
    open_end = rolling or calendar or last is None  # no fixed end: up to min(end, M)
    table_end = upper if open_end else last
    if not np.isnan(w.period[i]):
        pay = {m: p for m, p in pay.items() if first <= m <= (last if last is not None else upper)}
    Q = _opt_month(w.qualified[i])
    cm = ev.counted
    a, b = np.searchsorted(cm.key, [i * STRIDE, (i + 1) * STRIDE])
    counted = set((cm.key[a:b][cm.weight[a:b] > 0] % STRIDE).tolist())
    months = range(min([first, *pay]), max([table_end, first, *pay]) + 1)
    floors = dict(zip(months, (floor_cents(ev.policy, np.array(months, np.int64)) / 100.0).tolist(), strict=True))
    heads = dict(zip(months, ev.gate.month_counts(i, list(months)), strict=True)) if ev.gate is not None else {}
    out = []
    for m in months:
        if not first <= m <= table_end and m not in pay:
            continue
        head, need = heads.get(m, (None, None))
        p = pay.get(m, 0.0)
        run_m = run_w = None
        if first <= m <= upper:
            lo = window_low(np.array([first]), np.array([rolling]), np.array([calendar]), np.array([wm]),
                            np.array([m]))
            c, cents = ev.counted.totals(np.array([i]), lo, np.array([m]))
            run_m, run_w = int(c[0]), int(cents[0]) / 100.0
        is_counted = m in counted  # from the evaluation's counted months, never re-decided here
        # Only the wording of "why not" is classified here (no pay, or pay below the monthly floor).
        why = None if is_counted else _not_counted(m, p, first, end, last, M, floors[m]) or "no_pay"
        out.append(MonthRecord(month=m, pay=p, has_pay_row=m in pay, counted=is_counted, not_counted=why,
                               floor=floors[m] or None, targets=head, targets_needed=need, months=run_m,
                               wages=run_w, qualifying=m == Q))
    return out


def _param_records(ev: Evaluation, i: int) -> list[ParamRecord]:
    S, R = int(ev.windows.start[i]), int(ev.params.read_at[i])
    out = []
    for name in (*AT_START, *AT_DECISION):
        at = read_month(name, S, R)
        v = ev.policy.at(name, at)
        out.append(ParamRecord(name=name, value=v.value, read_at=at, since=v.from_text or None, source=v.source))
    return out


def _pay_by_month(ev: Evaluation, positions: np.ndarray) -> dict[int, dict[int, float]]:
    """pair → {month: pay} of every wage row of the pairs (any month, counted or not)."""
    pid, mo, w_row, cents = wage_rows_of_pairs(ev.laborers, ev.wages)
    keep = np.isin(pid, positions)
    key, c = sum_per_month(pid[keep], mo[keep], cents[w_row[keep]])
    out: dict[int, dict[int, float]] = {int(p): {} for p in positions}
    for p, m, cents in zip((key // STRIDE).tolist(), (key % STRIDE).tolist(), c.tolist(), strict=True):
        out[p][m] = cents / 100.0
    return out


def _anchor(w: Windows, i: int) -> Literal["agreement", "rolling", "calendar_year"]:
    if w.rolling[i]:
        return "rolling"
    return "calendar_year" if w.calendar[i] or not np.isnan(w.period[i]) else "agreement"


def _period(w: Windows, i: int) -> str | None:
    return None if np.isnan(w.period[i]) else str(int(w.period[i]))


def build_traces(ev: Evaluation, positions: np.ndarray) -> list[PairRecord]:
    pays = _pay_by_month(ev, positions)
    d, w = ev.decisions, ev.windows
    out = []
    for i in positions.tolist():
        row = d.iloc[i]
        ok = bool(w.start_ok[i])
        out.append(PairRecord(
            position=i, start=int(w.start[i]) if ok else None,
            end=int(w.end[i]) if w.has_end[i] else None,
            anchor=_anchor(w, i) if ok else None, period=_period(w, i),
            window_start=int(w.first[i]) if ok else None,
            window_last=None if not ok or w.last[i] >= NO_MONTH else int(w.last[i]),
            upper=int(w.upper[i]) if ok else None,
            certified=_opt_date(ev.workshop.certified_date.iloc[i]),
            withdrawn=_opt_date(ev.workshop.withdrawn_date.iloc[i]),
            months=_month_records(ev, i, pays[i]) if ok else [],
            params=_param_records(ev, i) if ok else [],
            qualified_month=_opt_month(w.qualified[i]), payable_month=_opt_month(ev.payable[i]),
            months_counted=int(row["months"]), wages=float(row["wages"]), amount=float(row["amount"]),
            status=str(row["status"]), reason=str(row["reason"]),
        ))
    return out
