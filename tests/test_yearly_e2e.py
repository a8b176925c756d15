"""Yearly recurrence end to end (SPEC §4.3): generated workbook → monthly commits over two years →
ledger → stats, with the 奉新县 example policy (1200元 per person per calendar year)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from fupin_cli.cli import app
from fupin_cli.ledger import Ledger
from fupin_cli.loading import load_dataset
from fupin_cli.months import month_index
from fupin_cli.policy import load_policy
from fupin_cli.region import load_region
from fupin_cli.settlement import settle
from xlsxfixtures import make_id

POLICY = Path(__file__).resolve().parent.parent / "examples" / "policies" / "fengxin-2023.toml"
A, B, C, D, E = (make_id(f"19{80 + i}0101", i) for i in range(5))
runner = CliRunner()


def _months(y0: int, m0: int, y1: int, m1: int) -> list[str]:
    return [f"{y}-{m:02d}" for y in range(y0, y1 + 1) for m in range(1, 13)
            if (y, m) >= (y0, m0) and (y, m) <= (y1, m1)]


def _workbook(folder: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "车间"
    ws.append(["车间编号", "车间名称", "经营主体", "主体类型", "县(市、区)", "认定日期"])
    ws.append(["W1", "那坡镇帮扶车间", "田阳某公司", "企业", "田阳区", date(2022, 6, 1)])
    ws.append(["W2", "林逢镇帮扶车间", "田东某合作社", "农民专业合作社", "田东县", date(2022, 6, 1)])
    lab = wb.create_sheet("人员")
    lab.append(["身份证号", "姓名", "车间编号", "人员类别", "协议类型", "协议起始日期", "协议终止日期"])
    people = [  # (id, name, workshop, 人员类别, start, end, pay months)
        (A, "韦一", "W1", "脱贫户", date(2023, 1, 1), None, _months(2023, 1, 2024, 12)),
        (B, "黄二", "W1", "监测对象", date(2023, 3, 1), date(2023, 12, 31), _months(2023, 3, 2023, 8)),
        (C, "农三", "W1", "脱贫人口", date(2023, 1, 1), date(2023, 12, 31), _months(2023, 1, 2023, 12)),
        (C, "农三", "W2", "脱贫人口", date(2024, 1, 1), None, _months(2024, 1, 2024, 12)),
        (D, "陆四", "W2", "农村低收入人口", date(2023, 1, 1), None, _months(2023, 1, 2024, 12)),
        (E, "岑五", "W2", "脱贫人口", date(2023, 1, 1), None,
         _months(2023, 1, 2023, 5) + _months(2024, 1, 2024, 5)),
    ]
    pay = wb.create_sheet("工资")
    pay.append(["身份证号", "车间编号", "月份", "实发工资"])
    for pid, name, w, cat, start, end, months in people:
        lab.append([pid, name, w, cat, "劳务协议", start, end])
        for m in months:
            pay.append([pid, w, m, 1800])
    path = folder / "奉新县帮扶车间.xlsx"
    wb.save(path)
    return path


@pytest.fixture(scope="module")
def committed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict]:
    root = tmp_path_factory.mktemp("yearly")
    data = _workbook(root)
    region, policy = load_region(), load_policy(str(POLICY))
    ds = load_dataset([data], region=region)
    assert ds.errors == 0
    path = root / "账本.sqlite3"
    recorded = {}
    with Ledger.open(path, create=True) as led:
        for m in range(month_index(2023, 1), month_index(2024, 12) + 1):
            with led.lock():
                s = settle(ds, region=region, policy=policy, month=m, ledger=led, commit=True, first_run=True,
                           today=date(2025, 1, 1))
            recorded[m] = s.recorded
        with led.lock():  # committing the last month again records nothing new
            again = settle(ds, region=region, policy=policy, month=month_index(2024, 12), ledger=led, commit=True)
        paid = led.paid()
    return data, path, {"paid": paid, "recorded": recorded, "again": again}


def test_once_per_person_and_year_over_two_years(committed: tuple[Path, Path, dict]) -> None:
    _, _, info = committed
    paid = info["paid"]
    got = sorted(zip(paid["id_number"], paid["workshop_id"], paid["period"], paid["batch_month"], strict=True))
    assert got == sorted([
        (A, "W1", "2023", month_index(2023, 6)), (A, "W1", "2024", month_index(2024, 6)),
        (B, "W1", "2023", month_index(2023, 8)),
        (C, "W1", "2023", month_index(2023, 6)), (C, "W2", "2024", month_index(2024, 6)),
    ])
    assert not paid.duplicated(["id_number", "period"]).any()
    assert set(paid["policy"]) == {"fx-2023"} and (paid["amount"] == 1200).all()
    assert sum(info["recorded"].values()) == 5
    assert info["again"].batch_created is False and info["again"].recorded == 0


def test_payout_and_eligibility_json_carry_the_period(committed: tuple[Path, Path, dict]) -> None:
    data, ledger, _ = committed
    res = runner.invoke(app, ["payout", str(data), "--month", "2024-06", "--policy", str(POLICY),
                              "--ledger", str(ledger), "--json", "--show-id"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert sorted((r["id_number"], r["period"], r["amount"]) for r in doc["rows"]) == [
        (A, "2024", 1200), (C, "2024", 1200)]
    res = runner.invoke(app, ["eligibility", str(data), "--month", "2024-12", "--policy", str(POLICY),
                              "--ledger", str(ledger), "--json", "--show-id"])
    assert res.exit_code == 0, res.output
    rows = {(r["id_number"], r["workshop_id"], r["period"]): r for r in json.loads(res.stdout)["rows"]}
    assert rows[(A, "W1", "2023")]["status"] == "paid" and rows[(A, "W1", "2024")]["status"] == "paid"
    assert rows[(D, "W2", "2024")]["status"] == "not_poor"
    # 5 months a year: each calendar year closes short (as of 2024-12 the 2024 window is over too).
    assert rows[(E, "W2", "2023")]["status"] == "short" and rows[(E, "W2", "2024")]["status"] == "short"
    assert "不属于脱贫人口、防止返贫监测对象" in rows[(D, "W2", "2023")]["reason"]


def test_stats_from_the_ledger(committed: tuple[Path, Path, dict]) -> None:
    data, ledger, _ = committed
    res = runner.invoke(app, ["stats", str(data), "--month", "2024-12", "--policy", str(POLICY),
                              "--ledger", str(ledger), "--json"])
    assert res.exit_code == 0, res.output
    total = json.loads(res.stdout)["total"]
    assert total["paid_amount"] == 6000 and total["paid_people"] == 3 and total["workshops"] == 2


def test_outputs_use_the_policys_terms(committed: tuple[Path, Path, dict], tmp_path: Path) -> None:
    data, ledger, _ = committed
    out = tmp_path / "花名册.xlsx"
    res = runner.invoke(app, ["payout", str(data), "--month", "2024-06", "--policy", str(POLICY),
                              "--ledger", str(ledger), "--output", str(out)])
    assert res.exit_code == 0, res.output
    wb = openpyxl.load_workbook(out, read_only=True)
    titles = [next(ws.iter_rows(values_only=True))[0] for ws in wb.worksheets]
    wb.close()
    assert titles[0] == "百色市就业帮扶车间吸纳就业奖补资金发放花名册（2024年6月）"
    assert all("就业扶贫车间" not in t for t in titles)
    res = runner.invoke(app, ["stats", str(data), "--month", "2024-12", "--policy", str(POLICY),
                              "--ledger", str(ledger), "--text"])
    # 其中: laborers in the policy's categories (A, B, C, E; not D, 农村低收入人口).
    assert "认定就业帮扶车间2家,带动劳动力就业5人,其中脱贫人口(含防止返贫监测对象)4人" in res.stdout
    assert "兑现就业帮扶车间补贴6000元,补贴3人,涉及就业帮扶车间2家" in res.stdout
    res = runner.invoke(app, ["explain", str(data), "--id", A, "--month", "2024-06", "--policy", str(POLICY), "--json"])
    doc = json.loads(res.stdout)
    assert [p["period"] for p in doc["pairs"]] == ["2023", "2024"]
    assert "可获吸纳就业奖补1,200元" in doc["pairs"][1]["decision"]


def test_history_imported_under_a_yearly_policy_counts_for_its_year_only(tmp_path: Path) -> None:
    """A payment made before fupin in 2023 (`fupin ledger import`) is that year's entitlement: A is not
    paid again in 2023, and is paid for 2024 (SPEC §4.3, issue 9)."""
    data = _workbook(tmp_path)
    ledger = tmp_path / "账本.sqlite3"
    Ledger.init(ledger)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["序号", "身份证号", "姓名", "车间编号", "发放月份", "发放金额", "凭证号"])
    ws.append([1, A, "韦一", "W1", "2023年6月", "1,000元", "奉人社〔2023〕1号"])
    hist = tmp_path / "历史发放名单.xlsx"
    wb.save(hist)
    res = runner.invoke(app, ["ledger", "import", str(hist), "--ledger", str(ledger), "--policy", str(POLICY)])
    assert res.exit_code == 0, res.output
    region, policy = load_region(), load_policy(str(POLICY))
    ds = load_dataset([data], region=region)
    with Ledger.open(ledger) as led:
        for m in range(month_index(2023, 1), month_index(2024, 12) + 1):
            with led.lock():
                settle(ds, region=region, policy=policy, month=m, ledger=led, commit=True)
        paid = led.paid()
    mine = paid.loc[paid["id_number"] == A]
    assert sorted(mine["period"]) == ["2023", "2024"]
    assert mine.loc[mine["period"] == "2023", "batch_id"].tolist() == [1]  # the imported batch, not a new one
