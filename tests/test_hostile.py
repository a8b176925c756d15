"""Hostile and odd input files (issue 10, SPEC §9): bounded memory, one Chinese line, never a crash or a leak.

Every file is built here, in a temporary folder. The CLI runs in a child process limited to 4 GB
of address space (as `ulimit -v`), so an allocation of the whole used range or a decompression
bomb would abort it (exit 134) instead of passing by luck on a large machine.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fupin_cli.cli import app
from hostile import (
    bomb_xlsx,
    lie_about_size,
    one_chinese_line,
    patch_xlsx,
    run_cli,
    sheet_member,
    with_cells,
)
from xlsxfixtures import ID, write_clean

WAGES_HEAD = "身份证号,车间编号,月份,实发工资\n"


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_clean(tmp_path_factory.mktemp("clean") / "clean.xlsx")


def _wages_xml(clean: Path) -> tuple[str, bytes]:
    member = sheet_member(clean, "工资")
    with zipfile.ZipFile(clean) as zf:
        return member, zf.read(member)


def _long_shared_string(clean: Path, dst: Path, cells: int) -> Path:
    """One 32,767-character shared string used by `cells` cells of the 工资 sheet."""
    member, _ = _wages_xml(clean)
    rows = "".join(f'<row r="{i}"><c r="E{i}" t="s"><v>0</v></c></row>' for i in range(100, 100 + cells))
    sst = ('<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
           f' count="{cells}" uniqueCount="1"><si><t>{"长" * 32767}</t></si></sst>')
    types = lambda x: x.replace(  # noqa: E731
        b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                     b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
    rels = lambda x: x.replace(  # noqa: E731
        b"</Relationships>", b'<Relationship Id="rIdSST" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                             b'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>')
    return patch_xlsx(clean, dst, {member: lambda x: with_cells(x, rows), "xl/sharedStrings.xml": sst.encode(),
                                   "[Content_Types].xml": types, "xl/_rels/workbook.xml.rels": rels})


def _bomb(clean: Path, dst: Path, *, lie: bool = False) -> Path:
    """1.1 GB of sheet XML (empty rows) in a ~1 MB file; optionally a zip header that says 1 KB."""
    member, xml = _wages_xml(clean)
    cut = xml.index(b"</sheetData>")
    bomb_xlsx(clean, dst, member, xml[:cut], b"<row/>" * 1000, 185_000, xml[cut:])
    if lie:
        lie_about_size(dst, member, 1024)
    return dst


HOSTILE = {
    # name: (builder, words the message must contain)
    "XFD1048576.xlsx": (lambda c, d: patch_xlsx(c, d, {sheet_member(c, "工资"): lambda x: with_cells(
        x, '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')}), "XFD1048576"),
    "XFD5000.xlsx": (lambda c, d: patch_xlsx(c, d, {sheet_member(c, "工资"): lambda x: with_cells(
        x, '<row r="5000"><c r="XFD5000"><v>1</v></c></row>')}), "XFD5000"),
    "炸弹.xlsx": (lambda c, d: _bomb(c, d), "解压后超过"),
    # zipfile stops at the declared size and the CRC then fails: refused as damaged, never read on
    "谎报大小.xlsx": (lambda c, d: _bomb(c, d, lie=True), "无法解压"),
    "长文字.xlsx": (lambda c, d: _long_shared_string(c, d, 30_000), "文字内容展开后超过"),
}


@pytest.fixture(scope="module")
def hostile(clean: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("hostile")
    return {name: build(clean, d / name) for name, (build, _) in HOSTILE.items()}


@pytest.mark.parametrize("name", list(HOSTILE))
@pytest.mark.parametrize("command", ["check", "payout"])
def test_hostile_workbook_is_refused_within_4gb(hostile: dict[str, Path], name: str, command: str) -> None:
    args = [command, hostile[name]] + (["--month", "2018-12"] if command == "payout" else [])
    res = run_cli(args)
    assert res.returncode == 2, (res.returncode, res.stderr[-2000:])
    line = one_chinese_line(res.stderr)
    assert HOSTILE[name][1] in line and name in line, line
    assert res.stdout == ""
    doc = json.loads(run_cli([*args, "--json"]).stdout)
    assert doc["error"]["code"] in ("input.too_large", "input.corrupt")


def test_hostile_workbook_in_batch_exits_2(hostile: dict[str, Path], tmp_path: Path) -> None:
    data = tmp_path / "数据"
    data.mkdir()
    (data / "x.xlsx").write_bytes(hostile["XFD1048576.xlsx"].read_bytes())
    conf = tmp_path / "fupin.toml"
    conf.write_text('input = "数据"\noutput = "输出"\nledger = "ledger.sqlite3"\n', encoding="utf-8")
    res = run_cli(["batch", "--config", conf, "--month", "2018-12", "--new-ledger"])
    assert res.returncode == 2, res.stderr[-2000:]
    assert "XFD1048576" in one_chinese_line(res.stderr)


def test_a_long_string_used_a_few_times_is_read(clean: Path, tmp_path: Path) -> None:
    """The limit counts amplification, not honest text: 20 cells of 32,767 characters are fine."""
    res = run_cli(["check", _long_shared_string(clean, tmp_path / "ok.xlsx", 20), "--json"])
    assert res.returncode in (0, 1), res.stderr
    assert "valid" in json.loads(res.stdout)


# --- reader panics ----------------------------------------------------------------------------

class PanicException(BaseException):
    """Stands for pyo3_runtime.PanicException (a BaseException, as calamine's and fastexcel's are)."""


def test_reader_panic_is_a_chinese_error(clean: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import python_calamine as pc

    def panic(*_a: object, **_k: object) -> None:
        raise PanicException("index out of bounds")

    monkeypatch.setattr(pc.CalamineSheet, "to_python", panic)
    res = CliRunner().invoke(app, ["check", str(clean)])
    assert res.exit_code == 2, res.output
    assert "无法读取" in res.stderr and "clean.xlsx" in res.stderr


def test_panic_outside_reading_is_an_internal_error_not_success(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from fupin_cli.commands import batch as batch_mod

    def panic(*_a: object, **_k: object) -> None:
        raise PanicException("boom")

    monkeypatch.setattr(batch_mod, "run_batch", panic)
    conf = tmp_path / "fupin.toml"
    conf.write_text('input = "数据"\noutput = "输出"\nledger = "l.sqlite3"\n', encoding="utf-8")
    res = CliRunner().invoke(app, ["batch", "--config", str(conf), "--json"])
    assert res.exit_code not in (0, 1), res.output
    assert json.loads(res.stdout)["error"]["code"] == "internal"


# --- text from data is printed literally ----------------------------------------------------------

MARKUP_NAMES = ["韦[/]", "黄[/bold]秀", "[link=http://evil.example]陆[/link]"]


def _csv_inputs(folder: Path, names: list[str]) -> list[Path]:
    """车间/人员/工资 as three CSV files (CSV keeps control characters, which XML cannot)."""
    folder.mkdir(parents=True, exist_ok=True)
    people = [(ID["p1"], names[0]), (ID["p2"], names[1]), (ID["p6"], names[2])]
    (folder / "车间.csv").write_text("车间编号,车间名称,经营主体,主体类型,县(市、区),认定日期\n"
                                     "TD001,电子[/]车间,[bold]某厂,企业,田东县,2018-01-10\n", encoding="utf-8")
    (folder / "人员.csv").write_text(
        "身份证号,姓名,车间编号,是否建档立卡贫困劳动力,协议类型,协议起始日期\n"
        + "".join(f"{pid},{name},TD001,是,劳务协议,2018-03-01\n" for pid, name in people), encoding="utf-8")
    (folder / "工资.csv").write_text(
        WAGES_HEAD + "".join(f"{pid},TD001,2018-{m:02d},1100\n" for pid, _ in people for m in range(3, 10))
        + f"{ID['p6']},TD001,2018-10,abc[/]\x1b[31m\n", encoding="utf-8")
    return [folder / "车间.csv", folder / "人员.csv", folder / "工资.csv"]


@pytest.mark.parametrize("command", ["check", "payout", "eligibility"])
def test_markup_and_escapes_in_data_are_printed_literally(tmp_path: Path, command: str) -> None:
    names = [*MARKUP_NAMES[:2], "陆\x1b[2J\x1b]8;;http://evil\x07x"]
    files = _csv_inputs(tmp_path / "数据[/]", names)
    extra = ["--month", "2018-12", "--show-id"] if command != "check" else ["--show-id"]
    res = run_cli([command, *files, *extra])
    assert res.returncode in (0, 1), res.stderr[-3000:]
    assert "Traceback" not in res.stderr
    out = res.stdout + res.stderr
    assert "\x1b" not in out and "\x07" not in out
    if command != "check":
        assert "黄[/bold]秀" in res.stdout and "韦[/]" in res.stdout
    else:
        assert "abc[/]\\x1b[31m" in res.stdout


def test_markup_in_a_path_does_not_crash_batch(tmp_path: Path) -> None:
    root = tmp_path / "[/bold]根"
    _csv_inputs(root / "数据", MARKUP_NAMES)
    conf = root / "fupin.toml"
    conf.write_text('input = "数据"\noutput = "输出[/]"\nledger = "l[/].sqlite3"\n', encoding="utf-8")
    res = run_cli(["batch", "--config", conf, "--month", "2018-09", "--new-ledger", "--first-run"])
    assert res.returncode in (0, 1), res.stderr[-3000:]
    assert "输出[/]" in res.stdout and "Traceback" not in res.stderr


# --- odd paths and streams ------------------------------------------------------------------

def test_fifo_and_device_named_csv_are_refused_not_waited_on(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "x.csv"
    os.mkfifo(fifo)
    zero = tmp_path / "zero.csv"
    zero.symlink_to("/dev/zero")
    for path in (fifo, zero):
        res = run_cli(["check", path], timeout=30)
        assert res.returncode == 2, res.stderr
        assert "不是普通文件" in one_chinese_line(res.stderr)


def test_output_that_is_a_folder_is_exit_2_in_chinese(clean: Path, tmp_path: Path) -> None:
    for args in (["payout", clean, "--month", "2018-12", "--output", tmp_path],
                 ["eligibility", clean, "--month", "2018-12", "--output", tmp_path],
                 ["stats", clean, "--month", "2018-12", "--output", tmp_path]):
        res = CliRunner().invoke(app, [*map(str, args), "--json"])
        assert res.exit_code == 2, (args, res.output)
        err = json.loads(res.stdout)["error"]
        assert "文件夹" in err["message"] and str(tmp_path) in err["message"], err


def test_ledger_show_of_a_huge_batch_number_is_not_found(clean: Path, tmp_path: Path) -> None:
    ledger = tmp_path / "l.sqlite3"
    runner = CliRunner()
    made = runner.invoke(app, ["payout", str(clean), "--month", "2018-12", "--commit", "--ledger", str(ledger),
                               "--new-ledger"])
    if made.exit_code == 2 and "--new-ledger" in made.stderr:  # before explicit ledger creation existed
        made = runner.invoke(app, ["payout", str(clean), "--month", "2018-12", "--commit", "--ledger", str(ledger)])
    assert ledger.exists(), made.output
    for number in ("99999999999999999999", "9223372036854775808"):
        res = runner.invoke(app, ["ledger", "show", number, "--ledger", str(ledger)])
        assert res.exit_code == 2, res.output
        assert "没有编号为" in res.stderr


def test_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    import subprocess
    import sys

    from hostile import _limit

    rows = "".join(f"45212219900101{i:04d},某某,TD001,是,劳务协议,2018-03-01\n" for i in range(3000))
    files = _three_csv(tmp_path, rows)  # 3,000 bad ID numbers: a JSON document far larger than a pipe holds
    proc = subprocess.Popen([sys.executable, "-m", "fupin_cli", "check", *map(str, files), "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=_limit)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.read(10)
    proc.stdout.close()  # as `| head -c 10` does
    err = proc.stderr.read().decode()
    code = proc.wait(timeout=60)
    assert err == "", err
    assert code == 141


def test_usage_error_with_json_is_one_json_document(tmp_path: Path) -> None:
    res = run_cli(["check", tmp_path / "none.xlsx", "--json", "--no-such-option"])
    assert res.returncode == 2
    assert json.loads(res.stdout)["error"]["code"] == "usage"
    res = run_cli(["payout", tmp_path / "none.xlsx", "--json"])
    assert res.returncode == 2 and json.loads(res.stdout)["error"]["code"] == "input.not_found"


# --- CSV that was refused for the wrong reason --------------------------------------------------

LABORERS_HEAD = "身份证号,姓名,车间编号,是否建档立卡贫困劳动力,协议类型,协议起始日期\n"
WORKSHOPS_CSV = "车间编号,车间名称,经营主体,主体类型,县(市、区),认定日期\nTD001,电子车间,某厂,企业,田东县,2018-01-10\n"


def _three_csv(folder: Path, laborers: str, *, encoding: str = "utf-8", tab: bool = False) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    files = {"车间.csv": WORKSHOPS_CSV, "人员.csv": LABORERS_HEAD + laborers,
             "工资.csv": WAGES_HEAD + "".join(f"{ID['p1']},TD001,2018-{m:02d},1100\n" for m in range(3, 10))}
    for name, text in files.items():
        (folder / name).write_bytes((text.replace(",", "\t") if tab else text).encode(encoding))
    return [folder / n for n in files]


def _check_json(files: list[Path], *extra: str) -> dict:
    res = CliRunner().invoke(app, ["check", *map(str, files), "--json", *extra])
    assert res.exit_code in (0, 1), res.output
    return json.loads(res.stdout)


def test_utf16_tab_separated_csv_is_read(tmp_path: Path) -> None:
    """Excel's "Unicode 文本": UTF-16 with a BOM, tab-separated."""
    doc = _check_json(_three_csv(tmp_path, f"{ID['p1']},黄秀英,TD001,是,劳务协议,2018-03-01\n",
                                 encoding="utf-16", tab=True))
    assert doc["valid"] and doc["errors"] == 0, doc


def test_a_nul_byte_is_reported_at_its_cell(tmp_path: Path) -> None:
    pid = ID["p2"]
    doc = _check_json(_three_csv(tmp_path, f"{ID['p1']},黄秀英,TD001,是,劳务协议,2018-03-01\n"
                                           f"{pid[:5]}\x00{pid[5:]},韦小红,TD001,是,劳务协议,2018-03-01\n"))
    bad = [i for i in doc["issues"] if i["severity"] == "error"]
    assert [(i["file"].endswith("人员.csv"), i["row"], i["column"]) for i in bad] == [(True, 3, "身份证号")]


def test_a_200kb_field_does_not_reject_the_file(tmp_path: Path) -> None:
    doc = _check_json(_three_csv(tmp_path, f"{ID['p1']},{'长' * 200_000},TD001,是,劳务协议,2018-03-01\n"))
    assert doc["errors"] == 0, doc


# --- anything that looks like an ID number is masked ------------------------------------------------

@pytest.mark.parametrize("written", [
    "452122 19900101 1234", "452122-1990-0101-1234", "452122\u00a0199001011234", "4521221990010112345",
    "45212219900101123456"])
def test_id_like_values_are_masked_in_check(tmp_path: Path, written: str) -> None:
    files = _three_csv(tmp_path, f"{ID['p1']},黄秀英,TD001,是,劳务协议,2018-03-01\n"
                                 f"{written},韦小红,TD001,是,劳务协议,2018-03-01\n")
    digits = re.sub(r"\D", "", written)
    doc = _check_json(files)
    text = json.dumps(doc, ensure_ascii=False)
    assert doc["errors"] >= 1
    assert digits[6:-4] not in re.sub(r"\D", "", text.replace(digits[:6], "#")), text
    assert written not in text
    table = CliRunner().invoke(app, ["check", *map(str, files)], env={"COLUMNS": "250"})
    assert digits[6:-4] not in re.sub(r"[^0-9\n]", "", table.stdout), table.stdout


def test_explain_does_not_echo_an_id_written_with_hyphens(clean: Path) -> None:
    res = CliRunner().invoke(app, ["explain", str(clean), "--id", "452122-19900101-9999", "--month", "2018-12"])
    assert res.exit_code == 2
    assert "19900101" not in res.stderr and "452122" in res.stderr, res.stderr
    res = CliRunner().invoke(app, ["explain", str(clean), "--id", "4521221990010199991", "--month", "2018-12"])
    assert res.exit_code == 2 and "1990010199" not in res.stderr, res.stderr


# --- silent misreads -------------------------------------------------------------------------

def _write_book(path: Path, *, epoch1904: bool = False, start: object = "2018-03-01",
                pays: tuple[object, ...] = (1100,) * 7, extra_sheets: dict[str, str] | None = None,
                hidden_rows: tuple[int, ...] = (), autofilter: bool = False) -> Path:
    """The clean workbook (2 workshops, 3 laborers), with the first laborer's start date and pays given."""
    import openpyxl
    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    from xlsxfixtures import write_clean

    write_clean(path)
    wb = openpyxl.load_workbook(path)
    if epoch1904:
        wb.epoch = CALENDAR_MAC_1904
    wb["人员"]["F2"] = start
    ws = wb["工资"]
    for i, pay in enumerate(pays):
        ws.cell(row=2 + i, column=4, value=pay)
    for r in hidden_rows:
        ws.row_dimensions[r].hidden = True
    if autofilter:
        ws.auto_filter.ref = f"A1:D{ws.max_row}"
    for title, state in (extra_sheets or {}).items():
        copy = wb.copy_worksheet(wb["工资"])
        copy.title = title
        copy.sheet_state = state
    wb.save(path)
    return path


def _explain(path: Path, *extra: str) -> dict:
    res = CliRunner().invoke(app, ["explain", str(path), "--id", ID["p1"], "--month", "2018-12", "--json",
                                   "--show-id", *extra])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def test_pay_above_a_monthly_ceiling_is_an_error(tmp_path: Path) -> None:
    """An ID number pasted into the pay column (4.5e17), or 1e308: an error, never a sum."""
    path = _write_book(tmp_path / "w.xlsx", pays=(1100, 452122199001011234, 1e308, 1100, 1100, 1100, 1100))
    doc = _check_json([path])
    big = [i for i in doc["issues"] if i["code"] == "money.too_large"]
    assert [(i["sheet"], i["row"], i["severity"]) for i in big] == [("工资", 3, "error"), ("工资", 4, "error")]
    assert "199001011234" not in json.dumps(doc)
    res = CliRunner().invoke(app, ["explain", str(path), "--id", ID["p1"], "--month", "2018-12", "--json"])
    json.loads(res.stdout)  # valid JSON: no Infinity
    assert "Infinity" not in res.stdout and "NaN" not in res.stdout


def test_1904_workbook_reads_a_date_typed_as_a_number(tmp_path: Path) -> None:
    """In a 1904-system workbook the serial 41698 is 2018-03-01 (in the 1900 system it is 2014-02-28)."""
    doc = _explain(_write_book(tmp_path / "mac.xlsx", epoch1904=True, start=41698))
    assert doc["pairs"][0]["start"] == "2018-03-01", doc["pairs"][0]
    doc = _explain(_write_book(tmp_path / "pc.xlsx", start=43160))
    assert doc["pairs"][0]["start"] == "2018-03-01"


@pytest.mark.parametrize("state", ["hidden", "veryHidden"])
def test_hidden_sheets_are_not_data(tmp_path: Path, state: str) -> None:
    """An old wage sheet kept "for reference" in a hidden sheet doubles nobody's pay."""
    path = _write_book(tmp_path / "h.xlsx", extra_sheets={"工资(旧)": state})
    doc = _explain(path)
    assert doc["pairs"][0]["wages"] == 6600, doc["pairs"][0]  # 6 months of 1,100 元: counted once
    visible = _explain(_write_book(tmp_path / "v.xlsx", extra_sheets={"工资(旧)": "visible"}))
    assert visible["pairs"][0]["wages"] == 13200  # the same sheet visible is data: pay counted twice
    res = CliRunner().invoke(app, ["check", str(path)], env={"COLUMNS": "250"})
    assert "隐藏工作表“工资(旧)”不作为数据读取" in res.stdout.replace("\n", "")


@pytest.mark.parametrize("autofilter", [False, True])
def test_hidden_rows_are_data_with_a_warning(tmp_path: Path, autofilter: bool) -> None:
    """Hidden (or filtered-out) rows are counted, and the problem list warns once per run of rows."""
    path = _write_book(tmp_path / "r.xlsx", hidden_rows=(3, 4, 6), autofilter=autofilter)
    assert _explain(path)["pairs"][0]["wages"] == 6600
    doc = _check_json([path])
    hidden = [i for i in doc["issues"] if i["code"] == "sheet.hidden_rows"]
    assert [(i["file"], i["sheet"], i["row"], i["value"], i["severity"]) for i in hidden] == [
        (str(path), "工资", 3, "3-4", "warning"), (str(path), "工资", 6, "6", "warning")], doc["issues"]
    assert "第3至4行" in hidden[0]["message"] and "计入" in hidden[0]["message"] and "删除" in hidden[0]["message"]
    assert "第6行" in hidden[1]["message"]
    assert ("筛选" in hidden[0]["message"]) == autofilter
    assert doc["valid"] and doc["errors"] == 0, doc  # a warning: the rows are used


def test_hidden_row_warnings_come_back_from_the_file_cache(tmp_path: Path) -> None:
    """A file read from the per-file cache warns about its hidden rows like a file read afresh."""
    import shutil

    from fupin_cli import cache
    from fupin_cli.loading import load_dataset
    from fupin_cli.problems import problems_to_records
    from fupin_cli.region import load_region

    path = _write_book(tmp_path / "r.xlsx", hidden_rows=(3, 4))
    plain = problems_to_records(load_dataset([path], region=load_region()).problems)
    assert [i["value"] for i in plain if i["code"] == "sheet.hidden_rows"] == ["3-4"]
    cache.configure(enabled=True, folder=tmp_path / "cache")
    load_dataset([path], region=load_region())
    for entry in (tmp_path / "cache").glob("v*/datasets/*"):
        shutil.rmtree(entry)  # only the per-file entry remains
    assert problems_to_records(load_dataset([path], region=load_region()).problems) == plain


# --- refused for the wrong reason: .xls that are something else ---------------------------------

def test_real_xlsx_named_xls_is_read(clean: Path, tmp_path: Path) -> None:
    renamed = tmp_path / "另存.xls"
    renamed.write_bytes(clean.read_bytes())
    res = CliRunner().invoke(app, ["check", str(renamed), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["valid"]


@pytest.mark.parametrize(("content", "words"), [
    # an encrypted .xlsx is an OLE2 file with an EncryptedPackage stream, whatever its name
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 1000 + "EncryptedPackage".encode("utf-16-le") + b"\x00" * 500,
     "已加密"),
    ("<html><head><meta charset='utf-8'></head><body><table><tr><td>身份证号</td></tr></table></body></html>"
     .encode(), "网页(HTML)"),
    (b'<?xml version="1.0"?>\n<?mso-application progid="Excel.Sheet"?>\n'
     b'<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"><Worksheet ss:Name="S"/></Workbook>',
     "Excel 2003 XML"),
])
def test_odd_xls_is_named_for_what_it_is(tmp_path: Path, content: bytes, words: str) -> None:
    path = tmp_path / "导出.xls"
    path.write_bytes(content)
    res = run_cli(["check", path])
    assert res.returncode == 2
    line = one_chinese_line(res.stderr)
    assert words in line and "导出.xls" in line, line
    if words != "已加密":
        assert "另存为" in line


# --- reading is complete or it fails (issue 9, item 12) --------------------------------------------

def test_symlink_leaving_the_input_folder_is_exit_2(clean: Path, tmp_path: Path) -> None:
    data = tmp_path / "数据"
    data.mkdir()
    (data / "a.xlsx").write_bytes(clean.read_bytes())
    outside = tmp_path / "别处"
    outside.mkdir()
    (outside / "b.xlsx").write_bytes(clean.read_bytes())
    (data / "乡镇").symlink_to(outside, target_is_directory=True)
    res = CliRunner().invoke(app, ["check", str(data), "--json"])
    assert res.exit_code == 2, res.output
    err = json.loads(res.stdout)["error"]
    assert err["code"] == "input.outside_link" and "乡镇" in err["message"]


def test_link_inside_the_folder_is_fine(clean: Path, tmp_path: Path) -> None:
    data = tmp_path / "数据"
    (data / "乡镇").mkdir(parents=True)
    (data / "乡镇" / "a.xlsx").write_bytes(clean.read_bytes())
    (data / "快捷方式").symlink_to(data / "乡镇", target_is_directory=True)
    res = CliRunner().invoke(app, ["check", str(data), "--json"])
    assert res.exit_code == 0, res.output


def test_unreadable_sub_folder_is_exit_2(clean: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    data = tmp_path / "数据"
    (data / "乡镇").mkdir(parents=True)
    (data / "a.xlsx").write_bytes(clean.read_bytes())
    (data / "乡镇" / "b.xlsx").write_bytes(clean.read_bytes())
    real = os.scandir

    def scandir(path: object = ".") -> object:  # as for a folder without read permission (tests may run as root)
        if str(path).endswith("乡镇"):
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "scandir", scandir)
    res = CliRunner().invoke(app, ["check", str(data)])
    assert res.exit_code == 2, res.output
    assert "乡镇" in res.stderr and "没有权限" in res.stderr and "漏读" in res.stderr


# --- fupin's own results among the inputs (issue 9, item 10) ---------------------------------------

def test_results_saved_into_the_input_folder_are_skipped_with_a_note(clean: Path, tmp_path: Path) -> None:
    data = tmp_path / "数据"
    data.mkdir()
    (data / "台账.xlsx").write_bytes(clean.read_bytes())
    runner = CliRunner()

    def payout() -> dict:
        res = runner.invoke(app, ["payout", str(data), "--month", "2018-12", "--json", "--show-id"])
        assert res.exit_code == 0, res.output
        return json.loads(res.stdout)

    before = payout()
    assert before["people"] == 3
    for args in (["payout", str(data), "--month", "2018-12", "--output", str(data / "花名册.xlsx")],
                 ["check", str(data), "--report", str(data / "问题清单.xlsx")],
                 ["stats", str(data), "--month", "2018-12", "--output", str(data / "统计.xlsx")],
                 ["eligibility", str(data), "--month", "2018-12", "--output", str(data / "核定结果.xlsx")]):
        res = runner.invoke(app, args)
        assert res.exit_code == 0, (args, res.output)
    assert len(list(data.glob("*.xlsx"))) >= 5
    after = payout()
    assert (after["people"], after["amount"]) == (before["people"], before["amount"])
    res = runner.invoke(app, ["check", str(data)], env={"COLUMNS": "300"})
    assert res.exit_code == 0, res.output
    for name in ("花名册.xlsx", "问题清单.xlsx", "统计.xlsx", "核定结果.xlsx"):
        assert f"{name}”是fupin生成的结果文件" in res.stdout.replace("\n", ""), (name, res.stdout)


def test_a_template_is_read_like_any_input(tmp_path: Path) -> None:
    from fupin_cli.sources.workbook import Workbook

    res = CliRunner().invoke(app, ["template", str(tmp_path / "模板")])
    assert res.exit_code == 0, res.output
    (made,) = (tmp_path / "模板").glob("*.xlsx")
    assert not Workbook(made, made.name).fupin_result


# --- --json on every command -------------------------------------------------------------------

def test_template_and_demo_take_json(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["template", str(tmp_path / "模板"), "--json"])
    assert res.exit_code == 0, res.output
    files = json.loads(res.stdout)["files"]
    assert files and all(Path(f).exists() for f in files)
    res = CliRunner().invoke(app, ["template", str(files[0]), "--json"])  # a file, not a folder
    assert res.exit_code == 2 and "error" in json.loads(res.stdout)
    res = CliRunner().invoke(app, ["demo", str(files[0]), "--json"])
    assert res.exit_code == 2 and "error" in json.loads(res.stdout)


# --- a problem list longer than Excel's rows continues on further sheets ----------------------------

def test_problem_report_splits_over_sheets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import openpyxl

    from fupin_cli.workbooks import problems as problems_mod

    monkeypatch.setattr(problems_mod, "ROWS_PER_SHEET", 4)  # stands for 1,048,560 rows
    rows = "".join(f"45212219900101{i:04d},某某,TD001,是,劳务协议,2018-03-01\n" for i in range(10))
    files = _three_csv(tmp_path / "数据", rows)
    report = tmp_path / "问题清单.xlsx"
    res = CliRunner().invoke(app, ["check", *map(str, files), "--report", str(report), "--json"])
    assert res.exit_code == 1, res.output
    n = json.loads(res.stdout)["errors"]
    assert n >= 10
    wb = openpyxl.load_workbook(report, read_only=True)
    parts = [s for s in wb.sheetnames if s.startswith("问题清单")]
    assert parts == ["问题清单"] + [f"问题清单({k})" for k in range(2, len(parts) + 1)]
    assert len(parts) == -(-n // 4)
    listed = []
    for name in parts:
        for row in wb[name].iter_rows(values_only=True):
            if row and isinstance(row[0], int):
                listed.append(row[0])
    assert listed == list(range(1, n + 1))  # every problem once, numbered across the sheets


# --- formulas: the cached value is used, an error value or a missing result is said as such --------

def test_formula_error_and_missing_result_are_reported_as_such(clean: Path, tmp_path: Path) -> None:
    import openpyxl

    src = tmp_path / "src.xlsx"
    wb = openpyxl.load_workbook(clean)
    wb["工资"]["D3"] = "=1/0"  # openpyxl saves a formula without its result
    wb.save(src)
    member = sheet_member(src, "工资")

    def cells(x: bytes) -> bytes:
        t = x.decode()
        t = re.sub(r'<c r="D5"[^>]*><v>1100</v></c>', '<c r="D5" t="e"><f>1/0</f><v>#DIV/0!</v></c>', t)
        t = re.sub(r'<c r="D6"[^>]*><v>1100</v></c>', '<c r="D6"><f>C6*2</f><v>1100</v></c>', t)
        return t.encode()

    path = patch_xlsx(src, tmp_path / "公式.xlsx", {member: cells})
    doc = _check_json([path])
    found = sorted((i["row"], i["code"], i["value"]) for i in doc["issues"])
    assert found == [(3, "cell.formula_no_value", "=1/0"), (5, "cell.formula_error", "#DIV/0!")], found


def test_error_value_in_a_wide_month_cell_is_not_read_as_no_pay(tmp_path: Path) -> None:
    import openpyxl

    src = tmp_path / "src.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "车间"
    ws.append(["车间编号", "车间名称", "经营主体", "主体类型", "县(市、区)", "认定日期"])
    ws.append(["TD001", "电子车间", "某厂", "企业", "田东县", "2018-01-10"])
    ws = wb.create_sheet("人员")
    ws.append(["身份证号", "姓名", "车间编号", "是否建档立卡贫困劳动力", "协议类型", "协议起始日期"])
    ws.append([ID["p1"], "黄秀英", "TD001", "是", "劳务协议", "2018-03-01"])
    ws = wb.create_sheet("工资")
    ws.append(["身份证号", "车间编号", *[f"2018年{m}月" for m in range(3, 10)]])
    ws.append([ID["p1"], "TD001", *[1100] * 7])
    wb.save(src)
    member = sheet_member(src, "工资")
    path = patch_xlsx(src, tmp_path / "宽表.xlsx", {member: lambda x: re.sub(
        rb'<c r="E2"[^>]*><v>1100</v></c>', b'<c r="E2" t="e"><f>1/0</f><v>#DIV/0!</v></c>', x)})
    doc = _check_json([path])
    bad = [(i["row"], i["column"], i["value"]) for i in doc["issues"] if i["severity"] == "error"]
    assert bad == [(2, "2018年5月", "#DIV/0!")], doc["issues"]


@pytest.mark.parametrize("large", [False, True])
def test_formula_without_result_below_the_head_of_a_large_sheet(clean: Path, tmp_path: Path, large: bool,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """On the large-sheet path (head by calamine, body by fastexcel) a formula saved without its result
    is said as such too, not as an empty required cell."""
    import openpyxl

    from fupin_cli.sources import workbook as workbook_mod

    monkeypatch.setattr(workbook_mod, "FAST_MIN_BYTES", 0 if large else 1 << 62)
    wb = openpyxl.load_workbook(clean)
    ws = wb["工资"]
    for col in range(1, ws.max_column + 1):  # row 3's laborer again, far below the head rows
        ws.cell(row=40, column=col, value=ws.cell(row=3, column=col).value)
    ws["D40"] = "=C40*2"  # openpyxl saves a formula without its result
    path = tmp_path / "大表.xlsx"
    wb.save(path)
    doc = _check_json([path])
    found = [(i["row"], i["code"], i["value"]) for i in doc["issues"] if i["row"] == 40]
    assert found == [(40, "cell.formula_no_value", "=C40*2")], doc["issues"]
