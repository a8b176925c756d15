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


def index_of(values: np.ndarray, among: np.ndarray) -> np.ndarray:
    """Position of each of `values` in `among` (distinct values), -1 where absent."""
    if len(values) == 0 or len(among) == 0:
        return np.full(len(values), -1, dtype=np.intp)
    if pd.api.types.infer_dtype(values) == "string" and pd.api.types.infer_dtype(among) == "string":
        import pyarrow as pa
        import pyarrow.compute as pac

        # text on both sides (ID numbers): Arrow's hash lookup, without a Python object per probe
        found = pac.index_in(pa.array(values, pa.string()), value_set=pa.array(among, pa.string()))
        return pac.fill_null(found, -1).to_numpy(zero_copy_only=False).astype(np.intp)
    return pd.Index(among, dtype=object).get_indexer(np.asarray(values, dtype=object))


def isin(s: pd.Series, values: pd.Series) -> pd.Series:
    """`s.isin(values)` as a boolean Series; two Arrow text columns are matched by Arrow itself (pandas
    first turns every value into a Python object: ~0.1 s for 20,000 IDs against 100,000)."""
    if _arrow_text(s) and s.dtype == values.dtype:
        import pyarrow as pa
        import pyarrow.compute as pc

        value_set = pa.chunked_array(values.array._pa_array).combine_chunks()
        if not len(value_set):
            return pd.Series(False, index=s.index)
        hit = pc.is_in(s.array._pa_array, value_set=value_set.cast(s.array._pa_array.type))
        return pd.Series(np.array(hit, dtype=np.bool_), index=s.index)
    return s.isin(values)


def shared_codes(ca: np.ndarray, ua: np.ndarray, cb: np.ndarray, ub: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, int]:
    """Codes of two factorised columns (codes into distinct values `ua`, `ub`; -1 = missing) in one
    code space: equal values get equal codes. Returns both code arrays and the number of codes."""
    if ua is ub:  # factorised together already (values.map_unique_parts)
        return ca, cb, len(ua)
    to_a = index_of(ub, ua)
    only_b = np.flatnonzero(to_a < 0)  # values only in `b` get codes of their own: they match nothing in `a`
    to_a[only_b] = len(ua) + np.arange(len(only_b))
    return ca, np.append(to_a, -1)[cb], len(ua) + len(only_b)


def _codes(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    from fupin_cli.values.normaliser import _factorize

    return _factorize(s)


def _arrow_text(s: pd.Series) -> bool:
    return isinstance(s.dtype, pd.StringDtype) and s.dtype.storage == "pyarrow"


def _joint_codes(a: pd.Series, b: pd.Series) -> tuple[np.ndarray, np.ndarray, int]:
    """Codes of two Arrow text columns, dictionary-encoded together: equal texts share a code, and
    the distinct values never become Python objects (5 M wage rows: about 4× faster than apart)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    t = pa.large_string()
    both = pa.chunked_array([*a.array._pa_array.cast(t).chunks, *b.array._pa_array.cast(t).chunks], type=t)
    enc = pc.dictionary_encode(both).combine_chunks()  # a missing text stays null: code -1
    c = enc.indices.cast(pa.int64()).fill_null(-1).to_numpy(zero_copy_only=False)
    return c[:len(a)], c[len(a):], len(enc.dictionary)


def _shared(a: pd.Series, b: pd.Series) -> tuple[np.ndarray, np.ndarray, int]:
    """`a` and `b` in one code space: Arrow text encoded together, else each factorised and mapped."""
    if _arrow_text(a) and _arrow_text(b):
        return _joint_codes(a, b)
    return shared_codes(*_codes(a), *_codes(b))


def pair_keys(lab: pd.DataFrame, wg: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """int64 (ID, workshop) keys shared by both tables; -1 where either part is missing.

    Integer keys instead of concatenated strings: a million wage rows are matched in milliseconds.
    """
    il, iw, _ = _shared(lab["id_number"], wg["id_number"])
    wl, ww, n_ws = _shared(lab["workshop_id"], wg["workshop_id"])
    return pack_keys(il, wl, n_ws + 1), pack_keys(iw, ww, n_ws + 1)


def repeated(keys: np.ndarray) -> np.ndarray:
    """Mask of the entries whose key occurs more than once (pandas' `duplicated(keep=False)`).

    By a stable sort, not a hash table: rows usually come grouped (by person, by sheet row), and
    sorting a nearly sorted column of millions of keys costs a fraction of hashing it.
    """
    keys = np.asarray(keys)
    out = np.zeros(len(keys), dtype=bool)
    if len(keys) < 2:
        return out
    order = None if bool((keys[1:] >= keys[:-1]).all()) else np.argsort(keys, kind="stable")
    s = keys if order is None else keys[order]
    same = s[1:] == s[:-1]
    rep = np.zeros(len(keys), dtype=bool)
    rep[1:] = same
    rep[:-1] |= same
    if order is None:
        return rep
    out[order] = rep
    return out


def rows_with_keys(keys: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Positions (ascending) of the entries of `keys` equal to one of `wanted` (a few keys among
    millions of rows: a binary search each, in the sorted order of `keys`)."""
    keys = np.asarray(keys)
    wanted = np.unique(wanted)
    if len(keys) == 0 or len(wanted) == 0:
        return np.empty(0, dtype=np.intp)
    order = None if bool((keys[1:] >= keys[:-1]).all()) else np.argsort(keys, kind="stable")
    s = keys if order is None else keys[order]
    lo = np.searchsorted(s, wanted, "left")
    hi = np.searchsorted(s, wanted, "right")
    n = hi - lo
    at = np.repeat(lo - np.r_[0, np.cumsum(n)[:-1]], n) + np.arange(int(n.sum()))
    return np.sort(at if order is None else order[at])
