"""The validation report of `check --report` and `batch`: the problem list plus marked input copies."""

from __future__ import annotations

from pathlib import Path

from fupin_cli.dataset import Dataset
from fupin_cli.workbooks.problems import write_marked_copy, write_problems


def marked_copy_name(source: Path) -> str:
    return f"{source.stem}_问题标注.xlsx"


def write_check_report(ds: Dataset, path: Path) -> list[Path]:
    """Write `path` (问题清单) and, next to it, a highlighted copy of each .xlsx input with problems.

    The originals are never opened for writing: copies get a new name in the report's folder.
    """
    path = Path(path)
    counts = {
        "文件数": len(ds.files),
        "错误": ds.errors,
        "警告": ds.warnings,
    }
    written = [write_problems(path, ds.problems, counts)]
    if ds.problems.empty:
        return written
    headers: dict[tuple[str, str], str] = {}
    for s in ds.sheets:
        for key, letter in s.letters.items():
            if key in s.headers:
                headers[(s.sheet, s.headers[key])] = letter
    for f in ds.files:
        if f.path.suffix.lower() != ".xlsx":
            continue
        mine = ds.problems.loc[ds.problems["file"] == str(f.path)]
        if mine.empty:
            continue
        dest = path.parent / marked_copy_name(f.path)
        if dest.resolve() == f.path.resolve():
            continue
        file_headers = {k: v for k, v in headers.items()}
        written.append(write_marked_copy(f.path, dest, mine, file_headers))
    return written
