"""Resource limits on input workbooks, checked before any reader touches a cell (SPEC §9).

A workbook is a zip of XML: a few kilobytes can declare a cell at XFD1048576 (the reader then
allocates the whole used range, 17 billion cells), decompress to gigabytes (a "zip bomb", also
with a size header that lies), or repeat a 32,767-character shared string in every cell (each
cell materialises its own copy). The limits below bound that amplification; they sit far above
province-scale data (1,000,000 wage rows × 6 columns ≈ 6 M cells, 310 MB of XML, 120 MB of text)
so an honest file never meets them. The README's "输入文件的大小限制" explains them to users.

Every part of the workbook is streamed once with a cap (sizes in the zip headers are not
trusted); counting uses bytes.count and one cheap regex, so the pass costs about as much as
decompressing (~0.25 s per 60 MB of XML).
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field

import numpy as np

from fupin_cli.errors import InputError

# --- the limits (one place; documented in README.md) -------------------------------------------
MAX_PART_BYTES = 1 << 30        # decompressed size of one part (a sheet's XML, the shared strings)
MAX_BOOK_BYTES = 2 << 30        # decompressed size of the whole workbook
MAX_CELLS = 30_000_000          # cells written in one sheet (1 M rows × 30 columns)
MAX_AREA = 40_000_000           # used range (rows × columns) of one sheet, empty cells included
FREE_AREA = 4_000_000           # a used range this small is always fine (a stray cell far below the data)
AREA_PER_CELL = 16              # above FREE_AREA, the used range may be at most this many times the cells
MAX_TEXT_BYTES = 768 << 20      # text one sheet would materialise (a shared string counts in every cell)

EXCEL_ROWS = 1_048_576
_CHUNK = 1 << 20
_OVERLAP = 32  # bytes kept between chunks so a pattern cut in two is still seen

_WIDE_REF = re.compile(rb' r="([A-Z]{2,3})\d')  # columns beyond Z (most sheets have none)
_ANY_REF = re.compile(rb' r="([A-Z]{0,3})(\d{1,7})"')
_SHARED_CELL = re.compile(rb't="s"[^>]*>\s*<(?:[A-Za-z_][\w.-]*:)?v>\s*(\d+)')
_SI_END = re.compile(rb"</(?:[A-Za-z_][\w.-]*:)?si>")


def column_letters(n: int) -> str:
    """1 → A, 16384 → XFD."""
    out = ""
    while n > 0:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


def column_number(letters: bytes | str) -> int:
    n = 0
    for ch in letters.decode() if isinstance(letters, bytes) else letters:
        n = n * 26 + ord(ch) - 64
    return n


@dataclass
class PartScan:
    """What one sheet's XML holds, counted while streaming it."""

    size: int = 0
    cells: int = 0
    rows: int = 0
    refs: int = 0
    shared: int = 0  # cells of type "s" (shared string)
    wide_col: int = 0  # highest column beyond Z seen in a reference (0: none)


@dataclass
class BookScan:
    total: int = 0
    strings: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # bytes per shared string


def _too_big(display: str, where: str) -> InputError:
    return InputError(f"文件“{display}”{where}解压后超过{MAX_PART_BYTES >> 30} GB(或整个文件超过"
                      f"{MAX_BOOK_BYTES >> 30} GB),不像正常的表格,可能已损坏或被恶意构造。请在Excel中打开,"
                      f"删除多余内容后另存再试。", code="input.too_large")


def _stream(zf: zipfile.ZipFile, info: zipfile.ZipInfo, book: BookScan, display: str, where: str,
            on_chunk) -> int:  # type: ignore[no-untyped-def]
    """Feed the decompressed part to `on_chunk(buffer, start)` with an overlap; stop at the caps."""
    size = 0
    prev = b""
    if info.file_size > MAX_PART_BYTES or book.total + info.file_size > MAX_BOOK_BYTES:
        raise _too_big(display, where)
    with zf.open(info) as fh:
        while True:
            chunk = fh.read(_CHUNK)
            if not chunk:
                return size
            size += len(chunk)
            book.total += len(chunk)
            if size > MAX_PART_BYTES or book.total > MAX_BOOK_BYTES:
                raise _too_big(display, where)
            if on_chunk is not None:
                on_chunk(prev + chunk, len(prev))
            prev = chunk[-_OVERLAP:]


def scan_sheet(zf: zipfile.ZipFile, info: zipfile.ZipInfo, book: BookScan, display: str, where: str) -> PartScan:
    scan = PartScan()

    def count(buf: bytes, start: int) -> None:
        new = buf[start:]
        # counts on the new bytes only; a tag cut between chunks is missed at worst (limits are loose)
        scan.cells += new.count(b"<c ") + new.count(b"<c>") + new.count(b"<c/>") + new.count(b":c ")
        scan.rows += new.count(b"<row") + new.count(b":row")
        scan.refs += new.count(b' r="')
        scan.shared += new.count(b't="s"')
        for m in _WIDE_REF.finditer(buf):
            scan.wide_col = max(scan.wide_col, column_number(m.group(1)))

    scan.size = _stream(zf, info, book, display, where, count)
    return scan


def scan_strings(zf: zipfile.ZipFile, info: zipfile.ZipInfo, book: BookScan, display: str) -> np.ndarray:
    """Size in bytes of each shared string (its <si> element, markup included: an upper bound)."""
    ends: list[int] = []
    offset = 0
    pending = b""

    def collect(buf: bytes, start: int) -> None:
        nonlocal offset, pending
        data = pending + buf[start:]
        base = offset - len(pending)
        last = 0
        for m in _SI_END.finditer(data):
            ends.append(base + m.end())
            last = m.end()
        offset += len(buf) - start
        pending = data[last:][-64:] if last else data[-64:]

    _stream(zf, info, book, display, "的共享字符串表", collect)
    arr = np.asarray(ends, dtype=np.int64)
    return np.diff(arr, prepend=0) if len(arr) else arr


def _exact_extent(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[int, int]:
    """(highest row, highest column) referenced by the sheet: a second, slower pass, run only
    when the cheap bounds of the first cannot rule out a huge used range."""
    top_row = top_col = 0
    prev = b""
    with zf.open(info) as fh:
        while chunk := fh.read(_CHUNK):
            for m in _ANY_REF.finditer(prev + chunk):
                top_row = max(top_row, int(m.group(2)))
                if m.group(1):
                    top_col = max(top_col, column_number(m.group(1)))
            prev = chunk[-_OVERLAP:]
    return top_row, top_col


def _shared_text(zf: zipfile.ZipFile, info: zipfile.ZipInfo, strings: np.ndarray) -> int:
    """Bytes the sheet's shared-string cells materialise, each string counted once per cell."""
    total = 0
    prev = b""
    with zf.open(info) as fh:
        while chunk := fh.read(_CHUNK):
            buf = prev + chunk
            idx = np.fromiter((int(m.group(1)) for m in _SHARED_CELL.finditer(buf)
                               if m.end() > len(prev)), dtype=np.int64)
            idx = idx[(idx >= 0) & (idx < len(strings))]
            total += int(strings[idx].sum())
            prev = chunk[-_OVERLAP * 4:]
    return total


def check_sheet(zf: zipfile.ZipFile, info: zipfile.ZipInfo, scan: PartScan, strings: np.ndarray,
                display: str, sheet: str) -> None:
    """Raise InputError when the sheet would take memory out of proportion to its content."""
    where = f"文件“{display}”工作表“{sheet}”"
    if scan.cells > MAX_CELLS:
        raise InputError(f"{where}有{scan.cells:,}个单元格,超过上限{MAX_CELLS:,}个。请把数据分到几个文件后再试。",
                         code="input.too_large")
    unnumbered = max(0, scan.cells + scan.rows - scan.refs)  # cells/rows placed without a reference
    col_bound = (scan.wide_col or (26 if scan.refs else 0)) + unnumbered
    allowed = min(MAX_AREA, max(FREE_AREA, AREA_PER_CELL * max(scan.cells, 1)))
    if col_bound * EXCEL_ROWS > allowed:
        top_row, top_col = _exact_extent(zf, info)
        top_row, top_col = min(top_row + unnumbered, EXCEL_ROWS), min(top_col + unnumbered, 16384)
        if top_row * top_col > allowed:
            ref = f"{column_letters(top_col)}{top_row}"
            raise InputError(f"{where}的数据区域异常大({ref}),请删除多余的行列后另存。", code="input.too_large")
    if scan.shared and len(strings):
        bound = scan.shared * int(strings.max())
        if bound > MAX_TEXT_BYTES and _shared_text(zf, info, strings) > MAX_TEXT_BYTES:
            raise InputError(f"{where}的文字内容展开后超过{MAX_TEXT_BYTES >> 20} MB"
                             f"(很长的文字被大量单元格重复使用),请删除多余内容后另存。", code="input.too_large")


def check_workbook(zf: zipfile.ZipFile, sheets: dict[str, str], display: str) -> None:
    """Stream every part of the workbook with a cap, then check each worksheet (name → member)."""
    book = BookScan()
    infos = {i.filename: i for i in zf.infolist()}
    sst = next((i for n, i in infos.items() if n.lower() == "xl/sharedstrings.xml"), None)
    if sst is not None:
        book.strings = scan_strings(zf, sst, book, display)
    members = {m: name for name, m in sheets.items()}
    scans: dict[str, PartScan] = {}
    for name, info in infos.items():
        if info is sst or info.is_dir():
            continue
        if name in members:
            scans[name] = scan_sheet(zf, info, book, display, f"工作表“{members[name]}”")
        else:
            _stream(zf, info, book, display, f"中的“{name}”", None)
    for member, scan in scans.items():
        check_sheet(zf, infos[member], scan, book.strings, display, members[member])
