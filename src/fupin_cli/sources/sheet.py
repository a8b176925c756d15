"""Turn one recognised sheet's cells into a frame of raw values (columns, not rows).

Kept rows carry `_row`, the Excel row number as the user sees it. Dropped, and counted in
`SheetInfo.ignored`: empty rows between the header and the last data row, and totals rows
(合计/小计/总计 in the 序号 column or one of the first three header columns).

Cells come from the calamine grid (object arrays) or, for a large sheet, from fastexcel
(arrow_body.py): a column holding one kind of cell keeps an efficient dtype (float64 for numbers,
datetime64 for dates in date/month columns); the normalisers accept either.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from fupin_cli.sources.headers import HeaderMatch
from fupin_cli.sources.wide import melt
from fupin_cli.sources.workbook import SheetGrid
from fupin_cli.tables import TableSpec
from fupin_cli.values.dates import SERIAL_MAX, SERIAL_MIN

_TOTAL = re.compile(r"^(本页|本表|全部|全县|全镇|总)?(合计|小计|总计)[::]?$")
_WS = re.compile(r"\s+")


@dataclass
class SheetFrame:
    frame: pd.DataFrame
    rows: int
    ignored: int
    total_rows: list[int]  # Excel rows of dropped totals
    filled: list[str] = field(default_factory=list)  # merged data cells spread over their rows
    faults: list[tuple[int, str, str]] = field(default_factory=list)  # (Excel row, column key, #DIV/0! or =formula)


def _fill_merged(data: dict[str, Any], match: HeaderMatch, merges: list[Any] | None, start: int,
                 n: int) -> list[str]:
    """Township sheets merge e.g. 车间编号 over all rows of one workshop: every row of a merged
    range in the data area takes the range's value (Excel shows it on each row). Returns what was
    filled, as "第3–5行“车间编号”", for a note — the change is reported, never silent."""
    done: list[str] = []
    if not merges:
        return done
    by_col = {j: key for key, j in match.columns.items()}
    for (r0, c0), (r1, c1) in merges:
        if r0 < start or r1 <= r0 or r0 - start >= n:
            continue
        for j in range(c0, c1 + 1):
            key = by_col.get(j)
            if key is None:
                continue
            arr = data[key]
            if not (isinstance(arr, np.ndarray) and arr.dtype == object):
                arr = data[key] = np.asarray(arr, dtype=object).copy()
            a, b = r0 - start, min(r1 - start, n - 1)
            arr[a + 1:b + 1] = arr[a]
            done.append(f"第{r0 + 1}–{b + start + 1}行“{match.headers.get(key, key)}”")
    return done


def _column(grid: SheetGrid, j: int, start: int) -> np.ndarray:
    n = grid.nrows - start
    if j >= len(grid.columns) or n <= 0:
        return np.full(max(n, 0), None, dtype=object)
    arr = np.empty(n, dtype=object)
    arr[:] = grid.columns[j][start:]
    arr[arr == ""] = None  # calamine and csv give "" for an empty cell
    return arr


def _is_blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and (not v or v.isspace())) or (isinstance(v, float) and v != v) \
        or (isinstance(v, np.datetime64) and np.isnat(v))


def _suspect(arr: np.ndarray) -> np.ndarray:
    """Rows whose key cell is blank or mentions 计: the only rows that can be empty or totals.

    One pass over one column; every other check runs on these few rows only, which keeps a
    1,000,000-row sheet fast (a data row always has its key, a totals row never has a real one).
    """
    if arr.dtype.kind == "f":
        return np.flatnonzero(np.isnan(arr))
    if arr.dtype.kind == "M":
        return np.flatnonzero(np.isnat(arr))
    return np.flatnonzero(np.fromiter(
        (v is None or (v.__class__ is str and (v.isspace() or "计" in v)) or (v.__class__ is float and v != v)
         for v in arr), dtype=bool, count=len(arr)))


def _total_label(v: Any) -> bool:
    return v.__class__ is str and "计" in v and _TOTAL.match(_WS.sub("", v)) is not None


@dataclass
class _Body:
    """The data cells of a sheet: `cells(j)` of physical column j from the first data row down."""

    cells: Callable[[int], np.ndarray]
    n: int
    suspect: Callable[[int], np.ndarray | None]  # precomputed blank-or-计 mask, if any


def _body(grid: SheetGrid, match: HeaderMatch, spec: TableSpec, look: list[int]) -> _Body:
    """fastexcel/pyarrow for a lazy grid when that is lossless, else the exact reader's cells."""
    start = match.row + 1
    if grid.lazy is not None:
        dated = {j: spec.column(key).type in ("date", "month") for key, j in match.columns.items()}
        months = frozenset(mc.index for mc in match.months) if match.wide else frozenset()
        dated.update({j: False for j in months})
        fc = grid.lazy.load(start, dated, look, months)  # fastexcel (xlsx) or pyarrow (csv)
        if fc is not None:
            empty = np.full(fc.nrows, None, dtype=object)
            return _Body(lambda j: fc.cells.get(j, empty), fc.nrows, fc.suspect)
        grid = grid.lazy.full()  # a mixed column or an odd cell: calamine's exact read
    full = grid
    return _Body(lambda j: _column(full, j, start), max(full.nrows - start, 0), lambda j: None)


DAYS_1904 = 1462  # 1904-01-01 is serial 1462 of Excel's 1900 date system


def _from_1904(arr: np.ndarray) -> np.ndarray:
    """Date serials typed as plain numbers in a 1904-system workbook, as 1900-system serials
    (what validation reads). Only numbers that are serials either way move: not years, not 201903."""
    lo, hi = SERIAL_MIN - DAYS_1904, SERIAL_MAX + 1 - DAYS_1904
    if arr.dtype.kind == "f":
        return np.where((arr >= lo) & (arr < hi), arr + DAYS_1904, arr)
    if arr.dtype != object:
        return arr
    out = arr.copy()
    for i, v in enumerate(arr):
        if isinstance(v, int | float) and not isinstance(v, bool) and lo <= v < hi:
            out[i] = v + DAYS_1904
    return out


def build(grid: SheetGrid, match: HeaderMatch, spec: TableSpec, src: int) -> SheetFrame:
    start = match.row + 1
    look_cols = list(dict.fromkeys([*match.serial, *match.header_cols[:3]]))
    body = _body(grid, match, spec, look_cols)
    n = body.n
    data = {key: body.cells(j) for key, j in match.columns.items()}
    if grid.date1904:
        data.update({k: _from_1904(v) for k, v in data.items() if spec.column(k).type in ("date", "month")})
    filled = _fill_merged(data, match, grid.merges, start, n)
    months = [body.cells(mc.index) for mc in match.months] if match.wide else []
    if months and grid.faults:  # an error value in a month cell: never read as "no pay that month"
        months = [_show_faults(arr, grid.faults, mc.index, start) for arr, mc in zip(months, match.months, strict=True)]
    values = [*data.values(), *months]
    key_col = match.columns[spec.key[0]]
    mask = body.suspect(key_col)
    sus = np.flatnonzero(mask) if mask is not None else _suspect(data[spec.key[0]])
    look = [body.cells(j) for j in look_cols] if sus.size else []
    total_sus = np.array([any(_total_label(a[i]) for a in look) for i in sus], dtype=bool)
    blank_sus = np.array([not t and all(_is_blank(a[i]) for a in values)
                          for i, t in zip(sus, total_sus, strict=True)], dtype=bool)
    keep = np.ones(n, dtype=bool)
    keep[sus[blank_sus | total_sus]] = False
    not_blank = np.ones(n, dtype=bool)
    not_blank[sus[blank_sus]] = False
    last = int(np.flatnonzero(not_blank)[-1]) + 1 if not_blank.any() else 0
    ignored = int(last - keep[:last].sum())  # trailing empty rows are not worth a count
    keep_idx = np.flatnonzero(keep)
    rows = np.arange(start + 1, start + n + 1, dtype=np.int64)[keep_idx]
    if match.wide:
        fixed = {k: v[keep_idx] for k, v in data.items()}
        long = melt(fixed, match.months, [m[keep_idx] for m in months], rows)
        cols = {k: long[k] for k in long.columns}
    else:
        every = len(keep_idx) == n  # nothing dropped: no copy of a million cells
        cols = {k: pd.Series(v if every else v[keep_idx], dtype=v.dtype, copy=False) for k, v in data.items()}
        cols["_row"] = pd.Series(rows, dtype="int64")
        if spec.title == "工资":
            cols["_pay_header"] = pd.Series(_same_text(len(rows), match.headers["pay"]), dtype=object)
    size = len(cols["_row"])
    ordered: dict[str, pd.Series] = {}
    for col in spec.columns:
        ordered[col.key] = cols[col.key] if col.key in cols else pd.Series(np.full(size, None, dtype=object),
                                                                           dtype=object)
    if "_pay_header" in cols:
        ordered["_pay_header"] = cols["_pay_header"]
    ordered["_src"] = pd.Series(np.full(size, src, dtype=np.int64))
    ordered["_row"] = cols["_row"]
    frame = pd.DataFrame(ordered, copy=False)
    total_rows = (sus[total_sus] + start + 1).tolist()
    return SheetFrame(frame, int(len(keep_idx)), ignored, total_rows, filled, _faults(grid, match, start, n))


def _show_faults(arr: np.ndarray, faults: dict[tuple[int, int], str], j: int, start: int) -> np.ndarray:
    """Column j's cells with each error value / result-less formula as its text (then reported by
    validation as an unreadable amount, with that text as the cell's value)."""
    mine = [(r - start, shown) for (r, c), shown in faults.items() if c == j and 0 <= r - start < len(arr)]
    if not mine:
        return arr
    out = arr.astype(object)
    for i, shown in mine:
        out[i] = shown
    return out


def _faults(grid: SheetGrid, match: HeaderMatch, start: int, n: int) -> list[tuple[int, str, str]]:
    """Error values and formulas without a result in the data columns (the reader shows them empty)."""
    key_of = {j: key for key, j in match.columns.items()}
    return sorted((r + 1, key_of[c], shown) for (r, c), shown in grid.faults.items()
                  if c in key_of and start <= r < start + n)


def letter(j: int) -> str:
    """Excel column letter of 0-based column j (0 → A, 26 → AA)."""
    s = ""
    j += 1
    while j:
        j, r = divmod(j - 1, 26)
        s = chr(65 + r) + s
    return s


def _same_text(n: int, text: str) -> np.ndarray:
    """n references to one string: np.full makes a new str per row (500 MB at 5,000,000 rows)."""
    a = np.empty(n, dtype=object)
    a.fill(text)
    return a
