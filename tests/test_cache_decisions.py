"""The rule's decisions are cached too (issue 13), keyed by everything they depend on.

A repeated `eligibility`, `stats` or `payout` on unchanged inputs reads the decisions back instead of
running the rule. A cached decision must never be stale: a payment recorded in the ledger, an
edited policy (same name, new amount) or another month is a different key, and the outputs are
those of a run without any cache.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fupin_cli.cli import app
from test_cache import MONTH, write_csv
from xlsxfixtures import ID

runner = CliRunner()
POLICY = Path(__file__).resolve().parents[1] / "src" / "fupin_cli" / "data" / "policies" / "gx-2018.toml"


def _run(*args: str) -> dict:
    res = runner.invoke(app, list(args))
    assert res.exit_code in (0, 1), res.output
    return json.loads(res.stdout)


def _log(caplog: pytest.LogCaptureFixture) -> list[str]:
    out = [r.getMessage()[:7].strip() for r in caplog.records if r.name == "fupin.cache.decisions"]
    caplog.clear()
    return out


def _status(doc: dict, pid: str) -> str:
    return next(r["status"] for r in doc["rows"] if r["id_number"] == pid)


def test_decisions_cached_never_stale(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder = write_csv(tmp_path / "in")
    ledger = str(tmp_path / "账本.sqlite3")
    c = ["--cache-dir", str(tmp_path / "cache")]
    el = ["eligibility", str(folder), "--month", MONTH, "--ledger", ledger, "--show-id", "--json"]
    runner.invoke(app, ["ledger", "init", ledger])
    caplog.set_level(logging.DEBUG, logger="fupin.cache.decisions")

    first = _run(*c, *el)
    assert _log(caplog) == ["判定缓存未命中", "判定结果已写入"]
    assert _run(*c, *el) == first
    assert _log(caplog) == ["判定缓存命中:"]
    assert _run("--no-cache", *el) == first
    assert _status(first, ID["p2"]) == "eligible"

    # a payment recorded in the ledger changes the key: p1 now reads paid, as without a cache
    _run(*c, "payout", str(folder), "--month", MONTH, "--output", str(tmp_path / "r.xlsx"), "--commit",
         "--ledger", ledger, "--first-run", "--json")
    _log(caplog)
    after = _run(*c, *el)
    assert _status(after, ID["p2"]) == "paid"
    assert _log(caplog)[0] == "判定缓存未命中"
    assert after == _run("--no-cache", *el)

    # the same policy name with an edited amount is another key: the roster pays the new amount
    edited = tmp_path / "gx-2018.toml"
    edited.write_text(POLICY.read_text(encoding="utf-8").replace("value = 1000,", "value = 1500,"), encoding="utf-8")
    pay = ["payout", str(folder), "--month", MONTH, "--output", str(tmp_path / "p.xlsx"), "--json"]
    assert {r["amount"] for r in _run(*c, *pay)["rows"]} == {1000}
    _log(caplog)
    new = _run(*c, *pay, "--policy", str(edited))
    assert {r["amount"] for r in new["rows"]} == {1500}
    assert _log(caplog)[0] == "判定缓存未命中"

    # a damaged entry is a miss, rebuilt, with the same result
    for p in (tmp_path / "cache").rglob("decisions.arrow"):
        p.write_bytes(p.read_bytes()[:50])
    assert _run(*c, *el) == after
    assert _log(caplog)[:2] == ["判定缓存条目", "判定缓存未命中"]
    assert _run(*c, *el) == after
    assert _log(caplog) == ["判定缓存命中:"]
