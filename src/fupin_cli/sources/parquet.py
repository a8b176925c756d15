"""Read a .parquet file as one table (issue 13): the column names are its header row.

Recognition, validation and problem records are those of a sheet: the column names are row 1,
record k (0-based) is row k + 2, the file stem is the sheet name. Only the columns the header
match uses are read, straight into Arrow/numpy, with the cell kinds a spreadsheet reader gives:

- text (string, large/dictionary string) stays Arrow-backed text ("" is empty);
- floating point numbers are float64 (null → NaN, i.e. empty);
- integers become their exact digits as text: an 18-digit ID stored as int64 must not go through
  float64 (validation would then report digits lost that are not lost);
- dates and timestamps are datetime64 (a time zone's wall-clock time), booleans stay booleans;
- decimals and other simple kinds are read as their text; nested kinds are refused.

A header found below row 1 (a title written into the data) reads the whole file cell by cell.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from fupin_cli.errors import InputError
from fupin_cli.sources.arrow_body import FastColumns
from fupin_cli.sources.csv_columns import text_cells
from fupin_cli.sources.workbook import HEAD_ROWS, SheetGrid


def _open(path: Path, display: str) -> Any:
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path)
    except OSError as exc:
        if not path.exists() or not path.is_file():
            raise InputError(f"无法读取文件“{display}”:{exc}。", code="input.unreadable") from exc
        raise InputError(f"文件“{display}”不是有效的Parquet文件或已损坏,请重新导出。", code="input.corrupt") from exc
    except Exception as exc:
        raise InputError(f"文件“{display}”不是有效的Parquet文件或已损坏,请重新导出。", code="input.corrupt") from exc


def _column(col: Any, name: str, display: str, native_dates: bool, objects: bool) -> tuple[Any, Any]:
    """(cells, Arrow text column or None) of one Parquet column, as a sheet reader gives them."""
    import pyarrow as pa
    import pyarrow.compute as pac

    t = col.type
    if pa.types.is_dictionary(t):
        col, t = col.dictionary_decode(), t.value_type
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return _texts(col, objects)
    if pa.types.is_null(t):
        return np.full(len(col), None, dtype=object), None
    if pa.types.is_floating(t):
        return col.cast(pa.float64()).to_numpy(zero_copy_only=False), None
    if pa.types.is_boolean(t):
        return np.array(col.to_pylist(), dtype=object), None
    if pa.types.is_timestamp(t) or pa.types.is_date(t):
        if pa.types.is_timestamp(t) and t.tz is not None:
            col = pac.local_timestamp(col)  # the wall-clock time where it was recorded
        arr = col.to_numpy(zero_copy_only=False).astype("datetime64[ms]")
        return (arr if native_dates else _date_objects(arr)), None
    if pa.types.is_integer(t) or pa.types.is_decimal(t) or pa.types.is_binary(t) or pa.types.is_large_binary(t):
        try:
            return _texts(col.cast(pa.string()), objects)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    raise InputError(f"文件“{display}”的列“{name}”是不支持的数据类型({t}),请导出为文本、数字或日期后再试。",
                     code="input.unsupported_type")


def _texts(col: Any, objects: bool) -> tuple[Any, Any]:
    """Text cells, "" as empty (as arrow_body._strings), held as large_string: the type pandas'
    "str" columns hold, so that making the column costs no second copy."""
    import pyarrow as pa
    import pyarrow.compute as pac

    col = col.cast(pa.large_string())
    return text_cells(pac.if_else(pac.equal(col, ""), pa.scalar(None, pa.large_string()), col), objects)


def _date_objects(arr: np.ndarray) -> np.ndarray:
    """Dates as a spreadsheet reader shows them: date at midnight, else datetime; None for none."""
    out = np.full(len(arr), None, dtype=object)
    ok = ~np.isnat(arr)
    midnight = ok & (arr == arr.astype("datetime64[D]"))
    out[midnight] = arr[midnight].astype("datetime64[D]").astype(object)
    out[ok & ~midnight] = arr[ok & ~midnight].astype(object)
    return out


class ParquetBody:
    """The records of a Parquet file, read column by column once the header is known."""

    def __init__(self, path: Path, display: str, pf: Any) -> None:
        self.path, self.display, self.pf = path, display, pf
        self.names: list[str] = list(pf.schema_arrow.names)

    def _table(self, columns: list[int]) -> Any:
        unique = len(set(self.names)) == len(self.names)
        try:
            table = self.pf.read(columns=[self.names[j] for j in columns] if unique else None)
        except Exception as exc:
            raise InputError(f"文件“{self.display}”读取失败,可能已损坏:{exc}", code="input.corrupt") from exc
        return table.select([self.names[j] for j in columns]) if unique else table.select(columns)

    def load(self, start: int, data: dict[int, bool], look: list[int],
             objects: frozenset[int] = frozenset()) -> FastColumns | None:
        if start != 1:
            return None  # the header is not the column names: cell by cell
        wanted = sorted({*data, *look})
        table = self._table(wanted)
        cells: dict[int, Any] = {}
        texts: dict[int, Any] = {}
        for pos, j in enumerate(wanted):
            col = table.column(pos).combine_chunks()
            cells[j], text = _column(col, self.names[j], self.display, data.get(j, False), j in objects)
            if text is not None:
                texts[j] = text
        return FastColumns(cells, table.num_rows, texts)

    def full(self) -> SheetGrid:
        """Every cell as a Python value, the column names as row 1 (small files, odd headers)."""
        table = self._table(list(range(len(self.names))))
        columns = []
        for pos, name in enumerate(self.names):
            cells, _ = _column(table.column(pos).combine_chunks(), name, self.display, False, True)
            values = cells.tolist() if isinstance(cells, np.ndarray) else list(cells)
            columns.append([name, *[None if v is None or v != v else v for v in values]])
        return SheetGrid(self.path.stem, columns, table.num_rows + 1, None)


def read_parquet(path: Path, display: str) -> SheetGrid:
    """The head (column names, then the first records) for header detection; the body on demand."""
    pf = _open(path, display)
    body = ParquetBody(path, display, pf)
    if pf.metadata.num_rows == 0:
        return SheetGrid(path.stem, [[n] for n in body.names], 1, None)
    head: list[list[Any]] = [[n] for n in body.names]
    try:
        first = next(pf.iter_batches(batch_size=HEAD_ROWS - 1))
    except StopIteration:
        first = None
    except Exception as exc:
        raise InputError(f"文件“{display}”读取失败,可能已损坏:{exc}", code="input.corrupt") from exc
    rows = 0
    if first is not None:
        rows = first.num_rows
        for j, col in enumerate(first.columns):
            head[j] += [None if v is None else v for v in col.to_pylist()]
    return SheetGrid(path.stem, head, rows + 1, None, lazy=body)
