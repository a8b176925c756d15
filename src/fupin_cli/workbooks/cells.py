"""Safe cell writing, column-width fitting and the shared formats of every xlsx the tool writes.

Every text goes through `write_string` (or, for long constant_memory tables, `row_xml` writes the same
inline-string XML): a name such as "=1+1" or "@SUM(A1)" must stay text (SPEC §6.1), and the workbook is
opened with xlsxwriter's string conversions switched off as a second guard.
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import math
import threading
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import xlsxwriter
import xlsxwriter.workbook
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from fupin_cli.money import money
from fupin_cli.months import format_month

# How a column's values are written: text (write_string), numbers with a number format, dates, or
# "auto" (decided per cell by `write_value`, for frames whose columns we do not know).
Kind = Literal["text", "id", "money", "int", "number", "date", "datetime", "month", "auto", "wrap"]

MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
TEXT_FORMAT = "@"

# Month indexes (year*12+month-1) of years 1900–2199: an int column in this range named like a month
# is shown as "YYYY-MM".
MONTH_INDEX_RANGE = (1900 * 12, 2200 * 12)

WORKBOOK_OPTIONS: dict[str, Any] = {
    "strings_to_numbers": False,
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "remove_timezone": True,
    "nan_inf_to_errors": False,
    "default_date_format": DATE_FORMAT,
}


# A custom document property on every workbook fupin writes as a result (rosters, problem reports,
# statistics, ledger exports, audit lists): found among the inputs, such a file is skipped with a
# note (SPEC §5.1). Templates carry none: once filled in, they are inputs.
RESULT_PROPERTY = "fupin-result"


# zlib level 1 instead of zipfile's default 6 when the parts are packed: a 100,000-row roster packs
# 3× faster into a file ~25% larger (its XML parts and cells are the same).
ZIP_LEVEL = 1
_ZIP_LOCK = threading.Lock()


class _Workbook(xlsxwriter.Workbook):
    def _store_workbook(self) -> None:
        # xlsxwriter opens its ZipFile without a level: the module's name is swapped for the packing.
        with _ZIP_LOCK:
            saved = xlsxwriter.workbook.ZipFile
            xlsxwriter.workbook.ZipFile = functools.partial(zipfile.ZipFile, compresslevel=ZIP_LEVEL)
            try:
                super()._store_workbook()
            finally:
                xlsxwriter.workbook.ZipFile = saved


def new_workbook(path: Path, *, constant_memory: bool = False, result: bool = True) -> xlsxwriter.Workbook:
    """An xlsxwriter workbook with the safe options (no string → formula/number/url conversion),
    marked as a fupin result unless `result` is False (a template)."""
    wb = _Workbook(str(path), {**WORKBOOK_OPTIONS, "constant_memory": constant_memory})
    if result:
        wb.set_custom_property(RESULT_PROPERTY, "fupin生成的结果文件,不作为输入读取")
    return wb


class Formats:
    """The formats of one workbook, created once and cached by (kind, bold)."""

    _NUM = {"id": TEXT_FORMAT, "text": TEXT_FORMAT, "wrap": TEXT_FORMAT, "month": TEXT_FORMAT, "money": MONEY_FORMAT,
            "int": "0", "number": "General", "date": DATE_FORMAT, "datetime": DATETIME_FORMAT, "auto": None}

    def __init__(self, wb: xlsxwriter.Workbook) -> None:
        self.wb = wb
        self._cells: dict[tuple[str, bool], Format] = {}
        self.title = wb.add_format({"bold": True, "font_size": 16, "align": "center", "valign": "vcenter"})
        self.header = wb.add_format({"bold": True, "border": 1, "align": "center", "valign": "vcenter",
                                     "text_wrap": True, "bg_color": "#D9E1F2"})
        self.required_header = wb.add_format({"bold": True, "border": 1, "align": "center", "valign": "vcenter",
                                              "text_wrap": True, "bg_color": "#D9E1F2", "font_color": "#C00000"})
        self.signature = wb.add_format({"align": "left", "valign": "vcenter"})
        self.note = wb.add_format({"text_wrap": True, "valign": "top"})

    def cell(self, kind: str, bold: bool = False) -> Format:
        key = (kind, bold)
        fmt = self._cells.get(key)
        if fmt is None:
            props: dict[str, Any] = {"border": 1, "valign": "vcenter"}
            num = self._NUM.get(kind)
            if num is not None:
                props["num_format"] = num
            if bold:
                props["bold"] = True
            if kind == "wrap":  # long text (a 说明) wraps inside its bordered cell when printed
                props["text_wrap"] = True
            fmt = self._cells[key] = self.wb.add_format(props)
        return fmt


def is_missing(value: object) -> bool:
    """None, NaN, NaT and pd.NA; never raises for arrays or odd objects."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float | np.floating):
        return math.isnan(value)
    if isinstance(value, np.datetime64):
        return bool(np.isnat(value))
    return False


def write_value(ws: Worksheet, row: int, col: int, value: object, fmts: Formats | None = None,
                bold: bool = False) -> None:
    """Write any Python/pandas value correctly: text as text, numbers as numbers, dates as dates.

    Missing → blank cell (keeps the border); bool → 是/否; anything unknown → its text.
    """

    def fmt(kind: str) -> Format | None:
        return None if fmts is None else fmts.cell(kind, bold)

    if is_missing(value) or (isinstance(value, str) and value == ""):
        ws.write_blank(row, col, None, fmt("auto"))
    elif isinstance(value, str):
        ws.write_string(row, col, value, fmt("text"))
    elif isinstance(value, bool | np.bool_):
        ws.write_string(row, col, "是" if value else "否", fmt("text"))
    elif isinstance(value, int | np.integer):
        ws.write_number(row, col, int(value), fmt("int"))
    elif isinstance(value, float | np.floating | decimal.Decimal):
        f = float(value)
        if math.isinf(f):
            ws.write_string(row, col, str(value), fmt("text"))
        else:
            ws.write_number(row, col, f, fmt("number"))
    elif isinstance(value, pd.Timestamp | dt.datetime | np.datetime64):
        ts = pd.Timestamp(value)
        kind = "date" if ts == ts.normalize() else "datetime"
        ws.write_datetime(row, col, ts.tz_localize(None).to_pydatetime() if ts.tzinfo else ts.to_pydatetime(),
                          fmt(kind))
    elif isinstance(value, dt.date):
        ws.write_datetime(row, col, value, fmt("date"))
    else:
        ws.write_string(row, col, str(value), fmt("text"))


# --- column values prepared once per column (vectorised), written in a plain row loop ---------------

def _to_text(v: object) -> str:
    if isinstance(v, float | np.floating) and float(v).is_integer():
        return str(int(v))  # an ID/account that arrived as a float must not print "…0.0"
    if isinstance(v, pd.Timestamp):
        return v.strftime("%Y-%m-%d") if v == v.normalize() else str(v)
    if isinstance(v, bool | np.bool_):
        return "是" if v else "否"
    return str(v)


def column_values(s: pd.Series, kind: Kind) -> list:
    """The cell values of one column ready for the writer of `kind`; None marks a blank cell."""
    if kind in ("text", "id", "wrap"):
        if _arrow_text(s):  # the usual case, without a Python step per value
            arr = s.array._pa_array
            return pc.if_else(pc.equal(arr, ""), pa.scalar(None, arr.type), arr).to_pylist()
        mask = s.isna().tolist()
        # An empty text is a blank cell, as the user would have left it.
        return [None if m or v == "" else (v if type(v) is str else _to_text(v))
                for v, m in zip(s.astype(object), mask, strict=True)]
    if kind == "month":
        if pd.api.types.is_numeric_dtype(s):  # each distinct month formatted once
            codes, uniques = pd.factorize(s.astype(object), use_na_sentinel=True)
            texts = [format_month(u) for u in uniques]
            return [texts[c] if c >= 0 else None for c in codes.tolist()]
        mask = s.isna().tolist()
        return [None if m else _to_text(v) for v, m in zip(s.astype(object), mask, strict=True)]
    if kind in ("money", "int", "number"):
        return _number_values(s, kind)
    if kind in ("date", "datetime"):
        d = pd.to_datetime(s, errors="coerce")
        if getattr(d.dt, "tz", None) is not None:
            d = d.dt.tz_localize(None)
        codes, uniques = pd.factorize(d, use_na_sentinel=True)  # a few hundred distinct dates at most
        py = [u.to_pydatetime() for u in uniques]
        return [py[c] if c >= 0 else None for c in codes.tolist()]
    return s.astype(object).tolist()  # auto


def _arrow_text(s: pd.Series) -> bool:
    return isinstance(s.dtype, pd.StringDtype) and s.dtype.storage == "pyarrow"


def _number_values(s: pd.Series, kind: Kind) -> list:
    """Numbers as Python floats (ints for "int"), None where missing or not finite."""
    num = pd.to_numeric(s, errors="coerce").astype("float64")
    if kind == "money":
        with np.errstate(over="ignore"):
            num = num.round(2)  # 元 and 分: the 合计 is then the sum of what the reader sees
    x = num.to_numpy(dtype=np.float64, na_value=np.nan)
    missing = ~np.isfinite(x)  # after rounding: round(1.8e306, 2) overflows to inf
    if kind == "int" and not (np.abs(x[~missing]) < 2.0**63).all():  # beyond int64: Python's int()
        out = [None if m else int(v) for v, m in zip(x.tolist(), missing.tolist(), strict=True)]
    else:
        # int(): towards zero, as astype; missing cells are set to None below
        out = np.where(missing, 0, x).astype(np.int64).tolist() if kind == "int" else x.tolist()
    for i in np.flatnonzero(missing).tolist():
        out[i] = None
    return out


def infer_kind(s: pd.Series, key: str = "") -> Kind:
    """A writer kind for a column we know nothing about but its dtype and name."""
    if pd.api.types.is_bool_dtype(s):
        return "auto"
    if pd.api.types.is_datetime64_any_dtype(s):
        d = pd.to_datetime(s, errors="coerce").dropna()
        return "date" if len(d) == 0 or bool((d == d.dt.normalize()).all()) else "datetime"
    if pd.api.types.is_integer_dtype(s) or pd.api.types.is_float_dtype(s):
        if "month" in key:
            vals = pd.to_numeric(s, errors="coerce").dropna()
            if len(vals) and vals.between(*MONTH_INDEX_RANGE).all() and (vals % 1 == 0).all():
                return "month"
        if key in ("amount", "wages", "pay", "paid_amount") or key.endswith("_amount"):
            return "money"
        return "int" if pd.api.types.is_integer_dtype(s) else "number"
    if s.dtype == object:
        return "auto"
    return "text"


# --- column widths --------------------------------------------------------------------------------

def text_width(texts: Iterable[object]) -> int:
    """Display width of the widest text; characters beyond Latin-1 (CJK, full-width) count double."""
    shown = [t if type(t) is str else str(t) for t in texts
             if t is not None and not (isinstance(t, float) and t != t)]
    if not shown:
        return 0
    if len(shown) < 64:  # headers and short columns: plain Python beats building an array
        return max(len(t) + sum(ord(c) > 0xFF for c in t) for t in shown)
    return int(text_widths(shown).max())


# Per UTF-8 byte: +1 for each character (every byte that is not a continuation byte) and +1 more for a
# character beyond Latin-1 (lead bytes from 0xC4 on: U+0100 and up). Summed per text = its display width.
_BYTE_WIDTH = np.array([(b & 0xC0 != 0x80) + (b >= 0xC4) for b in range(256)], dtype=np.int64)


def utf8_parts(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(offsets, data bytes) of a (large_)string Arrow array, as numpy views: texts without Python objects."""
    arr = arr.cast(pa.large_string()) if arr.type != pa.large_string() else arr
    bufs = arr.buffers()
    offsets = np.frombuffer(bufs[1], dtype=np.int64)[arr.offset:arr.offset + len(arr) + 1]
    data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.zeros(0, np.uint8)
    return offsets, data


def per_text_sum(offsets: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Sum of per-byte `weights` over each text's bytes (offsets from `utf8_parts`)."""
    cum = np.zeros(len(weights) + 1, np.int64)
    np.cumsum(weights, out=cum[1:])
    return cum[offsets[1:]] - cum[offsets[:-1]]


def text_widths(texts: list) -> np.ndarray:
    """`text_width` of each text of a list (str or None; None → 0), vectorised over the UTF-8 bytes."""
    try:
        arr = pa.array(texts, type=pa.large_string())
    except (pa.ArrowException, UnicodeError):  # e.g. a lone surrogate: measure in Python
        return np.array([0 if t is None else len(t) + sum(ord(c) > 0xFF for c in t) for t in texts], np.int64)
    offsets, data = utf8_parts(arr)
    return per_text_sum(offsets, _BYTE_WIDTH[data])


def values_width(values: list, kind: Kind) -> int:
    """Display width of prepared column values as Excel will show them."""
    if kind in ("text", "id", "wrap", "month") and len(values) >= 64:  # str or None: measured on the bytes
        return int(text_widths(values).max())
    present = [v for v in values if v is not None]
    if not present:
        return 0
    if kind == "money":
        return len(money(max(abs(v) for v in present))) + 1
    if kind in ("int", "number"):
        return max(len(f"{v:g}") if isinstance(v, float) else len(str(v)) for v in (max(present), min(present)))
    if kind == "date":
        return 10
    if kind == "datetime":
        return 19
    return text_width(present)


def fit_width(header: str, width: int, lo: int = 4, hi: int = 50) -> float:
    """Excel column width for a header and its widest value, with a little padding."""
    return float(min(hi, max(lo, text_width([header]), width) + 2))
