"""Read every cell of an .xlsx/.xlsm/.xls workbook, keeping Excel row and column positions exact.

python-calamine is the reader: it returns each cell with its own type (str, float, int, bool,
datetime, …; a formula cell's cached value), which validation needs to tell an ID typed as text
from one Excel turned into a number. Large .xlsx sheets are yielded with only their head read
(`SheetGrid.lazy`): their data rows are read by fastexcel where that is lossless (see arrow_body.py).
"""

from __future__ import annotations

import contextlib
import gc
import re
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import python_calamine as pc

from fupin_cli.errors import InputError, os_reason, reader_failure
from fupin_cli.sources.arrow_body import FAST_MIN_BYTES, LazyBody, head_workbook, sheet_members
from fupin_cli.sources.biff import BiffBook, check_biff
from fupin_cli.sources.limits import Budget, check_workbook

if TYPE_CHECKING:
    from fupin_cli.sources.csv_columns import CsvBody
    from fupin_cli.sources.parquet import ParquetBody

HEAD_ROWS = 15  # header rows are looked for in the first rows only

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # compound file: .xls, or an encrypted .xlsx
_ZIP = b"PK\x03\x04"
_ENCRYPTED = "文件“{f}”已加密,请在Excel中取消密码后另存再使用。"

Merge = tuple[tuple[int, int], tuple[int, int]]  # (first row, first col), (last row, last col); 0-based, inclusive


@dataclass
class SheetGrid:
    """All cells of one sheet: `columns[j][i]` is the cell at Excel row i+1, column j+1.

    Empty cells are "" or None. `merges` is None when the format gives no merge information.
    With `lazy` set, `columns` hold only the first HEAD_ROWS rows; the rest is read on demand.
    """

    name: str
    columns: list[Sequence[Any]]
    nrows: int
    merges: list[Merge] | None
    lazy: LazyBody | CsvBody | ParquetBody | None = None  # the body read on demand (fastexcel, pyarrow)
    hidden_rows: Sequence[int] = ()  # Excel row numbers hidden (or filtered out) in the sheet
    filtered: bool = False
    date1904: bool = False  # the workbook counts date serials from 1904 (old Mac Excel)
    sheet_hidden: bool = False  # a hidden or very-hidden sheet (xlrd's reading; calamine's is filtered earlier)
    faults: dict[tuple[int, int], str] = field(default_factory=dict)  # (row, col) → #DIV/0! or =formula

    def empty(self) -> bool:
        if any(c is not None and c != "" for col in self.columns for c in col):
            return False
        if self.lazy is not None:  # nothing in the head: let the full read decide
            full = self.lazy.full()
            self.columns, self.nrows, self.lazy = full.columns, full.nrows, None
            return full.empty()
        return True

    def head(self, n: int = HEAD_ROWS) -> list[list[Any]]:
        return [[col[i] for col in self.columns] for i in range(min(n, self.nrows))]


@contextlib.contextmanager
def _no_gc() -> Iterator[None]:
    # Building millions of small row lists triggers the cyclic collector over and over for
    # nothing (cells hold no cycles); pausing it makes a 1,000,000-row read ~25 % faster.
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        # Promote what was allocated to the oldest generation first (freeze + unfreeze is O(1)):
        # otherwise the first collection after re-enabling walks every new object once.
        gc.freeze()
        gc.unfreeze()
        if was:
            gc.enable()


def _sniff(path: Path, display: str) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read(8)
    except PermissionError as exc:
        raise InputError(f"无法读取文件“{display}”:没有读取权限或文件正被其他程序占用。",
                         code="input.unreadable") from exc
    except OSError as exc:
        raise InputError(f"无法读取文件“{display}”:{os_reason(exc)}。", code="input.unreadable") from exc


def _check_container(path: Path, display: str) -> bool:
    """Classify a file that claims to be a workbook before handing it to the reader.

    Returns True when it is a zipped workbook (.xlsx/.xlsm, also when saved with the old .xls name).
    """
    magic = _sniff(path, display)
    suffix = path.suffix.lower()
    if not magic:
        raise InputError(f"文件“{display}”是空文件(0字节),不是有效的Excel工作簿。", code="input.empty")
    if magic.startswith(_OLE2):
        # Excel stores a password-protected .xlsx as an OLE2 container (EncryptedPackage), whatever its name
        if suffix in (".xlsx", ".xlsm") or _has_encrypted_package(path):
            raise InputError(_ENCRYPTED.format(f=display), code="input.encrypted")
        return False
    if not magic.startswith(_ZIP):
        if suffix == ".xls" and _markup_kind(path):
            raise InputError(f"文件“{display}”其实是{_markup_kind(path)}格式的表格(常见于从业务系统导出),"
                             f"只是扩展名为.xls。请在Excel中打开,另存为“Excel工作簿(.xlsx)”后再使用。",
                             code="input.not_spreadsheet")
        kind = "Excel工作簿(.xlsx)" if suffix in (".xlsx", ".xlsm") else "Excel 97-2003工作簿(.xls)"
        raise InputError(f"文件“{display}”不是有效的{kind},可能是改了扩展名的其他文件。"
                         f"请在Excel中打开后另存为.xlsx再试。", code="input.not_spreadsheet")
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise InputError(f"文件“{display}”已损坏或不完整(无法解压),请重新导出或从原件复制。",
                         code="input.corrupt") from exc
    if "xl/workbook.xml" not in names and "xl/workbook.bin" not in names:
        raise InputError(f"文件“{display}”不是Excel工作簿(可能是Word等其他文档改了扩展名)。",
                         code="input.not_spreadsheet")
    return True


def _has_encrypted_package(path: Path) -> bool:
    """An OLE2 file holding an "EncryptedPackage" stream: a password-protected .xlsx."""
    needle = "EncryptedPackage".encode("utf-16-le")
    prev = b""
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            if needle in prev + chunk:
                return True
            prev = chunk[-len(needle):]
    return False


def _markup_kind(path: Path) -> str | None:
    """'网页(HTML)' or 'XML电子表格(Excel 2003 XML)' for a text table saved with an .xls name."""
    with open(path, "rb") as fh:
        head = fh.read(4096)
    for enc in ("utf-8", "utf-16", "gb18030"):
        try:
            text = head.decode(enc, errors="ignore").lower()
        except LookupError:
            continue
        if "urn:schemas-microsoft-com:office:spreadsheet" in text or "<workbook" in text and "<?xml" in text:
            return "XML电子表格(Excel 2003 XML)"
        if "<html" in text or "<table" in text or "<!doctype html" in text:
            return "网页(HTML)"
    return None


_WORKBOOK_PR = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?workbookPr\s[^>]*\bdate1904=\"(?:1|true)\"")


def _is_1904(zf: zipfile.ZipFile) -> bool:
    """The workbook counts date serials from 1904-01-01 (Excel for Mac before 2011)."""
    try:
        info = zf.getinfo("xl/workbook.xml")
    except KeyError:
        return False
    with zf.open(info) as fh:
        return _WORKBOOK_PR.search(fh.read(1 << 20)) is not None


def _is_fupin_result(zf: zipfile.ZipFile) -> bool:
    """The workbook carries the custom property fupin sets on the results it writes."""
    from fupin_cli.workbooks.cells import RESULT_PROPERTY

    try:
        info = zf.getinfo("docProps/custom.xml")
    except KeyError:
        return False
    with zf.open(info) as fh:
        return f'name="{RESULT_PROPERTY}"'.encode() in fh.read(1 << 20)


def _calamine_error(exc: BaseException, display: str) -> InputError:
    if isinstance(exc, pc.PasswordError):
        return InputError(_ENCRYPTED.format(f=display), code="input.encrypted")
    if isinstance(exc, pc.ZipError):
        return InputError(f"文件“{display}”已损坏或不完整(无法解压),请重新导出。", code="input.corrupt")
    if not isinstance(exc, Exception):  # a reader panic: its text is a Rust internal, not for clerks
        return InputError(f"文件“{display}”无法读取(读取程序无法处理其中的内容),可能已损坏。"
                          f"请在Excel中打开后另存为.xlsx再试。", code="input.corrupt")
    return InputError(f"文件“{display}”无法读取,可能已损坏或不是Excel工作簿:{exc}", code="input.corrupt")


def _calamine_sheet(wb: pc.CalamineWorkbook, name: str, display: str) -> SheetGrid:
    try:
        sheet = wb.get_sheet_by_name(name)
        with _no_gc():
            # skip_empty_area=False keeps row 0 = Excel row 1 and column 0 = column A,
            # so row numbers stay exact when the sheet starts with empty rows/columns.
            rows = sheet.to_python(skip_empty_area=False)
            columns: list[Sequence[Any]] = list(zip(*rows, strict=True)) if rows else []
        merges = sheet.merged_cell_ranges
    except BaseException as exc:
        if not reader_failure(exc):
            raise
        raise _calamine_error(exc, f"{display}”工作表“{name}") from exc
    return SheetGrid(name, columns, len(rows), list(merges) if merges is not None else None)


def _xlrd_sheets(path: Path, display: str) -> Iterator[SheetGrid]:
    """Fallback for old .xls files calamine cannot parse (some BIFF5/odd writers)."""
    import xlrd  # only needed for this fallback

    try:
        book = xlrd.open_workbook(str(path), formatting_info=True)
    except Exception:
        try:
            book = xlrd.open_workbook(str(path))
        except Exception as exc:
            raise InputError(f"文件“{display}”无法读取,可能已损坏或不是Excel工作簿:{exc}",
                             code="input.corrupt") from exc
    for sh in book.sheets():
        cols: list[list[Any]] = []
        for j in range(sh.ncols):
            col: list[Any] = []
            for i in range(sh.nrows):
                cell = sh.cell(i, j)
                if cell.ctype == xlrd.XL_CELL_DATE:
                    try:
                        col.append(xlrd.xldate.xldate_as_datetime(cell.value, book.datemode))
                    except Exception:
                        col.append(cell.value)
                elif cell.ctype == xlrd.XL_CELL_BOOLEAN:
                    col.append(bool(cell.value))
                elif cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
                    col.append(None)
                else:
                    col.append(cell.value)
            cols.append(col)
        merges = [((r0, c0), (r1 - 1, c1 - 1)) for r0, r1, c0, c1 in sh.merged_cells]
        yield SheetGrid(sh.name, cols, sh.nrows, merges, date1904=book.datemode == 1,
                        sheet_hidden=getattr(sh, "visibility", 0) != 0)


class Workbook:
    """One opened workbook: `names` of its worksheets, then `sheets()` reads them one at a time."""

    def __init__(self, path: Path, display: str) -> None:
        zipped = _check_container(path, display)
        self.path = path
        self.display = display
        self._cal: pc.CalamineWorkbook | None = None
        self._xlrd: list[SheetGrid] | None = None
        self.hidden: list[str] = []  # hidden and very-hidden sheets: not data (SPEC §5.1)
        self.fupin_result = False  # a roster, report… fupin wrote: not an input (SPEC §5.1)
        self.date1904 = False
        self._biff: BiffBook | None = None
        self._budget = self._check_limits()
        if self.fupin_result:
            self.names = []
            return
        self._biff = check_biff(path, display) if not zipped else None  # limits of a legacy .xls, before reading
        if self._biff is not None:
            self.date1904 = self._biff.date1904
        try:
            if zipped and path.suffix.lower() == ".xls":  # an .xlsx saved with the old name: calamine goes by the name
                with open(path, "rb") as fh:
                    self._cal = pc.CalamineWorkbook.from_filelike(fh)
            else:
                self._cal = pc.CalamineWorkbook.from_path(str(path))
            sheets = [m for m in self._cal.sheets_metadata if m.typ == pc.SheetTypeEnum.WorkSheet]
            self.names = [m.name for m in sheets if m.visible == pc.SheetVisibleEnum.Visible]
            self.hidden = [m.name for m in sheets if m.visible != pc.SheetVisibleEnum.Visible]
        except BaseException as exc:
            if not reader_failure(exc):
                raise
            if zipped or path.suffix.lower() != ".xls" or isinstance(exc, pc.PasswordError):
                raise _calamine_error(exc, display) from exc
            grids = list(_xlrd_sheets(path, display))
            self._xlrd = [g for g in grids if not g.sheet_hidden]
            self.hidden = [g.name for g in grids if g.sheet_hidden]
            self.names = [g.name for g in self._xlrd]

    def _check_limits(self) -> Budget | None:
        """Refuse a zipped workbook that would take memory out of proportion to its content (limits.py).

        Large sheets (the fast path) are checked when their head is read, in the same pass."""
        try:
            zf = zipfile.ZipFile(self.path)
        except (zipfile.BadZipFile, OSError):
            return None  # not a zip (.xls): the reader's own errors apply
        with zf:
            try:
                self.date1904 = _is_1904(zf)
                self.fupin_result = _is_fupin_result(zf)
                if self.fupin_result:
                    return None  # skipped by the caller: nothing of it is read
                later = frozenset(self._large_sheets().values())
                return check_workbook(zf, sheet_members(zf), self.display, later)
            except (zipfile.BadZipFile, OSError, EOFError, zlib.error, NotImplementedError) as exc:
                raise InputError(f"文件“{self.display}”已损坏或不完整(无法解压),请重新导出或从原件复制。",
                                 code="input.corrupt") from exc

    def sheets(self) -> Iterator[SheetGrid]:
        """Yield every worksheet's cells; memory stays one sheet deep."""
        if self._xlrd is not None:
            for grid in self._xlrd:
                yield self._biff_rows(grid)
            return
        assert self._cal is not None
        try:
            big = self._large_sheets()
            for name in self.names:
                grid = self._head_sheet(name, big[name]) if name in big else _calamine_sheet(self._cal, name, self.display)
                scan = self._budget.scans.get(name) if self._budget is not None else None
                if scan is not None:
                    grid.hidden_rows, grid.filtered, grid.faults = scan.hidden_rows, scan.filtered, scan.faults
                grid.date1904 = self.date1904
                yield self._biff_rows(grid)
        finally:
            self.close()

    def _biff_rows(self, grid: SheetGrid) -> SheetGrid:
        """A legacy .xls sheet's hidden rows, from its ROW records (neither reader gives them)."""
        if self._biff is not None:
            grid.hidden_rows = self._biff.hidden_rows.get(grid.name, [])
            grid.filtered = self._biff.filtered.get(grid.name, False)
        return grid

    def _large_sheets(self) -> dict[str, str]:
        """Sheet name → zip member of the sheets worth the fast path."""
        if self.path.suffix.lower() not in (".xlsx", ".xlsm"):
            return {}
        try:
            with zipfile.ZipFile(self.path) as zf:
                members = sheet_members(zf)
                sizes = {i.filename: i.file_size for i in zf.infolist()}
        except (zipfile.BadZipFile, OSError):
            return {}
        return {n: m for n, m in members.items() if sizes.get(m, 0) >= FAST_MIN_BYTES}

    def _head_sheet(self, name: str, member: str) -> SheetGrid:
        def full() -> SheetGrid:
            assert self._cal is not None
            return _calamine_sheet(self._cal, name, self.display)

        try:
            # over a limit (or damaged) raises InputError here: never a fallback to reading the whole sheet
            head = head_workbook(self.path, member, HEAD_ROWS, self._budget, name)
        except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
            raise InputError(f"文件“{self.display}”已损坏或不完整(无法解压),请重新导出或从原件复制。",
                             code="input.corrupt") from exc
        try:
            copy = pc.CalamineWorkbook.from_filelike(head)
            grid = _calamine_sheet(copy, name, self.display)
            copy.close()
        except BaseException as exc:  # anything unexpected in the copy: read the sheet as a whole
            if not reader_failure(exc):
                raise
            return full()
        grid.lazy = LazyBody(self.path, name, full)
        return grid

    def close(self) -> None:
        if self._cal is not None:
            try:
                self._cal.close()
            except BaseException as exc:  # closing never matters more than what was read
                if not reader_failure(exc):
                    raise
            self._cal = None
