"""The columnar CSV read (pyarrow) gives exactly what the row-by-row read gives (issue 13).

The messy township workbook of xlsxfixtures is exported sheet by sheet to CSV (title rows, 序号,
合计 rows, wide month sheets, bad cells) plus CSV oddities (a quoted line break, blank lines,
blank-looking cells). Both readers must produce the same dataset: frames, every problem record
with its row number, sheets and notes. Files pyarrow cannot read the same way fall back.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest
import python_calamine as pc

import fupin_cli.sources.csv_columns as cc
import fupin_cli.sources.csvfile as csvfile
from fupin_cli.dataset import Dataset
from fupin_cli.errors import InputError
from fupin_cli.loading import load_dataset
from fupin_cli.problems import problems_to_records
from fupin_cli.region import load_region
from xlsxfixtures import ID, write_messy


def _text(v: object) -> str:
    if v is None or v == "":
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%d %H:%M") if v.hour or v.minute else v.strftime("%Y-%m-%d")
    if isinstance(v, date):
        return v.isoformat()
    return str(v)


def export_csv(xlsx: Path, folder: Path, encoding: str, delimiter: str = ",", pad: int = 0) -> list[Path]:
    """Every table sheet of the workbook as a CSV file, cells as Excel shows them.

    `pad`: the sheet's last rows repeated that many times (a file longer than the sniffed head).
    """
    wb = pc.CalamineWorkbook.from_path(str(xlsx))
    out = []
    for name in wb.sheet_names:
        if name not in ("车间", "人员", "工资"):
            continue
        rows = [[_text(v) for v in r] for r in wb.get_sheet_by_name(name).to_python(skip_empty_area=False)]
        if name == "人员":  # CSV oddities: a quoted line break in a name, a blank line, a blank-looking cell
            rows[-1][2] = "韦\n小红"
            rows.insert(len(rows) - 1, [])
            rows.append([" "] * len(rows[-2]))
        rows += rows[-4:] * pad
        buf = io.StringIO()
        csv.writer(buf, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
        path = folder / f"{name}.csv"
        path.write_bytes(buf.getvalue().encode(encoding, errors="replace"))  # GBK has no ¥
        out.append(path)
    return out


def _load(paths: list[Path], monkeypatch: pytest.MonkeyPatch, columnar: bool) -> tuple[Dataset, list[bool]]:
    used: list[bool] = []
    real = cc.CsvBody.load

    def spy(self, *a, **kw):
        res = real(self, *a, **kw)
        used.append(res is not None)
        return res

    with monkeypatch.context() as m:
        m.setattr(cc.CsvBody, "load", spy)
        if not columnar:
            m.setattr(csvfile, "_columnar", lambda path, display: None)
        return load_dataset(paths, region=load_region()), used


def _plain(df: pd.DataFrame) -> list[list[object]]:
    return df.astype(object).where(df.notna(), None).values.tolist()


def assert_same(a: Dataset, b: Dataset) -> None:
    assert problems_to_records(a.problems) == problems_to_records(b.problems)
    for key in ("workshops", "laborers", "wages", "problems"):
        x, y = getattr(a, key), getattr(b, key)
        assert list(x.columns) == list(y.columns), key
        assert _plain(x) == _plain(y), key
    assert a.sheets == b.sheets and a.notes == b.notes


@pytest.fixture(scope="module")
def messy_xlsx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_messy(tmp_path_factory.mktemp("messy"), with_csv=False).xlsx


@pytest.mark.parametrize(("head_bytes", "pad"), [(cc.HEAD_BYTES, 0), (2500, 30)])
@pytest.mark.parametrize(("encoding", "delimiter"), [("utf-8", ","), ("utf-8-sig", ","), ("gbk", ","),
                                                     ("utf-16", ","), ("gb18030", "\t")])
def test_columnar_equals_row_by_row(messy_xlsx: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    encoding: str, delimiter: str, head_bytes: int, pad: int) -> None:
    paths = export_csv(messy_xlsx, tmp_path, encoding, delimiter, pad)
    assert pad == 0 or min(p.stat().st_size for p in paths) > head_bytes
    monkeypatch.setattr(cc, "HEAD_BYTES", head_bytes)  # the head ends mid-file: offsets must hold
    fast, used = _load(paths, monkeypatch, columnar=True)
    slow, _ = _load(paths, monkeypatch, columnar=False)
    assert used and all(used), "every table came from pyarrow"
    assert_same(fast, slow)
    assert len(fast.problems) > 10 and len(fast.wages) > 10  # the planted mistakes and real rows are there
    rows = {(p["sheet"], p["row"]) for p in problems_to_records(fast.problems)}
    assert any(sheet == "人员" for sheet, _ in rows)


def _wages_csv(lines: list[str], encoding: str = "utf-8") -> bytes:
    return "\r\n".join(["身份证号,车间编号,月份,实发工资", *lines]).encode(encoding)


@pytest.mark.parametrize("case", ["short_row", "long_row", "late_gbk"])
def test_falls_back_where_pyarrow_differs(messy_xlsx: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          case: str) -> None:
    paths = [p for p in export_csv(messy_xlsx, tmp_path, "utf-8") if p.stem != "工资"]
    good = f"{ID['p2']},TY001,2019-03,1200"
    body = [good] * 50
    if case == "short_row":
        body[30] = f"{ID['p2']},TY001"
    elif case == "long_row":
        body[30] = good + ",备注"
    data = _wages_csv(body)
    if case == "late_gbk":
        data += f"\r\n{ID['p2']},TY001,2019年4月,800".encode("gbk")
    (tmp_path / "工资.csv").write_bytes(data)
    paths.append(tmp_path / "工资.csv")
    monkeypatch.setattr(cc, "HEAD_BYTES", 1000)  # the head is UTF-8, the odd row and GBK bytes come later
    if case == "late_gbk":  # read whole as GB18030 its UTF-8 header is mojibake: refused, never guessed
        with pytest.raises(InputError, match="编码前后不一致") as exc:
            _load(paths, monkeypatch, columnar=True)
        assert exc.value.code == "input.encoding" and "工资.csv" in exc.value.message
        return
    fast, used = _load(paths, monkeypatch, columnar=True)
    slow, _ = _load(paths, monkeypatch, columnar=False)
    assert used[-1] is False  # the wage file went to the exact reader
    assert_same(fast, slow)
