"""Raw frames ↔ Arrow without loss, for the per-file cache (issue 13).

A raw frame read cell by cell keeps each cell's own Python kind in object columns: a date column
holds `date`, `datetime`, text typed by hand and None side by side, and validation tells them
apart (a date typed as text gets its own message). Arrow columns have one type, so each object
column is stored as a struct: a kind code per row, and one child array per kind present. Reading
it back gives the same Python objects. A cell of any other kind (a time zone, a number too large
for int64, a numpy scalar) makes the frame uncacheable: it is simply read again next time.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

# kind code → (Python type, Arrow type name); 0 is an empty cell (None)
_KINDS: dict[int, tuple[type, str]] = {
    1: (str, "string"), 2: (float, "float64"), 3: (int, "int64"), 4: (bool, "bool"),
    5: (dt.date, "date32"), 6: (dt.datetime, "timestamp_us"), 7: (dt.time, "time64_us"),
    8: (dt.timedelta, "duration_us"),
}
_CODE = {t: k for k, (t, _) in _KINDS.items()}


def _arrow_type(name: str) -> Any:
    import pyarrow as pa

    return {"string": pa.string(), "float64": pa.float64(), "int64": pa.int64(), "bool": pa.bool_(),
            "date32": pa.date32(), "timestamp_us": pa.timestamp("us"), "time64_us": pa.time64("us"),
            "duration_us": pa.duration("us")}[name]


def encode_objects(values: np.ndarray) -> Any | None:
    """An object column as an Arrow struct (kind + one child per kind present); None if not lossless."""
    import pyarrow as pa

    n = len(values)
    kind = np.zeros(n, dtype=np.uint8)
    for i, v in enumerate(values):
        if v is None:
            continue
        k = _CODE.get(type(v))
        if k is None or (k == 6 and v.tzinfo is not None) or (k == 7 and v.tzinfo is not None):
            return None
        kind[i] = k
    fields = {"k": pa.array(kind)}
    for k in np.unique(kind[kind > 0]).tolist():
        child: list[Any] = [None] * n
        for i in np.flatnonzero(kind == k).tolist():
            child[i] = values[i]
        try:
            fields[f"v{k}"] = pa.array(child, type=_arrow_type(_KINDS[k][1]))
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            return None
    return pa.StructArray.from_arrays(list(fields.values()), names=list(fields))


def decode_objects(struct: Any) -> np.ndarray:
    """The object column `encode_objects` stored."""
    struct = struct.combine_chunks() if hasattr(struct, "combine_chunks") else struct
    kind = struct.field("k").to_numpy(zero_copy_only=False)
    out = np.full(len(kind), None, dtype=object)
    for f in range(struct.type.num_fields):
        name = struct.type.field(f).name
        if name == "k":
            continue
        idx = np.flatnonzero(kind == int(name[1:]))
        vals = np.empty(len(idx), dtype=object)
        vals[:] = struct.field(f).take(idx).to_pylist()
        out[idx] = vals
    return out


def _text_only(values: np.ndarray) -> bool:
    """Only str and None (no NaN, no other kind): stored as a plain Arrow string column."""
    if pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):
        return False
    return bool((pd.isna(values) == (values == None)).all())  # noqa: E711  (elementwise: which cells are None)


def frame_to_table(df: pd.DataFrame) -> tuple[Any, list[str]] | None:
    """(Arrow table, names of the struct-encoded object columns), or None when not lossless.

    Object columns holding only text (and None) stay plain string columns: fast both ways.
    """
    import pyarrow as pa

    df = df.reset_index(drop=True)
    arrays, structs = [], []
    for c in df.columns:
        col = df[c]
        if col.dtype != object:
            arrays.append(pa.Table.from_pandas(df[[c]], preserve_index=False).column(0))
        elif _text_only(col.to_numpy()):
            arrays.append(pa.array(col.to_numpy(), type=pa.string(), from_pandas=True))
        else:
            enc = encode_objects(col.to_numpy())
            if enc is None:
                return None
            arrays.append(enc)
            structs.append(c)
    return pa.Table.from_arrays(arrays, names=[str(c) for c in df.columns]), structs


def table_to_frame(table: Any, structs: list[str], dtypes: dict[str, str]) -> pd.DataFrame:
    """The frame `frame_to_table` stored, with its exact dtypes."""
    plain = table.drop_columns(structs).to_pandas()
    cols: dict[str, Any] = {}
    for c, dtype in dtypes.items():
        if c in structs:
            cols[c] = pd.Series(decode_objects(table.column(c)), dtype=object)
        elif dtype == "object":  # text and None
            s = plain[c]
            cols[c] = s.astype(object).where(s.notna(), None)
        else:
            s = plain[c]
            cols[c] = s if str(s.dtype) == dtype else s.astype(dtype)
    return pd.DataFrame(cols)
