"""The printed-table layout shared by every report sheet (SPEC §6.1).

Title row merged across the table (bold 16pt), header row, data rows, optional 合计 row and signature
line; frozen header, fitted widths, A4 landscape, 1 page wide, header repeated on every printed page.
Rows are written strictly top to bottom so that the layout also works in constant_memory mode; there the
body rows are streamed as XML by `row_xml` (same cells, ~10x faster than xlsxwriter's per-cell calls).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from fupin_cli.labels import label
from fupin_cli.workbooks import row_xml
from fupin_cli.workbooks.cells import (
    Formats,
    Kind,
    column_values,
    fit_width,
    text_width,
    text_widths,
    values_width,
    write_value,
)

SIGNATURE = "经办人:　　　　审核人:　　　　负责人:　　　　日期:"
SEQ_HEADER = "序号"
TOTAL_LABEL = "合计"


@dataclass(frozen=True)
class Col:
    """One output column: the frame column `key`, how its values are written, and its Chinese header.

    The header is `label(key)` from data/labels.toml, or `label(label)` when this column is labelled
    differently from others of the same key; `text` is for headers that are not labels (the ledger
    export's own column names, 序号).
    """

    key: str
    kind: Kind = "text"
    total: bool = False  # summed into the 合计 row
    max_width: int = 50
    label: str | None = None
    text: str | None = None
    min_width: int = 4  # e.g. room for a seal in 收款单位(签章)

    @property
    def header(self) -> str:
        return self.text if self.text is not None else label(self.label or self.key)


@dataclass(frozen=True)
class TableInfo:
    header_row: int
    first_row: int  # first data row (0-based); == total/last row + 1 when there is no data
    n_rows: int
    total_row: int | None


def _footer(note: str | None) -> str:
    # &A names the sheet: its pages are numbered from 1 (set_start_page) whatever is printed with it.
    centre = "&C&A 第 &P 页"
    if not note:
        return centre
    return "&L" + note.replace("&", "&&") + centre


def setup_print(ws: Worksheet, header_row: int, n_cols: int, footer_note: str | None = None) -> None:
    """A4 landscape, fit 1 page wide, header row repeated, frozen below the header."""
    ws.set_landscape()
    ws.set_paper(9)  # 9 = A4
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(header_row)
    ws.freeze_panes(header_row + 1, 0)
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.center_horizontally()
    ws.set_footer(_footer(footer_note))
    ws.set_start_page(1)


TITLE_SCALE = 16 / 11 * 1.1  # the title's 16pt bold characters against the body's 11pt, with a margin


def _span_title(widths: list[float], title: str) -> list[float]:
    """Widen the columns (proportionally) so that the merged title row holds the whole title: a narrow
    table such as 县区汇总 would otherwise print its title clipped."""
    need = text_width([title]) * TITLE_SCALE + 2
    have = sum(widths)
    if have >= need or have <= 0:
        return widths
    return [round(w * need / have, 1) for w in widths]


LINE_HEIGHT = 15.0  # points per line of 11pt text


def _row_heights(kinds: list[Kind], values: list[list], widths: list[float]) -> list[float] | None:
    """Row heights that show every line of the wrapping ("wrap") cells, or None when every row is one
    line. Spreadsheet programs do not grow a row for wrapped text on their own when printing."""
    wraps = [j for j, k in enumerate(kinds) if k == "wrap"]
    if not wraps or not values or not values[0]:
        return None
    lines = np.ones(len(values[0]), np.int64)
    for j in wraps:
        room = max(widths[j] - 1.5, 1.0)
        # A blank cell (width 0) needs no line of its own; the row keeps at least one.
        np.maximum(lines, np.ceil(text_widths(values[j]) / room).astype(np.int64), out=lines)
    if lines.max() == 1:
        return None
    return [LINE_HEIGHT * k + 2 if k > 1 else LINE_HEIGHT for k in lines.tolist()]


def _write_cells(ws: Worksheet, fmts: Formats, first: int, kinds: list[Kind], values: list[list],
                 bold_last: bool, heights: list[float] | None = None) -> None:
    """The body rows cell by cell through xlsxwriter (any worksheet; reference for `row_xml`)."""
    writers = []
    for kind, vals in zip(kinds, values, strict=True):
        fn = {"money": ws.write_number, "int": ws.write_number, "number": ws.write_number,
              "date": ws.write_datetime, "datetime": ws.write_datetime}.get(kind, ws.write_string)
        writers.append((fn, fmts.cell(kind), fmts.cell(kind, bold_last), kind == "auto", vals))

    write_blank = ws.write_blank
    n = len(values[0]) if values else 0
    last_i = n - 1 if bold_last else -1
    for i in range(n):
        row = first + i
        if heights is not None:
            ws.set_row(row, heights[i])
        for j, (fn, fmt, bold_fmt, auto, vals) in enumerate(writers):
            v = vals[i]
            f = bold_fmt if i == last_i else fmt
            if auto:
                write_value(ws, row, j, v, fmts, i == last_i)
            elif v is None:
                write_blank(row, j, None, f)
            else:
                fn(row, j, v, f)


def write_table(
    ws: Worksheet,
    fmts: Formats,
    *,
    title: str,
    cols: list[Col],
    frame: pd.DataFrame,
    start_row: int = 0,
    seq: bool = True,
    totals: Literal["sum", "last_row", "none"] = "sum",
    count_text: tuple[str, str] | None = None,
    signature: bool = False,
    notes: list[str] | None = None,
    footer_note: str | None = None,
    print_setup: bool = True,
    seq_start: int = 1,
    in_words: str | None = None,
) -> TableInfo:
    """Write a titled table; `count_text` = (column key, "共{n}人") puts the row count in the 合计 row.

    `totals="sum"` writes computed sums of the `total` columns (numbers, not formulas, so that readers
    which do not calculate still see them); `"last_row"` shows the frame's own last row (already a
    合计 row) in bold. `in_words` names the money column whose total is also written in words (大写).
    """
    if seq:
        cols = [Col("__seq__", "int", text=SEQ_HEADER), *cols]
        frame = frame.assign(__seq__=range(seq_start, seq_start + len(frame)))
    n = len(frame)
    values = []
    for c in cols:
        s = frame[c.key] if c.key in frame.columns else pd.Series([None] * n, index=frame.index, dtype=object)
        values.append(column_values(s, c.kind))
    sums, total_texts = _totals(cols, values, n, count_text) if totals == "sum" else ({}, {})
    widths = _set_widths(ws, cols, values, sums, total_texts, title)

    last_col = len(cols) - 1
    _merged_line(ws, start_row, last_col, title, fmts.title)
    ws.set_row(start_row, 30)
    header_row = start_row + 1
    for j, c in enumerate(cols):
        ws.write_string(header_row, j, c.header, fmts.header)
    first = header_row + 1

    kinds = [c.kind for c in cols]
    heights = _row_heights(kinds, values, widths)
    if row_xml.can_stream(ws, first, n, len(cols)):
        row_xml.stream_rows(ws, first, kinds, values, fmts, bold_last=totals == "last_row", heights=heights)
    else:
        _write_cells(ws, fmts, first, kinds, values, bold_last=totals == "last_row", heights=heights)

    r = first + n
    total_row = None
    if totals == "sum":
        total_row = r
        _write_total_row(ws, fmts, r, cols, sums, total_texts)
        r += 1
        j = next((j for j, c in enumerate(cols) if c.key == in_words), None)
        if j is not None and j in sums:  # the amount in words, as finance signs it
            from fupin_cli.money import amount_in_words

            _merged_line(ws, r, last_col, f"合计金额(大写):{amount_in_words(sums[j])}", fmts.cell("text", True))
            r += 1
    if signature:
        r += 1  # one blank row before the signature line
        _merged_line(ws, r, last_col, SIGNATURE, fmts.signature)
        ws.set_row(r, 24)
    for line in notes or []:  # remarks below the table, one merged line each
        r += 1
        _merged_line(ws, r, last_col, line, fmts.signature)
    if print_setup:
        setup_print(ws, header_row, len(cols), footer_note)
    return TableInfo(header_row=header_row, first_row=first, n_rows=n, total_row=total_row)


def _totals(cols: list[Col], values: list[list], n: int,
            count_text: tuple[str, str] | None) -> tuple[dict[int, float], dict[int, str]]:
    """The 合计 row: sums of the `total` columns (numbers, not formulas) and its texts (合计, 共{n}人)."""
    sums: dict[int, float] = {}
    for j, c in enumerate(cols):
        if c.total:
            total = float(sum(v for v in values[j] if v is not None))
            total = round(total, 2) if c.kind == "money" else total
            if math.isfinite(total):  # a sum beyond 1.8e308 is left blank rather than crash the writer
                sums[j] = total
    texts = {0: TOTAL_LABEL}
    if count_text is not None:
        j = next(j for j, c in enumerate(cols) if c.key == count_text[0])
        texts[j] = count_text[1].format(n=n)
    return sums, texts


def _set_widths(ws: Worksheet, cols: list[Col], values: list[list], sums: dict[int, float],
                total_texts: dict[int, str], title: str) -> list[float]:
    """Widths from the content, before any row is written (constant_memory cannot look back), widened
    so that the merged title row holds the whole title."""
    widths = []
    for j, c in enumerate(cols):
        w = values_width(values[j], c.kind)
        if j in sums:
            w = max(w, values_width([sums[j]], c.kind))
        if j in total_texts:
            w = max(w, text_width([total_texts[j]]))
        widths.append(max(c.min_width, fit_width(c.header, w, hi=c.max_width)))
    widths = _span_title(widths, title)
    for j, w in enumerate(widths):
        ws.set_column(j, j, w)
    return widths


def _merged_line(ws: Worksheet, r: int, last_col: int, text: str, fmt: Format) -> None:
    """One text across the table's width (title, signature, remarks)."""
    if last_col > 0:
        ws.merge_range(r, 0, r, last_col, "", fmt)
    ws.write_string(r, 0, text, fmt)


def _write_total_row(ws: Worksheet, fmts: Formats, r: int, cols: list[Col], sums: dict[int, float],
                     total_texts: dict[int, str]) -> None:
    for j, c in enumerate(cols):
        if j in sums:
            ws.write_number(r, j, sums[j], fmts.cell(c.kind, True))
        elif j in total_texts:
            ws.write_string(r, j, total_texts[j], fmts.cell("text", True))
        else:
            ws.write_blank(r, j, None, fmts.cell("text", True))
