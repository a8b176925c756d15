"""The validation report of `check --report` and `batch`: the problem list plus marked input copies."""

from __future__ import annotations

from pathlib import Path

from fupin_cli.dataset import Dataset
from fupin_cli.errors import FupinError
from fupin_cli.workbooks.problems import write_marked_copy, write_problems


def marked_copy_name(source: Path) -> str:
    return f"{source.stem}_问题标注.xlsx"


def write_check_report(ds: Dataset, path: Path) -> list[Path]:
    """Write `path` (问题清单) and, next to it, a highlighted copy of each .xlsx input with problems.

    The originals are never opened for writing: copies get a new name in the report's folder.
    """
    path = Path(path)
    # SPEC §9: input files are never modified — not even when an output name collides with one.
    inputs = {f.path.resolve() for f in ds.files}
    if path.resolve() in inputs:
        raise FupinError(f"问题清单“{path}”与输入文件同名,会覆盖原始数据,请换一个文件名(如 问题清单.xlsx)。",
                         code="usage.report_is_input")
    counts = {
        "文件数": len(ds.files),
        "错误": ds.errors,
        "警告": ds.warnings,
    }
    written = [write_problems(path, ds.problems, counts)]
    if ds.problems.empty:
        return written
    used: set[Path] = set()
    for f in ds.files:
        if f.path.suffix.lower() != ".xlsx":
            continue
        mine = ds.problems.loc[ds.problems["file"] == str(f.path)]
        if mine.empty:
            continue
        dest = path.parent / marked_copy_name(f.path)
        n = 1
        while dest in used:  # 乡镇A/数据.xlsx and 乡镇B/数据.xlsx must not share one copy
            n += 1
            dest = path.parent / f"{f.path.stem}_问题标注_{n}.xlsx"
        used.add(dest)
        if dest.resolve() in inputs:
            continue  # an input already has the copy's name: leave it alone
        # Column letters of this file's sheets only: two townships' 人员 sheets may order columns differently.
        # A letters key that is no column key is a header text itself (a wide sheet's month column).
        file_headers = {(s.sheet, s.headers.get(key, key)): letter for s in ds.sheets if s.file == str(f.path)
                        for key, letter in s.letters.items()}
        written.append(write_marked_copy(f.path, dest, mine, file_headers))
    return written
