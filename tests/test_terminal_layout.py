"""Terminal output designed for 80 columns, wider terminals using the space (issue #11).

Each command is rendered at 80 and 120 columns; every figure and ID of its JSON document must
appear whole in the text, and no line may be wider than the terminal.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from rich.cells import cell_len
from typer.testing import CliRunner

from fupin_cli.cli import app
from fupin_cli.cli import common as cli_common
from fupin_cli.cli.fit import Col, fit_table, wrap_text
from fupin_cli.problems import problem_title
from test_cli_payout import build
from xlsxfixtures import Fixture, write_messy

runner = CliRunner()
WIDTHS = (80, 120)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="module")
def messy(tmp_path_factory: pytest.TempPathFactory) -> Fixture:
    return write_messy(tmp_path_factory.mktemp("messy"))


def _run(monkeypatch: pytest.MonkeyPatch, width: int, *args: str | Path) -> tuple[str, dict]:
    monkeypatch.setattr(cli_common.console, "width", width)
    text = runner.invoke(app, [str(a) for a in args]).stdout
    doc = json.loads(runner.invoke(app, [str(a) for a in args] + ["--json"]).stdout)
    for line in text.splitlines():  # the stats paragraph is one line for pasting when not on a terminal
        assert cell_len(line.rstrip()) <= width or line.startswith("截至"), line
    return text, doc


def _whole(token: str, text: str) -> bool:
    """`token` appears in `text` not glued to other digits (so "1" is not found inside "12")."""
    return re.search(rf"(?<![\d,.]){re.escape(token)}(?![\d,.])", text) is not None


def _money(v: float) -> str:
    return f"{v:,.2f}"


@pytest.mark.parametrize("width", WIDTHS)
def test_stats_figures_whole(monkeypatch: pytest.MonkeyPatch, data: Path, width: int) -> None:
    text, doc = _run(monkeypatch, width, "stats", data, "--month", "2018-12")
    assert "…" not in text
    for row in [*doc["counties"], doc["total"]]:
        line = next(ln for ln in text.splitlines() if ln.startswith(row["county"]))
        figures = [str(row[k]) for k in ("workshops", "employed", "poor", "relocated", "eligible", "paid_people",
                                         "paid_workshops")]
        assert line.split()[1:] == [*figures[:6], _money(row["paid_amount"]), figures[6]]


def test_stats_short_labels_at_80_full_at_120(monkeypatch: pytest.MonkeyPatch, data: Path) -> None:
    narrow, _ = _run(monkeypatch, 80, "stats", data, "--month", "2018-12")
    wide, _ = _run(monkeypatch, 120, "stats", data, "--month", "2018-12")
    header = next(ln for ln in wide.splitlines() if ln.startswith("县(市、区)"))
    # No ledger: the paid columns are what the rules make payable (#9 item 18), as wide as 已兑现.
    assert "其中贫困劳动力" in header and "应兑现金额" in header
    table = narrow[:narrow.index("\n截至")]
    assert "其中贫困劳动力" not in table and "其中" in table and "已兑现\n" not in table


@pytest.mark.parametrize("width", WIDTHS)
def test_payout_one_line_per_person(monkeypatch: pytest.MonkeyPatch, data: Path, width: int) -> None:
    text, doc = _run(monkeypatch, width, "payout", data, "--month", "2018-12")
    assert doc["rows"]
    for r in doc["rows"]:
        lines = [ln for ln in text.splitlines() if r["id_number"] in ln]
        assert len(lines) == 1, (r["id_number"], text)
        assert r["name"] in lines[0] and _whole(_money(r["amount"]), lines[0]) and r["workshop_id"] in lines[0]
    assert _whole(_money(doc["amount"]), text)
    if width >= 120:
        assert all(_whole(_money(r["wages"]), text) for r in doc["rows"])


@pytest.mark.parametrize("width", WIDTHS)
def test_check_errors_first_titles_not_codes(monkeypatch: pytest.MonkeyPatch, messy: Fixture, width: int) -> None:
    text, doc = _run(monkeypatch, width, "check", *messy.paths)
    issues = doc["issues"]
    assert not any(i["code"] in text for i in issues), "English codes take no width"
    first_error = text.index("错误 ")
    assert first_error < text.index("警告 ") < text.index("读取情况") < text.index("说明:")
    lines = text.splitlines()
    for i in issues:
        assert i["value"] == "" or i["value"] in text, i["value"]
        if i["row"] is not None:  # the row number heads a table line, whole
            assert any(re.match(rf"\s*{i['row']}\s", ln) for ln in lines), i["row"]
    if width >= 120:
        assert problem_title("id.checksum") in text  # the Chinese title of id.checksum (catalogue)


def test_check_same_problem_in_many_columns_is_one_line(monkeypatch: pytest.MonkeyPatch, messy: Fixture) -> None:
    text, doc = _run(monkeypatch, 120, "check", *messy.paths)
    months = [i for i in doc["issues"] if i["code"] == "wage.outside_agreement"]
    assert len(months) > 1
    assert sum("不在劳务协议期内" in ln for ln in text.splitlines()) == 1


@pytest.mark.parametrize("width", WIDTHS)
def test_explain_figures_whole(monkeypatch: pytest.MonkeyPatch, data: Path, width: int) -> None:
    text, doc = _run(monkeypatch, width, "explain", data, "--id", "黄秀英", "--month", "2018-12")
    for p in doc["pairs"]:
        for ln in p["lines"]:
            line = next(x for x in text.splitlines() if re.match(rf"{ln['month']}\s+[\d,.]+\s", x))
            assert _whole(_money(ln["pay"]), line)
            if ln["wages"] is not None:
                assert _whole(_money(ln["wages"]), line)


def test_pipe_is_not_cut_to_80(tmp_path: Path, data: Path) -> None:
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    out = subprocess.run([sys.executable, "-m", "fupin_cli", "stats", str(data), "--month", "2018-12"],
                         capture_output=True, text=True, env=env, check=False).stdout
    assert any(ln.startswith("县(市、区)") and "其中贫困劳动力" in ln for ln in out.splitlines())  # full labels: a pipe gets a sane width, not rich's default 80


def test_wrap_never_breaks_inside_a_number() -> None:
    text = "重复的人员,共出现在:人员表第28行、人员表第1234行。请删除重复行"
    for width in range(8, 30):
        lines = wrap_text(text, width)
        assert "".join(lines) == text
        assert all(cell_len(ln) <= width for ln in lines)
        assert not any(a[-1:].isdigit() and b[:1].isdigit() for a, b in zip(lines, lines[1:], strict=False))


def test_no_layout_cuts_a_figure() -> None:
    cols = (Col("县(市、区)"), Col("已兑现金额(元)", "金额", right=True))
    rows = [["隆林各族自治县", "1,234,567.00"]]
    assert fit_table(cols, rows, 20) is None  # too narrow: the caller prints label:value blocks instead
    assert fit_table(cols, rows, 40) is not None
