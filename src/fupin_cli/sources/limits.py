"""Resource limits on input workbooks, checked before any reader touches a cell (SPEC §9).

A workbook is a zip of XML: a few kilobytes can declare a cell at XFD1048576 (the reader then
allocates the whole used range, 17 billion cells), decompress to gigabytes (a "zip bomb", also
with a size header that lies), or repeat a 32,767-character shared string in every cell (each
cell materialises its own copy). The limits below bound that amplification; they sit far above
province-scale data (1,000,000 wage rows × 6 columns ≈ 6 M cells, 310 MB of XML, 120 MB of text)
so an honest file never meets them. The README's "输入文件的大小限制" explains them to users.

Every part of the workbook is streamed once with a cap (sizes in the zip headers are not
trusted); counting uses bytes.count and one cheap regex, so the pass costs about as much as
decompressing (ISA-L: ~0.05 s per 60 MB of XML). A large sheet's pass also cuts its head
(arrow_body.head_workbook): its XML is inflated once by us, once by the reader.
"""

from __future__ import annotations

import html
import io
import re
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from fupin_cli.errors import InputError

try:  # ISA-L inflates about twice as fast as zlib: decompressing is most of the scan pass's cost
    from isal import isal_zlib as _inflater

    _INFLATE_ERROR: type[Exception] = _inflater.error
except ImportError:  # pragma: no cover - isal is a dependency; zlib gives the same bytes, slower
    _inflater = zlib  # type: ignore[assignment]
    _INFLATE_ERROR = zlib.error

# --- the limits (one place; documented in README.md) -------------------------------------------
MAX_PART_BYTES = 1 << 30        # decompressed size of one part (a sheet's XML, the shared strings)
MAX_BOOK_BYTES = 2 << 30        # decompressed size of the whole workbook
MAX_AREA = 40_000_000           # used range (rows × columns) of one sheet, empty cells included
FREE_AREA = 4_000_000           # a used range this small is always fine (a stray cell far below the data)
AREA_PER_BYTE = 1               # above FREE_AREA: at most one cell of range per byte of the sheet's XML
MAX_TEXT_BYTES = 768 << 20      # text one sheet would materialise (a shared string counts in every cell)

EXCEL_ROWS = 1_048_576
_CHUNK = 1 << 20
_OVERLAP = 32  # bytes kept between chunks so a pattern cut in two is still seen
# Compressed bytes fed to zlib at a time: each call that stops at the output cap copies the input
# not yet consumed, so a small input keeps that copy small (1 MB in would be copied ~10 times).
_RAW_CHUNK = 32 << 10

_WIDE_REF = re.compile(rb' r="([A-Z]{2,3})\d')  # columns beyond Z (most sheets have none)
_SHARED_CELL = re.compile(rb't="s"[^>]*>\s*<(?:[A-Za-z_][\w.-]*:)?v>\s*(\d+)')
_SI_END = re.compile(rb"</(?:[A-Za-z_][\w.-]*:)?si>")
_CELL = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c\s([^>]*?)(/>|>(.*?)</(?:[A-Za-z_][\w.-]*:)?c>)", re.S)
_REF = re.compile(rb'\sr="([A-Z]{1,3})(\d+)"')
_ERROR_TYPE = re.compile(rb'\st="e"')
_VALUE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?v>([^<]*)<")
_FORMULA = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[^>]*>([^<]*)<")
_CELL_CARRY = 64 << 10  # a cell longer than this across a chunk boundary is not looked at
_ROW_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row\s([^>]*)>")
_HIDDEN = re.compile(rb'\shidden="(?:1|true)"')
_ROW_NUMBER = re.compile(rb'\sr="(\d+)"')


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


_NS_SELF_CLOSED = re.compile(rb"/></[A-Za-z_][\w.-]*:c>")


def _maybe_no_result(buf: bytes) -> bool:
    """Whether the chunk may hold a formula saved without its result (`<f>…</f></c>`, a shared
    formula's `<f …/></c>`, an empty `<v>`), the cheap way for large sheets: `b"f" in` is a memchr
    that rules out formula-free data at ~0.01 ms per MB (a search for `<f` costs ~2 ms per MB)."""
    if b"f" not in buf:
        return False
    return (b"f></" in buf or b"/></c>" in buf or b"<v></v>" in buf or b"<v/>" in buf
            or (b":c>" in buf and _NS_SELF_CLOSED.search(buf) is not None))


@dataclass
class PartScan:
    """What one sheet's XML holds, counted while streaming it."""

    size: int = 0
    wide_col: int = 0  # highest column beyond Z seen in a reference (0: none)
    hidden_rows: list[int] = field(default_factory=list)  # Excel row numbers of hidden (or filtered-out) rows
    filtered: bool = False  # the sheet has an autofilter: hidden rows may be filtered out
    count_shared: bool = False  # count the shared-string cells (only when long strings make it matter)
    shared: int = 0
    look_formulas: bool = True  # look at every chunk with a formula (small sheets); else only at likely ones
    # (row, column), 0-based → what the cell shows: an error value (#DIV/0!) or "=formula" without a result
    faults: dict[tuple[int, int], str] = field(default_factory=dict)
    _cells_prev: bytes = b""

    def feed(self, buf: bytes, start: int) -> None:
        """Count one decompressed chunk (`buf[start:]` is new, what precedes it the overlap).

        One vectorised look at every `=` finds the chunks worth a regex: a reference with two
        letters (r="AB…) or an attribute ending in n (hidden="1"). Honest data has neither, and
        the pass then costs less than decompressing.
        """
        self.size += len(buf) - start
        if self.count_shared:
            self.shared += buf.count(b't="s"', start)
        a = np.frombuffer(buf, dtype=np.uint8)
        if len(a) < 16:
            return
        eq = np.flatnonzero(a[8:-4] == 61) + 8
        before = a[eq - 1]
        ref = eq[before == 114]  # r=
        # r="AB…: the regex decides; one gather first (the second character is a digit in r="A1", r="12")
        if ((a[ref + 3] - 65) < 26).any() and (((a[ref + 2] - 65) < 26) & ((a[ref + 3] - 65) < 26)).any():
            for m in _WIDE_REF.finditer(buf):
                self.wide_col = max(self.wide_col, column_number(m.group(1)))
        errors = eq[before == 116]  # t="e": an error cell (t="s", t="inlineStr" never have e there)
        if (((a[errors + 2] == 101).any()
             and ((a[errors + 1] == 34) & (a[errors + 2] == 101) & (a[errors + 3] == 34)).any())
                or (b"<f" in buf if self.look_formulas else _maybe_no_result(buf))):
            self._faults(buf[start:])
        else:
            self._cells_prev = buf[-_CELL_CARRY:]
        if (before == 110).any() and b"hidden=" in buf:
            for m in _ROW_TAG.finditer(buf):
                number = _ROW_NUMBER.search(b" " + m.group(1))
                if m.end() > start and number is not None and _HIDDEN.search(b" " + m.group(1)):
                    self.hidden_rows.append(int(number.group(1)))


    def _faults(self, new: bytes) -> None:
        """Error cells and formulas without a cached value in this chunk (a cell cut by the chunk
        boundary is found in the next call, which sees the end of this one)."""
        data = self._cells_prev + new
        skip = len(self._cells_prev)
        for m in _CELL.finditer(data):
            if m.end() <= skip:
                continue
            attrs, body = m.group(1), m.group(3) or b""
            ref = _REF.search(b" " + attrs)
            if ref is None:
                continue
            pos = (int(ref.group(2)) - 1, column_number(ref.group(1)) - 1)
            value = _VALUE.search(body)
            if _ERROR_TYPE.search(b" " + attrs):
                self.faults[pos] = (value.group(1) if value else b"#N/A").decode("utf-8", "replace")
            elif b"<f" in body and (value is None or not value.group(1).strip()):
                formula = _FORMULA.search(body)
                text = formula.group(1).decode("utf-8", "replace") if formula else ""
                self.faults[pos] = "=" + html.unescape(text) if text else "=(公式)"
        self._cells_prev = data[-_CELL_CARRY:]


@dataclass
class Budget:
    """Decompressed bytes read so far from one workbook (MAX_BOOK_BYTES bounds the total)."""

    display: str
    total: int = 0
    strings: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # bytes per shared string
    scans: dict[str, PartScan] = field(default_factory=dict)  # sheet name → what its XML holds


def _too_big(display: str, where: str) -> InputError:
    return InputError(f"文件“{display}”{where}解压后超过{MAX_PART_BYTES >> 30} GB(或整个文件超过"
                      f"{MAX_BOOK_BYTES >> 30} GB),不像正常的表格,可能已损坏或被恶意构造。请在Excel中打开,"
                      f"删除多余内容后另存再试。", code="input.too_large")


def _lying(display: str) -> InputError:
    return InputError(f"文件“{display}”已损坏或不完整(无法解压:内容与文件记录的大小不符),请重新导出或从原件复制。",
                      code="input.corrupt")


class CappedPart(io.RawIOBase):
    """A zip part decompressed by us, with caps: its declared size is not trusted (the reader that
    comes after us decompresses the raw stream to its end, whatever the header says), so the real
    size is counted, bounded and compared with the declaration at the end."""

    def __init__(self, zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: Budget, where: str,
                 on_chunk: Callable[[bytes, int], None] | None = None) -> None:
        super().__init__()
        self.info, self.budget, self.where = info, budget, where
        self._on_chunk, self._prev = on_chunk, b""
        if info.file_size > MAX_PART_BYTES or budget.total + info.file_size > MAX_BOOK_BYTES:
            raise _too_big(budget.display, where)
        self._fallback = None
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) or info.flag_bits & 1:
            self._fallback = zf.open(info)  # zipfile then stops at the declared size itself
            return
        fp = zf.fp if zf.fp is not None else open(zf.filename or "", "rb")  # noqa: SIM115
        fp.seek(info.header_offset)
        local = fp.read(30)
        if len(local) < 30 or local[:4] != b"PK\x03\x04":
            raise _lying(budget.display)
        name_len, extra_len = struct.unpack("<HH", local[26:30])
        self._pos = info.header_offset + 30 + name_len + extra_len
        self._left = info.compress_size
        self._fp = fp
        self._inflate = _inflater.decompressobj(-15) if info.compress_type == zipfile.ZIP_DEFLATED else None
        self._size = 0
        self._done = False

    def readable(self) -> bool:
        return True

    def _raw(self, size: int = _CHUNK) -> bytes:
        n = min(size, self._left)
        if n <= 0:
            return b""
        self._fp.seek(self._pos)
        data = self._fp.read(n)
        self._pos += len(data)
        self._left -= len(data)
        return data

    def read(self, n: int = -1) -> bytes:  # type: ignore[override]
        if n is None or n < 0:
            return b"".join(iter(lambda: self.read(_CHUNK), b""))
        if self._fallback is not None:
            data = self._fallback.read(n if n > 0 else _CHUNK)
            return self._count(data)
        if self._done:
            return b""
        want = n if n > 0 else _CHUNK
        if self._inflate is None:
            data = self._raw()[:want] if want < _CHUNK else self._raw()
        else:
            data = b""
            while not data and not self._inflate.eof:
                src = self._inflate.unconsumed_tail or self._raw(_RAW_CHUNK)
                if not src:
                    raise _lying(self.budget.display)  # the stream ends before its end marker
                try:
                    data = self._inflate.decompress(src, want)
                except _INFLATE_ERROR as exc:  # a damaged stream: the callers' zlib.error
                    raise zlib.error(str(exc)) from exc
        if not data:
            self._done = True
            if self._size != self.info.file_size:
                raise _lying(self.budget.display)
        return self._count(data)

    def _count(self, data: bytes) -> bytes:
        self._size += len(data)
        self.budget.total += len(data)
        if self._size > MAX_PART_BYTES or self.budget.total > MAX_BOOK_BYTES:
            raise _too_big(self.budget.display, self.where)
        if self._size > self.info.file_size:
            raise _lying(self.budget.display)
        if self._on_chunk is not None and data:  # with the end of the previous chunk, so no match is cut
            self._on_chunk(self._prev + data, len(self._prev))
            self._prev = data[-_OVERLAP:]
        return data


def stream(part: CappedPart) -> None:
    """Read the whole part (its on_chunk sees every byte)."""
    while part.read(_CHUNK):
        pass


def scan_strings(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: Budget) -> np.ndarray:
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

    stream(CappedPart(zf, info, budget, "的共享字符串表", collect))
    arr = np.asarray(ends, dtype=np.int64)
    return np.diff(arr, prepend=0) if len(arr) else arr


def _top_row(zf: zipfile.ZipFile, info: zipfile.ZipInfo, above: int) -> int:
    """The highest row referenced by the sheet, if above `above` (else `above`): a second pass,
    run only when the first cannot rule out a huge used range; it looks at long row numbers only."""
    digits = len(str(above))
    pattern = re.compile(rb' r="[A-Z]{0,3}(\d{%d,7})"' % digits)
    top = above
    prev = b""
    with zf.open(info) as fh:
        while chunk := fh.read(_CHUNK):
            for m in pattern.finditer(prev + chunk):
                top = max(top, int(m.group(1)))
            prev = chunk[-_OVERLAP:]
    return top


def _has_autofilter(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    """Whether the sheet has an autofilter (its hidden rows may be filtered out): looked up only
    for sheets with hidden rows."""
    prev = b""
    with zf.open(info) as fh:
        while chunk := fh.read(_CHUNK):
            if b"<autoFilter" in prev + chunk or b":autoFilter" in prev + chunk:
                return True
            prev = chunk[-_OVERLAP:]
    return False


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
    """Raise InputError when the sheet would take memory out of proportion to its content.

    The used range (rows × columns, which the reader allocates in full) may be FREE_AREA, or one
    cell per byte of the sheet's XML (an honest cell takes 10–40 bytes), at most MAX_AREA.
    Cells without a reference (rare) are placed after the previous one: up to one column each.
    """
    if scan.hidden_rows:
        scan.filtered = _has_autofilter(zf, info)
    allowed = min(MAX_AREA, max(FREE_AREA, scan.size * AREA_PER_BYTE))
    col_bound = max(scan.wide_col, 26)
    if col_bound * EXCEL_ROWS > allowed:
        top_row = _top_row(zf, info, allowed // col_bound)
        if top_row * col_bound > allowed:
            raise area_error(display, sheet, top_row, col_bound)
    cells = scan.shared if scan.count_shared else scan.size // 8  # a cell takes ≥ 8 bytes of XML
    if len(strings) and int(strings.max()) * cells > MAX_TEXT_BYTES:
        if _shared_text(zf, info, strings) > MAX_TEXT_BYTES:
            raise text_error(display, sheet)


def area_error(display: str, sheet: str, rows: int, cols: int) -> InputError:
    """The used range (up to row `rows`, column `cols`) is out of proportion to the sheet's content."""
    return InputError(f"文件“{display}”工作表“{sheet}”的数据区域异常大({column_letters(cols)}{rows}),"
                      f"请删除多余的行列后另存。", code="input.too_large")


def text_error(display: str, sheet: str) -> InputError:
    return InputError(f"文件“{display}”工作表“{sheet}”的文字内容展开后超过{MAX_TEXT_BYTES >> 20} MB"
                      f"(很长的文字被大量单元格重复使用),请删除多余内容后另存。", code="input.too_large")


def shared_matters(size: int, strings: np.ndarray) -> bool:
    """Whether a sheet of `size` bytes could materialise too much shared text (then its shared-string
    cells are counted while it is streamed)."""
    return bool(len(strings)) and int(strings.max()) * (size // 8) > MAX_TEXT_BYTES


def check_workbook(zf: zipfile.ZipFile, sheets: dict[str, str], display: str,
                   later: frozenset[str] = frozenset()) -> Budget:
    """Stream every part of the workbook with a cap, then check each worksheet (name → member).

    Sheets whose member is in `later` are streamed and checked by the caller (`scan_later`), in the
    pass that reads their head anyway: a large sheet is then decompressed once, not twice.
    Returns the budget (for the later parts), whose `scans` hold what was counted per sheet name.
    """
    budget = Budget(display)
    infos = {i.filename: i for i in zf.infolist()}
    sst = next((i for n, i in infos.items() if n.lower() == "xl/sharedstrings.xml"), None)
    if sst is not None:
        budget.strings = scan_strings(zf, sst, budget)
    members = {m: name for name, m in sheets.items()}
    for name, info in infos.items():
        if info is sst or info.is_dir() or name in later:
            continue
        if name in members:
            scan = budget.scans[members[name]] = PartScan()
            scan.count_shared = shared_matters(info.file_size, budget.strings)
            stream(CappedPart(zf, info, budget, f"工作表“{members[name]}”", scan.feed))
            check_sheet(zf, info, scan, budget.strings, display, members[name])
        else:
            stream(CappedPart(zf, info, budget, f"中的“{name}”"))
    return budget
