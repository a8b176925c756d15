"""The validation report workbook and marked copies of input workbooks (SPEC §3.6).

A marked copy is a *copy* of one input .xlsx with every problem cell filled (red = error,
yellow = warning) and an Excel comment holding the message(s); the input file is only read.

Finding the cell of a problem: the problem frame carries the Excel row and the column header as
written. The column is taken from the `headers` mapping {(sheet, header text) → column letter} when
the caller has it (the reader knows where each header was); otherwise the header rows are scanned:
the nearest cell above the problem row whose normalised text equals the header, else one of the
header's aliases from tables.toml.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import xlsxwriter

from fupin_cli.errors import FupinError, InputError
from fupin_cli.fsutil import atomic_path, display_names
from fupin_cli.problems import PROBLEM_COLUMNS, problem_title
from fupin_cli.tables import load_tables, normalise_header
from fupin_cli.workbooks.cells import Formats, is_missing, new_workbook
from fupin_cli.workbooks.layout import Col, setup_print, write_table

if TYPE_CHECKING:  # openpyxl (~0.1 s to import) only for marked copies, imported there
    import openpyxl
    from openpyxl.worksheet.worksheet import Worksheet as OpenpyxlSheet

SEVERITY_LABELS = {"error": "错误", "warning": "警告"}

# Printed on A4: long texts wrap inside their cells; the Chinese title of the problem instead of its code.
PROBLEM_COLS = [
    Col("severity_label"),
    Col("file", "wrap", max_width=30),
    Col("sheet", "wrap", max_width=16),
    Col("row", "int"),
    Col("name", max_width=12),
    Col("column", "wrap", max_width=16),
    Col("value", "wrap", max_width=24),
    Col("title", "wrap", max_width=18, label="problem"),
    Col("message", "wrap", max_width=50),
]

COUNT_COLS = [
    Col("severity_label"),
    Col("file", "wrap", max_width=30),
    Col("sheet", "wrap", max_width=16),
    Col("title", "wrap", max_width=18, label="problem"),
    Col("count", "int", total=True, label="count_rows"),
    Col("message", "wrap", max_width=50, label="message_example"),
]

SUMMARY_LABELS = {
    "month": "月份", "files": "文件数", "sheets": "工作表数", "rows": "数据行数", "errors": "错误条数",
    "warnings": "警告条数", "valid": "是否通过检查", "checked_at": "检查时间", "region": "地区",
    "policy": "政策", "tool_version": "程序版本",
}

FILL_COLORS = {"error": "FFFF7C80", "warning": "FFFFFF00"}
TAB_COLORS = {"error": "FF0000", "warning": "FFC000"}
HEADER_SCAN_ROWS = 30


def problem_frame(problems: pd.DataFrame) -> pd.DataFrame:
    """The problem frame for printing: errors before warnings, file names as short as still tells
    them apart, the Chinese title of each code and severity."""
    df = problems.copy()
    for c in [*PROBLEM_COLUMNS, "name"]:
        if c not in df.columns:
            df[c] = pd.Series([None] * len(df), index=df.index, dtype=object)
    # The cell content as the reader saw it: 4.52122E+17 must not be shown as 452122000000000000.
    value = [None if is_missing(v) else str(v) for v in df["value"].astype(object)]
    names = display_names([str(f) for f in df["file"].dropna()])
    df = df.assign(value=pd.Series(value, index=df.index, dtype=object),
                   file=df["file"].map(lambda f: names.get(str(f), f) if f is not None else f),
                   title=df["code"].map(lambda c: problem_title(str(c))),
                   severity_label=df["severity"].map(SEVERITY_LABELS).fillna(df["severity"]))
    order = df["severity"].map({"error": 0, "warning": 1}).fillna(2)
    return df.iloc[order.argsort(kind="stable")].reset_index(drop=True)


def problems_count_text(problems: pd.DataFrame) -> str:
    """The 合计 text of a problem list, e.g. 共{n}条(错误3条,警告1条); {n} is filled by the layout."""
    sev = problems["severity"] if "severity" in problems.columns else pd.Series(dtype=object)
    return f"共{{n}}条(错误{int((sev == 'error').sum())}条,警告{int((sev == 'warning').sum())}条)"


# Excel's 1,048,576 rows less the title, header, 合计 and note rows: a longer problem list continues
# on further sheets (问题清单(2), …) instead of being cut off.
EXCEL_ROWS = 1_048_576
ROWS_PER_SHEET = EXCEL_ROWS - 16


def write_problem_sheets(wb: xlsxwriter.Workbook, fmts: Formats, name: str, title: str, probs: pd.DataFrame,
                         footer_note: str | None = None) -> None:
    """The problem list on one sheet, or on as many as it needs (each titled 第k部分/共m部分)."""
    parts = max(1, -(-len(probs) // ROWS_PER_SHEET))
    for k in range(parts):
        part = probs.iloc[k * ROWS_PER_SHEET:(k + 1) * ROWS_PER_SHEET]
        more = f"(第{k + 1}部分,共{parts}部分,全部{len(probs)}条)" if parts > 1 else ""
        write_table(wb.add_worksheet(name if k == 0 else f"{name}({k + 1})"), fmts, title=title + more,
                    cols=PROBLEM_COLS, frame=part, count_text=("file", problems_count_text(part)),
                    footer_note=footer_note, seq_start=k * ROWS_PER_SHEET + 1)


def write_problems(path: Path, problems: pd.DataFrame, summary: dict | None = None) -> Path:
    """The validation report: 问题清单 (every problem) and 汇总 (counts per file, sheet and code)."""
    path = Path(path)
    probs = problem_frame(problems)
    key = ["severity_label", "file", "sheet", "title"]
    counts = (probs.fillna({k: "" for k in key}).groupby(key, sort=False, dropna=False)
              .agg(count=("code", "size"), message=("message", "first")).reset_index())
    with atomic_path(path) as tmp:
        wb = new_workbook(tmp, constant_memory=True)
        fmts = Formats(wb)
        write_problem_sheets(wb, fmts, "问题清单", "数据问题清单", probs)
        ws = wb.add_worksheet("汇总")
        start = 0
        if summary:
            items = pd.DataFrame({"item": [SUMMARY_LABELS.get(k, k) for k in summary],
                                  "value": list(summary.values())})
            info = write_table(ws, fmts, title="数据检查汇总", frame=items, seq=False, totals="none",
                               cols=[Col("item"), Col("value", "auto", max_width=60, label="item_value")],
                               print_setup=False)
            start = info.first_row + info.n_rows + 1
        info = write_table(ws, fmts, title="各文件问题条数", cols=COUNT_COLS, frame=counts, start_row=start,
                           print_setup=False)
        setup_print(ws, info.header_row, len(COUNT_COLS) + 1)
        if summary:
            ws.freeze_panes(0, 0)  # the header is far down: freezing it would hide most of the screen
        wb.close()
    return path


# --- marked copy ----------------------------------------------------------------------------------

@cache
def _alias_groups() -> dict[str, set[str]]:
    """Normalised header → every normalised name of the same column (over all three tables)."""
    groups: dict[str, set[str]] = defaultdict(set)
    tables = load_tables()
    for t in (tables.workshops, tables.laborers, tables.wages):
        for c in t.columns:
            names = {normalise_header(n) for n in c.names()}
            for n in names:
                groups[n] |= names
    return groups


def _header_cells(ws: OpenpyxlSheet) -> dict[str, list[tuple[int, int]]]:
    """Normalised text → (row, col) of the text cells in the first rows (where headers are)."""
    found: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for row in ws.iter_rows(min_row=1, max_row=min(ws.max_row, HEADER_SCAN_ROWS)):
        for cell in row:
            if isinstance(cell.value, str) and cell.value.strip():
                found[normalise_header(cell.value)].append((cell.row, cell.column))
    return found


def _find_header(ws: OpenpyxlSheet, cache: dict, header: str, row: int | None) -> tuple[int, int] | None:
    """(row, col) of the header cell of `header`: nearest above `row`, or the first one without a row."""
    if ws.title not in cache:
        cache[ws.title] = _header_cells(ws)
    found = cache[ws.title]
    norm = normalise_header(header)
    for names in ({norm}, _alias_groups().get(norm, set())):
        cells = [rc for n in names for rc in found.get(n, [])]
        if row is not None:
            cells = [rc for rc in cells if rc[0] <= row]
        if cells:
            return max(cells) if row is not None else min(cells)
    return None


def _anchor(ws: OpenpyxlSheet, row: int, col: int):
    """The writable cell at (row, col): the top-left cell when it lies inside a merged range."""
    from openpyxl.cell.cell import MergedCell

    cell = ws.cell(row=row, column=col)
    if isinstance(cell, MergedCell):
        for rng in ws.merged_cells.ranges:
            if cell.coordinate in rng:
                return ws.cell(row=rng.min_row, column=rng.min_col)
    return cell


def write_marked_copy(
    source: Path,
    dest: Path,
    problems_for_file: pd.DataFrame,
    headers: Mapping[tuple[str, str], str] | None = None,
) -> Path:
    """Copy `source` (.xlsx) to `dest` with problem cells filled and commented; `source` is not touched.

    Problems with a row but no (findable) column mark the whole row; problems without a row mark the
    header cell of their column, or else the sheet tab with a comment in A1; problems on a sheet
    that is not in the workbook go to A1 of the first sheet. Every sheet with a problem gets a
    coloured tab. Note: openpyxl does not keep images or charts of the source in the copy.
    """
    source, dest = Path(source), Path(dest)
    wb = _open_source(source, dest)
    marks = _Marks()
    for p in problem_frame(problems_for_file).itertuples(index=False):
        marks.place(wb, p, headers or {})
    marks.apply(wb)
    with atomic_path(dest) as tmp:
        wb.save(tmp)
    return dest


def _open_source(source: Path, dest: Path) -> openpyxl.Workbook:
    if source.suffix.lower() != ".xlsx":
        raise FupinError(f"只能为 .xlsx 文件生成标注副本:“{source.name}”不是 .xlsx 文件。", code="output.marked_type")
    if source.resolve() == dest.resolve():
        raise FupinError(f"标注副本不能覆盖原文件“{source.name}”,请换一个文件名。", code="output.marked_overwrite")
    import openpyxl

    try:
        return openpyxl.load_workbook(source)
    except Exception as exc:  # openpyxl raises many kinds for a corrupt file
        raise InputError(f"无法打开“{source.name}”生成标注副本:{exc}", code="input.unreadable") from exc


@dataclass
class _Marks:
    """Where each problem goes in the copy: cell comments, whole rows, sheet tabs (an error wins)."""

    messages: dict[tuple[str, int, int], list[str]] = field(default_factory=lambda: defaultdict(list))
    severity: dict[tuple[str, int, int], str] = field(default_factory=dict)
    rows: dict[tuple[str, int], str] = field(default_factory=dict)
    tabs: dict[str, str] = field(default_factory=dict)
    scan_cache: dict = field(default_factory=dict)

    def note(self, sheet: str, r: int, c: int, sev: str, text: str) -> None:
        self.messages[(sheet, r, c)].append(text)
        if self.severity.get((sheet, r, c)) != "error":
            self.severity[(sheet, r, c)] = sev

    def place(self, wb: openpyxl.Workbook, p: Any, headers: Mapping[tuple[str, str], str]) -> None:
        sev = "error" if p.severity == "error" else "warning"
        sheet = p.sheet if isinstance(p.sheet, str) and p.sheet in wb.sheetnames else wb.sheetnames[0]
        ws = wb[sheet]
        row = None if pd.isna(p.row) else int(p.row)
        header = p.column if isinstance(p.column, str) and p.column.strip() else None
        col = hdr = None
        if header is not None:
            hdr = _find_header(ws, self.scan_cache, header, row)
            letter = headers.get((sheet, header))
            if letter:
                from openpyxl.utils import column_index_from_string

                col = column_index_from_string(letter)
                if hdr is not None and hdr[1] != col:
                    hdr = None
            elif hdr is not None:
                col = hdr[1]
        text = f"【{SEVERITY_LABELS[sev]}】{p.message}" + (f"({p.code})" if isinstance(p.code, str) and p.code else "")
        if self.tabs.get(sheet) != "error":
            self.tabs[sheet] = sev
        if row is not None and col is not None:
            self.note(sheet, row, col, sev, text)
        elif row is not None:
            self.note(sheet, row, 1, sev, (f"[{header}] " if header else "") + text)
            if self.rows.get((sheet, row)) != "error":
                self.rows[(sheet, row)] = sev
        elif col is not None:
            self.note(sheet, hdr[0] if hdr else 1, col, sev, text)  # the column's header cell
        else:
            self.note(sheet, 1, 1, sev, text)

    def apply(self, wb: openpyxl.Workbook) -> None:
        from openpyxl.comments import Comment
        from openpyxl.styles import PatternFill

        fills = {k: PatternFill(fill_type="solid", start_color=c, end_color=c) for k, c in FILL_COLORS.items()}
        for (sheet, r), sev in self.rows.items():
            ws = wb[sheet]
            for c in range(1, max(ws.max_column, 1) + 1):
                _anchor(ws, r, c).fill = fills[sev]  # cells with their own problem are refilled below
        for (sheet, r, c), texts in self.messages.items():
            cell = _anchor(wb[sheet], r, c)
            cell.fill = fills[self.severity[(sheet, r, c)]]
            old = cell.comment.text + "\n" if cell.comment is not None else ""
            body = old + "\n".join(texts)
            cell.comment = Comment(body, "fupin", width=320, height=min(600, 40 + 18 * body.count("\n") * 2))
        for sheet, sev in self.tabs.items():
            wb[sheet].sheet_properties.tabColor = TAB_COLORS[sev]
