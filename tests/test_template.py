"""`fupin template DIR` (SPEC §7): canonical headers, drop-downs, text ID columns, 填表说明 — and a
template filled in by hand passes `fupin check` with zero problems."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet
from typer.testing import CliRunner

from fupin_cli.cli import app
from fupin_cli.loading import load_dataset
from fupin_cli.region import load_region
from fupin_cli.tables import load_tables
from xlsxfixtures import ID, credit_code

runner = CliRunner()
BANK = "6228480088123456789"  # 19 digits: lost in a number cell, kept in a text cell
CREDIT = credit_code("92451021MA5KXY312")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("t") / "新建文件夹" / "模板"
    res = runner.invoke(app, ["template", str(folder)])
    assert res.exit_code == 0, res.output
    files = list(folder.glob("*.xlsx"))
    assert len(files) == 1 and str(files[0]) in res.stdout.replace("\n", "")
    return files[0]


def _list_choices(wb: openpyxl.Workbook, formula: str) -> list[str]:
    """The items of a list validation: inline "a,b,c" or a range on the hidden list sheet."""
    if formula.startswith('"'):
        return formula.strip('"').split(",")
    sheet, rng = formula.lstrip("=").split("!")
    return [c.value for row in wb[sheet.strip("'")][rng.replace("$", "")] for c in row]


def test_headers_dropdowns_and_text_columns(template: Path) -> None:
    wb = openpyxl.load_workbook(template)
    tables = load_tables()
    region = load_region()
    assert {"车间", "人员", "工资", "填表说明"} <= set(wb.sheetnames)
    for spec in (tables.workshops, tables.laborers, tables.wages):
        ws: Worksheet = wb[spec.title]
        columns = [c for c in spec.columns if c.feature is None]  # gx-2018 uses no feature column
        assert [c.value for c in ws[1]] == [c.header for c in columns]
        lists = {}
        for dv in ws.data_validations.dataValidation:
            if dv.type == "list":
                for rng in dv.sqref.ranges:
                    lists[rng.min_col] = (_list_choices(wb, dv.formula1), rng.min_row, rng.max_row)
        for j, col in enumerate(columns, start=1):
            expected = {"enum": list(col.choices), "bool": ["是", "否"],
                        "county": [c.name for c in region.counties]}.get(col.type)
            if expected is None:
                assert j not in lists, col.header
                continue
            choices, first, last = lists[j]
            assert choices == expected and first == 2 and last >= 1000, col.header
        for j, col in enumerate(columns, start=1):
            if col.type in ("id", "digits", "credit_code"):
                for r in (2, 500):
                    assert ws.cell(r, j).number_format == "@", (spec.title, col.header, r)
    assert [c.value for c in wb["人员"][1]][0] == "身份证号"
    assert "银行账号" in [c.value for c in wb["车间"][1]]
    notes = wb["填表说明"]
    text = "\n".join(str(c.value) for row in notes.iter_rows() for c in row if c.value)
    for spec in (tables.workshops, tables.laborers, tables.wages):
        for col in spec.columns:
            if col.feature is None:
                assert col.header in text
    assert "社会保障卡号" not in text  # only for a policy that pays laborers
    assert "文本格式" in text and "4.52122E+17" in text


def _fill(ws: Worksheet, rows: list[dict[str, object]]) -> None:
    col = {c.value: c.column for c in ws[1]}
    for i, values in enumerate(rows, start=2):
        for header, v in values.items():
            ws.cell(i, col[header], v)


def test_filled_template_passes_check(template: Path, tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(template)
    _fill(wb["车间"], [
        {"车间编号": "TY001", "车间名称": "那坡镇电子车间", "经营主体": "百色某某电子有限公司", "主体类型": "企业",
         "统一社会信用代码": CREDIT, "县(市、区)": "田阳区", "认定日期": datetime(2018, 3, 1), "开户银行": "农业银行",
         "银行账号": BANK},
        {"车间编号": "PG002", "车间名称": "坡造镇巾帼车间", "经营主体": "坡造镇某合作社", "主体类型": "农民专业合作社",
         "县(市、区)": "平果市", "认定日期": datetime(2018, 5, 2)},
    ])
    people = [(ID["p1"], "黄秀英", "TY001"), (ID["p2"], "韦小红", "TY001"), (ID["p6"], "陆六", "PG002")]
    _fill(wb["人员"], [
        {"身份证号": pid, "姓名": name, "车间编号": wsid, "是否建档立卡贫困劳动力": "是", "是否易地扶贫搬迁": "否",
         "协议类型": "劳务协议", "协议起始日期": datetime(2018, 6, 1)} for pid, name, wsid in people
    ])
    _fill(wb["工资"], [
        {"身份证号": pid, "车间编号": wsid, "月份": f"2018-{m:02d}", "实发工资": 1050.5, "出勤天数": 22, "姓名": name}
        for pid, name, wsid in people for m in range(6, 12)
    ])
    filled = tmp_path / "田阳县数据.xlsx"
    wb.save(filled)
    res = runner.invoke(app, ["check", str(filled), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout) == {"valid": True, "errors": 0, "warnings": 0, "issues": []}
    ds = load_dataset([filled], region=load_region())
    assert sorted(ds.laborers["id_number"]) == sorted(p[0] for p in people)
    assert ds.laborers["valid"].all() and len(ds.wages) == 18
    ws = ds.workshops.set_index("workshop_id")
    assert ws.loc["TY001", "bank_account"] == BANK and ws.loc["TY001", "credit_code"] == CREDIT
    assert ws.loc["PG002", "county_code"] == "451082"
    assert runner.invoke(app, ["check", str(filled)]).exit_code == 0


def test_blank_template_is_readable(template: Path) -> None:
    """The unfilled template is valid input: no rows, no problems, not a crash."""
    res = runner.invoke(app, ["check", str(template), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["issues"] == []


def test_template_is_rewritten_in_place_and_refuses_a_file(template: Path, tmp_path: Path) -> None:
    again = runner.invoke(app, ["template", str(template.parent)])
    assert again.exit_code == 0
    assert sorted(p.name for p in template.parent.iterdir()) == [template.name]  # no temp files left
    a_file = tmp_path / "模板.xlsx"
    a_file.write_bytes(b"x")
    res = runner.invoke(app, ["template", str(a_file)])
    assert res.exit_code == 2
    assert a_file.name in res.stderr and "\n" not in res.stderr.strip() and "Traceback" not in res.output
    assert a_file.read_bytes() == b"x"


def test_template_follows_the_policy(tmp_path: Path) -> None:
    """SPEC §4.3: a policy with categories gets the 人员类别 drop-down; payee = laborer makes the
    laborer's bank columns appear, required (red); the title uses the policy's terms."""
    from ruleutil import policy_text

    policy = tmp_path / "帮扶.toml"
    policy.write_text(policy_text({"categories": ["脱贫人口", "防止返贫监测对象"]}, payee="laborer",
                                  terms={"workshop": "就业帮扶车间"}), encoding="utf-8")
    res = runner.invoke(app, ["template", str(tmp_path / "模板"), "--policy", str(policy)])
    assert res.exit_code == 0, res.output
    path = tmp_path / "模板" / "就业帮扶车间数据模板.xlsx"
    wb = openpyxl.load_workbook(path)
    ws = wb["人员"]
    header = [c.value for c in ws[1]]
    assert {"人员类别", "开户银行", "银行账号", "社会保障卡号"} <= set(header)
    j = header.index("人员类别") + 1
    dv = next(d for d in ws.data_validations.dataValidation if any(r.min_col == j for r in d.sqref.ranges))
    assert _list_choices(wb, dv.formula1) == ["建档立卡贫困劳动力", "脱贫人口", "防止返贫监测对象", "农村低收入人口",
                                               "易地搬迁人口"]
    assert dv.errorStyle == "information"  # a combination such as 脱贫人口、防止返贫监测对象 stays allowed
    red = ws.cell(1, header.index("身份证号") + 1).font.color.rgb
    assert ws.cell(1, header.index("银行账号") + 1).font.color.rgb == red
    assert ws.cell(1, header.index("社会保障卡号") + 1).font.color.rgb != red
    assert ws.cell(2, header.index("银行账号") + 1).number_format == "@"
    assert wb["填表说明"]["A1"].value == "就业帮扶车间数据模板填表说明"
    # The default policy's template has none of these columns.
    assert runner.invoke(app, ["template", str(tmp_path / "t2")]).exit_code == 0
    plain = openpyxl.load_workbook(tmp_path / "t2" / "就业扶贫车间数据模板.xlsx")
    assert not {"人员类别", "开户银行", "银行账号", "社会保障卡号"} & {c.value for c in plain["人员"][1]}


def test_dropdowns_cover_the_whole_column_and_text_format_beyond_row_2001(template: Path) -> None:
    wb = openpyxl.load_workbook(template)
    ws = wb["人员"]
    last = {rng.max_row for dv in ws.data_validations.dataValidation for rng in dv.sqref.ranges}
    assert last == {1048576}  # not 2001: a township's 3,000th row gets the same drop-downs
    id_col = [c.value for c in ws[1]].index("身份证号") + 1
    letter = openpyxl.utils.get_column_letter(id_col)
    assert ws.column_dimensions[letter].number_format == "@"  # the column itself is text, every row


def test_wide_wage_template_filled_by_month_columns(tmp_path: Path) -> None:
    res = runner.invoke(app, ["template", str(tmp_path / "模板"), "--wide", "2018"])
    assert res.exit_code == 0, res.output
    path = next((tmp_path / "模板").glob("*.xlsx"))
    wb = openpyxl.load_workbook(path)
    pay = wb["工资"]
    header = [c.value for c in pay[1]]
    assert header[:3] == ["身份证号", "姓名", "车间编号"] and header[3:] == [f"2018年{m}月" for m in range(1, 13)]
    _fill(wb["车间"], [{"车间编号": "TY001", "车间名称": "那坡镇电子车间", "经营主体": "百色某某电子有限公司",
                        "主体类型": "企业", "县(市、区)": "田阳区", "认定日期": datetime(2018, 1, 1)}])
    _fill(wb["人员"], [{"身份证号": ID["p1"], "姓名": "黄秀英", "车间编号": "TY001", "是否建档立卡贫困劳动力": "是",
                        "协议类型": "劳务协议", "协议起始日期": datetime(2018, 1, 1)}])
    _fill(pay, [{"身份证号": ID["p1"], "姓名": "黄秀英", "车间编号": "TY001",
                 **{f"2018年{m}月": 1100 for m in range(1, 7)}}])
    filled = tmp_path / "数据.xlsx"
    wb.save(filled)
    res = runner.invoke(app, ["check", str(filled), "--json"])
    assert json.loads(res.stdout)["issues"] == [], res.stdout
    ds = load_dataset([filled], region=load_region())
    assert len(ds.wages) == 6 and set(ds.wages["pay"]) == {1100.0}
