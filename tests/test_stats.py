"""Statistics of SPEC §6.2 over a small hand-built Dataset and decisions frame."""

from __future__ import annotations

import pandas as pd
import pytest

from fupin_cli.dataset import Dataset
from fupin_cli.money import format_wan
from fupin_cli.months import month_index
from fupin_cli.problems import empty_problems
from fupin_cli.region import load_region
from fupin_cli.stats import MonthlyPaid, StatsResult, StatsRow, compute_stats, report_paragraph

M = month_index(2019, 2)
YJ, TY, TD = "451002", "451003", "451022"  # 右江区, 田阳区, 田东县


def _dataset() -> Dataset:
    T = pd.Timestamp
    workshops = pd.DataFrame({
        "workshop_id": ["W1", "W2", "W3", "W4", "W5", "W6"],
        "county_code": [YJ, YJ, TY, TY, TY, TD],
        "certified": [T("2018-01-10"), T("2019-03-01"), T("2017-10-01"), T("2018-06-01"), T("2018-02-01"), pd.NaT],
        "withdrawn": [pd.NaT, pd.NaT, T("2019-01-15"), pd.NaT, pd.NaT, pd.NaT],
        "valid": [True, True, True, True, False, True],
    })
    laborers = pd.DataFrame({
        "id_number": ["A", "A", "B", "C", "D", "E", "F", "G", "H"],
        "workshop_id": ["W1", "W4", "W1", "W1", "W4", "W3", "W4", "W2", "W6"],
        "poor": pd.array([True, True, False, True, True, True, True, True, True], dtype="boolean"),
        "relocated": pd.array([True, True, False, False, False, False, True, True, pd.NA], dtype="boolean"),
        "start": pd.to_datetime(["2018-01-05", "2018-09-01", "2018-03-01", "2019-03-01", "2018-07-01",
                                 "2018-01-01", "2018-06-30", "2018-05-01", "2018-01-01"]),
        "valid": [True, True, True, True, False, True, True, True, True],
    })
    return Dataset(workshops=workshops, laborers=laborers, wages=pd.DataFrame(), problems=empty_problems(),
                   sheets=[], files=[])


def _decisions() -> pd.DataFrame:
    return pd.DataFrame({
        "id_number": ["A", "A", "F", "E", "B", "D"],
        "workshop_id": ["W1", "W4", "W4", "W3", "W1", "W4"],
        "county_code": [YJ, TY, TY, TY, YJ, TY],
        "status": ["paid", "duplicate", "eligible", "paid", "not_poor", "invalid_data"],
        "amount": [1000.0, 0.0, 1000.0, 1000.0, 0.0, 0.0],
        "payable_month": pd.array([month_index(2018, 6), month_index(2018, 9), month_index(2019, 1),
                                   month_index(2018, 6), None, None], dtype="Int64"),
    })


def _row(result: StatsResult, code: str) -> StatsRow:
    return next(r for r in result.counties if r.code == code)


def test_counts_as_defined_without_ledger():
    region = load_region()
    result = compute_stats(_dataset(), _decisions(), M, region)
    assert result.month == "2019-02"
    assert [r.code for r in result.counties] == [c.code for c in region.counties]

    yj = _row(result, YJ)
    # W1 only (W2 certified after M); A and B started by M, C started after M.
    assert (yj.county, yj.workshops, yj.employed, yj.poor, yj.relocated) == ("右江区", 1, 2, 1, 1)
    assert (yj.eligible, yj.paid_people, yj.paid_amount, yj.paid_workshops) == (1, 1, 1000.0, 1)

    ty = _row(result, TY)
    # W4 only: W3 withdrawn by M, W5 invalid. D's row is invalid; E worked in the withdrawn W3.
    assert (ty.county, ty.workshops, ty.employed, ty.poor, ty.relocated) == ("田阳区", 1, 2, 2, 2)
    # E was paid while W3 was certified: still paid, in W3's county.
    assert (ty.eligible, ty.paid_people, ty.paid_amount, ty.paid_workshops) == (2, 2, 2000.0, 2)

    td = _row(result, TD)
    assert td.model_dump(exclude={"county", "code"}) == dict.fromkeys(
        ["workshops", "employed", "poor", "relocated", "eligible", "paid_people", "paid_workshops"], 0
    ) | {"paid_amount": 0.0}

    # A worked in 右江区 and 田阳区: once in each county, once in the total.
    t = result.total
    assert (t.county, t.code) == ("全市", "451000")
    assert (t.workshops, t.employed, t.poor, t.relocated, t.eligible) == (2, 3, 2, 2, 3)
    assert (t.paid_people, t.paid_amount, t.paid_workshops) == (3, 3000.0, 3)
    assert sum(r.employed for r in result.counties) == 4

    months = {m.month: (m.people, m.amount) for m in result.monthly}
    assert list(months) == [f"2018-{m:02d}" for m in range(6, 13)] + ["2019-01", "2019-02"]
    assert months["2018-06"] == (2, 2000.0)
    assert months["2018-09"] == (0, 0.0)
    assert months["2019-01"] == (1, 1000.0)


def test_paid_figures_come_from_the_ledger_when_given():
    paid = pd.DataFrame({
        "id_number": ["A", "E", "X", "F"],
        "workshop_id": ["W1", "W3", "W9", "W4"],
        "amount": [1000.0, 1000.0, 2000.0, 1000.0],
        "batch_id": [1, 1, 2, 3],
        "batch_month": [month_index(2018, 6), month_index(2018, 6), month_index(2018, 8), month_index(2019, 3)],
    })
    result = compute_stats(_dataset(), _decisions(), M, load_region(), paid=paid)
    yj, ty, t = _row(result, YJ), _row(result, TY), result.total
    assert (yj.paid_people, yj.paid_amount, yj.paid_workshops) == (1, 1000.0, 1)
    # F's batch is after M; 达标 still follows the decisions.
    assert (ty.eligible, ty.paid_people, ty.paid_amount, ty.paid_workshops) == (2, 1, 1000.0, 1)
    # X's workshop is no longer in the data: in the total, in no county.
    assert (t.paid_people, t.paid_amount, t.paid_workshops) == (3, 4000.0, 3)
    assert [(m.month, m.people, m.amount) for m in result.monthly[:3]] == [
        ("2018-06", 2, 2000.0), ("2018-07", 0, 0.0), ("2018-08", 1, 2000.0)]
    assert result.monthly[-1].month == "2019-02"


def test_ledger_months_as_text_are_accepted():
    paid = pd.DataFrame({"id_number": ["A"], "workshop_id": ["W1"], "amount": [1000.0], "batch_id": [1],
                         "batch_month": ["2018-06"]})
    result = compute_stats(_dataset(), _decisions(), M, load_region(), paid=paid)
    assert result.total.paid_people == 1
    assert result.monthly[0] == MonthlyPaid(month="2018-06", people=1, amount=1000.0)


def test_json_keys_are_those_of_the_spec():
    result = compute_stats(_dataset(), _decisions(), M, load_region())
    dumped = result.model_dump()
    keys = ["county", "code", "workshops", "employed", "poor", "relocated", "eligible", "paid_people",
            "paid_amount", "paid_workshops"]
    assert list(dumped["total"]) == keys
    assert all(list(r) == keys for r in dumped["counties"])
    assert {"month", "counties", "total"} <= set(dumped)


def _result(**total) -> StatsResult:
    base = dict(county="全市", code="451000", workshops=132, employed=13007, poor=2572, relocated=0,
                eligible=323, paid_people=323, paid_amount=323000.0, paid_workshops=70)
    return StatsResult(month="2019-02", counties=[], total=StatsRow(**(base | total)), monthly=[])


def test_paragraph_in_the_seed_style():
    region = load_region()
    assert report_paragraph(_result(), region) == (
        "截至2019年2月底,全市认定就业扶贫车间132家,带动劳动力就业13007人,其中贫困劳动力2572人;"
        "达到一次性带动就业奖补条件的贫困劳动力323人,共计兑现扶贫车间补贴32.3万元,补贴323人,涉及扶贫车间70家。")
    text = report_paragraph(_result(relocated=340, paid_people=0, paid_amount=0.0, eligible=5), region)
    assert "其中贫困劳动力2572人、易地扶贫搬迁劳动力340人;" in text
    assert text.endswith("贫困劳动力5人,尚未兑现扶贫车间补贴。")


@pytest.mark.parametrize(("amount", "text"), [
    (323000, "32.3万元"), (1234567, "123.46万元"), (100000, "10万元"), (10000, "1万元"),
    (3000, "3000元"), (2500.5, "2500.5元"), (0, "0元"),
])
def test_amounts_in_wan(amount, text):
    assert format_wan(amount) == text
