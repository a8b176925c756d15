"""Validation (SPEC §3.6) over township-style messy files: the exact problems, and what is excluded.

Each planted mistake in tests/xlsxfixtures.py must come out as exactly one record naming the sheet,
the Excel row as the user sees it, the column header as written in the file, a stable code and a
severity — and nothing else may be reported (clean rows produce no problems).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from fupin_cli.dataset import Dataset
from fupin_cli.errors import InputError
from fupin_cli.loading import load_dataset
from fupin_cli.months import month_index
from fupin_cli.policy import load_policy
from fupin_cli.region import load_region
from fupin_cli.rules import evaluate
from xlsxfixtures import ID, Fixture, write_clean, write_messy

CJK = re.compile(r"[\u4e00-\u9fff]")
XLSX = "田阳县车间数据.xlsx"
CSV = "工资补录.csv"


@pytest.fixture(scope="module")
def messy(tmp_path_factory: pytest.TempPathFactory) -> tuple[Fixture, Dataset]:
    fx = write_messy(tmp_path_factory.mktemp("messy"))
    return fx, load_dataset(fx.paths, region=load_region())


def _expected(fx: Fixture) -> list[tuple[str, str, int, str, str, str]]:
    """(file name, sheet, Excel row, column as written, code, severity) of every planted mistake."""
    r = fx.rows
    exp = [
        # 车间: header row 3 under a merged title and a 填报单位 line.
        (XLSX, "车间", r["车间.withdrawn_early"], "撤销日期", "date.withdrawn_before_certified", "error"),
        (XLSX, "车间", r["车间.credit_bad"], "信用代码", "credit_code.checksum", "warning"),
        (XLSX, "车间", r["车间.dup_a"], "编号", "key.duplicate", "error"),
        (XLSX, "车间", r["车间.dup_b"], "编号", "key.duplicate", "error"),
        # 人员: aliases, a two-row header (协议期限 over 起始日期/终止日期).
        (XLSX, "人员", r["人员.p3_num15"], "公民身份号码", "id.converted_15", "warning"),
        (XLSX, "人员", r["人员.p4_lost"], "公民身份号码", "id.lost_digits", "error"),
        (XLSX, "人员", r["人员.p5_check"], "公民身份号码", "id.checksum", "error"),
        (XLSX, "人员", r["人员.p6_unknown_ws"], "车间编号", "ref.unknown_workshop", "error"),
        (XLSX, "人员", r["人员.p8_dup_a"], "公民身份号码", "key.duplicate", "error"),
        (XLSX, "人员", r["人员.p8_dup_b"], "公民身份号码", "key.duplicate", "error"),
        (XLSX, "人员", r["人员.p10_end_early"], "协议期限/终止日期", "date.end_before_start", "error"),
        (XLSX, "人员", r["人员.no_name"], "姓名", "required.missing", "error"),
        # 工资, wide: a month cell is named by its group and month header.
        (XLSX, "工资", r["工资.p1"], "2019年/1月", "wage.multiple_rows", "warning"),
        (XLSX, "工资", r["工资.p3_num15"], "身份证号码", "id.converted_15", "warning"),
        (XLSX, "工资", r["工资.p2_not_registered"], "身份证号码", "ref.unknown_laborer", "error"),
        (XLSX, "工资", r["工资.p1_moved_negative"], "2019年/3月", "money.negative", "error"),
        (XLSX, "工资", r["工资.p11_name_outside"], "姓名", "name.mismatch", "warning"),
        (XLSX, "工资", r["工资.p1_unknown_ws"], "车间编号", "ref.unknown_workshop", "error"),
        # 工资补录.csv (GBK, long form).
        (CSV, "工资补录", r["csv.p12_bad_month"], "发放月份", "month.invalid", "error"),
        (CSV, "工资补录", r["csv.p12_bad_money"], "实发工资(元)", "money.unparseable", "error"),
        (CSV, "工资补录", r["csv.p12_bad_days"], "出勤天数", "int.range", "error"),
        (CSV, "工资补录", r["csv.p1_jan_again"], "发放月份", "wage.multiple_rows", "warning"),
    ]
    # p11's agreement runs 2019-03..2019-08: pay in the other six months is outside it.
    exp += [(XLSX, "工资", r["工资.p11_name_outside"], f"2019年/{m}月", "wage.outside_agreement", "warning")
            for m in (1, 2, 9, 10, 11, 12)]
    return exp


def _found(ds: Dataset) -> list[tuple[str, str, int, str, str, str]]:
    p = ds.problems
    return [(Path(f).name, s, int(r), c, code, sev) for f, s, r, c, code, sev in
            zip(p["file"], p["sheet"], p["row"], p["column"], p["code"], p["severity"], strict=True)]


def test_exactly_the_planted_problems(messy: tuple[Fixture, Dataset]) -> None:
    fx, ds = messy
    assert Counter(_found(ds)) == Counter(_expected(fx))
    assert ds.errors == sum(1 for e in _expected(fx) if e[5] == "error")
    assert ds.warnings == sum(1 for e in _expected(fx) if e[5] == "warning")


def test_clean_rows_have_no_problems(messy: tuple[Fixture, Dataset], tmp_path: Path) -> None:
    fx, ds = messy
    rows = {(s, int(r)) for s, r in zip(ds.problems["sheet"], ds.problems["row"], strict=True)}
    for label in ("车间.ok1", "车间.ok2", "人员.p1", "人员.p2", "人员.p1_moved", "人员.p11", "人员.p12",
                  "工资.p2"):
        assert (label.split(".")[0], fx.rows[label]) not in rows, label
    assert ("工资补录", fx.rows["csv.p2_jul"]) not in rows and ("工资补录", fx.rows["csv.p2_aug"]) not in rows
    # Title rows, header rows and 合计 rows are never reported.
    for sheet in ("车间", "人员", "工资"):
        assert not any(s == sheet and r <= 3 for s, r in rows)
    assert ("车间", fx.rows["车间.total"]) not in rows and ("工资", fx.rows["工资.total"]) not in rows
    clean = load_dataset([write_clean(tmp_path / "clean.xlsx")], region=load_region())
    assert clean.problems.empty
    assert clean.laborers["valid"].all() and clean.workshops["valid"].all()
    assert len(clean.wages) == 21


def test_problem_records_carry_value_and_chinese_message(messy: tuple[Fixture, Dataset]) -> None:
    fx, ds = messy
    p = ds.problems
    assert list(p.columns) == ["file", "sheet", "row", "column", "value", "code", "severity", "message", "county_code",
                               "name"]
    # every problem on a row of a known workshop carries that workshop's county (for county rosters)
    assert p["county_code"].dropna().isin([c.code for c in load_region().counties]).all()
    assert all(CJK.search(m) for m in p["message"]), "every message is Chinese"
    assert set(p["severity"]) == {"error", "warning"}
    by = {(s, int(r), c): (v, m) for s, r, c, v, m in
          zip(p["sheet"], p["row"], p["code"], p["value"], p["message"], strict=True)}
    # The value is the cell as the user typed it, not the normalised value.
    assert by[("车间", fx.rows["车间.withdrawn_early"], "date.withdrawn_before_certified")][0] == "2018年1月1日"
    assert by[("工资补录", fx.rows["csv.p12_bad_money"], "money.unparseable")][0] == "一千"
    assert by[("工资", fx.rows["工资.p1_moved_negative"], "money.negative")][0] == "-500"
    # A wide month cell shows the pay typed in it.
    assert by[("工资", fx.rows["工资.p11_name_outside"], "wage.outside_agreement")][0] == "1000"
    assert by[("人员", fx.rows["人员.p3_num15"], "id.converted_15")][0] == ID["p3_old"]
    # The messages say what to fix.
    assert "校验位" in by[("人员", fx.rows["人员.p5_check"], "id.checksum")][1]
    assert "文本" in by[("人员", fx.rows["人员.p4_lost"], "id.lost_digits")][1]
    assert "韦晓明" in by[("工资", fx.rows["工资.p11_name_outside"], "name.mismatch")][1]
    dup = by[("车间", fx.rows["车间.dup_a"], "key.duplicate")][1]
    assert f"第{fx.rows['车间.dup_a']}行" in dup and f"第{fx.rows['车间.dup_b']}行" in dup
    assert p["file"].map(lambda f: Path(f).name).isin([XLSX, CSV]).all()


def _lab(ds: Dataset, id_number: str, workshop: str) -> pd.Series:
    hit = ds.laborers[(ds.laborers["id_number"] == id_number) & (ds.laborers["workshop_id"] == workshop)]
    assert len(hit) == 1, (id_number, workshop, len(hit))
    return hit.iloc[0]


def test_rows_with_errors_are_excluded(messy: tuple[Fixture, Dataset]) -> None:
    fx, ds = messy
    valid = {"p1": "TY001", "p2": "TY001", "p3": "TY002", "p11": "TY004"}
    for who, wsid in valid.items():
        row = _lab(ds, ID[who], wsid)
        assert row["valid"] and row["invalid_reason"] is None, who
    invalid = {
        ("p6", "TY999"): "车间编号在车间表中不存在",
        ("p7", "TY003"): "所属车间",  # the workshop row has an error (撤销日期 before 认定日期)
        ("p10", "TY001"): "终止日期",
        ("p1", "TY002"): f"工资表第{fx.rows['工资.p1_moved_negative']}行",
        ("p12", "TY001"): f"工资补录表第{fx.rows['csv.p12_bad_month']}行",
        ("no_name", "TY001"): "人员表",
    }
    for (who, wsid), why in invalid.items():
        row = _lab(ds, ID[who], wsid)
        assert not row["valid"], who
        assert isinstance(row["invalid_reason"], str) and why in row["invalid_reason"], (who, row["invalid_reason"])
    dups = ds.laborers[ds.laborers["id_number"] == ID["p8"]]
    assert len(dups) == 2 and not dups["valid"].any()
    # IDs that could not be read at all form no pair: they are only in the problem list.
    assert ds.laborers["_row"].isin([fx.rows["人员.p4_lost"], fx.rows["人员.p5_check"]]).sum() == 0
    ws = ds.workshops.set_index("_row")["valid"]
    assert ws[fx.rows["车间.ok1"]] and ws[fx.rows["车间.credit_bad"]]  # a warning does not exclude
    assert not ws[fx.rows["车间.withdrawn_early"]]
    assert not ws[fx.rows["车间.dup_a"]] and not ws[fx.rows["车间.dup_b"]]


def test_wages_keep_good_rows_only(messy: tuple[Fixture, Dataset]) -> None:
    fx, ds = messy
    w = ds.wages
    xlsx_src = {i for i, s in enumerate(ds.sheets) if s.sheet == "工资"}
    csv_src = {i for i, s in enumerate(ds.sheets) if s.sheet == "工资补录"}
    from_xlsx = w[w["_src"].isin(xlsx_src)]
    from_csv = w[w["_src"].isin(csv_src)]
    for label in ("p2_not_registered", "p1_unknown_ws"):
        assert not (from_xlsx["_row"] == fx.rows[f"工资.{label}"]).any(), label
    for label in ("p12_bad_month", "p12_bad_money", "p12_bad_days"):
        assert not (from_csv["_row"] == fx.rows[f"csv.{label}"]).any(), label
    # Only the negative cell of the p1/TY002 row is dropped, its other months are kept.
    neg = from_xlsx[from_xlsx["_row"] == fx.rows["工资.p1_moved_negative"]]
    assert sorted(neg["month"]) == [month_index(2019, m) for m in (1, 2, 4)]
    assert (w["pay"] >= 0).all()
    totals = w.groupby(["id_number", "workshop_id"])["pay"].agg(["size", "sum"])
    # p1: 12 × 1100 in the wide sheet + 100 for January again in the csv.
    assert tuple(totals.loc[(ID["p1"], "TY001")]) == (13, 13300.0)
    # p2: "1,200.50", "1200元", "¥1200", 1200, 1200 (April empty) + csv "1,300" (2019/7), "1300元" (201908).
    assert tuple(totals.loc[(ID["p2"], "TY001")]) == (7, 8600.5)
    p2 = w[(w["id_number"] == ID["p2"])].sort_values("month")
    assert list(p2["month"]) == [month_index(2019, m) for m in (1, 2, 3, 5, 6, 7, 8)]
    # The 15-digit ID typed as a number is converted and its wages follow it.
    assert tuple(totals.loc[(ID["p3"], "TY002")]) == (6, 6000.0)
    assert len(w) == int(totals["size"].sum())


def test_messy_values_are_normalised(messy: tuple[Fixture, Dataset]) -> None:
    fx, ds = messy
    ws = ds.workshops.set_index("_row")
    ok2 = ws.loc[fx.rows["车间.ok2"]]
    assert ok2["certified"] == pd.Timestamp(2018, 6, 1)  # "2018.6.1" typed as text
    assert ok2["county_code"] == "451003" and ok2["county"] == "田阳区"
    # 田阳县 (former name) and 451021 (former code) both mean today's 田阳区.
    assert set(ds.workshops["county_code"]) == {"451003"}
    assert ws.loc[fx.rows["车间.credit_bad"], "certified"] == pd.Timestamp(2018, 9, 1)  # "20180901"
    p2 = _lab(ds, ID["p2"], "TY001")
    assert p2["start"] == pd.Timestamp(2019, 1, 5) and p2["poor"]  # "2019年1月5日", "√"
    assert p2["contract_type"] == "承揽合同"
    p3 = _lab(ds, ID["p3"], "TY002")
    assert p3["start"] == pd.Timestamp(2019, 2, 1) and p3["end"] == pd.Timestamp(2020, 1, 31)
    assert p3["relocated"] and p3["name"] == "农老三"
    assert not _lab(ds, ID["p12"], "TY001")["poor"]
    counts = {s.sheet: (s.header_row, s.rows, s.ignored, s.wide) for s in ds.sheets}
    assert counts == {"车间": (3, 6, 1, False), "人员": (3, 14, 1, False), "工资": (3, 7, 1, True),
                      "工资补录": (1, 6, 1, False)}
    assert any("说明" in n for n in ds.notes)  # the extra sheet is skipped with a note, not an error


def test_the_rest_still_computes(messy: tuple[Fixture, Dataset]) -> None:
    _, ds = messy
    dec = evaluate(ds, month_index(2019, 12), load_policy()).decisions
    status = {(i, w): s for i, w, s in zip(dec["id_number"], dec["workshop_id"], dec["status"], strict=True)}
    for who, wsid in (("p1", "TY001"), ("p2", "TY001"), ("p3", "TY002"), ("p11", "TY004")):
        assert status[(ID[who], wsid)] == "eligible", who
    for who, wsid in (("p6", "TY999"), ("p7", "TY003"), ("p10", "TY001"), ("p1", "TY002"), ("p12", "TY001")):
        assert status[(ID[who], wsid)] == "invalid_data", who
    assert len(dec) == len(ds.laborers)


def test_missing_table_is_an_input_error(tmp_path: Path) -> None:
    import openpyxl

    wb = openpyxl.load_workbook(write_clean(tmp_path / "只有车间和人员.xlsx"))
    del wb["工资"]
    wb.save(tmp_path / "只有车间和人员.xlsx")
    with pytest.raises(InputError) as exc:
        load_dataset([tmp_path / "只有车间和人员.xlsx"], region=load_region())
    assert "只有车间和人员.xlsx" in exc.value.message and "工资" in exc.value.message


def test_table_split_over_files_is_concatenated(tmp_path: Path) -> None:
    """人员 rows of a second township file are read too, with their own file, sheet and row."""
    import openpyxl

    a = write_clean(tmp_path / "a.xlsx")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "人员(那坡镇)"
    ws.append(["那坡镇务工人员名册"])
    ws.append(["序号", "身份证号码", "姓名", "车间编号", "建档立卡", "合同类型", "入职日期"])
    ws.append([1, ID["p11"], "韦晓明", "TD002", "是", "劳务协议", "2018-04-01"])
    ws.append([2, ID["p12"], "岑十二", "TD404", "是", "劳务协议", "2018-04-01"])
    wb.save(tmp_path / "b.xlsx")
    ds = load_dataset([a, tmp_path / "b.xlsx"], region=load_region())
    assert len(ds.laborers) == 5
    assert _found(ds) == [("b.xlsx", "人员(那坡镇)", 4, "车间编号", "ref.unknown_workshop", "error")]
