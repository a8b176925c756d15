"""`fupin ledger list|show|export` over a ledger with two recorded batches."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from fupin_cli.cli import app
from fupin_cli.commands.ledger import batch_json, batches_json, list_batches, show_batch
from fupin_cli.dataset import InputFile
from fupin_cli.errors import EXIT_USAGE
from fupin_cli.fsutil import sha256_file
from fupin_cli.ledger import Ledger
from fupin_cli.months import month_index

runner = CliRunner()
ID1, ID2, ID3 = "451021198001010019", "452122198502020028", "451022199003030037"  # shapes only; never validated


def roster(rows: list[tuple[str, str, str, str, str, float]], month: int) -> pd.DataFrame:
    ids, names, ws, codes, counties, amounts = zip(*rows, strict=True)
    return pd.DataFrame({
        "id_number": ids, "name": names, "workshop_id": ws, "workshop_name": [f"{w}车间" for w in ws],
        "county_code": codes, "county": counties,
        "qualified_month": pd.array([month - 1] * len(rows), dtype="Int64"),
        "payable_month": pd.array([month] * len(rows), dtype="Int64"), "amount": amounts,
    })


@pytest.fixture()
def ledger(tmp_path: Path) -> Path:
    src = tmp_path / "台账.xlsx"
    src.write_bytes(b"input workbook bytes")
    files = [InputFile(path=src, sha256=sha256_file(src), size=src.stat().st_size)]
    path = tmp_path / "账本.sqlite3"
    with Ledger.open(path, create=True) as led:
        led.record_batch(month_index(2018, 6), roster([(ID1, "黄秀英", "W1", "451003", "田阳区", 1000.0)],
                                                      month_index(2018, 6)),
                         policy="gx-2018", policy_version="2018.1", files=files)
        led.record_batch(month_index(2018, 8), roster([(ID2, "韦海燕", "W2", "451022", "田东县", 1000.0),
                                                       (ID3, "农建国", "W3", "451022", "田东县", 2000.0)],
                                                      month_index(2018, 8)),
                         policy="gx-2018", policy_version="2018.1", files=files)
    return path


def test_list_table_and_json(ledger: Path) -> None:
    res = runner.invoke(app, ["ledger", "list", "--ledger", str(ledger)])
    assert res.exit_code == 0, res.output
    assert "2018-06" in res.stdout and "2018-08" in res.stdout and "共 2 批,3 人次,4,000.00 元" in res.stdout
    res = runner.invoke(app, ["ledger", "list", "--ledger", str(ledger), "--json"])
    doc = json.loads(res.stdout)
    assert doc == json.loads(json.dumps(batches_json(ledger, list_batches(ledger)), ensure_ascii=False))
    assert [(b["month"], b["people"], b["amount"], b["files"]) for b in doc["batches"]] == [
        ("2018-06", 1, 1000.0, 1), ("2018-08", 2, 3000.0, 1)]


def test_list_and_show_name_the_county_not_its_code(ledger: Path) -> None:
    """A one-county batch shows the county's name under 范围 (issue 8: it showed the code 451022)."""
    with Ledger.open(ledger) as led:
        led.record_batch(month_index(2018, 9), roster([("451022199104040046", "陆小平", "W3", "451022", "田东县", 500.0)],
                                                      month_index(2018, 9)),
                         policy="gx-2018", policy_version="2018.1", files=[], county_code="451022")
    res = runner.invoke(app, ["ledger", "list", "--ledger", str(ledger)])
    assert res.exit_code == 0, res.output
    line = next(ln for ln in res.stdout.splitlines() if "2018-09" in ln)
    assert "田东县" in line and "451022" not in line
    assert "全市" in next(ln for ln in res.stdout.splitlines() if "2018-06" in ln)
    doc = json.loads(runner.invoke(app, ["ledger", "list", "--ledger", str(ledger), "--json"]).stdout)
    assert [(b["county_code"], b["county"]) for b in doc["batches"]] == [
        (None, None), (None, None), ("451022", "田东县")]
    shown = runner.invoke(app, ["ledger", "show", "3", "--ledger", str(ledger)])
    assert "2018-09,田东县," in shown.stdout
    assert json.loads(runner.invoke(app, ["ledger", "show", "3", "--ledger", str(ledger), "--json"]).stdout)[
        "batch"]["county"] == "田东县"


def test_show_masks_ids_unless_asked(ledger: Path, tmp_path: Path) -> None:
    res = runner.invoke(app, ["ledger", "show", "2", "--ledger", str(ledger)])
    assert res.exit_code == 0, res.output
    assert "韦海燕" in res.stdout and ID2 not in res.stdout and "452122********0028" in res.stdout
    assert sha256_file(tmp_path / "台账.xlsx") in res.stdout and "黄秀英" not in res.stdout
    full = runner.invoke(app, ["ledger", "show", "2", "--ledger", str(ledger), "--show-id", "--json"])
    doc = json.loads(full.stdout)
    assert doc == json.loads(json.dumps(batch_json(show_batch(ledger, 2), mask=False), ensure_ascii=False))
    assert {p["id_number"] for p in doc["payouts"]} == {ID2, ID3}
    assert doc["batch"]["month"] == "2018-08" and doc["files"][0]["sha256"] == sha256_file(tmp_path / "台账.xlsx")
    masked = json.loads(runner.invoke(app, ["ledger", "show", "2", "--ledger", str(ledger), "--json"]).stdout)
    assert all("*" in p["id_number"] for p in masked["payouts"])


def test_export_whole_ledger(ledger: Path, tmp_path: Path) -> None:
    out = tmp_path / "导出" / "账本导出.xlsx"
    res = runner.invoke(app, ["ledger", "export", str(out), "--ledger", str(ledger)])
    assert res.exit_code == 0, res.output
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["批次", "发放明细", "输入文件"]
    cells = [c for row in wb["发放明细"].iter_rows() for c in row]
    ids = [c for c in cells if c.value in (ID1, ID2, ID3)]
    assert len(ids) == 3 and all(c.data_type == "s" for c in ids)  # whole and as text: it is the audit record
    assert "身份证号" in [c.value for c in cells]


def test_missing_ledger_or_batch_exit_2(ledger: Path, tmp_path: Path) -> None:
    missing = tmp_path / "没有.sqlite3"
    for args in (["list"], ["show", "1"], ["export", str(tmp_path / "x.xlsx")]):
        res = runner.invoke(app, ["ledger", *args, "--ledger", str(missing)])
        assert res.exit_code == EXIT_USAGE and "不存在" in res.stderr
    assert not missing.exists() and not (tmp_path / "x.xlsx").exists()
    res = runner.invoke(app, ["ledger", "show", "99", "--ledger", str(ledger)])
    assert res.exit_code == EXIT_USAGE and "没有编号为 99 的批次" in res.stderr


def test_ledger_path_from_config(ledger: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    conf = tmp_path / "fupin.toml"
    conf.write_text(f'input = "数据"\noutput = "输出"\nledger = "{ledger.name}"\n', encoding="utf-8")
    monkeypatch.delenv("FUPIN_LEDGER", raising=False)
    monkeypatch.delenv("FUPIN_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)  # ./fupin.toml is found without --config
    res = runner.invoke(app, ["ledger", "list", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["ledger"] == str(ledger)
    other = tmp_path / "sub"
    other.mkdir()
    monkeypatch.chdir(other)
    res = runner.invoke(app, ["ledger", "list", "--config", str(conf), "--json"])
    assert len(json.loads(res.stdout)["batches"]) == 2
