"""SPEC §4.3 `[terms]`: the policy's words in every title, header, reason and paragraph a clerk reads
(terminal tables, the roster, the statistics and eligibility workbooks); the default policy's
outputs keep the seed's wording."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from fupin_cli.cli import app
from ruleutil import policy_text
from xlsxfixtures import ID, write_clean

runner = CliRunner()
TERMS = {"workshop": "就业帮扶车间", "target": "脱贫人口(含防止返贫监测对象)", "subsidy": "吸纳就业奖补"}
SEED_WORDS = ("就业扶贫车间", "扶贫车间", "建档立卡贫困劳动力", "贫困劳动力", "一次性带动就业奖补")


@pytest.fixture()
def data(tmp_path: Path) -> Path:
    """The clean workbook plus a non-target laborer and a qualifying laborer of an uncertified workshop."""
    path = write_clean(tmp_path / "田东县.xlsx")
    wb = openpyxl.load_workbook(path)
    wb["车间"].append(["TD003", "田东县平马镇服装车间", "平马服装厂", "企业", "田东县", None])
    for pid, wsid, poor in ((ID["p3"], "TD001", "否"), (ID["p4"], "TD003", "是")):
        wb["人员"].append([pid, "某某", wsid, poor, "劳务协议", "2018-03-01"])
        for m in range(3, 10):
            wb["工资"].append([pid, wsid, f"2018-{m:02d}", 1100])
    wb.save(path)
    return path


@pytest.fixture()
def policy(tmp_path: Path) -> Path:
    path = tmp_path / "帮扶.toml"
    path.write_text(policy_text(terms=TERMS), encoding="utf-8")
    return path


def _sheet_text(path: Path) -> tuple[list[str], str]:
    """The title of every sheet, and every cell's text."""
    wb = openpyxl.load_workbook(path, read_only=True)
    titles = [str(next(ws.iter_rows(values_only=True))[0]) for ws in wb.worksheets]
    text = "\n".join(str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row
                     if v is not None)
    wb.close()
    return titles, text


def _no_seed_words(text: str) -> None:
    assert not [w for w in SEED_WORDS if w in text], text


def test_terminal_titles_and_headers_in_the_policys_terms(data: Path, policy: Path) -> None:
    args = [str(data), "--month", "2018-09", "--policy", str(policy)]
    res = runner.invoke(app, ["payout", *args], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "百色市吸纳就业奖补花名册(2018-09)" in res.stdout
    _no_seed_words(res.stdout)
    res = runner.invoke(app, ["stats", *args], env={"COLUMNS": "250"})
    assert res.exit_code == 0, res.output
    assert "就业帮扶车间统计(截至 2018-09)" in res.stdout
    assert "其中脱贫人口(含防止返贫监测对象)" in res.stdout
    _no_seed_words(res.stdout)


def test_workbooks_in_the_policys_terms(data: Path, policy: Path, tmp_path: Path) -> None:
    args = [str(data), "--month", "2018-09", "--policy", str(policy)]
    out = {k: tmp_path / f"{k}.xlsx" for k in ("stats", "decisions", "roster")}
    assert runner.invoke(app, ["stats", *args, "--output", str(out["stats"])]).exit_code == 0
    assert runner.invoke(app, ["eligibility", *args, "--output", str(out["decisions"])]).exit_code == 0
    assert runner.invoke(app, ["payout", *args, "--output", str(out["roster"])]).exit_code == 0
    titles, text = _sheet_text(out["stats"])
    assert titles[0] == "百色市就业帮扶车间建设情况统计表(截至2018年9月底)——兑现数为按规则测算的应兑现数(未使用账本)"
    assert "其中脱贫人口(含防止返贫监测对象)" in text
    _no_seed_words(text)
    titles, text = _sheet_text(out["decisions"])
    assert titles[0] == "百色市就业帮扶车间吸纳就业奖补核定结果（2018年9月）"
    assert "车间TD003未认定为就业帮扶车间(无认定日期)" in text
    # The category the policy counts is named as such (it still counts 建档立卡贫困劳动力).
    not_target = "不属于建档立卡贫困劳动力(本政策的脱贫人口(含防止返贫监测对象)),不属于吸纳就业奖补对象"
    assert not_target in text
    _no_seed_words(text.replace(not_target, ""))
    titles, text = _sheet_text(out["roster"])
    assert "说明:另有非脱贫人口(含防止返贫监测对象)1人次不属奖补对象,未列入本名单。" in text
    _no_seed_words(text)


def test_the_default_policy_keeps_the_seed_wording(data: Path, tmp_path: Path) -> None:
    args = [str(data), "--month", "2018-09"]
    out = {k: tmp_path / f"{k}.xlsx" for k in ("stats", "decisions", "roster")}
    res = runner.invoke(app, ["stats", *args, "--output", str(out["stats"])], env={"COLUMNS": "250"})
    assert "就业扶贫车间统计(截至 2018-09)" in res.stdout and "其中贫困劳动力" in res.stdout
    assert "百色市一次性带动就业奖补花名册(2018-09)" in runner.invoke(
        app, ["payout", *args, "--output", str(out["roster"])], env={"COLUMNS": "200"}).stdout
    assert runner.invoke(app, ["eligibility", *args, "--output", str(out["decisions"])]).exit_code == 0
    titles, text = _sheet_text(out["stats"])
    assert titles[0] == "百色市就业扶贫车间建设情况统计表(截至2018年9月底)——兑现数为按规则测算的应兑现数(未使用账本)" and "其中贫困劳动力" in text
    titles, text = _sheet_text(out["decisions"])
    assert titles[0] == "百色市就业扶贫车间一次性带动就业奖补核定结果（2018年9月）"
    assert "车间TD003未认定为就业扶贫车间(无认定日期)" in text
    assert "说明:另有非建档立卡贫困劳动力1人次不属奖补对象,未列入本名单。" in _sheet_text(out["roster"])[1]
