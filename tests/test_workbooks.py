"""Writers of the xlsx outputs: written with xlsxwriter, read back with openpyxl."""

from __future__ import annotations

import datetime as dt
import decimal
import re
import zipfile
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import openpyxl
import pandas as pd
import pytest
import xlsxwriter

from fupin_cli.errors import FupinError
from fupin_cli.fsutil import sha256_file
from fupin_cli.months import month_index
from fupin_cli.policy import Terms
from fupin_cli.problems import PROBLEM_COLUMNS, problem_title
from fupin_cli.region import load_region
from fupin_cli.tables import load_tables
from fupin_cli.workbooks import roster as roster_mod
from fupin_cli.workbooks import (
    write_ledger_export,
    write_marked_copy,
    write_problems,
    write_roster,
    write_stats,
    write_templates,
)
from fupin_cli.workbooks.cells import Formats, text_width, write_value

M2019_03, M2019_04, M2019_05 = month_index(2019, 3), month_index(2019, 4), month_index(2019, 5)
TRICKY = ["=1+1", "@SUM(A1)", "+86", "-5", "\x01控制"]


def _unescape(v: object) -> object:
    """OOXML stores control characters as _xHHHH_; Excel decodes them, openpyxl does not."""
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), v) if isinstance(v, str) else v


def _rows() -> pd.DataFrame:
    return pd.DataFrame({
        "county_code": ["451003", "451003", "451022"],
        "county": ["田阳区", "田阳区", "田东县"],
        "workshop_id": ["TY001", "TY001", "TD007"],
        "workshop_name": ["田阳县那坡镇巾帼脱贫示范基地电子厂", "田阳县那坡镇巾帼脱贫示范基地电子厂", "田东县祥周镇车间"],
        "operator": ["百色某某电子有限公司", "百色某某电子有限公司", "田东县某合作社"],
        "name": ["=1+1", "黄秀英", "+86"],
        "id_number": ["45212219850307002X", "452122199001011234", "452123200002290011"],
        "contract_type": ["劳务协议", "承揽合同", "劳务协议"],
        "start": pd.to_datetime(["2018-09-01", "2018-10-15", "2018-11-01"]),
        "qualified_month": pd.array([M2019_03, M2019_04, M2019_04], dtype="Int64"),
        "payable_month": pd.array([M2019_03, M2019_05, M2019_04], dtype="Int64"),
        "months": [6, 7, 6],
        "wages": [6000.5, 7210.25, 6033.1],
        "amount": [1000.0, 1000.0, 1000.0],
    })


def _roster(county: str | None = "田阳区", **over) -> SimpleNamespace:
    rows = _rows()
    workshops = pd.DataFrame({
        "county": ["田阳区", "田东县"], "workshop_id": ["TY001", "TD007"],
        "workshop_name": ["田阳县那坡镇巾帼脱贫示范基地电子厂", "田东县祥周镇车间"],
        "operator": ["百色某某电子有限公司", "-5"], "operator_type": ["企业", "农民专业合作社"],
        "bank": ["农业银行田阳支行", "农村信用社"], "bank_account": ["6228480012345678901", "0123456789"],
        "people": [2, 1], "amount": [2000.0, 1000.0],
    })
    counties = pd.DataFrame({"county_code": ["451003", "451022"], "county": ["田阳区", "田东县"],
                             "workshops": [1, 1], "people": [2, 1], "amount": [2000.0, 1000.0]})
    not_paid = pd.DataFrame({
        "county": ["田阳区"], "workshop_id": ["TY001"], "workshop_name": ["车间"], "name": ["@SUM(A1)"],
        "id_number": ["452122199512120016"], "status": ["pending"], "status_label": ["未满期"],
        "reason": ["还差2个月、1,350元"], "months": [4], "wages": [4650.0],
        "qualified_month": pd.array([pd.NA], dtype="Int64"),
    })
    problems = pd.DataFrame({
        "file": ["a.xlsx", "a.xlsx"], "sheet": ["人员", "工资"], "row": pd.array([5, pd.NA], dtype="Int64"),
        "column": ["身份证号", ""], "value": [4.52122e17, None], "code": ["id.lost_digits", "month.unparseable"],
        "severity": ["error", "warning"], "message": ["身份证号后几位已丢失", "月份无法识别"],
    })
    base = dict(month=M2019_05, county=county, policy="gx-2018", region_name="百色市", rows=rows,
                workshops=workshops, counties=counties, not_paid=not_paid, problems=problems, non_target=0,
                terms=Terms(), deferred=pd.DataFrame())
    base.update(over)
    return SimpleNamespace(**base)


def _table(ws) -> tuple[list, list[list]]:
    """Header row (row 2) and the rows below it down to the 合计 row (inclusive)."""
    header = [c.value for c in ws[2]]
    body = []
    for row in ws.iter_rows(min_row=3):
        body.append(list(row))
        if row[0].value == "合计":
            break
    return header, body


def _col(header: list, name: str) -> int:
    return header.index(name)


# --- roster ---------------------------------------------------------------------------------------

def test_roster_sheets_title_header_and_totals(tmp_path: Path) -> None:
    out = write_roster(tmp_path / "花名册.xlsx", _roster())
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["奖补名单", "车间汇总", "县区汇总", "未达标名单", "数据问题"]
    ws = wb["奖补名单"]
    assert ws["A1"].value == "田阳区就业扶贫车间一次性带动就业奖补资金发放花名册（2019年5月）"
    assert ws["A1"].font.b and ws["A1"].font.sz == 16
    header, body = _table(ws)
    assert header == ["序号", "县(市、区)", "车间编号", "车间名称", "经营主体", "姓名", "身份证号", "协议类型",
                      "协议起始日期", "达标月份", "可发放月份", "累计月数", "累计报酬", "奖补金额"]
    assert f"A1:{openpyxl.utils.get_column_letter(len(header))}1" in {str(r) for r in ws.merged_cells.ranges}
    data, total = body[:-1], body[-1]
    rows = _rows()
    assert len(data) == len(rows)
    assert [r[0].value for r in data] == [1, 2, 3]
    assert total[_col(header, "累计报酬")].value is None  # a sum of wages means nothing to finance
    assert total[_col(header, "奖补金额")].value == pytest.approx(rows["amount"].sum())
    assert total[_col(header, "姓名")].value == "共3人"
    for r, expected in zip(data, rows.itertuples(), strict=True):
        idc = r[_col(header, "身份证号")]
        assert idc.data_type == "s" and idc.value == expected.id_number and len(idc.value) == 18
        money = r[_col(header, "奖补金额")]
        assert money.data_type == "n" and money.value == expected.amount and money.number_format == "#,##0.00"
        d = r[_col(header, "协议起始日期")]
        assert d.is_date and d.value == expected.start.to_pydatetime() and d.number_format == "yyyy-mm-dd"
    assert data[1][_col(header, "达标月份")].value == "2019-04"
    assert data[1][_col(header, "可发放月份")].value == "2019-05"
    # The amount in words, a blank row, then the signature line.
    assert ws.cell(total[0].row + 1, 1).value.startswith("合计金额(大写):人民币")
    sig_row = total[0].row + 3
    assert all(c.value is None for c in ws[total[0].row + 2])
    assert ws.cell(sig_row, 1).value.startswith("经办人:") and "审核人:" in ws.cell(sig_row, 1).value
    assert "负责人:" in ws.cell(sig_row, 1).value and "日期:" in ws.cell(sig_row, 1).value


def test_roster_other_sheets(tmp_path: Path) -> None:
    r = _roster(county=None)
    wb = openpyxl.load_workbook(write_roster(tmp_path / "r.xlsx", r))
    assert wb["奖补名单"]["A1"].value.startswith("百色市就业扶贫车间")
    last = [c.value for c in wb["奖补名单"]["A"] if c.value is not None][-2:]
    assert last[-1].startswith("经办人")
    header, body = _table(wb["车间汇总"])
    for h in ("开户银行", "银行账号", "人数", "金额(元)"):
        assert h in header
    acct = body[1][_col(header, "银行账号")]
    assert acct.data_type == "s" and acct.value == "0123456789"  # leading zero kept
    assert body[-1][_col(header, "人数")].value == 3
    assert body[-1][_col(header, "金额(元)")].value == 3000
    header, body = _table(wb["县区汇总"])
    assert body[0][_col(header, "区划代码")].value == "451003"
    assert body[-1][_col(header, "车间数")].value == 2
    header, body = _table(wb["未达标名单"])
    for h in ("状态", "原因", "累计月数", "累计报酬"):
        assert h in header
    assert body[0][_col(header, "状态")].value == "未满期"
    assert body[0][_col(header, "原因")].value == "还差2个月、1,350元"
    assert body[0][_col(header, "达标月份")].value is None
    header, body = _table(wb["数据问题"])
    assert header == ["序号", "严重程度", "文件", "工作表", "行号", "姓名", "列", "单元格内容", "问题", "说明"]
    assert [r[_col(header, "严重程度")].value for r in body[:-1]] == ["错误", "警告"]
    assert body[0][_col(header, "单元格内容")].value == "4.52122e+17"  # not 452122000000000000
    assert body[0][_col(header, "行号")].value == 5 and body[1][_col(header, "行号")].value is None
    assert body[-1][_col(header, "文件")].value == "共2条(错误1条,警告1条)"


def test_formula_like_text_stays_text(tmp_path: Path) -> None:
    rows = _rows()
    rows["name"] = TRICKY[:3]
    rows["operator"] = TRICKY[3:] + ["正常"]
    wb = openpyxl.load_workbook(write_roster(tmp_path / "r.xlsx", _roster(rows=rows)))
    ws = wb["奖补名单"]
    header, body = _table(ws)
    cells = [r[_col(header, "姓名")] for r in body[:-1]] + [r[_col(header, "经营主体")] for r in body[:-1]]
    assert [_unescape(c.value) for c in cells] == TRICKY + ["正常"]
    assert all(c.data_type == "s" for c in cells)
    for name in ("奖补名单", "车间汇总", "未达标名单"):
        assert not any(c.data_type == "f" for row in wb[name].iter_rows() for c in row)


def test_write_value_is_safe_even_with_default_xlsxwriter_options(tmp_path: Path) -> None:
    path = tmp_path / "v.xlsx"
    wb = xlsxwriter.Workbook(str(path))  # default options would turn "=1+1" into a formula via write()
    ws = wb.add_worksheet()
    fmts = Formats(wb)
    values = [*TRICKY, None, np.nan, pd.NaT, pd.NA, np.int64(7), 2.5, decimal.Decimal("1.25"), True,
              pd.Timestamp("2019-03-05"), dt.date(2019, 3, 6), pd.Timestamp("2019-03-05 10:30")]
    for i, v in enumerate(values):
        write_value(ws, i, 0, v, fmts)
    wb.close()
    column = openpyxl.load_workbook(path).active["A"]
    got = [_unescape(c.value) for c in column]
    types = [c.data_type for c in column]
    assert got[:5] == TRICKY and types[:5] == ["s"] * 5
    assert got[5:9] == [None] * 4
    assert got[9:13] == [7, 2.5, 1.25, "是"]
    assert got[13] == dt.datetime(2019, 3, 5) and got[14] == dt.datetime(2019, 3, 6)
    assert got[15] == dt.datetime(2019, 3, 5, 10, 30)
    assert [column[i].number_format for i in (9, 10, 13, 15)] == ["0", "General", "yyyy-mm-dd", "yyyy-mm-dd hh:mm:ss"]


def test_print_setup_and_freeze_on_every_sheet(tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(write_roster(tmp_path / "r.xlsx", _roster()))
    for ws in wb.worksheets:
        assert ws.page_setup.orientation == "landscape"
        assert int(ws.page_setup.paperSize) == 9
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.page_setup.fitToHeight == 0 and ws.page_setup.fitToWidth in (None, 1)
        assert ws.print_title_rows.replace("$", "") == "2:2"
        assert ws.freeze_panes == "A3"


def test_column_widths_fit_content_cjk_double(tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(write_roster(tmp_path / "r.xlsx", _roster()))
    ws = wb["奖补名单"]
    header, _ = _table(ws)

    def width(name: str) -> float:
        letter = openpyxl.utils.get_column_letter(_col(header, name) + 1)
        dims = [d for d in ws.column_dimensions.values() if d.min <= _col(header, name) + 1 <= d.max]
        return dims[0].width if dims else ws.column_dimensions[letter].width

    longest = max(_rows()["workshop_name"], key=len)
    assert width("车间名称") >= 2 * len(longest)
    assert width("身份证号") >= 18
    assert width("车间名称") > width("车间编号")
    assert text_width(["ab", "车间"]) == 4 and text_width(["（元）"]) == 6 and text_width([]) == 0


def test_empty_roster_still_has_every_sheet_with_zero_totals(tmp_path: Path) -> None:
    empty = _roster(rows=_rows().iloc[0:0], workshops=pd.DataFrame(), counties=pd.DataFrame(),
                    not_paid=pd.DataFrame(), problems=pd.DataFrame(columns=PROBLEM_COLUMNS))
    wb = openpyxl.load_workbook(write_roster(tmp_path / "r.xlsx", empty))
    assert wb.sheetnames == list(roster_mod.SHEETS)
    header, body = _table(wb["奖补名单"])
    assert len(body) == 1 and body[0][0].value == "合计"
    assert body[0][_col(header, "奖补金额")].value == 0
    header, body = _table(wb["车间汇总"])
    assert "银行账号" in header and body[0][_col(header, "金额(元)")].value == 0
    header, body = _table(wb["数据问题"])
    assert body[0][_col(header, "文件")].value == "共0条(错误0条,警告0条)"


def test_failed_write_keeps_previous_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "r.xlsx"
    write_roster(target, _roster())
    before = sha256_file(target)

    def boom(*a, **k):
        raise RuntimeError("killed")

    monkeypatch.setattr(roster_mod, "problem_frame", boom)  # fails after three sheets were written
    with pytest.raises(RuntimeError):
        write_roster(target, _roster(county="田东县"))
    assert sha256_file(target) == before
    assert [p.name for p in tmp_path.iterdir()] == ["r.xlsx"]


# --- validation report and marked copy ------------------------------------------------------------

def _problems() -> pd.DataFrame:
    return pd.DataFrame({
        "file": ["a.xlsx", "a.xlsx", "a.xlsx", "b.xlsx"],
        "sheet": ["人员", "人员", "人员", "工资"],
        "row": pd.array([3, 4, 5, 9], dtype="Int64"),
        "column": ["身份证号", "身份证号", "姓名", "实发工资"],
        "value": ["=HYPERLINK(1)", "4521", "", "-10"],
        "code": ["id.checksum", "id.checksum", "required.missing", "money.negative"],
        "severity": ["error", "error", "error", "warning"],
        "message": ["校验位不对", "校验位不对", "姓名为空", "金额为负"],
    })


def test_write_problems_report(tmp_path: Path) -> None:
    out = write_problems(tmp_path / "检查.xlsx", _problems(), {"files": 2, "errors": 3, "warnings": 1,
                                                               "valid": False})
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["问题清单", "汇总"]
    header, body = _table(wb["问题清单"])
    assert header[1:] == ["严重程度", "文件", "工作表", "行号", "姓名", "列", "单元格内容", "问题", "说明"]
    assert len(body) == 5 and body[-1][_col(header, "文件")].value == "共4条(错误3条,警告1条)"
    assert body[0][_col(header, "单元格内容")].value == "=HYPERLINK(1)"
    assert body[0][_col(header, "单元格内容")].data_type == "s"
    ws = wb["汇总"]
    values = [[c.value for c in r] for r in ws.iter_rows()]
    assert ["文件数", 2] in [v[:2] for v in values] and ["是否通过检查", "否"] in [v[:2] for v in values]
    start = next(i for i, v in enumerate(values) if v[0] == "序号" and "条数" in v)
    hdr = values[start]
    counts = {tuple(v[2:5]): v[hdr.index("条数")] for v in values[start + 1:] if isinstance(v[0], int)}
    assert counts == {("a.xlsx", "人员", problem_title("id.checksum")): 2, ("a.xlsx", "人员", problem_title("required.missing")): 1,
                      ("b.xlsx", "工资", problem_title("money.negative")): 1}
    total = next(v for v in values[start:] if v[0] == "合计")
    assert total[hdr.index("条数")] == 4


def _source_workbook(path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "人员"
    ws["A1"] = "田阳县吸纳就业花名册"
    ws.merge_cells("A1:D1")
    ws.append(["序号", "姓名", "公民身份号码", "协议类型"])  # 公民身份号码 is an alias of 身份证号
    ws.append([1, "黄秀英", "452122199001011235", "劳务协议"])
    ws.append([2, "", "452122199001011234", "劳务协议"])
    ws.append([3, "韦明", "4521", "劳务协议"])
    wb.create_sheet("工资").append(["身份证号", "月份", "实发工资"])
    wb.save(path)


def test_marked_copy_fills_and_comments(tmp_path: Path) -> None:
    src = tmp_path / "a.xlsx"
    _source_workbook(src)
    before = sha256_file(src)
    probs = pd.DataFrame({
        "file": ["a.xlsx"] * 6,
        "sheet": ["人员", "人员", "人员", "人员", "工资", "人员"],
        "row": pd.array([3, 3, 4, 5, pd.NA, 5], dtype="Int64"),
        "column": ["身份证号", "姓名", "姓名", None, "", "身份证号"],
        "value": ["452122199001011235", "黄秀英", "", None, None, "4521"],
        "code": ["id.checksum", "name.mismatch", "required.missing", "row.duplicate", "table.empty", "id.length"],
        "severity": ["error", "warning", "error", "warning", "warning", "error"],
        "message": ["校验位不对", "与人员表不一致", "姓名为空", "重复的行", "工资表没有数据", "身份证号位数不对"],
    })
    dest = write_marked_copy(src, tmp_path / "out" / "a_标注.xlsx", probs)
    assert sha256_file(src) == before
    assert openpyxl.load_workbook(src)["人员"]["C3"].comment is None
    wb = openpyxl.load_workbook(dest)
    ws = wb["人员"]
    red, yellow = "FFFF7C80", "FFFFFF00"
    assert ws["C3"].fill.fgColor.rgb == red and "校验位不对" in ws["C3"].comment.text
    assert ws["B3"].fill.fgColor.rgb == yellow and "与人员表不一致" in ws["B3"].comment.text
    assert ws["B4"].fill.fgColor.rgb == red and "姓名为空" in ws["B4"].comment.text
    assert ws["C4"].comment is None and ws["C4"].fill.fill_type is None
    # Row 5: whole row yellow (row-level warning), C5 red with its own error.
    assert ws["A5"].fill.fgColor.rgb == yellow and ws["D5"].fill.fgColor.rgb == yellow
    assert ws["C5"].fill.fgColor.rgb == red and "位数不对" in ws["C5"].comment.text
    assert "重复的行" in ws["A5"].comment.text
    assert ws.sheet_properties.tabColor.rgb.endswith("FF0000")
    assert "工资表没有数据" in wb["工资"]["A1"].comment.text
    assert wb["工资"].sheet_properties.tabColor.rgb.endswith("FFC000")
    assert ws["C3"].value == "452122199001011235"  # data unchanged in the copy


def test_marked_copy_with_header_mapping_and_refusals(tmp_path: Path) -> None:
    src = tmp_path / "a.xlsx"
    _source_workbook(src)
    probs = pd.DataFrame({"file": ["a.xlsx"], "sheet": ["人员"], "row": pd.array([4], dtype="Int64"),
                          "column": ["协议"], "value": ["x"], "code": ["enum.unknown"], "severity": ["warning"],
                          "message": ["协议类型不对"]})
    dest = write_marked_copy(src, tmp_path / "m.xlsx", probs, headers={("人员", "协议"): "D"})
    ws = openpyxl.load_workbook(dest)["人员"]
    assert "协议类型不对" in ws["D4"].comment.text and ws["D4"].fill.fgColor.rgb == "FFFFFF00"
    with pytest.raises(FupinError):
        write_marked_copy(src, src, probs)
    csv = tmp_path / "a.csv"
    csv.write_text("a,b\n", encoding="utf-8")
    with pytest.raises(FupinError):
        write_marked_copy(csv, tmp_path / "c.xlsx", probs)


# --- template -------------------------------------------------------------------------------------

def test_template(tmp_path: Path) -> None:
    paths = write_templates(tmp_path)
    assert [p.name for p in paths] == ["就业扶贫车间数据模板.xlsx"]
    wb = openpyxl.load_workbook(paths[0])
    assert wb.sheetnames[:3] == ["车间", "人员", "工资"] and "填表说明" in wb.sheetnames
    tables = load_tables()
    notes = " ".join(str(c.value) for row in wb["填表说明"].iter_rows() for c in row if c.value)
    for spec in (tables.workshops, tables.laborers, tables.wages):
        ws = wb[spec.title]
        header = [c.value for c in ws[1]]
        columns = [c for c in spec.columns if c.feature is None]  # the default policy uses no feature column
        assert header == [c.header for c in columns]
        validations = {}
        for dv in ws.data_validations.dataValidation:
            for rng in dv.sqref.ranges:
                validations[rng.min_col] = dv
        for j, col in enumerate(columns, start=1):
            cell = ws.cell(1, j)
            assert (cell.font.color is not None and cell.font.color.rgb == "FFC00000") == col.required
            if col.type in ("id", "digits"):
                assert ws.cell(2, j).number_format == "@" and ws.cell(2001, j).number_format == "@"
            if col.type == "date":
                assert ws.cell(2, j).number_format == "yyyy-mm-dd"
            expected = {"enum": col.choices, "bool": ["是", "否"],
                        "county": [c.name for c in load_region().counties]}.get(col.type)
            if expected is not None:
                dv = validations[j]
                assert dv.type == "list" and dv.formula1.strip('"').split(",") == expected
                assert str(dv.sqref) == f"{cell.column_letter}2:{cell.column_letter}1048576"  # the whole column
            assert col.header in notes and col.note in notes
    assert "文本" in notes and "合计" in notes


# --- statistics -----------------------------------------------------------------------------------

def test_stats_workbook_with_charts(tmp_path: Path) -> None:
    table = pd.DataFrame({
        "county": ["右江区", "田阳区", "合计"], "code": ["451002", "451003", ""],
        "workshops": [10, 20, 30], "employed": [100, 300, 390], "poor": [20, 50, 70], "relocated": [3, 4, 7],
        "eligible": [5, 9, 14], "paid_people": [4, 8, 12], "paid_amount": [4000.0, 8000.0, 12000.0],
        "paid_workshops": [2, 3, 5],
    })
    monthly = pd.DataFrame({"month": ["2019-01", "2019-02"], "people": [5, 7], "amount": [5000.0, 7000.0]})
    out = write_stats(tmp_path / "统计.xlsx", table, monthly, "百色市就业扶贫车间统计表(截至2019年2月)")
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["统计表", "按月兑现"]
    ws = wb["统计表"]
    assert ws["A1"].value == "百色市就业扶贫车间统计表(截至2019年2月)"
    header = [c.value for c in ws[2]]
    assert header == ["县(市、区)", "区划代码", "认定车间数", "带动就业人数", "其中贫困劳动力", "其中易地搬迁",
                      "达标人数", "已兑现人数", "已兑现金额", "兑现车间数"]
    assert [c.value for c in ws[5]][:3] == ["合计", None, 30] and ws["C5"].font.b
    assert ws["B3"].data_type == "s" and ws["I5"].number_format == "#,##0.00"
    mh, mb = _table(wb["按月兑现"])
    assert mb[-1][_col(mh, "兑现金额(元)")].value == 12000 and mb[-1][_col(mh, "兑现人数")].value == 12
    with zipfile.ZipFile(out) as z:
        charts = sorted(n for n in z.namelist() if n.startswith("xl/charts/chart"))
        assert len(charts) == 2
        xml = z.read(charts[0]).decode("utf-8")
    # The county chart plots the county rows only (not the 合计 row).
    assert "统计表!$H$3:$H$4" in xml and "统计表!$A$3:$A$4" in xml


def test_stats_without_total_row_sums(tmp_path: Path) -> None:
    table = pd.DataFrame({"county": ["右江区", "田阳区"], "code": ["451002", "451003"], "workshops": [1, 2],
                          "employed": [3, 4], "poor": [1, 1], "relocated": [0, 1], "eligible": [1, 2],
                          "paid_people": [1, 2], "paid_amount": [1000.0, 2000.0], "paid_workshops": [1, 1]})
    empty = pd.DataFrame({"month": pd.Series(dtype=str), "people": pd.Series(dtype=int),
                          "amount": pd.Series(dtype=float)})
    wb = openpyxl.load_workbook(write_stats(tmp_path / "s.xlsx", table, empty, "统计"))
    row = [c.value for c in wb["统计表"][5]]
    assert row[0] == "合计" and row[2] == 3 and row[8] == 3000


# --- ledger export --------------------------------------------------------------------------------

def test_ledger_export(tmp_path: Path) -> None:
    batches = pd.DataFrame({"batch_id": ["2019-05-451003"], "month": [M2019_05], "created_at": [
        pd.Timestamp("2019-06-01 02:00:05")], "policy": ["gx-2018"], "people": [2], "amount": [2000.0],
        "extra_col": ["x"]})
    payouts = pd.DataFrame({"batch_id": ["b1", "b1"], "id_number": ["45212219850307002X", "452122199001011234"],
                            "name": ["=1+1", "黄秀英"], "qualified_month": [M2019_03, M2019_04],
                            "amount": [1000.0, 1000.0]})
    files = pd.DataFrame({"batch_id": ["b1"], "path": ["/data/田阳.xlsx"], "sha256": ["ab" * 32]})
    wb = openpyxl.load_workbook(write_ledger_export(tmp_path / "台账.xlsx", batches, payouts, files))
    assert wb.sheetnames == ["批次", "发放明细", "输入文件"]
    header, body = _table(wb["批次"])
    assert header == ["序号", "批次号", "月份", "时间", "政策", "人数", "金额(元)", "extra_col"]
    assert body[0][_col(header, "月份")].value == "2019-05"
    assert body[0][_col(header, "时间")].value == dt.datetime(2019, 6, 1, 2, 0, 5)
    header, body = _table(wb["发放明细"])
    assert header == ["序号", "批次号", "身份证号", "姓名", "达标月份", "金额(元)"]
    assert body[0][_col(header, "身份证号")].value == "45212219850307002X"
    assert body[0][_col(header, "姓名")].data_type == "s" and body[0][_col(header, "姓名")].value == "=1+1"
    assert [r[_col(header, "达标月份")].value for r in body[:-1]] == ["2019-03", "2019-04"]
    assert body[-1][_col(header, "金额(元)")].value == 2000
    assert body[0][_col(header, "金额(元)")].number_format == "#,##0.00"
    header, body = _table(wb["输入文件"])
    assert header == ["序号", "批次号", "文件", "SHA-256 校验值"]
    assert re.fullmatch("[0-9a-f]{64}", body[0][3].value)
    out = write_ledger_export(tmp_path / "t2.xlsx", batches, payouts, files,
                              headers={"files": {"path": "输入文件"}, "batches": {"month": "发放月份"}})
    wb = openpyxl.load_workbook(out)
    assert [c.value for c in wb["输入文件"][2]] == ["序号", "批次号", "输入文件", "SHA-256 校验值"]
    assert [c.value for c in wb["批次"][2]][2] == "发放月份"


def test_text_width_long_columns_match_the_plain_definition() -> None:
    """The Arrow path for long columns measures exactly like the per-character rule (CJK double)."""
    import random

    from fupin_cli.workbooks.cells import text_width

    rng = random.Random(7)
    for _ in range(50):
        texts = ["".join(rng.choice("ab1 中文é—\u3000x😀") for _ in range(rng.randrange(0, 40)))
                 for _ in range(rng.randrange(64, 400))]
        texts.append(None)
        expected = max(len(t) + sum(ord(c) > 0xFF for c in t) for t in texts if t is not None)
        assert text_width(texts) == expected


def _column_values_reference(s: pd.Series, kind: str) -> list:
    """column_values as it was written first, one Python step per value (the definition)."""
    from fupin_cli.months import format_month
    from fupin_cli.workbooks.cells import _to_text

    if kind in ("text", "id", "wrap"):
        mask = s.isna().tolist()
        return [None if m or v == "" else (v if type(v) is str else _to_text(v))
                for v, m in zip(s.astype(object), mask, strict=True)]
    if kind == "month":
        mask = s.isna().tolist()
        num = pd.api.types.is_numeric_dtype(s)
        return [None if m else (format_month(v) if num else _to_text(v)) for v, m in zip(s.astype(object), mask,
                                                                                        strict=True)]
    if kind in ("money", "int", "number"):
        num = pd.to_numeric(s, errors="coerce").astype("float64")
        if kind == "money":
            with np.errstate(over="ignore"):
                num = num.round(2)
        num = num.where(np.isfinite(num))
        vals = num.astype(object).where(num.notna(), None).tolist()
        return [int(v) if kind == "int" and v is not None else v for v in vals]
    d = pd.to_datetime(s, errors="coerce")
    if getattr(d.dt, "tz", None) is not None:
        d = d.dt.tz_localize(None)
    return [None if pd.isna(v) else v.to_pydatetime() for v in d]


def test_column_values_match_the_per_value_definition() -> None:
    """The vectorised column preparation gives the very values (and types) of the per-value one."""
    from fupin_cli.workbooks.cells import column_values

    texts = ["黄秀英", "", None, " 空格 ", "=1+1", "x"] * 20
    cases = [
        (pd.Series(texts, dtype="str"), ("text", "id", "wrap")),
        (pd.Series(texts, dtype=object), ("text", "id")),
        (pd.Series([6228480012345678.0, None, 1.5], dtype=object), ("id",)),
        (pd.array([24230, None, 24233, 24230], dtype="Int64"), ("month",)),
        (pd.Series([24230.0, np.nan, 24233.0]), ("month",)),
        (pd.Series(["2019-03", None], dtype="str"), ("month",)),
        (pd.Series([1.005, -0.0, 0.0, np.nan, np.inf, 1.8e306, 12345.678, -2.5, 1e20, 9.3e18]),
         ("money", "int", "number")),
        (pd.array([1, None, -7, 2**40], dtype="Int64"), ("int", "money", "number")),
        (pd.Series(["3", "x", None], dtype=object), ("int", "number")),
        (pd.Series(pd.to_datetime(["2018-03-01", None, "2018-03-01 08:30:15", "1900-01-01"], format="ISO8601")), ("date", "datetime")),
        (pd.Series(pd.to_datetime(["2018-03-01 08:30", None]).tz_localize("Asia/Shanghai")), ("datetime",)),
    ]
    for values, kinds in cases:
        s = pd.Series(values)
        for kind in kinds:
            got, want = column_values(s, kind), _column_values_reference(s, kind)
            assert got == want, (kind, got, want)
            assert [type(v) for v in got] == [type(v) for v in want], kind
