"""One laborer's agreement and monthly pay, per role: the wage patterns that decide the rule's outcome.

Months are month indexes. Each pattern is built so that its outcome under the default policy gx-2018
(12-month window from the agreement's start month, ≥ 6 months with pay > 0 and ≥ 6000 元 in it,
桂人社发〔20__〕82号 as summarised in SPEC §4) is clear-cut, with margin, whatever month it is read at:

- `qualifying(k)`: exactly 5 paid months among S…S+k-1 (k-5 gap months) and a paid month S+k, every paid
  month ≥ 1100 元: the 6th paid month comes at S+k with ≥ 6600 元, so Q = S+k exactly, never earlier.
- `few`: at most 4 paid months in all: fails "6 months" in any window.
- `low`: every month ≤ 450 元: at most 5400 元 in any 12 months, fails "6000 元".
- `recent`: starts in the last 5 months of the data: at most 5 paid months by the data's last month.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Pair:
    """One 人员 row (laborer × workshop) with its pay months."""

    person: int  # index into the county's persons
    workshop: int  # index into the county's workshops
    role: str
    start: int
    start_day: int
    end: int | None = None  # month of 协议终止日期 (last day of that month)
    months: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    pays: np.ndarray = field(default_factory=lambda: np.zeros(0))
    qualified: int | None = None  # Q by construction (qualifying patterns only)
    planted: str = ""

    def truncate(self, last: int) -> None:
        """The agreement ends with month `last` (the laborer moved on)."""
        keep = self.months <= last
        self.months, self.pays = self.months[keep], self.pays[keep]
        self.end = last


def money(rng: np.random.Generator, lo: float, hi: float, n: int) -> np.ndarray:
    return np.round(rng.uniform(lo, hi, n) * 2) / 2  # to 0.5 元, as payrolls are


def qualifying(rng: np.random.Generator, start: int, k: int, pay: tuple[int, int], last: int,
               extra_months: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Months, pays and Q = start + k. Gap months are written as 0 or left out (both do not count)."""
    assert k >= 5 and pay[0] >= 1100
    gaps = set((start + 1 + rng.choice(k - 1, k - 5, replace=False)).tolist())
    q = start + k
    months = np.arange(start, min(q + extra_months, last) + 1)
    pays = money(rng, pay[0], pay[1], len(months))
    is_gap = np.isin(months, list(gaps))
    pays[is_gap] = 0.0
    write_zero = rng.random(len(months)) < 0.5
    keep = ~is_gap | write_zero
    return months[keep], pays[keep], q


def few(rng: np.random.Generator, start: int, pay: tuple[int, int], last: int) -> tuple[np.ndarray, np.ndarray]:
    n = int(rng.integers(1, 5))
    months = np.arange(start, min(start + n - 1, last) + 1)
    return months, money(rng, max(pay[0], 1000), max(pay[1], 2000), len(months))


def low(rng: np.random.Generator, start: int, last: int) -> tuple[np.ndarray, np.ndarray]:
    months = np.arange(start, min(start + int(rng.integers(4, 15)), last) + 1)
    return months, money(rng, 200, 450, len(months))


def recent(rng: np.random.Generator, start: int, pay: tuple[int, int], last: int) -> tuple[np.ndarray, np.ndarray]:
    assert start >= last - 4
    months = np.arange(start, last + 1)
    return months, money(rng, max(pay[0], 1200), max(pay[1], 2600), len(months))


def ordinary(rng: np.random.Generator, start: int, last: int) -> tuple[np.ndarray, np.ndarray]:
    """A non-poor laborer: any length, ordinary or high pay, the odd month off."""
    # Most are still at work at the end of the data; the others left after a while.
    stays = rng.random() < 0.6
    months = np.arange(start, last + 1 if stays else start + int(rng.integers(1, last - start + 2)))
    high = rng.random() < 0.15
    pays = money(rng, 4000, 6800, len(months)) if high else money(rng, 1500, 3600, len(months))
    off = rng.random(len(months)) < 0.05
    return months[~off], pays[~off]
