"""The optional 人员类别 column (SPEC §3.2, §4.3): aliases, values, short forms, and its agreement with
是否建档立卡贫困劳动力."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import openpyxl
import pytest

from fupin_cli.categories import category_names, split_categories
from fupin_cli.loading import load_dataset
from fupin_cli.region import load_region
from fupin_cli.tables import load_tables
from xlsxfixtures import make_id

IDS = [make_id(f"1980010{i}", i) for i in range(1, 9)]


def _workbook(tmp: Path, header: list[str], rows: list[list]) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "车间"
    ws.append(["车间编号", "车间名称", "经营主体", "主体类型", "县(市、区)", "认定日期"])
    ws.append(["W1", "帮扶车间", "某公司", "企业", "田阳区", date(2021, 1, 5)])
    lab = wb.create_sheet("人员")
    lab.append(["身份证号", "姓名", "车间编号", *header, "协议类型", "协议起始日期"])
    for i, r in enumerate(rows):
        lab.append([IDS[i], f"人{i}", "W1", *r, "劳务协议", date(2021, 3, 1)])
    pay = wb.create_sheet("工资")
    pay.append(["身份证号", "车间编号", "月份", "实发工资"])
    for i in range(len(rows)):
        pay.append([IDS[i], "W1", "2021-03", 1500])
    path = tmp / "数据.xlsx"
    wb.save(path)
    return path


def _load(path: Path):
    ds = load_dataset([path], region=load_region())
    lab = ds.laborers.set_index("id_number")
    return ds, lab


def test_the_column_alone_with_short_forms_and_aliases(tmp_path: Path) -> None:
    path = _workbook(tmp_path, ["人员身份"], [
        ["脱贫户、监测对象"], ["建档立卡"], ["农村低收入人口,易地搬迁"], ["防止返贫监测对象；脱贫人口"], [None]])
    ds, lab = _load(path)
    assert list(lab["categories"]) == [
        "脱贫人口、防止返贫监测对象", "建档立卡贫困劳动力", "农村低收入人口、易地搬迁人口", "脱贫人口、防止返贫监测对象", ""]
    assert list(lab["poor"]) == [False, True, False, False, False]
    # Without 是否建档立卡 either, the empty row misses both: one error naming the two columns.
    p = ds.problems
    assert list(p["code"]) == ["required.missing"]
    assert p["message"].iloc[0] == "“是否建档立卡贫困劳动力”和“人员类别”都为空,请至少填写一项"
    assert (p["sheet"].iloc[0], p["row"].iloc[0], p["column"].iloc[0]) == ("人员", 6, "人员身份")
    assert list(lab["valid"]) == [True, True, True, True, False]


def test_without_the_column_yes_means_jiandang_lika(tmp_path: Path) -> None:
    ds, lab = _load(_workbook(tmp_path, ["是否建档立卡贫困劳动力"], [["是"], ["否"]]))
    assert list(lab["categories"]) == ["建档立卡贫困劳动力", ""]
    assert ds.problems.empty


@pytest.mark.parametrize("poor,cats,ok,code", [
    ("是", "建档立卡贫困劳动力、脱贫人口", True, None),
    ("否", "脱贫人口", True, None),
    (None, "建档立卡户", True, None),
    ("是", None, True, None),
    ("是", "脱贫人口", False, "category.conflict"),
    ("否", "建档立卡", False, "category.conflict"),
    ("是", "贫困群众", False, "category.unknown"),
])
def test_both_columns(tmp_path: Path, poor, cats, ok: bool, code: str | None) -> None:
    ds, lab = _load(_workbook(tmp_path, ["是否建档立卡贫困劳动力", "帮扶对象类别"], [[poor, cats]]))
    assert bool(lab["valid"].iloc[0]) is ok
    assert list(ds.problems["code"]) == ([] if code is None else [code])
    if code:
        row = ds.problems.iloc[0]
        assert (row["sheet"], row["row"], row["column"]) == ("人员", 2, "帮扶对象类别")
        assert "人员类别" in row["message"]
    if code == "category.conflict":
        assert lab["invalid_reason"].iloc[0] == "人员类别与“是否建档立卡贫困劳动力”不一致"
    if code == "category.unknown":
        assert "“贫困群众”无法识别" in ds.problems["message"].iloc[0]


def test_names_are_one_list() -> None:
    col = load_tables().laborers.column("categories")
    assert tuple(col.choices) == category_names()
    assert col.aliases == ["人员身份", "帮扶对象类别"]
    assert split_categories("脱贫户 / 监测户、脱贫人口") == (["脱贫人口", "防止返贫监测对象"], [])


def test_input_file_untouched(tmp_path: Path) -> None:
    path = _workbook(tmp_path, ["人员类别"], [["脱贫户"]])
    before = path.read_bytes()
    _load(path)
    assert path.read_bytes() == before


# -- check follows the policy -----------------------------------------------------------------------------

def _check(path: Path, policy: Path | None) -> dict:
    import json

    from typer.testing import CliRunner

    from fupin_cli.cli import app

    args = ["check", str(path), "--json"] + (["--policy", str(policy)] if policy else [])
    res = CliRunner().invoke(app, args)
    assert res.exit_code in (0, 1), res.output
    return json.loads(res.stdout)


def _policy(tmp: Path, overrides: dict, **top) -> Path:
    from ruleutil import policy_text

    path = tmp / "策略.toml"
    path.write_text(policy_text(overrides, **top), encoding="utf-8")
    return path


def test_check_wants_an_account_when_the_laborer_is_paid(tmp_path: Path) -> None:
    path = _workbook(tmp_path, ["人员类别", "银行账号", "社会保障卡号"], [
        ["脱贫人口", "6228480000000000017", None],   # account: fine
        ["脱贫人口", None, "452122198001011234"],    # 社保卡: fine
        ["脱贫人口", None, None],                   # counted, no account: warning
        ["农村低收入人口", None, None],              # not counted by this policy: nothing
        ["脱贫人口", "62284800000000000x7", None],   # bad account: a warning, the row stays valid
    ])
    policy = _policy(tmp_path, {"categories": ["脱贫人口"]}, payee="laborer")
    doc = _check(path, policy)
    got = sorted((i["row"], i["column"], i["code"], i["severity"]) for i in doc["issues"])
    assert got == [(4, "银行账号", "payee.no_account", "warning"), (6, "银行账号", "account.chars", "warning"),
                   (6, "银行账号", "payee.no_account", "warning")]
    assert doc["errors"] == 0 and doc["valid"]
    # gx-2018 (the workshop is paid) asks for no laborer account.
    assert [i["code"] for i in _check(path, None)["issues"]] == ["account.chars"]


def test_check_names_a_sheet_without_account_or_category_columns(tmp_path: Path) -> None:
    path = _workbook(tmp_path, ["是否建档立卡贫困劳动力"], [["是"], ["是"], ["否"]])
    policy = _policy(tmp_path, {"categories": ["建档立卡贫困劳动力", "脱贫人口"]}, payee="laborer")
    doc = _check(path, policy)
    by_code = {i["code"]: i for i in doc["issues"]}
    assert set(by_code) == {"payee.no_account_column", "category.no_column"}
    acc = by_code["payee.no_account_column"]
    assert (acc["sheet"], acc["row"], acc["severity"]) == ("人员", 1, "warning")
    assert "本表计入类别人员2人" in acc["message"]
    cat = by_code["category.no_column"]
    assert "本策略计入的人员类别为建档立卡贫困劳动力、脱贫人口" in cat["message"]
    assert "只有“是否建档立卡贫困劳动力”为“是”的人" in cat["message"]
