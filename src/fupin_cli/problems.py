"""Validation problems as records (SPEC §3.6).

Problems are collected as small frames while validating (vectorised) and concatenated once into
one frame with the stable columns below; `problems_to_records` gives the JSON records.
"""

from __future__ import annotations

import pandas as pd

# A location, the one way fupin says where a value is, as a clerk finds it in Excel: the file (path as
# given), the sheet name (the file stem for CSV), the Excel row number (1-based; None for a problem of a
# whole sheet or file) and the column's header text as written in the file.
LOCATION_COLUMNS = ["file", "sheet", "row", "column"]
PROBLEM_COLUMNS = [*LOCATION_COLUMNS, "value", "code", "severity", "message"]


def empty_problems() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in PROBLEM_COLUMNS})


def concat_problems(frames: list[pd.DataFrame], keep: tuple[str, ...] = ()) -> pd.DataFrame:
    """One sorted frame of problems; `keep` names extra columns every frame has (e.g. county_code)."""
    frames = [f[[*PROBLEM_COLUMNS, *keep]] for f in frames if f is not None and len(f)]
    if not frames:
        return empty_problems()
    out = pd.concat(frames, ignore_index=True)
    out["row"] = out["row"].astype("Int64")
    # Stable order: by file, sheet, row as the user reads them.
    out = out.sort_values(["file", "sheet", "row", "column", "code"], kind="stable", na_position="first")
    return out.reset_index(drop=True)


def problems_to_records(df: pd.DataFrame) -> list[dict]:
    """JSON-ready records in the §6.3 `check` shape."""
    recs = []
    for r in df[PROBLEM_COLUMNS].itertuples(index=False):
        recs.append(
            {
                "file": r.file,
                "sheet": r.sheet,
                "row": None if pd.isna(r.row) else int(r.row),
                "column": r.column,
                "value": "" if r.value is None or (isinstance(r.value, float) and pd.isna(r.value)) else str(r.value),
                "code": r.code,
                "severity": r.severity,
                "message": r.message,
            }
        )
    return recs


def problem_title(code: str) -> str:
    """The Chinese title of a problem code from the catalogue (what `check` shows instead of the code)."""
    from fupin_cli.codes import catalogue

    entry = catalogue().get(code)
    return entry.title if entry is not None else "数据问题"
