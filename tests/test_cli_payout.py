"""payout / eligibility / explain / stats end to end: real xlsx in, roster/JSON out, read back."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from conftest import make_id
from fupin_cli.cli import app
from fupin_cli.commands.eligibility import run_eligibility
from fupin_cli.commands.payout import run_payout, settlement_json
from fupin_cli.commands.stats import run_stats, stats_json
from fupin_cli.months import month_index

A = make_id("19800101", 11, "451021")  # qualifies 2018-06 in W1 (田阳), W1 certified 2018-01
B = make_id("19850505", 22, "451022")  # qualifies 2018-08 in W2 (田东) and 2018-09 in W1 → W2 wins
C = make_id("19900303", 33, "451021")  # not poor, high pay
D = make_id("19920202", 44, "451021")  # poor, only 4 months so far: pending
E = make_id("19750707", 55, "451021")  # poor, name begins with "=", qualifies 2018-07


def build(tmp: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "车间"
    ws.append(["XX市就业扶贫车间名册"])
    ws.append(["车间编号", "车间名称", "经营主体", "主体类型", "县(市、区)", "认定日期", "开户银行", "银行账号"])
    ws.append(["W1", "那满镇电子扶贫车间", "百色市民胜电子设备制造有限公司", "企业", "田阳县", date(2018, 1, 10),
               "农行", "6228480000000000017"])
    ws.append(["W2", "林逢镇服装扶贫车间", "田东县林逢服装厂", "个体工商户", "田东县", date(2018, 2, 1), "农信社",
               "0123456789"])
    lab = wb.create_sheet("人员")
    lab.append(["身份证号", "姓名", "车间编号", "是否建档立卡贫困劳动力", "协议类型", "协议起始日期"])
    lab.append([A, "黄秀英", "W1", "是", "劳务协议", date(2018, 1, 1)])
    lab.append([B, "韦海燕", "W2", "是", "承揽合同", date(2018, 3, 1)])
    lab.append([B, "韦海燕", "W1", "是", "劳务协议", date(2018, 4, 1)])
    lab.append([C, "农建国", "W1", "否", "劳务协议", date(2018, 1, 1)])
    lab.append([D, "陆美玲", "W1", "是", "承揽合同", date(2018, 5, 1)])
    lab.append([E, "=1+1", "W2", "是", "劳务协议", date(2018, 2, 1)])
    lab.cell(lab.max_row, 2).data_type = "s"  # a text cell that looks like a formula, as a clerk typed it
    pay = wb.create_sheet("工资")
    pay.append(["身份证号", "车间编号", "月份", "实发工资"])
    for m in range(1, 13):
        pay.append([A, "W1", f"2018-{m:02d}", 1100])
        pay.append([C, "W1", f"2018-{m:02d}", 3000])
        if m >= 3:
            pay.append([B, "W2", f"2018-{m:02d}", 1000])
        if m >= 4:
            pay.append([B, "W1", f"2018-{m:02d}", 1200])
        if 5 <= m <= 8:
            pay.append([D, "W1", f"2018-{m:02d}", 1500])
        if m >= 2:
            pay.append([E, "W2", f"2018-{m:02d}", 1050])
    path = tmp / "data.xlsx"
    wb.save(path)
    return path


@pytest.fixture()
def data(tmp_path: Path) -> Path:
    return build(tmp_path)


runner = CliRunner()


def test_payout_roster_values(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "花名册.xlsx"
    s = run_payout([data], month=month_index(2018, 12), output=out)
    got = {(r.id_number, r.workshop_id): (r.qualified_month, r.payable_month, r.amount) for r in s.roster.rows.itertuples()}
    assert got == {
        (A, "W1"): (month_index(2018, 6), month_index(2018, 6), 1000.0),
        (B, "W2"): (month_index(2018, 8), month_index(2018, 8), 1000.0),
        (E, "W2"): (month_index(2018, 7), month_index(2018, 7), 1000.0),
    }
    status = dict(zip(zip(s.decisions["id_number"], s.decisions["workshop_id"], strict=True), s.decisions["status"],
                      strict=True))
    assert status[(B, "W1")] == "duplicate"
    assert status[(C, "W1")] == "not_poor"
    assert status[(D, "W1")] == "pending"

    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["奖补名单", "车间汇总", "县区汇总", "未达标名单", "数据问题"]
    ws = wb["奖补名单"]
    assert "百色市就业扶贫车间一次性带动就业奖补资金发放花名册" in ws["A1"].value
    cells = [[c for c in row] for row in ws.iter_rows()]
    ids = [c for row in cells for c in row if c.value in (A, B, E)]
    assert len(ids) == 3 and all(c.data_type == "s" for c in ids)
    formula_name = [c for row in cells for c in row if c.value == "=1+1"]
    assert formula_name and formula_name[0].data_type == "s"
    total_row = next(row for row in cells if row[0].value == "合计")
    amounts = [c.value for c in total_row if isinstance(c.value, int | float)]
    assert 3000 in amounts
    money_cells = [c for row in cells for c in row if c.value == 1000]
    assert money_cells and money_cells[0].number_format == "#,##0.00"


def test_payout_county_filter_keeps_once_per_person(data: Path) -> None:
    s = run_payout([data], month=month_index(2018, 12), county_arg="田阳县")
    assert list(s.roster.rows["id_number"]) == [A]  # B is paid via W2 in 田东, not W1 in 田阳
    assert s.roster.county == "田阳县"  # the name in force in 2018 (田阳区 from 2019-01)


def test_payout_json_equals_library(data: Path) -> None:
    res = runner.invoke(app, ["payout", str(data), "--month", "2018-12", "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    lib = settlement_json(run_payout([data], month=month_index(2018, 12)))
    assert doc == json.loads(json.dumps(lib, ensure_ascii=False))
    assert doc["people"] == 3 and doc["amount"] == 3000
    assert all("*" in r["id_number"] for r in doc["rows"])
    full = json.loads(runner.invoke(app, ["payout", str(data), "--month", "2018-12", "--json", "--show-id"]).stdout)
    assert {r["id_number"] for r in full["rows"]} == {A, B, E}


def test_commit_is_idempotent_and_monthly_adds_up(data: Path, tmp_path: Path) -> None:
    led = tmp_path / "l.sqlite3"
    paid = []
    for m in range(1, 13):
        s = run_payout([data], month=month_index(2018, m), ledger_path=led, commit=True, new_ledger=m == 1)
        paid += list(s.roster.rows["id_number"])
    assert sorted(paid) == sorted([A, B, E])  # each exactly once, same set as one run at 2018-12
    again = run_payout([data], month=month_index(2018, 12), ledger_path=led, commit=True)
    assert again.batch is not None and not again.batch_created and again.recorded == 0
    assert len(again.differences) == 0
    later = run_payout([data], month=month_index(2019, 1), ledger_path=led)  # no pay data for 2019-01: preview only
    assert later.roster.people == 0
    st = dict(zip(later.decisions["id_number"] + later.decisions["workshop_id"], later.decisions["status"], strict=True))
    assert st[A + "W1"] == "paid" and st[B + "W2"] == "paid" and st[B + "W1"] == "duplicate"


def test_commit_earlier_month_after_later_is_refused(data: Path, tmp_path: Path) -> None:
    led = tmp_path / "l.sqlite3"
    run_payout([data], month=month_index(2018, 12), ledger_path=led, commit=True, new_ledger=True, first_run=True)
    res = runner.invoke(app, ["payout", str(data), "--month", "2018-06", "--commit", "--ledger", str(led)])
    assert res.exit_code == 2
    assert "不能再登记更早" in res.output and "Traceback" not in res.output


def test_eligibility_json_and_filters(data: Path) -> None:
    res = runner.invoke(app, ["eligibility", str(data), "--month", "2018-12", "--json", "--status", "pending"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert [r["status"] for r in doc["rows"]] == ["pending"]
    assert "还差" in doc["rows"][0]["reason"]
    lib = run_eligibility([data], month=month_index(2018, 12), statuses=["pending"])
    assert len(lib.rows) == 1
    bad = runner.invoke(app, ["eligibility", str(data), "--status", "nonsense", "--month", "2018-12"])
    assert bad.exit_code == 2 and "不认识的状态" in bad.output


def test_explain_by_name_and_unknown(data: Path) -> None:
    res = runner.invoke(app, ["explain", str(data), "--id", "陆美玲", "--month", "2018-12"])
    assert res.exit_code == 0, res.output
    assert "未满期" in res.output and "桂人社发" in res.output
    assert D not in res.output  # masked
    res = runner.invoke(app, ["explain", str(data), "--id", "张三", "--month", "2018-12"])
    assert res.exit_code == 2 and "Traceback" not in res.output


def test_stats_json_text_and_workbook(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "统计.xlsx"
    res = runner.invoke(app, ["stats", str(data), "--month", "2018-12", "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc == json.loads(json.dumps(stats_json(run_stats([data], month=month_index(2018, 12))), ensure_ascii=False))
    t = doc["total"]
    assert (t["workshops"], t["employed"], t["poor"], t["paid_people"], t["paid_amount"], t["paid_workshops"]) == (
        2, 5, 4, 3, 3000.0, 2)
    text = runner.invoke(app, ["stats", str(data), "--month", "2018-12", "--text", "--output", str(out)])
    assert "截至2018年12月底,全市认定就业扶贫车间2家,带动劳动力就业5人,其中贫困劳动力4人" in text.stdout
    wb = openpyxl.load_workbook(out)
    assert wb.worksheets[0]._charts


def test_two_concurrent_commits_never_double_pay(data: Path, tmp_path: Path) -> None:
    """Two `payout --commit` processes for the same month at once: one batch, each person once."""
    import subprocess
    import sys

    led = tmp_path / "l.sqlite3"
    assert runner.invoke(app, ["ledger", "init", str(led)]).exit_code == 0
    cmd = [sys.executable, "-m", "fupin_cli", "payout", str(data), "--month", "2018-12", "--commit",
           "--ledger", str(led), "--json", "--first-run"]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    docs = [json.loads(o[0]) for o in outs]
    assert sorted(d["batch"]["created"] for d in docs) == [False, True]
    assert all(d["people"] == 3 for d in docs)  # the second reproduces the same roster
    from fupin_cli.ledger import Ledger

    with Ledger.open(led, create=False, readonly=True) as ledger:
        assert len(ledger.batches()) == 1
        paid = ledger.paid()
        assert sorted(paid["id_number"]) == sorted([A, B, E])


def test_county_roster_carries_only_its_own_problems(tmp_path: Path) -> None:
    path = build(tmp_path)
    wb = openpyxl.load_workbook(path)
    wb["工资"].append([B, "W2", "2018-12", "-5"])  # a 田东 problem
    wb["工资"].append([A, "W1", "2018-12", "abc"])  # a 田阳 problem
    wb.save(path)
    tianyang = run_payout([path], month=month_index(2018, 12), county_arg="田阳县").roster
    tiandong = run_payout([path], month=month_index(2018, 12), county_arg="田东县").roster
    assert list(tianyang.problems["code"]) == ["money.unparseable"]
    assert list(tiandong.problems["code"]) == ["money.negative"]
    assert len(run_payout([path], month=month_index(2018, 12)).roster.problems) == 2


@pytest.mark.parametrize("command", ["payout", "eligibility", "stats"])
def test_a_missing_ledger_is_one_error_everywhere_and_never_created(data: Path, tmp_path: Path, command: str) -> None:
    """Opening an existing ledger read-only is one helper with one code (was usage.ledger here, ledger.missing
    in `fupin ledger`)."""
    from fupin_cli.errors import LedgerError

    missing = tmp_path / "没有的账本.sqlite3"
    res = CliRunner().invoke(app, [command, str(data), "--month", "2018-12", "--ledger", str(missing)])
    assert res.exit_code == 2 and "不存在" in res.stderr and not missing.exists()
    with pytest.raises(LedgerError) as err:
        run_payout([data], month=month_index(2018, 12), ledger_path=missing)
    assert err.value.code == "ledger.missing" and not missing.exists()
