"""Dates and months as clerks write them (SPEC §3.3, §3.4): real dates, Excel serials and text."""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from fupin_cli.months import month_index, month_index_of
from fupin_cli.values.normaliser import (
    FULL2HALF,
    Issue,
    Normalised,
    elementwise,
    error,
    is_blank,
    is_number,
    issues_by_row,
    map_unique,
    show,
    strip_edges,
)

YEAR_MIN, YEAR_MAX = 1950, 2100
# Excel's 1900 date system: serial 1 = 1900-01-01 and Excel counts a phantom 1900-02-29, so for every
# serial ≥ 61 the date is 1899-12-30 + serial days. Only 5-digit serials are taken as dates
# (1927-05-18 … 2173-10-14): a 4-digit number is more likely a year or an amount than a date.
EXCEL_EPOCH = date(1899, 12, 30)
SERIAL_MIN, SERIAL_MAX = 10000, 99999

_TIME = r"(?:[\sT]+([0-9]{1,2}):([0-9]{1,2})(?::([0-9]{1,2})(?:\.[0-9]+)?)?)?"
_YMD = re.compile(r"([0-9]{4})\s*[-/.年]\s*([0-9]{1,2})\s*[-/.月]\s*([0-9]{1,2})\s*[日号]?" + _TIME)
_YMD_COMPACT = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})" + _TIME)
_SERIAL_TEXT = re.compile(r"[0-9]{5}(?:\.[0-9]+)?")
_YM = re.compile(r"([0-9]{4})\s*[-/.年]\s*([0-9]{1,2})\s*(?:月份?)?")
_YM_COMPACT = re.compile(r"([0-9]{4})([0-9]{2})")

MSG_DATE_UNPARSEABLE = "无法识别的日期,请写成 2019-03-05 或 2019年3月5日 这样的格式,或设为Excel日期格式"
MSG_DATE_INVALID = "{text}不是真实存在的日期,请核对后改正"
MSG_DATE_RANGE = "日期{text}的年份超出合理范围({lo}–{hi}年),请核对是否录错"
MSG_MONTH_UNPARSEABLE = "无法识别的月份,请写成 2019-03 或 2019年3月 这样的格式"
MSG_MONTH_INVALID = "月份应为1至12,这里是{m},请改正"
MSG_MONTH_RANGE = "月份{text}的年份超出合理范围({lo}–{hi}年),请核对是否录错"
MSG_MONTH_AMBIGUOUS = (
    "月份{text}是数字,无法区分是{y}年1月还是{y}年10月(Excel会把2019.10存成2019.1),"
    "请改写为 {y}-01 或 {y}-10 这样的文本"
)

_INVALID = "invalid"  # marker: the text has the shape of a date but names no real day


def _serial_date(f: float) -> date:
    return EXCEL_EPOCH + timedelta(days=math.floor(f))


def _ymd(y: str, m: str, d: str, hh: str | None, mm: str | None, ss: str | None) -> date | str:
    try:
        day = date(int(y), int(m), int(d))
    except ValueError:
        return _INVALID
    if hh is not None and (int(hh) > 23 or int(mm or 0) > 59 or int(ss or 0) > 59):
        return _INVALID
    return day


def _to_date(v: Any) -> date | str | None:
    """A raw cell as a calendar date, `_INVALID` for an impossible date, None if not a date at all."""
    if isinstance(v, (bool, np.bool_)):
        return None
    if isinstance(v, pd.Timestamp):
        return None if v is pd.NaT else v.date()
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    if isinstance(v, np.datetime64):
        return None if np.isnat(v) else pd.Timestamp(v).date()
    if is_number(v):
        f = float(v)
        if not math.isfinite(f):
            return None
        if SERIAL_MIN <= f < SERIAL_MAX + 1:
            return _serial_date(f)
        if f.is_integer() and 10_000_000 <= f <= 99_999_999:  # 20190305 typed into a number cell
            return _to_date(str(int(f)))
        return None
    if not isinstance(v, str):
        return None
    t = strip_edges(v.translate(FULL2HALF))
    if _SERIAL_TEXT.fullmatch(t):
        return _serial_date(float(t))
    m = _YMD.fullmatch(t) or _YMD_COMPACT.fullmatch(t)
    if m is None:
        return None
    return _ymd(*m.groups())


def _one_date(v: Any) -> tuple[pd.Timestamp | None, Issue | None]:
    if is_blank(v):
        return None, None
    d = _to_date(v)
    if d is None:
        return None, error("date.unparseable", MSG_DATE_UNPARSEABLE)
    if d == _INVALID:
        return None, error("date.invalid", MSG_DATE_INVALID.format(text=f"“{show(v)}”"))
    assert isinstance(d, date)
    if not YEAR_MIN <= d.year <= YEAR_MAX:
        return None, error(
            "date.out_of_range", MSG_DATE_RANGE.format(text=d.isoformat(), lo=YEAR_MIN, hi=YEAR_MAX)
        )
    return pd.Timestamp(d), None


def _datetime_column(s: pd.Series) -> pd.Series:
    """A datetime64 column (maybe tz-aware) as naive midnight datetime64[ns]."""
    t = s.dt.tz_localize(None) if getattr(s.dt, "tz", None) is not None else s
    return t.dt.normalize().astype("datetime64[ns]")


def normalise_date(s: pd.Series) -> Normalised:
    """Dates → datetime64[ns] at midnight (a time of day is dropped)."""
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        d = _datetime_column(s)
        bad = (d.notna() & ((d.dt.year < YEAR_MIN) | (d.dt.year > YEAR_MAX))).to_numpy()
        if not bad.any():
            return Normalised(d, issues_by_row(s.index, np.full(len(s), -1), []))
        # Few rows: each gets its own message with its date.
        res = normalise_date(s.astype(object))
        return Normalised(d.where(~bad), res.issues)
    return map_unique(s, elementwise(_one_date), "datetime64[ns]")


def _month_from_float(f: float) -> tuple[int, int] | Issue | None:
    """2019.3 → (2019, 3); 2019.1 is ambiguous (it is also what Excel keeps of 2019.10)."""
    text = repr(f)
    if "e" in text or "." not in text:
        return None
    year, frac = text.split(".")
    if frac == "1":
        return error("month.ambiguous", MSG_MONTH_AMBIGUOUS.format(text=text, y=year))
    if len(frac) > 2:
        return None
    return int(year), int(frac)


def _ym(v: Any) -> tuple[int, int] | Issue | None:
    """Year and month of a raw cell, an issue, or None when the cell is no month at all."""
    if isinstance(v, (bool, np.bool_)):
        return None
    if is_number(v):
        f = float(v)
        if not math.isfinite(f):
            return None
        if f.is_integer() and 100_000 <= f <= 999_999:  # 201903
            return divmod(int(f), 100)
        if not f.is_integer() and 1000 <= f < 10000:
            return _month_from_float(f)
    elif isinstance(v, str):
        t = strip_edges(v.translate(FULL2HALF))
        m = _YM.fullmatch(t) or _YM_COMPACT.fullmatch(t)
        if m is not None:
            return int(m.group(1)), int(m.group(2))
    d = _to_date(v)
    if d == _INVALID:
        return error("month.invalid", MSG_DATE_INVALID.format(text=f"“{show(v)}”"))
    if isinstance(d, date):
        return d.year, d.month
    return None


def _one_month(v: Any) -> tuple[int | None, Issue | None]:
    if is_blank(v):
        return None, None
    ym = _ym(v)
    if ym is None:
        return None, error("month.unparseable", MSG_MONTH_UNPARSEABLE)
    if isinstance(ym, Issue):
        return None, ym
    y, m = ym
    if not 1 <= m <= 12:
        return None, error("month.invalid", MSG_MONTH_INVALID.format(m=m))
    if not YEAR_MIN <= y <= YEAR_MAX:
        text = f"{y}-{m:02d}"
        return None, error("month.out_of_range", MSG_MONTH_RANGE.format(text=text, lo=YEAR_MIN, hi=YEAR_MAX))
    return month_index(y, m), None


def normalise_month(s: pd.Series) -> Normalised:
    """Months → Int64 month index (year*12 + month - 1, see fupin_cli.months)."""
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        d = normalise_date(s)
        idx = month_index_of(d.values)
        issues = d.issues.copy()
        issues["code"] = issues["code"].str.replace("date.", "month.", regex=False)
        return Normalised(idx, issues)
    return map_unique(s, elementwise(_one_month), "Int64")
