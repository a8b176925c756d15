"""Status filters in Chinese and a progress display that says what it counts (issue #11 items 5, 6)."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from fupin_cli.cli import app
from fupin_cli.cli import common as cli_common
from fupin_cli.commands.batch import run_batch
from fupin_cli.config import load_config
from fupin_cli.months import month_index
from test_batch import setup
from test_cli_payout import build

runner = CliRunner()


@pytest.mark.parametrize("status", ["未满期", "pending", " 未满期 "])
def test_eligibility_status_accepts_chinese_labels(tmp_path: Path, status: str) -> None:
    data = build(tmp_path)
    res = runner.invoke(app, ["eligibility", str(data), "--month", "2018-12", "--status", status, "--json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)["rows"]
    assert rows and {r["status"] for r in rows} == {"pending"}


def test_eligibility_unknown_status_lists_chinese_labels(tmp_path: Path) -> None:
    res = runner.invoke(app, ["eligibility", str(build(tmp_path)), "--month", "2018-12", "--status", "未知"])
    assert res.exit_code == 2
    assert "不认识的状态:未知" in res.output and "未满期(pending)" in res.output


def test_progress_names_stage_and_unit(monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()
    monkeypatch.setattr(cli_common, "err_console", Console(file=out, force_terminal=True, width=100))
    with cli_common.LazyProgress(delay=0) as prog:
        time.sleep(0.2)
        prog("读取 数据.xlsx:工资", 2, 3)
        time.sleep(0.3)
    text = out.getvalue()
    assert "读取 数据.xlsx:工资" in text and "工作表 2/3 个" in text


def test_progress_before_the_sheets_are_counted_shows_no_count(monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()
    monkeypatch.setattr(cli_common, "err_console", Console(file=out, force_terminal=True, width=100))
    with cli_common.LazyProgress(delay=0):
        time.sleep(0.3)
    text = out.getvalue()
    assert "读取输入文件" in text and "None" not in text and "工作表 0/" not in text


def test_batch_reports_its_stages(tmp_path: Path) -> None:
    cfg = load_config(setup(tmp_path, lock_timeout=0.5))
    seen: list[tuple[str, int, int]] = []
    res = run_batch(cfg, month_index(2018, 8), progress=lambda s, d, t: seen.append((s, d, t)))
    assert res.exit_code == 0
    stages = [s for s, _, _ in seen]
    assert any(s.startswith("读取 ") for s in stages) and "检查数据" in stages
    assert stages.index("检查数据") < stages.index("核定奖补、登记账本") < stages.index("写出花名册、统计表和数据问题清单")
    assert all(0 <= d <= t for _, d, t in seen)


def test_batch_command_shows_progress_only_on_a_terminal(tmp_path: Path) -> None:
    conf = setup(tmp_path, lock_timeout=0.5)
    res = runner.invoke(app, ["batch", "--config", str(conf), "--month", "2018-08"])
    assert res.exit_code == 0, res.output
    assert "工作表" not in res.stderr  # cron and pipes: no progress lines
