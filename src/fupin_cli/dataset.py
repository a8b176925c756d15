"""The frames that flow between stages (read → validate → evaluate → record → write).

See docs/DESIGN.md for the columns of each frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
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
    datetime, bool or None) plus the location keys `_src` (index into `sheets`) and `_row` (Excel row
    number, 1-based; the CSV line for CSV files). Outside reading and validation a location is
    (file, sheet, row, column), `problems.LOCATION_COLUMNS`; the Dataset frames keep the two keys only
    so that validation tests can find a row again (nothing downstream reads them).
    The wages frame also has `_pay_header` (the header of the pay cell: the month header for
    wide sheets), and for wide sheets `month` holds the month header text.
    """

    workshops: pd.DataFrame | None
    laborers: pd.DataFrame | None
    wages: pd.DataFrame | None
    sheets: list[SheetInfo]
    files: list[InputFile]
    notes: list[str] = field(default_factory=list)  # Chinese remarks: skipped sheets, ignored rows
    # cells whose value the file does not hold: (table, _src, _row, column key, what the cell shows),
    # an Excel error value (#DIV/0!) or a formula saved without its result (read as empty cells)
    faults: list[tuple[str, int, int, str, str]] = field(default_factory=list)
    # runs of hidden (or filtered-out) data rows, used as data: (_src, first row, last row, filtered)
    hidden: list[tuple[int, int, int, bool]] = field(default_factory=list)


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
    # key of the cache entry this dataset is (set by cache.cached): the rule's decisions on it are cached too
    cache_key: str | None = None

    @property
    def errors(self) -> int:
        return int((self.problems["severity"] == "error").sum())

    @property
    def warnings(self) -> int:
        return int((self.problems["severity"] == "warning").sum())


LOCATION_KEYS = ["_src", "_row"]  # a raw row's location while reading/validating (see RawTables)
ROW_STRIDE = 1 << 32  # (sheet, row) keys: any CSV or sheet row number stays below 2**32


def pack_keys(major: np.ndarray, minor: np.ndarray, stride: int) -> np.ndarray:
    """One int64 key per (major, minor) pair: major * stride + minor; -1 where either part is negative.

    The one packing of two small integers (pair codes, source sheet and row) into a sortable,
    hashable key; `minor` must stay below `stride`.
    """
    major = np.asarray(major, dtype=np.int64)
    minor = np.asarray(minor, dtype=np.int64)
    keys = major * np.int64(stride) + minor
    keys[(major < 0) | (minor < 0)] = -1
    return keys


def pair_keys(lab: pd.DataFrame, wg: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """int64 (ID, workshop) keys shared by both tables; -1 where either part is missing.

    Integer keys instead of concatenated strings: a million wage rows are matched in milliseconds.
    """
    def codes(a: pd.Series, b: pd.Series) -> tuple[np.ndarray, np.ndarray, int]:
        ca, ua = pd.factorize(a.astype(object))
        # Factorize the long column in its own (Arrow) dtype, then translate its few distinct values.
        cb_local, ub = pd.factorize(b)
        to_a = pd.Index(ua).get_indexer(np.asarray(ub, dtype=object))  # -1: value not in `a`
        # values only in `b` still need distinct codes: they match no laborer row, but must not collide
        only_b = np.flatnonzero(to_a < 0)
        to_a[only_b] = len(ua) + np.arange(len(only_b))
        if not len(to_a):  # no value at all in `b` (every cell empty or unreadable)
            return ca, np.full(len(cb_local), -1, dtype=np.int64), len(ua)
        cb = np.where(cb_local >= 0, to_a[np.maximum(cb_local, 0)], -1)
        return ca, cb, len(ua) + len(only_b)

    il, iw, _ = codes(lab["id_number"], wg["id_number"])
    wl, ww, n_ws = codes(lab["workshop_id"], wg["workshop_id"])
    return pack_keys(il, wl, n_ws + 1), pack_keys(iw, ww, n_ws + 1)
