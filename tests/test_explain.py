"""`explain` traces and `find_laborer` (SPEC §4.2 last paragraph)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pandas as pd
import pytest

from fupin_cli.errors import FupinError
from fupin_cli.explain import explain, find_laborer
from fupin_cli.policy import load_policy
from fupin_cli.rules import evaluate
from ruleutil import Case, month, policy_from_overrides

CASES = {c["name"]: c for c in
         tomllib.loads((Path(__file__).parent / "rule_cases.toml").read_text(encoding="utf-8"))["case"]}


def _explain(name: str, who: str, tmp_path: Path):
    case = CASES[name]
    c = Case(case)
    ds = c.dataset()
    policy = policy_from_overrides(tmp_path, case.get("policy"))
    return explain(ds, c.id_of(who), month(case["month"]), policy, c.paid()), c, ds, policy


def test_trace_of_two_pairs_with_duplicate(tmp_path: Path) -> None:
    e, c, _, _ = _explain("two_counties_earliest_P_wins", "甲", tmp_path)
    assert e.id_number == c.id_of("甲") and e.name == "甲" and e.month == "2018-12" and e.policy == "gx-2018"
    by_ws = {p.workshop_id: p for p in e.pairs}
    win, dup = by_ws["C001"], by_ws["C002"]
    assert (win.status, dup.status) == ("eligible", "duplicate")
    assert win.window_start == "2018-03" and win.window_end == "2019-02"
    assert (win.qualified_month, win.payable_month) == ("2018-08", "2018-08")
    q_line = next(x for x in win.lines if x.month == "2018-08")
    assert "达标" in q_line.note and q_line.months == 6 and q_line.wages == 6000
    assert [x.months for x in win.lines[:3]] == [1, 2, 3]
    assert dup.certified == "2018-10-01" and dup.payable_month == "2018-10"
    assert "不发放" in dup.decision and "车间C001" in dup.decision
    assert "应发放" in win.decision and "1,000元" in win.decision
    params = {p.name: p for p in win.params}
    assert params["amount"].read_at == "2018-08" and params["amount"].source == "桂人社发〔20__〕82号"
    assert params["window_months"].read_at == "2018-03" and params["window_months"].value == 12
    assert params["min_wages"].since == "2018-01" and params["max_age"].display == "不限"
    assert "应发1,000元" in e.summary


def test_notes_for_months_that_do_not_count(tmp_path: Path) -> None:
    e, *_ = _explain("pay_before_agreement_start_not_counted", "甲", tmp_path)
    lines = {x.month: x for x in e.pairs[0].lines}
    assert lines["2018-03"].note == "协议起始前,不计" and not lines["2018-03"].counted
    assert lines["2018-03"].months is None and lines["2018-03"].pay == 1000
    assert lines["2018-05"].counted and lines["2018-05"].months == 1

    e, *_ = _explain("agreement_end_cuts_window", "甲", tmp_path)
    p = e.pairs[0]
    lines = {x.month: x for x in p.lines}
    assert p.window_end == "2018-06" and p.status == "short"
    assert lines["2018-07"].note == "协议期外,不计" and not lines["2018-07"].counted
    assert lines["2018-06"].months == 4

    e, *_ = _explain("pay_after_month_M_not_counted", "甲", tmp_path)
    lines = {x.month: x for x in e.pairs[0].lines}
    assert lines["2018-08"].note == "晚于核算月份,不计" and not lines["2018-08"].counted


def test_rolling_trace_drops_old_months(tmp_path: Path) -> None:
    e, *_ = _explain("anchor_rolling_qualifies", "甲", tmp_path)
    p = e.pairs[0]
    assert p.anchor == "rolling" and p.window_end is None and "滚动" in p.anchor_label
    lines = {x.month: x for x in p.lines}
    assert lines["2019-02"].months == 5  # 2018-03..05 + 2019-01..02
    assert lines["2019-05"].months == 5  # 2018-03..05 have left the trailing 12 months
    assert lines["2019-06"].months == 6 and "达标" in lines["2019-06"].note


@pytest.mark.parametrize("name", [n for n, c in CASES.items() if not c.get("policy")])
def test_trace_agrees_with_evaluate(name: str, tmp_path: Path) -> None:
    """The trace's running totals (window totals on demand) reach the thresholds exactly at the Q the
    vectorised search found, and the trace carries the decision's status and reason."""
    case = CASES[name]
    c = Case(case)
    ds = c.dataset()
    policy = load_policy(None)
    d = evaluate(ds, month(case["month"]), policy, c.paid()).decisions
    for who in c.ids:
        e = explain(ds, c.id_of(who), month(case["month"]), policy, c.paid())
        for p in e.pairs:
            row = d[(d["id_number"] == c.id_of(who)) & (d["workshop_id"] == p.workshop_id)].iloc[0]
            assert p.status == row["status"] and p.reason == row["reason"]
            first = next((x.month for x in p.lines if x.months is not None and x.months >= 6
                          and x.wages >= 6000), None)
            want = None if pd.isna(row["qualified_month"]) else p.qualified_month
            if row["status"] not in ("invalid_data",):
                assert first == want, (name, who, p.workshop_id)


def test_explain_with_ledger_and_cap(tmp_path: Path) -> None:
    e, *_ = _explain("previously_paid_makes_other_pair_duplicate", "甲", tmp_path)
    st = {p.workshop_id: p.status for p in e.pairs}
    assert st == {"C001": "paid", "C002": "duplicate"}
    e, *_ = _explain("cap_per_workshop_reduces_amounts", "甲", tmp_path)
    assert e.pairs[0].amount == 500 and "核减" in e.pairs[0].reason


def test_find_laborer_by_id_and_name(tmp_path: Path) -> None:
    c = Case(CASES["age_15_vs_16_on_agreement_start"])
    ds = c.dataset()
    the_id = c.id_of("乙")
    assert find_laborer(ds, the_id) == the_id
    full_width = the_id.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert find_laborer(ds, f" {full_width} ") == the_id
    assert find_laborer(ds, "乙") == the_id
    with pytest.raises(FupinError, match="没有名为“庚”"):
        find_laborer(ds, "庚")
    with pytest.raises(FupinError, match="没有身份证号"):
        find_laborer(ds, "452122199001011234")


def test_ambiguous_name_lists_masked_candidates() -> None:
    case = {
        "workshops": [{"id": "C001"}, {"id": "C002"}],
        "laborers": [{"who": "张三", "ws": "C001", "start": "2018-03-01", "birth": "1990-01-01"},
                     {"who": "张三", "ws": "C002", "start": "2018-03-01"}],
    }
    c = Case(case)
    ds = c.dataset()
    other = ds.laborers.copy()
    other.loc[1, "id_number"] = Case({"laborers": [{"who": "x", "ws": "C002", "start": "2018-01-01",
                                                    "birth": "1985-05-05"}]}).id_of("x")
    ds.laborers = other
    with pytest.raises(FupinError) as exc:
        find_laborer(ds, "张三")
    msg = exc.value.message
    assert exc.value.code == "explain.ambiguous" and "2人" in msg
    assert "452122********" in msg and "车间C001" in msg and "车间C002" in msg
    for full in ds.laborers["id_number"]:
        assert full not in msg  # IDs are masked in terminal output (SPEC §9)


# -- schema v2 (SPEC §4.3): every new concept month by month, from the same evaluation ------------------

V2 = {c["name"]: c for c in
      tomllib.loads((Path(__file__).parent / "rule_cases_v2.toml").read_text(encoding="utf-8"))["case"]}


def _explain_v2(name: str, who: str, tmp_path: Path):
    case = V2[name]
    c = Case(case)
    policy = policy_from_overrides(tmp_path, case.get("policy"), case.get("policy_top"))
    return explain(c.dataset(), c.id_of(who), month(case["month"]), policy, c.paid())


def test_explain_shows_the_monthly_floor(tmp_path: Path) -> None:
    e = _explain_v2("floor_month_below_does_not_count", "甲", tmp_path)
    lines = {x.month: x for x in e.pairs[0].lines}
    assert lines["2018-05"].note == "低于每月工资下限1,500元,不计" and not lines["2018-05"].counted
    assert lines["2018-06"].months == 3 and lines["2018-09"].months == 6 and "达标" in lines["2018-09"].note
    params = {p.name: p for p in e.pairs[0].params}
    assert params["min_monthly_wage"].display == "1,500" and params["min_monthly_wage"].source == "测试用"


def test_explain_shows_each_period(tmp_path: Path) -> None:
    e = _explain_v2("yearly_one_payment_per_person_and_year", "甲", tmp_path)
    assert [(p.period, p.status) for p in e.pairs] == [("2019", "paid"), ("2020", "eligible")]
    p2020 = e.pairs[1]
    assert p2020.window_start == "2020-01" and p2020.window_end == "2020-12"
    assert p2020.anchor == "calendar_year" and p2020.anchor_label == "按自然年(1月至12月)计算"
    assert [x.month for x in p2020.lines][0] == "2020-01"  # only the period's own months
    assert [x.months for x in p2020.lines[:6]] == [1, 2, 3, 4, 5, 6]
    assert "车间C001(2019年度):已兑现" in e.summary and "车间C001(2020年度):达标应发" in e.summary
    assert "应发1,200元" in e.summary


def test_explain_shows_the_workshop_head_count(tmp_path: Path) -> None:
    e = _explain_v2("workshop_head_count_gate", "甲", tmp_path)
    lines = {x.month: x for x in e.pairs[0].lines}
    assert (lines["2018-06"].targets, lines["2018-06"].targets_needed) == (1, 3)
    assert "车间在岗1人,不足3人" in lines["2018-06"].note and "达标" in lines["2018-06"].note
    assert lines["2018-09"].targets == 3 and "不足" not in lines["2018-09"].note
    assert e.pairs[0].payable_month == "2018-09"
    gated = _explain_v2("workshop_head_count_gate", "丁", tmp_path).pairs[0]
    assert gated.status == "workshop_gate" and gated.status_label == "车间人数不足"
    # 庚's agreement ends in 2018-03: two target laborers until then, one after.
    assert {x.month: x.targets for x in gated.lines}["2018-03"] == 2
    assert {x.month: x.targets for x in gated.lines}["2018-04"] == 1
