"""`fupin check` end to end (SPEC §3.6, §6.3): summary, --json, --report, exit codes, unreadable input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest
import typer
from typer.testing import CliRunner

from fupin_cli import __version__
from fupin_cli.cli import app
from fupin_cli.cli import common as cli_common
from fupin_cli.commands.check import run_check
from fupin_cli.errors import InputError
from fupin_cli.fsutil import sha256_file
from fupin_cli.problems import problem_title
from fupin_cli.region import load_region
from xlsxfixtures import ID, Fixture, mask, write_clean, write_messy

runner = CliRunner()
ALL_IDS = [v for k, v in ID.items() if k != "p3_old"]


@pytest.fixture(scope="module")
def messy(tmp_path_factory: pytest.TempPathFactory) -> Fixture:
    return write_messy(tmp_path_factory.mktemp("messy"))


@pytest.fixture()
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """A wide terminal so that table cells (IDs, messages) are not wrapped across lines."""
    monkeypatch.setattr(cli_common.console, "width", 250)


def _invoke(*args: str | Path):
    return runner.invoke(app, [str(a) for a in args])


# --- exit codes and the terminal summary -------------------------------------------------------

def test_clean_input_exits_0(tmp_path: Path) -> None:
    res = _invoke("check", write_clean(tmp_path / "clean.xlsx"))
    assert res.exit_code == 0, res.output
    assert "0 个错误" in res.stdout and "未发现数据问题" in res.stdout


def test_messy_input_exits_1_with_summary_grouped_by_sheet(messy: Fixture, wide_console: None) -> None:
    res = _invoke("check", *messy.paths)
    assert res.exit_code == 1, res.output
    out = res.stdout
    ds = run_check(messy.paths, region=load_region()).dataset
    assert f"{ds.errors} 个错误" in out and f"{ds.warnings} 个警告" in out
    rows = {s.table: 0 for s in ds.sheets}
    for s in ds.sheets:
        rows[s.table] += s.rows
    assert f"车间 {rows['workshops']} 行,人员 {rows['laborers']} 行,工资 {rows['wages']} 行" in out
    # Errors first, then warnings; within each, one table per sheet titled "file / sheet".
    titles = [f"{messy.xlsx.name} / 车间", f"{messy.xlsx.name} / 人员", f"{messy.xlsx.name} / 工资",
              f"{messy.csv.name} / 工资补录"]
    assert all(1 <= out.count(t) <= 2 for t in titles), out
    for code in set(ds.problems["code"]):  # the Chinese title, not the English code
        assert problem_title(code) != "数据问题" and problem_title(code) in out and code not in out
    assert "合计行" in out  # the ignored totals rows are mentioned, not silently dropped


def test_terminal_masks_ids_unless_show_id(messy: Fixture, wide_console: None) -> None:
    bad = ID["p5"][:-1] + "0"  # the ID with a wrong check digit, shown as the problem's value
    res = _invoke("check", *messy.paths)
    assert not any(i in res.stdout for i in ALL_IDS + [bad])
    assert mask(bad) in res.stdout
    shown = _invoke("check", *messy.paths, "--show-id")
    assert shown.exit_code == 1 and bad in shown.stdout


# --- --json (SPEC §6.3) --------------------------------------------------------------------------

def test_json_is_the_only_stdout_and_equals_run_check(messy: Fixture) -> None:
    res = _invoke("check", *messy.paths, "--json")
    assert res.exit_code == 1
    doc = json.loads(res.stdout)  # fails if anything else is printed to stdout
    expected = run_check(messy.paths, region=load_region()).to_json()
    assert doc == expected
    assert set(doc) == {"valid", "errors", "warnings", "issues"}
    assert doc["valid"] is False and doc["errors"] == sum(i["severity"] == "error" for i in doc["issues"])
    for issue in doc["issues"]:
        assert set(issue) == {"file", "sheet", "row", "column", "value", "code", "severity", "message"}
        assert isinstance(issue["row"], int)
    # IDs are masked by default, whole with --show-id.
    assert not any(i in res.stdout for i in ALL_IDS)
    checksum = next(i for i in doc["issues"] if i["code"] == "id.checksum")
    assert checksum["value"] == mask(checksum["value"].replace("*", "0")) and "*" in checksum["value"]
    full = _invoke("check", *messy.paths, "--json", "--show-id")
    doc_full = json.loads(full.stdout)
    assert doc_full == run_check(messy.paths, region=load_region()).to_json(mask=False)
    assert ID["p5"][:-1] + "0" in {i["value"] for i in doc_full["issues"]}


def test_json_of_clean_input(tmp_path: Path) -> None:
    res = _invoke("check", write_clean(tmp_path / "clean.xlsx"), "--json")
    assert res.exit_code == 0
    assert json.loads(res.stdout) == {"valid": True, "errors": 0, "warnings": 0, "issues": []}


def test_warnings_only_exit_0(tmp_path: Path) -> None:
    path = write_clean(tmp_path / "clean.xlsx")
    wb = openpyxl.load_workbook(path)
    wb["工资"]["C2"] = "2017-03"  # before the agreement: a warning, not an error
    wb.save(path)
    res = _invoke("check", path, "--json")
    doc = json.loads(res.stdout)
    assert res.exit_code == 0 and doc["valid"] is True
    assert [(i["row"], i["column"], i["code"], i["severity"]) for i in doc["issues"]] == [
        (2, "月份", "wage.outside_agreement", "warning")]


# --- --report ------------------------------------------------------------------------------------

def test_report_writes_problem_list_and_marked_copy(messy: Fixture, tmp_path: Path) -> None:
    before = {p: sha256_file(p) for p in messy.paths}
    mtimes = {p: p.stat().st_mtime_ns for p in messy.paths}
    report = tmp_path / "out" / "问题清单.xlsx"
    res = _invoke("check", *messy.paths, "--report", report)
    assert res.exit_code == 1, res.output
    assert {p: sha256_file(p) for p in messy.paths} == before
    assert {p: p.stat().st_mtime_ns for p in messy.paths} == mtimes
    ds = run_check(messy.paths, region=load_region()).dataset

    ws = openpyxl.load_workbook(report)["问题清单"]
    header_row = next(r for r in range(1, 6) if ws.cell(r, 1).value == "序号")
    headers = [c.value for c in ws[header_row]]
    col = {h: i for i, h in enumerate(headers)}
    listed = []
    for row in ws.iter_rows(min_row=header_row + 1, values_only=True):
        if row[0] == "合计":
            total = row[col["文件"]]
            assert f"错误{ds.errors}条" in total and f"警告{ds.warnings}条" in total
            break
        listed.append((row[col["工作表"]], row[col["行号"]], row[col["列"]], row[col["问题"]],
                       row[col["严重程度"]]))
    # Errors first, then warnings, each in the order check lists them; the Chinese title, not the code.
    order = ds.problems["severity"].map({"error": 0, "warning": 1}).argsort(kind="stable")
    p = ds.problems.iloc[order]
    expected = [(s, int(r), c, problem_title(code), {"error": "错误", "warning": "警告"}[sev]) for s, r, c, code, sev in
                zip(p["sheet"], p["row"], p["column"], p["code"], p["severity"], strict=True)]
    assert listed == expected

    copy = tmp_path / "out" / f"{messy.xlsx.stem}_问题标注.xlsx"
    assert copy.is_file() and not (tmp_path / "out" / f"{messy.csv.stem}_问题标注.xlsx").exists()
    wb = openpyxl.load_workbook(copy)
    r = messy.rows
    for sheet, cell, code, colour in (
        ("车间", f"J{r['车间.withdrawn_early']}", "date.withdrawn_before_certified", "FFFF7C80"),
        ("车间", f"F{r['车间.credit_bad']}", "credit_code.checksum", "FFFFFF00"),
        ("车间", f"B{r['车间.dup_b']}", "key.duplicate", "FFFF7C80"),
        ("人员", f"C{r['人员.p5_check']}", "id.checksum", "FFFF7C80"),
        ("人员", f"D{r['人员.p6_unknown_ws']}", "ref.unknown_workshop", "FFFF7C80"),
        ("工资", f"B{r['工资.p11_name_outside']}", "name.mismatch", "FFFFFF00"),
    ):
        c = wb[sheet][cell]
        assert c.comment is not None and code in c.comment.text, (sheet, cell)
        assert c.fill.fgColor.rgb == colour, (sheet, cell, c.fill.fgColor.rgb)
    # Clean cells stay as they were, and the data itself is the input's.
    assert wb["车间"][f"B{r['车间.ok1']}"].comment is None
    assert wb["人员"][f"C{r['人员.p1']}"].value == ID["p1"]


def test_report_marks_the_wide_month_cell(messy: Fixture, tmp_path: Path) -> None:
    _invoke("check", *messy.paths, "--report", tmp_path / "问题清单.xlsx")
    wb = openpyxl.load_workbook(tmp_path / f"{messy.xlsx.stem}_问题标注.xlsx")
    cell = wb["工资"][f"G{messy.rows['工资.p1_moved_negative']}"]  # column G = 3月
    assert cell.comment is not None and "money.negative" in cell.comment.text


def test_report_never_overwrites_an_input(messy: Fixture, tmp_path: Path) -> None:
    target = tmp_path / messy.xlsx.name
    target.write_bytes(messy.xlsx.read_bytes())
    before = sha256_file(target)
    res = _invoke("check", target, "--report", target)
    assert res.exit_code == 2
    assert sha256_file(target) == before
    assert target.name in res.stderr and "Traceback" not in res.output


def test_report_copies_per_file_use_their_own_columns(tmp_path: Path) -> None:
    """Two townships' 人员 sheets with different column orders: each copy marks its own ID cell."""
    (tmp_path / "a").mkdir()
    base = write_clean(tmp_path / "a" / "数据.xlsx")
    wb = openpyxl.load_workbook(base)
    wb["人员"]["A3"] = ID["p2"][:-1] + ("0" if ID["p2"][-1] != "0" else "1")
    wb.save(base)
    (tmp_path / "b").mkdir()
    other = tmp_path / "b" / "数据.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "人员"
    ws.append(["姓名", "车间编号", "身份证号", "是否建档立卡贫困劳动力", "协议类型", "协议起始日期"])
    ws.append(["农老三", "TD002", "12345", "是", "劳务协议", "2018-03-01"])
    wb.save(other)
    out = tmp_path / "out"
    res = _invoke("check", base, other, "--report", out / "问题清单.xlsx")
    assert res.exit_code == 1, res.output
    copies = sorted(out.glob("数据_问题标注*.xlsx"))
    assert len(copies) == 2  # same file name in two folders: two copies, none overwritten
    marked = {}
    for c in copies:
        ws = openpyxl.load_workbook(c)["人员"]
        marked[c.name] = {cell.coordinate for row in ws.iter_rows() for cell in row if cell.comment}
    assert sorted(marked.values(), key=sorted) == sorted([{"A3"}, {"C2"}], key=sorted)


# --- unreadable input: exit 2, one Chinese line naming the file, no traceback --------------------

def _bad_inputs(d: Path) -> dict[str, Path]:
    good = write_clean(d / "good.xlsx")
    data = good.read_bytes()
    out = {}

    def put(name: str, content: bytes) -> None:
        out[name] = d / name
        out[name].write_bytes(content)

    put("截断.xlsx", data[: len(data) // 2])
    put("乱码.xlsx", b"\x00\x01not a workbook" * 200)
    put("空文件.xlsx", b"")
    # Excel saves a password-protected .xlsx as an OLE2 compound file (EncryptedPackage).
    put("加密.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 4000)
    put("说明.txt", "这不是表格".encode())
    put("假的.xls", b"<html><body>not xls</body></html>")
    put("空.csv", b"")
    put("二进制.csv", b"\x00\x01\x02\x03" * 256)  # a binary file renamed .csv (UTF-16 text is read: test_hostile)
    with zipfile.ZipFile(d / "文档.xlsx", "w") as z:
        z.writestr("word/document.xml", "<w:document/>")
    out["文档.xlsx"] = d / "文档.xlsx"
    wb = openpyxl.Workbook()
    wb.save(d / "空工作簿.xlsx")
    out["空工作簿.xlsx"] = d / "空工作簿.xlsx"
    wb = openpyxl.load_workbook(good)
    del wb["工资"]
    wb.save(d / "缺工资表.xlsx")
    out["缺工资表.xlsx"] = d / "缺工资表.xlsx"
    wb = openpyxl.load_workbook(good)
    wb["人员"].delete_cols(5)  # 协议类型
    wb.save(d / "缺协议类型列.xlsx")
    out["缺协议类型列.xlsx"] = d / "缺协议类型列.xlsx"
    out["不存在.xlsx"] = d / "不存在.xlsx"
    return out


BAD_CASES = {
    "截断.xlsx": "损坏", "乱码.xlsx": "不是有效的Excel", "空文件.xlsx": "空文件", "加密.xlsx": "加密",
    "说明.txt": "不是支持的表格文件", "假的.xls": "网页(HTML)", "空.csv": "空文件", "二进制.csv": "不是CSV",
    "文档.xlsx": "不是Excel工作簿", "空工作簿.xlsx": "空的", "缺工资表.xlsx": "工资表",
    "缺协议类型列.xlsx": "协议类型", "不存在.xlsx": "找不到",
}


@pytest.fixture(scope="module")
def bad_inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return _bad_inputs(tmp_path_factory.mktemp("bad"))


@pytest.mark.parametrize("name", list(BAD_CASES))
def test_unreadable_input_exits_2(bad_inputs: dict[str, Path], name: str) -> None:
    path = bad_inputs[name]
    before = sha256_file(path) if path.exists() else None
    for extra in ([], ["--json"]):
        res = _invoke("check", path, *extra)
        assert res.exit_code == 2, (name, res.output)
        if extra:  # --json: exactly one JSON document, the error (SPEC §6.3)
            doc = json.loads(res.stdout)
            assert list(doc) == ["error"] and doc["error"]["code"].startswith("input.")
            assert doc["error"]["message"] in res.stderr
        else:
            assert res.stdout == ""
        err = res.stderr.strip()
        assert "\n" not in err and name in err and BAD_CASES[name] in err, err
        assert "Traceback" not in res.output
    if before is not None:
        assert sha256_file(path) == before


def test_one_bad_file_among_good_ones_exits_2(bad_inputs: dict[str, Path], tmp_path: Path) -> None:
    res = _invoke("check", write_clean(tmp_path / "clean.xlsx"), bad_inputs["截断.xlsx"])
    assert res.exit_code == 2 and "截断.xlsx" in res.stderr


def test_debug_shows_the_exception(bad_inputs: dict[str, Path]) -> None:
    res = _invoke("--debug", "check", bad_inputs["截断.xlsx"])
    assert isinstance(res.exception, InputError)
    plain = _invoke("check", bad_inputs["截断.xlsx"])  # --debug does not stick to later runs
    assert plain.exit_code == 2 and not isinstance(plain.exception, InputError)


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert _invoke("check").exit_code == 2
    assert _invoke("check", write_clean(tmp_path / "c.xlsx"), "--no-such-option").exit_code == 2
    assert _invoke("check", tmp_path / "c.xlsx", "--region", "999999").exit_code == 2


def test_subprocess_exit_codes_and_clean_stdout(messy: Fixture, bad_inputs: dict[str, Path]) -> None:
    """The real process: stdout holds only the JSON document; a bad file gives no traceback."""
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    run = [sys.executable, "-m", "fupin_cli"]
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "env": env}
    # Both at once: each process spends most of its time importing pandas.
    ok = subprocess.Popen([*run, "check", *map(str, messy.paths), "--json"], **pipes)
    bad = subprocess.Popen([*run, "check", str(bad_inputs["加密.xlsx"])], **pipes)
    ok_out, _ = ok.communicate(timeout=60)
    _, bad_err = bad.communicate(timeout=60)
    assert ok.returncode == 1
    assert json.loads(ok_out.decode("utf-8"))["errors"] > 0
    err = bad_err.decode("utf-8").strip()
    assert bad.returncode == 2 and "加密.xlsx" in err and "\n" not in err and "Traceback" not in err


# --- help and version ------------------------------------------------------------------------------

def _commands() -> list[str]:
    return sorted(typer.main.get_command(app).commands)  # type: ignore[attr-defined]


def test_every_command_has_chinese_help_with_an_example() -> None:
    names = _commands()
    assert {"check", "template"} <= set(names)
    for args in [["--help"], *([n, "--help"] for n in names)]:
        res = runner.invoke(app, args)
        assert res.exit_code == 0, args
        assert "示例" in res.stdout, args
        assert "显示本帮助并退出" in res.stdout, args
        assert any("\u4e00" <= ch <= "\u9fff" for ch in res.stdout.replace("示例", "")), args
    check_help = runner.invoke(app, ["check", "--help"]).stdout
    for opt in ("--json", "--report", "--show-id"):
        assert opt in check_help


def test_version() -> None:
    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0 and __version__ in res.stdout and res.stdout.strip() == f"fupin {__version__}"
