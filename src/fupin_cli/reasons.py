"""Chinese reasons, with figures, for each status of SPEC §4.2 item 6.

One string per pair, read from the `rules.Evaluation` that `rules.evaluate` built (no
re-evaluation). The figures are turned into plain lists once (`_Facts`), then each status has its
own builder, called per pair: a hundred thousand pairs take a fraction of a second.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
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


@dataclass(frozen=True)
class _Facts:
    """The evaluation's figures as plain lists (fast per-row access), by pair position."""

    M: int
    status: list
    data_status: list  # what today's data alone says; differs from `status` only for pairs the ledger paid
    ids: list
    wss: list
    cts: list
    starts: pd.Series  # read per age row only: turning 100,000 timestamps into objects is slow
    months: list
    wages: list
    amount: list
    full: list
    capped: list
    cap: list
    Q: list
    P: list
    C: list
    Wd: list
    S: list
    E: list
    has_end: list
    wlast: list
    wm: list
    rolling: list
    win_lo: list
    need_m: list
    need_w: list
    valid: list
    ws_found: list
    inv_reason: list
    age: list
    min_age: list
    max_age: list
    vf: list
    vt: list
    ct_pos: list
    types: list[str]
    dup: dict[str, str]
    paid_info: dict
    persons: list  # once-per-person key (ID, or ID and period under yearly recurrence)
    terms: Any  # policy.terms
    categories: list  # per pair, the categories counted at the decision month (joined)
    floor: list  # min_monthly_wage at the decision month (NaN: none)
    gate_count: list
    gate_need: list
    P0: list
    male: list
    calendar: list
    period: list
    first: list
    sex_limits: bool  # max_age differs by sex


def _facts(ev: Evaluation) -> _Facts:
    d, w, prm = ev.decisions, ev.windows, ev.params
    status = d["status"].tolist()
    data_status = d["data_status"].tolist() if "data_status" in d else status
    persons = _persons(ev)
    paid_info: dict = {}
    if "paid" in status:
        for r in ev.once.paid.itertuples(index=False):
            paid_info.setdefault((r.id_number, r.workshop_id), r)
    return _Facts(
        M=ev.month, status=status, data_status=data_status, ids=d["id_number"].tolist(), wss=d["workshop_id"].tolist(),
        cts=d["contract_type"].tolist(), starts=d["start"], months=d["months"].tolist(),
        wages=d["wages"].tolist(), amount=d["amount"].tolist(), full=ev.full_amount.tolist(),
        capped=ev.capped.tolist(), cap=prm.cap_per_workshop.tolist(), Q=w.qualified.tolist(),
        P=ev.payable.tolist(), C=ev.workshop.certified.tolist(), Wd=ev.workshop.withdrawn.tolist(),
        S=w.start.tolist(), E=w.end.tolist(), has_end=w.has_end.tolist(), wlast=w.last.tolist(),
        wm=w.length.tolist(), rolling=w.rolling.tolist(), win_lo=w.low.tolist(),
        need_m=prm.min_months.tolist(), need_w=prm.min_wages.tolist(), valid=ev.valid.tolist(),
        ws_found=ev.workshop.found.tolist(), inv_reason=list(ev.invalid_reason), age=ev.age.tolist(),
        min_age=prm.min_age.tolist(), max_age=prm.max_age.tolist(), vf=prm.valid_from.tolist(),
        vt=prm.valid_to.tolist(), ct_pos=prm.contract_pos.tolist(),
        types=["、".join(v.value) for v in prm.contract_values],
        dup=_dup_sources(ev, persons, data_status) if "duplicate" in data_status else {}, paid_info=paid_info,
        persons=persons, terms=ev.policy.terms, categories=_category_names(ev),
        floor=ev.policy.lookup("min_monthly_wage", prm.read_at).tolist(),
        gate_count=[] if ev.gate is None else ev.gate.count_at_m.tolist(),
        gate_need=[] if ev.gate is None else ev.gate.need_at_m.tolist(),
        P0=(ev.payable if ev.payable_before_gate is None else ev.payable_before_gate).tolist(),
        male=prm.male.tolist(), sex_limits=ev.policy.uses("max_age"), calendar=w.calendar.tolist(),
        period=w.period.tolist(), first=w.first.tolist(),
    )


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
    f = _facts(ev)
    out = _by_status(f)
    # SPEC §4.2 item 5: `paid` by the ledger comes first; what the data alone says follows (audit list).
    return [f"{_paid(f, i)};按现有数据:{text}" if s == "paid" and ds != "paid" else text
            for i, (s, ds, text) in enumerate(zip(f.status, f.data_status, out, strict=True))]


def _by_status(f: _Facts) -> list[str]:
    """Each pair's reason from its status's builder, one status at a time; `not_poor` (most pairs on
    real data) says the same for every pair of a category, so its text is made once per category."""
    codes, statuses = pd.factorize(pd.Series(f.data_status, dtype=object))
    out: list = [None] * len(codes)
    for k, s in enumerate(statuses):
        rows = np.flatnonzero(codes == k).tolist()
        if s == "not_poor":
            by_category: dict[str, str] = {}
            for i in rows:
                c = f.categories[i]
                text = by_category.get(c)
                out[i] = text if text is not None else by_category.setdefault(c, _not_poor(f, i))
        else:
            build = _BUILDERS[s]
            for i in rows:
                out[i] = build(f, i)
    return out
