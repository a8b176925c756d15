"""Columnar read of a .csv file: the head as Python's csv module sees it, the body by pyarrow.

National exports run to millions of rows; `csv.reader` plus one Python string per cell took
45 s and 4.3 GB for 5,000,000 wage rows. Here:

- the encoding is sniffed on the first MiB (BOM → UTF-8/UTF-16; valid UTF-8; else GB18030) and
  pyarrow transcodes the rest in a stream (`ReadOptions(encoding=...)`);
- the first HEAD_ROWS + 1 rows are parsed by `csv.reader` exactly as the row-by-row path does, so
  header detection, title rows and 序号/合计 handling see the same cells. Parsing also gives the
  byte offset where each of those rows starts;
- once the header is known, pyarrow reads only the needed columns from the first data row's
  offset, every column as a string (Arrow buffers, never one Python object per cell; large_string,
  the type pandas' "str" columns hold, and "" read as empty in the same pass).

Anything pyarrow cannot read the same way (rows of another width, a field larger than a block,
bytes that are not valid in the sniffed encoding, …) makes `load` return None, and the caller
falls back to the exact row-by-row reader (csvfile.py), which also words every error.
Row positions: row k of the file (0-based, a quoted field with line breaks is one row, an empty
line is a row of empty cells) is shown as row k + 1 in both readers.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fupin_cli.sources.arrow_body import FastColumns

HEAD_BYTES = 1 << 20  # enough for the head rows of any sane export
BLOCK_BYTES = 8 << 20  # pyarrow block; a single row longer than this → exact reader
_BOMS = ((codecs.BOM_UTF8, "utf-8", "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16-le"),
         (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16-be"))


@dataclass
class Sniffed:
    encoding: str  # Python codec name of the body
    bom: int  # bytes of byte-order mark before the text
    text: str  # decoded head (whole file when it is short)
    complete: bool  # `text` is the whole file


def sniff(head: bytes, complete: bool) -> Sniffed | None:
    """Encoding of the file from its first bytes; None where the row-by-row reader must decide."""
    for bom, enc, _ in _BOMS:
        if head.startswith(bom):
            return _decode(head, enc, len(bom), complete)
    if b"\x00" in head[:4096]:
        return None  # UTF-16 without BOM or a binary file: the exact reader words it
    return _decode(head, "utf-8", 0, complete) or _decode(head, "gb18030", 0, complete)


def _decode(head: bytes, enc: str, bom: int, complete: bool) -> Sniffed | None:
    try:
        text = codecs.getincrementaldecoder(enc)().decode(head[bom:], final=complete)
    except UnicodeDecodeError:
        return None
    return Sniffed(enc, bom, text, complete)


class _Lines:
    """Lines of the head for csv.reader, counting the characters it has consumed."""

    def __init__(self, text: str) -> None:
        self._it = iter(io.StringIO(text, newline=""))
        self.used = 0

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        line = next(self._it)
        self.used += len(line)
        return line


def head_rows(s: Sniffed, delimiter: str, count: int) -> tuple[list[list[str]], list[int]] | None:
    """The first `count` rows and the character offset where each row (and the one after) starts.

    Rows cut by the end of a partial head are not trusted: None when fewer than `count` complete
    rows fit in the head of a longer file.
    """
    lines = _Lines(s.text)
    reader = csv.reader(lines, delimiter=delimiter)
    rows: list[list[str]] = []
    starts = [0]
    try:
        for row in reader:
            if not s.complete and lines.used >= len(s.text):
                break  # the last row may continue past the head
            rows.append(row)
            starts.append(lines.used)
            if len(rows) == count:
                break
    except csv.Error:
        return None
    if len(rows) < count and not s.complete:
        return None
    return rows, starts


def delimiter_of(text: str) -> str:
    head = text[:8192]
    return "\t" if head.count("\t") > head.count(",") else ","


@dataclass
class CsvBody:
    """The body of a CSV file, read by pyarrow once the header row is known."""

    path: Path
    sniffed: Sniffed
    delimiter: str
    width: int
    starts: list[int]  # character offset of each head row in `sniffed.text`
    full: Callable[[], Any]  # the exact row-by-row read (a SheetGrid)
    size: int = 0
    error: str | None = field(default=None, repr=False)

    def offset(self, row: int) -> int | None:
        """Byte offset of 0-based row `row`, if it is one of the head rows (or the one after)."""
        if row >= len(self.starts):
            return None
        s = self.sniffed
        return s.bom + len(s.text[:self.starts[row]].encode(s.encoding))

    def load(self, start: int, data: dict[int, bool], look: list[int],
             objects: frozenset[int] = frozenset()) -> FastColumns | None:
        """Rows from `start` of the columns in `data` and `look`, as text; None → exact reader."""
        import pyarrow as pa
        import pyarrow.csv as pcsv

        offset = self.offset(start)
        wanted = sorted({*data, *look})
        if offset is None or any(j >= self.width for j in wanted):
            return None
        if offset >= self.size:
            return FastColumns({j: text_cells(pa.array([], pa.large_string()), j in objects)[0] for j in wanted}, 0)
        names = [f"c{j}" for j in range(self.width)]
        try:
            with pa.OSFile(str(self.path), "r") as fh:  # Arrow reads the bytes into its own pool
                fh.seek(offset)
                table = pcsv.read_csv(
                    fh,
                    read_options=pcsv.ReadOptions(column_names=names, encoding=self.sniffed.encoding,
                                                  block_size=BLOCK_BYTES),
                    parse_options=pcsv.ParseOptions(delimiter=self.delimiter, newlines_in_values=True,
                                                    ignore_empty_lines=False),
                    # large_string is what pandas' "str" columns hold (no cast); "" (quoted or not) is
                    # read as empty right away, as the calamine read shows it
                    convert_options=pcsv.ConvertOptions(
                        column_types={names[j]: pa.large_string() for j in wanted},
                        include_columns=[names[j] for j in wanted],
                        strings_can_be_null=True, quoted_strings_can_be_null=True, null_values=[""]))
        except Exception as exc:  # another width, invalid bytes, a huge row, …: the exact reader decides
            self.error = str(exc)
            return None
        nrows = table.num_rows
        chunked = {j: table.column(names[j]) for j in wanted}
        del table
        cells: dict[int, Any] = {}
        texts: dict[int, Any] = {}
        for j in wanted:
            # one chunk: Arrow's dictionary encoding and takes are several times slower over many;
            # the chunks of a column are let go once copied (peak: the data plus one column)
            col = chunked.pop(j).combine_chunks()
            cells[j], texts[j] = text_cells(col, j in objects)
        pa.default_memory_pool().release_unused()
        return FastColumns(cells, nrows, texts)


def text_cells(col: Any, objects: bool) -> tuple[Any, Any]:
    """Like arrow_body._strings for a (large_string) column whose empty cells are null already."""
    import pandas as pd

    if objects:
        arr = col.to_numpy(zero_copy_only=False)
        return (arr if arr.dtype == object else arr.astype(object)), col
    return pd.array(col, dtype="str"), col
