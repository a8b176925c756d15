"""The demo dataset (SPEC §8): plan arithmetic, the generated rows, determinism and the workbooks."""

from __future__ import annotations

import numpy as np
import openpyxl
import pandas as pd
import pytest

from fupin_cli.demo import build_demo, demo_file_name, load_plan, write_demo
from fupin_cli.months import month_index
from fupin_cli.values.ids import id_check_digit

FIRST, LAST = month_index(2017, 9), month_index(2019, 2)


@pytest.fixture(scope="module")
def demo():
    return build_demo()


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    return folder, write_demo(folder, counties=["右江区", "平果县", "西林县"])


def _month(dates: pd.Series) -> pd.Series:
    d = pd.to_datetime(dates)
    return d.dt.year * 12 + d.dt.month - 1


# -- plan ------------------------------------------------------------------------------------------

def test_plan_adds_up_to_the_seed_report():
    plan = load_plan()
    t = plan.targets
    assert (t.workshops, t.employed, t.poor, t.paid, t.amount) == (132, 13007, 2572, 323, 323000)
    for key in ("workshops", "employed", "poor", "paid"):
        assert sum(getattr(c, key) for c in plan.counties) == getattr(t, key)
    assert plan.problems() == []
    assert len(plan.counties) == 12
    # Seed: 美达电子厂 and 民胜电子 together employ 82 poor laborers; 田阳县 built 12 workshops.
    named = {n.name: n for c in plan.counties for n in c.named}
    assert named["右江区汪甸瑶族乡美达电子厂"].poor + named["百色市民胜电子设备制造有限公司"].poor == 82
    assert "平果县坡造镇龙板村巾帼脱贫示范基地电子厂" in named
    ty = next(c for c in plan.counties if c.name == "田阳县")
    assert ty.workshops == 12
    m = plan.milestone("田阳县")
    assert (m.month, m.paid, m.workshops) == ("2018-05", 103, 7)


def test_plan_problems_name_what_does_not_add_up():
    plan = load_plan()
    counties = list(plan.counties)
    counties[0] = counties[0].model_copy(update={"employed": counties[0].employed + 1, "paid": 1, "movers": 2})
    broken = plan.model_copy(update={"counties": counties})
    problems = broken.problems()
    assert any("employed" in p and "13008" in p for p in problems)
    assert any("paid" in p for p in problems)
    assert any(counties[0].name in p and "movers" in p for p in problems)
    with pytest.raises(ValueError, match="does not add up"):
        build_demo(plan=broken)


# -- generated rows --------------------------------------------------------------------------------

def test_rows_follow_the_plan(demo):
    plan = load_plan()
    ws, lab = demo.workshops, demo.laborers
    counted = ws.loc[ws["kind"] == "counted"]
    # Everything counted is certified by the end of the data and not withdrawn.
    assert (_month(counted["certified"]) <= LAST).all() and counted["withdrawn"].isna().all()
    assert ws.loc[ws["kind"] == "uncertified", "certified"].isna().all()
    assert (_month(ws.loc[ws["kind"] == "withdrawn", "withdrawn"]) <= LAST).all()
    assert ws["workshop_id"].is_unique

    clean = lab.loc[lab["planted"] == ""]
    in_counted = clean.loc[clean["workshop_id"].isin(counted["workshop_id"])]
    for cp in plan.counties:
        rows = in_counted.loc[in_counted["county"] == cp.name]
        assert (counted["county"] == cp.name).sum() == cp.workshops
        assert rows["id_number"].nunique() == cp.employed
        assert rows.loc[rows["poor"], "id_number"].nunique() == cp.poor
        assert rows.loc[rows["relocated"], "id_number"].nunique() == cp.relocated
        assert (rows["role"] == "paid").sum() == cp.paid
        assert (rows["role"] == "duplicate").sum() == cp.movers
    # Laborers are counted once: two rows only for movers, and always in the same county.
    twice = in_counted.loc[in_counted["id_number"].duplicated(keep=False)]
    assert twice.groupby("id_number")["county"].nunique().eq(1).all()
    assert set(twice.loc[twice["poor"], "role"]) == {"paid", "duplicate"}
    assert not lab.duplicated(["id_number", "workshop_id"]).any()
    # Relocated laborers come from registered poor households.
    assert not (lab["relocated"] & ~lab["poor"]).any()
    # gx-2018 counts 劳务协议 / 承揽合同 only: every pair meant to qualify has one; 劳动合同 appears elsewhere.
    must = clean.loc[clean["role"].isin(["paid", "duplicate", "withdrawn", "not_certified"])]
    assert must["contract_type"].isin(["劳务协议", "承揽合同"]).all()
    assert (clean.loc[clean["poor"], "contract_type"] == "劳动合同").any()


def test_id_numbers_are_valid_baise_numbers(demo):
    ids = demo.laborers.loc[demo.laborers["planted"] == "", "id_number"].unique()
    assert all(n[:4] == "4510" and len(n) == 18 and id_check_digit(n[:17]) == n[17] for n in ids)
    born = pd.to_datetime(pd.Series(ids).str[6:14], format="%Y%m%d")
    assert born.dt.year.between(1958, 1999).all()


def test_planted_mistakes_stay_out_of_every_counted_figure(demo):
    ws, lab, wages = demo.workshops, demo.laborers, demo.wages
    kind = dict(zip(ws["workshop_id"], ws["kind"], strict=True))
    planted_lab = lab.loc[lab["planted"] != ""]
    planted_wages = wages.loc[wages["planted"] != ""]
    assert set(planted_lab["planted"]) | set(planted_wages["planted"]) >= {
        "id.checksum", "id.converted_15", "id.lost_digits", "required.missing", "money.negative",
        "ref.unknown_workshop", "name.mismatch"}
    assert (ws["planted"] == "credit_code.checksum").sum() == 1
    assert all(kind.get(w, "unknown") != "counted" for w in planted_lab["workshop_id"])
    assert all(kind.get(w, "unknown") != "counted" for w in planted_wages["workshop_id"])
    assert (wages.loc[wages["planted"] == "money.negative", "pay"] < 0).all()
    assert (wages.loc[wages["planted"] != "money.negative", "pay"] >= 0).all()
    assert planted_lab.loc[planted_lab["planted"] == "id.converted_15", "id_number"].str.len().eq(15).all()
    assert isinstance(planted_lab.loc[planted_lab["planted"] == "id.lost_digits", "id_number"].iloc[0], float)


def _qualification(lab: pd.DataFrame, wages: pd.DataFrame) -> pd.Series:
    """Q per pair under gx-2018 (SPEC §4.2): first month in [S, S+11] (and ≤ end) with ≥ 6 paid months
    and ≥ 6000 元 so far; NaN if none by the end of the data."""
    pairs = lab.assign(S=_month(lab["start"]), E=_month(lab["end"]))
    w = wages.merge(pairs[["id_number", "workshop_id", "S", "E"]], on=["id_number", "workshop_id"])
    w = w.loc[(w["month"] >= w["S"]) & (w["month"] <= np.fmin(w["S"] + 11, w["E"].fillna(10**9)))]
    w = w.sort_values(["id_number", "workshop_id", "month"])
    g = w.groupby(["id_number", "workshop_id"])
    w = w.assign(n=(w["pay"] > 0).astype(int).groupby([w["id_number"], w["workshop_id"]]).cumsum(),
                 total=g["pay"].cumsum())
    q = w.loc[(w["n"] >= 6) & (w["total"] >= 6000)].groupby(["id_number", "workshop_id"])["month"].min()
    return pairs.set_index(["id_number", "workshop_id"]).index.map(q.to_dict()).to_series(index=pairs.index)


def test_wage_patterns_decide_the_rule_clearly(demo):
    ws = demo.workshops
    lab = demo.laborers.loc[demo.laborers["planted"] == ""].copy()
    lab["Q"] = _qualification(lab, demo.wages)
    cert = dict(zip(ws["workshop_id"], _month(ws["certified"]), strict=True))
    lab["P"] = np.fmax(lab["Q"], lab["workshop_id"].map(cert))
    paid = lab.loc[lab["role"] == "paid"]
    # Every planned payout qualifies inside the policy period and is payable by 2019-02 …
    assert paid["Q"].notna().all() and (paid["Q"] >= month_index(2018, 1)).all() and (paid["P"] <= LAST).all()
    # … and no other poor laborer of a counted workshop qualifies, except the movers' second pairs,
    # which become payable strictly after their first payout.
    counted = set(ws.loc[ws["kind"] == "counted", "workshop_id"])
    other = lab.loc[lab["poor"] & lab["workshop_id"].isin(counted) & ~lab["role"].isin(["paid", "duplicate"])]
    assert other["Q"].isna().all()
    dup = lab.loc[lab["role"] == "duplicate"].merge(paid[["id_number", "P"]], on="id_number", suffixes=("", "_first"))
    assert len(dup) == sum(c.movers for c in load_plan().counties) > 0
    assert (dup["P"] > dup["P_first"]).all() and (dup["P"] <= LAST).all()
    # 田阳县: 103 payable by 2018-05, in exactly 7 workshops; the rest later.
    ty = paid.loc[paid["county"] == "田阳县"]
    early = ty.loc[ty["P"] <= month_index(2018, 5)]
    assert (len(early), early["workshop_id"].nunique()) == (103, 7)
    # The withdrawn workshop's poor laborers qualify only after the withdrawal.
    wd = ws.loc[ws["kind"] == "withdrawn"]
    gone = lab.loc[lab["workshop_id"].isin(wd["workshop_id"]) & lab["poor"]]
    assert (gone["Q"] > _month(wd["withdrawn"]).iloc[0]).all()
    # The first pay month of the data is the plan's first month.
    assert demo.wages["month"].min() == FIRST and demo.wages["month"].max() == LAST


# -- determinism and workbooks ---------------------------------------------------------------------

def test_same_seed_same_rows_other_seed_other_rows(demo):
    again = build_demo()
    for a, b in ((demo.workshops, again.workshops), (demo.laborers, again.laborers), (demo.wages, again.wages)):
        pd.testing.assert_frame_equal(a, b)
    other = build_demo(seed=7)
    assert not other.laborers["id_number"].astype(str).equals(demo.laborers["id_number"].astype(str))
    # Another seed, other people, the same planned figures.
    counted = other.workshops.loc[other.workshops["kind"] == "counted", "workshop_id"]
    clean = other.laborers.loc[(other.laborers["planted"] == "") & other.laborers["workshop_id"].isin(counted)]
    assert (clean["id_number"].nunique(), (clean["role"] == "paid").sum()) == (13007, 323)


def test_workbooks_are_byte_identical_for_a_seed(tmp_path, written):
    folder, _ = written
    again = write_demo(tmp_path, counties=["西林县"])
    assert again == [tmp_path / demo_file_name("西林县")]
    assert again[0].read_bytes() == (folder / demo_file_name("西林县")).read_bytes()


def _rows(path, sheet):
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        return [list(r) for r in wb[sheet].iter_rows(values_only=True)]
    finally:
        wb.close()


def test_township_workbook_layout_and_named_workshops(written):
    folder, paths = written
    assert [p.name for p in paths] == [demo_file_name(c) for c in ("右江区", "西林县", "平果县")]
    yj = folder / demo_file_name("右江区")
    wb = openpyxl.load_workbook(yj, read_only=True)
    assert wb.sheetnames == ["车间名册", "吸纳就业花名册", "工资发放"]
    wb.close()
    shops = _rows(yj, "车间名册")
    assert shops[0][0] == "右江区就业扶贫车间名册" and shops[1][0] == "填报单位:右江区人社局"
    assert shops[2][:3] == ["序号", "车间编号", "车间名称"] and "县区" in shops[2]
    names = [r[2] for r in shops[3:-1]]
    assert {"右江区汪甸瑶族乡美达电子厂", "百色市民胜电子设备制造有限公司"} <= set(names)
    assert len(names) == 15 and shops[-1][0] == "合计"
    people = _rows(yj, "吸纳就业花名册")
    assert "公民身份号码" in people[2]
    col = people[2].index("公民身份号码")
    assert all(isinstance(r[col], str) and len(r[col]) == 18 for r in people[3:-1])
    wages = _rows(yj, "工资发放")
    assert wages[2][4:6] == ["2017年9月", "2017年10月"] and wages[2][-1] == "2019年2月"
    assert wages[-1][0] == "合计"
    pg = _rows(folder / demo_file_name("平果县"), "车间名册")
    assert "平果县坡造镇龙板村巾帼脱贫示范基地电子厂" in [r[2] for r in pg]


def test_long_workbook_with_text_dates_and_planted_rows(written):
    folder, _ = written
    xl = folder / demo_file_name("西林县")
    shops = _rows(xl, "就业扶贫车间")
    assert shops[0][0] == "西林县就业扶贫车间名册"
    header = shops[1]
    cert = header.index("认定时间")
    certified = [r[cert] for r in shops[2:-1] if r[cert]]
    assert certified and all(isinstance(v, str) and v.count(".") == 2 for v in certified)
    wages = _rows(xl, "劳动报酬")
    header = wages[1]
    assert header == ["序号", "身份证号码", "姓名", "车间编号", "月份", "劳动报酬", "出勤天数"]
    body = wages[2:-1]
    assert all(isinstance(r[4], str) and "年" in r[4] for r in body)
    assert any(r[5] == -500 for r in body)
    assert any(r[3] == "XL099" for r in body)
    assert wages[-1][0] == "合计" and wages[-1][5] == pytest.approx(sum(r[5] for r in body))
