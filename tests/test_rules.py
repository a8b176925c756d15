"""SPEC §4.2 rule cases (data in rule_cases.toml) and a vectorisation check against a per-pair reference."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import make_id
from fupin_cli.dataset import Dataset
from fupin_cli.policy import load_policy
from fupin_cli.problems import empty_problems
from fupin_cli.rules import DECISION_COLUMNS, evaluate
from fupin_cli.status import STATUS_ORDER
from ruleutil import Case, month, policy_from_overrides

CASES = [c for name in ("rule_cases.toml", "rule_cases_v2.toml")  # v2: the SPEC §4.3 keys
         for c in tomllib.loads((Path(__file__).parent / name).read_text(encoding="utf-8"))["case"]]


def _month_or_none(v: object) -> int | None:
    return None if v is None or pd.isna(v) else int(v)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_rule_case(case: dict, tmp_path: Path) -> None:
    c = Case(case)
    policy = policy_from_overrides(tmp_path, case.get("policy"), case.get("policy_top"))
    ds = c.dataset()
    d = evaluate(ds, month(case["month"]), policy, c.paid()).decisions

    assert list(d.columns) == DECISION_COLUMNS
    if policy.recurrence == "once":
        assert len(d) == len(ds.laborers) and d["period"].isna().all()
    else:  # one decision per pair and calendar year (SPEC §4.3)
        assert set(d.index) == set(ds.laborers.index) and d["period"].notna().all()
    assert d["status"].isin(STATUS_ORDER).all()
    assert (d["reason"].str.len() > 0).all()
    for exp in case["expect"]:
        sel = d[(d["id_number"] == c.id_of(exp["who"])) & (d["workshop_id"] == exp["ws"])]
        if "period" in exp:
            sel = sel[sel["period"] == exp["period"]]
        assert len(sel) == 1, exp
        row = sel.iloc[0]
        where = f"{case['name']} {exp['who']}/{exp['ws']}: {row['reason']}"
        assert row["status"] == exp["status"], where
        assert row["data_status"] == exp.get("data_status", exp["status"]), where
        for key, col in (("Q", "qualified_month"), ("P", "payable_month")):
            if key in exp:
                want = None if exp[key] == "none" else month(exp[key])
                assert _month_or_none(row[col]) == want, f"{key} {where}"
        for key in ("amount", "months", "wages", "short_wages"):
            if key in exp:
                assert row[key] == pytest.approx(exp[key]), f"{key} {where}"
        if "short_months" in exp:
            assert int(row["short_months"]) == exp["short_months"], where
        if "reason" in exp:
            assert exp["reason"] in row["reason"], where
        if row["status"] not in ("eligible", "paid"):
            assert row["amount"] == 0, where
        if row["status"] in ("pending", "short"):
            assert not pd.isna(row["short_months"]) and not math.isnan(row["short_wages"])
        else:
            assert pd.isna(row["short_months"])


def test_every_status_is_covered_by_the_cases() -> None:
    seen = {e["status"] for c in CASES for e in c["expect"]}
    assert seen == set(STATUS_ORDER)


def test_workshop_columns_attached_and_index_kept(tmp_path: Path) -> None:
    c = Case(next(x for x in CASES if x["name"] == "two_counties_earliest_P_wins"))
    ds = c.dataset()
    ds.laborers.index = [10, 20]
    d = evaluate(ds, month("2018-12"), load_policy(None)).decisions
    assert list(d.index) == [10, 20]
    assert list(d["county"]) == ["田阳区", "田东县"]
    assert list(d["workshop_name"]) == ["C001厂", "东兴厂"]
    assert list(d["start_month"]) == [month("2018-03"), month("2018-02")]
    # Locations stay with reading and validation: the index leads back to the laborer row.
    assert "_row" not in d and "_src" not in d
    assert list(ds.laborers.loc[d.index, "_row"]) == [3, 4]


def test_empty_inputs() -> None:
    c = Case({"workshops": [{"id": "C001"}], "laborers": [], "wages": []})
    ds = c.dataset()
    ds.laborers = pd.DataFrame(columns=["id_number", "name", "workshop_id", "poor", "relocated", "contract_type",
                                        "start", "end", "valid", "invalid_reason", "_src", "_row"])
    d = evaluate(ds, month("2019-01"), load_policy(None)).decisions
    assert len(d) == 0 and list(d.columns) == DECISION_COLUMNS


# --- vectorised evaluate vs a straightforward per-pair reference -------------------------------------------
DATED_AMOUNT = [{"from": "2018-01", "value": 1000, "source": "测试甲"},
                {"from": "2020-02", "value": 2000, "source": "测试乙"},
                {"from": "2021-01", "value": 1000, "source": "测试甲"}]


def _reference(ds: Dataset, M: int, rolling: bool = False
               ) -> dict[tuple[str, str], tuple[str, int | None, int | None, float]]:
    """Per-pair SPEC §4.2 with plain Python (gx-2018 values, either anchor, no paid ledger)."""
    def mi(t: pd.Timestamp) -> int | None:
        return None if pd.isna(t) else t.year * 12 + t.month - 1

    ws = {w.workshop_id: (mi(w.certified), mi(w.withdrawn)) for w in ds.workshops.itertuples(index=False)}
    pay: dict[tuple[str, str, int], float] = {}
    wg = ds.wages
    for i, w_id, m, p in zip(wg["id_number"].tolist(), wg["workshop_id"].tolist(), wg["month"].tolist(),
                             wg["pay"].tolist(), strict=True):
        pay[(i, w_id, m)] = pay.get((i, w_id, m), 0.0) + p
    payable: dict[tuple[str, str], tuple[int, int]] = {}
    out = {}
    for r in ds.laborers.astype(object).itertuples(index=False):
        S = r.start.year * 12 + r.start.month - 1
        E = 10**7 if pd.isna(r.end) else r.end.year * 12 + r.end.month - 1
        last = E if rolling else min(S + 11, E)
        Q = None
        for m in range(S, min(last, M) + 1):
            window = [round(pay.get((r.id_number, r.workshop_id, x), 0.0), 2)
                      for x in range(max(S, m - 11) if rolling else S, m + 1)]
            if sum(p > 0 for p in window) >= 6 and round(sum(window), 2) >= 6000:
                Q = m
                break
        b = r.id_number[6:14]
        age = r.start.year - int(b[:4]) - ((r.start.month, r.start.day) < (int(b[4:6]), int(b[6:8])))
        C, Wd = ws[r.workshop_id]
        P = None if Q is None or C is None else max(Q, C)
        if not r.poor:
            st = "not_poor"
        elif r.contract_type not in ("劳务协议", "承揽合同"):
            st = "contract_type"
        elif age < 16:
            st = "age"
        elif Q is None:
            st = "short" if last <= M else "pending"
        elif Q < month("2018-01"):
            st = "out_of_period"
        elif P is None or P > M:
            st = "not_certified"
        elif Wd is not None and Wd <= P:
            st = "withdrawn"
        else:
            st = "eligible"
            payable[(r.id_number, r.workshop_id)] = (P, Q)
        amount = 0.0
        if st == "eligible":
            amount = 2000.0 if month("2020-02") <= Q <= month("2020-12") else 1000.0
        out[(r.id_number, r.workshop_id)] = (st, Q, P, amount)
    best: dict[str, tuple] = {}
    for (i, w_id), (P, Q) in payable.items():
        if i not in best or (P, Q, w_id) < best[i]:
            best[i] = (P, Q, w_id)
    for (i, w_id) in payable:
        if best[i][2] != w_id:
            st, Q, P, _ = out[(i, w_id)]
            out[(i, w_id)] = ("duplicate", Q, P, 0.0)
    return out


def _dates(mi: np.ndarray, day: np.ndarray) -> pd.Series:
    return pd.to_datetime(pd.DataFrame({"year": mi // 12, "month": mi % 12 + 1, "day": day}))


def _random_dataset(n_people: int, seed: int) -> Dataset:
    rng = np.random.default_rng(seed)
    n_ws = max(n_people // 40, 5)
    base = month("2017-03")
    cert = _dates(base + rng.integers(0, 30, n_ws), rng.integers(1, 29, n_ws))
    wd = _dates(base + rng.integers(10, 40, n_ws), rng.integers(1, 29, n_ws))
    wsf = pd.DataFrame({
        "workshop_id": [f"W{i:05d}" for i in range(n_ws)],
        "workshop_name": [f"车间{i}" for i in range(n_ws)],
        "operator": "某公司", "operator_type": "企业", "credit_code": None, "county_code": "451003",
        "county": "田阳区", "township": None, "village": None,
        "certified": cert.where(rng.random(n_ws) > 0.05), "withdrawn": wd.where(rng.random(n_ws) < 0.1),
        "bank": None, "bank_account": None, "valid": True, "_src": 0, "_row": np.arange(n_ws) + 3,
    })
    births = pd.Timestamp("1995-01-01") - pd.to_timedelta(rng.integers(0, 365 * 60, n_people), unit="D")
    births = births.where(rng.random(n_people) > 0.05, pd.Timestamp("2002-06-15"))  # some near 16
    ids = np.array([make_id(b.strftime("%Y-%m-%d"), i) for i, b in enumerate(births)])
    person = np.concatenate([np.arange(n_people), np.flatnonzero(rng.random(n_people) < 0.2)])  # 20%: 2 pairs
    n = len(person)
    smi = base + rng.integers(0, 36, n)
    start = _dates(smi, rng.integers(1, 29, n))
    end = _dates(smi + rng.integers(2, 18, n), rng.integers(1, 29, n)).where(rng.random(n) < 0.3)
    ctype = rng.choice(["劳务协议", "承揽合同", "劳动合同"], n).astype(object)
    ctype[rng.random(n) < 0.03] = "临时用工"
    lab = pd.DataFrame({
        "id_number": ids[person], "name": [f"人{i}" for i in person],
        "workshop_id": [f"W{i:05d}" for i in rng.integers(0, n_ws, n)], "poor": rng.random(n) < 0.9,
        "relocated": False, "contract_type": ctype, "start": start, "end": end, "valid": True,
        "invalid_reason": None, "_src": 1, "_row": np.arange(n) + 3,
    }).drop_duplicates(["id_number", "workshop_id"]).reset_index(drop=True)
    S = (lab["start"].dt.year * 12 + lab["start"].dt.month - 1).to_numpy()
    k = rng.integers(0, 17, len(lab))  # months of pay per pair, some before S, some split rows
    rep = np.repeat(np.arange(len(lab)), k)
    offs = np.concatenate([np.sort(rng.choice(np.arange(-2, 18), size=x, replace=False)) for x in k])
    wages = pd.DataFrame({
        "id_number": lab["id_number"].to_numpy()[rep], "workshop_id": lab["workshop_id"].to_numpy()[rep],
        "month": S[rep] + offs,
        "pay": rng.choice([0.0, 500.0, 999.99, 1000.0, 1200.5, 1500.0], len(rep)),
    })
    split = wages.sample(frac=0.1, random_state=seed)
    split = split.assign(pay=np.round(split["pay"] / 2, 2))
    wages = pd.concat([wages, split], ignore_index=True)  # a second row in the same month
    wages["days"] = pd.array([pd.NA] * len(wages), dtype="Int64")
    wages["_src"], wages["_row"] = 2, np.arange(len(wages)) + 3
    return Dataset(workshops=wsf, laborers=lab, wages=wages, problems=empty_problems(), sheets=[], files=[])


@pytest.mark.parametrize("seed,M,anchor", [(1, "2019-02", "agreement"), (7, "2020-06", "agreement"),
                                           (3, "2020-06", "rolling")])
def test_vectorised_matches_reference(seed: int, M: str, anchor: str, tmp_path: Path) -> None:
    ds = _random_dataset(16000, seed)
    assert len(ds.laborers) > 19000
    # A dated amount (test values) exercises the vectorised by-month lookup.
    overrides = {"amount": DATED_AMOUNT} | ({"window_anchor": anchor} if anchor == "rolling" else {})
    policy = policy_from_overrides(tmp_path, overrides)
    d = evaluate(ds, month(M), policy).decisions
    ref = _reference(ds, month(M), rolling=anchor == "rolling")
    got = {
        (r.id_number, r.workshop_id): (r.status, _month_or_none(r.qualified_month),
                                       _month_or_none(r.payable_month), float(r.amount))
        for r in d.itertuples(index=False)
    }
    diff = [(k, got[k], ref[k]) for k in ref if got[k] != ref[k]]
    assert not diff, diff[:5]
    counts = d["status"].value_counts()
    for s in ("eligible", "pending", "short", "duplicate", "not_poor", "not_certified", "contract_type", "age",
              "out_of_period", "withdrawn"):
        assert counts.get(s, 0) > 0, s  # the generated data exercise the main branches


def test_paid_ledger_month_as_text_and_inputs_untouched() -> None:
    c = Case(next(x for x in CASES if x["name"] == "previously_paid_makes_other_pair_duplicate"))
    ds = c.dataset()
    before = [f.copy() for f in (ds.workshops, ds.laborers, ds.wages)]
    paid = c.paid().assign(batch_month="2018-09")
    d = evaluate(ds, month("2019-06"), load_policy(None), paid).decisions
    assert sorted(d["status"]) == ["duplicate", "eligible", "paid"]
    assert d.loc[d["status"] == "duplicate", "reason"].iloc[0].startswith("已于2018年9月在车间C001")
    for old, new in zip(before, (ds.workshops, ds.laborers, ds.wages), strict=True):
        pd.testing.assert_frame_equal(old, new)


# --- the typed result and the single status precedence -----------------------------------------
_OVERLAP = {
    "workshops": [{"id": "C001", "certified": "2019-01-01"}],
    "laborers": [{"who": "甲", "ws": "C001", "start": "2018-03-01", "poor": False, "type": "临时用工"},
                 {"who": "乙", "ws": "C001", "start": "2018-03-01", "birth": "2005-01-01"}],
    "wages": [{"who": "甲", "ws": "C001", "from": "2018-03", "to": "2018-08", "pay": 1000},
              {"who": "乙", "ws": "C001", "from": "2018-03", "to": "2018-08", "pay": 1000}],
}


def test_status_precedence_is_read_from_status_order(monkeypatch: pytest.MonkeyPatch) -> None:
    """The evaluator decides in the order of `status.STATUS_ORDER`, the only definition of it."""
    from fupin_cli import status

    ds = Case(_OVERLAP).dataset()
    ev = evaluate(ds, month("2018-12"), load_policy(None))
    assert list(ev.decisions["status"]) == ["not_poor", "age"]
    # 甲 is also the wrong contract type, 乙 (13 at the start) is also not certified by M.
    assert ev.checks["contract_type"][0] and ev.checks["not_certified"][1]
    order = list(status.STATUS_ORDER)
    for a, b in (("not_poor", "contract_type"), ("age", "not_certified")):
        i, j = order.index(a), order.index(b)
        order[i], order[j] = order[j], order[i]
    monkeypatch.setattr(status, "STATUS_ORDER", tuple(order))
    ev = evaluate(ds, month("2018-12"), load_policy(None))
    assert list(ev.decisions["status"]) == ["contract_type", "not_certified"]


def test_precedence_without_a_place_for_a_check_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from fupin_cli import status

    monkeypatch.setattr(status, "STATUS_ORDER", tuple(s for s in status.STATUS_ORDER if s != "withdrawn"))
    with pytest.raises(ValueError, match="precedence"):
        evaluate(Case(_OVERLAP).dataset(), month("2018-12"), load_policy(None))


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_status_is_the_first_applying_check(case: dict, tmp_path: Path) -> None:
    from fupin_cli.status import ONCE_STATUSES, STATUS_ORDER

    c = Case(case)
    ev = evaluate(c.dataset(), month(case["month"]), policy_from_overrides(tmp_path, case.get("policy"), case.get("policy_top")), c.paid())
    d = ev.decisions
    for i, s in enumerate(d["data_status"]):  # what the data says; the ledger's `paid` comes before it
        applying = [k for k in STATUS_ORDER if k not in ONCE_STATUSES and ev.checks[k][i]]
        assert (applying[0] if applying else s) == s and (s in ONCE_STATUSES) == (not applying)
        assert d["status"].iloc[i] in (s, "paid")


def test_result_carries_window_months_and_params(tmp_path: Path) -> None:
    c = Case(next(x for x in CASES if x["name"] == "two_counties_earliest_P_wins"))
    ds = c.dataset()
    ev = evaluate(ds, month("2018-12"), load_policy(None))
    win = ev.traces([0])[0]
    assert (win.start, win.window_last, win.anchor, win.period) == (month("2018-03"), month("2019-02"), "agreement",
                                                                     None)
    assert win.qualified_month == month("2018-08") and win.status == "eligible" and win.amount == 1000
    counted = [m for m in win.months if m.counted]
    assert [m.months for m in counted] == [1, 2, 3, 4, 5, 6]
    assert all(m.pay == 1000 and m.wages == 1000 * m.months for m in counted)
    idle = [m for m in win.months if month("2018-09") <= m.month <= month("2018-12")]
    assert [(m.not_counted, m.months, m.wages) for m in idle] == [("no_pay", 6, 6000)] * 4
    after = [m for m in win.months if m.month > month("2018-12")]
    assert after and all(not m.counted and m.not_counted == "after_month" and m.months is None for m in after)
    q = next(m for m in win.months if m.qualifying)
    assert (q.month, q.months, q.wages) == (month("2018-08"), 6, 6000)
    params = {p.name: p for p in win.params}
    assert params["window_months"].read_at == month("2018-03") and params["window_months"].value == 12
    assert params["amount"].read_at == month("2018-08") and params["amount"].source == "桂人社发〔20__〕82号"
    # The long frame of counted months agrees with the traces (columnar, keyed by pair position).
    f = ev.counted.frame()
    mine = f[f["pair"] == 0]
    assert list(mine["month"]) == [m.month for m in counted] and list(mine["months"]) == [m.months for m in counted]


def test_not_counted_reasons_in_the_trace(tmp_path: Path) -> None:
    def trace(name: str):
        case = next(x for x in CASES if x["name"] == name)
        c = Case(case)
        ev = evaluate(c.dataset(), month(case["month"]), policy_from_overrides(tmp_path, case.get("policy")), c.paid())
        return {m.month: m for m in ev.traces([0])[0].months}

    t = trace("pay_before_agreement_start_not_counted")
    assert t[month("2018-03")].not_counted == "before_start" and t[month("2018-03")].pay == 1000
    t = trace("agreement_end_cuts_window")
    assert t[month("2018-07")].not_counted == "after_end"


def test_parameter_sources_per_pair(tmp_path: Path) -> None:
    """A dated amount: each pair's amount, its 文号 and the month it was read come from the result."""
    amounts = [{"from": "2018-01", "value": 1000, "source": "旧文号"},
               {"from": "2018-08", "value": 1500, "source": "新文号"}]
    policy = policy_from_overrides(tmp_path, {"amount": amounts})
    case = {"workshops": [{"id": "C001"}],
            "laborers": [{"who": "甲", "ws": "C001", "start": "2018-01-01"},
                         {"who": "乙", "ws": "C001", "start": "2018-03-01"}],
            "wages": [{"who": "甲", "ws": "C001", "from": "2018-01", "to": "2018-06", "pay": 1000},
                      {"who": "乙", "ws": "C001", "from": "2018-03", "to": "2018-08", "pay": 1000}]}
    ev = evaluate(Case(case).dataset(), month("2018-12"), policy)
    assert list(ev.decisions["amount"]) == [1000, 1500]
    assert list(ev.read_at("amount")) == [month("2018-06"), month("2018-08")]
    assert list(ev.sources("amount")) == ["旧文号", "新文号"]
    assert list(ev.read_at("window_months")) == [month("2018-01"), month("2018-03")]
    assert [p.source for t in ev.traces([0, 1]) for p in t.params if p.name == "amount"] == ["旧文号", "新文号"]
