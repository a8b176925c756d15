"""Figures that agree (SPEC §6.2) and times and names a clerk can read (issue #11 items 11–14)."""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from typer.testing import CliRunner

from fupin_cli.cli import app
from fupin_cli.cli import common as cli_common
from test_cli_payout import build

runner = CliRunner()
KEYS = ("workshops", "employed", "poor", "relocated", "eligible", "paid_people", "paid_amount", "paid_workshops")


def build_withdrawn(tmp: Path) -> Path:
    """build()'s data with W2 (田东) withdrawn in 2018-10, after it paid B and E.

    B also works in W1 (田阳): one person counted in two counties."""
    path = build(tmp)
    wb = openpyxl.load_workbook(path)
    ws = wb["车间"]
    ws.cell(2, ws.max_column + 1, "撤销日期")
    col = ws.max_column
    for r in range(3, ws.max_row + 1):
        if ws.cell(r, 1).value == "W2":
            ws.cell(r, col, date(2018, 10, 1))
    wb.save(path)
    return path


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_withdrawn(tmp_path_factory.mktemp("figures"))


def _invoke(*args: str | Path):
    res = runner.invoke(app, [str(a) for a in args])
    assert res.exit_code == 0, res.output
    return res.stdout


def test_stats_figures_agree_terminal_xlsx_paragraph_json(data: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_common.console, "width", 120)
    doc = json.loads(_invoke("stats", data, "--month", "2018-12", "--json"))
    out = tmp_path / "统计.xlsx"
    text = _invoke("stats", data, "--month", "2018-12", "--output", out)
    paragraph = _invoke("stats", data, "--month", "2018-12", "--text").strip()
    rows = [*doc["counties"], doc["total"]]

    # JSON: 认定车间数 drops the withdrawn W2, 兑现车间数 keeps it (paid before withdrawal).
    assert doc["total"]["workshops"] == 1 and doc["total"]["paid_workshops"] == 2
    assert doc["paid_withdrawn_workshops"] == 1

    # Terminal: each row's figures are the JSON's.
    for r in rows:
        line = next(ln for ln in text.splitlines() if ln.startswith(r["county"]))
        assert line.split()[1:] == [str(r[k]) if k != "paid_amount" else f"{r[k]:,.2f}" for k in KEYS]

    # Workbook: the same figures, the total row included.
    ws = openpyxl.load_workbook(out)["统计表"]
    values = [[c.value for c in row] for row in ws.iter_rows()]
    header = values[1]
    cols = [header.index(h) for h in ("认定车间数", "带动就业人数", "其中贫困劳动力", "其中易地搬迁", "达标人数",
                                      "已兑现人数", "已兑现金额", "兑现车间数")]
    by_county = {v[0]: [v[j] for j in cols] for v in values[2:] if v[0]}
    for r in rows:
        name = "合计" if r is doc["total"] else r["county"]
        assert by_county[name] == pytest.approx([r[k] for k in KEYS])

    # Paragraph: the total's figures, and why 认定 and 兑现 workshop counts differ.
    t = doc["total"]
    assert f"认定就业扶贫车间{t['workshops']}家" in paragraph
    assert f"带动劳动力就业{t['employed']}人" in paragraph and f"其中贫困劳动力{t['poor']}人" in paragraph
    assert f"补贴{t['paid_people']}人" in paragraph and f"涉及扶贫车间{t['paid_workshops']}家" in paragraph
    assert "1家已撤销认定" in paragraph

    # A footnote says why 兑现车间数 exceeds 认定车间数, in the terminal and the workbook.
    notes = [v[0] for v in values if isinstance(v[0], str) and v[0].startswith("注:")]
    assert any("已撤销认定的车间1家" in n for n in notes) and "已撤销认定的车间1家" in text


def test_footnote_when_a_person_counts_in_two_counties(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_common.console, "width", 120)
    data = build(tmp_path)  # B works in W1 (田阳) and W2 (田东)
    doc = json.loads(_invoke("stats", data, "--month", "2018-12", "--json"))
    assert sum(r["employed"] for r in doc["counties"]) == doc["total"]["employed"] + 1
    assert doc["multi_county_people"] == 1
    assert "田阳县" in [r["county"] for r in doc["counties"]]  # the name in force in 2018-12, as on the roster
    out = tmp_path / "统计.xlsx"
    text = _invoke("stats", data, "--month", "2018-12", "--output", out)
    assert "1人在两个及以上县" in text
    values = [[c.value for c in row] for row in openpyxl.load_workbook(out)["统计表"].iter_rows()]
    assert any(isinstance(v[0], str) and "1人在两个及以上县" in v[0] for v in values)


def test_no_footnote_when_figures_add_up(tmp_path: Path) -> None:
    path = build(tmp_path)
    wb = openpyxl.load_workbook(path)
    lab = wb["人员"]
    for r in range(2, lab.max_row + 1):  # B only in W2: nobody in two counties
        if lab.cell(r, 3).value == "W1" and lab.cell(r, 2).value == "韦海燕":
            lab.delete_rows(r)
            break
    wb.save(path)
    text = _invoke("stats", path, "--month", "2018-12")
    assert "注:" not in text and "已撤销" not in text


def _commit(data: Path, ledger: Path, month: str) -> None:
    res = runner.invoke(app, ["payout", str(data), "--month", month, "--commit", "--ledger", str(ledger),
                               "--new-ledger", "--first-run"])
    assert res.exit_code == 0, res.output


def test_ledger_times_local_with_offset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = build(tmp_path)
    ledger = tmp_path / "账本.sqlite3"
    monkeypatch.delenv("FUPIN_TZ", raising=False)
    _commit(data, ledger, "2018-12")
    stored = sqlite3.connect(ledger).execute("SELECT created_at FROM batches").fetchone()[0]
    assert stored.endswith("+08:00")  # Asia/Shanghai, whatever the server's zone
    shown = re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", _invoke("ledger", "list", "--ledger", ledger)).group(0)
    now = datetime.now(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None)
    assert abs(datetime.strptime(shown, "%Y-%m-%d %H:%M") - now) < timedelta(minutes=5)
    monkeypatch.setenv("FUPIN_TZ", "UTC")  # configured otherwise: shown in that zone
    shown_utc = re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", _invoke("ledger", "list", "--ledger", ledger)).group(0)
    diff = datetime.strptime(shown, "%Y-%m-%d %H:%M") - datetime.strptime(shown_utc, "%Y-%m-%d %H:%M")
    assert diff == timedelta(hours=8)


def test_ledger_list_names_and_export_in_chinese_paths_absolute(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    data = build(tmp_path / "数据" if (tmp_path / "数据").mkdir() is None else tmp_path)
    ledger = tmp_path / "账本.sqlite3"
    monkeypatch.chdir(tmp_path / "数据")
    res = runner.invoke(app, ["payout", "data.xlsx", "--month", "2018-12", "--county", "田东县", "--commit",
                              "--ledger", str(ledger), "--new-ledger", "--first-run"])
    assert res.exit_code == 0, res.output
    listing = _invoke("ledger", "list", "--ledger", ledger)
    assert "田东县" in listing and "451022" not in listing
    paths = [r[0] for r in sqlite3.connect(ledger).execute("SELECT path FROM batch_files")]
    assert paths == [str(data)] and Path(paths[0]).is_absolute()
    out = tmp_path / "导出.xlsx"
    res = runner.invoke(app, ["ledger", "export", str(out), "--ledger", str(ledger)])
    assert res.exit_code == 0, res.output
    values = [[c.value for c in row] for row in openpyxl.load_workbook(out)["批次"].iter_rows()]
    header = values[1]
    status = [v[header.index("状态")] for v in values[2:] if isinstance(v[0], int)]
    assert status == ["已登记"]
    stamp = [v[header.index("登记时间")] for v in values[2:] if isinstance(v[0], int)][0]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", stamp)
