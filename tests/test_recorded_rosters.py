"""The ledger is the truth about money (SPEC §5.1, issue 9 items 1–3, 13, 14): what a run prints for
a recorded (month, scope) is the recorded roster, county and city batches never overlap on paper, and
a batch whose outputs failed is reported until they exist."""

from __future__ import annotations

import errno
import json
import os
import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from fupin_cli.cli import app
from fupin_cli.commands.batch import run_batch
from fupin_cli.config import load_config
from fupin_cli.errors import EXIT_OK, EXIT_RECORDED
from fupin_cli.ledger import Ledger
from fupin_cli.ledger.schema import migrate
from fupin_cli.months import format_month, month_index
from test_batch import IDS, killed_at, roster_rows, setup, write_input

runner = CliRunner()
AUG = month_index(2018, 8)


@pytest.fixture(autouse=True)
def no_fsync(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "fsync", lambda fd: None)


@pytest.fixture()
def conf(tmp_path: Path) -> Path:
    return setup(tmp_path, lock_timeout=0.5)


def payout(conf: Path, *args: str) -> tuple[int, dict | str]:
    """`fupin payout <input> --ledger <ledger> … --json` over the config's data; (exit code, document)."""
    root = conf.parent
    res = runner.invoke(app, ["payout", str(root / "数据"), "--ledger", str(root / "账本" / "ledger.sqlite3"),
                              "--json", *args])
    try:
        return res.exit_code, json.loads(res.stdout)
    except json.JSONDecodeError:
        return res.exit_code, res.output


def recorded(conf: Path, batch_id: int) -> list[tuple[str, float]]:
    with Ledger.open(conf.parent / "账本" / "ledger.sqlite3", create=False, readonly=True) as led:
        p = led.batch_payouts(batch_id)
    return sorted(zip(p["id_number"], p["amount"], strict=True))


def ids(*keys: str) -> set[str]:
    return {IDS[k] for k in keys}


# --- item 1: county and city batches of a month never overlap on paper --------------------------------

def test_city_commit_after_county_commit_prints_only_what_it_records(conf: Path, tmp_path: Path) -> None:
    code, county = payout(conf, "--month", "2018-08", "--county", "田东县", "--commit", "--show-id")
    assert code == EXIT_OK and {r["id_number"] for r in county["rows"]} == ids("C", "D", "F")
    out = tmp_path / "全市.xlsx"
    code, city = payout(conf, "--month", "2018-08", "--commit", "--show-id", "--output", str(out))
    assert code == EXIT_OK and city["batch"]["created"] and city["batch"]["recorded"] == 2
    # Printed = recorded: A and B; the county batch's people are listed apart, not printed again.
    assert {r["id_number"] for r in city["rows"]} == ids("A", "B") and city["people"] == 2
    assert {(h["id_number"], h["batch_id"]) for h in city["already_recorded"]} == {
        (i, county["batch"]["batch_id"]) for i in ids("C", "D", "F")}
    assert sorted(roster_rows(out)) == recorded(conf, city["batch"]["batch_id"])
    # 未达标名单 names the batch that holds them.
    import openpyxl

    ws = openpyxl.load_workbook(out, read_only=True)["未达标名单"]
    held = {r[5] for r in ws.iter_rows(values_only=True) if r[6] == f"已在第{county['batch']['batch_id']}批登记"}
    assert held == ids("C", "D", "F")
    # The terminal counts them apart too, not as 达标应发 of this roster.
    root = conf.parent
    text = runner.invoke(app, ["payout", str(root / "数据"), "--ledger", str(root / "账本" / "ledger.sqlite3"),
                               "--month", "2018-08"]).output
    assert "达标应发 2、已在本月其他批次登记 3" in text and "另有 3 人已在本月其他批次登记" in text


def test_batch_after_county_commit_city_and_county_rosters_hold_only_its_own(conf: Path) -> None:
    code, county = payout(conf, "--month", "2018-08", "--county", "田东县", "--commit")
    assert code == EXIT_OK and county["people"] == 3
    res = run_batch(load_config(conf), AUG)
    folder = res.folder
    assert sorted(roster_rows(folder / "花名册_全市_2018-08.xlsx")) == recorded(conf, res.summary["batch"]["batch_id"])
    assert {i for i, _ in roster_rows(folder / "花名册_全市_2018-08.xlsx")} == ids("A", "B")
    assert roster_rows(folder / "花名册_田东县_2018-08.xlsx") == []
    assert {i for i, _ in roster_rows(folder / "花名册_田阳县_2018-08.xlsx")} == ids("A", "B")  # the name in force in 2018
    assert len(res.summary["already_recorded"]) == 3 and res.summary["people"] == 2


def test_county_commit_after_city_batch_reprints_the_city_rows_of_that_county(conf: Path) -> None:
    city = run_batch(load_config(conf), AUG)
    code, doc = payout(conf, "--month", "2018-08", "--county", "田东县", "--commit", "--show-id")
    assert code == EXIT_OK and not doc["batch"]["created"] and doc["batch"]["batch_id"] == city.summary["batch"][
        "batch_id"]
    assert {r["id_number"] for r in doc["rows"]} == ids("C", "D", "F")


# --- items 2 and 3: a recorded month is reprinted from the ledger, never recomputed --------------------

def test_rerun_after_data_corrected_reprints_recorded_roster_with_differences(conf: Path) -> None:
    cfg = load_config(conf)
    for m in range(month_index(2018, 5), AUG + 1):
        run_batch(cfg, m)
    june = cfg.output / "2018-06" / "花名册_全市_2018-06.xlsx"
    first = roster_rows(june)
    assert {i for i, _ in first} == ids("A")
    sheet_before = sheet_values(june)
    ledger_before = dump(cfg.ledger)
    # The townships correct their data: A was not poor after all, E was.
    write_input(cfg.input / "台账.xlsx", poor={"A": "否", "E": "是"})
    again = run_batch(cfg, month_index(2018, 6))
    assert roster_rows(june) == first and sheet_values(june) == sheet_before
    assert dump(cfg.ledger) == ledger_before
    diff = {d["change"]: d for d in again.summary["differences"]}
    assert set(diff) == {"added", "removed"} and diff["removed"]["workshop_id"] == "W1"
    code, doc = payout(conf, "--month", "2018-06", "--commit", "--show-id")
    assert code == EXIT_OK and [r["id_number"] for r in doc["rows"]] == [IDS["A"]] and doc["batch"]["reprinted"]
    assert {(d["id_number"], d["change"]) for d in doc["differences"]} == {(IDS["A"], "removed"), (IDS["E"], "added")}
    # E, never paid, is paid once: on the next month's roster.
    sep = run_batch(cfg, month_index(2018, 9))
    assert {i for i, _ in roster_rows(sep.folder / "花名册_全市_2018-09.xlsx")} == ids("E")


def test_recommit_of_earlier_recorded_month_is_a_no_op_reprint(conf: Path) -> None:
    code, june = payout(conf, "--month", "2018-06", "--commit", "--show-id")
    assert code == EXIT_OK and june["batch"]["created"]
    code, _ = payout(conf, "--month", "2018-12", "--commit")
    assert code == EXIT_OK
    before = dump(conf.parent / "账本" / "ledger.sqlite3")
    code, again = payout(conf, "--month", "2018-06", "--commit", "--show-id")
    assert code == EXIT_OK, again
    assert again["rows"] == june["rows"] and not again["batch"]["created"] and again["batch"]["recorded"] == 0
    assert dump(conf.parent / "账本" / "ledger.sqlite3") == before


def test_batch_recorded_before_roster_rows_were_kept_is_reprinted_and_says_so(conf: Path, tmp_path: Path) -> None:
    led = conf.parent / "账本" / "ledger.sqlite3"
    led.unlink()  # setup made a current ledger; this one is written at schema v2, as an old fupin did
    conn = sqlite3.connect(led, isolation_level=None)
    migrate(conn, target=2)
    conn.execute("INSERT INTO batches (month, county, created_at, policy, policy_version, tool_version, people,"
                 " workshops, amount_cents) VALUES ('2018-06', NULL, '2018-07-01T09:00:00+08:00', 'gx-2018', '1',"
                 " '0.0.1', 1, 1, 100000)")
    conn.execute("INSERT INTO payouts (batch_id, id_number, name, workshop_id, workshop_name, county_code, county,"
                 f" qualified_month, payable_month, amount_cents) VALUES (1, '{IDS['A']}', '劳动力A', 'W1',"
                 " '那满镇电子车间', '451003', '田阳区', '2018-06', '2018-06', 100000)")
    # Someone today's data no longer has at all: still on the reprint, with blank details.
    conn.execute("INSERT INTO payouts (batch_id, id_number, name, workshop_id, workshop_name, county_code, county,"
                 " qualified_month, payable_month, amount_cents) VALUES (1, '452122199001011234', '甲', 'W9',"
                 " '旧车间', '451022', '田东县', '2018-05', '2018-06', 100000)")
    conn.close()
    write_input(conf.parent / "数据" / "台账.xlsx", poor={"A": "否", "E": "是"})
    out = tmp_path / "重印.xlsx"
    code, doc = payout(conf, "--month", "2018-06", "--show-id", "--output", str(out))
    assert code == EXIT_OK and [r["id_number"] for r in doc["rows"]] == [IDS["A"], "452122199001011234"]
    assert doc["rows"][0]["months"] == 6 and doc["rows"][0]["amount"] == 1000
    assert doc["rows"][1]["months"] is None and doc["amount"] == 2000
    assert sorted(roster_rows(out)) == sorted([(IDS["A"], 1000.0), ("452122199001011234", 1000.0)])
    text = [c for r in sheet_values(out) for c in r if isinstance(c, str)]
    assert any("按现有数据重印" in c for c in text)


# --- items 13 and 14: a recorded batch whose outputs are missing is reported until they exist --------

def test_payout_output_failure_after_commit_exit_3_and_reported_until_written(conf: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "不是文件夹"
    blocker.write_text("x")
    root = conf.parent
    base = ["payout", str(root / "数据"), "--ledger", str(root / "账本" / "ledger.sqlite3"), "--month", "2018-08"]
    res = runner.invoke(app, [*base, "--commit", "--output", str(blocker / "花名册.xlsx")])
    assert res.exit_code == EXIT_RECORDED, res.output
    assert "第1批已登记" in res.output and "Traceback" not in res.output
    assert len(recorded(conf, 1)) == 5
    for args in (["--month", "2018-09"], ["--month", "2018-09", "--commit"]):
        code, doc = payout(conf, *args)
        assert code == EXIT_OK and len(doc["missing_outputs"]) == 1
        assert "第1批已登记但花名册未生成" in doc["missing_outputs"][0]
    later = runner.invoke(app, [*base[:4], "--month", "2018-10"])
    assert "第1批已登记但花名册未生成" in later.output
    listed = runner.invoke(app, ["ledger", "list", "--ledger", base[3]])
    assert listed.exit_code == EXIT_OK and "第1批已登记但花名册未生成" in listed.output
    good = tmp_path / "花名册.xlsx"
    res = runner.invoke(app, [*base, "--commit", "--output", str(good)])
    assert res.exit_code == EXIT_OK and sorted(roster_rows(good)) == recorded(conf, 1)
    code, doc = payout(conf, "--month", "2018-10")
    assert code == EXIT_OK and doc["missing_outputs"] == []
    listed = runner.invoke(app, ["ledger", "list", "--ledger", base[3], "--json"])
    assert json.loads(listed.stdout)["missing_outputs"] == []


def test_commit_without_output_has_nothing_to_miss(conf: Path) -> None:
    assert payout(conf, "--month", "2018-08", "--commit")[0] == EXIT_OK
    code, doc = payout(conf, "--month", "2018-09")
    assert code == EXIT_OK and doc["missing_outputs"] == []


def test_batch_output_failure_after_commit_exit_3(conf: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import fupin_cli.commands.batch as bo

    real = bo.write_roster

    def disk_full(path: Path, roster: object) -> Path:
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(bo, "write_roster", disk_full)
    res = runner.invoke(app, ["batch", "--config", str(conf), "--month", "2018-08"])
    assert res.exit_code == EXIT_RECORDED and "第1批已登记" in res.output and "Traceback" not in res.output
    assert len(recorded(conf, 1)) == 5 and not (conf.parent / "输出" / "2018-08").exists()
    monkeypatch.setattr(bo, "write_roster", real)
    nxt = run_batch(load_config(conf), month_index(2018, 9))
    assert any("第1批已登记但花名册未生成" in t for t in nxt.summary["missing_outputs"])
    res = runner.invoke(app, ["batch", "--config", str(conf), "--month", "2018-10"])
    assert "第1批已登记但花名册未生成" in res.output
    fixed = run_batch(load_config(conf), AUG)
    assert fixed.summary["missing_outputs"] == [] and fixed.summary["batch"]["batch_id"] == 1
    assert sorted(roster_rows(fixed.folder / "花名册_全市_2018-08.xlsx")) == recorded(conf, 1)


@pytest.mark.skipif(os.name == "nt", reason="SIGKILL")
def test_batch_killed_after_commit_is_reported_until_rerun(conf: Path) -> None:
    killed_at(conf, "committed")
    assert len(recorded(conf, 1)) == 5
    nxt = run_batch(load_config(conf), month_index(2018, 9))
    assert [t for t in nxt.summary["missing_outputs"] if "第1批已登记但花名册未生成" in t and "2018-08" in t]
    code, doc = payout(conf, "--month", "2018-09")
    assert len(doc["missing_outputs"]) == 1
    run_batch(load_config(conf), AUG)
    code, doc = payout(conf, "--month", "2018-09")
    assert doc["missing_outputs"] == []


# --- helpers --------------------------------------------------------------------------------------

def sheet_values(path: Path, sheet: str = "奖补名单") -> list[list]:
    import openpyxl

    return [list(r) for r in openpyxl.load_workbook(path, read_only=True)[sheet].iter_rows(values_only=True)]


def dump(path: Path) -> list[str]:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


# --- the Done-when: a year of batches ---------------------------------------------------------

def killed_after_commit(conf: Path, month: str) -> None:
    """`fupin batch --month <month>` in a subprocess, SIGKILLed right after its commit."""
    import signal
    import subprocess
    import sys
    import time

    log = conf.parent / "输出" / "fupin.log"
    seen = log.read_text(encoding="utf-8").count("test pause at committed") if log.exists() else 0
    env = {**os.environ, "FUPIN_TEST_PAUSE": "committed", "FUPIN_TEST_PAUSE_SECONDS": "60"}
    proc = subprocess.Popen([sys.executable, "-m", "fupin_cli", "batch", "--config", str(conf), "--month", month],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    try:
        while (log.read_text(encoding="utf-8").count("test pause at committed") if log.exists() else 0) == seen:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()


@pytest.mark.skipif(os.name == "nt", reason="SIGKILL")
def test_a_year_of_batches_each_person_on_one_signed_roster(conf: Path, tmp_path: Path) -> None:
    """Monthly batches 2018-03 … 2019-02: 田东县 commits its own roster in even months before the city
    batch, one month the city commits by `payout`, the townships correct their data twice, one batch is
    killed after its commit. Then: each person is on exactly one signed roster (one per batch), the
    rosters add up to the ledger, and every roster reprinted later is the same 奖补名单, cell by cell.
    Last, the latest batch is voided and its month committed again: the voided roster no longer
    counts, and the rest still hold (issue 9 item 8)."""
    from fupin_cli.commands.payout import run_payout

    cfg = load_config(conf)
    signed: dict[int, Path] = {}  # batch id → the roster printed when it was committed
    first_print: dict[int, list[list]] = {}
    rosters = tmp_path / "签字花名册"
    rosters.mkdir()

    def keep(batch_id: int, path: Path) -> None:
        copy = rosters / f"第{batch_id}批.xlsx"
        copy.write_bytes(path.read_bytes())
        signed[batch_id] = copy
        first_print[batch_id] = sheet_values(copy)

    def county_commit(m: int, county: str) -> None:
        out = tmp_path / f"{county}_{m}.xlsx"
        s = run_payout([cfg.input], month=m, county_arg=county, ledger_path=cfg.ledger, commit=True, output=out)
        assert s.batch_created == (s.batch.batch_id not in signed)
        if s.batch_created:
            keep(s.batch.batch_id, out)

    killed = month_index(2018, 8)
    for m in range(month_index(2018, 3), month_index(2019, 2) + 1):
        if m == month_index(2018, 7):
            write_input(cfg.input / "台账.xlsx", poor={"E": "是"})  # E was poor after all
        if m == month_index(2018, 10):
            write_input(cfg.input / "台账.xlsx", poor={"E": "是", "A": "否"})  # and A was not (paid 2018-06)
        if m % 2 == 1:  # even calendar months
            county_commit(m, "田东县")
        if m == killed:
            killed_after_commit(conf, "2018-08")
            continue
        if m == month_index(2018, 11):
            out = tmp_path / f"全市_{m}.xlsx"
            s = run_payout([cfg.input], month=m, ledger_path=cfg.ledger, commit=True, output=out)
            keep(s.batch.batch_id, out)
            continue
        res = run_batch(cfg, m)
        assert res.summary["batch"]["created"]
        keep(res.summary["batch"]["batch_id"], res.folder / f"花名册_全市_{format_month(m)}.xlsx")
        if m == month_index(2018, 9):  # the run after the kill says what is missing
            assert [t for t in res.summary["missing_outputs"] if "2018-08" in t]

    # The killed batch is recorded; rerunning its month prints its roster for the first time.
    with Ledger.open(cfg.ledger, create=False, readonly=True) as led:
        batches = led.batches()
        payouts = led.export_rows()[1]
        killed_id = int(batches.loc[(batches["month"] == killed) & batches["county_code"].isna(), "batch_id"].iloc[0])
        assert led.missing_outputs()
    res = run_batch(cfg, killed)
    assert not res.summary["batch"]["created"] and res.summary["missing_outputs"] == []
    keep(killed_id, res.folder / "花名册_全市_2018-08.xlsx")
    assert set(signed) == set(batches["batch_id"])

    # Each person on exactly one signed roster; the rosters add up to the ledger, batch by batch.
    everyone: list[str] = []
    for batch_id, path in signed.items():
        rows = roster_rows(path)
        mine = payouts.loc[payouts["batch_id"] == batch_id]
        assert sorted(rows) == sorted(zip(mine["id_number"], mine["amount"], strict=True)), batch_id
        everyone += [i for i, _ in rows]
    assert len(everyone) == len(set(everyone)) == len(payouts)
    assert set(everyone) == ids("A", "B", "C", "D", "E", "F", "G")
    assert sum(a for p in signed.values() for _, a in roster_rows(p)) == payouts["amount"].sum() == 7000

    # Every roster reprinted later (after the data changed) is the one that was signed.
    for batch_id in signed:
        b = batches.loc[batches["batch_id"] == batch_id].iloc[0]
        month = int(b["month"])
        if pd.isna(b["county_code"]):
            if month == month_index(2018, 11):
                out = tmp_path / "重印.xlsx"
                run_payout([cfg.input], month=month, ledger_path=cfg.ledger, commit=True, output=out)
            else:
                out = run_batch(cfg, month).folder / f"花名册_全市_{format_month(month)}.xlsx"
        else:
            out = tmp_path / "重印.xlsx"
            run_payout([cfg.input], month=month, county_arg="田东县", ledger_path=cfg.ledger, output=out)
        assert sheet_values(out) == first_print[batch_id], batch_id

    # Void the latest batches (only the latest valid one can be voided) back to one that paid someone,
    # then commit their months again: their people are paid once more, each on one new roster.
    void_ids: list[int] = []
    while not void_ids or not roster_rows(signed[void_ids[-1]]):
        void_ids.append(max(b for b in signed if b not in void_ids))
        res = runner.invoke(app, ["ledger", "void", str(void_ids[-1]), "--reason", "工资表有误,重新登记",
                                  "--ledger", str(cfg.ledger)])
        assert res.exit_code == EXIT_OK, res.output
    voided = sorted(r for b in void_ids for r in roster_rows(signed[b]))
    redone: list[int] = []
    for m in sorted(set(batches.loc[batches["batch_id"].isin(void_ids), "month"])):
        redo = run_batch(cfg, int(m))
        assert redo.summary["batch"]["created"]
        redone.append(redo.summary["batch"]["batch_id"])
        keep(redone[-1], redo.folder / f"花名册_全市_{format_month(int(m))}.xlsx")
    assert voided and sorted(r for b in redone for r in roster_rows(signed[b])) == voided
    with Ledger.open(cfg.ledger, create=False, readonly=True) as led:
        batches = led.batches()
        payouts = led.export_rows()[1]
    assert set(batches.loc[batches["status"] == "void", "batch_id"]) == set(void_ids)
    live = payouts.loc[payouts["void"] != "是"]
    valid = [b for b in signed if b not in void_ids]
    assert set(valid) == set(batches.loc[batches["status"] != "void", "batch_id"])
    everyone = [i for b in valid for i, _ in roster_rows(signed[b])]
    assert len(everyone) == len(set(everyone)) == len(live)
    assert set(everyone) == ids("A", "B", "C", "D", "E", "F", "G")
    assert sum(a for b in valid for _, a in roster_rows(signed[b])) == live["amount"].sum() == 7000


def test_pair_policy_county_then_city_never_overlap(conf: Path, tmp_path: Path) -> None:
    """Under a policy that pays each (person, workshop) pair once, a person's second workshop is its
    own pair: held apart only for the pair another batch of the month recorded."""
    from importlib import resources

    text = (resources.files("fupin_cli") / "data" / "policies" / "gx-2018.toml").read_text(encoding="utf-8")
    policy = tmp_path / "每对一次.toml"
    policy.write_text(text.replace('name = "gx-2018"', 'name = "pair-once"').replace(
        'once_per_person = [{ from = "2018-01", value = true,', 'once_per_person = [{ from = "2018-01", value = false,'),
        encoding="utf-8")
    code, county = payout(conf, "--month", "2018-11", "--county", "田东县", "--commit", "--show-id",
                          "--policy", str(policy), "--first-run")
    assert code == EXIT_OK, county
    # D is paid in W2 and in W3 (two pairs), C, F in their workshops; G not yet.
    assert sorted((r["id_number"], r["workshop_id"]) for r in county["rows"]) == sorted(
        [(IDS["C"], "W2"), (IDS["D"], "W2"), (IDS["D"], "W3"), (IDS["F"], "W3")])
    code, city = payout(conf, "--month", "2018-11", "--commit", "--show-id", "--policy", str(policy))
    assert code == EXIT_OK and {r["id_number"] for r in city["rows"]} == ids("A", "B")
    assert len(city["already_recorded"]) == 4 and city["batch"]["recorded"] == 2
    assert sorted((r["id_number"], r["amount"]) for r in city["rows"]) == recorded(conf, city["batch"]["batch_id"])
