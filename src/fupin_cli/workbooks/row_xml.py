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
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.utility import _preserve_whitespace, _utf16_len, _utf16_truncate, xl_col_to_name
from xlsxwriter.worksheet import Worksheet

from fupin_cli.workbooks.cells import Formats, Kind, is_missing, per_text_sum, utf8_parts

# The streamed XML mirrors xlsxwriter 3.x internals (checked byte for byte by tests/test_row_xml.py);
# another major version falls back to the per-cell path rather than risk a different file.
ENABLED = xlsxwriter.__version__.split(".")[0] == "3"
CHUNK_ROWS = 16384  # rows built and written at a time: bounds the memory of one piece of XML (~20 MB)

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


def _auto_suffixes(cx: _CellXml, values: Sequence[Any], fmts: Formats, bold: bool) -> list[str]:
    """The cell XML (after the reference) of each value of an "auto" column, one by one: mixed Python
    objects (1, 1.0 and True) decide their own format."""
    return [cx.auto(v, fmts, bold) for v in values]


# --- the same XML built column-wise with Arrow's string kernels -----------------------------------

def _s(text: str) -> pa.Scalar:
    return pa.scalar(text, pa.large_string())


def _plain_texts(arr: pa.Array) -> np.ndarray:
    """Texts `_CellXml.string` writes unchanged (see _SPECIAL), decided on the UTF-8 bytes; a text
    flagged not plain is merely written by `_CellXml.string` one at a time (exact either way)."""
    offsets, b = utf8_parts(arr)
    bad = ((b < 0x20) & (b != 0x09) & (b != 0x0A)) | (b == 0x26) | (b == 0x3C) | (b == 0x3E)
    if len(b) > 1:  # "_x" (a possible _xHHHH_) and U+FFC0…U+FFFF (EF BF xx, holding U+FFFE/U+FFFF)
        bad[:-1] |= ((b[:-1] == 0x5F) & (b[1:] == 0x78)) | ((b[:-1] == 0xEF) & (b[1:] == 0xBF))
    plain = per_text_sum(offsets, bad) == 0
    plain &= pc.utf8_length(arr).to_numpy(zero_copy_only=False) <= _PLAIN_MAX
    for end in (pc.utf8_slice_codeunits(arr, 0, 1), pc.utf8_slice_codeunits(arr, -1)):
        chars = pc.unique(end).to_pylist()  # a handful: first/last characters tested like str.isspace
        spaces = [c for c in chars if c is not None and c.isspace()]
        if spaces:
            plain &= ~pc.is_in(end, value_set=pa.array(spaces, pa.large_string())).to_numpy(zero_copy_only=False)
    return plain


def _text_suffixes(cx: _CellXml, values: Sequence[Any], style: str) -> pa.Array:
    arr = pa.array(values, type=pa.large_string())
    out = pc.binary_join_element_wise(_s(f'"{style} t="inlineStr"><is><t>'), arr, _s("</t></is></c>"), _s(""))
    out = out.fill_null(cx.blank(style))
    odd = np.flatnonzero(~_plain_texts(arr) & arr.is_valid().to_numpy(zero_copy_only=False))
    if len(odd):
        fixed = pa.array([cx.string(values[i], style) for i in odd.tolist()], pa.large_string())
        mask = np.zeros(len(arr), bool)
        mask[odd] = True
        out = pc.replace_with_mask(out, pa.array(mask), fixed)
    return out


def _number_suffixes(cx: _CellXml, values: Sequence[Any], style: str) -> pa.Array:
    """`{:.16G}` once per distinct value (an int is formatted as the float Python converts it to);
    0 and -0 are told apart by their sign bit, as xlsxwriter writes "0" and "-0"."""
    x = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    present = ~np.isnan(x)
    out = np.full(len(x), cx.blank(style), dtype=object)
    if present.any():
        u, inv = np.unique(x[present], return_inverse=True)
        texts = np.array([cx.number(float(v), style) for v in u.tolist()], dtype=object)
        out[present] = texts[inv.reshape(-1)]
        zero = present & (x == 0)  # np.unique keeps one of 0.0 and -0.0
        out[zero] = cx.number(0.0, style)
        out[zero & np.signbit(x)] = cx.number(-0.0, style)
    return pa.array(out, pa.large_string())


def _cached_suffixes(cx: _CellXml, kind: Kind, values: Sequence[Any], style: str) -> pa.Array:
    """Dates: once per distinct value through xlsxwriter's own converter."""
    blank = cx.blank(style)
    cache: dict[Any, str] = {}
    out = []
    for v in values:
        if v is None:
            out.append(blank)
            continue
        t = cache.get(v)
        if t is None:
            t = cache[v] = cx.datetime(v, style)
        out.append(t)
    return pa.array(out, pa.large_string())


def _suffix_array(cx: _CellXml, kind: Kind, values: Sequence[Any], style: str) -> pa.Array:
    if kind in _NUMBER_KINDS:
        return _number_suffixes(cx, values, style)
    if kind in _DATE_KINDS:
        return _cached_suffixes(cx, kind, values, style)
    try:
        return _text_suffixes(cx, values, style)
    except (pa.ArrowException, UnicodeError):  # a text Arrow cannot hold (lone surrogate): one by one
        return pa.array([cx.blank(style) if v is None else cx.string(v, style) for v in values], pa.large_string())


def _row_open(ws: Worksheet, height: float | None = None) -> str:
    """What follows `<row r="N` for a body row: default height, or the `height` `set_row` would give it."""
    buf, fh = io.StringIO(), ws.fh
    info = None
    if height is not None:
        # set_row's own conversion (points → pixels → row properties), read back and undone: this row
        # is written here, not by xlsxwriter.
        row = ws.previous_row
        had = (ws.row_info.get(row), ws.row_sizes.get(row)) if row in ws.row_info else None
        ws.set_row(row, height)
        info = ws.row_info.pop(row)
        ws.row_sizes.pop(row, None)
        if had is not None:
            ws.row_info[row], ws.row_sizes[row] = had
    ws.fh = buf
    try:
        ws._write_row(0, None, info)
    finally:
        ws.fh = fh
    xml = buf.getvalue()
    if not xml.startswith('<row r="1"'):
        raise RuntimeError(f"unexpected xlsxwriter row XML: {xml!r}")
    return xml[len('<row r="1'):]  # from the quote closing r="…"


def _styles(cx: _CellXml, kinds: Sequence[Kind], values: Sequence[Sequence[Any]], fmts: Formats, lo: int, hi: int,
            bold: bool) -> list[str | list[str]]:
    """Per column: its style attribute, or (auto) the finished suffixes of rows lo..hi. Style ids are
    assigned on first use, in the per-cell path's order: row by row, left to right."""
    if hi <= lo:
        return []
    return [_auto_suffixes(cx, v[lo:hi], fmts, bold) if k == "auto" else _xf(fmts.cell(k, bold))
            for k, v in zip(kinds, values, strict=True)]


def stream_rows(ws: Worksheet, first_row: int, kinds: Sequence[Kind], values: Sequence[Sequence[Any]],
                fmts: Formats, bold_last: bool = False, heights: Sequence[float] | None = None) -> None:
    """Write body rows first_row… into the constant_memory row stream, as the per-cell path would.

    `values[j]` are column j's values prepared by `cells.column_values(…, kinds[j])` (None = blank cell,
    written with the column's format); columns start at 0. The caller checked `can_stream`. `bold_last`
    writes the last row with the bold formats (a frame whose last row is its own 合计); `heights` are
    the rows' heights in points (the per-cell path's `set_row`), None for the default height.
    """
    n = len(values[0])
    last_row = first_row + n - 1
    # Row properties first (set_row needs the row still unwritten), then the dimensions:
    # `_check_dimensions` ignores rows above `previous_row`.
    opens = _row_opens(ws, n, heights)
    ws._check_dimensions(first_row, 0)
    ws._check_dimensions(last_row, len(values) - 1)
    # Flush the pending row (the header) and mark the body as written; the next write (合计 row at
    # last_row + 1) then goes into a fresh row as usual.
    ws._write_single_row(last_row + 1)
    cx = _CellXml(ws)
    letters = [xl_col_to_name(j) for j in range(len(values))]
    n_plain = n - 1 if bold_last else n
    plain = _styles(cx, kinds, values, fmts, 0, n_plain, False)
    bold = _styles(cx, kinds, values, fmts, n_plain, n, True)
    write = _byte_writer(ws.fh)
    for lo in range(0, n, CHUNK_ROWS):
        hi = min(n, lo + CHUNK_ROWS)
        parts: list[Any] = ['<row r="', None, opens if isinstance(opens, str) else opens[lo:hi]]
        for j, k in enumerate(kinds):
            parts += [f'<c r="{letters[j]}', None, _chunk_suffixes(cx, k, values[j], plain, bold, j, lo, hi,
                                                                     n_plain)]
        parts.append("</row>")
        refs = pc.cast(pa.array(np.arange(first_row + lo + 1, first_row + hi + 1)), pa.large_string())
        parts = [refs if p is None else _s(p) if isinstance(p, str) else p for p in parts]
        xml = pc.binary_join_element_wise(*parts, _s(""))
        offsets, data = utf8_parts(xml)
        write(data[offsets[0]:offsets[-1]])


def _byte_writer(fh: Any) -> Callable[[np.ndarray], None]:
    """Write UTF-8 bytes into xlsxwriter's row stream: straight into the buffer under its UTF-8 text
    file (flushed first, so the order stays), else decoded as text."""
    buffer = getattr(fh, "buffer", None)
    if buffer is None or (getattr(fh, "encoding", "") or "").replace("-", "").lower() != "utf8":
        return lambda b: fh.write(b.tobytes().decode("utf-8"))

    def write(b: np.ndarray) -> None:
        fh.flush()
        buffer.write(memoryview(b))
    return write


def _row_opens(ws: Worksheet, n: int, heights: Sequence[float] | None) -> str | pa.Array:
    if heights is None:
        return _row_open(ws)
    h = np.asarray(heights, dtype=np.float64)
    u, inv = np.unique(h, return_inverse=True)
    texts = pa.array([_row_open(ws, float(x)) for x in u.tolist()], pa.large_string())
    return texts.take(pa.array(inv.reshape(-1)))


def _chunk_suffixes(cx: _CellXml, kind: Kind, vals: Sequence[Any], plain: list, bold: list, j: int, lo: int,
                    hi: int, n_plain: int) -> pa.Array:
    """Column j's cell XML (after the reference) for rows lo..hi; the rows from n_plain on are bold."""
    pieces = []
    for styles, a, b in ((plain, lo, min(hi, n_plain)), (bold, max(lo, n_plain), hi)):
        if b <= a:
            continue
        st = styles[j]
        if isinstance(st, list):  # auto: finished already
            base = 0 if styles is plain else n_plain
            pieces.append(pa.array(st[a - base:b - base], pa.large_string()))
        else:
            pieces.append(_suffix_array(cx, kind, vals[a:b], st))
    return pieces[0] if len(pieces) == 1 else pa.concat_arrays(pieces)
