"""`row_xml`: body rows streamed as XML must give the same workbook as xlsxwriter's per-cell writes.

Every table is written twice, with `row_xml.ENABLED` off (the per-cell reference path) and on, then read
back with openpyxl and compared cell by cell; where no "auto" column is involved the worksheet XML must
even be byte-identical.
"""

from __future__ import annotations

import datetime as dt
import decimal
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fupin_cli.months import month_index
from fupin_cli.workbooks import row_xml
from fupin_cli.workbooks.cells import Formats, new_workbook
from fupin_cli.workbooks.layout import Col, write_table

LONG = "长" * 20000 + "x" * 20000  # beyond Excel's 32,767 characters: truncated by both paths
EMOJI_LONG = "😀" * 17000  # 34,000 UTF-16 units: truncated without splitting a surrogate pair
TEXTS = ["=1+1", "+86", "-5", "@SUM(A1)", "\x01控制", "a\x1fb", "\x00", "_x0041_ 字面", "tab\tin", "\ufffe",
         " 前导空格", "末尾空格 ", "\u3000全角空格", "换行\n", 'a&b<c>d"e', "黄秀英", "", None, np.nan, LONG,
         EMOJI_LONG, "plain"]
N = len(TEXTS)
M2019_03 = month_index(2019, 3)

COLS = [
    Col("text", text="文本"),
    Col("id", "id", text="身份证号"),
    Col("month", "month", text="月份"),
    Col("money", "money", total=True, text="金额(元)"),
    Col("int", "int", total=True, text="整数"),
    Col("number", "number", text="数值"),
    Col("date", "date", text="日期"),
    Col("datetime", "datetime", text="时间"),
]
AUTO = Col("auto", "auto", text="混合")
AUTO_VALUES = ["文本", "=1+1", True, False, 7, np.int64(-3), 1.5, np.float64(0.1) + 0.2, float("inf"),
               decimal.Decimal("12.30"), pd.Timestamp("2019-03-01"), pd.Timestamp("2019-03-01 08:30:15"),
               pd.Timestamp("2019-03-01 08:30", tz="Asia/Shanghai"), dt.date(2018, 9, 1),
               dt.datetime(1900, 1, 1, 12), None, np.nan, pd.NaT, "", ["列表"], "\x02", "<b>"]


def _frame(n: int = N) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    money = rng.integers(0, 10**8, N) / 100
    money[[2, 5, 6]] = [np.nan, np.inf, 1.8e306]  # the last overflows when rounded to 分: blank
    number = rng.normal(0, 1e6, N)
    number[[0, 1, 3, 4, 5]] = [1e20, -1e-7, np.nan, -0.0, 0.0]  # "-0" and "0": not one cached value
    dates = pd.to_datetime("2018-01-01") + pd.to_timedelta(rng.integers(0, 900, N), unit="D")
    stamps = dates + pd.to_timedelta(rng.integers(0, 86400 * 10**6, N), unit="us")
    df = pd.DataFrame({
        "text": pd.Series(TEXTS, dtype=object),
        "id": pd.Series(["45212219850307002X", 6228480012345678.0, None] + [f"4521221990010112{i:02d}"
                                                                            for i in range(N - 3)], dtype=object),
        "month": pd.array([M2019_03 + i if i % 4 else None for i in range(N)], dtype="Int64"),
        "money": money,
        "int": pd.array([i * 1000 if i % 5 else None for i in range(N)], dtype="Int64"),
        "number": number,
        "date": dates.where(np.arange(N) % 6 != 1),
        "datetime": stamps.where(np.arange(N) % 7 != 2),
        "auto": pd.Series(AUTO_VALUES, dtype=object),
    })
    df.loc[3, "date"] = pd.Timestamp("1900-01-01")  # Excel's 1900 quirks go through xlsxwriter's converter
    df.loc[4, "date"] = pd.Timestamp("1900-03-01")
    return df.iloc[:n]


def _write(path: Path, fast: bool, tables: list[dict], monkeypatch: pytest.MonkeyPatch,
           constant_memory: bool = True) -> list[int]:
    """Write `tables` (write_table kwargs) one below the other; return how often rows were streamed."""
    monkeypatch.setattr(row_xml, "ENABLED", fast)
    calls: list[int] = []
    real = row_xml.stream_rows

    def spy(ws, first_row, kinds, values, fmts, bold_last=False, heights=None):
        calls.append(len(values[0]))
        return real(ws, first_row, kinds, values, fmts, bold_last, heights)

    monkeypatch.setattr(row_xml, "stream_rows", spy)
    wb = new_workbook(path, constant_memory=constant_memory)
    fmts = Formats(wb)
    ws = wb.add_worksheet("表")
    row = 0
    for kw in tables:
        info = write_table(ws, fmts, start_row=row, print_setup=row == 0, **kw)
        row = info.first_row + info.n_rows + 6  # below 合计, signature and notes
    wb.close()
    return calls


def _cells(path: Path) -> list[tuple]:
    ws = openpyxl.load_workbook(path)["表"]
    out = [("dims", ws.dimensions, tuple(sorted(str(r) for r in ws.merged_cells.ranges)), ws.freeze_panes)]
    for row in ws.iter_rows():
        for c in row:
            out.append((c.coordinate, c.value, c.data_type, c.number_format, bool(c.font.b), c.border.left.style))
    return out


def _xml(path: Path, name: str) -> bytes:
    with zipfile.ZipFile(path) as z:
        return z.read(name)


def _both(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tables: list[dict]) -> tuple[Path, Path, list[int]]:
    slow, fast = tmp_path / "slow.xlsx", tmp_path / "fast.xlsx"
    assert _write(slow, False, tables, monkeypatch) == []
    calls = _write(fast, True, tables, monkeypatch)
    return slow, fast, calls


@pytest.mark.parametrize("n", [0, 1, 2, N])
@pytest.mark.parametrize("totals", ["sum", "last_row", "none"])
def test_fixed_kinds_byte_identical(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, n: int, totals: str) -> None:
    tables = [dict(title="名单", cols=COLS, frame=_frame(n), totals=totals, signature=True,
                   count_text=("text", "共{n}人") if totals == "sum" else None, notes=["说明:测试"]),
              dict(title="第二表", cols=COLS[:3], frame=_frame(n), seq=False, totals=totals)]
    slow, fast, calls = _both(tmp_path, monkeypatch, tables)
    assert calls == ([n, n] if n else [])
    assert _cells(fast) == _cells(slow)
    for name in ("xl/worksheets/sheet1.xml", "xl/styles.xml"):
        assert _xml(fast, name) == _xml(slow, name)


@pytest.mark.parametrize("totals", ["sum", "last_row"])
def test_auto_column_same_cells(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, totals: str) -> None:
    tables = [dict(title="混合", cols=[*COLS, AUTO], frame=_frame(), totals=totals, signature=True)]
    slow, fast, calls = _both(tmp_path, monkeypatch, tables)
    assert calls == [N]
    assert _cells(fast) == _cells(slow)


def test_values_read_back_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Not only equal to the per-cell path: text stays text, numbers and dates keep type and format."""
    path = tmp_path / "fast.xlsx"
    frame = _frame()
    assert _write(path, True, [dict(title="名单", cols=[*COLS, AUTO], frame=frame)], monkeypatch) == [N]
    ws = openpyxl.load_workbook(path)["表"]
    header = [c.value for c in ws[2]]
    assert header == ["序号", *(c.header for c in COLS), AUTO.header]
    body = {i: ws[3 + i] for i in range(N)}
    text = header.index("文本")
    for i in (0, 1, 2, 3, 12, 14, 15):
        assert body[i][text].data_type == "s" and body[i][text].value == TEXTS[i]
    assert body[4][text].value == "_x0001_控制"  # Excel's escape, decoded by Excel itself
    assert body[7][text].value == "_x005F_x0041_ 字面"
    assert body[16][text].value is None and body[17][text].value is None  # "" and None: blank, bordered
    assert body[16][text].border.left.style == "thin"
    assert body[19][text].value == LONG[:32767]
    assert body[0][0].value == 1 and body[N - 1][0].value == N
    idc = body[1][header.index("身份证号")]
    assert idc.data_type == "s" and idc.value == "6228480012345678"  # float account: no ".0"
    assert body[1][header.index("月份")].value == "2019-04"
    money = body[0][header.index("金额(元)")]
    assert money.data_type == "n" and money.value == round(frame["money"][0], 2) and money.number_format == "#,##0.00"
    assert body[5][header.index("金额(元)")].value is None  # inf is not a number Excel can show
    assert body[0][header.index("数值")].value == 1e20
    d = body[0][header.index("日期")]
    assert d.is_date and d.value == frame["date"][0].to_pydatetime() and d.number_format == "yyyy-mm-dd"
    t = body[0][header.index("时间")]
    assert t.is_date and t.number_format == "yyyy-mm-dd hh:mm:ss"
    assert abs(t.value - frame["datetime"][0].to_pydatetime()) < dt.timedelta(milliseconds=1)
    auto = header.index("混合")
    assert [body[i][auto].value for i in (0, 1, 2, 3, 4)] == ["文本", "=1+1", "是", "否", 7]
    assert body[8][auto].value == "inf" and body[8][auto].data_type == "s"
    total = ws[3 + N]
    assert total[0].value == "合计" and total[0].font.b and not body[N - 1][0].font.b


def test_rich_text_lookalike_stays_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """xlsxwriter's per-cell constant_memory path writes "<r>…</r>" unescaped; the stream escapes it."""
    path = tmp_path / "fast.xlsx"
    frame = pd.DataFrame({"text": ["<r>x</r>", "<r><t>y</t></r>"]})
    assert _write(path, True, [dict(title="名单", cols=COLS[:1], frame=frame)], monkeypatch) == [2]
    ws = openpyxl.load_workbook(path)["表"]
    assert [ws["B3"].value, ws["B4"].value] == ["<r>x</r>", "<r><t>y</t></r>"]


def test_not_constant_memory_keeps_per_cell_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "shared.xlsx"
    calls = _write(path, True, [dict(title="名单", cols=COLS, frame=_frame())], monkeypatch, constant_memory=False)
    assert calls == []
    ws = openpyxl.load_workbook(path)["表"]
    assert ws["B3"].value == "=1+1" and ws["B3"].data_type == "s"


def test_row_with_height_keeps_per_cell_path(tmp_path: Path) -> None:
    wb = new_workbook(tmp_path / "x.xlsx", constant_memory=True)
    ws = wb.add_worksheet("表")
    assert row_xml.can_stream(ws, 2, 5, 3)
    ws.set_row(4, 40)
    assert not row_xml.can_stream(ws, 2, 5, 3)
    assert row_xml.can_stream(ws, 5, 5, 3)
    ws.write_string(6, 0, "x")  # rows above the pending row cannot be written any more
    assert not row_xml.can_stream(ws, 5, 5, 3)
    assert not row_xml.can_stream(ws, 6, 5, 3)  # row 6 already has a pending cell
    assert row_xml.can_stream(ws, 7, 5, 3)
    assert not row_xml.can_stream(ws, 7, 2**20, 3)  # beyond Excel's last row
    wb.close()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(st.text(st.characters(codec="utf-8", min_codepoint=0, max_codepoint=0x3000)), min_size=1,
                      max_size=12),
       nums=st.lists(st.floats(allow_nan=True, allow_infinity=False, width=64), min_size=12, max_size=12))
def test_any_text_and_number_byte_identical(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            texts: list[str], nums: list[float]) -> None:
    texts = [t for t in texts if not (t.startswith("<r>") and t.endswith("</r>"))] or ["x"]
    frame = pd.DataFrame({"text": texts, "number": nums[:len(texts)], "money": nums[:len(texts)]})
    tables = [dict(title="名单", cols=[COLS[0], COLS[5], COLS[3]], frame=frame)]
    slow, fast, _ = _both(tmp_path, monkeypatch, tables)
    assert _xml(fast, "xl/worksheets/sheet1.xml") == _xml(slow, "xl/worksheets/sheet1.xml")


WRAP = [Col("text", text="文本"), Col("wrap", "wrap", max_width=12, text="说明"), Col("money", "money", text="金额")]


def _wrap_frame(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    words = ["短", "一段比较长的说明文字,需要换行才能放下", "x" * 40, None, "", " 前导空格的长长长长长长长长说明", "_x0041_长长长长长长长长长长"]
    return pd.DataFrame({"text": [f"名{i}" for i in range(n)],
                         "wrap": [words[i] for i in rng.integers(0, len(words), n)],
                         "money": rng.integers(0, 10**6, n) / 100})


@pytest.mark.parametrize("default_row", [None, 36])
@pytest.mark.parametrize("totals", ["sum", "last_row"])
def test_wrapped_rows_with_heights_byte_identical(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  default_row: int | None, totals: str) -> None:
    """Rows made taller for wrapped text are streamed too, with the <row ht=…> set_row would give."""
    frame = _wrap_frame(300)
    for fast in (False, True):
        monkeypatch.setattr(row_xml, "ENABLED", fast)
        wb = new_workbook(tmp_path / f"{fast}.xlsx", constant_memory=True)
        ws = wb.add_worksheet("表")
        if default_row:
            ws.set_default_row(default_row)
        write_table(ws, Formats(wb), title="说明表", cols=WRAP, frame=frame, totals=totals)
        wb.close()
    slow, fast_path = tmp_path / "False.xlsx", tmp_path / "True.xlsx"
    assert b'customHeight="1"' in _xml(slow, "xl/worksheets/sheet1.xml")
    for name in ("xl/worksheets/sheet1.xml", "xl/styles.xml"):
        assert _xml(fast_path, name) == _xml(slow, name)


def test_chunk_boundaries_byte_identical(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """More rows than one streamed chunk, the bold last row on a chunk of its own."""
    monkeypatch.setattr(row_xml, "CHUNK_ROWS", 7)
    tables = [dict(title="名单", cols=COLS, frame=pd.concat([_frame()] * 3, ignore_index=True).iloc[:43],
                   totals="last_row")]
    slow, fast, calls = _both(tmp_path, monkeypatch, tables)
    assert calls == [43]
    for name in ("xl/worksheets/sheet1.xml", "xl/styles.xml"):
        assert _xml(fast, name) == _xml(slow, name)
