"""Chinese reasons, with figures, for each status of SPEC §4.2 item 6.

One string per pair; built from the arrays `rules.evaluate` already computed (no re-evaluation).
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from fupin_cli.months import format_month_cn


@lru_cache(maxsize=65536)
def yuan(x: float) -> str:
    """1350 → '1,350'; 1200.5 → '1,200.50'."""
    x = float(x)
    return f"{x:,.0f}" if abs(x - round(x)) < 0.005 else f"{x:,.2f}"


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


def _dup_sources(ctx: dict) -> dict[str, str]:
    """id_number → where the laborer already had (or has) the subsidy, as a phrase."""
    names = ctx["ws_names"].to_dict()  # a plain dict: one lookup per winner, tens of thousands of them
    out: dict[str, str] = {}
    for r in ctx["winners"].itertuples(index=False):
        out[r.id_number] = f"已于{mcn(r.P)}在{_ws_label(r.workshop_id, names)}享受"
    # Paid laborers never contest (rules.evaluate), so the two sources do not overlap; the paid
    # frame is sorted by batch month, so the earliest payment is the one named.
    for r in ctx["pf"].itertuples(index=False):
        when = "" if _isnan(r.batch_month) else f"于{mcn(r.batch_month)}"
        out.setdefault(r.id_number, f"已{when}在{_ws_label(r.workshop_id, names)}享受")
    return out


def build_reasons(d: pd.DataFrame, ctx: dict) -> list[str]:
    w = ctx["w"]
    M = ctx["M"]
    n = len(d)
    status = d["status"].tolist()
    months = d["months"].tolist()
    wages = d["wages"].tolist()
    Q = d["qualified_month"].to_numpy(dtype=float, na_value=np.nan).tolist()
    P = ctx["P"].tolist()
    C = ctx["C"].tolist()
    Wd = ctx["Wd"].tolist()
    S, E, wlast, wm = w["S"].tolist(), w["E"].tolist(), w["wlast"].tolist(), w["wm"].tolist()
    rolling, has_end, win_lo = w["rolling"].tolist(), w["has_end"].tolist(), w["win_lo"].tolist()
    need_m, need_w = ctx["need_m"].tolist(), ctx["need_w"].tolist()
    amount, full, capped, cap = d["amount"].tolist(), ctx["full_amount"].tolist(), ctx["capped"].tolist(), \
        ctx["cap"].tolist()
    ids, wss, cts = d["id_number"].tolist(), d["workshop_id"].tolist(), d["contract_type"].tolist()
    starts = d["start"]  # read per age row only: turning 100,000 timestamps into objects is slow
    inv_reason = list(ctx["invalid_reason"])
    ws_found, valid = ctx["ws_found"].tolist(), ctx["valid"].tolist()
    age, min_age, max_age = ctx["age"].tolist(), ctx["min_age"].tolist(), ctx["max_age"].tolist()
    vf, vt = ctx["vf"].tolist(), ctx["vt"].tolist()
    ct_pos = ctx["ct_pos"].tolist()
    types = ["、".join(v.value) for v in ctx["ct_values"]]
    dup = _dup_sources(ctx) if "duplicate" in status else {}
    paid_info = {}
    if "paid" in status:
        for r in ctx["pf"].itertuples(index=False):
            paid_info.setdefault((r.id_number, r.workshop_id), r)

    out: list[str] = [""] * n
    for i in range(n):
        s = status[i]
        if s == "invalid_data":
            if not valid[i]:
                r = inv_reason[i]
                out[i] = r if isinstance(r, str) and r else "该行数据有误,未参与核算,请先修正数据问题"
            elif not ws_found[i]:
                out[i] = f"车间编号“{wss[i]}”在车间表中不存在或该车间数据有误,未参与核算"
            else:
                out[i] = "协议起始日期缺失或无法识别,无法核算"
        elif s == "not_poor":
            out[i] = "非建档立卡贫困劳动力,不属于一次性带动就业奖补对象"
        elif s == "contract_type":
            ct = cts[i] if isinstance(cts[i], str) and cts[i] else "(空)"
            out[i] = f"协议类型“{ct}”不在奖补范围内(认可的类型:{types[ct_pos[i]]})"
        elif s == "age":
            if _isnan(age[i]):
                out[i] = "无法从身份证号推算协议起始日的年龄"
            elif age[i] < min_age[i]:
                out[i] = f"协议起始日({_date_cn(starts.iloc[i])})未满{int(min_age[i])}周岁(当时{int(age[i])}周岁)"
            else:
                out[i] = f"协议起始日({_date_cn(starts.iloc[i])})已{int(age[i])}周岁,超过{int(max_age[i])}周岁的上限"
        elif s in ("pending", "short"):
            out[i] = _shortfall(s, i, M, S, E, wlast, wm, rolling, has_end, win_lo, months, wages,
                                need_m, need_w)
        elif s == "out_of_period":
            lo = "" if _isnan(vf[i]) else f"{mcn(vf[i])}起"
            hi = "" if _isnan(vt[i]) else f"至{mcn(vt[i])}"
            out[i] = f"达标月份{mcn(Q[i])}不在政策执行期内({lo}{hi}),不予奖补"
        elif s == "not_certified":
            if _isnan(C[i]):
                out[i] = f"{mcn(Q[i])}已达标,但车间{wss[i]}未认定为就业扶贫车间(无认定日期)"
            else:
                out[i] = f"{mcn(Q[i])}已达标,但车间于{mcn(C[i])}才认定,晚于核算月份{mcn(M)}"
        elif s == "withdrawn":
            out[i] = f"车间已于{mcn(Wd[i])}撤销认定,不晚于可发放月份{mcn(P[i])},不予奖补"
        elif s == "paid":
            r = paid_info.get((ids[i], wss[i]))
            when = "" if r is None or _isnan(r.batch_month) else f"于{mcn(r.batch_month)}"
            batch = "" if r is None or r.batch_id is None or pd.isna(r.batch_id) else f"(批次{r.batch_id})"
            out[i] = f"已{when}兑现{yuan(amount[i])}元{batch},不再发放"
        elif s == "duplicate":
            out[i] = f"{dup.get(ids[i], '已在其他车间享受')},不重复发放"
        else:  # eligible
            text = f"{mcn(Q[i])}达标(累计工作{months[i]}个月、报酬{yuan(wages[i])}元)"
            if P[i] > Q[i]:
                text += f",车间于{mcn(C[i])}认定"
            text += f",{mcn(P[i])}起可发放,奖补{yuan(amount[i])}元"
            if capped[i]:
                text += f"(车间奖补已达上限{yuan(cap[i])}元,由{yuan(full[i])}元核减)"
            out[i] = text
    return out


def _shortfall(s: str, i: int, M: int, S: list, E: list, wlast: list, wm: list, rolling: list,
               has_end: list, win_lo: list, months: list, wages: list, need_m: list, need_w: list) -> str:
    if S[i] > M:
        return f"协议尚未开始(协议起始于{mcn(S[i])},晚于核算月份{mcn(M)}),暂不核算"
    got = f"累计工作{months[i]}个月、报酬{yuan(wages[i])}元"
    want = f"{int(need_m[i])}个月、{yuan(need_w[i])}元"
    gap = gap_text(max(int(need_m[i]) - months[i], 0), max(need_w[i] - wages[i], 0.0))
    missing = f",还差{gap}" if gap else ",尚未达标"
    if s == "pending":
        if rolling[i]:
            end = f"协议至{mcn(E[i])}" if has_end[i] else "协议未约定终止日期"
            return f"最近连续{wm[i]}个月内(自{mcn(win_lo[i])}起){got}{missing}(滚动计算,{end})"
        return f"窗口期内{got}{missing}(窗口期至{mcn(wlast[i])})"
    if rolling[i]:
        return (f"协议已于{mcn(E[i])}终止,期间任意连续{wm[i]}个月均未达到{want}的标准"
                f"(最后{wm[i]}个月{got}{missing})")
    cut = f",协议于{mcn(E[i])}终止,窗口期提前结束" if has_end[i] and E[i] < S[i] + wm[i] - 1 else ""
    return f"窗口期({mcn(S[i])}至{mcn(wlast[i])})已结束{cut},{got},未达到{want}的标准{missing}"
