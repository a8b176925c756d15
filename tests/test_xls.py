"""Legacy .xls workbooks (WPS/Excel 97-2003) are read like .xlsx: title rows, dates, IDs as text."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import xlwt

from fupin_cli.loading import load_dataset
from fupin_cli.months import month_index
from fupin_cli.region import load_region


def _id(body: str) -> str:
    w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body + "10X98765432"[sum(int(c) * k for c, k in zip(body, w, strict=True)) % 11]


def test_xls_workbook_reads_and_validates(tmp_path: Path) -> None:
    good = _id("45102119800101011")
    date = xlwt.easyxf(num_format_str="yyyy-mm-dd")
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("车间名册")
    ws.write(0, 0, "田阳县就业扶贫车间名册")
    for j, h in enumerate(["序号", "车间编号", "车间名称", "经营主体", "主体类型", "县(市、区)", "认定日期"]):
        ws.write(1, j, h)
    for j, v in enumerate([1, "W1", "那满镇电子车间", "民胜公司", "企业", "田阳县"]):
        ws.write(2, j, v)
    ws.write(2, 6, dt.date(2018, 1, 5), date)
    lab = wb.add_sheet("人员")
    for j, h in enumerate(["身份证号", "姓名", "车间编号", "贫困户", "协议类型", "协议起始日期"]):
        lab.write(0, j, h)
    for j, v in enumerate([good, "黄秀英", "W1", "是", "劳务协议"]):
        lab.write(1, j, v)
    lab.write(1, 5, "2018.1.1")
    lab.write(2, 0, 4.51021198001011e17)  # typed as a number: digits lost
    for j, v in enumerate(["韦海燕", "W1", "是", "劳务协议"], start=1):
        lab.write(2, j, v)
    lab.write(2, 5, dt.date(2018, 1, 1), date)
    pay = wb.add_sheet("工资")
    for j, h in enumerate(["身份证号", "车间编号", "月份", "实发工资(元)"]):
        pay.write(0, j, h)
    for i in range(6):
        for j, v in enumerate([good, "W1", f"2018年{i + 1}月", 1100]):
            pay.write(i + 1, j, v)
    path = tmp_path / "田阳.xls"
    wb.save(str(path))

    ds = load_dataset([path], region=load_region())
    assert ds.workshops.loc[0, "certified"] == dt.datetime(2018, 1, 5)
    assert ds.laborers.loc[0, "start"] == dt.datetime(2018, 1, 1)
    assert list(ds.problems[["sheet", "row", "column", "code"]].itertuples(index=False, name=None)) == [
        ("人员", 3, "身份证号", "id.lost_digits")]
    assert sorted(ds.wages["month"].unique()) == [month_index(2018, m) for m in range(1, 7)]
    assert ds.wages["pay"].sum() == 6600


def _dated_book(path: Path, *, dates_1904: bool, start: float, stray: bool = False) -> Path:
    """One workshop and one laborer whose start date is typed as a plain number (no date format)."""
    wb = xlwt.Workbook(encoding="utf-8")
    wb.dates_1904 = dates_1904
    ws = wb.add_sheet("车间名册")
    for j, h in enumerate(["车间编号", "车间名称", "经营主体", "主体类型", "县(市、区)", "认定日期"]):
        ws.write(0, j, h)
    for j, v in enumerate(["W1", "那满镇电子车间", "民胜公司", "企业", "田阳县", "2018-01-05"]):
        ws.write(1, j, v)
    lab = wb.add_sheet("人员")
    for j, h in enumerate(["身份证号", "姓名", "车间编号", "贫困户", "协议类型", "协议起始日期"]):
        lab.write(0, j, h)
    for j, v in enumerate([_id("45102119800101011"), "黄秀英", "W1", "是", "劳务协议", start]):
        lab.write(1, j, v)
    if stray:  # a remark far below the data, a long text pasted a few times: honest, under every limit
        lab.write(3000, 10, "备注")
        for i in range(5):
            lab.write(5 + i, 12, "说明" * 16000)
    pay = wb.add_sheet("工资")
    for j, v in enumerate(["身份证号", "车间编号", "月份", "实发工资(元)"]):
        pay.write(0, j, v)
    for j, v in enumerate([_id("45102119800101011"), "W1", "2018年3月", 1100]):
        pay.write(1, j, v)
    wb.save(str(path))
    return path


def test_xls_in_the_1904_date_system_reads_a_date_typed_as_a_number(tmp_path: Path) -> None:
    """calamine reads the .xls; its DATEMODE record says the serial 41698 is 2018-03-01, not 2014-02-28."""
    mac = load_dataset([_dated_book(tmp_path / "mac.xls", dates_1904=True, start=41698)], region=load_region())
    assert mac.laborers.loc[0, "start"] == dt.datetime(2018, 3, 1)
    pc = load_dataset([_dated_book(tmp_path / "pc.xls", dates_1904=False, start=43160)], region=load_region())
    assert pc.laborers.loc[0, "start"] == dt.datetime(2018, 3, 1)


def _hostile_xls(path: Path, *, far_cell: bool = False, long_text_cells: int = 0) -> Path:
    """A tiny .xls that would make the reader allocate far more than its size (see sources/biff.py)."""
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("工资")
    for j, h in enumerate(["身份证号", "车间编号", "月份", "实发工资(元)"]):
        ws.write(0, j, h)
    if far_cell:
        ws.write(65535, 255, 1)  # IV65536: a 65,536 × 256 used range in a few kilobytes
    text = "x" * 32767  # one shared string, 32 KB, referenced by every cell
    for i in range(long_text_cells):
        ws.write(1 + i // 100, 4 + i % 100, text)
    wb.save(str(path))
    return path


@pytest.mark.parametrize(("kind", "words"), [("far", "IV65536"), ("text", "文字内容展开后超过")])
def test_xls_over_a_limit_is_refused_before_reading(tmp_path: Path, kind: str, words: str) -> None:
    from hostile import one_chinese_line, run_cli

    path = _hostile_xls(tmp_path / f"{kind}.xls", far_cell=kind == "far",
                        long_text_cells=30_000 if kind == "text" else 0)
    assert path.stat().st_size < 2_000_000
    res = run_cli(["check", path], timeout=60)
    assert res.returncode == 2, (res.returncode, res.stderr[-2000:])
    line = one_chinese_line(res.stderr)
    assert words in line and "工资" in line and f"{kind}.xls" in line, line


def test_xls_of_honest_size_passes_the_limits(tmp_path: Path) -> None:
    """A sheet with a stray cell a few thousand rows down and a long text used a few times is read."""
    path = _dated_book(tmp_path / "ok.xls", dates_1904=False, start=43160, stray=True)
    assert load_dataset([path], region=load_region()).laborers.loc[0, "start"] == dt.datetime(2018, 3, 1)


def test_hidden_rows_of_an_xls_are_data_with_a_warning(tmp_path: Path) -> None:
    from fupin_cli.problems import problems_to_records

    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("车间名册")
    for j, h in enumerate(["车间编号", "车间名称", "经营主体", "主体类型", "县(市、区)", "认定日期"]):
        ws.write(0, j, h)
    for j, v in enumerate(["W1", "那满镇电子车间", "民胜公司", "企业", "田阳县", "2018-01-05"]):
        ws.write(1, j, v)
    lab = wb.add_sheet("人员")
    for j, h in enumerate(["身份证号", "姓名", "车间编号", "贫困户", "协议类型", "协议起始日期"]):
        lab.write(0, j, h)
    for j, v in enumerate([_id("45102119800101011"), "黄秀英", "W1", "是", "劳务协议", "2018-01-01"]):
        lab.write(1, j, v)
    pay = wb.add_sheet("工资")
    for j, v in enumerate(["身份证号", "车间编号", "月份", "实发工资(元)"]):
        pay.write(0, j, v)
    for i in range(4):
        for j, v in enumerate([_id("45102119800101011"), "W1", f"2018年{i + 1}月", 1100]):
            pay.write(1 + i, j, v)
    pay.row(2).hidden = True  # Excel rows 3 and 4
    pay.row(3).hidden = True
    path = tmp_path / "隐藏.xls"
    wb.save(str(path))
    ds = load_dataset([path], region=load_region())
    assert ds.wages["pay"].sum() == 4400  # hidden rows are data
    found = [(i["sheet"], i["row"], i["value"]) for i in problems_to_records(ds.problems) if i["code"] == "sheet.hidden_rows"]
    assert found == [("工资", 3, "3-4")], problems_to_records(ds.problems)
