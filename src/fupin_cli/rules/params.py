"""Which month each policy parameter is read at, and the values every pair used.

The window's shape must be fixed before any month is counted, so `window_months` and
`window_anchor` are read at the start month S. `min_months`/`min_wages` decide Q as they stood in
each candidate month (windows.qualify); for the decision and its reason they — and every other
parameter — are read at the decision month R: Q, or for a pair without Q the last month evaluated
(min(window end, M)), or S if the agreement has not started.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from fupin_cli.policy import Policy
from fupin_cli.rules.windows import Windows

AT_START: tuple[str, ...] = ("window_months", "window_anchor")
AT_DECISION: tuple[str, ...] = ("min_months", "min_wages", "amount", "contract_types", "min_age", "max_age",
                                "valid_from", "valid_to", "once_per_person", "cap_per_workshop", "categories",
                                "min_monthly_wage", "workshop_min_targets")


def decision_month(w: Windows) -> np.ndarray:
    """R per pair: Q, else the last month evaluated (S when the agreement has not started)."""
    return np.where(w.has_q, np.nan_to_num(w.qualified), np.maximum(w.start, w.upper)).astype(np.int64)


@dataclass(frozen=True)
class ParamsUsed:
    """Per pair, the value of every decision parameter as read at `read_at` (NaN: not set)."""

    read_at: np.ndarray  # R
    min_months: np.ndarray
    min_wages: np.ndarray
    amount: np.ndarray
    min_age: np.ndarray
    max_age: np.ndarray
    valid_from: np.ndarray
    valid_to: np.ndarray
    once_per_person: np.ndarray  # bool
    cap_per_workshop: np.ndarray
    contract_pos: np.ndarray  # index into policy.values("contract_types")
    contract_values: list[Any]
    category_pos: np.ndarray  # index into policy.values("categories") (-1: not set, the default)
    male: np.ndarray  # sex from the ID number's 17th digit (odd = 男), for max_age by sex

    @classmethod
    def read(cls, policy: Policy, w: Windows, male: np.ndarray) -> ParamsUsed:
        R = decision_month(w)
        num = {name: policy.lookup(name, R) for name in
               ("min_months", "min_wages", "amount", "min_age", "valid_from", "valid_to", "cap_per_workshop")}
        return cls(read_at=R, **num, max_age=policy.lookup_by_sex("max_age", R, male),
                   once_per_person=policy.lookup("once_per_person", R) > 0.5,
                   contract_pos=policy.positions("contract_types", R),
                   contract_values=policy.values("contract_types"),
                   category_pos=policy.positions("categories", R), male=male)


def read_month(name: str, start: int, decision: int) -> int:
    """The month at which parameter `name` is read for a pair with start S and decision month R."""
    if name in AT_START:
        return start
    if name in AT_DECISION:
        return decision
    raise KeyError(name)
