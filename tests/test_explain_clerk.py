"""explain as a clerk uses it (issue #11 items 7–10): padded names, unusable ID rows, rejected wage rows."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from conftest import make_id
from fupin_cli.cli import app
from fupin_cli.cli import common as cli_common
from test_cli_payout import A, build

runner = CliRunner()
HUANG = make_id("19880808", 66, "451021")
WEI = make_id("19890909", 77, "451021")
LUO = make_id("19700101", 88, "451021")
LUO_BAD = LUO[:-1] + ("0" if LUO[-1] != "0" else "1")


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    path = build(tmp_path_factory.mktemp("explain"))
    wb = openpyxl.load_workbook(path)
    lab = wb["人员"]
    rows = {}
    for id_number, name in ((HUANG, "黄\u3000红"), (WEI, "韦 芳"), (LUO_BAD, "罗金")):
        lab.append([id_number, name, "W1", "是", "劳务协议", date(2018, 1, 1)])
        rows[name] = lab.max_row
    pay = wb["工资"]
    pay.cell(1, 5, "姓名")
    pay.append([HUANG, "W1", "2018-01", 1500, "黄\u3000红"])
    pay.append([A, "W1", "2018-03", 100, "黄秀英"])  # a second row for March: the month shows its parts
    pay.append([int(A[:-1] + "0") if A[-1] != "X" else 1, "W1", "2018-04", 900, "黄秀英"])  # ID stored as a number
    rows["rejected"] = pay.max_row
    wb.save(path)
    return path, rows


def _explain(path: Path, who: str, *extra: str):
    return runner.invoke(app, ["explain", str(path), "--id", who, "--month", "2018-12", *extra])


@pytest.mark.parametrize("who", ["黄红", "黄 红", "黄\u3000红", " 黄  红 "])
def test_padded_names_found_by_any_spacing(data, who: str) -> None:
    res = _explain(data[0], who, "--json", "--show-id")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["id_number"] == HUANG


def test_space_in_the_data_found_without_it(data) -> None:
    res = _explain(data[0], "韦芳", "--json", "--show-id")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["id_number"] == WEI


def test_unusable_id_row_is_named_not_missing(data) -> None:
    path, rows = data
    res = _explain(path, "罗金")
    assert res.exit_code == 2
    out = " ".join(res.output.split())
    assert f"第{rows['罗金']}行身份证号无法使用" in out.replace(" ", "")
    assert "没有名为" not in out


def test_rejected_wage_rows_in_the_reason(data, monkeypatch: pytest.MonkeyPatch) -> None:
    path, rows = data
    monkeypatch.setattr(cli_common.console, "width", 200)
    res = _explain(path, A, "--json", "--show-id")
    doc = json.loads(res.stdout)
    assert any(f"第{rows['rejected']}行" in r and "未计入" in r for r in doc["rejected"]), doc["rejected"]
    assert "未计入" in doc["summary"]
    text = _explain(path, A).stdout
    assert f"第{rows['rejected']}行" in text


def test_month_summed_from_two_rows_shows_its_parts(data) -> None:
    res = _explain(data[0], A, "--json")
    lines = {ln["month"]: ln for ln in json.loads(res.stdout)["pairs"][0]["lines"]}
    assert lines["2018-03"]["pay"] == 1200
    assert "2行合计" in lines["2018-03"]["note"] and "1,100" in lines["2018-03"]["note"]


def test_months_after_m_written_one_way(tmp_path: Path) -> None:
    res = runner.invoke(app, ["explain", str(build(tmp_path)), "--id", "陆美玲", "--month", "2018-06", "--json"])
    notes = {ln["note"] for p in json.loads(res.stdout)["pairs"] for ln in p["lines"]
             if ln["month"] > "2018-06"}
    assert notes == {"晚于核算月份,不计"}


def test_parameter_table_once_for_several_workshops(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_common.console, "width", 200)
    res = runner.invoke(app, ["explain", str(build(tmp_path)), "--id", "韦海燕", "--month", "2018-12"])
    assert res.exit_code == 0, res.output
    assert res.stdout.count("所用参数") == 1 and res.stdout.count("车间 W") == 2
