"""Help and usage errors entirely in Chinese (SPEC §1, §7; issue #11 item 4)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fupin_cli.cli import app

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]
COMMANDS = ["check", "template", "payout", "eligibility", "explain", "stats", "batch", "demo", "ledger",
            "ledger list", "ledger show", "ledger export"]
ENGLISH = ["Usage", "Options", "Arguments", "Commands", "[required]", "[default", "<list[Path]>", "<bool>",
           "<str>", "<path>", "<float>", "<int>", "[OPTIONS]", "COMMAND", "Show this message"]
WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def _help(*args: str, width: int = 80) -> str:
    res = runner.invoke(app, [*args, "--help"], env={"COLUMNS": str(width)}, terminal_width=width)
    assert res.exit_code == 0, res.output
    return res.stdout


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_help_chrome_is_chinese(command: str) -> None:
    text = _help(*command.split())
    for word in ENGLISH:
        assert word not in text, (command, word)
    assert "用法:fupin" in text and "选项" in text
    assert not re.search(r"[^…]… *│", text), text  # help text folds at 80 columns, never cut with "…"


def test_required_default_and_placeholders_in_chinese() -> None:
    text = _help("payout", width=120)
    assert "参数" in text and "[必填]" in text and "[默认:30.0]" in text
    assert "年-月" in text and "文件或文件夹" in text


def test_defaults_are_explained() -> None:
    text = _help("payout", width=200)
    assert "最后一个完整月份" in text  # --month left out
    assert "FUPIN_LEDGER" in text and "ledger.sqlite3" in text  # --ledger left out


def _checksum_ok(id_number: str) -> bool:
    body = id_number[:17]
    return "10X98765432"[sum(int(c) * w for c, w in zip(body, WEIGHTS, strict=True)) % 11] == id_number[17]


def test_example_ids_pass_their_checksum() -> None:
    texts = [_help(*c.split(), width=200) for c in COMMANDS] + [(ROOT / "README.md").read_text(encoding="utf-8")]
    ids = {m for t in texts for m in re.findall(r"(?<!\d)\d{17}[\dX](?!\d)", t)}
    assert ids, "the help shows an example ID"
    assert all(_checksum_ok(i) for i in ids), ids


def _main(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "80"}
    return subprocess.run([sys.executable, "-m", "fupin_cli", *args], capture_output=True, text=True, env=env,
                          check=False)


def test_unknown_command_in_chinese() -> None:
    res = _main("chek")
    assert res.returncode == 2
    assert "没有“chek”这个命令" in res.stderr and "check" in res.stderr
    assert "No such command" not in res.stderr and "Did you mean" not in res.stderr


def test_missing_argument_in_chinese() -> None:
    res = _main("check")
    assert res.returncode == 2
    assert "缺少参数:文件或文件夹" in res.stderr and "paths" not in res.stderr
    res = _main("explain", "x.xlsx")
    assert res.returncode == 2 and "缺少选项:--id" in res.stderr
