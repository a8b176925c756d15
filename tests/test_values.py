"""Normalisers of raw cell values (SPEC §3.4, DESIGN.md "values.py")."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import make_id
from fupin_cli import values as V
from fupin_cli.months import month_index
from fupin_cli.privacy import mask_id, mask_ids
from fupin_cli.region import load_region
from fupin_cli.values import ids as ids_module

TODAY = dt.date(2024, 6, 30)
FULLWIDTH = str.maketrans({chr(0x30 + i): chr(0xFF10 + i) for i in range(10)} | {"X": "Ｘ", "x": "ｘ"})


def col(*cells: object) -> pd.Series:
    return pd.Series(list(cells), dtype=object)


def codes(res: V.Normalised) -> list[str]:
    return res.issues["code"].tolist()


def only_issue(res: V.Normalised) -> pd.Series:
    assert len(res.issues) == 1, res.issues
    return res.issues.iloc[0]


# ---------------------------------------------------------------- ID numbers (GB 11643-1999)

valid_ids = st.builds(
    make_id,
    area=st.integers(110000, 659999).map(str),
    birth=st.dates(dt.date(1900, 1, 1), TODAY),
    seq=st.integers(0, 999),
)


def test_check_digit_matches_the_standard_examples():
    # GB 11643-1999 appendix examples.
    assert V.id_check_digit("11010519491231002") == "X"
    assert V.id_check_digit("44052418800101001") == "4"
    with pytest.raises(ValueError):
        V.id_check_digit("1234")


def test_valid_ids_pass_unchanged_and_empty_cells_are_na_without_issue():
    res = V.normalise_id(col("11010519491231002X", "452122199001011239", None, np.nan, "  ", ""), today=TODAY)
    assert res.values.tolist()[:2] == ["11010519491231002X", "452122199001011239"]
    assert res.values[2:].isna().all()
    assert res.issues.empty
    assert list(res.issues.columns) == ["idx", "code", "severity", "message"]


@pytest.mark.parametrize(
    "raw",
    [
        "11010519491231002x",
        " 11010519491231002X ",
        "110105 19491231 002X",
        "\u300011010519491231002X\u3000",
        "'11010519491231002X",
        "１１０１０５１９４９１２３１００２ｘ",
    ],
)
def test_reformatted_ids_are_used_with_a_warning(raw):
    res = V.normalise_id(col(raw), today=TODAY)
    assert res.values[0] == "11010519491231002X"
    issue = only_issue(res)
    assert (issue.code, issue.severity) == ("id.reformatted", "warning")


@pytest.mark.parametrize("raw", ["110105491231002", 110105491231002, 110105491231002.0])
def test_old_15_digit_numbers_are_converted(raw):
    res = V.normalise_id(col(raw), today=TODAY)
    assert res.values[0] == "11010519491231002X"
    issue = only_issue(res)
    assert (issue.code, issue.severity) == ("id.converted_15", "warning")


@pytest.mark.parametrize(
    "raw",
    [4.52122199001011e17, 452122199001011000, "4.52122E+17", "4.52122e+17", "452122199001011000.0", 1.1e15],
)
def test_numbers_that_lost_digits_are_errors_never_guessed(raw):
    res = V.normalise_id(col(raw), today=TODAY)
    assert res.values.isna().all()
    issue = only_issue(res)
    assert (issue.code, issue.severity) == ("id.lost_digits", "error")
    assert "Excel" in issue.message and "文本格式" in issue.message


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("1101051949123100", "id.length"),
        (12345, "id.length"),
        ("11010519491231002A", "id.chars"),
        ("1101051949X231002X", "id.chars"),
        ("张三", "id.chars"),
        (True, "id.chars"),
        (dt.date(2019, 1, 1), "id.chars"),
        (make_id(dt.date(2000, 1, 1), 1, "452122")[:12] + "30" + "0011", "id.checksum"),
    ],
)
def test_malformed_ids(raw, code):
    res = V.normalise_id(col(raw), today=TODAY)
    assert res.values.isna().all()
    assert codes(res) == [code]
    assert res.issues.severity.tolist() == ["error"]


@pytest.mark.parametrize("ymd", ["19900230", "19901301", "18991231", "20240701"])
def test_impossible_birth_dates(ymd):
    first17 = f"452122{ymd}123"
    res = V.normalise_id(col(first17 + V.id_check_digit(first17)), today=TODAY)
    assert codes(res) == ["id.birthdate"]
    assert res.values.isna().all()


def test_checksum_message_names_the_expected_character():
    res = V.normalise_id(col("110105194912310021"), today=TODAY)
    issue = only_issue(res)
    assert issue.code == "id.checksum"
    assert "应为X" in issue.message


def test_issues_carry_the_input_index_labels():
    s = pd.Series(["11010519491231002X", "bad", "11010519491231002x", "bad"], index=["r7", "r8", "r9", "r10"])
    res = V.normalise_id(s, today=TODAY)
    assert res.values.index.tolist() == ["r7", "r8", "r9", "r10"]
    assert res.issues[["idx", "code"]].values.tolist() == [
        ["r8", "id.chars"],
        ["r9", "id.reformatted"],
        ["r10", "id.chars"],
    ]


@given(valid_ids)
def test_valid_ids_round_trip(id_number):
    res = V.normalise_id(col(id_number), today=TODAY)
    assert res.values[0] == id_number
    assert res.issues.empty


@given(valid_ids, st.sampled_from(["fullwidth", "lower", "spaces", "apostrophe"]), st.integers(0, 17))
def test_variants_normalise_to_the_same_id(id_number, variant, at):
    raw = {
        "fullwidth": id_number.translate(FULLWIDTH),
        "lower": id_number.lower(),
        "spaces": f" {id_number[:at]} {id_number[at:]}\u3000",
        "apostrophe": "'" + id_number,
    }[variant]
    res = V.normalise_id(col(raw), today=TODAY)
    assert res.values[0] == id_number
    assert codes(res) == ([] if raw == id_number else ["id.reformatted"])


@given(valid_ids, st.integers(0, 17), st.integers(1, 10))
def test_any_single_character_change_is_caught(id_number, pos, shift):
    alphabet = "0123456789X" if pos == 17 else "0123456789"
    old = alphabet.index(id_number[pos])
    new = alphabet[(old + shift) % len(alphabet)]
    if new == id_number[pos]:
        return
    changed = id_number[:pos] + new + id_number[pos + 1 :]
    res = V.normalise_id(col(changed), today=TODAY)
    assert res.values.isna().all()
    assert codes(res)[0] in {"id.checksum", "id.birthdate"}


def test_birth_dates_age_and_masks():
    a = make_id(dt.date(1990, 1, 1), 12, "452122")
    b = make_id(dt.date(2000, 2, 29), 34, "452122")
    ids = pd.Series([a, b, None], index=[3, 4, 5])
    assert V.birth_dates(ids).tolist()[:2] == [pd.Timestamp(1990, 1, 1), pd.Timestamp(2000, 2, 29)]
    assert V.birth_dates(ids).dtype == "datetime64[ns]"
    on = pd.Series(pd.to_datetime(["2015-12-31", "2016-02-28", "2016-01-01"]), index=[3, 4, 5])
    assert V.age_on(ids, on).tolist() == [25, 15, pd.NA]
    on2 = pd.Series(pd.to_datetime(["2016-01-01", "2016-02-29", None]), index=[3, 4, 5])
    assert V.age_on(ids, on2).tolist() == [26, 16, pd.NA]
    assert V.age_on(ids, dt.date(2017, 3, 1)).tolist() == [27, 17, pd.NA]
    assert V.age_on(ids, dt.date(2017, 3, 1)).dtype == "Int64"
    assert mask_id("452122199001011234") == "452122********1234"
    masked = mask_ids(ids)
    assert masked[3] == a[:6] + "********" + a[-4:] and pd.isna(masked[5])


def test_large_repeated_column_is_normalised_per_distinct_value(monkeypatch):
    # 1,000,000 rows with 1,000 distinct (all reformatted, so each goes through the per-value path).
    base = [make_id(dt.date(1970, 1, 1) + dt.timedelta(days=i), i % 1000, "451021") for i in range(1000)]
    raw = np.array([" " + x.lower() for x in base] + ["bad"], dtype=object)
    pick = np.arange(1_000_000) % 1001
    calls: list[object] = []
    real = ids_module._one_id
    monkeypatch.setattr(ids_module, "_one_id", lambda v, today: calls.append(v) or real(v, today))
    res = V.normalise_id(pd.Series(raw[pick], dtype=object), today=TODAY)
    assert len(calls) == 1001
    expected = np.array(base + [None], dtype=object)[pick]
    assert (res.values.to_numpy(dtype=object, na_value=None) == expected).all()
    bad_rows = np.flatnonzero(pick == 1000)
    errors = res.issues[res.issues.code == "id.chars"]
    assert errors.idx.tolist() == bad_rows.tolist()
    assert (res.issues.code == "id.reformatted").sum() == 1_000_000 - len(bad_rows)


# ---------------------------------------------------------------- dates

EPOCH = dt.date(1899, 12, 30)


def date_styles(d: dt.date) -> list[object]:
    serial = (d - EPOCH).days
    return [
        d,
        dt.datetime(d.year, d.month, d.day, 13, 45),
        pd.Timestamp(d),
        serial,
        float(serial) + 0.25,
        str(serial),
        f"{d:%Y-%m-%d}",
        f"{d.year}/{d.month}/{d.day}",
        f"{d.year}.{d.month}.{d.day}",
        f"{d:%Y%m%d}",
        f"{d.year}年{d.month}月{d.day}日",
        f"{d:%Y-%m-%d} 08:30:00",
        f" {d:%Y-%m-%d}T08:30 ",
        int(f"{d:%Y%m%d}"),
    ]


def test_excel_serial_uses_the_1900_date_system():
    res = V.normalise_date(col(43525, "43525", 43525.9))
    assert res.values.tolist() == [pd.Timestamp(2019, 3, 1)] * 3
    assert res.values.dtype == "datetime64[ns]"


@settings(max_examples=60)
@given(st.dates(dt.date(1950, 1, 1), dt.date(2100, 12, 31)))
def test_dates_in_every_style_parse_to_the_same_day(d):
    styles = date_styles(d)
    res = V.normalise_date(col(*styles))
    assert res.issues.empty
    assert res.values.tolist() == [pd.Timestamp(d)] * len(styles)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("2019-02-30", "date.invalid"),
        ("2019年13月1日", "date.invalid"),
        ("2019-03-05 25:00", "date.invalid"),
        ("明年三月", "date.unparseable"),
        ("19-3-5", "date.unparseable"),
        (True, "date.unparseable"),
        (2019, "date.unparseable"),
        ("1949-12-31", "date.out_of_range"),
        ("2101-01-01", "date.out_of_range"),
        (10000, "date.out_of_range"),
    ],
)
def test_bad_dates(raw, code):
    res = V.normalise_date(col(raw))
    assert res.values.isna().all()
    assert codes(res) == [code]


def test_datetime_column_is_normalised_to_midnight_with_range_check():
    s = pd.Series(pd.to_datetime(["2019-03-05 10:00", None, "1900-01-01 00:00"]))
    res = V.normalise_date(s)
    assert res.values.tolist()[0] == pd.Timestamp(2019, 3, 5)
    assert res.values[1:].isna().all()
    assert res.issues[["idx", "code"]].values.tolist() == [[2, "date.out_of_range"]]


# ---------------------------------------------------------------- months


def month_styles(y: int, m: int, day: int) -> list[object]:
    d = dt.date(y, m, day)
    out: list[object] = [
        f"{y}-{m:02d}",
        f"{y}/{m}",
        f"{y}.{m}" if m != 10 else f"{y}.10",
        f"{y}.{m:02d}",
        y * 100 + m,
        f"{y}{m:02d}",
        f"{y}年{m}月",
        f"{y}年{m:02d}月份",
        d,
        dt.datetime(y, m, day, 9, 0),
        (d - EPOCH).days,
        f"{d:%Y-%m-%d}",
    ]
    if m not in (1, 10):
        out.append(float(f"{y}.{m}"))  # a number cell 2019.3 is unambiguous
    return out


@settings(max_examples=60)
@given(st.integers(1950, 2100), st.integers(1, 12), st.integers(1, 28))
def test_months_in_every_style_parse_to_the_same_index(y, m, day):
    styles = month_styles(y, m, day)
    res = V.normalise_month(col(*styles))
    assert res.issues.empty, res.issues
    assert res.values.tolist() == [month_index(y, m)] * len(styles)
    assert res.values.dtype == "Int64"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (2019.1, "month.ambiguous"),
        ("2019-13", "month.invalid"),
        (201913, "month.invalid"),
        ("2019年0月", "month.invalid"),
        ("2019-02-30", "month.invalid"),
        ("三月", "month.unparseable"),
        (2019, "month.unparseable"),
        (True, "month.unparseable"),
        ("1019-03", "month.out_of_range"),
    ],
)
def test_bad_months(raw, code):
    res = V.normalise_month(col(raw))
    assert res.values.isna().all()
    assert codes(res) == [code]


def test_ambiguous_month_message_says_how_to_write_it():
    issue = only_issue(V.normalise_month(col(2019.1)))
    assert "2019-10" in issue.message and "2019-01" in issue.message


def test_month_of_a_datetime_column():
    s = pd.Series(pd.to_datetime(["2019-03-31", None]))
    assert V.normalise_month(s).values.tolist() == [month_index(2019, 3), pd.NA]


# ---------------------------------------------------------------- money


@given(st.integers(0, 10**10))
def test_money_in_every_style_parses_to_the_same_cents(cents):
    yuan = cents / 100
    styles = [
        f"{yuan:,.2f}",
        f"{yuan:.2f}元",
        f"¥{yuan:,.2f}",
        f"￥ {yuan:.2f}".translate(FULLWIDTH),
        f" {yuan:,.2f} 元 ",
        yuan,
    ]
    if cents % 100 == 0:
        styles += [cents // 100, f"{cents // 100:,}元"]
    res = V.normalise_money(col(*styles))
    assert res.issues.empty
    assert [round(v * 100) for v in res.values] == [cents] * len(styles)


def test_money_errors_and_rounding():
    res = V.normalise_money(col(-5, "-3元", "abc", "12,00", True, 1, 1200.456, 1.005, None, ""))
    assert res.values.dtype == "float64"
    got = dict(zip(res.issues.idx, res.issues.code, strict=True))
    assert got == {
        0: "money.negative",
        1: "money.negative",
        2: "money.unparseable",
        3: "money.unparseable",
        4: "money.unparseable",  # a logical TRUE is no amount, even next to a 1
        6: "money.rounded",
        7: "money.rounded",
    }
    assert res.values[5] == 1.0
    assert res.values[6] == 1200.46 and res.values[7] == 1.01  # half up, as Excel's ROUND
    assert res.values[[0, 1, 2, 3, 4, 8, 9]].isna().all()
    assert set(res.issues.severity[res.issues.code == "money.rounded"]) == {"warning"}


def test_numeric_money_column():
    res = V.normalise_money(pd.Series([1200.5, np.nan, -1.0, 3.333]))
    assert res.values.tolist()[0] == 1200.5 and np.isnan(res.values[1]) and np.isnan(res.values[2])
    assert res.issues[["idx", "code"]].values.tolist() == [[2, "money.negative"], [3, "money.rounded"]]


# ---------------------------------------------------------------- yes/no, enum, text, int


@pytest.mark.parametrize("empty_means_no", [False, True])
def test_bool_spellings(empty_means_no):
    yes = ["是", "Y", "y", "√", "✓", 1, "1", True, "有", "ｙ"]
    no = ["否", "N", "n", "×", "✗", 0, "0", False, "无", 0.0]
    res = V.normalise_bool(col(*yes, *no, None, " ", "也许"), empty_means_no=empty_means_no)
    assert res.values.dtype == "boolean"
    assert res.values[: len(yes)].tolist() == [True] * len(yes)
    assert res.values[len(yes) : len(yes) + len(no)].tolist() == [False] * len(no)
    empty = res.values[len(yes) + len(no) : -1].tolist()
    assert empty == ([False, False] if empty_means_no else [pd.NA, pd.NA])
    assert pd.isna(res.values.iloc[-1])
    assert res.issues[["idx", "code"]].values.tolist() == [[len(yes) + len(no) + 2, "bool.unparseable"]]


def test_enum():
    choices = ["企业", "个体工商户", "农民专业合作社"]
    res = V.normalise_enum(col(" 企业\u3000", "个体工商户", "公司", None), choices)
    assert res.values.tolist()[:2] == ["企业", "个体工商户"]
    issue = only_issue(res)
    assert issue.code == "enum.unknown" and issue.idx == 2
    assert all(c in issue.message for c in choices)


def test_text():
    res = V.normalise_text(col(" 张三\u3000\n", 12.0, 7, 12.5, "\r\n", None, "a  b"))
    assert res.values.tolist()[:4] == ["张三", "12", "7", "12.5"]
    assert res.values[4:6].isna().all()
    assert res.values[6] == "a  b"
    assert res.issues.empty


def test_int():
    res = V.normalise_int(col(1, "2", 3.0, "４", 40, -1, "4.5", "abc", None), 0, 31)
    assert res.values.dtype == "Int64"
    assert res.values.tolist()[:4] == [1, 2, 3, 4]
    assert res.issues[["idx", "code"]].values.tolist() == [
        [4, "int.range"],
        [5, "int.range"],
        [6, "int.unparseable"],
        [7, "int.unparseable"],
    ]


# ---------------------------------------------------------------- county, credit code, digits


def test_county_names_and_codes_map_to_the_current_code():
    region = load_region()
    res = V.normalise_county(
        col("田阳县", "田阳区", "451021", 451021, "平果", "平果市", " 靖西县 ", "南宁", None), region
    )
    assert res.values.tolist()[:7] == ["451003", "451003", "451003", "451003", "451082", "451082", "451081"]
    issue = only_issue(res)
    assert (issue.code, issue.idx) == ("county.unknown", 7)
    assert "隆林各族自治县" in issue.message and "右江区" in issue.message


def test_credit_code():
    # 91110108551385082Q and 91440300708461136T are real, published codes.
    res = V.normalise_credit_code(
        col("91110108551385082Q", " 91440300708461136t", "91110108551385082X", "9111010855", None)
    )
    assert res.values.tolist()[:4] == [
        "91110108551385082Q",
        "91440300708461136T",
        "91110108551385082X",
        "9111010855",
    ]
    assert res.issues[["idx", "code", "severity"]].values.tolist() == [
        [2, "credit_code.checksum", "warning"],
        [3, "credit_code.format", "warning"],
    ]
    assert "应为Q" in res.issues.message[0]


def test_digits():
    res = V.normalise_digits(
        col("6217 0000-1234 5678", 123456789012345, 6.217e18, "6.217E+18", "62170000a", None)
    )
    assert res.values.tolist()[:2] == ["6217000012345678", "123456789012345"]
    assert res.issues[["idx", "code"]].values.tolist() == [
        [2, "digits.lost_digits"],
        [3, "digits.lost_digits"],
        [4, "digits.chars"],
    ]
    assert "银行账号" in res.issues.message[0]
