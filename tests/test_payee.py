"""payee = "laborer" (SPEC §4.3): the roster pays each laborer on their own account; a payable laborer
without one keeps the status, is listed 暂缓发放 with the reason, is not recorded, and is paid by a
later batch once the account is given."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import openpyxl
from typer.testing import CliRunner

from fupin_cli.cli import app
from fupin_cli.ledger import Ledger
from ruleutil import policy_text
from xlsxfixtures import make_id

A, B = make_id("19800101", 1), make_id("19810101", 3)
runner = CliRunner()


def _data(path: Path, b_account: str | None) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "车间"
    ws.append(["车间编号", "车间名称", "经营主体", "主体类型", "县(市、区)", "认定日期"])
    ws.append(["W1", "甲车间", "甲公司", "企业", "田阳区", date(2018, 1, 5)])
    lab = wb.create_sheet("人员")
    lab.append(["身份证号", "姓名", "车间编号", "是否建档立卡贫困劳动力", "协议类型", "协议起始日期", "开户银行", "银行账号"])
    lab.append([A, "甲", "W1", "是", "劳务协议", date(2018, 3, 1), "农业银行", "6228480000000000017"])
    lab.append([B, "乙", "W1", "是", "劳务协议", date(2018, 3, 1), None, b_account])
    pay = wb.create_sheet("工资")
    pay.append(["身份证号", "车间编号", "月份", "实发工资"])
    for pid in (A, B):
        for m in range(3, 13):
            pay.append([pid, "W1", f"2018-{m:02d}", 1000])
    wb.save(path)
    return path


def _payout(data: Path, month: str, ledger: Path, policy: Path, *more: str) -> dict:
    res = runner.invoke(app, ["payout", str(data), "--month", month, "--policy", str(policy), "--ledger", str(ledger),
                              "--json", "--show-id", *more])
    assert res.exit_code in (0, 1), res.output
    return json.loads(res.stdout)


def test_held_without_account_then_paid(tmp_path: Path) -> None:
    policy = tmp_path / "本人.toml"
    policy.write_text(policy_text(payee="laborer"), encoding="utf-8")
    ledger = tmp_path / "账本.sqlite3"
    Ledger.init(ledger)  # a new, empty ledger
    data = _data(tmp_path / "数据.xlsx", None)
    doc = _payout(data, "2018-08", ledger, policy, "--commit")
    assert [r["id_number"] for r in doc["rows"]] == [A] and doc["batch"]["recorded"] == 1
    assert [(h["id_number"], h["amount"]) for h in doc["deferred"]] == [(B, 1000)]
    assert "没有本人银行账号" in doc["deferred"][0]["reason"]
    out = tmp_path / "花名册.xlsx"
    runner.invoke(app, ["payout", str(data), "--month", "2018-08", "--policy", str(policy), "--output", str(out)])
    wb = openpyxl.load_workbook(out, read_only=True)
    assert "暂缓发放" in wb.sheetnames
    header = list(wb["奖补名单"].iter_rows(min_row=2, max_row=2, values_only=True))[0]
    wb.close()
    assert "本人银行账号" in header
    # B stays eligible (never invalid_data) …
    res = runner.invoke(app, ["eligibility", str(data), "--month", "2018-09", "--policy", str(policy),
                              "--ledger", str(ledger), "--json", "--show-id"])
    st = {r["id_number"]: r["status"] for r in json.loads(res.stdout)["rows"]}
    assert st == {A: "paid", B: "eligible"}
    # … and the next batch pays B once the account is given.
    data = _data(tmp_path / "数据.xlsx", "6228480000000000025")
    doc = _payout(data, "2018-09", ledger, policy, "--commit")
    assert [r["id_number"] for r in doc["rows"]] == [B] and doc["deferred"] == []
