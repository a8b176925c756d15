"""Money, integers and digit strings (bank accounts) (SPEC §3.3, §3.4)."""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from fupin_cli.values.normaliser import (
    STR_DTYPE,
    Issue,
    Kernel,
    Normalised,
    elementwise,
    error,
    is_blank,
    is_number,
    issues_by_row,
    map_unique,
    show,
    squeeze,
    warning,
)

# Thousands separators must group by three ("1,200.50"); "12,00" is more likely a mistyped decimal point
# than 1200, so it is not guessed.
_MONEY = re.compile(r"[+-]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]*)?|[+-]?\.[0-9]+")
_CURRENCY = "¥￥"
_NUMBER_KINDS = ("floating", "integer", "mixed-integer-float")
_UNIT = ("人民币元", "元整", "元", "圆")

MSG_MONEY_UNPARSEABLE = "无法识别的金额,请只填数字(可带千分位逗号或“元”),如 1200.50"
MSG_MONEY_NEGATIVE = "金额为负数({v}),工资和报酬不能为负,请核对后改正"
MSG_MONEY_TOO_LARGE = ("金额{v}元超过单月上限{hi:,}元,不像一个月的报酬(可能把身份证号等填进了金额列),"
                       "请核对后改正")
MSG_MONEY_ROUNDED = "金额{v}超过两位小数,已按四舍五入计为{r}元,请核对"
MSG_INT_UNPARSEABLE = "应为整数,这里是“{v}”,请改正"
MSG_INT_RANGE = "应在{lo}至{hi}之间,这里是{v},请核对后改正"
MSG_DIGITS_LOST = "{label}被Excel存成了数字,后几位已丢失,请把该列设为文本格式后按原始凭证重新录入"
MSG_DIGITS_CHARS = "{label}只能由数字组成(空格和短横线会自动去掉),这里含有其他字符,请核对后改正"


def _money_text(v: str) -> float | None:
    t = squeeze(v)
    t = t.lstrip(_CURRENCY)
    for unit in _UNIT:
        if t.endswith(unit):
            t = t[: -len(unit)]
            break
    t = t.lstrip(_CURRENCY)  # "-¥12" / "¥-12" both reach here as a sign and digits
    if t[:1] in "+-" and t[1:2] in _CURRENCY:
        t = t[0] + t[2:]
    if not _MONEY.fullmatch(t):
        return None
    return float(t.replace(",", ""))


def _to_float(v: Any) -> float | None:
    if isinstance(v, str):
        return _money_text(v)
    if is_number(v) or isinstance(v, Decimal):
        f = float(v)
        return f if math.isfinite(f) else None
    return None


def _cents(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Round half up to cents as Excel's ROUND does; also flag values that had more than 2 decimals.

    The amount in cents is first snapped to 15 significant digits (Excel's precision) so that binary
    noise does not count as a decimal: 1.005*100 = 100.49999… is 100.5 and rounds to 1.01.
    """
    scaled = x * 100
    magnitude = np.clip(np.floor(np.log10(np.maximum(np.abs(scaled), 1e-300))), 0, 14)
    unit = 10.0 ** (14 - magnitude)
    snapped = np.round(scaled * unit) / unit
    rounded = np.floor(np.abs(snapped) + 0.5) * np.sign(snapped) / 100
    return rounded, snapped != np.trunc(snapped)


def _money_issues(x: np.ndarray, shown: list[str] | None, hi: float | None = None
                  ) -> tuple[np.ndarray, np.ndarray, list[Issue]]:
    """Values and per-entry issue numbers for an array of floats (NaN = already handled).

    Above `hi` is an error: such a number is no month's pay (an ID number pasted into the column)
    and, summed in cents, it would overflow the rule's integer arithmetic.
    """
    huge = np.isfinite(x) & (x > hi) if hi is not None else np.zeros(len(x), dtype=bool)
    rounded, had_more = _cents(np.where(np.isfinite(x) & ~huge, x, 0.0))
    neg = x < 0
    per = np.full(len(x), -1, dtype=np.int64)
    table: list[Issue] = []
    for i in np.flatnonzero(neg | huge | (had_more & np.isfinite(x))):
        v = shown[i] if shown is not None else show(x[i])
        if neg[i]:
            table.append(error("money.negative", MSG_MONEY_NEGATIVE.format(v=v)))
        elif huge[i]:
            table.append(error("money.too_large", MSG_MONEY_TOO_LARGE.format(v=v, hi=int(hi or 0))))
        else:
            table.append(warning("money.rounded", MSG_MONEY_ROUNDED.format(v=v, r=f"{rounded[i]:.2f}")))
        per[i] = len(table) - 1
    values = np.where(np.isfinite(x) & ~neg & ~huge, rounded, np.nan)
    return values, per, table


def normalise_money(s: pd.Series, hi: float | None = None) -> Normalised:
    """Amounts in 元 → float64 rounded to cents; negative, above `hi` or unreadable → error, value NA."""
    numeric = pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)
    if numeric or (s.dtype == object and pd.api.types.infer_dtype(s, skipna=True) in _NUMBER_KINDS):
        # Numbers only (the usual pay column): no need to look at distinct values.
        x = s.to_numpy(dtype=float, na_value=np.nan)
        values, per, table = _money_issues(x, None, hi)
        inf = np.isinf(x)
        if inf.any():
            table.append(error("money.unparseable", MSG_MONEY_UNPARSEABLE))
            per[inf] = len(table) - 1
        return Normalised(pd.Series(values, index=s.index, name=s.name), issues_by_row(s.index, per, table))

    def kernel(uniq: np.ndarray) -> Kernel:
        kind = pd.api.types.infer_dtype(uniq, skipna=False)
        if kind in _NUMBER_KINDS:
            x = uniq.astype(float)  # the common case: numbers only, no Python loop
            shown = None
        else:
            parsed = [None if is_blank(v) else _to_float(v) for v in uniq]
            blank = [is_blank(v) for v in uniq]
            x = np.array(
                [np.nan if b else (np.inf if p is None else p) for p, b in zip(parsed, blank, strict=True)]
            )
            shown = [show(v) for v in uniq]
        bad = np.isinf(x)
        values, per, table = _money_issues(np.where(bad, np.nan, x), shown, hi)
        issues = {int(i): table[per[i]] for i in np.flatnonzero(per >= 0)}
        for i in np.flatnonzero(bad):
            issues[int(i)] = error("money.unparseable", MSG_MONEY_UNPARSEABLE)
        return Kernel(values, issues)

    return map_unique(s, kernel, "float64")


def normalise_int(s: pd.Series, lo: int | None = None, hi: int | None = None) -> Normalised:
    """Whole numbers (e.g. 出勤天数) → Int64; non-integers and values outside [lo, hi] are errors."""

    def one(v: Any) -> tuple[int | None, Issue | None]:
        if is_blank(v):
            return None, None
        n: int | None = None
        if is_number(v) and math.isfinite(float(v)) and float(v).is_integer():
            n = int(v)
        elif isinstance(v, str):
            t = squeeze(v)
            if re.fullmatch(r"[+-]?[0-9]+(\.0*)?", t):
                n = int(t.split(".")[0])
        if n is None:
            return None, error("int.unparseable", MSG_INT_UNPARSEABLE.format(v=show(v)))
        if (lo is not None and n < lo) or (hi is not None and n > hi):
            lo_s = "-∞" if lo is None else str(lo)
            hi_s = "+∞" if hi is None else str(hi)
            return None, error("int.range", MSG_INT_RANGE.format(lo=lo_s, hi=hi_s, v=n))
        return n, None

    return map_unique(s, elementwise(one), "Int64")


def normalise_digits(s: pd.Series, label: str = "银行账号") -> Normalised:
    """Digit strings such as bank accounts → text of digits; spaces and dashes are dropped."""
    lost = error("digits.lost_digits", MSG_DIGITS_LOST.format(label=label))
    chars = error("digits.chars", MSG_DIGITS_CHARS.format(label=label))

    def one(v: Any) -> tuple[str | None, Issue | None]:
        if is_blank(v):
            return None, None
        if is_number(v):
            f = float(v)
            # Excel keeps 15 significant digits: a longer number has lost its tail.
            if math.isfinite(f) and abs(f) >= 1e15:
                return None, lost
            if not (math.isfinite(f) and f.is_integer() and f >= 0):
                return None, chars
            return str(int(v)), None
        if not isinstance(v, str):
            return None, chars
        t = re.sub(r"[-‐–—_]", "", squeeze(v))
        if re.fullmatch(r"[0-9]+", t):
            return t, None
        if re.fullmatch(r"[0-9]+(\.[0-9]+)?E\+?[0-9]+", t.upper()) or re.fullmatch(r"[0-9]{16,}\.[0-9]*", t):
            return None, lost
        return None, chars

    return map_unique(s, elementwise(one), STR_DTYPE)
