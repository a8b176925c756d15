"""Text, yes/no, enumerations, counties and 统一社会信用代码 (SPEC §3.1, §3.2, §3.4)."""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from fupin_cli.region import Region
from fupin_cli.values.normaliser import (
    FULL2HALF,
    STR_DTYPE,
    Issue,
    Kernel,
    Normalised,
    elementwise,
    error,
    is_blank,
    is_number,
    map_unique,
    show,
    squeeze,
    strip_edges,
    warning,
)

MSG_BOOL = "无法识别的是/否取值“{v}”,请填“是”或“否”(也可用 Y/N、√/×、1/0)"
MSG_ENUM = "“{v}”不是允许的取值,应为以下之一:{choices}"
MSG_COUNTY = "“{v}”不是{region}的县(市、区),应为以下之一:{names}"
MSG_CREDIT_FORMAT = "统一社会信用代码应为18位数字或大写字母(不含I、O、Z、S、V),这里不符合,请核对营业执照"
MSG_CREDIT_CHECKSUM = "统一社会信用代码校验位不正确(应为{c}),请核对营业执照"

_YES = {"是", "Y", "YES", "√", "✓", "✔", "☑", "1", "TRUE", "有", "对"}
_NO = {"否", "N", "NO", "×", "✗", "✘", "☐", "0", "FALSE", "无", "不是", "没有"}

# GB 32100-2015 §4: 31 characters (no I O Z S V), weights of positions 1–17, check = 31 - sum % 31 (31 → 0).
_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_VALUE = {c: i for i, c in enumerate(_CREDIT_CHARS)}
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def _text(v: Any) -> str | None:
    """A cell as trimmed text; integral numbers without '.0' (Excel stores 车间编号 12 as 12.0)."""
    if is_blank(v):
        return None
    if isinstance(v, (bool, np.bool_)):
        return "TRUE" if v else "FALSE"  # as Excel shows a logical cell
    if is_number(v):
        f = float(v)
        if math.isfinite(f) and f.is_integer():
            return str(int(v))
        return repr(f) if isinstance(v, (float, np.floating)) else str(v)
    if isinstance(v, pd.Timestamp | datetime):
        ts = pd.Timestamp(v)
        return ts.date().isoformat() if ts == ts.normalize() else ts.isoformat(sep=" ")
    if isinstance(v, date):
        return v.isoformat()
    t = strip_edges(str(v))
    return t or None


_text_kernel = elementwise(lambda v: (_text(v), None))


def text_kernel(uniq: np.ndarray) -> Kernel:
    """The text normaliser over distinct values (see `normalise_text`)."""
    # A text-only column (the usual case, 100,000 names) needs only the trim: skip the type checks.
    if all(type(v) is str for v in uniq):
        return Kernel(np.array([strip_edges(v) or None for v in uniq], dtype=object), {})
    return _text_kernel(uniq)


def normalise_text(s: pd.Series) -> Normalised:
    """Free text → trimmed str (spaces, full-width spaces, line breaks at the ends removed); NA if empty."""
    return map_unique(s, text_kernel, STR_DTYPE)


def credit_check_char(first17: str) -> str:
    """The 18th character of a 统一社会信用代码 (GB 32100-2015)."""
    total = sum(_CREDIT_VALUE[c] * w for c, w in zip(first17, _CREDIT_WEIGHTS, strict=True))
    return _CREDIT_CHARS[(31 - total % 31) % 31]


def normalise_bool(s: pd.Series, empty_means_no: bool = False) -> Normalised:
    """Yes/no cells → pandas "boolean"; empty → False if `empty_means_no` (a column of √ marks) else NA."""
    empty = False if empty_means_no else None

    def one(v: Any) -> tuple[bool | None, Issue | None]:
        if is_blank(v):
            return empty, None
        if isinstance(v, (bool, np.bool_)):
            return bool(v), None
        t = _text(v)
        key = squeeze(t).upper() if t is not None else ""
        if key in _YES:
            return True, None
        if key in _NO:
            return False, None
        return None, error("bool.unparseable", MSG_BOOL.format(v=show(v)))

    out = map_unique(s, elementwise(one), "boolean")
    if empty_means_no:
        # Missing cells are not among the distinct values: fill them here (unreadable cells stay NA).
        return Normalised(out.values.mask(s.isna().to_numpy(), False), out.issues)
    return out


def normalise_enum(s: pd.Series, choices: list[str]) -> Normalised:
    """One of `choices`, exact after trimming and full-width → half-width."""
    canon = {strip_edges(c.translate(FULL2HALF)): c for c in choices}
    listed = "、".join(choices)

    def one(v: Any) -> tuple[str | None, Issue | None]:
        t = _text(v)
        if t is None:
            return None, None
        hit = canon.get(strip_edges(t.translate(FULL2HALF)))
        if hit is None:
            return None, error("enum.unknown", MSG_ENUM.format(v=t, choices=listed))
        return hit, None

    return map_unique(s, elementwise(one), STR_DTYPE)


def normalise_county(s: pd.Series, region: Region) -> Normalised:
    """Any name or code (current or former) of a county of `region` → its current code."""
    lookup = {squeeze(k): v for k, v in region.lookup().items()}
    names = "、".join(c.name for c in region.counties)

    def one(v: Any) -> tuple[str | None, Issue | None]:
        t = _text(v)
        if t is None:
            return None, None
        code = lookup.get(squeeze(t))
        if code is None:
            return None, error("county.unknown", MSG_COUNTY.format(v=t, region=region.name, names=names))
        return code, None

    return map_unique(s, elementwise(one), STR_DTYPE)


def normalise_credit_code(s: pd.Series) -> Normalised:
    """统一社会信用代码 (upper-case, no spaces); a bad format or check char is a warning and the text is kept."""

    def one(v: Any) -> tuple[str | None, Issue | None]:
        t = _text(v)
        if t is None:
            return None, None
        code = squeeze(t).upper()
        if len(code) != 18 or any(c not in _CREDIT_VALUE for c in code):
            return t, warning("credit_code.format", MSG_CREDIT_FORMAT)
        expect = credit_check_char(code[:17])
        if code[17] != expect:
            return code, warning("credit_code.checksum", MSG_CREDIT_CHECKSUM.format(c=expect))
        return code, None

    return map_unique(s, elementwise(one), STR_DTYPE)
