"""Reading messy input spreadsheets into RawTables (SPEC §3, DESIGN.md "RawTables")."""

from __future__ import annotations

import hashlib
import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from fupin_cli.errors import InputError
from fupin_cli.sources import read_sources

LAB_HEAD = ["序号", "身份证号", "姓名", "车间编号", "是否建档立卡贫困劳动力", "协议类型"]


def _workshops_openpyxl(path: Path) -> None:
    """Title rows, merged title, 序号, an empty row, a 合计 row, an unknown column, full-width brackets."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "车间名册"
    ws["A1"] = "田阳县就业扶贫车间花名册"
    ws.merge_cells("A1:H1")
    ws["A2"] = "填报单位:田阳县人社局"
    ws.append(["序号", "车间编号", "车间名称", "经营主体", "主体类型", "县（市、区）", "认定日期", "备注"])
    ws.append([1, "TY001", "那坡电子厂", "那坡电子有限公司", "企业", "田阳县", datetime(2018, 3, 1), "无"])
    ws.append([2, "TY002", "巾帼基地", "张三", "个体工商户", "田阳区", "2018-05-01", None])
    ws.append([])
    ws.append([3, 1003, "合作社车间", "某合作社", "农民专业合作社", "田东县", None, None])
    ws.append(["合  计", None, None, None, None, None, None, None])
    wb.save(path)


def _laborers_two_sheets(path: Path) -> None:
    """人员 split over two township sheets; two-row header with merged 协议期限; IDs stored as numbers."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, first in (("人员(那坡镇)", 452122199001011234), ("人员(百省乡)", 452122199202021235)):
        ws = wb.create_sheet(name)
        ws["A1"] = "吸纳就业花名册"
        ws.append([*LAB_HEAD, "协议期限", None])
        ws.append([None] * len(LAB_HEAD) + ["起始日期", "终止日期"])
        for col in range(1, len(LAB_HEAD) + 1):
            ws.merge_cells(start_row=2, end_row=3, start_column=col, end_column=col)
        ws.merge_cells("G2:H2")
        ws.append([1, first, "韦一", "TY001", "是", "劳务协议", datetime(2018, 3, 1), None])
        ws.append([2, "45212219900101555X", "黄二", "TY002", "否", "承揽合同", "2018-04-01", "2019-03-31"])
    wb.save(path)


def _read(*paths: Path, **kw):
    return read_sources(list(paths), **kw)


def test_workshops_title_rows_serial_totals_and_hash(tmp_path: Path) -> None:
    f = tmp_path / "车间.xlsx"
    _workshops_openpyxl(f)
    before = f.read_bytes()
    raw = _read(f)
    assert f.read_bytes() == before  # input never modified
    ws = raw.workshops
    assert raw.laborers is None and raw.wages is None
    assert ws["_row"].tolist() == [4, 5, 7]
    assert ws["workshop_id"].tolist() == ["TY001", "TY002", 1003]
    assert isinstance(ws["workshop_id"].iloc[2], int | float)  # a number stays a number
    assert ws["county"].tolist() == ["田阳县", "田阳区", "田东县"]
    assert ws["certified"].iloc[0] == date(2018, 3, 1)  # calamine gives a date for a date-only cell
    assert ws["certified"].iloc[1] == "2018-05-01"
    assert ws["certified"].iloc[2] is None
    assert ws["credit_code"].isna().all()  # absent optional column still present, empty
    assert ws["_src"].tolist() == [0, 0, 0]
    assert ws["workshop_id"].dtype == "object"
    info = raw.sheets[0]
    assert (info.table, info.sheet, info.header_row, info.rows, info.ignored, info.wide) == (
        "workshops", "车间名册", 3, 3, 2, False)
    assert info.headers["county"] == "县（市、区）"
    assert info.letters == {"workshop_id": "B", "workshop_name": "C", "operator": "D", "operator_type": "E",
                            "county": "F", "certified": "G"}
    assert any("备注" in n and "未使用" in n for n in raw.notes)
    assert any("第8行" in n and "合计" in n for n in raw.notes)
    assert raw.files[0].sha256 == hashlib.sha256(before).hexdigest()
    assert raw.files[0].size == len(before)


def test_laborers_merged_two_row_header_split_over_sheets(tmp_path: Path) -> None:
    f = tmp_path / "人员.xlsx"
    _laborers_two_sheets(f)
    raw = _read(f)
    lab = raw.laborers
    assert [s.sheet for s in raw.sheets] == ["人员(那坡镇)", "人员(百省乡)"]
    assert [s.header_row for s in raw.sheets] == [3, 3]
    assert lab["_src"].tolist() == [0, 0, 1, 1]
    assert lab["_row"].tolist() == [4, 5, 4, 5]
    assert lab["id_number"].iloc[0] == pytest.approx(452122199001011234)
    assert isinstance(lab["id_number"].iloc[0], float)  # Excel kept a number: validation reports lost digits
    assert lab["id_number"].iloc[1] == "45212219900101555X"
    assert lab["start"].iloc[0] == date(2018, 3, 1)
    assert lab["end"].tolist() == [None, "2019-03-31", None, "2019-03-31"]
    assert raw.sheets[0].headers["start"] == "协议期限/起始日期"
    assert raw.sheets[0].letters["end"] == "H"
    assert lab["poor"].tolist() == ["是", "否", "是", "否"]


def _wide_xlsxwriter(path: Path, inline: bool) -> None:
    """Wide wage sheet starting at B2 (leading empty row and column), `2019年3月` headers."""
    wb = xlsxwriter.Workbook(path, {"constant_memory": inline})  # constant_memory writes inline strings
    ws = wb.add_worksheet("工资发放")
    ws.write_row(1, 1, ["身份证号", "姓名", "车间编号", "2019年3月", "2019-04", "201905", "合计"])
    ws.write_row(2, 1, ["45212219900101123X", "韦一", "TY001", 1200, None, "1,300元", 2500])
    ws.write_row(3, 1, ["45212219900101555X", "黄二", "TY002", None, 800.5, None, 800.5])
    ws.write_row(5, 1, ["合计", None, None, 1200, 800.5, None, None])
    wb.close()


@pytest.mark.parametrize("inline", [False, True])
def test_wide_wages_with_month_headers_and_offset(tmp_path: Path, inline: bool) -> None:
    f = tmp_path / "w.xlsx"
    _wide_xlsxwriter(f, inline)
    raw = _read(f)
    w = raw.wages
    assert w["_row"].tolist() == [3, 3, 4]
    assert w["id_number"].tolist() == ["45212219900101123X", "45212219900101123X", "45212219900101555X"]
    assert w["month"].tolist() == ["2019年3月", "201905", "2019-04"]
    assert w["_pay_header"].tolist() == ["2019年3月", "201905", "2019-04"]
    assert w["pay"].tolist() == [1200, "1,300元", 800.5]
    assert w["days"].isna().all()
    info = raw.sheets[0]
    assert (info.wide, info.header_row, info.rows, info.ignored) == (True, 2, 2, 2)
    assert info.letters["id_number"] == "B" and "month" not in info.headers
    assert any("合计" in n and "未使用" in n for n in raw.notes)


def test_wide_wages_year_group_header(tmp_path: Path) -> None:
    f = tmp_path / "g.xlsx"
    wb = xlsxwriter.Workbook(f)
    ws = wb.add_worksheet("劳动报酬")
    ws.write(0, 0, "2019年劳动报酬发放表")
    for c, h in enumerate(["身份证号", "车间编号"]):
        ws.merge_range(1, c, 2, c, h)
    ws.merge_range(1, 2, 1, 13, "2019年")
    ws.write_row(2, 2, [f"{m}月" for m in range(1, 13)])
    ws.write_row(3, 0, ["45212219900101123X", "TY001", 100, None, None, 300])
    ws.write_row(4, 0, ["45212219900101555X", "TY002", *([None] * 11), 1200])
    wb.close()
    # the same sheet with the group typed once and not merged, written by openpyxl
    f2 = tmp_path / "g2.xlsx"
    wb2 = openpyxl.Workbook()
    s = wb2.active
    s.title = "工资"
    s.append(["身份证号", "车间编号", "2019年"])
    s.append([None, None, *[f"{m}月" for m in range(1, 13)]])
    s.append(["45212219900101123X", "TY001", None, 500])
    wb2.save(f2)
    raw = _read(f, f2)
    w = raw.wages
    assert w["month"].tolist() == ["2019-01", "2019-04", "2019-12", "2019-02"]
    assert w["_pay_header"].tolist() == ["2019年/1月", "2019年/4月", "2019年/12月", "2019年/2月"]
    assert w["pay"].tolist() == [100, 300, 1200, 500]
    assert w["_row"].tolist() == [4, 4, 5, 3]
    assert w["_src"].tolist() == [0, 0, 0, 1]
    assert [(s.header_row, s.wide) for s in raw.sheets] == [(3, True), (2, True)]


def _long_wages_rows() -> list[list]:
    return [["身份证号", "车间编号", "工资月份", "实发工资（元）", "天数"],
            ["45212219900101123X", "TY001", "2019-03", "1200", "22"],
            ["45212219900101555X", "TY002", "2019年4月", "800.50", ""]]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "utf-16"])
def test_csv_encodings(tmp_path: Path, encoding: str) -> None:
    f = tmp_path / "工资.csv"
    f.write_bytes("\r\n".join(",".join(r) for r in _long_wages_rows()).encode(encoding))
    raw = _read(f)
    w = raw.wages
    assert w["id_number"].tolist() == ["45212219900101123X", "45212219900101555X"]
    assert w["month"].tolist() == ["2019-03", "2019年4月"]
    assert w["pay"].tolist() == ["1200", "800.50"]  # CSV cells are text, kept as written
    assert [v if isinstance(v, str) else None for v in w["days"]] == ["22", None]  # empty: NA
    assert w["_pay_header"].tolist() == ["实发工资（元）"] * 2
    assert w["_row"].tolist() == [2, 3]
    assert raw.sheets[0].sheet == "工资" and raw.sheets[0].wide is False


def test_folder_split_over_files_skips_lock_and_hidden(tmp_path: Path) -> None:
    d = tmp_path / "in"
    (d / "sub").mkdir(parents=True)
    wb = openpyxl.Workbook()
    wb.active.title = "数据"  # recognised by headers, not by name
    for r in _long_wages_rows():
        wb.active.append([int(v) if v.isdigit() and len(v) < 5 else v for v in r])
    wb.save(d / "a.xlsx")
    (d / "sub" / "b.csv").write_bytes("\n".join(",".join(r) for r in _long_wages_rows()[:2]).encode("gbk"))
    (d / "~$a.xlsx").write_bytes(b"lock")
    (d / ".hidden.csv").write_bytes(b"x")
    (d / "readme.txt").write_text("x")
    seen: list[tuple[str, int, int]] = []
    raw = read_sources([d], progress=lambda label, done, total: seen.append((label, done, total)))
    assert [Path(f.path).name for f in raw.files] == ["a.xlsx", "b.csv"]
    assert [s.sheet for s in raw.sheets] == ["数据", "b"]
    assert raw.wages["_src"].tolist() == [0, 0, 1]
    assert raw.wages["pay"].tolist() == [1200, "800.50", "1200"]  # number cell vs CSV text
    assert raw.wages["days"].tolist() == [22, None, "22"]
    assert seen == [("a.xlsx:数据", 1, 2), ("b.csv", 2, 2)]


def _wages_headers(path: Path, headers: list[str]) -> None:
    wb = openpyxl.Workbook()
    wb.active.title = "工资"
    wb.active.append(headers)
    wb.active.append(["45212219900101123X", "TY001", "2019-03", 1000, 900])
    wb.save(path)


def test_alias_columns_exact_header_wins_else_error(tmp_path: Path) -> None:
    f = tmp_path / "a.xlsx"
    _wages_headers(f, ["身份证号", "车间编号", "月份", "应发工资", "实发工资"])
    raw = _read(f)
    assert raw.wages["pay"].tolist() == [900]
    assert raw.sheets[0].headers["pay"] == "实发工资"
    assert any("应发工资" in n for n in raw.notes)
    g = tmp_path / "b.xlsx"
    _wages_headers(g, ["身份证号", "车间编号", "月份", "应发工资", "金额"])
    with pytest.raises(InputError, match="应发工资.*金额"):
        _read(g)


def test_missing_required_column_message(tmp_path: Path) -> None:
    f = tmp_path / "a.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "人员"
    ws.append(["吸纳就业花名册"])
    ws.append([])
    ws.append(["姓名", "车间编号", "是否建档立卡贫困劳动力", "协议类型", "协议起始日期"])
    wb.save(f)
    with pytest.raises(InputError) as exc:
        _read(f)
    assert exc.value.message == (f"文件“{f}”工作表“人员”缺少必填列:身份证号(表头在第3行)。请检查表头名称。")


def test_unknown_sheet_is_noted_and_skipped(tmp_path: Path) -> None:
    f = tmp_path / "a.xlsx"
    _workshops_openpyxl(f)
    wb = openpyxl.load_workbook(f)
    wb.create_sheet("说明").append(["填表说明:身份证号请设为文本"])
    wb.save(f)
    raw = _read(f)
    assert len(raw.sheets) == 1
    assert any("说明" in n and "跳过" in n for n in raw.notes)


def _ole2(path: Path) -> None:
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 1024)


@pytest.mark.parametrize("case, pattern", [
    ("missing", "找不到文件"),
    ("txt", "不是支持的表格文件"),
    ("docx", "不是Excel工作簿"),
    ("binary", "不是有效的Excel工作簿"),
    ("truncated", "已损坏"),
    ("encrypted", "已加密,请在Excel中取消密码后另存"),
    ("empty_workbook", "是空的"),
    ("no_tables", "没有找到车间、人员或工资表"),
    ("empty_folder", "没有找到表格文件"),
    ("empty_csv", "空文件"),
    ("zero_bytes", "空文件"),
])
def test_unreadable_inputs(tmp_path: Path, case: str, pattern: str) -> None:
    f = tmp_path / "in.xlsx"
    if case == "txt":
        f = tmp_path / "in.txt"
        f.write_text("hello")
    elif case == "docx":
        with zipfile.ZipFile(f, "w") as z:
            z.writestr("word/document.xml", "<w:document/>")
    elif case == "binary":
        f.write_bytes(bytes(range(256)) * 10)
    elif case == "truncated":
        _workshops_openpyxl(f)
        f.write_bytes(f.read_bytes()[:600])
    elif case == "encrypted":
        _ole2(f)
    elif case == "empty_workbook":
        openpyxl.Workbook().save(f)
    elif case == "no_tables":
        wb = openpyxl.Workbook()
        wb.active.append(["说明", "这里没有数据表"])
        wb.save(f)
    elif case == "empty_folder":
        f = tmp_path / "folder"
        f.mkdir()
        (f / "note.txt").write_text("x")
    elif case == "empty_csv":
        f = tmp_path / "in.csv"
        f.write_text("\n\n")
    elif case == "zero_bytes":
        f.write_bytes(b"")
    with pytest.raises(InputError, match=pattern) as exc:
        read_sources([f])
    assert "\n" not in exc.value.message
    assert exc.value.exit_code == 2
    if case != "missing":
        assert f.name in exc.value.message


# --- fast path: large sheets read by fastexcel below a calamine-read head (sources/arrow_body.py) ---

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import fupin_cli.sources.arrow_body as arrow_body_mod  # noqa: E402
import fupin_cli.sources.workbook as workbook_mod  # noqa: E402
from fupin_cli import values as V  # noqa: E402


def _plain(frame: pd.DataFrame) -> dict[str, list]:
    """Frame cells as plain Python values (NaN/NaT → None, midnight Timestamp → date) for comparison."""
    out: dict[str, list] = {}
    for c in frame.columns:
        vals = []
        for v in frame[c].to_numpy(dtype=object):
            if v is None or (isinstance(v, float) and v != v) or v is pd.NaT:
                v = None
            elif isinstance(v, pd.Timestamp):
                v = v.date() if v == v.normalize() else v.to_pydatetime()
            vals.append(v)
        out[c] = vals
    return out


def _read_both(monkeypatch: pytest.MonkeyPatch, *paths: Path):
    """(fast read, calamine read, whether each lazily read sheet took the fastexcel body)."""
    used: list[bool] = []
    real = arrow_body_mod.load_body

    def spy(*a, **kw):
        res = real(*a, **kw)
        used.append(res is not None)
        return res

    monkeypatch.setattr(arrow_body_mod, "load_body", spy)
    monkeypatch.setattr(workbook_mod, "FAST_MIN_BYTES", 0)
    fast = _read(*paths)
    monkeypatch.setattr(workbook_mod, "FAST_MIN_BYTES", 1 << 62)
    slow = _read(*paths)
    return fast, slow, used


def _same(fast, slow) -> None:
    for key in ("workshops", "laborers", "wages"):
        a, b = getattr(fast, key), getattr(slow, key)
        assert (a is None) == (b is None)
        if a is not None:
            assert _plain(a) == _plain(b), key
    assert fast.sheets == slow.sheets and fast.notes == slow.notes


def _long_wages_offset(path: Path, ids: list, months: list, pays: list) -> None:
    """Long wage sheet at B3: empty row 1 and column A, merged title, 序号, blank rows inside, 合计."""
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet("工资")
    ws.merge_range(1, 1, 1, 6, "工资发放表")
    ws.write_row(2, 1, ["序号", "身份证号", "车间编号", "月份", "实发工资", "天数"])
    r = 3
    for i, (pid, m, pay) in enumerate(zip(ids, months, pays, strict=True)):
        if i in (2, 5):
            r += 1  # a blank row in the middle
        ws.write_row(r, 1, [i + 1, pid, "TY001", m, None if isinstance(pay, tuple) else pay, 20])
        if isinstance(pay, tuple):
            ws.write_formula(r, 5, pay[0], None, pay[1])  # with its cached value
        r += 1
    ws.write_row(r, 1, ["合计", None, None, None, sum(p for p in pays if isinstance(p, float)), None])
    wb.close()


IDS = [f"45212219900101{i:03d}X" for i in range(8)]


def test_fast_path_keeps_rows_and_values_exact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "w.xlsx"
    _long_wages_offset(f, IDS, [f"2019-{m:02d}" for m in range(1, 9)], [1000.0 + i for i in range(8)])
    fast, slow, used = _read_both(monkeypatch, f)
    assert used == [True]  # the 序号 column (numbers, then 合计) does not force the slow read
    _same(fast, slow)
    w = fast.wages
    assert w["_row"].tolist() == [4, 5, 7, 8, 9, 11, 12, 13]  # Excel rows, blanks skipped
    assert w["pay"].dtype == np.float64 and w["pay"].tolist() == [1000.0 + i for i in range(8)]
    assert w["id_number"].tolist() == IDS and w["month"].iloc[0] == "2019-01"
    assert w["days"].isna().sum() == 0 and w["name"].isna().all()
    info = fast.sheets[0]
    assert (info.header_row, info.rows, info.ignored, info.letters["id_number"]) == (3, 8, 3, "C")
    assert any("第14行" in n and "合计" in n for n in fast.notes)


@pytest.mark.parametrize("case", ["number_id", "text_pay", "na_text", "error_cell", "nan_text"])
def test_fast_path_falls_back_on_mixed_or_odd_cells(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    case: str) -> None:
    ids: list = list(IDS)
    pays: list = [1000.0 + i for i in range(8)]
    if case == "number_id":
        ids[3] = 4.52122199001011e17  # Excel turned the ID into a number: digits are lost
    elif case == "text_pay":
        pays[4] = "1,300元"
    elif case in ("na_text", "nan_text"):
        pays[4] = "NA" if case == "na_text" else "nan"  # fastexcel counts these texts as empty
    elif case == "error_cell":
        pays[4] = ("=NA()", "#N/A")
    f = tmp_path / "w.xlsx"
    _long_wages_offset(f, ids, [f"2019-{m:02d}" for m in range(1, 9)], pays)
    fast, slow, used = _read_both(monkeypatch, f)
    assert used == [False]
    _same(fast, slow)
    w = fast.wages
    if case == "number_id":
        assert isinstance(w["id_number"].iloc[3], float) and w["id_number"].iloc[2] == IDS[2]
        issues = V.normalise_id(w["id_number"]).issues
        assert issues.loc[issues["idx"] == 3, "code"].tolist() == ["id.lost_digits"]
    elif case == "text_pay":
        assert w["pay"].iloc[4] == "1,300元" and w["pay"].iloc[3] == 1003.0
    elif case in ("na_text", "nan_text"):
        assert w["pay"].iloc[4] == pays[4]


def test_fast_path_dates_and_month_headers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """人员 with date cells (date-typed, arrive as datetime64) and a wide wage sheet with numbers."""
    f = tmp_path / "in.xlsx"
    wb = xlsxwriter.Workbook(f)
    fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    lab = wb.add_worksheet("人员")
    lab.write_row(0, 0, ["身份证号", "姓名", "车间编号", "是否建档立卡贫困劳动力", "协议类型", "协议起始日期",
                         "协议终止日期"])
    for i, pid in enumerate(IDS):
        lab.write_row(i + 1, 0, [pid, "韦一", "TY001", "是", "劳务协议"])
        lab.write_datetime(i + 1, 5, datetime(2018, 3, 1 + i), fmt)
        if i % 2:
            lab.write_datetime(i + 1, 6, datetime(2019, 3, 1, 12, 30), fmt)
    wage = wb.add_worksheet("工资")
    wage.write_row(0, 0, ["身份证号", "车间编号", "2019年3月", "2019年4月"])
    for i, pid in enumerate(IDS):
        wage.write_row(i + 1, 0, [pid, "TY001", 1000.0 + i, None if i % 3 else 900.0])
    wb.close()
    fast, slow, used = _read_both(monkeypatch, f)
    assert used == [True, True]
    _same(fast, slow)
    start = fast.laborers["start"]
    assert start.dtype.kind == "M" and start.iloc[2] == pd.Timestamp(2018, 3, 3)
    assert fast.laborers["end"].iloc[1] == pd.Timestamp(2019, 3, 1, 12, 30)
    for col in ("start", "end"):
        a, b = V.normalise_date(fast.laborers[col]), V.normalise_date(slow.laborers[col])
        assert a.values.tolist() == b.values.tolist() and len(a.issues) == len(b.issues) == 0
    w = fast.wages
    assert w["pay"].dtype == np.float64
    assert w["month"].tolist()[:3] == ["2019年3月", "2019年4月", "2019年3月"]
    assert w["_row"].tolist()[:3] == [2, 2, 3]


def test_fast_path_date_column_mixed_with_text_dates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "in.xlsx"
    _laborers_two_sheets(f)  # 协议起始日期: a date cell and a text date in one column
    fast, slow, used = _read_both(monkeypatch, f)
    assert used == [False, False]
    _same(fast, slow)
    assert fast.laborers["start"].tolist()[:2] == [date(2018, 3, 1), "2018-04-01"]


def test_head_copy_keeps_merges_after_many_rows(tmp_path: Path) -> None:
    import python_calamine as pc

    from fupin_cli.sources.arrow_body import head_workbook

    f = tmp_path / "m.xlsx"
    wb = xlsxwriter.Workbook(f)  # shared strings; merges are written after all rows
    ws = wb.add_worksheet("数据")
    ws.merge_range(1, 0, 1, 2, "标题")
    for r in range(2, 199):
        ws.write_row(r, 0, [r + 1, f"x{r + 1}", (r + 1) * 1.5])
    wb.close()
    copy = head_workbook(f, "xl/worksheets/sheet1.xml", 5)
    with zipfile.ZipFile(copy) as z:  # shared strings cut to those the head uses ("标题", "x3".."x6")
        assert z.read("xl/sharedStrings.xml").count(b"<si>") == 5
    copy.seek(0)
    head = pc.CalamineWorkbook.from_filelike(copy).get_sheet_by_name("数据")
    full = pc.CalamineWorkbook.from_path(str(f)).get_sheet_by_name("数据")
    rows = head.to_python(skip_empty_area=False)
    # five <row> elements: rows 2-6 (row 1 has none), the rest of the 199 rows left out
    assert rows == full.to_python(skip_empty_area=False)[:6] and len(rows) == 6
    assert head.merged_cell_ranges == full.merged_cell_ranges == [((1, 0), (1, 2))]


def test_fast_path_sheet_with_empty_head_reads_whole_sheet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "late.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "工资"
    ws["A18"] = "身份证号"
    wb.save(f)
    messages = []
    for size in (0, 1 << 62):
        monkeypatch.setattr(workbook_mod, "FAST_MIN_BYTES", size)
        with pytest.raises(InputError) as exc:
            _read(f)
        messages.append((exc.value.code, exc.value.message))
    assert messages[0] == messages[1] and messages[0][0] == "input.no_header"


def test_merged_data_cells_fill_every_row_with_a_note(tmp_path: Path) -> None:
    """A 车间编号 merged down over a workshop's laborers counts for every row, and the note says so."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "人员"
    ws.append(["人员花名册"])
    ws.append(["车间编号", "身份证号", "姓名", "是否建档立卡贫困劳动力", "协议类型", "协议起始日期"])
    for i in range(3):
        ws.append(["W1" if i == 0 else None, f"ID{i}", f"人{i}", "是", "劳务协议", "2018-01-01"])
    ws.append(["W2", "ID9", "人9", "否", "劳务协议", "2018-01-01"])
    ws.merge_cells("A3:A5")
    path = tmp_path / "merged.xlsx"
    wb.save(path)
    raw = read_sources([path])
    assert raw.laborers["workshop_id"].tolist() == ["W1", "W1", "W1", "W2"]
    assert raw.laborers["_row"].tolist() == [3, 4, 5, 6]
    assert any("合并单元格第3–5行“车间编号”" in n for n in raw.notes)


def _big_sheet(path: Path, rows: int = 30_000) -> None:
    """A 人员 sheet of a few MB (many chunks of the scan pass): hidden rows, an error cell and a
    cell in column AB far below the head."""
    wb = xlsxwriter.Workbook(path, {"constant_memory": True})
    ws = wb.add_worksheet("人员")
    ws.write_row(0, 0, LAB_HEAD)
    for r in range(1, rows):
        ws.write_row(r, 0, [r, f"45102119900101{r % 10000:04d}", "韦一", "TY001", "是", "劳务协议"])
        if r in (20_001, 20_002):
            ws.set_row(r, None, None, {"hidden": True})
        if r == rows - 5:
            ws.write_formula(r, 7, "=1/0", None, "#DIV/0!")
        if r == rows - 3:
            ws.write(r, 27, "远处")  # constant_memory: a row is written out before the next one starts
    wb.close()


def test_scan_pass_sees_what_lies_far_below_the_head(tmp_path: Path) -> None:
    """The one streamed pass over a large sheet (limits, hidden rows, error cells) sees every chunk:
    the same findings with the head cut, and a wide cell counted as a column."""
    from fupin_cli.sources.arrow_body import head_workbook, sheet_members
    from fupin_cli.sources.limits import Budget, check_workbook

    f = tmp_path / "big.xlsx"
    _big_sheet(f)
    with zipfile.ZipFile(f) as zf:
        member = sheet_members(zf)["人员"]
        assert zf.getinfo(member).file_size > 3 << 20
        whole = check_workbook(zf, {"人员": member}, "big.xlsx").scans["人员"]
    budget = Budget("big.xlsx")
    head_workbook(f, member, 15, budget, "人员")
    streamed = budget.scans["人员"]
    assert streamed.hidden_rows == whole.hidden_rows == [20_002, 20_003]
    assert streamed.wide_col == whole.wide_col == 28  # AB
    assert streamed.faults == whole.faults == {(29_995, 7): "#DIV/0!"}
    assert streamed.size == whole.size == budget.total


@pytest.mark.parametrize("where", ["start", "middle"])
def test_damaged_stream_in_a_large_sheet_is_corrupt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    where: str) -> None:
    """A large sheet whose compressed bytes are damaged: refused as damaged (input.corrupt) by the
    scan pass, before any reader sees it — an invalid deflate block at the start (the inflater's own
    error), or bytes midway that inflate to the wrong size."""
    f = tmp_path / "big.xlsx"
    _big_sheet(f)
    data = bytearray(f.read_bytes())
    with zipfile.ZipFile(f) as zf:
        info = zf.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    if where == "start":
        data[start:start + 64] = b"\xff" * 64
    else:
        mid = start + info.compress_size // 2
        data[mid:mid + 64] = bytes(range(64))
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(bytes(data))
    monkeypatch.setattr(workbook_mod, "FAST_MIN_BYTES", 0)
    with pytest.raises(InputError) as exc:
        _read(bad)
    assert exc.value.code == "input.corrupt"
