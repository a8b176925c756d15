"""Read a .csv file into a SheetGrid: UTF-8 with or without BOM, GBK/GB18030 as WPS exports, or UTF-16
with a BOM (Excel's "Unicode 文本", tab-separated)."""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

from fupin_cli.errors import InputError, os_reason
from fupin_cli.sources.workbook import SheetGrid

# utf-8-sig first: valid UTF-8 is almost never valid-looking GBK by accident, the reverse is
# common; gb18030 is a superset of GBK/GB2312 so one fallback covers WPS exports.
ENCODINGS = ("utf-8-sig", "gb18030")


def decode(data: bytes, display: str) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    head = data[:4096]
    if head.count(b"\x00") > max(2, len(head) // 100):
        # a binary file renamed .csv (a stray NUL or two in text is reported per cell instead)
        raise InputError(f"文件“{display}”不是CSV文本文件(可能是其他格式改了扩展名),请另存为CSV(逗号分隔)后再试。",
                         code="input.not_spreadsheet")
    for enc in ENCODINGS:
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise InputError(f"文件“{display}”的文字编码无法识别(既不是UTF-8也不是GBK),请用Excel/WPS另存为CSV后再试。",
                     code="input.encoding")


def _delimiter(text: str) -> str:
    head = text[:8192]
    return "\t" if head.count("\t") > head.count(",") else ","


def read_csv(path: Path, display: str) -> SheetGrid:
    """The head rows as text, the body read by pyarrow once the header is known (csv_columns.py);
    the exact row-by-row read where that path cannot be sure. The sheet name is the file stem."""
    return _columnar(path, display) or read_rows(path, display)


def _columnar(path: Path, display: str) -> SheetGrid | None:
    from fupin_cli.sources.csv_columns import HEAD_BYTES, CsvBody, delimiter_of, head_rows, sniff
    from fupin_cli.sources.workbook import HEAD_ROWS

    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(HEAD_BYTES)
    except OSError:
        return None  # the exact reader words the error
    if not head.strip():
        return None
    sniffed = sniff(head, complete=len(head) >= size)
    if sniffed is None:
        return None
    delimiter = delimiter_of(sniffed.text)
    parsed = head_rows(sniffed, delimiter, HEAD_ROWS)
    if parsed is None:
        return None
    rows, starts = parsed
    width = max((len(r) for r in rows), default=0)
    columns = list(zip(*[r + [""] * (width - len(r)) for r in rows], strict=True)) if rows else []
    body = CsvBody(path, sniffed, delimiter, width, starts, lambda: _exact(path, display, rows), size)
    return SheetGrid(path.stem, columns, len(rows), None, lazy=body)


def _exact(path: Path, display: str, head: list[list[str]]) -> SheetGrid:
    """The row-by-row read, once the header was found in `head`: it must show the same head.

    It does not when the head is UTF-8 but a later byte is not (a file pasted together from two
    exports): the whole file then reads as GB18030, headers included. Refused rather than guessed.
    """
    grid = read_rows(path, display)

    def trim(row: list) -> list:
        while row and row[-1] in ("", None):
            row = row[:-1]
        return row

    if [trim(list(r)) for r in grid.head(len(head))] != [trim(r) for r in head]:
        raise InputError(f"文件“{display}”的文字编码前后不一致(开头是UTF-8,后面有不是UTF-8的文字),无法可靠读取。"
                         f"请用Excel/WPS打开后另存为CSV UTF-8(逗号分隔)再试。", code="input.encoding")
    return grid


def read_rows(path: Path, display: str) -> SheetGrid:
    """All cells as text ("" for empty), row by row with the csv module (exact, slow for big files)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"无法读取文件“{display}”:{os_reason(exc)}。", code="input.unreadable") from exc
    if not data.strip():
        raise InputError(f"文件“{display}”是空文件,没有任何数据。", code="input.empty")
    text = decode(data, display)
    # one long cell (a pasted document) is content, not a reason to refuse the file: the only
    # bound is the file's own size
    csv.field_size_limit(max(csv.field_size_limit(), len(text) + 1))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise InputError(f"文件“{display}”第{reader.line_num}行无法按CSV格式读取(引号不配对或换行位置不对),"
                         f"请用Excel/WPS打开后重新另存为CSV。", code="input.not_spreadsheet") from exc
    width = max((len(r) for r in rows), default=0)
    for r in rows:
        if len(r) < width:
            r.extend([""] * (width - len(r)))
    columns = list(zip(*rows, strict=True)) if rows else []
    return SheetGrid(path.stem, columns, len(rows), None)
