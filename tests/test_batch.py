"""`fupin batch`: monthly runs over a small real xlsx dataset, reruns, failures, audit, kills, CLI."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import xlsxwriter
from typer.testing import CliRunner

from conftest import make_id
from fupin_cli.cli import app
from fupin_cli.commands.batch import run_batch
from fupin_cli.config import BatchConfig, load_config
from fupin_cli.errors import EXIT_DATA, EXIT_LOCKED, EXIT_OK, EXIT_USAGE, FupinError, LedgerError, LockBusy
from fupin_cli.ledger import Ledger
from fupin_cli.months import format_month, month_index

IDS = {k: make_id(date(1980 + i, 1 + i, 10 + i), 100 + i, "451021" if i % 2 else "452122")
       for i, k in enumerate("ABCDEFGH")}
WORKSHOPS = [("W1", "那满镇电子车间", "民胜电子有限公司", "企业", "田阳县", date(2018, 1, 1)),
             ("W2", "祥周镇服装车间", "田东祥周服装厂", "个体工商户", "田东县", date(2018, 1, 1)),
             ("W3", "林逢镇竹编车间", "林逢竹编合作社", "农民专业合作社", "田东县", date(2018, 6, 1))]
# laborer, workshop, 建档立卡, agreement start, monthly pay, first pay month; pay runs to 2019-02.
PEOPLE = [
    ("A", "W1", "是", date(2018, 1, 5), 1200, (2018, 1)),  # 6 months → qualifies 2018-06
    ("B", "W1", "是", date(2018, 3, 1), 1000, (2018, 3)),  # 2018-08
    ("C", "W2", "是", date(2018, 2, 1), 1500, (2018, 2)),  # 2018-07
    ("D", "W2", "是", date(2018, 1, 1), 800, (2018, 1)),  # 8 months for 6,000 元 → 2018-08
    ("D", "W3", "是", date(2018, 6, 1), 1100, (2018, 6)),  # 2018-11, but D is paid via W2: duplicate
    ("E", "W1", "否", date(2018, 1, 1), 2000, (2018, 1)),  # not poor
    ("F", "W3", "是", date(2018, 3, 1), 1200, (2018, 3)),  # 2018-08 (W3 certified 2018-06)
    ("G", "W2", "是", date(2018, 9, 1), 1000, (2018, 9)),  # 2019-02
    ("H", "W1", "是", date(2018, 1, 1), 400, (2018, 1)),  # short
]
FIRST, LAST = month_index(2018, 5), month_index(2019, 2)


def write_input(path: Path, poor: dict[str, str] | None = None, bad_row: bool = False) -> None:
    """车间 / 人员 / 工资 (long form) in one workbook; `poor` overrides 建档立卡 per laborer."""
    poor = poor or {}
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path))
    d = wb.add_format({"num_format": "yyyy-mm-dd"})
    ws = wb.add_worksheet("车间")
    ws.write_row(0, 0, ["车间编号", "车间名称", "经营主体", "主体类型", "县(市、区)", "认定日期"])
    for i, w in enumerate(WORKSHOPS, 1):
        ws.write_row(i, 0, w[:5])
        ws.write_datetime(i, 5, w[5], d)
    ws = wb.add_worksheet("人员")
    ws.write_row(0, 0, ["身份证号", "姓名", "车间编号", "是否建档立卡贫困劳动力", "协议类型", "协议起始日期"])
    rows = [(IDS[k], "劳动力" + k, w, poor.get(k, p), s) for k, w, p, s, _, _ in PEOPLE]
    if bad_row:
        h = IDS["H"]
        rows.append((h[:-1] + ("0" if h[-1] != "0" else "1"), "劳动力Z", "W1", "是", date(2018, 1, 1)))
    for i, (idn, name, w, p, start) in enumerate(rows, 1):
        ws.write_row(i, 0, [idn, name, w, p, "劳务协议"])
        ws.write_datetime(i, 5, start, d)
    ws = wb.add_worksheet("工资")
    ws.write_row(0, 0, ["身份证号", "车间编号", "月份", "实发工资"])
    r = 1
    for k, w, _, _, pay, (y, m) in PEOPLE:
        for idx in range(month_index(y, m), LAST + 1):
            ws.write_row(r, 0, [IDS[k], w, format_month(idx), pay])
            r += 1
    wb.close()


def setup(root: Path, **cfg: object) -> Path:
    """Input workbook, an empty ledger (`fupin ledger init`) and a config file with relative paths;
    returns the config path."""
    write_input(root / "数据" / "台账.xlsx")
    Ledger.init(root / "账本" / "ledger.sqlite3")
    lines = ['input = "数据"', 'output = "输出"', 'ledger = "账本/ledger.sqlite3"']
    lines += [f"{k} = {json.dumps(v)}" for k, v in cfg.items()]
    path = root / "fupin.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def no_fsync(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process runs skip os.fsync (only durability across a power cut depends on it, which no test
    can observe) to keep this file fast on slow disks; the subprocess runs keep it."""
    monkeypatch.setattr(os, "fsync", lambda fd: None)


@pytest.fixture()
def conf(tmp_path: Path) -> Path:
    return setup(tmp_path, lock_timeout=0.5)


def dump(path: Path) -> list[str]:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def ledger_state(path: Path) -> tuple:
    """The ledger's content without the batches' creation times (which differ between two runs)."""
    with Ledger.open(path, create=False, readonly=True) as led:
        b, p, f = led.export_rows()
    return (b.drop(columns=["created_at"]).to_dict("records"), p.to_dict("records"),
            f.drop(columns=["path"]).to_dict("records"))


def roster_rows(path: Path) -> list[tuple[str, float]]:
    """(身份证号, 奖补金额) of every data row of the 奖补名单 sheet, read back with openpyxl."""
    ws = openpyxl.load_workbook(path, read_only=True)["奖补名单"]
    rows = list(ws.iter_rows(values_only=True))
    hdr = next(i for i, r in enumerate(rows) if "身份证号" in r)
    c_id, c_amt = rows[hdr].index("身份证号"), rows[hdr].index("奖补金额")
    out = []
    for r in rows[hdr + 1:]:
        if r[0] == "合计":
            break
        out.append((r[c_id], float(r[c_amt])))
    return out


def folder_content(folder: Path, portable: bool = False) -> dict:
    """Every cell value of every xlsx (not the zip bytes: xlsx carry a creation time) and summary.json;
    `portable` drops what differs between two copies of the same setup (paths, batch time)."""
    out: dict = {}
    for f in sorted(folder.iterdir()):
        if f.suffix == ".xlsx":
            wb = openpyxl.load_workbook(f, read_only=True)
            out[f.name] = {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb}
        else:
            doc = json.loads(f.read_text(encoding="utf-8"))
            for k in ("created", "recorded", "reprinted"):
                doc["batch"].pop(k)
            doc.pop("notes")
            if portable:
                doc.pop("ledger")
                doc["batch"].pop("created_at")
                for item in doc["inputs"]:
                    item.pop("path")
            out[f.name] = doc
    return out


def expected_files(ym: str, audit: bool = False) -> set[str]:
    tianyang = "田阳县" if ym < "2019-01" else "田阳区"  # the name in force in the month (SPEC §6.1)
    names = {f"花名册_全市_{ym}.xlsx", f"花名册_{tianyang}_{ym}.xlsx", f"花名册_田东县_{ym}.xlsx", f"统计_{ym}.xlsx",
             f"数据问题_{ym}.xlsx", "summary.json"}
    return names | ({f"审计清单_{ym}.xlsx"} if audit else set())


def test_monthly_batches_add_up_rerun_is_a_no_op(conf: Path, tmp_path: Path) -> None:
    cfg = load_config(conf)
    assert cfg.input == tmp_path / "数据" and cfg.log == tmp_path / "输出" / "fupin.log"
    paid: list[str] = []
    for m in range(FIRST, LAST + 1):
        res = run_batch(cfg, m)
        ym = format_month(m)
        assert res.exit_code == EXIT_OK and res.folder == tmp_path / "输出" / ym
        assert {p.name for p in res.folder.iterdir()} == expected_files(ym)
        rows = roster_rows(res.folder / f"花名册_全市_{ym}.xlsx")
        doc = json.loads((res.folder / "summary.json").read_text(encoding="utf-8"))
        assert doc == res.summary and doc["batch"]["created"]
        assert (len(rows), sum(a for _, a in rows)) == (doc["people"], doc["amount"])
        with Ledger.open(cfg.ledger, create=False, readonly=True) as led:
            recorded = led.batch_payouts(doc["batch"]["batch_id"])
        assert sorted(rows) == sorted(zip(recorded["id_number"], recorded["amount"], strict=True))
        county = roster_rows(res.folder / f"花名册_田东县_{ym}.xlsx")
        assert set(county) <= set(rows)
        paid += [i for i, _ in rows]
    assert sorted(paid) == sorted(IDS[k] for k in "ABCDFG")  # each once; E not poor, H short
    assert not any(IDS["A"] in line for line in cfg.log.read_text(encoding="utf-8").splitlines())

    # One run at the last month over a fresh ledger pays exactly the same people and amount.
    single = run_batch(BatchConfig.build(input=cfg.input, output=tmp_path / "single",
                                         ledger=tmp_path / "single.sqlite3"), LAST, new_ledger=True,
                       first_run=True)
    assert sorted(single.settlement.roster.rows["id_number"]) == sorted(paid)
    assert single.summary["amount"] == len(paid) * 1000

    # Rerunning a month (also one with later months recorded) changes nothing in the ledger and
    # rewrites the same outputs.
    before, content = dump(cfg.ledger), folder_content(tmp_path / "输出" / "2018-08")
    again = run_batch(cfg, month_index(2018, 8))
    assert dump(cfg.ledger) == before
    assert not again.summary["batch"]["created"] and again.summary["mismatch"] == 0
    assert folder_content(again.folder) == content
    assert again.summary["people"] == 3
    assert not [p for p in (tmp_path / "输出").iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("how", ["under_a_file", "read_only"])
def test_unwritable_output_does_nothing(tmp_path: Path, how: str) -> None:
    ledger = tmp_path / "ledger.sqlite3"
    Ledger.open(ledger, create=True).close()
    before = ledger.read_bytes()
    if how == "under_a_file":
        (tmp_path / "plain").write_text("x")
        out = tmp_path / "plain" / "sub"
    else:
        out = tmp_path / "ro"
        out.mkdir()
        out.chmod(0o555)
        if os.access(out, os.W_OK):
            pytest.skip("running as root: permissions do not stop writes")
    write_input(tmp_path / "in" / "a.xlsx")
    with pytest.raises(FupinError) as err:
        run_batch(BatchConfig.build(input=tmp_path / "in", output=out, ledger=ledger), FIRST)
    assert err.value.exit_code == EXIT_USAGE and "输出文件夹" in err.value.message
    assert ledger.read_bytes() == before and not Path(f"{ledger}.lock").exists()


def test_corrupt_ledger_is_left_alone(conf: Path) -> None:
    cfg = load_config(conf)
    junk = b"SQLite format 3\x00" + bytes(range(256)) * 20
    cfg.ledger.write_bytes(junk)
    with pytest.raises(LedgerError) as err:
        run_batch(cfg, FIRST)
    assert err.value.exit_code == EXIT_USAGE and "账本" in err.value.message
    assert cfg.ledger.read_bytes() == junk
    assert not (cfg.output / format_month(FIRST)).exists()
    assert "ledger.corrupt" in cfg.log.read_text(encoding="utf-8")


def hold_lock(path: Path) -> subprocess.Popen:
    code = f"from filelock import FileLock; l = FileLock({str(path) + '.lock'!r}); l.acquire(); print('held', flush=True); " \
           "import time; time.sleep(60)"
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_lock_held_elsewhere_exits_75(conf: Path) -> None:
    cfg = load_config(conf)
    before = dump(cfg.ledger)
    proc = hold_lock(cfg.ledger)
    try:
        with pytest.raises(LockBusy) as err:
            run_batch(cfg, FIRST)
        assert err.value.exit_code == EXIT_LOCKED
        res = CliRunner().invoke(app, ["batch", "--config", str(conf), "--month", "2018-05"])
        assert res.exit_code == EXIT_LOCKED and "另一个 fupin 任务" in res.stderr
    finally:
        proc.kill()
        proc.wait()
    assert dump(cfg.ledger) == before  # nothing was recorded
    assert run_batch(cfg, FIRST).exit_code == EXIT_OK  # the lock is free again


def test_config_errors_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    bad = setup(tmp_path, ouput="x")
    res = runner.invoke(app, ["batch", "--config", str(bad)])
    assert res.exit_code == EXIT_USAGE
    assert "ouput" in res.stderr and str(bad) in res.stderr.replace("\n", "") and "不认识的设置项" in res.stderr
    monkeypatch.chdir(tmp_path / "数据")
    monkeypatch.delenv("FUPIN_CONFIG", raising=False)
    res = runner.invoke(app, ["batch"])
    assert res.exit_code == EXIT_USAGE and "找不到" in res.stderr and "fupin.toml" in res.stderr
    typo = tmp_path / "typo.toml"
    typo.write_text('input = "数据"\noutput = "输出"\nlock_timeout = "很久"\n', encoding="utf-8")
    monkeypatch.setenv("FUPIN_CONFIG", str(typo))
    res = runner.invoke(app, ["batch"])
    assert res.exit_code == EXIT_USAGE and "lock_timeout" in res.stderr
    with pytest.raises(FupinError, match="不能放在输入文件夹"):
        run_batch(BatchConfig.build(input=tmp_path, output=tmp_path / "输出", ledger=tmp_path / "l.sqlite3"), FIRST)
    nothing = setup(tmp_path / "n")
    shutil.rmtree(tmp_path / "n" / "数据")
    before = dump(tmp_path / "n" / "账本" / "ledger.sqlite3")
    res = runner.invoke(app, ["batch", "--config", str(nothing), "--month", "2018-05"])
    assert res.exit_code == EXIT_USAGE and "找不到文件或文件夹" in res.stderr
    assert dump(tmp_path / "n" / "账本" / "ledger.sqlite3") == before


def test_audit_lists_paid_laborer_whose_data_changed(conf: Path, tmp_path: Path) -> None:
    cfg = load_config(conf)
    first = run_batch(cfg, month_index(2018, 6))
    assert list(first.settlement.roster.rows["id_number"]) == [IDS["A"]]
    write_input(tmp_path / "数据" / "台账.xlsx", poor={"A": "否"})  # A is "no longer poor"
    res = CliRunner().invoke(app, ["batch", "--config", str(conf), "--month", "2018-07"])
    assert res.exit_code == EXIT_OK
    assert "审计清单:1 名" in res.stdout and "劳动力A" in res.stdout and IDS["A"] not in res.stdout
    folder = tmp_path / "输出" / "2018-07"
    assert {p.name for p in folder.iterdir()} == expected_files("2018-07", audit=True)
    ws = openpyxl.load_workbook(folder / "审计清单_2018-07.xlsx", read_only=True)["审计清单"]
    cells = [c for r in ws.iter_rows(values_only=True) for c in r]
    assert IDS["A"] in cells and "非建档立卡" in cells
    doc = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert doc["audit"] == 1 and doc["audit_rows"][0]["status"] == "not_poor"
    assert doc["audit_rows"][0]["id_number"] == IDS["A"][:6] + "********" + IDS["A"][-4:]
    with Ledger.open(cfg.ledger, create=False, readonly=True) as led:
        assert IDS["A"] in set(led.paid()["id_number"])  # never unpaid


def test_cli_json_equals_summary_and_data_errors_exit_1(conf: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(app, ["batch", "--config", str(conf), "--month", "2018-06", "--json"])
    assert res.exit_code == EXIT_OK, res.output
    doc = json.loads(res.stdout)
    assert doc == json.loads((tmp_path / "输出" / "2018-06" / "summary.json").read_text(encoding="utf-8"))
    assert doc["people"] == 1 and doc["statuses"]["eligible"] == 1 and doc["inputs"][0]["sha256"]
    write_input(tmp_path / "数据" / "台账.xlsx", bad_row=True)
    res = runner.invoke(app, ["batch", "--config", str(conf), "--month", "2018-07"])
    assert res.exit_code == EXIT_DATA
    assert "本月应发 1 人" in res.stdout and "数据问题_2018-07.xlsx" in res.stdout and "新登记" in res.stdout


def test_month_defaults_to_previous_calendar_month(conf: Path) -> None:
    res = run_batch(load_config(conf), today=date(2018, 7, 1))
    assert res.month == month_index(2018, 6) and res.month_defaulted and res.summary["people"] == 1


# --- killed runs -----------------------------------------------------------------------------------

def killed_at(conf: Path, step: str) -> None:
    """Run `fupin batch` for 2018-08 in a subprocess, SIGKILL it when it reaches `step`."""
    log = conf.parent / "输出" / "fupin.log"
    env = {**os.environ, "FUPIN_TEST_PAUSE": step, "FUPIN_TEST_PAUSE_SECONDS": "60"}
    proc = subprocess.Popen([sys.executable, "-m", "fupin_cli", "batch", "--config", str(conf), "--month", "2018-08"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 40
    try:
        while f"test pause at {step}" not in (log.read_text(encoding="utf-8") if log.exists() else ""):
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, f"never reached {step}"
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_killed_runs_leave_before_or_complete(tmp_path: Path) -> None:
    base = tmp_path / "base"
    run_batch(load_config(setup(base)), month_index(2018, 7))
    ref = tmp_path / "ref"
    shutil.copytree(base, ref)
    run_batch(load_config(ref / "fupin.toml"), month_index(2018, 8))
    want_ledger, want_out = ledger_state(ref / "账本" / "ledger.sqlite3"), folder_content(ref / "输出" / "2018-08", True)
    before_ledger = ledger_state(base / "账本" / "ledger.sqlite3")

    for step in ("locked", "committed", "outputs"):
        case = tmp_path / step
        shutil.copytree(base, case)
        killed_at(case / "fupin.toml", step)
        ledger = case / "账本" / "ledger.sqlite3"
        assert ledger_state(ledger) == (before_ledger if step == "locked" else want_ledger)
        assert not (case / "输出" / "2018-08").exists()  # no half-written month folder
        again = run_batch(load_config(case / "fupin.toml"), month_index(2018, 8))
        assert again.summary["batch"]["created"] == (step == "locked")
        assert ledger_state(ledger) == want_ledger
        assert folder_content(case / "输出" / "2018-08", True) == want_out
        assert not [p for p in (case / "输出").iterdir() if p.name.startswith(".")]  # leftovers cleaned

    # Killed just before the finished folder replaces an earlier run's: the earlier one stays whole.
    killed_at(ref / "fupin.toml", "swap")
    assert folder_content(ref / "输出" / "2018-08", True) == want_out
    assert ledger_state(ref / "账本" / "ledger.sqlite3") == want_ledger


def test_interrupted_fallback_swap_is_restored(conf: Path, tmp_path: Path) -> None:
    """Where no atomic exchange exists, a run killed between "old aside" and "new in" leaves
    .YYYY-MM.old-<pid>; the next run puts it back before anything else, then replaces it."""
    cfg = load_config(conf)
    done = run_batch(cfg, month_index(2018, 6))
    want = folder_content(done.folder)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    out = cfg.output
    os.rename(done.folder, out / f".2018-06.old-{dead.pid}")
    (out / f".2018-06.tmp-{dead.pid}").mkdir()
    (out / f".2018-06.tmp-{dead.pid}" / "花名册_全市_2018-06.xlsx").write_bytes(b"half")
    from fupin_cli.month_folder import recover

    notes = recover(out, month_index(2018, 6))
    assert any("已恢复" in n for n in notes)
    assert folder_content(done.folder) == want
    assert not [p for p in out.iterdir() if p.name.startswith(".")]
    again = run_batch(cfg, month_index(2018, 6))
    assert folder_content(again.folder) == want


def test_ledger_rows_equal_roster_frames(conf: Path) -> None:
    """The roster written is the batch recorded: same pairs and amounts, also per county file."""
    cfg = load_config(conf)
    res = run_batch(cfg, month_index(2018, 8))
    with Ledger.open(cfg.ledger, create=False, readonly=True) as led:
        p = led.batch_payouts(res.summary["batch"]["batch_id"])
    by_county = p.groupby("county")["amount"].sum().to_dict()
    for county, amount in by_county.items():
        rows = roster_rows(res.folder / f"花名册_{county}_2018-08.xlsx")
        assert sum(a for _, a in rows) == amount
    assert pd.Series([c["people"] for c in res.summary["counties"]]).sum() == len(p) == 5


def test_summary_json_never_holds_a_non_finite_number(tmp_path: Path) -> None:
    """summary.json is strict JSON: a NaN or Infinity that reached the summary is written as null."""
    from fupin_cli.month_folder import write_summary

    def refuse(name: str) -> None:
        raise AssertionError(f"{name} in summary.json")

    write_summary(tmp_path / "summary.json", {"合计": float("inf"), "人数": [1, float("nan")], "月份": "2018-12"})
    doc = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"), parse_constant=refuse)
    assert doc == {"合计": None, "人数": [1, None], "月份": "2018-12"}


def test_json_writer_refuses_non_finite_numbers_where_asked() -> None:
    from fupin_cli import jsontext

    assert jsontext.dumps({"a": [1.5, float("-inf")]}) == '{"a":[1.5,null]}'
    with pytest.raises(ValueError):
        jsontext.dumps({"a": float("nan")}, refuse=True)
