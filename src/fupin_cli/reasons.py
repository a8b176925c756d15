"""Chinese reasons, with figures, for each status of SPEC §4.2 item 6.

One string per pair, read from the `rules.Evaluation` that `rules.evaluate` built (no
re-evaluation). Per status, the figures its builder reads become plain lists (`_Facts`), and the builder is
called per pair: a hundred thousand pairs take a fraction of a second.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from fupin_cli.money import yuan
from fupin_cli.months import format_month_cn

if TYPE_CHECKING:
    from fupin_cli.rules import Evaluation


@lru_cache(maxsize=4096)
def mcn(m: int) -> str:
    return format_month_cn(int(m))


def _date_cn(v: Any) -> str:
    if v is None or pd.isna(v):
        return "(空)"
    t = pd.Timestamp(v)
    return f"{t.year}年{t.month}月{t.day}日"


def gap_text(months: int, wages: float) -> str:
    parts = []
    if months > 0:
        parts.append(f"{int(months)}个月")
    if wages > 0.005:
        parts.append(f"{yuan(wages)}元")
    return "、".join(parts)


def _isnan(x: float) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _ws_label(ws: str, names: dict) -> str:
    name = names.get(ws)
    return f"车间{ws}({name})" if name is not None and not pd.isna(name) else f"车间{ws}"


def _dup_sources(ev: Evaluation, persons: list, data_status: list) -> dict[str, str]:
    """Person key (ID; ID and period under yearly recurrence) → where the laborer already had (or
    has) the subsidy, as a phrase; only for the persons of `duplicate` pairs (the rest is never read)."""
    from fupin_cli.rules.evaluate import person_keys

    wanted = {p for p, s in zip(persons, data_status, strict=True) if s == "duplicate"}
    names = ev.workshop.names.to_dict()  # a plain dict: one lookup per winner, tens of thousands of them
    out: dict[str, str] = {}
    winners = ev.once.winners
    for r in winners.loc[winners["person"].isin(wanted)].itertuples(index=False):
        out[r.person] = f"已于{mcn(r.P)}在{_ws_label(r.workshop_id, names)}享受"
    # Paid laborers never contest (rules.evaluate), so the two sources do not overlap; the paid
    # frame is sorted by batch month, so the earliest payment is the one named.
    pf = ev.once.paid
    yearly = ev.policy.recurrence == "yearly"
    keys = person_keys(pf["id_number"], pf["period"] if yearly and "period" in pf else None)
    needed = keys.isin(wanted).to_numpy()
    for key, r in zip(keys[needed].tolist(), pf.loc[needed].itertuples(index=False), strict=True):
        when = "" if _isnan(r.batch_month) else f"于{mcn(r.batch_month)}"
        per = f"({r.period}年度)" if yearly and isinstance(getattr(r, "period", None), str) else ""
        other = getattr(r, "policy", None)
        under = f"按政策{other}" if isinstance(other, str) and other != ev.policy.name else ""
        out.setdefault(key, f"已{when}在{_ws_label(r.workshop_id, names)}{under}享受{per}")
    return out


def _take(values: Any, rows: np.ndarray) -> list:
    """The Python values of `values` (array, Series or list) at positions `rows`, as `tolist()` gives them."""
    if isinstance(values, pd.Series):
        return values.iloc[rows].tolist()
    if isinstance(values, np.ndarray):
        return values[rows].tolist()
    return [values[i] for i in rows.tolist()]


# Each per-pair figure the builders read: where it comes from in the Evaluation.
_SOURCES: dict[str, Callable[[Evaluation], Any]] = {
    "ids": lambda ev: ev.decisions["id_number"], "wss": lambda ev: ev.decisions["workshop_id"],
    "cts": lambda ev: ev.decisions["contract_type"], "months": lambda ev: ev.decisions["months"],
    "wages": lambda ev: ev.decisions["wages"], "amount": lambda ev: ev.decisions["amount"],
    "full": lambda ev: ev.full_amount, "capped": lambda ev: ev.capped,
    "cap": lambda ev: ev.params.cap_per_workshop, "Q": lambda ev: ev.windows.qualified,
    "P": lambda ev: ev.payable, "C": lambda ev: ev.workshop.certified, "Wd": lambda ev: ev.workshop.withdrawn,
    "S": lambda ev: ev.windows.start, "E": lambda ev: ev.windows.end, "has_end": lambda ev: ev.windows.has_end,
    "wlast": lambda ev: ev.windows.last, "wm": lambda ev: ev.windows.length, "rolling": lambda ev: ev.windows.rolling,
    "win_lo": lambda ev: ev.windows.low, "need_m": lambda ev: ev.params.min_months,
    "need_w": lambda ev: ev.params.min_wages, "valid": lambda ev: ev.valid, "ws_found": lambda ev: ev.workshop.found,
    "inv_reason": lambda ev: ev.invalid_reason, "age": lambda ev: ev.age, "min_age": lambda ev: ev.params.min_age,
    "max_age": lambda ev: ev.params.max_age, "vf": lambda ev: ev.params.valid_from,
    "vt": lambda ev: ev.params.valid_to, "ct_pos": lambda ev: ev.params.contract_pos,
    "persons": lambda ev: _persons(ev), "categories": lambda ev: _category_names(ev),
    "floor": lambda ev: ev.policy.lookup("min_monthly_wage", ev.params.read_at),
    "P0": lambda ev: ev.payable if ev.payable_before_gate is None else ev.payable_before_gate,
    "male": lambda ev: ev.params.male, "calendar": lambda ev: ev.windows.calendar,
    "period": lambda ev: ev.windows.period, "first": lambda ev: ev.windows.first,
}


class _Facts:
    """The evaluation's figures for the pairs at positions `rows` (one status), as plain lists indexed
    0..len(rows)-1. A list is made on first use, for these rows only: forty lists over every pair
    held about 1 GB at 1,000,000 laborers, and most statuses read a handful of them."""

    def __init__(self, ev: Evaluation, rows: np.ndarray, data_status: list) -> None:
        self._ev, self._rows = ev, rows
        self.M = ev.month
        self.data_status = [data_status[i] for i in rows.tolist()]  # what today's data alone says
        self.terms = ev.policy.terms
        self.sex_limits = ev.policy.uses("max_age")  # max_age differs by sex
        self.types = ["、".join(v.value) for v in ev.params.contract_values]
        self._all_status = data_status

    def __getattr__(self, name: str) -> Any:  # only for names not yet set: make the list once
        if name.startswith("_"):
            raise AttributeError(name)
        value = self._make(name)
        setattr(self, name, value)
        return value

    def _make(self, name: str) -> Any:
        ev, rows = self._ev, self._rows
        if name == "starts":  # read per age row only: turning timestamps into objects is slow
            return ev.decisions["start"].iloc[rows]
        if name in ("gate_count", "gate_need"):
            g = ev.gate
            return [] if g is None else _take(g.count_at_m if name == "gate_count" else g.need_at_m, rows)
        if name == "dup":
            return _dup_sources(ev, _persons(ev), self._all_status) if "duplicate" in self._all_status else {}
        if name == "paid_info":
            return _paid_info(ev)
        if name not in _SOURCES:
            raise AttributeError(name)
        return _take(_SOURCES[name](ev), rows)


def _paid_info(ev: Evaluation) -> dict:
    out: dict = {}
    for r in ev.once.paid.itertuples(index=False):
        out.setdefault((r.id_number, r.workshop_id), r)
    return out


def _persons(ev: Evaluation) -> list:
    from fupin_cli.rules.evaluate import person_keys

    lab = ev.laborers
    if "period" not in lab:  # once per person: the ID number itself
        return ev.decisions["id_number"].tolist()
    return person_keys(lab["id_number"], lab["period"]).tolist()


def _category_names(ev: Evaluation) -> list:
    vals = ev.policy.values("categories")
    names = ["、".join(v.value) for v in vals] or ["建档立卡贫困劳动力"]
    return [names[max(k, 0)] for k in ev.params.category_pos.tolist()]


def _invalid_data(f: _Facts, i: int) -> str:
    if not f.valid[i]:
        r = f.inv_reason[i]
        return r if isinstance(r, str) and r else "该行数据有误,未参与核算,请先修正数据问题"
    if not f.ws_found[i]:
        return f"车间编号“{f.wss[i]}”在车间表中不存在或该车间数据有误,未参与核算"
    return "协议起始日期缺失或无法识别,无法核算"


def _not_poor(f: _Facts, i: int) -> str:
    if f.terms.target == "建档立卡贫困劳动力" and f.categories[i] == "建档立卡贫困劳动力":
        return f"非建档立卡贫困劳动力,不属于{f.terms.subsidy}对象"
    return f"不属于{f.categories[i]}(本政策的{f.terms.target}),不属于{f.terms.subsidy}对象"


def _contract_type(f: _Facts, i: int) -> str:
    ct = f.cts[i] if isinstance(f.cts[i], str) and f.cts[i] else "(空)"
    return f"协议类型“{ct}”不在奖补范围内(认可的类型:{f.types[f.ct_pos[i]]})"


def _age(f: _Facts, i: int) -> str:
    age = f.age[i]
    if _isnan(age):
        return "无法从身份证号推算协议起始日的年龄"
    if age < f.min_age[i]:
        return f"协议起始日({_date_cn(f.starts.iloc[i])})未满{int(f.min_age[i])}周岁(当时{int(age)}周岁)"
    sex = ("男性" if f.male[i] else "女性") if f.sex_limits else ""
    return f"协议起始日({_date_cn(f.starts.iloc[i])})已{int(age)}周岁,超过{sex}{int(f.max_age[i])}周岁的上限"


def _shortfall(f: _Facts, i: int) -> str:
    S, M, E, wm = f.S[i], f.M, f.E[i], f.wm[i]
    if S > M:
        return f"协议尚未开始(协议起始于{mcn(S)},晚于核算月份{mcn(M)}),暂不核算"
    got = f"累计工作{f.months[i]}个月、报酬{yuan(f.wages[i])}元"
    want = f"{int(f.need_m[i])}个月、{yuan(f.need_w[i])}元"
    gap = gap_text(max(int(f.need_m[i]) - f.months[i], 0), max(f.need_w[i] - f.wages[i], 0.0))
    missing = f",还差{gap}" if gap else ",尚未达标"
    if not _isnan(f.period[i]):
        year = f"{int(f.period[i])}年度"
        if f.data_status[i] == "pending":
            return f"{year}内(自{mcn(f.first[i])}起){got}{missing}(年度至{mcn(f.wlast[i])})"
        return f"{year}({mcn(f.first[i])}至{mcn(f.wlast[i])})已结束,{got},未达到{want}的标准{missing}"
    if f.calendar[i]:
        if f.data_status[i] == "pending":
            end = f"协议至{mcn(E)}" if f.has_end[i] else "协议未约定终止日期"
            return f"{int(f.win_lo[i]) // 12}年内(自{mcn(f.win_lo[i])}起){got}{missing}(按自然年计算,{end})"
        return (f"协议已于{mcn(E)}终止,各自然年均未达到{want}的标准"
                f"(最后一年自{mcn(f.win_lo[i])}起{got}{missing})")
    if f.data_status[i] == "pending":
        if f.rolling[i]:
            end = f"协议至{mcn(E)}" if f.has_end[i] else "协议未约定终止日期"
            return f"最近连续{wm}个月内(自{mcn(f.win_lo[i])}起){got}{missing}(滚动计算,{end})"
        return f"窗口期内{got}{missing}(窗口期至{mcn(f.wlast[i])})"
    if f.rolling[i]:
        return (f"协议已于{mcn(E)}终止,期间任意连续{wm}个月均未达到{want}的标准"
                f"(最后{wm}个月{got}{missing})")
    cut = f",协议于{mcn(E)}终止,窗口期提前结束" if f.has_end[i] and E < S + wm - 1 else ""
    return f"窗口期({mcn(S)}至{mcn(f.wlast[i])})已结束{cut},{got},未达到{want}的标准{missing}"


def _out_of_period(f: _Facts, i: int) -> str:
    lo = "" if _isnan(f.vf[i]) else f"{mcn(f.vf[i])}起"
    hi = "" if _isnan(f.vt[i]) else f"至{mcn(f.vt[i])}"
    return f"达标月份{mcn(f.Q[i])}不在政策执行期内({lo}{hi}),不予奖补"


def _not_certified(f: _Facts, i: int) -> str:
    if _isnan(f.C[i]):
        return f"{mcn(f.Q[i])}已达标,但车间{f.wss[i]}未认定为{f.terms.workshop}(无认定日期)"
    return f"{mcn(f.Q[i])}已达标,但车间于{mcn(f.C[i])}才认定,晚于核算月份{mcn(f.M)}"


def _withdrawn(f: _Facts, i: int) -> str:
    if _isnan(f.P[i]):  # the head-count gate was never passed before the withdrawal
        return (f"车间已于{mcn(f.Wd[i])}撤销认定,撤销前车间当月在岗{f.terms.target}人数未达到"
                f"{int(f.gate_need[i])}人,不予奖补")
    return f"车间已于{mcn(f.Wd[i])}撤销认定,不晚于可发放月份{mcn(f.P[i])},不予奖补"


def _paid(f: _Facts, i: int) -> str:
    r = f.paid_info.get((f.ids[i], f.wss[i]))
    when = "" if r is None or _isnan(r.batch_month) else f"于{mcn(r.batch_month)}"
    batch = "" if r is None or r.batch_id is None or pd.isna(r.batch_id) else f"(批次{r.batch_id})"
    return f"已{when}兑现{yuan(f.amount[i])}元{batch},不再发放"


def _duplicate(f: _Facts, i: int) -> str:
    return f"{f.dup.get(f.persons[i], '已在其他车间享受')},不重复发放"


def _workshop_gate(f: _Facts, i: int) -> str:
    return (f"{mcn(f.Q[i])}已达标,但自{mcn(f.P0[i])}起车间当月在岗{f.terms.target}人数一直不足"
            f"{int(f.gate_need[i])}人(核算月份{mcn(f.M)}为{int(f.gate_count[i])}人),暂不发放")


def _eligible(f: _Facts, i: int) -> str:
    Q, P = f.Q[i], f.P[i]
    year = "" if _isnan(f.period[i]) else f"{int(f.period[i])}年度"
    floor = "" if _isnan(f.floor[i]) or f.floor[i] <= 0 else f"每月不低于{yuan(f.floor[i])}元"
    text = f"{year}{mcn(Q)}达标(累计工作{f.months[i]}个月{floor}、报酬{yuan(f.wages[i])}元)"
    if P > f.P0[i]:
        text += f",车间当月在岗{f.terms.target}人数于{mcn(P)}达到要求"
    elif P > Q:
        text += f",车间于{mcn(f.C[i])}认定"
    text += f",{mcn(P)}起可发放,奖补{yuan(f.amount[i])}元"
    if f.capped[i]:
        text += f"(车间奖补已达上限{yuan(f.cap[i])}元,由{yuan(f.full[i])}元核减)"
    return text


_BUILDERS: dict[str, Callable[[_Facts, int], str]] = {
    "invalid_data": _invalid_data, "not_poor": _not_poor, "contract_type": _contract_type, "age": _age,
    "pending": _shortfall, "short": _shortfall, "out_of_period": _out_of_period,
    "not_certified": _not_certified, "withdrawn": _withdrawn, "workshop_gate": _workshop_gate, "paid": _paid, "duplicate": _duplicate,
    "eligible": _eligible,
}


def build_reasons(ev: Evaluation) -> list[str]:
    """The reason of every pair of `ev`, in the order of its decisions frame."""
    d = ev.decisions
    status = d["status"].tolist()
    data_status = d["data_status"].tolist() if "data_status" in d else status
    out = _by_status(ev, data_status)
    # SPEC §4.2 item 5: `paid` by the ledger comes first; what the data alone says follows (audit list).
    ledger_paid = np.array([i for i, (s, ds) in enumerate(zip(status, data_status, strict=True))
                            if s == "paid" and ds != "paid"], dtype=np.int64)
    if len(ledger_paid):
        f = _Facts(ev, ledger_paid, data_status)
        for j, i in enumerate(ledger_paid.tolist()):
            out[i] = f"{_paid(f, j)};按现有数据:{out[i]}"
    return out


def _by_status(ev: Evaluation, data_status: list) -> list[str]:
    """Each pair's reason from its status's builder, one status at a time; `not_poor` (most pairs on
    real data) says the same for every pair of a category, so its text is made once per category."""
    codes, statuses = pd.factorize(pd.Series(data_status, dtype=object))
    out: list = [None] * len(codes)
    for k, s in enumerate(statuses):
        rows = np.flatnonzero(codes == k)
        f = _Facts(ev, rows, data_status)
        if s == "not_poor":
            by_category: dict[str, str] = {}
            for j, (i, c) in enumerate(zip(rows.tolist(), f.categories, strict=True)):
                text = by_category.get(c)
                out[i] = text if text is not None else by_category.setdefault(c, _not_poor(f, j))
        else:
            build = _BUILDERS[s]
            for j, i in enumerate(rows.tolist()):
                out[i] = build(f, j)
    return out
