"""The demo reproduces the seed report through the real pipeline (issue: stats, report paragraph, demo).

Generate → read → validate → commit every month from the data's first month to 2019-02 →
`fupin stats --json`. Nothing here knows the figures except the assertions.
"""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from fupin_cli.cli import app
from fupin_cli.demo import write_demo
from fupin_cli.ledger import Ledger
from fupin_cli.loading import load_dataset
from fupin_cli.months import month_index
from fupin_cli.policy import load_policy
from fupin_cli.region import load_region
from fupin_cli.settlement import settle

runner = CliRunner()


@pytest.fixture(scope="module")
def committed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict]:
    root = tmp_path_factory.mktemp("demo")
    data = root / "演示数据"
    write_demo(data)
    region, policy = load_region(), load_policy()
    ds = load_dataset([data], region=region)
    first = int(ds.wages["month"].min())
    ledger_path = root / "账本.sqlite3"
    tianyang = {}
    with Ledger.open(ledger_path, create=True) as led:
        for m in range(first, month_index(2019, 2) + 1):
            with led.lock():
                settle(ds, region=region, policy=policy, month=m, ledger=led, commit=True)
            if m == month_index(2018, 5):
                paid = led.paid()
                ty = paid.loc[paid["county_code"] == region.resolve("田阳县").code]
                tianyang = {"people": ty["id_number"].nunique(), "workshops": ty["workshop_id"].nunique(),
                            "amount": float(ty["amount"].sum())}
    return data, ledger_path, {"first": first, "tianyang": tianyang, "errors": ds.errors}


def test_demo_reproduces_seed_figures(committed: tuple[Path, Path, dict]) -> None:
    data, ledger_path, info = committed
    assert info["first"] == month_index(2017, 9)
    res = runner.invoke(app, ["stats", str(data), "--month", "2019-02", "--ledger", str(ledger_path), "--json"])
    assert res.exit_code in (0, 1), res.output
    total = json.loads(res.stdout)["total"]
    assert total["workshops"] == 132
    assert total["employed"] == 13007
    assert total["poor"] == 2572
    assert total["paid_people"] == 323
    assert total["paid_amount"] == 323000
    assert info["tianyang"] == {"people": 103, "workshops": 7, "amount": 103000.0}


def test_demo_has_planted_mistakes_and_seed_names(committed: tuple[Path, Path, dict]) -> None:
    data, _, info = committed
    assert info["errors"] > 0  # `check` has something to report
    res = runner.invoke(app, ["check", str(data), "--json"])
    assert res.exit_code == 1
    doc = json.loads(res.stdout)
    assert doc["errors"] == info["errors"] and doc["issues"]
    names = []
    for f in sorted(data.glob("*.xlsx")):
        wb = openpyxl.load_workbook(f, read_only=True)
        for ws in wb.worksheets:
            for row in ws.iter_rows(values_only=True):
                names.extend(str(v) for v in row if isinstance(v, str))
        wb.close()
    text = "\n".join(names)
    assert "平果县坡造镇龙板村巾帼脱贫示范基地电子厂" in text
    assert "右江区汪甸瑶族乡美达电子厂" in text


def test_stats_text_and_workbook(committed: tuple[Path, Path, dict], tmp_path: Path) -> None:
    data, ledger_path, _ = committed
    out = tmp_path / "统计.xlsx"
    res = runner.invoke(app, ["stats", str(data), "--month", "2019-02", "--ledger", str(ledger_path), "--text",
                              "--output", str(out)])
    assert res.exit_code in (0, 1), res.output
    assert "截至2019年2月底,全市认定就业扶贫车间132家,带动劳动力就业13007人,其中贫困劳动力2572人" in res.stdout
    assert "共计兑现扶贫车间补贴32.3万元,补贴323人" in res.stdout
    wb = openpyxl.load_workbook(out)
    ws = wb.worksheets[0]
    assert ws._charts, "the stats sheet has a native chart"
    rows = list(ws.iter_rows(values_only=True))
    total = next(r for r in rows if r and "合计" in [str(v) for v in r if v is not None])
    nums = [v for v in total if isinstance(v, int | float)]
    assert 132 in nums and 13007 in nums and 2572 in nums and 323 in nums and 323000 in nums
    # the monthly sheet has its chart too
    assert any(s._charts for s in wb.worksheets[1:])
