"""`workshop_min_targets` (SPEC §4.3): a pair is payable only in a month in which its workshop has at
least that many distinct target laborers with an agreement running that month.

Target laborers are valid 人员 rows whose laborer is in a category the policy counts in that month;
age, contract type and pay do not matter. Per workshop and month the head-count is a difference
array summed along the months; P is then the first month ≥ max(Q, 认定月) where the count reaches
the threshold in force that month.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from fupin_cli.categories import DEFAULT_CATEGORY, has_category
from fupin_cli.policy import Policy
from fupin_cli.rules.windows import Windows

HISTORY = 600  # months before M that can matter (50 years: every real agreement)


@dataclass(frozen=True)
class Gate:
    """Per pair: the first month ≥ P0 meeting the threshold (NaN: none ≤ M), and at M the workshop's
    head-count and the threshold, for the reason."""

    payable: np.ndarray
    count_at_m: np.ndarray
    need_at_m: np.ndarray
    codes: np.ndarray  # per pair, its workshop's row in `counts`
    counts: np.ndarray  # head-count per workshop (rows) and month (columns from `base` to M)
    need: np.ndarray  # the threshold per month (columns as `counts`)
    base: int

    def month_counts(self, i: int, months: list[int]) -> list[tuple[int | None, int | None]]:
        """(head-count, threshold) of pair i's workshop in each month (None outside base…M)."""
        span = self.counts.shape[1]
        out: list[tuple[int | None, int | None]] = []
        for m in months:
            j = m - self.base
            ok = 0 <= j < span and self.codes[i] >= 0
            out.append((int(self.counts[self.codes[i], j]), int(self.need[j])) if ok else (None, None))
        return out


def in_categories(lab: pd.DataFrame, names: tuple[str, ...]) -> np.ndarray:
    """Per row: the laborer is in one of `names` (人员类别; without it 是否建档立卡 = 建档立卡贫困劳动力)."""
    if "categories" not in lab:
        poor = lab["poor"].fillna(False).astype(bool).to_numpy()
        return poor if DEFAULT_CATEGORY in names else np.zeros(len(lab), bool)
    cats = lab["categories"].fillna("")
    hit = np.zeros(len(lab), bool)
    for name in names:
        hit |= has_category(cats, name).to_numpy()
    return hit


def _category_spans(policy: Policy) -> list[tuple[int, int, tuple[str, ...]]]:
    """(first month, last month, categories) of each dated value (the first reaches back in time)."""
    vals = policy.values("categories")
    if not vals:
        return [(-(10**6), 10**6, (DEFAULT_CATEGORY,))]
    froms = [-(10**6)] + [int(v.from_) for v in vals[1:]]
    ends = [f - 1 for f in froms[1:]] + [10**6]
    return [(a, b, v.value) for a, b, v in zip(froms, ends, vals, strict=True)]


def workshop_gate(lab: pd.DataFrame, w: Windows, valid: np.ndarray, P0: np.ndarray, M: int,
                  policy: Policy) -> Gate:
    """See the module docstring. `lab` rows are pairs (one per entitlement: periods share a pair)."""
    codes, _ = pd.factorize(lab["workshop_id"])
    first_row = ~pd.Series(list(zip(lab["id_number"], lab["workshop_id"], strict=True))).duplicated().to_numpy()
    base = M - HISTORY + 1
    span = HISTORY
    n_ws = int(codes.max()) + 1 if len(codes) else 0
    diff = np.zeros((max(n_ws, 1), span + 1), np.int64)
    ok_row = valid & w.start_ok & (codes >= 0) & first_row  # each (laborer, workshop) counted once
    end = np.where(w.has_end, w.end, M)
    for a, b, names in _category_spans(policy):
        sel = ok_row & in_categories(lab, names)
        lo = np.maximum.reduce([w.start, np.full(len(lab), max(a, base))])
        hi = np.minimum.reduce([end, np.full(len(lab), min(b, M))])
        sel &= lo <= hi
        np.add.at(diff, (codes[sel], lo[sel] - base), 1)
        np.add.at(diff, (codes[sel], hi[sel] - base + 1), -1)
    counts = np.cumsum(diff, axis=1)[:, :span]
    months = np.arange(base, M + 1)
    need = policy.lookup("workshop_min_targets", months, none=0.0)
    ok = counts >= need[None, :]
    # next_ok[c, j]: the first month index ≥ j at which workshop c meets the threshold (span: none).
    idx = np.where(ok, np.arange(span)[None, :], span)
    next_ok = np.minimum.accumulate(idx[:, ::-1], axis=1)[:, ::-1]
    j = np.clip(np.nan_to_num(P0, nan=M + 1) - base, 0, span).astype(np.int64)
    c = np.maximum(codes, 0)
    found = (j < span) & ~np.isnan(P0)
    g = np.where(found, next_ok[c, np.minimum(j, span - 1)], span)
    payable = np.where(g < span, base + g, np.nan)
    return Gate(payable=payable.astype(float), count_at_m=counts[c, span - 1].astype(np.int64),
                need_at_m=np.full(len(lab), need[-1]), codes=codes, counts=counts, need=need, base=base)
