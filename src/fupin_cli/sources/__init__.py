"""Read the input spreadsheets into RawTables (SPEC §3; DESIGN.md "RawTables").

Files (.xlsx/.xlsm/.xls/.csv/.parquet) or folders of them; each sheet is recognised as 车间/人员/工资
by its name (exact, then contained such as “人员(那坡镇)”) or, failing that, by its header;
a table split over several sheets or files is concatenated. Values stay raw; `validate`
normalises them. Input files are only ever opened for reading.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import pandas as pd

from fupin_cli.dataset import InputFile, RawTables, SheetInfo
from fupin_cli.errors import InputError, os_reason
from fupin_cli.fsutil import sha256_file
from fupin_cli.sources.csvfile import read_csv
from fupin_cli.sources.headers import HeaderMatch, check_ambiguous, detect
from fupin_cli.sources.parquet import read_parquet
from fupin_cli.sources.sheet import build, letter
from fupin_cli.sources.workbook import SheetGrid, Workbook
from fupin_cli.tables import TABLE_KEYS, load_tables, normalise_header

__all__ = ["read_sources", "discover", "SUFFIXES"]

SUFFIXES = (".xlsx", ".xlsm", ".xls", ".csv", ".parquet")
SINGLE_TABLE = {".csv": read_csv, ".parquet": read_parquet}  # files holding one table, named by their stem
Progress = Callable[[str, int, int], None]


def _hidden(rel: Path) -> bool:
    return any(part.startswith((".", "~$")) for part in rel.parts)


def _walk(root: Path, given: str) -> Iterator[Path]:
    """Every spreadsheet file under `root`. Reading is complete or it fails (SPEC §5.1): a
    sub-folder that cannot be read, a link that leaves the folder, or a pipe/device with a
    spreadsheet name stops the run instead of silently leaving its files out."""
    top = root.resolve()

    def failed(exc: OSError) -> None:
        raise InputError(f"无法读取输入文件夹“{given}”中的“{exc.filename}”:{os_reason(exc)}。"
                         f"请检查该文件夹的权限,否则其中的表格会被漏读。", code="input.unreadable") from exc

    for folder, dirs, files in os.walk(root, onerror=failed):
        here = Path(folder)
        dirs[:] = [d for d in dirs if not _hidden(Path(d))]
        for name in [*dirs, *files]:
            q = here / name
            if q.is_symlink():
                target = q.resolve()
                if not target.is_relative_to(top):
                    raise InputError(f"输入文件夹“{given}”中的“{q.relative_to(root)}”是指向文件夹外({target})的链接。"
                                     f"请把要读取的表格直接放进输入文件夹,或删除该链接。", code="input.outside_link")
        for name in files:
            q = here / name
            if _hidden(Path(name)) or q.suffix.lower() not in SUFFIXES:
                continue
            if not q.is_file():
                raise InputError(f"输入文件夹“{given}”中的“{q.relative_to(root)}”不是普通文件(可能是管道或设备)。"
                                 f"请删除它或换成真正的表格文件。", code="input.not_regular")
            yield q


def discover(paths: Sequence[str | Path]) -> list[tuple[Path, str]]:
    """(path, name as shown to the user) of every input file, folders expanded recursively and sorted."""
    if not paths:
        raise InputError("没有指定输入文件。请给出Excel/CSV/Parquet文件或所在文件夹。", code="usage.no_input")
    out: list[tuple[Path, str]] = []
    seen: set[Path] = set()
    for given in paths:
        p = Path(given)
        if not p.exists():
            raise InputError(f"找不到文件或文件夹“{given}”。请检查路径是否正确。", code="input.not_found")
        if p.is_dir():
            found = sorted(_walk(p, str(given)), key=lambda q: q.relative_to(p).as_posix())
            if not found:
                raise InputError(f"文件夹“{given}”中没有找到表格文件(.xlsx、.xls、.csv、.parquet)。",
                                 code="input.no_files")
            files = [(q, str(q)) for q in found]
        elif not p.is_file():  # a FIFO or a device (/dev/zero named x.csv) would hang or never end
            raise InputError(f"“{given}”不是普通文件(可能是管道或设备),无法作为输入。请给出Excel/CSV文件。",
                             code="input.not_regular")
        elif p.suffix.lower() not in SUFFIXES:
            raise InputError(f"文件“{given}”不是支持的表格文件,只能读取 .xlsx、.xls、.csv、.parquet 文件。",
                             code="input.not_spreadsheet")
        else:
            files = [(p, str(given))]
        for q, shown in files:
            key = q.resolve()
            if key not in seen:
                seen.add(key)
                out.append((q, shown))
    return out


def table_by_name(name: str) -> tuple[str | None, bool]:
    """(table, exact) from a sheet name or CSV file stem; the longest contained name wins."""
    norm = normalise_header(name)
    tables = load_tables()
    hits: list[tuple[int, str]] = []
    for t in TABLE_KEYS:
        names = [normalise_header(s) for s in tables.get(t).sheet_names]
        if norm in names:
            return t, True
        hits += [(len(s), t) for s in names if s and s in norm]
    if not hits:
        return None, False
    hits.sort(reverse=True)
    if len(hits) > 1 and hits[1][0] == hits[0][0] and hits[1][1] != hits[0][1]:
        return None, False  # e.g. “车间人员”: let the headers decide
    return hits[0][1], False


def _choose(grid: SheetGrid, where: str) -> tuple[HeaderMatch | None, str | None]:
    """The header match to use, or (None, note) for a sheet that is none of the tables."""
    head = grid.head()
    named, exact = table_by_name(grid.name)
    complete, candidates = detect(head, grid.merges)
    tables = load_tables()
    if named is not None:
        own = next((m for m in candidates if m.table == named), None)
        if not exact and complete is not None and complete.table != named and (
                own is None or own.missing(tables.get(named))):  # type: ignore[arg-type]
            return complete, None  # “就业扶贫车间工资” holding a wage table
        if own is None or (not exact and own.score < 2):
            if exact:
                cols = "、".join(c.header for c in tables.get(named).required)  # type: ignore[arg-type]
                raise InputError(f"{where}找不到表头:前{len(head)}行中没有“{cols}”等列名。请检查表头名称。",
                                 code="input.no_header")
            return None, f"{where}的名称像{tables.get(named).title}表,但表头不符,已跳过。"  # type: ignore[arg-type]
        return own, None
    if complete is not None:
        return complete, None
    near = max(candidates, key=lambda m: m.score, default=None)
    if near is not None and near.score >= 3:
        spec = tables.get(near.table)  # type: ignore[arg-type]
        return None, (f"{where}看起来像{spec.title}表,但缺少必填列:{'、'.join(near.missing(spec))},已跳过。"
                      f"如果它是{spec.title}表,请把工作表改名为“{spec.sheet_names[0]}”并补齐表头。")
    return None, f"{where}不是车间、人员或工资表,已跳过。"


@dataclass
class FilePart:
    """What one input file contributed: its recognised sheets (frames with `_src` counted from 0
    within the file), the notes about it, and the names of all its sheets."""

    sheets: list[SheetInfo]
    frames: list[pd.DataFrame]  # one per sheet, in the order of `sheets`
    notes: list[str]
    names: list[str]
    faults: list[tuple[str, int, int, str, str]] = field(default_factory=list)  # as RawTables.faults
    open_notes: list[str] = field(default_factory=list)  # said when the file is opened (hidden sheets)
    hidden: list[tuple[int, int, int, bool]] = field(default_factory=list)  # as RawTables.hidden


class PartStore(Protocol):
    """Per-file cache of FileParts (fupin_cli.cache): an unchanged file is not read again."""

    def get(self, file: InputFile, shown: str) -> FilePart | None: ...

    def put(self, file: InputFile, shown: str, part: FilePart) -> None: ...


def read_sources(paths: Sequence[str | Path], *, progress: Progress | None = None,
                 store: PartStore | None = None) -> RawTables:
    """Read every input file; raise InputError (Chinese, naming the file) for unreadable input.

    A table found nowhere is None in the result (the caller decides whether that is an error).
    With `store`, a file whose bytes (sha256) were read before comes from it.
    """
    found = discover(paths)
    files: list[InputFile] = []
    books: list[tuple[Path, str, Workbook | None, list[str], FilePart | None]] = []
    notes: list[str] = []
    faults: list[tuple[str, int, int, str, str]] = []
    hidden: list[tuple[int, int, int, bool]] = []
    for path, shown in found:
        # hash before reading: the figures recorded are those of the bytes actually read
        file = InputFile(path=path, sha256=sha256_file(path), size=path.stat().st_size)
        cached = store.get(file, shown) if store is not None else None
        if cached is not None:
            books.append((path, shown, None, cached.names, cached))
            notes += cached.open_notes
        elif path.suffix.lower() in SINGLE_TABLE:
            books.append((path, shown, None, [path.stem], None))
        else:
            wb = Workbook(path, shown)
            if wb.fupin_result:
                wb.close()
                notes.append(f"文件“{shown}”是fupin生成的结果文件(花名册、问题清单、统计表等),不作为输入读取。")
                continue
            books.append((path, shown, wb, wb.names, None))
            if wb.hidden:
                notes.append(f"文件“{shown}”中的隐藏工作表“{'”“'.join(wb.hidden)}”不作为数据读取"
                             f"(如需使用,请在Excel中取消隐藏)。")
        files.append(file)
    total = sum(len(b[3]) for b in books)
    parts: dict[str, list[pd.DataFrame]] = {t: [] for t in TABLE_KEYS}
    sheets: list[SheetInfo] = []
    done = 0
    for file, (path, shown, wb, names, part) in zip(files, books, strict=True):
        if part is None:
            part = _read_file(path, shown, wb, names, progress, done, total)
            if store is not None:
                store.put(file, shown, part)
        elif progress is not None:
            progress(path.name, done + 1, total)
        done += len(names)
        offset = len(sheets)
        for info, frame in zip(part.sheets, part.frames, strict=True):
            frame["_src"] += offset
            sheets.append(info)
            parts[info.table].append(frame)
        faults += [(table, src + offset, row, key, text) for table, src, row, key, text in part.faults]
        hidden += [(src + offset, a, b, filtered) for src, a, b, filtered in part.hidden]
        notes += part.notes
    frames = {t: (pd.concat(p, ignore_index=True) if len(p) > 1 else p[0]) if p else None
              for t, p in parts.items()}
    return RawTables(workshops=frames["workshops"], laborers=frames["laborers"], wages=frames["wages"],
                     sheets=sheets, files=files, notes=notes, faults=faults, hidden=hidden)


def _read_file(path: Path, shown: str, wb: Workbook | None, names: list[str], progress: Progress | None,
               done: int, total: int) -> FilePart:
    """Every sheet of one file recognised, checked and turned into a frame (`_src` counted within it)."""
    part = FilePart([], [], [], names)
    if wb is not None and wb.hidden:  # said when the file is opened; kept for a read from the cache
        part.open_notes.append(f"文件“{shown}”中的隐藏工作表“{'”“'.join(wb.hidden)}”不作为数据读取"
                               f"(如需使用,请在Excel中取消隐藏)。")
    grids = wb.sheets() if wb is not None else iter([SINGLE_TABLE[path.suffix.lower()](path, shown)])
    used = empty = 0
    for grid in grids:
        where = f"文件“{shown}”" if wb is None else f"文件“{shown}”工作表“{grid.name}”"
        done += 1
        if progress is not None:
            progress(f"{path.name}:{grid.name}" if wb is not None else path.name, done, total)
        if grid.empty():
            empty += 1
            if len(names) > 1:
                part.notes.append(f"{where}是空的,已跳过。")
            continue
        match, note = _choose(grid, where)
        if match is None:
            part.notes.append(note or f"{where}已跳过。")
            continue
        info, frame, sheet_notes, sheet_faults = _take_sheet(grid, match, where, shown, src=len(part.sheets))
        part.faults += [(match.table, len(part.sheets), row, key, text) for row, key, text in sheet_faults]
        part.hidden += [(len(part.sheets), a, b, grid.filtered) for a, b in _runs(grid.hidden_rows, match.row + 1, grid.nrows)]
        del grid  # free the cells before the next sheet is read
        used += 1
        part.sheets.append(info)
        part.frames.append(frame)
        part.notes.extend(sheet_notes)
    if empty and empty == len(names):
        raise InputError(f"文件“{shown}”是空的,没有任何数据。", code="input.empty")
    if not used:
        raise InputError(f"文件“{shown}”中没有找到车间、人员或工资表(工作表:{'、'.join(names)})。"
                         f"请检查工作表名称或表头。", code="input.no_tables")
    return part


def _runs(rows: Sequence[int], header: int, last: int) -> list[tuple[int, int]]:
    """Hidden Excel rows below the header and within the sheet, as (first, last) runs of consecutive rows."""
    out: list[tuple[int, int]] = []
    for r in sorted(set(rows)):
        if not header < r <= last:
            continue
        if out and out[-1][1] == r - 1:
            out[-1] = (out[-1][0], r)
        else:
            out.append((r, r))
    return out


def _take_sheet(grid: SheetGrid, match: HeaderMatch, where: str, shown: str,
                src: int) -> tuple[SheetInfo, pd.DataFrame, list[str], list[tuple[int, str, str]]]:
    """A recognised sheet → its SheetInfo, its raw frame (with `_src` = `src`) and remarks about it."""
    spec = load_tables().get(match.table)  # type: ignore[arg-type]
    check_ambiguous(match, where)
    missing = match.missing(spec)
    if missing:
        raise InputError(f"{where}缺少必填列:{'、'.join(missing)}(表头在第{match.row + 1}行)。"
                         f"请检查表头名称。", code="input.missing_column")
    sf = build(grid, match, spec, src=src)
    info = SheetInfo(
        file=shown, sheet=grid.name,
        table=match.table, header_row=match.row + 1, headers=dict(match.headers),
        letters={**{k: letter(j) for k, j in match.columns.items()},
                 # wide wage sheets: each month column's letter under its header text
                 **({mc.header: letter(mc.index) for mc in match.months} if match.wide else {})},
        wide=match.wide,
        rows=sf.rows, ignored=sf.ignored)
    notes = []
    if match.unused:
        notes.append(f"{where}中以下列未使用:{'、'.join(dict.fromkeys(match.unused))}。")
    for d in match.duplicates:
        notes.append(f"{where}有同义的列,使用{d}。")
    if sf.filled:
        shown_cells = "、".join(sf.filled[:10]) + ("等" if len(sf.filled) > 10 else "")
        notes.append(f"{where}的合并单元格{shown_cells}已按合并的值填入每一行。")
    if sf.total_rows:
        rows = "、".join(str(r) for r in sf.total_rows[:10]) + ("等" if len(sf.total_rows) > 10 else "")
        notes.append(f"{where}的合计行(第{rows}行)已忽略。")
    return info, sf.frame, notes, sf.faults
