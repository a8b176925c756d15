"""The sheets finance signs and townships print (SPEC §6.1 new paragraph, issue #11 items 15–18)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pytest

from fupin_cli.commands.check import run_check
from fupin_cli.commands.payout import run_payout
from fupin_cli.months import month_index
from fupin_cli.region import load_region
from fupin_cli.workbooks.check_report import write_check_report
from test_cli_payout import C, D, build
from xlsxfixtures import Fixture, write_messy

DIGITS = dict(zip("零壹贰叁肆伍陆柒捌玖", range(10), strict=True))
UNITS = {"拾": 10, "佰": 100, "仟": 1000}


def words_to_amount(text: str) -> float:
    """Read 大写 back independently of the writer: 人民币壹拾万叁仟元伍角 → 103000.5."""
    assert text.startswith("人民币")
    text = text[3:].removesuffix("整")
    yuan, _, frac = text.partition("元")
    total, section, digit = 0, 0, 0
    for ch in yuan:
        if ch in DIGITS:
            digit = DIGITS[ch]
        elif ch in UNITS:
            section += (digit or 1) * UNITS[ch]
            digit = 0
        elif ch in ("万", "亿"):
            total = (total + section + digit) * (10000 if ch == "万" else 100000000)
            section = digit = 0
    total += section + digit
    cents = 0
    frac = frac.replace("零", "")
    for value, unit in zip(frac[::2], frac[1::2], strict=False):
        if value in DIGITS and unit in ("角", "分"):
            cents += DIGITS[value] * (10 if unit == "角" else 1)
    return total + cents / 100


@pytest.fixture(scope="module")
def roster(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    tmp = tmp_path_factory.mktemp("paper")
    out = tmp / "花名册.xlsx"
    s = run_payout([build(tmp)], month=month_index(2018, 12), output=out)
    return out, s


def _rows(ws) -> list[list]:
    return [list(r) for r in ws.iter_rows(values_only=True)]


def _total_row(rows: list[list]) -> int:
    return next(i for i, r in enumerate(rows) if r[0] == "合计")


@pytest.mark.parametrize("amount", [323000, 103000.5, 1000.05, 1234567.89, 20000])
def test_words_reader_reads_the_writer(amount: float) -> None:
    from fupin_cli.money import amount_in_words

    assert words_to_amount(amount_in_words(amount)) == pytest.approx(amount)
    assert amount_in_words(323000) == "人民币叁拾贰万叁仟元整"


def test_words_are_cn2an_rmb_words() -> None:
    """`amount_in_words` spells exactly what cn2an's an2cn(…, "rmb") spells (it replaces the import)."""
    import random
    from decimal import ROUND_HALF_UP, Decimal

    cn2an = pytest.importorskip("cn2an")
    from fupin_cli.money import amount_in_words

    def reference(amount: float) -> str:
        cents = Decimal(str(amount)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        if cents == 0:
            return "人民币零元整"
        return f"人民币{'负' if cents < 0 else ''}{cn2an.an2cn(str(abs(cents)), 'rmb')}"

    rng = random.Random(13)
    amounts = [0, 0.01, 0.1, 0.5, 1, 10, 10.05, 100001, 1000.05, 1e8 + 1, 100010000, 1010101010.1, -5.2,
               12345678901234.56, 9999999999999999]
    for _ in range(3000):
        sparse = "".join(rng.choice("0000000001") for _ in range(rng.randrange(1, 14)))
        amounts += [round(rng.random() * 10 ** rng.randrange(0, 16), rng.choice([0, 1, 2, 3])),
                    float(sparse) + rng.choice([0, 0.05, 0.5, 0.55])]
    for a in amounts:
        assert amount_in_words(a) == reference(a), a
    with pytest.raises(ValueError):
        amount_in_words(1e17)


def test_roster_total_only_people_and_amount_with_words(roster) -> None:
    out, s = roster
    wb = openpyxl.load_workbook(out)
    for sheet, column in (("奖补名单", "奖补金额"), ("车间汇总", "金额(元)"), ("县区汇总", "金额(元)")):
        rows = _rows(wb[sheet])
        header = rows[1]
        t = _total_row(rows)
        total = rows[t]
        assert total[header.index(column)] == pytest.approx(s.roster.amount)
        words = rows[t + 1][0]
        assert words.startswith("合计金额(大写):")
        assert words_to_amount(words.split(":", 1)[1]) == pytest.approx(total[header.index(column)])
    rows = _rows(wb["奖补名单"])
    header, total = rows[1], rows[_total_row(rows)]
    assert total[header.index("累计报酬")] is None and total[header.index("累计月数")] is None
    assert total[header.index("姓名")] == f"共{s.roster.people}人"


def test_workshop_summary_has_a_column_for_the_seal(roster) -> None:
    out, _ = roster
    ws = openpyxl.load_workbook(out)["车间汇总"]
    header = [c.value for c in ws[2]]
    assert header[-1] == "收款单位(签章)"
    assert ws.column_dimensions[openpyxl.utils.get_column_letter(len(header))].width >= 18
    assert {"开户银行", "银行账号"} <= set(header)


def test_page_numbers_count_each_sheet_and_titles_span_the_width(roster) -> None:
    out, _ = roster
    wb = openpyxl.load_workbook(out)
    for ws in wb:
        footer = ws.oddFooter.center.text
        assert "&P" in footer and "&N" not in footer and "&A" in footer  # "县区汇总 第 1 页", never "共5页"
        widths = sum(ws.column_dimensions[openpyxl.utils.get_column_letter(j)].width
                     for j in range(1, ws.max_column + 1))
        title = ws["A1"].value
        title_width = sum(2 if ord(ch) > 0xFF else 1 for ch in title) * 16 / 11
        assert widths >= title_width, ws.title  # 县区汇总's title was clipped
    with zipfile.ZipFile(out) as z:  # each sheet starts its own numbering at 1
        for name in z.namelist():
            if name.startswith("xl/worksheets/sheet"):
                assert 'useFirstPageNumber="1"' in z.read(name).decode()  # firstPageNumber defaults to 1


@pytest.mark.parametrize(("month", "name"), [((2018, 12), "田阳县"), ((2019, 1), "田阳区")])
def test_county_names_in_force_in_the_month(tmp_path: Path, month: tuple[int, int], name: str) -> None:
    out = tmp_path / "r.xlsx"
    s = run_payout([build(tmp_path)], month=month_index(*month), county_arg="田阳", output=out)
    wb = openpyxl.load_workbook(out)
    assert wb["奖补名单"]["A1"].value.startswith(name)
    assert s.roster.county == name
    for sheet in ("奖补名单", "县区汇总", "未达标名单"):
        rows = _rows(wb[sheet])
        col = rows[1].index("县(市、区)")
        assert {r[col] for r in rows[2:] if isinstance(r[0], int)} == {name}


def test_region_former_names_are_data() -> None:
    r = load_region()
    assert r.resolve("田阳区").name_at(month_index(2018, 12)) == "田阳县"
    assert r.resolve("田阳县").name_at(month_index(2019, 1)) == "田阳区"
    assert r.resolve("平果").name_at(month_index(2019, 11)) == "平果县"
    assert r.resolve("右江区").name_at(month_index(2015, 1)) == "右江区"


def test_not_paid_lists_target_laborers_with_shortfall(roster) -> None:
    out, s = roster
    rows = _rows(openpyxl.load_workbook(out)["未达标名单"])
    header = rows[1]
    body = rows[2:_total_row(rows)]
    ids = [r[header.index("身份证号")] for r in body]
    assert C not in ids  # not from a registered poor household: one summary line instead
    assert D in ids
    d = body[ids.index(D)]
    dec = s.decisions.set_index(["id_number", "workshop_id"]).loc[(D, "W1")]
    assert d[header.index("还差月数")] == int(dec["short_months"]) > 0
    assert d[header.index("还差报酬(元)")] == pytest.approx(float(dec["short_wages"]))
    notes = [r[0] for r in rows[_total_row(rows) + 1:] if r[0]]
    assert any("非建档立卡" in n and "1人次" in n for n in notes)


@pytest.fixture(scope="module")
def messy(tmp_path_factory: pytest.TempPathFactory) -> Fixture:
    return write_messy(tmp_path_factory.mktemp("messy"))


def test_problem_report_prints_well(messy: Fixture, tmp_path: Path) -> None:
    ds = run_check(messy.paths, region=load_region()).dataset
    report = write_check_report(ds, tmp_path / "问题清单.xlsx")[0]
    ws = openpyxl.load_workbook(report)["问题清单"]
    rows = _rows(ws)
    header = rows[1]
    body = rows[2:_total_row(rows)]
    sev = [r[header.index("严重程度")] for r in body]
    assert sev == sorted(sev, key=["错误", "警告"].index)  # errors first
    names = {(r[header.index("工作表")], r[header.index("行号")]): r[header.index("姓名")] for r in body}
    assert names[("人员", messy.rows["人员.p5_check"])]  # who row N is, without looking it up
    assert {r[header.index("文件")] for r in body} == {messy.xlsx.name, messy.csv.name}  # not cut, not a path
    msg_col = header.index("说明") + 1
    letter = openpyxl.utils.get_column_letter(msg_col)
    width = ws.column_dimensions[letter].width
    for i, r in enumerate(body, start=3):
        cell = ws.cell(i, msg_col)
        assert cell.alignment.wrap_text  # 说明 wraps inside the border
        text_width = sum(2 if ord(ch) > 0xFF else 1 for ch in r[msg_col - 1])
        if text_width > width:  # a long 说明 gets a row tall enough for its lines
            assert ws.row_dimensions[i].height and ws.row_dimensions[i].height >= 30


def test_file_names_tell_apart_same_names_in_two_folders() -> None:
    from fupin_cli.fsutil import display_names

    got = display_names(["/data/田阳/工资.xlsx", "/data/田东/工资.xlsx", "/data/田东/人员.xlsx"])
    assert got == {"/data/田阳/工资.xlsx": "田阳/工资.xlsx", "/data/田东/工资.xlsx": "田东/工资.xlsx",
                   "/data/田东/人员.xlsx": "人员.xlsx"}
