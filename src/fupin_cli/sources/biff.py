"""Legacy .xls (BIFF8) workbooks: the date system and the resource limits, before calamine reads them.

xlrd (on_demand: the workbook globals only) gives the DATEMODE record, the shared-string table and
where each sheet's records start; calamine exposes none of these. A BIFF file is not compressed, but
it can still amplify: a 10-byte LABELSST record makes the reader copy a 32,767-character shared
string into one more cell (a 10 MB file → tens of GB), and one cell at IV65536 makes it allocate the
whole 65,536 × 256 range. The same limits as for .xlsx apply (limits.py): the used range of a sheet,
from the cells actually present (a DIMENSIONS record may lie), and the text it would materialise.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fupin_cli.sources.limits import (
    AREA_PER_BYTE,
    FREE_AREA,
    MAX_AREA,
    MAX_TEXT_BYTES,
    area_error,
    text_error,
)

_BOF, _EOF = 0x0809, 0x000A
_LABELSST = 0x00FD
_ROW, _ROW_HIDDEN = 0x0208, 0x0020  # ROW record; its option flags (offset 12) mark a hidden row
_AUTOFILTERINFO = 0x009D
_MULTI = (0x00BD, 0x00BE)  # MULRK, MULBLANK: row, first column, …, last column
# cell records: FORMULA, RSTRING, LABELSST, BLANK, NUMBER, LABEL, BOOLERR, RK (row, column first)
_CELLS = frozenset((0x0006, 0x00D6, 0x00FD, 0x0201, 0x0203, 0x0204, 0x0205, 0x027E, *_MULTI))
_HEAD = struct.Struct("<HH")


@dataclass
class BiffBook:
    """What the records say beyond the cells: the date system, and per sheet name its hidden rows
    (Excel row numbers) and whether it has an autofilter."""

    date1904: bool = False
    hidden_rows: dict[str, list[int]] = field(default_factory=dict)
    filtered: dict[str, bool] = field(default_factory=dict)


def check_biff(path: Path, display: str) -> BiffBook:
    """Raise InputError when a sheet of the .xls is over a limit; return its date system and hidden
    rows. A file xlrd cannot parse is left to calamine's own errors (1900 system, no check)."""
    import xlrd

    try:
        book = xlrd.open_workbook(str(path), on_demand=True)
    except Exception:
        return BiffBook()
    out = BiffBook()
    try:
        mem, names, starts = book.mem, book._sheet_names, book._sh_abs_posn
        strings = np.fromiter((len(s.encode("utf-8", "replace")) for s in book._sharedstrings), dtype=np.int64)
        for name, start in zip(names, starts, strict=False):
            out.hidden_rows[name], out.filtered[name] = _check_sheet(mem, start, strings, display, name)
        out.date1904 = book.datemode == 1
        return out
    finally:
        book.release_resources()


def _records(mem: bytes, pos: int) -> tuple[np.ndarray, int]:
    """Start offsets of the sheet's records (its BOF to its EOF, embedded charts' included) and the
    offset after them. Only this walk is serial; what the records hold is read with numpy."""
    starts: list[int] = []
    add, unpack, end = starts.append, _HEAD.unpack_from, len(mem) - 4
    depth = 0
    while pos <= end:
        rc, size = unpack(mem, pos)
        add(pos)
        pos += 4 + size
        if rc == _BOF:  # the sheet's own, or an embedded chart's
            depth += 1
        elif rc == _EOF:
            depth -= 1
            if depth <= 0:
                break
    return np.asarray(starts, dtype=np.int64), pos


def _u16(buf: np.ndarray, at: np.ndarray) -> np.ndarray:
    return buf[at].astype(np.int64) | (buf[at + 1].astype(np.int64) << 8)


def _check_sheet(mem: bytes, pos: int, strings: np.ndarray, display: str, sheet: str) -> tuple[list[int], bool]:
    at, stop = _records(mem, pos)
    buf = np.frombuffer(mem, dtype=np.uint8)
    buf = np.concatenate([buf, np.zeros(16, dtype=np.uint8)])  # reads past a truncated last record stay in bounds
    rc, size = _u16(buf, at), _u16(buf, at + 2)
    cell = np.isin(rc, list(_CELLS)) & (size >= 4)
    top_row = int(_u16(buf, at[cell] + 4).max(initial=-1))
    multi = np.isin(rc, _MULTI) & (size >= 6)
    last = _u16(buf, at[multi] + 4 + size[multi] - 2)
    top_col = max(int(_u16(buf, at[cell] + 6).max(initial=-1)), int(last.max(initial=-1)))
    allowed = min(MAX_AREA, max(FREE_AREA, (stop - pos) * AREA_PER_BYTE))
    if (top_row + 1) * (top_col + 1) > allowed:
        raise area_error(display, sheet, top_row + 1, top_col + 1)
    sst = at[(rc == _LABELSST) & (size >= 10)] + 10
    idx = _u16(buf, sst) | (_u16(buf, sst + 2) << 16)
    idx = idx[idx < len(strings)]
    if len(idx) and int(strings[idx].sum()) > MAX_TEXT_BYTES:
        raise text_error(display, sheet)
    rows = at[(rc == _ROW) & (size >= 16)] + 4
    hidden = _u16(buf, rows)[(_u16(buf, rows + 12) & _ROW_HIDDEN) != 0] + 1
    return sorted(int(r) for r in hidden), bool((rc == _AUTOFILTERINFO).any())
