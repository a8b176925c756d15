"""Wide wage sheets (SPEC §3.3): one column per month, melted into long rows.

A month column is recognised from its header:
- a header that is itself a month (`2019年3月`, `2019-03`, `2019/3`, `2019.3`, `201903`,
  `2019年3月份`): `month` holds the header text as written (validation parses it);
- a date cell as header: `month` is "YYYY-MM" (the cell holds a date, not text);
- a month under a year group header (`2019年` over `1月`…`12月`, merged or typed once):
  `month` is "YYYY-MM" built from both.
`_pay_header` is the header text as the user reads it (`2019年/3月` for group + sub-header).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from fupin_cli.months import format_month, month_index

_YM = re.compile(r"^(\d{4})[-/.年](\d{1,2})(?:月份?)?$")
_YM6 = re.compile(r"^(\d{4})(\d{2})$")
_YEAR = re.compile(r"^(\d{4})(?:年度?|年份)?$")
_MON = re.compile(r"^(\d{1,2})(?:月份?)?$")
_WS = re.compile(r"\s+")


def _ok(year: int, month: int) -> bool:
    return 1990 <= year <= 2099 and 1 <= month <= 12


def cell_text(value: Any) -> str:
    """A header cell as text: integral floats without `.0`, dates as YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d")
    return str(value).strip()


def month_header(value: Any) -> str | None:
    """The month text of a header that is a month by itself, else None."""
    if isinstance(value, (datetime, date)):
        return format_month(month_index(value.year, value.month))
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and not value.is_integer():
        return None  # 2019.1 as a number is ambiguous (2019.10 loses its 0): not a month header
    text = cell_text(value)
    compact = _WS.sub("", text)
    m = _YM.match(compact) or _YM6.match(compact)
    if m and _ok(int(m.group(1)), int(m.group(2))):
        return text
    return None


def group_month(group: Any, sub: Any) -> str | None:
    """"YYYY-MM" when `group` is a year (`2019年`) and `sub` a month of it (`3月`, `3`), else None."""
    if isinstance(sub, float) and not sub.is_integer():
        return None
    g = _YEAR.match(_WS.sub("", cell_text(group)))
    s = _MON.match(_WS.sub("", cell_text(sub)))
    if g and s and _ok(int(g.group(1)), int(s.group(1))):
        return format_month(month_index(int(g.group(1)), int(s.group(1))))
    return None


@dataclass(frozen=True)
class MonthColumn:
    index: int  # 0-based physical column
    month: str  # value for the `month` column
    header: str  # value for `_pay_header`


def melt(
    fixed: dict[str, np.ndarray],
    months: list[MonthColumn],
    values: list[np.ndarray],
    rows: np.ndarray,
) -> pd.DataFrame:
    """Long rows from a wide sheet, vectorised per month column (never per row).

    `fixed`: the non-month columns (key → array, one entry per kept sheet row; dtypes are kept);
    `values[k]`: the cells of `months[k]`; `rows`: Excel row numbers. Empty cells (None, "",
    whitespace) give no row. Output is ordered by sheet row, then by column position.
    """
    picks: list[np.ndarray] = []
    for arr in values:
        filled = pd.notna(arr)
        is_str = np.fromiter((v.__class__ is str for v in arr), dtype=bool, count=len(arr)) \
            if arr.dtype == object else np.zeros(len(arr), dtype=bool)
        if is_str.any():
            blank = np.zeros(len(arr), dtype=bool)
            idx = np.flatnonzero(is_str)
            blank[idx] = [not arr[i].strip() for i in idx]
            filled &= ~blank
        picks.append(np.flatnonzero(filled))
    counts = [len(p) for p in picks]
    where = np.concatenate(picks) if picks else np.zeros(0, dtype=np.intp)
    col_no = np.repeat(np.arange(len(months)), counts)
    order = np.lexsort((col_no, where))  # stable: by row, then by month column
    where, col_no = where[order], col_no[order]
    pay = np.concatenate(values)[np.concatenate([p + k * len(rows) for k, p in enumerate(picks)])[order]] \
        if picks else np.zeros(0, dtype=object)
    month_text = np.array([m.month for m in months], dtype=object)
    header_text = np.array([m.header for m in months], dtype=object)
    out: dict[str, pd.Series] = {k: pd.Series(v[where], dtype=v.dtype) for k, v in fixed.items()}
    out["month"] = pd.Series(month_text[col_no], dtype=object)
    out["pay"] = pd.Series(pay, dtype=pay.dtype if pay.dtype.kind == "f" else object)
    out["_pay_header"] = pd.Series(header_text[col_no], dtype=object)
    out["_row"] = pd.Series(rows[where], dtype="int64")
    return pd.DataFrame(out)
