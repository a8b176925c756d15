"""The dataset cache and the three input formats (issue 13): same outputs, cold and cached.

One small dataset, with planted problems, is written as an xlsx workbook, as three CSV files and as
three Parquet files. Each is run through check, payout (roster workbook) and eligibility, with an
empty cache and then again from the cache; every output must be the same as the xlsx cold run.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import stat
from datetime import UTC
from datetime import date as date_
from datetime import datetime as dt_
from datetime import time as time_
from datetime import timedelta as delta_
from pathlib import Path
from typing import Any

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from fupin_cli.cli import app
from xlsxfixtures import ID, bad_check, make_id

runner = CliRunner()
MONTH = "2018-12"

TABLES: dict[str, tuple[list[str], list[list[Any]]]] = {
    "车间": (["车间编号", "车间名称", "经营主体", "主体类型", "县(市、区)", "认定日期"], [
        ["TD001", "田东县祥周镇电子车间", "田东县某电子厂", "企业", "田东县", "2018-01-10"],
        ["TD002", "田东县林逢镇竹编车间", "林逢竹编合作社", "农民专业合作社", "田东县", "2018-02-01"],
        ["TY001", "田阳县那坡镇服装车间", "那坡服装厂", "企业", "田阳县", "2018-01-05"],
    ]),
    "人员": (["身份证号", "姓名", "车间编号", "是否建档立卡贫困劳动力", "协议类型", "协议起始日期"], [
        [ID["p1"], "黄秀英", "TD001", "是", "劳务协议", "2018-03-01"],
        [ID["p2"], "韦小红", "TD001", "是", "劳务协议", "2018-03-01"],
        [ID["p6"], "陆六", "TD002", "否", "劳动合同", "2018-04-01"],
        [ID["p7"], "潘七", "TY001", "是", "劳务协议", "2018-05-01"],
        [bad_check(ID["p8"]), "罗八", "TY001", "是", "劳务协议", "2018-03-01"],  # id.checksum
        [ID["p10"], "梁十", "TD009", "是", "劳务协议", "2018-03-01"],  # ref.unknown_workshop
    ]),
}
_wages = [[pid, ws, f"2018-{m:02d}", pay] for pid, ws, pay in
          ((ID["p1"], "TD001", 1100.0), (ID["p2"], "TD001", 950.0), (ID["p6"], "TD002", 1300.0),
           (ID["p7"], "TY001", 1200.0)) for m in range(3, 13)]
_wages.append([make_id("19700101", 5), "TD001", "2018-06", 1000.0])  # ref.unknown_laborer
_wages.append([ID["p1"], "TD001", "2018-13", 1000.0])  # month.invalid
TABLES["工资"] = (["身份证号", "车间编号", "月份", "实发工资"], _wages)


def write_xlsx(folder: Path) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, (header, rows) in TABLES.items():
        ws = wb.create_sheet(name)
        ws.append(header)
        for r in rows:
            ws.append(r)
    folder.mkdir(parents=True, exist_ok=True)
    wb.save(folder / "数据.xlsx")
    return folder


def write_csv(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, (header, rows) in TABLES.items():
        with open(folder / f"{name}.csv", "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(header)
            w.writerows([[f"{v:g}" if isinstance(v, float) else v for v in r] for r in rows])
    return folder


def write_parquet(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, (header, rows) in TABLES.items():
        cols = {h: [r[j] for r in rows] for j, h in enumerate(header)}
        pq.write_table(pa.table(cols), folder / f"{name}.parquet")
    return folder


def _run(*args: str) -> dict:
    res = runner.invoke(app, list(args))
    assert res.exit_code in (0, 1), res.output
    return json.loads(res.stdout)


def _cells(path: Path) -> dict[str, list[list[Any]]]:
    wb = openpyxl.load_workbook(path, read_only=True)
    return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}


_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?")


def _neutral(obj: Any, folder: Path) -> Any:
    """Outputs with the input's own file names and the run's timestamps taken out."""
    text = json.dumps(obj, ensure_ascii=False, default=str)
    text = text.replace(str(folder), "IN")
    # the problem list names a file by its own name (no folder) where that is enough to tell files apart
    text = re.sub(r"(?<=\")(IN/)?(数据\.xlsx|车间\.(csv|parquet)|人员\.(csv|parquet)|工资\.(csv|parquet))(?=\")",
                  "IN/FILE", text)
    return json.loads(_TIME.sub("TIME", text))


def outputs(folder: Path, out: Path, cache_dir: Path) -> dict[str, Any]:
    c = ["--cache-dir", str(cache_dir)]
    doc = {"check": _run(*c, "check", str(folder), "--json"),
           "payout": _run(*c, "payout", str(folder), "--month", MONTH, "--output", str(out / "花名册.xlsx"), "--json"),
           "eligibility": _run(*c, "eligibility", str(folder), "--month", MONTH, "--json"),
           "explain": _run(*c, "explain", str(folder), "--id", ID["p1"], "--month", MONTH, "--json"),
           "roster": _cells(out / "花名册.xlsx")}
    return _neutral(doc, folder)


@pytest.fixture(scope="module")
def expected(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("xlsx-nocache")
    folder = write_xlsx(tmp / "in")
    res = runner.invoke(app, ["--no-cache", "check", str(folder), "--json"])
    doc = outputs(folder, tmp, tmp / "unused-cache")
    assert json.loads(res.stdout)["issues"] and doc["check"]["issues"]
    return doc


@pytest.mark.parametrize("fmt", ["xlsx", "csv", "parquet"])
def test_same_outputs_every_format_cold_and_cached(expected: dict[str, Any], tmp_path: Path, fmt: str) -> None:
    folder = {"xlsx": write_xlsx, "csv": write_csv, "parquet": write_parquet}[fmt](tmp_path / "in")
    codes = {i["code"] for i in expected["check"]["issues"]}
    assert {"id.checksum", "ref.unknown_workshop", "ref.unknown_laborer", "month.invalid"} <= codes
    assert expected["payout"]["people"] > 0
    cold = outputs(folder, tmp_path / "cold", tmp_path / "cache")
    (tmp_path / "cold").mkdir(exist_ok=True)
    entries = list((tmp_path / "cache").glob("v*/datasets/*/meta.json"))
    assert len(entries) == 1  # written once, then read by the other commands
    warm = outputs(folder, tmp_path / "warm", tmp_path / "cache")
    for name in expected:
        assert cold[name] == expected[name], (fmt, name)
        assert warm[name] == expected[name], (fmt, name, "cached")


def _cache_log(caplog: pytest.LogCaptureFixture, files: bool = False) -> list[str]:
    """The dataset-level cache messages (first 5 characters), or the per-file ones in full."""
    out = [r.getMessage() for r in caplog.records if r.name == "fupin.cache"]
    caplog.clear()
    return [m for m in out if m.startswith("文件")] if files else [m[:5] for m in out if not m.startswith("文件")]


def test_hit_miss_never_stale_private_and_clear(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder = write_csv(tmp_path / "in")
    c = ["--debug", "--cache-dir", str(tmp_path / "cache")]
    caplog.set_level("DEBUG", logger="fupin.cache")
    first = _run(*c, "check", str(folder), "--json")
    assert _cache_log(caplog) == ["缓存未命中", "已写入缓存"]
    assert _run(*c, "check", str(folder), "--json") == first
    assert _cache_log(caplog) == ["缓存命中:"]
    # owner-only: the entry holds whole ID numbers
    for p in (tmp_path / "cache").rglob("*"):
        mode = stat.S_IMODE(p.stat().st_mode)
        assert mode == (0o700 if p.is_dir() else 0o600), (p, oct(mode))
    import pyarrow.feather as feather

    held = [feather.read_table(p).column("id_number").to_pylist() for p in (tmp_path / "cache").rglob("laborers.arrow")]
    assert ID["p1"] in held[0]  # whole ID numbers: hence owner-only
    # a changed file is read again: the new row's problem is there
    with open(folder / "工资.csv", "a", encoding="utf-8", newline="") as fh:
        fh.write(f"{ID['p2']},TD001,2018-07,-5\r\n")
    changed = _run(*c, "check", str(folder), "--json")
    seen = [re.match(r"(文件缓存未?命中):([^(]*)", m) for m in _cache_log(caplog, files=True)]
    assert sorted((m[1], Path(m[2]).name) for m in seen if m) == [
        ("文件缓存命中", "人员.csv"), ("文件缓存命中", "车间.csv"), ("文件缓存未命中", "工资.csv")]  # only it is read
    assert changed["issues"] != first["issues"]
    assert any(i["sheet"] == "工资" and i["row"] == len(TABLES["工资"][1]) + 2 for i in changed["issues"])
    # --no-cache neither reads nor writes; clear removes everything; results do not change
    assert _run("--no-cache", "--cache-dir", str(tmp_path / "other"), "check", str(folder), "--json") == changed
    assert not (tmp_path / "other").exists()
    res = runner.invoke(app, ["cache", "clear", "--cache-dir", str(tmp_path / "cache"), "--json"])
    assert json.loads(res.stdout)["removed"] == 2 + 4  # two datasets, four file reads
    assert not list((tmp_path / "cache").rglob("meta.json"))
    assert _run(*c, "check", str(folder), "--json") == changed


def test_damaged_entry_is_a_miss_and_ledger_keeps_hashes(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    import hashlib
    import sqlite3

    folder = write_parquet(tmp_path / "in")
    c = ["--cache-dir", str(tmp_path / "cache")]
    first = _run(*c, "eligibility", str(folder), "--month", MONTH, "--json")
    for p in (tmp_path / "cache").rglob("wages.arrow"):
        p.write_bytes(p.read_bytes()[:100])  # a torn write, a full disk, …
    caplog.set_level("DEBUG", logger="fupin.cache")
    assert _run(*c, "eligibility", str(folder), "--month", MONTH, "--json") == first
    assert [m[:4] for m in _cache_log(caplog)] == ["缓存条目", "缓存未命", "已写入缓"]
    assert _run(*c, "eligibility", str(folder), "--month", MONTH, "--json") == first
    assert _cache_log(caplog) == ["缓存命中:"]  # repaired
    ledger = tmp_path / "账本.sqlite3"
    _run(*c, "payout", str(folder), "--month", MONTH, "--output", str(tmp_path / "r.xlsx"), "--commit",
         "--ledger", str(ledger), "--new-ledger", "--first-run", "--json")  # from the (rebuilt) cache
    with sqlite3.connect(ledger) as conn:
        rows = conn.execute("SELECT path, sha256 FROM batch_files ORDER BY path").fetchall()
    assert sorted((Path(p).name, h) for p, h in rows) == sorted(
        (f.name, hashlib.sha256(f.read_bytes()).hexdigest()) for f in folder.iterdir())


def test_file_parts_keep_every_cell_kind(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The messy township workbook (dates, text dates, numbers for IDs, merged cells, …) from the
    per-file cache gives the same dataset as reading it."""
    import numpy as np

    from fupin_cli import cache
    from fupin_cli.cache_cells import decode_objects, encode_objects
    from fupin_cli.loading import load_dataset
    from fupin_cli.problems import problems_to_records
    from fupin_cli.region import load_region
    from xlsxfixtures import write_messy

    odd = np.array([None, "2019-03", 1.5, float("nan"), 7, True, date_(2019, 3, 1), dt_(2019, 3, 1, 8, 30),
                    time_(8, 30), delta_(days=2), 452122199001011234], dtype=object)
    back = decode_objects(encode_objects(odd))
    assert [type(v) for v in back] == [type(v) for v in odd]
    assert [repr(v) for v in back] == [repr(v) for v in odd]
    assert encode_objects(np.array([dt_(2019, 3, 1, tzinfo=UTC)], dtype=object)) is None
    assert encode_objects(np.array([10**30], dtype=object)) is None

    fx = write_messy(tmp_path / "messy")
    plain = load_dataset(fx.paths, region=load_region())
    cache.configure(enabled=True, folder=tmp_path / "cache")
    caplog.set_level("DEBUG", logger="fupin.cache")
    load_dataset(fx.paths, region=load_region())
    for entry in (tmp_path / "cache").glob("v*/datasets/*"):
        shutil.rmtree(entry)  # only the per-file entries remain: read from them, validate again
    caplog.clear()
    again = load_dataset(fx.paths, region=load_region())
    assert sum("文件缓存命中" in r.getMessage() for r in caplog.records) == 2
    assert problems_to_records(again.problems) == problems_to_records(plain.problems)
    for key in ("workshops", "laborers", "wages"):
        a, b = getattr(again, key), getattr(plain, key)
        assert a.astype(object).where(a.notna(), None).values.tolist() == \
            b.astype(object).where(b.notna(), None).values.tolist(), key
        assert dict(a.dtypes) == dict(b.dtypes)
    assert again.sheets == plain.sheets and again.notes == plain.notes
