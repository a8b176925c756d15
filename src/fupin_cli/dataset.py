"""The frames that flow between stages (read → validate → evaluate → record → write).

See docs/DESIGN.md for the columns of each frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd


@dataclass
class SheetInfo:
    """One sheet (or CSV file) recognised as (part of) a table."""

    file: str  # path as the user gave it / as found in the folder
    sheet: str  # sheet name; the file stem for CSV
    table: str  # "workshops" | "laborers" | "wages"
    header_row: int  # Excel row number of the (last) header row
    headers: dict[str, str]  # column key → header text exactly as written in the file
    letters: dict[str, str] = field(default_factory=dict)  # column key → Excel column letter
    wide: bool = False  # wage sheet with one column per month
    rows: int = 0  # data rows kept
    ignored: int = 0  # 合计/小计/empty rows dropped


@dataclass
class InputFile:
    path: Path
    sha256: str
    size: int


@dataclass
class RawTables:
    """Cells as read, per table, concatenated over sheets/files.

    Each frame has one column per recognised column key (raw cell values: str, int, float,
    datetime, bool or None) plus `_src` (index into `sheets`) and `_row` (Excel row number).
    The wages frame also has `_pay_header` (the header of the pay cell: the month header for
    wide sheets), and for wide sheets `month` holds the month header text.
    """

    workshops: pd.DataFrame | None
    laborers: pd.DataFrame | None
    wages: pd.DataFrame | None
    sheets: list[SheetInfo]
    files: list[InputFile]
    notes: list[str] = field(default_factory=list)  # Chinese remarks: skipped sheets, ignored rows


@dataclass
class Dataset:
    """Normalised, validated frames plus every problem found (SPEC §3.6)."""

    workshops: pd.DataFrame
    laborers: pd.DataFrame
    wages: pd.DataFrame
    problems: pd.DataFrame
    sheets: list[SheetInfo]
    files: list[InputFile]
    notes: list[str] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return int((self.problems["severity"] == "error").sum())

    @property
    def warnings(self) -> int:
        return int((self.problems["severity"] == "warning").sum())
