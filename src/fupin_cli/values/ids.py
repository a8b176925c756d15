"""居民身份证号 (GB 11643-1999): normalisation, check digit, birth date and age (SPEC §3.4).

Masking lives in `fupin_cli.privacy`."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from fupin_cli.values.normaliser import (
    FULL2HALF,
    STR_DTYPE,
    Issue,
    Kernel,
    Normalised,
    _factorize,
    error,
    is_blank,
    is_datelike,
    is_number,
    map_unique,
    take,
    warning,
)

# GB 11643-1999 §8.2: ISO 7064 MOD 11-2 weights of the first 17 digits and the check character per remainder.
_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_CHECK = "10X98765432"
_CHECK_BYTES = np.frombuffer(_CHECK.encode(), dtype=np.uint8)

_QUOTES = "'‘’`"
_SPACES = re.compile(r"[\s\u3000\xa0\u200b\ufeff]+")
_CANONICAL = re.compile(r"[0-9]{17}[0-9X]")
# What Excel or a CSV export shows for a number that no longer holds all digits: 4.52122E+17, 452122199001011000.0
_SCIENTIFIC = re.compile(r"[0-9]+(\.[0-9]+)?E[+]?[0-9]+")
_DECIMAL = re.compile(r"[0-9]{16,}\.[0-9]*")

MSG_LOST = "身份证号被Excel存成了数字,后几位已丢失,请把该列设为文本格式后按原件重新录入"
MSG_CHARS = "身份证号只能由数字和末位的X组成,这里含有其他字符,请核对身份证原件后重新录入"
MSG_NOT_TEXT = "身份证号单元格是{kind},不是号码,请把该列设为文本格式后按原件重新录入"
MSG_LENGTH = "身份证号应为18位,这里是{n}位,请核对身份证原件后重新录入"
MSG_BIRTH = "身份证号第7至14位的出生日期{why},请核对身份证原件后重新录入"
MSG_CHECKSUM = "身份证号校验位不正确(应为{c}),请核对身份证原件后重新录入"
MSG_REFORMATTED = "身份证号含有空格、全角字符、小写x或撇号,已自动整理后使用;请在原表中改为18位半角文本"
MSG_CONVERTED = (
    "这是15位旧身份证号,已按国家标准升为18位(出生年份补“19”并加校验位)后使用;请核对身份证原件后改填18位号码"
)


def id_check_digit(first17: str) -> str:
    """The 18th character of an ID number from its first 17 digits (GB 11643-1999 §8.2)."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError(f"need 17 digits, got {first17!r}")
    total = sum(int(c) * int(w) for c, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def _birth_problem(ymd: str, today: date) -> str | None:
    """Why the yyyymmdd part of an ID is not a plausible birth date, or None."""
    try:
        born = date(int(ymd[:4]), int(ymd[4:6]), int(ymd[6:8]))
    except ValueError:
        return "不是真实存在的日期"
    if born.year < 1900:
        return "早于1900年"
    if born > today:
        return "晚于今天"
    return None


def _from_digits(t: str, today: date, reformatted: bool) -> tuple[str | None, Issue | None]:
    """Validate a string of digits (and X) that has been cleaned; convert 15-digit numbers."""
    if not re.fullmatch(r"[0-9]+X?", t):
        return None, error("id.chars", MSG_CHARS)
    if len(t) == 15 and t.isdigit():
        # GB 11643-1999 replaced the 15-digit number: insert the century "19" and append the check digit.
        why = _birth_problem("19" + t[6:12], today)
        if why is not None:
            return None, error("id.birthdate", MSG_BIRTH.format(why=why).replace("第7至14位", "第7至12位"))
        first17 = t[:6] + "19" + t[6:]
        return first17 + id_check_digit(first17), warning("id.converted_15", MSG_CONVERTED)
    if len(t) != 18:
        return None, error("id.length", MSG_LENGTH.format(n=len(t)))
    why = _birth_problem(t[6:14], today)
    if why is not None:
        return None, error("id.birthdate", MSG_BIRTH.format(why=why))
    expect = id_check_digit(t[:17])
    if t[17] != expect:
        return None, error("id.checksum", MSG_CHECKSUM.format(c=expect))
    return t, (warning("id.reformatted", MSG_REFORMATTED) if reformatted else None)


def _one_id(v: Any, today: date) -> tuple[str | None, Issue | None]:
    if isinstance(v, (bool, np.bool_)):
        return None, error("id.chars", MSG_NOT_TEXT.format(kind="是/否值"))
    if is_datelike(v):
        return None, error("id.chars", MSG_NOT_TEXT.format(kind="日期"))
    if is_number(v):
        f = float(v)
        if not math.isfinite(f) or f < 0:
            return None, error("id.chars", MSG_CHARS)
        # Excel keeps 15 significant digits: any number of 16+ digits has lost its tail.
        if f >= 1e15:
            return None, error("id.lost_digits", MSG_LOST)
        if not f.is_integer():
            return None, error("id.chars", MSG_CHARS)
        return _from_digits(str(int(v)), today, reformatted=False)
    if not isinstance(v, str):
        return None, error("id.chars", MSG_CHARS)
    if is_blank(v):
        return None, None
    t = _SPACES.sub("", v.translate(FULL2HALF)).lstrip(_QUOTES).upper()
    if t == "":
        return None, None
    if _SCIENTIFIC.fullmatch(t) or _DECIMAL.fullmatch(t):
        return None, error("id.lost_digits", MSG_LOST)
    return _from_digits(t, today, reformatted=t != v)


def _fixed_width(arr: Any, width: int) -> np.ndarray:
    """The bytes of an Arrow string array whose values are all `width` ASCII characters, as rows."""
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)[arr.offset:arr.offset + len(arr) + 1]
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)
    return data[offsets[0]:offsets[-1]].reshape(-1, width)


def _good_birth(b: np.ndarray, today: date) -> np.ndarray:
    """Rows of yyyymmdd digit bytes that name a real day from 1900-01-01 to `today` (vectorised)."""
    d = b.astype(np.int64) - ord("0")
    year = d[:, 0] * 1000 + d[:, 1] * 100 + d[:, 2] * 10 + d[:, 3]
    month = d[:, 4] * 10 + d[:, 5]
    day = d[:, 6] * 10 + d[:, 7]
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    days = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])[np.clip(month, 0, 12)] + (leap & (month == 2))
    ymd = year * 10000 + month * 100 + day
    return (month >= 1) & (month <= 12) & (day >= 1) & (day <= days) & (year >= 1900) & \
        (ymd <= today.year * 10000 + today.month * 100 + today.day)


def _fast_valid(uniq: np.ndarray, today: date) -> np.ndarray:
    """Mask of distinct values that are already valid, canonical 18-character IDs (vectorised).

    Everything else goes through `_one_id`, which also writes the message of any failure.
    """
    import pyarrow as pa
    import pyarrow.compute as pac

    valid = np.zeros(len(uniq), dtype=bool)
    if pd.api.types.infer_dtype(uniq, skipna=False) == "string":  # a text column: no per-value type test
        cand = np.arange(len(uniq))
    else:
        cand = np.flatnonzero(np.fromiter((type(v) is str and len(v) == 18 for v in uniq), dtype=bool,
                                          count=len(uniq)))
    if len(cand) == 0:
        return valid
    strs = pa.array(uniq[cand], type=pa.string())
    # Arrow's regex engine checks the shape of 100,000 IDs at once (same pattern as _CANONICAL).
    ok_shape = pac.match_substring_regex(strs, "^" + _CANONICAL.pattern + "$").to_numpy(zero_copy_only=False)
    cand = cand[ok_shape]
    if len(cand) == 0:
        return valid
    b = _fixed_width(strs.filter(pa.array(ok_shape)), 18)
    digits = b[:, :17].astype(np.int64) - ord("0")
    expect = _CHECK_BYTES[(digits @ _WEIGHTS) % 11]
    valid[cand] = (b[:, 17] == expect) & _good_birth(b[:, 6:14], today)
    return valid


def id_kernel(today: date | None = None) -> Callable[[np.ndarray], Kernel]:
    """The ID normaliser over distinct values (see `normalise_id`)."""
    today = today or date.today()

    def kernel(uniq: np.ndarray) -> Kernel:
        valid = _fast_valid(uniq, today)
        out = np.empty(len(uniq), dtype=object)
        out[valid] = uniq[valid]
        issues: dict[int, Issue] = {}
        for i in np.flatnonzero(~valid):
            value, issue = _one_id(uniq[i], today)
            out[i] = value
            if issue is not None:
                issues[int(i)] = issue
        return Kernel(out, issues)

    return kernel


def normalise_id(s: pd.Series, *, today: date | None = None) -> Normalised:
    """ID numbers → 18-character text (SPEC §3.4); 15-digit numbers converted with a warning."""
    return map_unique(s, id_kernel(today), STR_DTYPE)


def birth_dates(ids: pd.Series) -> pd.Series:
    """Birth date (datetime64[ns]) encoded in normalised 18-character ID numbers; NaT where absent."""
    codes, uniq = _factorize(ids)
    text = pd.Series(uniq, dtype=object).map(
        lambda v: v[6:14] if isinstance(v, str) and len(v) == 18 else None
    )
    born = pd.to_datetime(text, format="%Y%m%d", errors="coerce").astype("datetime64[ns]")
    return take(born.array, codes, "datetime64[ns]", ids.index, ids.name)


def age_on(ids: pd.Series, dates: pd.Series | Any) -> pd.Series:
    """Age in full years (周岁) on `dates` (a series aligned with `ids`, or one date); NA if unknown.

    A person reaches a new full year on their birthday; someone born on 29 February does so on 1 March
    in common years.
    """
    born = birth_dates(ids)
    if isinstance(dates, pd.Series):
        on = pd.to_datetime(dates.reindex(ids.index) if not dates.index.equals(ids.index) else dates)
    else:
        on = pd.Series(pd.Timestamp(dates), index=ids.index)
    on = on.astype("datetime64[ns]")
    years = on.dt.year - born.dt.year
    before_birthday = (on.dt.month * 100 + on.dt.day) < (born.dt.month * 100 + born.dt.day)
    age = (years - before_birthday.astype("int64")).astype("Int64")
    return age.where(born.notna() & on.notna()).astype("Int64")
