"""Read a .csv file (UTF-8 with or without BOM, or GBK/GB18030 as WPS exports) into a SheetGrid."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from fupin_cli.errors import InputError, os_reason
from fupin_cli.sources.workbook import SheetGrid

# utf-8-sig first: valid UTF-8 is almost never valid-looking GBK by accident, the reverse is
# common; gb18030 is a superset of GBK/GB2312 so one fallback covers WPS exports.
ENCODINGS = ("utf-8-sig", "gb18030")


def decode(data: bytes, display: str) -> str:
    if b"\x00" in data[:4096]:
        # UTF-16 text ("Unicode 文本") or a binary file renamed .csv
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
    """All cells as text ("" for empty); the sheet name is the file stem."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"无法读取文件“{display}”:{os_reason(exc)}。", code="input.unreadable") from exc
    if not data.strip():
        raise InputError(f"文件“{display}”是空文件,没有任何数据。", code="input.empty")
    text = decode(data, display)
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text)))
    except csv.Error as exc:
        raise InputError(f"文件“{display}”不是有效的CSV文件:{exc}", code="input.not_spreadsheet") from exc
    width = max((len(r) for r in rows), default=0)
    for r in rows:
        if len(r) < width:
            r.extend([""] * (width - len(r)))
    columns = list(zip(*rows, strict=True)) if rows else []
    return SheetGrid(path.stem, columns, len(rows), None)
