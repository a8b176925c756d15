"""Payments made by hand before fupin (SPEC §5.1): read and check a 历史发放名单 for `fupin ledger import`.

A county adopting fupin has already paid people: recording them as an imported batch means they
are never paid again. The list is read like any input (title rows, aliases, merged cells, 合计
rows) and checked like any input: every bad row is listed with file, sheet, row and column, and
one bad row stops the whole import (a row left out would be paid a second time).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

from fupin_cli.dataset import InputFile, SheetInfo
from fupin_cli.errors import InputError
from fupin_cli.fsutil import sha256_file
from fupin_cli.months import month_of
from fupin_cli.problems import concat_problems
from fupin_cli.region import Region
from fupin_cli.sources import discover
from fupin_cli.sources.csvfile import read_csv
from fupin_cli.sources.headers import best_header, check_ambiguous
from fupin_cli.sources.sheet import build, letter
from fupin_cli.sources.workbook import Workbook
from fupin_cli.tables import load_tables, normalise_header
from fupin_cli.validate import flag_rows, validate_table

COLUMNS = ["id_number", "name", "workshop_id", "month", "amount", "reference"]


@dataclass
class History:
    rows: pd.DataFrame  # COLUMNS, valid rows only (all rows when there is no error)
    problems: pd.DataFrame  # located problem records, as `check` lists them
    files: list[InputFile]
    sheets: list[SheetInfo]
    notes: list[str] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return int((self.problems["severity"] == "error").sum()) if len(self.problems) else 0


def _read(paths: Sequence[str | Path]) -> tuple[list[pd.DataFrame], list[SheetInfo], list[InputFile], list[str]]:
    spec = load_tables().history
    names = {normalise_header(n) for n in spec.sheet_names}
    required = "、".join(c.header for c in spec.required)
    parts: list[pd.DataFrame] = []
    sheets: list[SheetInfo] = []
    files: list[InputFile] = []
    notes: list[str] = []
    for path, shown in discover(paths):
        files.append(InputFile(path=path, sha256=sha256_file(path), size=path.stat().st_size))
        grids = iter([read_csv(path, shown)]) if path.suffix.lower() == ".csv" else Workbook(path, shown).sheets()
        for grid in grids:
            where = f"文件“{shown}”工作表“{grid.name}”"
            if grid.empty():
                continue
            match = best_header("history", grid.head(), grid.merges)
            missing = spec.required if match is None else [c for c in spec.required if c.key not in match.columns]
            if missing:
                if normalise_header(grid.name) in names:
                    raise InputError(f"{where}缺少必填列:{'、'.join(c.header for c in missing)}。"
                                     f"历史发放名单须有列:{required}。", code="input.missing_column")
                notes.append(f"{where}不是历史发放名单(需要列:{required}),已跳过。")
                continue
            check_ambiguous(match, where)
            sf = build(grid, match, spec, src=len(sheets))
            sheets.append(SheetInfo(file=shown, sheet=grid.name, table="history", header_row=match.row + 1,
                                    headers=dict(match.headers),
                                    letters={k: letter(j) for k, j in match.columns.items()},
                                    rows=sf.rows, ignored=sf.ignored))
            parts.append(sf.frame)
    if not parts:
        raise InputError(f"没有找到历史发放名单:需要一张有“{required}”等列的表(工作表名如“历史发放”)。",
                         code="input.no_tables")
    return parts, sheets, files, notes


def read_history(paths: Sequence[str | Path], region: Region, today: date | None = None) -> History:
    """Read and check the lists of payments made before fupin; see the module docstring."""
    spec = load_tables().history
    parts, sheets, files, notes = _read(paths)
    raw = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    clean, has_error, problems = validate_table(raw, spec, sheets, region, unique=[
        (["id_number"], "身份证号(同一人在历史发放名单中出现了多次,每人只能享受一次)")])
    future = clean["month"].notna() & (pd.to_numeric(clean["month"]) > month_of(today or date.today()))
    if future.any():
        problems = concat_problems([problems, flag_rows(raw, sheets, future, key="month", code="month.future",
                                                        message="发放月份晚于当前月份,请核对")])
        has_error |= future
    rows = clean.loc[~has_error, COLUMNS].reset_index(drop=True)
    return History(rows=rows, problems=problems, files=files, sheets=sheets, notes=notes)
