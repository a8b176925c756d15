"""Body rows of a constant_memory worksheet written as ready-made XML, column by column.

xlsxwriter's per-cell `write_*` calls cost ~5 µs a cell (a 100,000-row roster: ~9 s). In constant_memory
mode xlsxwriter streams each finished row's `<row>…</row>` XML into a temp file (`row_data_fh`) and later
copies it into `<sheetData>`. Here the body rows are built the same way xlsxwriter 3.x would build them
(inline strings, `_xHHHH_` control-character escapes, `xml:space="preserve"`, `{:.16G}` numbers, Excel
serial dates through xlsxwriter's own converter) but once per distinct value of a column, then joined
row by row and appended to that stream; the dimension/row bookkeeping is updated so that the cells
written after them (合计, signature, merges) go through xlsxwriter as usual.

Only used when the worksheet is in constant_memory mode and nothing else is attached to the body rows;
`can_stream` says so, and `write_table` keeps the per-cell path otherwise. `ENABLED = False` switches
it off (the tests write every frame both ways and compare the cells).
"""

from __future__ import annotations

import datetime as dt
import decimal
import io
import math
import re
from collections.abc import Callable, Sequence
from itertools import chain, repeat
from typing import Any

import numpy as np
import pandas as pd
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.utility import _preserve_whitespace, _utf16_len, _utf16_truncate, xl_col_to_name
from xlsxwriter.worksheet import Worksheet

from fupin_cli.workbooks.cells import Formats, Kind, is_missing

# The streamed XML mirrors xlsxwriter 3.x internals (checked byte for byte by tests/test_row_xml.py);
# another major version falls back to the per-cell path rather than risk a different file.
ENABLED = xlsxwriter.__version__.split(".")[0] == "3"
CHUNK_ROWS = 4096  # rows joined per write: bounds the memory of one piece of XML (~5 MB)

# A text that xlsxwriter writes unchanged: no control/non-character (_xHHHH_ escapes), no literal
# _xHHHH_, no XML-special character, no leading/trailing whitespace, far below the 32,767 limit.
_SPECIAL = re.compile(r"[\x00-\x08\x0b-\x1f&<>\ufffe\uffff]|_x[0-9a-fA-F]{4}_")
_PLAIN_MAX = 16383
_NUMBER_KINDS = frozenset({"money", "int", "number"})
_DATE_KINDS = frozenset({"date", "datetime"})
_NEEDED = ("row_data_fh", "row_data_fh_closed", "previous_row", "table", "row_info", "comments",
           "_write_single_row", "_write_row", "_check_dimensions", "_convert_date_time",
           "_escape_control_characters", "_escape_data", "xls_strmax", "xls_rowmax", "xls_colmax")


def can_stream(ws: Worksheet, first_row: int, n_rows: int, n_cols: int) -> bool:
    """Whether rows first_row… of `ws` can be streamed as XML with the result of the per-cell path."""
    if not ENABLED or n_rows == 0 or n_cols == 0:
        return False
    if not getattr(ws, "constant_memory", False) or any(not hasattr(ws, a) for a in _NEEDED):
        return False
    if ws.row_data_fh is None or ws.row_data_fh_closed or ws.fh is not ws.row_data_fh:
        return False
    last_row = first_row + n_rows - 1
    if last_row >= ws.xls_rowmax or n_cols > ws.xls_colmax:
        return False  # the per-cell path drops such cells (write_* returns -1); keep that behaviour
    if first_row < ws.previous_row or (first_row == ws.previous_row and ws.table.get(first_row)):
        return False  # rows already flushed, or cells already pending in the first body row
    # Row heights/formats or comments on a body row would change its <row> element: per-cell path.
    body = range(first_row, last_row + 1)
    return not any(r in body for r in ws.row_info) and not any(r in body for r in ws.comments)


def _xf(fmt: Format) -> str:
    return f' s="{fmt._get_xf_index()}"'


class _CellXml:
    """The XML of a cell after its `r="A5` reference, exactly as xlsxwriter's `_write_cell` writes it."""

    def __init__(self, ws: Worksheet) -> None:
        self.ws = ws

    def string(self, text: str, style: str) -> str:
        if len(text) <= _PLAIN_MAX and not _SPECIAL.search(text) and not (text[:1].isspace() or text[-1:].isspace()):
            return f'"{style} t="inlineStr"><is><t>{text}</t></is></c>'  # nothing to escape or preserve
        ws = self.ws
        if len(text) > ws.xls_strmax // 2 and _utf16_len(text) > ws.xls_strmax:
            text = _utf16_truncate(text, ws.xls_strmax)  # what `_write_string` stores
        text = ws._escape_control_characters(text)
        space = ' xml:space="preserve"' if _preserve_whitespace(text) else ""
        # xlsxwriter would write a text shaped "<r>…</r>" unescaped as rich-text XML (invalid for a plain
        # value); it is escaped here like any other text.
        return f'"{style} t="inlineStr"><is><t{space}>{ws._escape_data(text)}</t></is></c>'

    @staticmethod
    def number(value: float, style: str) -> str:
        if not math.isfinite(value):  # as xlsxwriter without nan_inf_to_errors: never write "INF"
            raise TypeError("NAN/INF not supported in write_number()")
        return f'"{style}><v>{value:.16G}</v></c>'

    def datetime(self, value: Any, style: str) -> str:
        return self.number(self.ws._convert_date_time(value), style)

    @staticmethod
    def blank(style: str) -> str:
        return f'"{style}/>'

    def auto(self, value: object, fmts: Formats, bold: bool) -> str:
        """`cells.write_value` as XML (same decisions, same formats)."""

        def fmt(kind: str) -> str:
            return _xf(fmts.cell(kind, bold))

        if is_missing(value) or (isinstance(value, str) and value == ""):
            return self.blank(fmt("auto"))
        if isinstance(value, str):
            return self.string(value, fmt("text"))
        if isinstance(value, bool | np.bool_):
            return self.string("是" if value else "否", fmt("text"))
        if isinstance(value, int | np.integer):
            return self.number(int(value), fmt("int"))
        if isinstance(value, float | np.floating | decimal.Decimal):
            f = float(value)
            return self.string(str(value), fmt("text")) if math.isinf(f) else self.number(f, fmt("number"))
        if isinstance(value, pd.Timestamp | dt.datetime | np.datetime64):
            ts = pd.Timestamp(value)
            kind = "date" if ts == ts.normalize() else "datetime"
            py = ts.tz_localize(None).to_pydatetime() if ts.tzinfo else ts.to_pydatetime()
            return self.datetime(py, fmt(kind))
        if isinstance(value, dt.date):
            return self.datetime(value, fmt("date"))
        return self.string(str(value), fmt("text"))


def _suffixes(cx: _CellXml, kind: Kind, values: Sequence[Any], fmts: Formats, bold: bool) -> list[str]:
    """The cell XML (after the reference) of each value; computed once per distinct value."""
    if not values:
        return []  # a format must get its style id only when a cell uses it
    if kind == "auto":  # mixed Python objects: 1, 1.0 and True must not share a cache entry
        return [cx.auto(v, fmts, bold) for v in values]
    style = _xf(fmts.cell(kind, bold))
    if kind in _NUMBER_KINDS:
        one: Callable[[Any], str] = lambda v: cx.number(v, style)  # noqa: E731
    elif kind in _DATE_KINDS:
        one = lambda v: cx.datetime(v, style)  # noqa: E731
    else:
        one = lambda v: cx.string(v, style)  # noqa: E731
    blank = cx.blank(style)
    cache: dict[Any, str] = {}
    out = []
    numeric = kind in _NUMBER_KINDS
    for v in values:
        if v is None:
            out.append(blank)
            continue
        if numeric and v == 0:
            out.append(one(v))  # 0.0 == -0.0 as dict keys, but xlsxwriter writes "0" and "-0"
            continue
        s = cache.get(v)
        if s is None:
            s = cache[v] = one(v)
        out.append(s)
    return out


def _row_open(ws: Worksheet) -> str:
    """What follows `<row r="N"` for a row without row_info (default height, dyDescent…)."""
    buf, fh = io.StringIO(), ws.fh
    ws.fh = buf
    try:
        ws._write_row(0, None)
    finally:
        ws.fh = fh
    xml = buf.getvalue()
    head = '<row r="1"'
    if not xml.startswith(head):
        raise RuntimeError(f"unexpected xlsxwriter row XML: {xml!r}")
    return xml[len(head):]


def stream_rows(ws: Worksheet, first_row: int, kinds: Sequence[Kind], values: Sequence[Sequence[Any]],
                fmts: Formats, bold_last: bool = False) -> None:
    """Write body rows first_row… into the constant_memory row stream, as the per-cell path would.

    `values[j]` are column j's values prepared by `cells.column_values(…, kinds[j])` (None = blank cell,
    written with the column's format); columns start at 0. The caller checked `can_stream`. `bold_last`
    writes the last row with the bold formats (a frame whose last row is its own 合计).
    """
    n = len(values[0])
    last_row = first_row + n - 1
    # Dimensions first: `_check_dimensions` ignores rows above `previous_row`.
    ws._check_dimensions(first_row, 0)
    ws._check_dimensions(last_row, len(values) - 1)
    # Flush the pending row (the header) and mark the body as written; the next write (合计 row at
    # last_row + 1) then goes into a fresh row as usual.
    ws._write_single_row(last_row + 1)
    open_rest = _row_open(ws)
    cx = _CellXml(ws)
    letters = [xl_col_to_name(j) for j in range(len(values))]
    # Style ids are assigned on first use: same order as the per-cell path (row 1 left to right).
    n_plain = n - 1 if bold_last else n
    sfx = [_suffixes(cx, k, list(v[:n_plain]), fmts, False) for k, v in zip(kinds, values, strict=True)]
    if bold_last:
        for j, (k, v) in enumerate(zip(kinds, values, strict=True)):
            sfx[j] += _suffixes(cx, k, list(v[n_plain:]), fmts, True)
    write = ws.fh.write
    for lo in range(0, n, CHUNK_ROWS):
        hi = min(n, lo + CHUNK_ROWS)
        refs = [str(r) for r in range(first_row + lo + 1, first_row + hi + 1)]
        cells = [[f'<c r="{letter}{r}{s}' for r, s in zip(refs, sj[lo:hi], strict=True)]
                 for letter, sj in zip(letters, sfx, strict=True)]
        opens = [f'<row r="{r}"{open_rest}' for r in refs]
        write("".join(chain.from_iterable(zip(opens, *cells, repeat("</row>", hi - lo), strict=True))))
