"""Shared machinery of the normalisers: the result type, text clean-up and unique-value mapping.

Raw columns are large (1,000,000 wage rows) but hold few distinct values (≈100,000 IDs, ≈12
months), so every normaliser factorises the column, works on the distinct values only and maps
the results and issues back with integer takes — never a Python loop over all rows.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

ISSUE_COLUMNS = ["idx", "code", "severity", "message"]

# pandas 3 default string dtype (missing = NaN); object on older pandas, where "str" would turn NaN into "nan".
try:
    STR_DTYPE: Any = pd.StringDtype(na_value=np.nan)
except TypeError:  # pragma: no cover - pandas < 2.3
    STR_DTYPE = object


class Coded(NamedTuple):
    """A text column as integer codes: row i holds `uniques[codes[i]]`, or NA where `codes[i]` is -1.

    What `map_unique` already knows after factorising a column; validation matches keys, finds
    repeats and compares names on these integers instead of on millions of strings.
    """

    codes: np.ndarray  # int32 (or intp), one per row
    uniques: np.ndarray  # object array of distinct str values, no NA


class Normalised(NamedTuple):
    values: pd.Series  # same index as the input; NA where empty or invalid
    issues: pd.DataFrame  # ISSUE_COLUMNS; idx = index label in the input series
    coded: Coded | None = None  # the values as codes (text normalisers only)
    raw: Coded | None = None  # the input cells as codes, when they were Arrow text (see map_unique_parts)


class Issue(NamedTuple):
    code: str
    severity: str  # "error" | "warning"
    message: str  # Chinese: what is wrong and what to do; no location


def error(code: str, message: str) -> Issue:
    return Issue(code, "error", message)


def warning(code: str, message: str) -> Issue:
    return Issue(code, "warning", message)


class Kernel(NamedTuple):
    """Result of a normaliser over the distinct values: one value and at most one issue each."""

    values: Any  # array-like, one entry per distinct value (NA allowed)
    issues: dict[int, Issue]  # position in the distinct values → issue


# Full-width ASCII (U+FF01..U+FF5E) and the ideographic space to half-width: Chinese IMEs type them.
FULL2HALF = str.maketrans({**{0xFF01 + i: 0x21 + i for i in range(94)}, 0x3000: " "})
_EDGE = " \t\r\n\v\f\u3000\xa0\u200b\ufeff"
_ANY_SPACE = re.compile(r"[\s\u3000\xa0\u200b\ufeff]+")


def strip_edges(text: str) -> str:
    """Trim spaces, full-width spaces, non-breaking and zero-width spaces and line breaks."""
    return text.strip(_EDGE)


def squeeze(text: str) -> str:
    """Half-width, with every kind of space removed (also inside): for codes and numbers."""
    return _ANY_SPACE.sub("", text.translate(FULL2HALF))


def is_blank(v: object) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    return isinstance(v, str) and strip_edges(v) == ""


def is_number(v: object) -> bool:
    """int or float (numpy too), not bool."""
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


def is_datelike(v: object) -> bool:
    return isinstance(v, (datetime, date, np.datetime64))


def show(v: object) -> str:
    """A raw value as a clerk would recognise it in a message (integral floats without .0)."""
    if isinstance(v, (float, np.floating)) and math.isfinite(v) and float(v).is_integer() and abs(v) < 1e15:
        return str(int(v))
    return str(v).strip()


def elementwise(fn: Callable[[Any], tuple[Any, Issue | None]]) -> Callable[[np.ndarray], Kernel]:
    """Lift a per-value function (value → (result, issue|None)) to a kernel over distinct values."""

    def kernel(uniques: np.ndarray) -> Kernel:
        out: list[Any] = []
        issues: dict[int, Issue] = {}
        for i, v in enumerate(uniques):
            r, issue = fn(v)
            out.append(r)
            if issue is not None:
                issues[i] = issue
        return Kernel(out, issues)

    return kernel


def _arrow_text(s: pd.Series) -> Any:
    """The Arrow chunks of a text column held by Arrow (pandas' "str" dtype), else None."""
    dtype = s.dtype
    if not (isinstance(dtype, pd.StringDtype) and str(dtype.storage).startswith("pyarrow")):
        return None
    import pyarrow as pa

    col = s.array.__arrow_array__()
    return col if isinstance(col, pa.ChunkedArray) else pa.chunked_array([col])


def _encode(col: Any) -> tuple[np.ndarray, np.ndarray]:
    """Arrow's dictionary encoding of a text column: int32 codes (-1 = missing), distinct values.

    Chunks (columns of several files) share one dictionary: Arrow encodes a chunked array with one
    table of values, so each chunk's dictionary is a prefix of the last one."""
    import pyarrow.compute as pac

    enc = col.dictionary_encode()
    if enc.num_chunks == 0:
        return np.empty(0, dtype=np.int32), np.empty(0, dtype=object)
    last = enc.chunk(enc.num_chunks - 1).dictionary
    if any(not c.dictionary.equals(last[:len(c.dictionary)]) for c in enc.chunks[:-1]):
        enc = enc.unify_dictionaries()
        last = enc.chunk(0).dictionary
    codes = np.concatenate([pac.fill_null(c.indices, -1).to_numpy(zero_copy_only=False) for c in enc.chunks])
    return codes.astype(np.int32, copy=False), last.to_numpy(zero_copy_only=False).astype(object, copy=False)


def _factorize(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Codes per row (-1 = missing) and the distinct values as an object array.

    pandas hashes True == 1 == 1.0, so in object columns bools are split off again: a cell `True`
    in a money column must not borrow the meaning of a cell `1`.
    """
    text = _arrow_text(s)
    if text is not None:
        return _encode(text)
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    uniq = np.asarray(uniques, dtype=object)
    if s.dtype != object or len(uniq) == 0:
        return codes, uniq
    kind = pd.api.types.infer_dtype(uniq, skipna=False)
    if kind in ("string", "empty"):
        return codes, uniq
    if kind in ("floating", "integer", "mixed-integer-float", "boolean"):
        u = uniq.astype(float)
        zero_one = np.flatnonzero((u == 0) | (u == 1)).tolist()
    else:
        zero_one = [
            i for i, v in enumerate(uniq) if isinstance(v, (int, float, np.number, np.bool_)) and v in (0, 1)
        ]
    if not zero_one:
        return codes, uniq
    rows = np.flatnonzero(np.isin(codes, zero_one))
    row_codes = codes[rows]
    raw = s.to_numpy(dtype=object)[rows]
    row_bool = np.fromiter((isinstance(v, (bool, np.bool_)) for v in raw), dtype=bool, count=len(rows))
    rep_bool = np.array([isinstance(v, (bool, np.bool_)) for v in uniq], dtype=bool)
    mismatch = row_bool != rep_bool[row_codes]
    if not mismatch.any():
        return codes, uniq
    codes = codes.copy()
    extra: list[Any] = []
    for i in zero_one:
        hit = rows[mismatch & (row_codes == i)]
        if len(hit):
            extra.append(int(uniq[i]) if rep_bool[i] else bool(uniq[i]))
            codes[hit] = len(uniq) + len(extra) - 1
    more = np.empty(len(extra), dtype=object)
    more[:] = extra
    return codes, np.concatenate([uniq, more])


def empty_issues() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "idx": pd.Series(dtype=object),
            "code": pd.Series(dtype=object),
            "severity": pd.Series(dtype=object),
            "message": pd.Series(dtype=object),
        }
    )


def take(values: Any, codes: np.ndarray, dtype: Any, index: pd.Index, name: Any) -> pd.Series:
    """Per row, the value of its code (-1 → missing), as a Series of `dtype`."""
    arr = (
        pd.array(values, dtype=dtype) if not isinstance(values, pd.api.extensions.ExtensionArray) else values
    )
    out = _gather(arr, codes)
    if out is None:
        out = arr.take(codes, allow_fill=True)
    return pd.Series(out, index=index, name=name, copy=False)


def _gather(arr: Any, codes: np.ndarray) -> Any:
    """`arr.take(codes, allow_fill=True)` for numpy-backed values as one plain numpy gather (the
    missing value appended as the last slot, which code -1 picks); None for other arrays."""
    if isinstance(arr, (pd.arrays.IntegerArray, pd.arrays.FloatingArray, pd.arrays.BooleanArray)):
        kind = arr.dtype.numpy_dtype
        data = np.append(arr.to_numpy(dtype=kind, na_value=np.zeros(1, kind)[0]), np.zeros(1, kind))
        mask = np.append(arr.isna(), True)
        return type(arr)(data[codes], mask[codes])
    if isinstance(arr, (pd.arrays.NumpyExtensionArray, pd.arrays.DatetimeArray)) and arr.dtype.kind in "fM":
        ndarray = arr.to_numpy()
        missing = np.array([np.nan if arr.dtype.kind == "f" else np.datetime64("NaT")], dtype=ndarray.dtype)
        gathered = np.append(ndarray, missing)[codes]
        return pd.array(gathered, dtype=arr.dtype) if arr.dtype.kind == "M" else gathered
    return None


def issues_by_row(index: pd.Index, per_row: np.ndarray, table: list[Issue]) -> pd.DataFrame:
    """Issues frame from a per-row issue number (-1 = none) into `table`, in row order."""
    rows = np.flatnonzero(per_row >= 0)
    if len(rows) == 0:
        return empty_issues()
    k = per_row[rows]
    codes_a = np.array([t.code for t in table], dtype=object)
    sev_a = np.array([t.severity for t in table], dtype=object)
    msg_a = np.array([t.message for t in table], dtype=object)
    return pd.DataFrame(
        {
            "idx": np.asarray(index[rows], dtype=object),  # the few rows only: not millions of Python ints
            "code": codes_a[k],
            "severity": sev_a[k],
            "message": msg_a[k],
        }
    )


def issues_frame(index: pd.Index, codes: np.ndarray, issues: dict[int, Issue]) -> pd.DataFrame:
    """Map issues of distinct values back to every row holding that value, in row order."""
    if not issues:
        return empty_issues()
    pos = np.fromiter(issues.keys(), dtype=np.int64, count=len(issues))
    which = np.full(int(max(codes.max(initial=-1), pos.max())) + 2, -1, dtype=np.int64)
    which[pos] = np.arange(len(pos))  # the last slot stays -1 and serves code -1 (missing)
    return issues_by_row(index, which[codes], list(issues.values()))


def recode(values: Any, codes: np.ndarray) -> Coded:
    """Codes of the distinct results when `values[k]` is the (text or None) result for raw code k:
    several raw spellings may normalise to one value, which must get one code."""
    u_codes, uniques = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=True)
    lookup = np.append(u_codes, -1).astype(np.int32)  # the last slot serves raw code -1 (missing)
    return Coded(lookup[codes], np.asarray(uniques, dtype=object))


def map_unique(s: pd.Series, kernel: Callable[[np.ndarray], Kernel], dtype: Any) -> Normalised:
    """Run `kernel` over the distinct non-missing values of `s` and map results back to all rows.

    Text results also come back as codes (`Normalised.coded`)."""
    return map_unique_parts([s], kernel, dtype)[0]


def map_unique_parts(parts: list[pd.Series], kernel: Callable[[np.ndarray], Kernel], dtype: Any,
                     categorical: Sequence[bool] = ()) -> list[Normalised]:
    """`map_unique` over several columns at once (the same key in several tables): their cells are
    factorised together, so the kernel sees each distinct value once and the text results of all
    parts share one `Coded.uniques` (codes comparable across tables without matching strings).

    Parts should share a dtype: Arrow text columns are joined without copying their cells. Text
    parts flagged in `categorical` get their values as a pandas Categorical over the codes (the same
    values, without building a string per row)."""
    joined = parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
    text = _arrow_text(joined) is not None
    codes, uniq = _factorize(joined)
    del joined
    res = kernel(uniq)
    coded = recode(res.values, codes) if dtype is STR_DTYPE else None
    out: list[Normalised] = []
    at = 0
    for i, s in enumerate(parts):
        mine = codes[at:at + len(s)]
        issues = issues_frame(s.index, mine, res.issues)
        raw = Coded(mine, uniq) if text else None  # Arrow text: its cells are these codes
        if coded is None:
            out.append(Normalised(take(res.values, mine, dtype, s.index, s.name), issues, None, raw))
        else:
            part = Coded(coded.codes[at:at + len(s)], coded.uniques)
            if i < len(categorical) and categorical[i]:
                cat = pd.Categorical.from_codes(part.codes, categories=pd.Index(part.uniques, dtype=object))
                values = pd.Series(cat, index=s.index, name=s.name, copy=False)
            else:
                values = take(part.uniques, part.codes, dtype, s.index, s.name)
            out.append(Normalised(values, issues, part, raw))
        at += len(s)
    return out
