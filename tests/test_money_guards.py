"""Issue 9 guards (SPEC §5.1): explicit ledger creation, month sanity, void, history import,
first run, output paths that never hit an input, the ledger or each other, lock timeouts, and rule
output that does not mislead. Real xlsx in, the real CLI, outputs and the ledger read back."""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from fupin_cli.cli import app
from fupin_cli.ledger import Ledger

WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def make_id(area: str, birth: str, seq: int) -> str:
    body = f"{area}{birth}{seq:03d}"
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, WEIGHTS, strict=True)) % 11]


A = make_id("451021", "19800101", 11)  # W1 (田阳), 1200/month from 2018-01 → qualifies 2018-06
B = make_id("451022", "19850505", 22)  # W2 (田东), 1000/month from 2018-03 → 2018-08
C = make_id("451021", "19900303", 33)  # W1, 1500/month from 2018-05 → 2018-10
PEOPLE = [(A, "黄秀英", "W1", date(2018, 1, 1), 1200), (B, "韦海燕", "W2", date(2018, 3, 1), 1000),
          (C, "陆美玲", "W1", date(2018, 5, 1), 1500)]
runner = CliRunner()


def build(folder: Path, *, last: tuple[int, int] = (2018, 12), account: object = "6228480000000000017",
          extra_wages: list[list[object]] = (), template_to: tuple[int, int] | None = None) -> Path:
    """车间 / 人员 / 工资 (long form) in one workbook; pay every month up to `last`."""
    folder.mkdir(parents=True, exist_ok=True)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "车间"
    ws.append(["车间编号", "车间名称", "经营主体", "主体类型", "县(市、区)", "认定日期", "开户银行", "银行账号"])
    ws.append(["W1", "那满镇电子扶贫车间", "百色市民胜电子设备制造有限公司", "企业", "田阳县", date(2018, 1, 10),
               "农行", account])
    ws.append(["W2", "林逢镇服装扶贫车间", "田东县林逢服装厂", "个体工商户", "田东县", date(2018, 1, 1), "农信社",
               "0123456789"])
    lab = wb.create_sheet("人员")
    lab.append(["身份证号", "姓名", "车间编号", "是否建档立卡贫困劳动力", "协议类型", "协议起始日期"])
    for pid, name, ws_id, start, _ in PEOPLE:
        lab.append([pid, name, ws_id, "是", "劳务协议", start])
    wg = wb.create_sheet("工资")
    end = last[0] * 12 + last[1] - 1
    if template_to is not None:  # wide form, month columns up to `template_to`, blank after `last`
        months = range(2018 * 12, template_to[0] * 12 + template_to[1])
        wg.append(["身份证号", "车间编号", *(f"{m // 12}年{m % 12 + 1}月" for m in months)])
        for pid, _, ws_id, start, pay in PEOPLE:
            s = start.year * 12 + start.month - 1
            wg.append([pid, ws_id, *(pay if s <= m <= end else None for m in months)])
    else:
        wg.append(["身份证号", "车间编号", "月份", "实发工资"])
        for pid, _, ws_id, start, pay in PEOPLE:
            for m in range(start.year * 12 + start.month - 1, end + 1):
                wg.append([pid, ws_id, f"{m // 12}-{m % 12 + 1:02d}", pay])
    for row in extra_wages:
        wg.append(row)
    path = folder / "台账.xlsx"
    wb.save(path)
    return path


def cli(*args: object) -> tuple[int, str, str]:
    res = runner.invoke(app, [str(a) for a in args])
    return res.exit_code, res.stdout, res.stderr


def batch_rows(ledger: Path) -> list[tuple]:
    conn = sqlite3.connect(f"{ledger.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT batch_id, month, people FROM batches ORDER BY batch_id").fetchall()
    finally:
        conn.close()


# --- item 6: a ledger is created explicitly ------------------------------------------------------

def test_commit_to_missing_ledger_creates_nothing(tmp_path: Path) -> None:
    data = build(tmp_path / "数据")
    typo = tmp_path / "账本目录" / "ledgr.sqlite3"
    code, _, err = cli("payout", data, "--month", "2018-06", "--commit", "--ledger", typo)
    assert code == 2 and "不存在" in err and "fupin ledger init" in err and "Traceback" not in err
    assert not typo.parent.exists()


def test_commit_to_missing_default_ledger_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = build(tmp_path / "数据")
    monkeypatch.setenv("FUPIN_LEDGER", str(tmp_path / "默认" / "ledger.sqlite3"))
    code, _, err = cli("payout", data, "--month", "2018-06", "--commit")
    assert code == 2 and "fupin ledger init" in err
    assert not (tmp_path / "默认").exists()


def test_batch_with_missing_ledger_creates_nothing(tmp_path: Path) -> None:
    build(tmp_path / "数据")
    conf = tmp_path / "fupin.toml"
    conf.write_text('input = "数据"\noutput = "输出"\nledger = "账本/ledger.sqlite3"\n', encoding="utf-8")
    code, _, err = cli("batch", "--config", conf, "--month", "2018-06")
    assert code == 2 and "fupin ledger init" in err
    assert not (tmp_path / "账本").exists() and not (tmp_path / "输出").exists()
    code, _, _ = cli("ledger", "init", "--config", conf)
    assert code == 0 and (tmp_path / "账本" / "ledger.sqlite3").is_file()
    code, _, err = cli("batch", "--config", conf, "--month", "2018-06")
    assert code == 0, err
    assert [r[1:] for r in batch_rows(tmp_path / "账本" / "ledger.sqlite3")] == [("2018-06", 1)]


def test_ledger_init_and_new_ledger(tmp_path: Path) -> None:
    data = build(tmp_path / "数据")
    led = tmp_path / "l.sqlite3"
    code, out, _ = cli("ledger", "init", led)
    assert code == 0 and "已新建账本" in out and Ledger.open(led, readonly=True).batches().empty
    assert cli("payout", data, "--month", "2018-06", "--commit", "--ledger", led)[0] == 0
    code, out, _ = cli("ledger", "init", led)  # never empties an existing ledger
    assert code == 0 and "已存在" in out and len(batch_rows(led)) == 1
    other = tmp_path / "新" / "l2.sqlite3"
    code, _, err = cli("payout", data, "--month", "2018-06", "--commit", "--ledger", other, "--new-ledger")
    assert code == 0, err
    assert [r[1:] for r in batch_rows(other)] == [("2018-06", 1)]
    not_ledger = tmp_path / "笔记.txt"
    not_ledger.write_text("不是账本", encoding="utf-8")
    code, _, err = cli("ledger", "init", not_ledger)
    assert code == 2 and not_ledger.read_text(encoding="utf-8") == "不是账本"


# --- item 15: lock timeouts that cannot be right ------------------------------------------------

@pytest.mark.parametrize("value", ["nan", "inf", "-1", "1e9"])
def test_lock_timeout_option_must_be_sane(tmp_path: Path, value: str) -> None:
    data = build(tmp_path / "数据")
    led = tmp_path / "l.sqlite3"
    Ledger.init(led)
    code, _, err = cli("payout", data, "--month", "2018-06", "--commit", "--ledger", led, "--lock-timeout", value)
    assert code == 2 and "--lock-timeout" in err and "Traceback" not in err
    assert batch_rows(led) == []


@pytest.mark.parametrize("value", ["inf", "nan", "-5", "100000"])
def test_lock_timeout_config_must_be_sane(tmp_path: Path, value: str) -> None:
    build(tmp_path / "数据")
    Ledger.init(tmp_path / "l.sqlite3")
    conf = tmp_path / "fupin.toml"
    conf.write_text(f'input = "数据"\noutput = "输出"\nledger = "l.sqlite3"\nlock_timeout = {value}\n', encoding="utf-8")
    code, _, err = cli("batch", "--config", conf, "--month", "2018-06")
    assert code == 2 and "lock_timeout" in err and "0 到 86400" in err.replace("\n", "")
    assert not (tmp_path / "输出").exists() and batch_rows(tmp_path / "l.sqlite3") == []


# --- items 5, 7, 9, 11: outputs never overwrite an input, the ledger or each other ---------------

def digest(path: Path) -> bytes:
    return path.read_bytes()


def test_ledger_export_onto_the_ledger_is_refused(tmp_path: Path) -> None:
    data = build(tmp_path / "数据")
    led = tmp_path / "l.sqlite3"
    Ledger.init(led)
    assert cli("payout", data, "--month", "2018-06", "--commit", "--ledger", led)[0] == 0
    before = digest(led)
    code, _, err = cli("ledger", "export", led, "--ledger", led)
    assert code == 2 and "账本" in err and "Traceback" not in err
    assert digest(led) == before and len(batch_rows(led)) == 1
    alias = tmp_path / "x" / ".." / "l.sqlite3"
    (tmp_path / "x").mkdir()
    assert cli("ledger", "export", alias, "--ledger", led)[0] == 2
    assert digest(led) == before


@pytest.mark.parametrize("command", ["payout", "stats", "eligibility"])
def test_output_onto_an_input_file_is_refused(tmp_path: Path, command: str) -> None:
    data = build(tmp_path / "数据")
    before = digest(data)
    for given in (data, data.parent):  # the file itself, or found in an input folder
        code, _, err = cli(command, given, "--month", "2018-12", "--output", data)
        assert code == 2 and "输入文件" in err and "Traceback" not in err, err
        assert digest(data) == before


def test_payout_commit_with_output_on_input_or_ledger_records_nothing(tmp_path: Path) -> None:
    data = build(tmp_path / "数据")
    led = tmp_path / "l.sqlite3"
    Ledger.init(led)
    before = digest(data)
    code, _, err = cli("payout", data.parent, "--month", "2018-06", "--commit", "--ledger", led, "--output", data)
    assert code == 2 and digest(data) == before and batch_rows(led) == []
    ledger_before = digest(led)
    code, _, err = cli("payout", data, "--month", "2018-06", "--commit", "--ledger", led, "--output", led)
    assert code == 2 and "账本" in err
    assert digest(led) == ledger_before and batch_rows(led) == []
    code, _, err = cli("stats", data, "--month", "2018-06", "--ledger", led, "--output", led)
    assert code == 2 and digest(led) == ledger_before


@pytest.mark.parametrize(("key", "value"), [
    ("ledger", "输出/2018-06/ledger.sqlite3"),
    ("ledger", "数据/ledger.sqlite3"),
    ("log", "输出/2018-06/fupin.log"),
    ("log", "数据/fupin.log"),
    ("log", "l.sqlite3"),
])
def test_batch_config_that_would_lose_the_ledger_or_log_is_refused(tmp_path: Path, key: str, value: str) -> None:
    build(tmp_path / "数据")
    paths = {"ledger": "l.sqlite3", "log": "输出/fupin.log", key: value}
    Ledger.init(tmp_path / paths["ledger"])
    conf = tmp_path / "fupin.toml"
    conf.write_text(f'input = "数据"\noutput = "输出"\nledger = "{paths["ledger"]}"\nlog = "{paths["log"]}"\n',
                    encoding="utf-8")
    code, _, err = cli("batch", "--config", conf, "--month", "2018-06")
    assert code == 2 and key in err and "Traceback" not in err, err
    assert not list(tmp_path.rglob("花名册*")) and batch_rows(tmp_path / paths["ledger"]) == []


def test_batch_ledger_in_output_root_is_fine_and_survives_reruns(tmp_path: Path) -> None:
    build(tmp_path / "数据")
    Ledger.init(tmp_path / "输出" / "ledger.sqlite3")
    conf = tmp_path / "fupin.toml"
    conf.write_text('input = "数据"\noutput = "输出"\nledger = "输出/ledger.sqlite3"\n', encoding="utf-8")
    for _ in range(2):
        code, _, err = cli("batch", "--config", conf, "--month", "2018-06")
        assert code == 0, err
    assert [r[1:] for r in batch_rows(tmp_path / "输出" / "ledger.sqlite3")] == [("2018-06", 1)]


def test_demo_refuses_a_non_empty_folder(tmp_path: Path) -> None:
    folder = tmp_path / "真实数据"
    folder.mkdir()
    mine = folder / "田阳县就业扶贫车间数据.xlsx"  # the name demo would write
    mine.write_bytes(b"real township data")
    code, _, err = cli("demo", folder)
    assert code == 2 and "不是空文件夹" in err
    assert mine.read_bytes() == b"real township data" and len(list(folder.iterdir())) == 1


# --- item 8: months that cannot be right; void ---------------------------------------------------

@pytest.fixture()
def ledger(tmp_path: Path) -> Path:
    led = tmp_path / "l.sqlite3"
    Ledger.init(led)
    return led


@pytest.mark.parametrize("month", ["2099-12", "9999-12"])
def test_commit_of_a_future_month_is_refused(tmp_path: Path, ledger: Path, month: str) -> None:
    data = build(tmp_path / "数据", extra_wages=[[A, "W1", "2099-12", 1200]])  # pay typed into the future
    code, _, err = cli("payout", data, "--month", month, "--commit", "--ledger", ledger)
    assert code == 2 and "还没到" in err and "Traceback" not in err, err
    assert batch_rows(ledger) == []
    # the month after it is still open: nothing blocks it
    assert cli("payout", data, "--month", "2018-12", "--commit", "--ledger", ledger, "--first-run")[0] == 0


def test_commit_after_the_last_month_with_pay_is_refused(tmp_path: Path, ledger: Path) -> None:
    data = build(tmp_path / "数据", last=(2018, 12), template_to=(2019, 6))  # blank columns 2019-01…06
    code, _, err = cli("payout", data, "--month", "2019-03", "--commit", "--ledger", ledger)
    assert code == 2 and "2018年12月" in err and batch_rows(ledger) == []
    conf = tmp_path / "fupin.toml"
    conf.write_text('input = "数据"\noutput = "输出"\nledger = "l.sqlite3"\n', encoding="utf-8")
    code, _, err = cli("batch", "--config", conf, "--month", "2019-01")
    assert code == 2 and "2018年12月" in err and batch_rows(ledger) == []
    code, _, err = cli("payout", data, "--month", "2018-12", "--commit", "--ledger", ledger, "--first-run")
    assert code == 0, err
    assert [r[1:] for r in batch_rows(ledger)] == [("2018-12", 3)]


def ledger_paid(led: Path) -> list[str]:
    with Ledger.open(led, readonly=True) as ledger:
        return sorted(ledger.paid()["id_number"])


def test_void_latest_batch_keeps_it_and_makes_people_payable_again(tmp_path: Path, ledger: Path) -> None:
    data = build(tmp_path / "数据")
    for month in ("2018-06", "2018-08"):
        assert cli("payout", data, "--month", month, "--commit", "--ledger", ledger)[0] == 0
    assert ledger_paid(ledger) == sorted([A, B])
    code, _, err = cli("ledger", "void", "1", "--reason", "试一下", "--ledger", ledger)
    assert code == 2 and "最近" in err  # only the latest batch
    code, _, err = cli("ledger", "void", "2", "--ledger", ledger)
    assert code == 2 and "--reason" in err  # a reason is required
    code, out, err = cli("ledger", "void", "2", "--reason", "田东县工资表有误", "--by", "张三", "--ledger", ledger)
    assert code == 0 and "已作废第 2 批" in out, err
    assert ledger_paid(ledger) == [A]
    conn = sqlite3.connect(ledger)
    row = conn.execute("SELECT status, void_by, void_reason, void_at FROM batches WHERE batch_id = 2").fetchone()
    kept = conn.execute("SELECT count(*), sum(void) FROM payouts WHERE batch_id = 2").fetchone()
    conn.close()
    assert row[:3] == ("void", "张三", "田东县工资表有误") and row[3] and kept == (1, 1)  # nothing deleted
    code, out, _ = cli("ledger", "list", "--ledger", ledger)
    assert "已作废" in out and "田东县工资表有误" in out and "共 1 批" in out
    doc = json.loads(cli("ledger", "list", "--ledger", ledger, "--json")[1])
    assert [(b["batch_id"], b["void"], b["void_by"]) for b in doc["batches"]] == [(1, False, None), (2, True, "张三")]
    doc = json.loads(cli("ledger", "show", "2", "--ledger", ledger, "--json")[1])
    assert doc["batch"]["void"] and doc["batch"]["void_reason"] == "田东县工资表有误" and len(doc["payouts"]) == 1
    export = tmp_path / "导出.xlsx"
    assert cli("ledger", "export", export, "--ledger", ledger)[0] == 0
    cells = [c for row in openpyxl.load_workbook(export)["批次"].iter_rows(values_only=True) for c in row]
    assert "已作废" in cells and "田东县工资表有误" in cells
    # B is payable again: re-running 2018-08 records a new batch with B, once.
    code, out, err = cli("payout", data, "--month", "2018-08", "--commit", "--ledger", ledger, "--json")
    assert code == 0, err
    assert json.loads(out)["batch"]["created"] and [r["id_number"][:6] for r in json.loads(out)["rows"]] == [B[:6]]
    assert ledger_paid(ledger) == sorted([A, B])
    assert [r[:2] for r in batch_rows(ledger)] == [(1, "2018-06"), (2, "2018-08"), (3, "2018-08")]
    code, _, err = cli("ledger", "void", "2", "--reason", "again", "--ledger", ledger)
    assert code == 2 and batch_rows(ledger)[1][0] == 2


# --- items 16, 17, 18: rule output that does not mislead -----------------------------------------

def sheet_rows(path: Path, sheet: str) -> list[dict]:
    ws = openpyxl.load_workbook(path)[sheet]
    rows = list(ws.iter_rows(values_only=True))
    header = rows[1]
    return [dict(zip(header, r, strict=True)) for r in rows[2:] if isinstance(r[0], int)]


def test_error_in_a_column_the_rule_does_not_read_keeps_the_laborers(tmp_path: Path) -> None:
    data = build(tmp_path / "数据", account=6228480000000000017)  # 银行账号 stored as a number
    out = tmp_path / "花名册.xlsx"
    code, stdout, err = cli("payout", data, "--month", "2018-12", "--output", out)
    assert code == 1, err  # the error is still reported…
    assert "银行账号" in stdout and "备注" in stdout
    rows = sheet_rows(out, "奖补名单")
    assert sorted(r["身份证号"] for r in rows) == sorted([A, B, C])  # …but nobody drops off the roster
    assert sum(r["奖补金额"] for r in rows) == 3000
    notes = {r["身份证号"]: r["备注"] for r in rows}
    assert notes[A] == notes[C] == "银行账号有误,发放前请核实" and notes[B] is None
    ws_rows = {r["车间编号"]: r for r in sheet_rows(out, "车间汇总")}
    assert ws_rows["W1"]["备注"] == "银行账号有误,发放前请核实" and ws_rows["W1"]["人数"] == 2
    problems = sheet_rows(out, "数据问题")
    assert any(p.get("列") == "银行账号" or "银行账号" in str(p) for p in problems)
    doc = json.loads(cli("eligibility", data, "--month", "2018-12", "--json")[1])
    assert sorted(r["status"] for r in doc["rows"]) == ["eligible"] * 3


def test_paid_person_whose_data_changed_reads_paid(tmp_path: Path, ledger: Path) -> None:
    data = build(tmp_path / "数据")
    assert cli("payout", data, "--month", "2018-06", "--commit", "--ledger", ledger)[0] == 0
    PEOPLE[0] = (A, "黄秀英", "W1", date(2018, 1, 1), 500)  # the township corrects A's pay afterwards
    try:
        changed = build(tmp_path / "更正")
    finally:
        PEOPLE[0] = (A, "黄秀英", "W1", date(2018, 1, 1), 1200)
    for month in ("2018-06", "2018-08"):
        doc = json.loads(cli("eligibility", changed, "--month", month, "--ledger", ledger, "--json", "--show-id")[1])
        row = next(r for r in doc["rows"] if r["id_number"] == A)
        assert row["status"] == "paid" and "按现有数据" in row["reason"], (month, row)
    preview = json.loads(cli("payout", changed, "--month", "2018-08", "--ledger", ledger, "--json", "--show-id")[1])
    assert [a["id_number"] for a in preview["audit"]] == [A]  # the audit list still says why
    assert A not in [r["id_number"] for r in preview["rows"]]


def test_stats_without_ledger_say_rules(tmp_path: Path, ledger: Path) -> None:
    data = build(tmp_path / "数据")
    code, text, _ = cli("stats", data, "--month", "2018-12", "--text")
    assert code == 0 and "应兑现(按规则测算)" in text and "共计兑现" not in text
    doc = json.loads(cli("stats", data, "--month", "2018-12", "--json")[1])
    assert doc["paid_source"] == "rules" and doc["total"]["paid_people"] == 3
    assert cli("payout", data, "--month", "2018-06", "--commit", "--ledger", ledger)[0] == 0
    code, text, _ = cli("stats", data, "--month", "2018-12", "--text", "--ledger", ledger)
    assert "共计兑现扶贫车间补贴1000元,补贴1人" in text and "按规则测算" not in text
    doc = json.loads(cli("stats", data, "--month", "2018-12", "--json", "--ledger", ledger)[1])
    assert doc["paid_source"] == "ledger" and doc["total"]["paid_people"] == 1


# --- payments made before fupin: import, and the first-run question ------------------------------

def history_file(path: Path, rows: list[list[object]]) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "历史发放"
    ws.append(["XX县就业扶贫车间奖补历史发放名单"])
    ws.append(["序号", "身份证号", "姓名", "车间编号", "发放月份", "发放金额", "凭证号"])
    for i, row in enumerate(rows, 1):
        ws.append([i, *row])
    ws.append(["合计", None, None, None, None, 1000 * len(rows), None])
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def test_imported_history_is_never_paid_again(tmp_path: Path, ledger: Path) -> None:
    data = build(tmp_path / "数据")
    hist = history_file(tmp_path / "历史" / "历史发放名单.xlsx",
                        [[A, "黄秀英", "W1", "2018年7月", "1,000元", "田人社〔2018〕5号"]])
    code, out, err = cli("ledger", "import", hist, "--ledger", ledger)
    assert code == 0 and "历史导入" in out, err
    shown = json.loads(cli("ledger", "show", "1", "--ledger", ledger, "--json", "--show-id")[1])
    assert shown["batch"]["kind"] == "imported"
    assert [(p["id_number"], p["payable_month"], p["amount"], p["reference"]) for p in shown["payouts"]] == [
        (A, "2018-07", 1000.0, "田人社〔2018〕5号")]
    # the first commit is not asked about history now, and A is not paid again
    code, out, err = cli("payout", data, "--month", "2018-12", "--commit", "--ledger", ledger, "--json",
                         "--show-id")
    assert code == 0, err
    assert sorted(r["id_number"] for r in json.loads(out)["rows"]) == sorted([B, C])
    doc = json.loads(cli("eligibility", data, "--month", "2018-12", "--ledger", ledger, "--json", "--show-id")[1])
    assert {r["id_number"]: r["status"] for r in doc["rows"]}[A] == "paid"
    before = batch_rows(ledger)
    code, _, err = cli("ledger", "import", hist, "--ledger", ledger)  # the same list again
    assert code == 2 and "已有发放记录" in err and batch_rows(ledger) == before
    assert "历史导入" in cli("ledger", "list", "--ledger", ledger)[1]


def test_history_with_bad_rows_imports_nothing(tmp_path: Path, ledger: Path) -> None:
    hist = history_file(tmp_path / "历史发放名单.xlsx", [
        [A, "黄秀英", "W1", "2018-07", 1000, None],
        [B[:-1] + ("0" if B[-1] != "0" else "1"), "韦海燕", "W2", "2018-13", -5, None],  # bad ID, month, amount
        [A, "黄秀英", "W2", "2018-08", 1000, None],  # the same person twice
    ])
    code, out, err = cli("ledger", "import", hist, "--ledger", ledger, "--json")
    assert code == 1, err
    doc = json.loads(out)
    assert not doc["imported"] and doc["errors"] >= 4
    where = {(i["sheet"], i["row"], i["column"], i["code"]) for i in doc["issues"]}
    assert ("历史发放", 4, "身份证号", "id.checksum") in where and ("历史发放", 4, "发放金额", "money.negative") in where
    assert ("历史发放", 4, "发放月份", "month.invalid") in where
    assert {("历史发放", r, "身份证号", "key.duplicate") for r in (3, 5)} <= where
    assert batch_rows(ledger) == []
    code, out, _ = cli("ledger", "import", hist, "--ledger", ledger)
    assert code == 1 and "未导入任何记录" in out


def test_first_commit_asks_whether_people_were_paid_by_hand(tmp_path: Path, ledger: Path) -> None:
    data = build(tmp_path / "数据")
    code, _, err = cli("payout", data, "--month", "2018-12", "--commit", "--ledger", ledger)
    flat = err.replace("\n", "")
    assert code == 2 and "账本中没有历史发放记录" in flat and "如以前已人工发放,请先导入" in flat
    assert "确认首次发放请加 --first-run" in flat and batch_rows(ledger) == []
    conf = tmp_path / "fupin.toml"
    conf.write_text('input = "数据"\noutput = "输出"\nledger = "l.sqlite3"\n', encoding="utf-8")
    code, _, err = cli("batch", "--config", conf, "--month", "2018-12")
    assert code == 2 and "--first-run" in err and batch_rows(ledger) == []
    code, _, err = cli("batch", "--config", conf, "--month", "2018-12", "--first-run")
    assert code == 0, err
    assert [r[1:] for r in batch_rows(ledger)] == [("2018-12", 3)]


def test_first_commit_of_people_payable_lately_needs_no_confirmation(tmp_path: Path, ledger: Path) -> None:
    data = build(tmp_path / "数据")
    # A payable from 2018-06: two months before 2018-08 is still "lately"
    code, _, err = cli("payout", data, "--month", "2018-08", "--commit", "--ledger", ledger)
    assert code == 0, err
    assert [r[1:] for r in batch_rows(ledger)] == [("2018-08", 2)]


def test_formula_without_value_in_a_column_the_rule_does_not_read_keeps_the_laborers(tmp_path: Path) -> None:
    data = build(tmp_path / "数据", account="=VLOOKUP(A2,银行!A:B,2,0)")  # saved without its result
    out = tmp_path / "花名册.xlsx"
    code, _, err = cli("payout", data, "--month", "2018-12", "--output", out)
    assert code == 1, err  # reported…
    rows = sheet_rows(out, "奖补名单")
    assert sorted(r["身份证号"] for r in rows) == sorted([A, B, C])  # …but nobody drops off the roster
    notes = {r["身份证号"]: r["备注"] for r in rows}
    assert notes[A] == notes[C] == "银行账号有误,发放前请核实" and notes[B] is None
    assert any("formula" in str(p) or "公式" in str(p) for p in sheet_rows(out, "数据问题"))
