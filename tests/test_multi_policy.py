"""Several policies in one run (SPEC §4.3, last paragraph): `payout --policy A --policy B`. Each policy
has its own batch and roster file; within an exclusive group the earlier policy in the list wins,
previewed or committed; policies of different groups both pay."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from fupin_cli.cli import app
from fupin_cli.ledger import Ledger
from ruleutil import policy_text
from xlsxfixtures import ID, write_clean

runner = CliRunner()


@pytest.fixture()
def data(tmp_path: Path) -> Path:
    """The clean workbook (3 laborers qualifying in 2018-08) plus one on a 劳动合同 (only B counts it)."""
    path = write_clean(tmp_path / "田东县.xlsx")
    wb = openpyxl.load_workbook(path)
    wb["人员"].append([ID["p4"], "农四", "TD002", "是", "劳动合同", "2018-03-01"])
    for m in range(3, 10):
        wb["工资"].append([ID["p4"], "TD002", f"2018-{m:02d}", 1100])
    wb.save(path)
    return path


def _policy(folder: Path, name: str, group: str, **params: object) -> str:
    path = folder / f"{name}.toml"
    path.write_text(policy_text(params or None, name=name, exclusive_group=group), encoding="utf-8")
    return str(path)


@pytest.fixture()
def pols(tmp_path: Path) -> dict[str, str]:
    return {"A": _policy(tmp_path, "pol-a", "g"),
            "B": _policy(tmp_path, "pol-b", "g", amount=1500, contract_types=["劳务协议", "承揽合同", "劳动合同"]),
            "C": _policy(tmp_path, "pol-c", "other", amount=500)}


def _payout(data: Path, *args: str) -> dict:
    res = runner.invoke(app, ["payout", str(data), "--month", "2018-09", "--json", "--show-id", *args])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def _ids(doc: dict) -> set[str]:
    return {r["id_number"] for r in doc["rows"]}


def test_the_earlier_policy_of_a_group_wins_in_a_preview(data: Path, pols: dict[str, str]) -> None:
    a, b = _payout(data, "--policy", pols["A"], "--policy", pols["B"])["policies"]
    assert a["policy"].startswith("pol-a") and b["policy"].startswith("pol-b")
    assert _ids(a) == {ID["p1"], ID["p2"], ID["p6"]} and a["amount"] == 3000
    assert _ids(b) == {ID["p4"]} and b["amount"] == 1500  # the others are paid under A this month
    b, a = _payout(data, "--policy", pols["B"], "--policy", pols["A"])["policies"]
    assert _ids(b) == {ID["p1"], ID["p2"], ID["p6"], ID["p4"]} and b["amount"] == 6000
    assert a["people"] == 0 and a["rows"] == []


def test_policies_of_different_groups_both_pay(data: Path, pols: dict[str, str]) -> None:
    a, c = _payout(data, "--policy", pols["A"], "--policy", pols["C"])["policies"]
    assert _ids(a) == _ids(c) == {ID["p1"], ID["p2"], ID["p6"]} and c["amount"] == 1500
    # Committed too: A's batch of the month does not hold C's people back ("已在第N批登记" is per policy).
    ledger = data.parent / "账本.db"
    a, c = _payout(data, "--policy", pols["A"], "--policy", pols["C"], "--ledger", str(ledger), "--commit",
                   "--new-ledger", "--first-run")["policies"]
    assert [d["batch"]["recorded"] for d in (a, c)] == [3, 3] and c["already_recorded"] == []


def test_one_policy_keeps_the_single_document(data: Path, pols: dict[str, str]) -> None:
    doc = _payout(data, "--policy", pols["A"])
    assert "policies" not in doc and doc["people"] == 3


def test_commit_records_a_batch_and_a_roster_per_policy(data: Path, pols: dict[str, str], tmp_path: Path) -> None:
    ledger, out = tmp_path / "账本.db", tmp_path / "花名册.xlsx"
    args = ["--policy", pols["A"], "--policy", pols["B"], "--ledger", str(ledger), "--commit", "--output", str(out),
            "--new-ledger", "--first-run"]
    first = _payout(data, *args)["policies"]
    assert [d["batch"]["recorded"] for d in first] == [3, 1]
    with Ledger.open_existing(ledger, hint="") as led:
        batches = led.batches()
        paid = led.paid()
    assert batches["policy"].tolist() == ["pol-a", "pol-b"]
    assert sorted(paid.loc[paid["policy"] == "pol-b", "id_number"]) == [ID["p4"]]
    for name, people in (("pol-a", 3), ("pol-b", 1)):
        wb = openpyxl.load_workbook(tmp_path / f"花名册_{name}.xlsx", read_only=True)
        ids = [v for r in wb["奖补名单"].iter_rows(values_only=True) for v in r if v in ID.values()]
        wb.close()
        assert len(ids) == people
    assert not out.exists()
    # Run again: both batches are reprinted, nothing is recorded twice.
    again = _payout(data, *args)["policies"]
    assert [d["batch"]["recorded"] for d in again] == [0, 0]
    assert [_ids(d) for d in again] == [_ids(d) for d in first]
    # Next month: nobody is paid again under either policy of the group, and no audit for A's people.
    nxt = json.loads(runner.invoke(app, ["payout", str(data), "--month", "2018-10", "--json", "--show-id",
                                         "--policy", pols["B"], "--policy", pols["A"], "--ledger", str(ledger)]).stdout)
    assert [d["people"] for d in nxt["policies"]] == [0, 0]
    assert [d["audit"] for d in nxt["policies"]] == [[], []]


def test_the_same_policy_twice_is_refused(data: Path, pols: dict[str, str]) -> None:
    res = runner.invoke(app, ["payout", str(data), "--month", "2018-09", "--policy", pols["A"], "--policy", pols["A"]])
    assert res.exit_code == 2 and "不止一次" in res.output


def _batch_config(root: Path, data: Path, **keys: object) -> Path:
    (root / "数据").mkdir()
    data.rename(root / "数据" / data.name)
    lines = ['input = "数据"', 'output = "输出"', 'ledger = "账本.db"']
    lines += [f"{k} = {json.dumps(v, ensure_ascii=False)}" for k, v in keys.items()]
    path = root / "fupin.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_batch_config_policies(data: Path, pols: dict[str, str], tmp_path: Path) -> None:
    """`policies = [...]` in the batch config: a batch per policy, roster files per policy (suffix
    _政策名), the earlier policy of a group wins; summary.json holds one document per policy."""
    root = tmp_path / "run"
    root.mkdir()
    conf = _batch_config(root, data, policies=[pols["A"], pols["B"], pols["C"]])
    res = runner.invoke(app, ["batch", "--config", str(conf), "--month", "2018-09", "--json", "--new-ledger",
                              "--first-run"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert [d["policy"]["name"] for d in doc["policies"]] == ["pol-a", "pol-b", "pol-c"]
    assert [d["people"] for d in doc["policies"]] == [3, 1, 3]
    assert [d["amount"] for d in doc["policies"]] == [3000, 1500, 1500]
    folder = root / "输出" / "2018-09"
    names = {p.name for p in folder.iterdir()}
    for name in ("pol-a", "pol-b", "pol-c"):
        assert f"花名册_全市_2018-09_{name}.xlsx" in names and f"花名册_田东县_2018-09_{name}.xlsx" in names
    assert "数据问题_2018-09.xlsx" in names and "花名册_全市_2018-09.xlsx" not in names
    with Ledger.open_existing(root / "账本.db", hint="") as led:
        assert led.batches()["policy"].tolist() == ["pol-a", "pol-b", "pol-c"]
    # Re-run: nothing recorded twice; the terminal shows one block per policy.
    res = runner.invoke(app, ["batch", "--config", str(conf), "--month", "2018-09"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert res.stdout.count("已存在,本次未重复登记") == 3 and "政策:pol-b" in res.stdout


def test_batch_config_policy_and_policies_is_refused(data: Path, pols: dict[str, str], tmp_path: Path) -> None:
    root = tmp_path / "run"
    root.mkdir()
    conf = _batch_config(root, data, policy=pols["A"], policies=[pols["B"]])
    res = runner.invoke(app, ["batch", "--config", str(conf), "--month", "2018-09"])
    assert res.exit_code == 2 and "policy 和 policies 只能写一个" in res.output
