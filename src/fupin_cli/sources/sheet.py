"""Turn one recognised sheet's cells into a frame of raw values (columns, not rows).

Kept rows carry `_row`, the Excel row number as the user sees it. Dropped, and counted in
`SheetInfo.ignored`: empty rows between the header and the last data row, and totals rows
(合计/小计/总计 in the 序号 column or one of the first three header columns).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fupin_cli.sources.headers import HeaderMatch
from fupin_cli.sources.wide import melt
from fupin_cli.sources.workbook import SheetGrid
from fupin_cli.tables import TableSpec

_TOTAL = re.compile(r"^(本页|本表|全部|全县|全镇|总)?(合计|小计|总计)[::]?$")
_WS = re.compile(r"\s+")


@dataclass
class SheetFrame:
    frame: pd.DataFrame
    rows: int
    ignored: int
    total_rows: list[int]  # Excel rows of dropped totals


def _column(grid: SheetGrid, j: int, start: int) -> np.ndarray:
    n = grid.nrows - start
    if j >= len(grid.columns) or n <= 0:
        return np.full(max(n, 0), None, dtype=object)
    arr = np.empty(n, dtype=object)
    arr[:] = grid.columns[j][start:]
    arr[arr == ""] = None  # calamine and csv give "" for an empty cell
    return arr


def _totals(arrays: list[np.ndarray], n: int) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    for arr in arrays:
        # cheap filter first: a totals label always contains 计
        hits = [i for i, v in enumerate(arr) if v.__class__ is str and "计" in v]
        for i in hits:
            if _TOTAL.match(_WS.sub("", arr[i])):
                mask[i] = True
    return mask


def _blank(arr: np.ndarray) -> np.ndarray:
    """True where a cell is empty: None, NaN, or text of spaces only."""
    blank = pd.isna(arr)
    idx = [i for i, v in enumerate(arr) if v.__class__ is str and v[:1].isspace()]
    if idx:
        blank[idx] = [not arr[i].strip() for i in idx]
    return np.asarray(blank, dtype=bool)


def build(grid: SheetGrid, match: HeaderMatch, spec: TableSpec, src: int) -> SheetFrame:
    start = match.row + 1
    n = max(grid.nrows - start, 0)
    data = {key: _column(grid, j, start) for key, j in match.columns.items()}
    months = [_column(grid, mc.index, start) for mc in match.months] if match.wide else []
    filled = np.zeros(n, dtype=bool)
    for arr in [*data.values(), *months]:
        filled |= ~_blank(arr)
    look = [data[k] for k, j in match.columns.items() if j in match.header_cols[:3]]
    look += [_column(grid, j, start) for j in match.serial]
    look += [_column(grid, j, start) for j in match.header_cols[:3] if j not in match.columns.values()]
    totals = _totals(look, n) & filled
    last = int(np.flatnonzero(filled)[-1]) + 1 if filled.any() else 0
    keep = filled & ~totals
    ignored = int(last - keep[:last].sum())
    keep_idx = np.flatnonzero(keep)
    rows = (np.arange(start, start + n, dtype=np.int64) + 1)[keep_idx]
    if match.wide:
        fixed = {k: v[keep_idx] for k, v in data.items()}
        frame = melt(fixed, match.months, [m[keep_idx] for m in months], rows)
    else:
        frame = pd.DataFrame({k: pd.Series(v[keep_idx], dtype=object) for k, v in data.items()})
        frame["_row"] = pd.Series(rows, dtype="int64")
        if spec.title == "工资" and "pay" in match.headers:
            frame["_pay_header"] = pd.Series(np.full(len(frame), match.headers["pay"], dtype=object), dtype=object)
    for col in spec.columns:
        if col.key not in frame.columns:
            frame[col.key] = pd.Series(np.full(len(frame), None, dtype=object), dtype=object)
    frame["_src"] = np.int64(src)
    order = [c.key for c in spec.columns] + (["_pay_header"] if "_pay_header" in frame.columns else [])
    frame = frame[[*order, "_src", "_row"]]
    total_rows = (np.flatnonzero(totals) + start + 1).tolist()
    return SheetFrame(frame, int(len(keep_idx)), ignored, total_rows)


def letter(j: int) -> str:
    """Excel column letter of 0-based column j (0 → A, 26 → AA)."""
    s = ""
    j += 1
    while j:
        j, r = divmod(j - 1, 26)
        s = chr(65 + r) + s
    return s


def cells_preview(values: list[Any]) -> str:
    return "、".join(str(v) for v in values if v not in (None, ""))
