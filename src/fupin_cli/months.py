"""Months: integer month indexes (year * 12 + month - 1) and every conversion to and from text.

Every stage passes months as these integers so that windows and comparisons stay vectorised; this
module is the one place that turns them into text ("2019-03" keys, "2019年3月" for people) and back.
(The ledger's SQL has its own `ledger.sql.month_index_sql`, the same formula in SQLite.)
"""

from __future__ import annotations

import re
from datetime import date

import pandas as pd

from fupin_cli.errors import FupinError

_ARG = re.compile(r"^\s*(\d{4})\s*[-/.年]?\s*(\d{1,2})\s*月?\s*$")


def month_index(year: int, month: int) -> int:
    return year * 12 + month - 1


def month_of(d: date) -> int:
    return month_index(d.year, d.month)


def format_month(idx: int) -> str:
    """2019-03 style, the key format used in JSON and files."""
    y, m = divmod(int(idx), 12)
    return f"{y:04d}-{m + 1:02d}"


def format_month_cn(idx: int) -> str:
    """2019年3月 style for titles and messages."""
    y, m = divmod(int(idx), 12)
    return f"{y}年{m + 1}月"


def format_months(s: pd.Series) -> list:
    """Month indexes → "YYYY-MM" (None where missing), formatting each distinct month once."""
    cache = {int(m): format_month(int(m)) for m in pd.unique(s.dropna())}
    return [None if pd.isna(v) else cache[int(v)] for v in s.tolist()]


def parse_month_key(text: str) -> int:
    """A stored "YYYY-MM" key (ledger, JSON) → month index; the inverse of `format_month`."""
    y, m = str(text).split("-")
    return month_index(int(y), int(m))


def parse_month_arg(text: str) -> int:
    """Parse a --month option (2019-03, 2019/3, 201903, 2019年3月); raise a usage error otherwise."""
    m = _ARG.match(str(text))
    if m is None or not 1 <= int(m.group(2)) <= 12:
        raise FupinError(f"月份“{text}”无法识别,请写成 2019-03 这样的格式", code="usage.month")
    return month_index(int(m.group(1)), int(m.group(2)))


def month_index_of(dates: pd.Series) -> pd.Series:
    """A date column → month indexes (Int64, NA where there is no date): the one conversion every stage uses."""
    d = pd.to_datetime(dates)
    return (d.dt.year * 12 + d.dt.month - 1).astype("Int64")


def previous_month(today: date) -> int:
    return month_of(today) - 1


def period_texts(frame: pd.DataFrame) -> list:
    """The `period` column as JSON values: "2023" for a yearly entitlement (SPEC §4.3), else None."""
    if "period" not in frame:
        return [None] * len(frame)
    return [None if v is None or pd.isna(v) else str(v) for v in frame["period"]]
