"""Fast path for large .xlsx sheets: header from a calamine read of the sheet's head, body from fastexcel.

calamine's `to_python` builds one Python object per cell (≈5.6 s for 1,000,000 × 6 cells); fastexcel
reads the same cells into Arrow columns in ≈3.5 s. fastexcel, however, turns a column to one type:
a mixed column (a text ID column with a few number cells, dates typed partly as text) would come
back as guessed text ("452122199001011008" for the number 4.52122199001011e17) and validation could
no longer report the lost digits. So the body is read only where that is provably lossless:

- the head (first HEAD_ROWS rows, the merged ranges) is read by calamine from a copy of the
  workbook holding only those rows, so header detection sees exactly what the full read would;
- fastexcel reads the data rows below the header with `dtype_coercion="strict"` over all rows:
  any used column holding two kinds of cell (text and number, date and text, …) raises, and so do
  error cells such as #DIV/0!. Texts fastexcel counts as empty ("NA", "null", "nan", …) in a
  number/date column, error cells (#N/A) and NaN are caught afterwards. Any of these → None, and
  the caller reads the sheet with calamine as before (exact, slower).
- columns looked at only for 合计 labels (序号, first header columns not used as data) are read as
  text: a number there can never be mistaken for a totals label.

Row and column positions: with `header_row=None`, fastexcel's `skip_rows=k` starts at sheet row k
(0-based, counted from row 1 even when the sheet starts lower) and `use_columns`/`dtypes` take
absolute column indices, so Excel positions stay exact.
"""

from __future__ import annotations

import io
import posixpath
import re
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fupin_cli.errors import reader_failure

FAST_MIN_BYTES = 4 << 20  # sheet XML size from which the fast path pays off (≈20,000 rows)
_CHUNK = 1 << 20

_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_NS_PKG = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_ROW_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s>/]")
_SHEETDATA_OPEN = re.compile(rb"<((?:[A-Za-z_][\w.-]*:)?)sheetData(\s[^>]*)?(/?)>")
_EMPTY_SHEET = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                b"<sheetData/></worksheet>")
_EPOCH_FLOOR = np.datetime64("1900-01-01", "ms")  # calamine shows earlier serials as times of day


def sheet_members(zf: zipfile.ZipFile) -> dict[str, str]:
    """Worksheet name → zip member of its XML, from xl/workbook.xml and its relationships."""
    try:
        book = ET.fromstring(zf.read("xl/workbook.xml"))
        rels = ET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ET.ParseError):
        return {}
    target = {r.get("Id"): r.get("Target", "") for r in rels.iter(f"{_NS_PKG}Relationship")}
    out: dict[str, str] = {}
    for s in book.iter(f"{_NS_MAIN}sheet"):
        t = target.get(s.get(f"{_NS_REL}id"))
        if s.get("name") is None or not t:
            continue
        out[s.get("name", "")] = t.lstrip("/") if t.startswith("/") else posixpath.normpath(posixpath.join("xl", t))
    return out


def head_xml(zf: zipfile.ZipFile, member: str, rows: int, part: Any = None) -> bytes:
    """The sheet XML with only its first `rows` <row> elements (everything after sheetData kept).

    The whole member is decompressed (merged ranges come after the cells) but only the head and
    the tail are kept in memory. `part` is the member opened by the caller (limits.CappedPart,
    which counts what passes), else zf.open(member).
    """
    head = bytearray()
    cut: int | None = None
    prefix = b""
    with part if part is not None else zf.open(member) as fh:
        while cut is None:
            chunk = fh.read(_CHUNK)
            if not chunk:
                return bytes(head)  # fewer rows than asked: the sheet as it is
            head += chunk
            m = _SHEETDATA_OPEN.search(head)
            if m is None:
                continue
            if m.group(3) == b"/":
                return bytes(head) + fh.read()  # <sheetData/>: no cells at all
            prefix = m.group(1)
            found = 0
            for r in _ROW_TAG.finditer(head, m.end()):
                found += 1
                if found > rows:
                    cut = r.start()
                    break
            if cut is None and b"</" + prefix + b"sheetData>" in head:
                return bytes(head) + fh.read()
        close = b"</" + prefix + b"sheetData>"
        window = bytes(head[cut:])
        del head[cut:]
        while True:
            # `h` (memchr, ~free) is rare in cell markup: only chunks holding one are searched
            at = window.find(close) if b"h" in window else -1
            if at >= 0:
                return bytes(head) + window[at:] + fh.read()
            chunk = fh.read(_CHUNK)
            if not chunk:
                return bytes(head) + close + b"</" + prefix + b"worksheet>"
            carry = window[-len(close):]
            window = carry + chunk if b"h" in carry or b"h" in chunk else chunk


_SI_END = re.compile(rb"</(?:[A-Za-z_][\w.-]*:)?si>")
_SST_OPEN = re.compile(rb"<((?:[A-Za-z_][\w.-]*:)?)sst(?:\s[^>]*)?>")
_SST_END = re.compile(rb"</(?:[A-Za-z_][\w.-]*:)?sst>")


def head_strings(zf: zipfile.ZipFile, member: str, used: int) -> bytes:
    """The shared-strings part cut after its first `used` strings (all a sheet head refers to).

    A workbook saved by Excel lists ~every distinct text of a 1,000,000-row sheet here; the head
    needs the first few only, which come first (strings are numbered in order of appearance).
    """
    data = bytearray()
    opening: re.Match[bytes] | None = None
    count, pos = 0, 0
    with zf.open(member) as fh:
        while True:
            chunk = fh.read(_CHUNK)
            data += chunk
            if opening is None:
                opening = _SST_OPEN.search(data)
                pos = opening.end() if opening is not None else 0
            if opening is not None:
                for m in _SI_END.finditer(data, pos):
                    if count >= used:
                        break
                    count, pos = count + 1, m.end()
                if count >= used:
                    return bytes(data[:pos]) + b"</" + opening.group(1) + b"sst>"
            if not chunk or _SST_END.search(data, max(0, len(data) - len(chunk) - 16)):
                return bytes(data)  # fewer strings than referred to: the part as it is


def _strings_used(sheet: bytes) -> int:
    """1 + the highest shared-string index the (small) head XML refers to; all strings if unsure."""
    try:
        root = ET.fromstring(sheet)
    except ET.ParseError:
        return 1 << 62
    top = -1
    for c in root.iter():
        if c.tag.rpartition("}")[2] == "c" and c.get("t") == "s":
            v = next((x for x in c if x.tag.rpartition("}")[2] == "v"), None)
            try:
                top = max(top, int((v.text or "").strip())) if v is not None else top
            except ValueError:
                return 1 << 62
    return top + 1


def head_workbook(path: Path, member: str, rows: int, budget: Any = None, sheet_name: str = "") -> io.BytesIO:
    """An in-memory copy of the workbook whose sheet `member` holds only its first `rows` rows.

    With a limits.Budget, the member is streamed with its caps and checked (limits.check_sheet)
    in this same pass; `budget.scans[sheet_name]` then holds what was counted.
    """
    from fupin_cli.sources.limits import CappedPart, PartScan, check_sheet, shared_matters

    buf = io.BytesIO()
    with zipfile.ZipFile(path) as zf, zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as out:
        others = set(sheet_members(zf).values()) - {member}
        part = None
        if budget is not None:
            info = zf.getinfo(member)
            scan = budget.scans[sheet_name] = PartScan(count_shared=shared_matters(info.file_size, budget.strings),
                                                       look_formulas=False)  # `<f` costs a pass: cheap hints only
            part = CappedPart(zf, info, budget, f"工作表“{sheet_name}”", scan.feed)
        sheet = head_xml(zf, member, rows, part)
        if budget is not None:
            check_sheet(zf, info, scan, budget.strings, budget.display, sheet_name)
        used = _strings_used(sheet)
        for info in zf.infolist():
            if info.filename == member:
                out.writestr(info.filename, sheet)
            elif info.filename.lower() == "xl/sharedstrings.xml":
                out.writestr(info.filename, head_strings(zf, info.filename, used))
            elif info.filename in others:
                out.writestr(info.filename, _EMPTY_SHEET)  # other sheets are read on their own
            else:
                out.writestr(info.filename, zf.read(info))
    buf.seek(0)
    return buf


@dataclass
class FastColumns:
    """Cells of the data rows: absolute column index → array (float64, datetime64[ms] or object)."""

    cells: dict[int, Any]  # np.ndarray, or pandas' Arrow-backed "str" array for text
    nrows: int
    texts: dict[int, Any] = field(default_factory=dict)  # text columns as Arrow arrays ("" → null)

    def suspect(self, j: int) -> np.ndarray | None:
        """Blank-or-计 rows of text column j, computed only for the column asked (the key column)."""
        col = self.texts.get(j)
        return None if col is None else _suspect_mask(col)


@dataclass
class LazyBody:
    """A large sheet whose data rows are read only once the header is known."""

    path: Path
    sheet: str
    full: Callable[[], Any]  # calamine read of the whole sheet (the exact fallback)
    reader: Any = field(default=None, repr=False)

    def load(self, start: int, data: dict[int, bool], look: list[int],
             objects: frozenset[int] = frozenset()) -> FastColumns | None:
        return load_body(self, start, data, look, objects)


# Every character Python's str.isspace() accepts (RE2 has no such class): empty-looking cells.
_SPACES = r"^[\p{Z}\t\n\x{0b}\f\r\x{1c}-\x{1f}\x{85}]*$"


def _strings(col: Any, objects: bool) -> tuple[Any, Any]:
    """Text cells ("" → empty, as in the calamine read), and the Arrow column for `_suspect_mask`.

    As pandas' Arrow-backed "str" array (no Python object per cell; validation's text checks run
    in Arrow), or as an object array where `objects` (month columns of a wide sheet, see wide.melt).
    """
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pac

    col = pac.if_else(pac.equal(col, ""), pa.scalar(None, pa.string()), col)
    if objects:
        arr = col.to_numpy(zero_copy_only=False)
        return (arr if arr.dtype == object else arr.astype(object)), col
    return pd.array(col, dtype="str"), col


def _suspect_mask(col: Any) -> np.ndarray:
    import pyarrow.compute as pac

    return pac.fill_null(pac.or_(pac.match_substring_regex(col, _SPACES), pac.match_substring(col, "计")),
                         True).to_numpy(zero_copy_only=False)


def _dates(col: Any, native: bool) -> np.ndarray | None:
    arr = col.to_numpy(zero_copy_only=False).astype("datetime64[ms]")
    if (arr[~np.isnat(arr)] < _EPOCH_FLOOR).any():
        return None
    if native:
        return arr
    # as calamine shows them: date when at midnight, else datetime
    out = np.empty(len(arr), dtype=object)
    ok = ~np.isnat(arr)
    midnight = ok & (arr == arr.astype("datetime64[D]"))
    out[midnight] = arr[midnight].astype("datetime64[D]").astype(object)
    timed = ok & ~midnight
    out[timed] = arr[timed].astype(object)
    return out


def load_body(body: LazyBody, start: int, data: dict[int, bool], look: list[int],
              objects: frozenset[int] = frozenset()) -> FastColumns | None:
    """Data rows from sheet row `start` (0-based) of the columns in `data` (→ date-typed?) and `look`.

    Columns in `objects` come back as object arrays (Python values, as calamine gives them).

    Returns None whenever the result might differ from calamine's (the caller falls back).
    """
    import fastexcel

    look = [j for j in look if j not in data]
    try:
        if body.reader is None:
            body.reader = fastexcel.read_excel(str(body.path))
        sheet = body.reader.load_sheet(
            body.sheet, header_row=None, skip_rows=start, schema_sample_rows=None, dtype_coercion="strict",
            use_columns=sorted([*data, *look]), dtypes={j: "string" for j in look} or None)
        batch, errors = sheet.to_arrow_with_errors()
        columns = {c.absolute_index: c.dtype for c in sheet.selected_columns}
    except BaseException as exc:  # mixed column, error cell, a panic…: the exact reader decides (and words any error)
        if not reader_failure(exc):
            raise
        return None
    if errors is not None and errors.errors:
        return None
    if sorted(columns) != sorted([*data, *look]):
        return None
    n = batch.num_rows
    cells: dict[int, np.ndarray] = {}
    texts: dict[int, Any] = {}
    for pos, (j, dtype) in enumerate(columns.items()):
        col = batch.column(pos)
        if dtype == "null":
            cells[j] = np.full(n, None, dtype=object)
        elif dtype == "string":
            cells[j], texts[j] = _strings(col, j in objects)
        elif dtype == "float":
            arr = col.to_numpy(zero_copy_only=False).astype(np.float64)
            if col.null_count != int(np.isnan(arr).sum()):
                return None  # a NaN cell: text "nan" fastexcel parsed as a number
            cells[j] = arr
        elif dtype in ("datetime", "date"):
            arr = _dates(col, native=data.get(j, False))
            if arr is None:
                return None
            cells[j] = arr
        elif dtype == "boolean":
            cells[j] = np.array(col.to_pylist(), dtype=object)
        else:  # int (.xls only), duration: rare, keep calamine's own objects
            return None
        if len(cells[j]) != n:
            return None
    return FastColumns(cells, n, texts)
