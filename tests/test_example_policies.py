"""The example policies of examples/policies/ run end to end (payout, stats, explain) on a small
workbook whose laborers exercise what each policy adds (SPEC §4.3)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from fupin_cli.cli import app
from xlsxfixtures import make_id

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "policies"
runner = CliRunner()


def _workbook(tmp: Path, year: int, people: list[tuple]) -> Path:
    """people: (id, name, workshop, 人员类别, start, monthly pay, months worked from January)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "车间"
    ws.append(["车间编号", "车间名称", "经营主体", "主体类型", "县(市、区)", "认定日期"])
    ws.append(["W1", "甲车间", "甲公司", "企业", "田阳区", date(year - 1, 6, 1)])
    ws.append(["W2", "乙车间", "乙公司", "企业", "田东县", date(year - 1, 6, 1)])
    lab = wb.create_sheet("人员")
    lab.append(["身份证号", "姓名", "车间编号", "人员类别", "协议类型", "协议起始日期"])
    pay = wb.create_sheet("工资")
    pay.append(["身份证号", "车间编号", "月份", "实发工资"])
    for pid, name, w, cat, start, amount, n in people:
        lab.append([pid, name, w, cat, "劳务协议", start])
        for m in range(1, n + 1):
            pay.append([pid, w, f"{year}-{m:02d}", amount])
    path = tmp / "数据.xlsx"
    wb.save(path)
    return path


def _run(*args: str) -> dict:
    res = runner.invoke(app, [*args, "--json"] + ([] if args[0] == "stats" else ["--show-id"]))
    assert res.exit_code in (0, 1), res.output
    return json.loads(res.stdout)


def test_jilin_2018(tmp_path: Path) -> None:
    policy = str(EXAMPLES / "jilin-2018.toml")
    ids = [make_id(b, i) for i, b in enumerate(["19800101", "19620101", "19900101", "19910101", "19920101",
                                                "19930101"], start=1)]
    female_57 = make_id("19620101", 2)  # seq 2: even 17th digit = 女, 57 at the start in 2019
    people = [(ids[0], "甲", "W1", "建档立卡", date(2019, 1, 1), 1600, 6),
              (female_57, "乙", "W1", "建档立卡", date(2019, 1, 1), 1600, 6),
              (ids[2], "丙", "W1", "建档立卡", date(2019, 1, 1), 1500, 12),  # below 1550 every month
              (ids[3], "丁", "W1", "建档立卡", date(2019, 1, 1), 1600, 3),
              (ids[4], "戊", "W1", "建档立卡", date(2019, 1, 1), 1600, 3),
              (ids[5], "己", "W2", "建档立卡", date(2019, 1, 1), 1600, 6)]  # W2 has 1 target laborer
    data = _workbook(tmp_path, 2019, people)
    elig = {(r["id_number"], r["workshop_id"]): r for r in
            _run("eligibility", str(data), "--month", "2019-12", "--policy", policy)["rows"]}
    assert elig[(ids[0], "W1")]["status"] == "eligible"
    assert elig[(female_57, "W1")]["status"] == "age" and "女性55周岁" in elig[(female_57, "W1")]["reason"]
    assert elig[(ids[2], "W1")]["status"] == "short"  # 12 months of 1500元: none reaches the floor
    assert elig[(ids[5], "W2")]["status"] == "workshop_gate"
    doc = _run("payout", str(data), "--month", "2019-12", "--policy", policy)
    assert [(r["id_number"], r["amount"], r["period"]) for r in doc["rows"]] == [(ids[0], 1000, None)]
    ex = _run("explain", str(data), "--id", ids[2], "--month", "2019-12", "--policy", policy)
    assert "低于每月工资下限1,550元,不计" in ex["pairs"][0]["lines"][0]["note"]
    stats = _run("stats", str(data), "--month", "2019-12", "--policy", policy)
    assert stats["total"]["eligible"] == 1 and stats["total"]["poor"] == 6


def test_wushan_2022(tmp_path: Path) -> None:
    policy = str(EXAMPLES / "wushan-2022.toml")
    a, b, c = (make_id(f"198{i}0101", i) for i in range(1, 4))
    people = [(a, "甲", "W1", "脱贫户", date(2022, 1, 1), 1000, 6),
              (b, "乙", "W1", "建档立卡", date(2022, 1, 1), 1000, 6),   # not a 脱贫人口 under this policy
              (c, "丙", "W2", "脱贫人口", date(2022, 1, 1), 1000, 5)]
    data = _workbook(tmp_path, 2022, people)
    doc = _run("payout", str(data), "--month", "2022-12", "--policy", policy)
    assert [(r["id_number"], r["amount"]) for r in doc["rows"]] == [(a, 3000)]
    elig = {r["id_number"]: r for r in _run("eligibility", str(data), "--month", "2022-12", "--policy", policy)["rows"]}
    assert elig[b]["status"] == "not_poor" and "不属于脱贫人口(本政策的脱贫劳动力)" in elig[b]["reason"]
    assert elig[c]["status"] == "short"  # 5 months in the 12-month window (2022-01…2022-12)
    ex = _run("explain", str(data), "--id", a, "--month", "2022-12", "--policy", policy)
    assert "可获一次性吸纳就业奖补3,000元" in ex["pairs"][0]["decision"]


# Each example policy also runs unattended: `fupin batch` records its batch under the policy's name,
# and the city roster it writes holds exactly the people the payout preview of that month listed.
BATCH_CASES = {
    "jilin-2018.toml": (2019, "2019-12", [("19800101", 1, "W1", 1600, 6), ("19810101", 3, "W1", 1600, 6),
                                          ("19820101", 5, "W1", 1600, 6), ("19830101", 7, "W1", 1600, 6),
                                          ("19840101", 9, "W1", 1600, 6), ("19850101", 11, "W2", 1600, 6)]),
    "wushan-2022.toml": (2022, "2022-12", [("19800101", 1, "W1", 1000, 6), ("19810101", 3, "W2", 1000, 5)]),
    "fengxin-2023.toml": (2023, "2023-12", [("19800101", 1, "W1", 1000, 6), ("19810101", 3, "W1", 1000, 4)]),
    "fengxin-2023-park.toml": (2023, "2023-12", [("19800101", 1, "W1", 1000, 6)]),
}


@pytest.mark.parametrize("policy_file", sorted(BATCH_CASES))
def test_example_policy_runs_as_a_batch(policy_file: str, tmp_path: Path) -> None:
    year, _, specs = BATCH_CASES[policy_file]
    month = f"{year}-{max(n for *_, n in specs):02d}"  # the last month with pay: a later one is refused
    policy = EXAMPLES / policy_file
    category = "建档立卡" if policy_file.startswith("jilin") else "脱贫人口"
    people = [(make_id(b, s), f"人{s}", w, category, date(year, 1, 1), pay, n) for b, s, w, pay, n in specs]
    (tmp_path / "in").mkdir()
    data = _workbook(tmp_path / "in", year, people)
    preview = _run("payout", str(data), "--month", month, "--policy", str(policy))
    assert preview["people"] >= 1
    ledger = tmp_path / "账本.sqlite3"
    assert runner.invoke(app, ["ledger", "init", str(ledger)]).exit_code == 0
    cfg = tmp_path / "fupin.toml"
    cfg.write_text(f'input = "in"\noutput = "out"\nledger = "{ledger.name}"\npolicy = "{policy.as_posix()}"\n',
                   encoding="utf-8")
    res = runner.invoke(app, ["batch", "--config", str(cfg), "--month", month, "--first-run"])
    assert res.exit_code in (0, 1), res.output
    listed = json.loads(runner.invoke(app, ["ledger", "list", "--ledger", str(ledger), "--json"]).stdout)
    batches = listed["batches"] if isinstance(listed, dict) else listed
    assert [(b["month"], b["people"]) for b in batches] == [(month, preview["people"])]
    assert preview["policy"].startswith(batches[0]["policy"])  # the ledger keeps the policy's short name
    city = next((tmp_path / "out" / month).glob("花名册_全市*.xlsx"))
    ws = openpyxl.load_workbook(city, read_only=True)["奖补名单"]
    ids = {c for row in ws.iter_rows(values_only=True) for c in row if isinstance(c, str) and len(c) == 18 and c[:17].isdigit()}
    assert ids == {r["id_number"] for r in preview["rows"]}
