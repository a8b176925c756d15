"""`fupin compare` (issue 12 §4): a draft policy against the current one on the same data — who gains,
who loses, money by county and in total; with --ledger, what changes for people already paid."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import openpyxl
from typer.testing import CliRunner

from fupin_cli.cli import app
from fupin_cli.ledger import Ledger
from fupin_cli.loading import load_dataset
from fupin_cli.policy import load_policy
from fupin_cli.region import load_region
from fupin_cli.settlement import settle
from ruleutil import month, policy_text
from xlsxfixtures import make_id

A, B, C = make_id("19800101", 1), make_id("19810101", 3), make_id("19820101", 5)
runner = CliRunner()


def _data(tmp: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "车间"
    ws.append(["车间编号", "车间名称", "经营主体", "主体类型", "县(市、区)", "认定日期"])
    ws.append(["W1", "甲车间", "甲公司", "企业", "田阳区", date(2018, 1, 5)])
    ws.append(["W2", "乙车间", "乙公司", "企业", "田东县", date(2018, 1, 5)])
    lab = wb.create_sheet("人员")
    lab.append(["身份证号", "姓名", "车间编号", "是否建档立卡贫困劳动力", "协议类型", "协议起始日期"])
    lab.append([A, "甲", "W1", "是", "劳务协议", date(2018, 3, 1)])   # 1000/month: gx pays, the draft's floor does not
    lab.append([B, "乙", "W1", "是", "劳务协议", date(2018, 3, 1)])   # 2000/month: both pay
    lab.append([C, "丙", "W2", "是", "劳动合同", date(2018, 3, 1)])   # 劳动合同: only the draft counts it
    pay = wb.create_sheet("工资")
    pay.append(["身份证号", "车间编号", "月份", "实发工资"])
    for pid, amount in ((A, 1000), (B, 2000), (C, 2000)):
        for m in range(3, 13):
            pay.append([pid, "W1" if pid != C else "W2", f"2018-{m:02d}", amount])
    path = tmp / "数据.xlsx"
    wb.save(path)
    return path


def _draft(tmp: Path) -> Path:
    path = tmp / "拟议.toml"
    path.write_text(policy_text({"min_monthly_wage": 1500, "amount": 1200,
                                 "contract_types": ["劳务协议", "承揽合同", "劳动合同"]}), encoding="utf-8")
    return path


def test_gains_losses_and_money_by_county(tmp_path: Path) -> None:
    data, draft = _data(tmp_path), _draft(tmp_path)
    out = tmp_path / "对比.xlsx"
    res = runner.invoke(app, ["compare", str(data), "--month", "2018-12", "--policy", "gx-2018", "--policy",
                              str(draft), "--json", "--show-id", "--output", str(out)])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert (doc["current"], doc["draft"]) == ("gx-2018", "test-policy")
    assert sorted((g["id_number"], g["amount_current"], g["amount_draft"]) for g in doc["gains"]) == sorted(
        [(B, 1000, 1200), (C, 0, 1200)])
    assert {g["id_number"]: g["status_current"] for g in doc["gains"]}[C] == "contract_type"
    assert [(x["id_number"], x["difference"]) for x in doc["losses"]] == [(A, -1000)]
    by = {c["county"]: c for c in doc["counties"]}
    assert (by["田阳区"]["amount_current"], by["田阳区"]["amount_draft"]) == (2000, 1200)
    assert (by["田东县"]["people_current"], by["田东县"]["people_draft"]) == (0, 1)
    assert (by["合计"]["amount_current"], by["合计"]["amount_draft"], by["合计"]["difference"]) == (2000, 2400, 400)
    assert doc["already_paid"] is None
    wb = openpyxl.load_workbook(out, read_only=True)
    assert wb.sheetnames == ["县区对比", "增加人员", "减少人员"]
    wb.close()


def test_people_already_paid_are_listed_never_unpaid(tmp_path: Path) -> None:
    data, draft = _data(tmp_path), _draft(tmp_path)
    ledger = tmp_path / "账本.sqlite3"
    region = load_region()
    ds = load_dataset([data], region=region)
    with Ledger.open(ledger, create=True) as led, led.lock():
        settle(ds, region=region, policy=load_policy(None), month=month("2018-08"), ledger=led, commit=True)
    before = ledger.read_bytes()
    res = runner.invoke(app, ["compare", str(data), "--month", "2018-12", "--policy", "gx-2018", "--policy",
                              str(draft), "--ledger", str(ledger), "--json", "--show-id"])
    assert res.exit_code == 0, res.output
    paid = {p["id_number"]: p for p in json.loads(res.stdout)["already_paid"]}
    assert set(paid) == {A, B}
    assert paid[A]["paid"] == 1000 and paid[A]["amount_draft"] == 0 and "不追回" in paid[A]["change"]
    assert paid[B]["amount_draft"] == 1200 and "补发差额" in paid[B]["change"]
    assert ledger.read_bytes() == before  # compare records nothing


def test_two_policies_are_needed(tmp_path: Path) -> None:
    res = runner.invoke(app, ["compare", str(_data(tmp_path)), "--policy", "gx-2018"])
    assert res.exit_code == 2
    assert "请给出两个策略" in res.output


def test_two_policies_of_one_group_in_the_same_month(tmp_path: Path) -> None:
    """SPEC §4.3 exclusive_group: the second policy run for a month sees the first one's payouts of that
    month — a duplicate, never a second payment (and never a refused batch)."""
    data = _data(tmp_path)
    shop, park = tmp_path / "车间.toml", tmp_path / "园区.toml"
    shop.write_text(policy_text(name="shop", exclusive_group="同组"), encoding="utf-8")
    park.write_text(policy_text({"amount": 1500}, name="park", exclusive_group="同组"), encoding="utf-8")
    region = load_region()
    ds = load_dataset([data], region=region)
    with Ledger.open(tmp_path / "账本.sqlite3", create=True) as led:
        with led.lock():
            first = settle(ds, region=region, policy=load_policy(str(shop)), month=month("2018-12"), ledger=led,
                           commit=True, first_run=True)
        with led.lock():
            second = settle(ds, region=region, policy=load_policy(str(park)), month=month("2018-12"), ledger=led,
                            commit=True)
        paid = led.paid()
    assert first.recorded == 2 and second.recorded == 0 and second.batch_created
    assert set(second.decisions["status"]) <= {"duplicate", "contract_type"}
    assert sorted(paid["policy"]) == ["shop", "shop"] and paid["id_number"].is_unique
