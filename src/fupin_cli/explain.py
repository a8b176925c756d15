"""`fupin explain`: the trace of SPEC §4.2 for one laborer — months counted, running totals, the
parameters used with their source, and why each pair got its status.

The status, Q, P and reason come from `rules.evaluate` (run on the laborer's workshops, so that
once-per-person and any workshop cap are decided exactly as in a payout); the month table is
recomputed here month by month, in plain Python, for the few pairs of one person.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import pandas as pd
from pydantic import BaseModel

from fupin_cli.dataset import Dataset
from fupin_cli.errors import FupinError
from fupin_cli.money import yuan
from fupin_cli.months import format_month, format_month_cn
from fupin_cli.policy import ANCHOR_LABELS, PARAM_LABELS, Policy, format_param_value
from fupin_cli.privacy import mask_id
from fupin_cli.rules import evaluate
from fupin_cli.status import STATUS_LABELS
from fupin_cli.values import normalise_id

_ID_LIKE = re.compile(r"^(\d{17}[\dX]|\d{15})$")
# Parameters fixing the window's shape are read at the start month S; the others at Q (rules.py).
_AT_START = ("window_months", "window_anchor")
_AT_Q = ("min_months", "min_wages", "amount", "contract_types", "min_age", "max_age", "valid_from",
         "valid_to", "once_per_person", "cap_per_workshop")


class MonthLine(BaseModel):
    month: str  # "2019-03"
    pay: float  # pay recorded for the pair in the month (several rows summed)
    counted: bool  # counts towards the window as of M
    months: int | None  # running counted months of the window ending here (None: outside the window)
    wages: float | None  # running pay of that window
    note: str  # Chinese: 协议起始前,不计 / 协议期外,不计 / 达标 / …


class ParamUsed(BaseModel):
    name: str
    label: str  # Chinese
    value: Any
    display: str  # the value as a clerk reads it
    read_at: str  # month whose value was used ("2019-03")
    since: str | None  # `from` of that value; None if not set
    source: str  # 文号 or URL


class PairTrace(BaseModel):
    workshop_id: str
    workshop_name: str | None
    county: str | None
    operator: str | None
    certified: str | None  # "2018-01-15"
    withdrawn: str | None
    contract_type: str | None
    start: str | None
    end: str | None
    anchor: str  # "agreement" | "rolling" ("" when the start date is unreadable)
    anchor_label: str  # Chinese, for display
    window_start: str | None
    window_end: str | None  # None: open (rolling without an end date)
    lines: list[MonthLine]
    params: list[ParamUsed]
    qualified_month: str | None
    payable_month: str | None
    months: int
    wages: float
    amount: float
    status: str
    status_label: str
    reason: str
    decision: str  # a plain-Chinese sentence


class Explanation(BaseModel):
    id_number: str
    name: str
    month: str
    policy: str
    policy_title: str
    pairs: list[PairTrace]
    summary: str


def find_laborer(ds: Dataset, text: str) -> str:
    """The ID number meant by `text`: an ID number (normalised) or a unique name."""
    raw = unicodedata.normalize("NFKC", str(text)).replace(" ", "").strip().upper()
    ids = ds.laborers["id_number"].astype("object")
    if _ID_LIKE.match(raw) or raw.isdigit():
        candidate = raw
        v = normalise_id(pd.Series([raw])).values.iloc[0]  # e.g. a 15-digit number → 18 digits
        candidate = raw if v is None or pd.isna(v) else str(v)
        if (ids == candidate).any():
            return candidate
        raise FupinError(f"人员表中没有身份证号为 {mask_id(candidate)} 的人员,请核对号码", code="explain.not_found")
    hits = ds.laborers.loc[ds.laborers["name"].astype("object") == raw]
    found = list(dict.fromkeys(hits["id_number"].astype("object")))
    if not found:
        raise FupinError(f"人员表中没有名为“{raw}”的人员,请核对姓名或改用身份证号", code="explain.not_found")
    if len(found) > 1:
        parts = []
        for i in found:
            wss = "、".join(dict.fromkeys(hits.loc[hits["id_number"] == i, "workshop_id"].astype(str)))
            parts.append(f"{mask_id(i)}(车间{wss})")
        raise FupinError(f"姓名“{raw}”对应{len(found)}人:{';'.join(parts)}。请改用身份证号查询",
                         code="explain.ambiguous")
    return found[0]


def _date(v: Any) -> str | None:
    return None if v is None or pd.isna(v) else pd.Timestamp(v).strftime("%Y-%m-%d")


def _m(v: Any) -> int | None:
    return None if v is None or pd.isna(v) else int(v)


def _mon(v: Any) -> int | None:
    return None if v is None or pd.isna(v) else pd.Timestamp(v).year * 12 + pd.Timestamp(v).month - 1


def _lines(pay: dict[int, float], S: int, E: int | None, wm: int, rolling: bool, M: int,
           Q: int | None) -> tuple[list[MonthLine], int | None]:
    """Month-by-month table; returns it and the window's last possible month (None = open)."""
    wlast = E if rolling else (S + wm - 1 if E is None else min(S + wm - 1, E))
    upper = M if wlast is None else min(wlast, M)
    first = min([S, *pay])
    # The table runs to the window's end (under `rolling`, which has no fixed end, to min(end, M)).
    table_end = upper if rolling or wlast is None else wlast
    last = max([table_end, S, *pay])
    counted_months = {m for m, p in pay.items() if S <= m <= upper and round(p, 2) > 0}
    lines = []
    for m in range(first, last + 1):
        p = round(pay.get(m, 0.0), 2)
        inside = S <= m <= upper
        if m < S:
            note = "协议起始前,不计"
        elif E is not None and m > E:
            note = "协议期外,不计"
        elif wlast is not None and m > wlast:
            note = "超出窗口期,不计"
        elif m > M:
            note = "晚于核算月份,不计" if m in pay else "核算月份之后"
        elif p <= 0:
            note = "无报酬,不计"
        else:
            note = ""
        run_m = run_w = None
        if inside:
            lo = max(S, m - wm + 1) if rolling else S
            window = [x for x in counted_months if lo <= x <= m]
            run_m, run_w = len(window), round(sum(pay[x] for x in window), 2)
        if Q is not None and m == Q:
            note = (note + ";" if note else "") + "达标"
        if not S <= m <= table_end and m not in pay:
            continue  # months outside the window without pay add nothing to read
        lines.append(MonthLine(month=format_month(m), pay=p, counted=m in counted_months, months=run_m,
                               wages=run_w, note=note))
    return lines, wlast


def _params(policy: Policy, S: int, R: int) -> list[ParamUsed]:
    out = []
    for name in (*_AT_START, *_AT_Q):
        at = S if name in _AT_START else R
        v = policy.at(name, at)
        value = v.value
        if name in ("valid_from", "valid_to") and value is not None:
            value = format_month(value)
        out.append(ParamUsed(name=name, label=PARAM_LABELS[name], value=value,
                             display=format_param_value(name, v.value), read_at=format_month(at),
                             since=v.from_text or None, source=v.source))
    return out


def _decision(row: pd.Series, name: str) -> str:
    s = row["status"]
    ws = f"车间{row['workshop_id']}"
    if s == "eligible":
        return (f"结论:应发放。{ws}因吸纳{name}就业,可获一次性带动就业奖补{yuan(row['amount'])}元,"
                f"自{format_month_cn(int(row['payable_month']))}起列入发放名单。")
    if s == "paid":
        return f"结论:已兑现,不再发放。{row['reason']}。"
    if s == "duplicate":
        return f"结论:不发放。同一人只能享受一次奖补,{row['reason']}。"
    if s == "pending":
        return f"结论:暂不发放,尚在核算期内。{row['reason']}。"
    if s == "short":
        return f"结论:不发放,窗口期已结束仍未达标。{row['reason']}。"
    return f"结论:不发放({STATUS_LABELS[s]})。{row['reason']}。"


def explain(ds: Dataset, id_number: str, month: int, policy: Policy, paid: pd.DataFrame | None = None
            ) -> Explanation:
    """The decision trace for one laborer (all their pairs) as of month M."""
    M = int(month)
    lab = ds.laborers
    mine = lab.loc[lab["id_number"] == id_number]
    if mine.empty:
        raise FupinError(f"人员表中没有身份证号为 {mask_id(id_number)} 的人员,请核对号码或人员表", code="explain.not_found")
    # Every pair of the laborer's workshops: enough for once-per-person and for a workshop cap.
    wss = set(mine["workshop_id"])
    sub = Dataset(workshops=ds.workshops, laborers=lab.loc[lab["workshop_id"].isin(wss)],
                  wages=ds.wages.loc[ds.wages["workshop_id"].isin(wss)], problems=ds.problems,
                  sheets=ds.sheets, files=ds.files)
    dec = evaluate(sub, M, policy, paid).loc[mine.index]
    wages = ds.wages.loc[ds.wages["id_number"] == id_number]
    pairs = []
    for idx, row in dec.iterrows():
        ws_id = row["workshop_id"]
        w = wages.loc[wages["workshop_id"] == ws_id]
        pay = w.groupby("month")["pay"].sum().to_dict() if len(w) else {}
        pay = {int(k): float(v) for k, v in pay.items()}
        ws_rows = ds.workshops.loc[ds.workshops["workshop_id"] == ws_id]
        ws = ws_rows.iloc[0] if len(ws_rows) else None
        S = _m(row["start_month"])
        E = _mon(row["end"])
        Q = _m(row["qualified_month"])
        if S is None:
            lines, wlast, params, anchor, wm = [], None, [], "", 0
        else:
            wm = int(policy.at("window_months", S).value)
            rolling = policy.at("window_anchor", S).value == "rolling"
            anchor = "rolling" if rolling else "agreement"
            lines, wlast = _lines(pay, S, E, wm, rolling, M, Q)
            R = Q if Q is not None else max(S, M if wlast is None else min(wlast, M))
            params = _params(policy, S, R)
        pairs.append(PairTrace(
            workshop_id=str(ws_id), workshop_name=row["workshop_name"] if pd.notna(row["workshop_name"]) else None,
            county=row["county"] if pd.notna(row["county"]) else None,
            operator=row["operator"] if pd.notna(row["operator"]) else None,
            certified=None if ws is None else _date(ws["certified"]),
            withdrawn=None if ws is None else _date(ws["withdrawn"]),
            contract_type=row["contract_type"] if pd.notna(row["contract_type"]) else None,
            start=_date(row["start"]), end=_date(row["end"]), anchor=anchor,
            anchor_label=ANCHOR_LABELS.get(anchor, ""),
            window_start=None if S is None else format_month(S),
            window_end=None if wlast is None else format_month(wlast),
            lines=lines, params=params,
            qualified_month=None if Q is None else format_month(Q),
            payable_month=None if _m(row["payable_month"]) is None else format_month(int(row["payable_month"])),
            months=int(row["months"]), wages=float(row["wages"]), amount=float(row["amount"]),
            status=row["status"], status_label=STATUS_LABELS[row["status"]], reason=row["reason"],
            decision=_decision(row, str(mine.loc[idx, "name"])),
        ))
    name = str(mine["name"].iloc[0])
    parts = ";".join(f"车间{p.workshop_id}:{p.status_label}" for p in pairs)
    total = sum(p.amount for p in pairs if p.status == "eligible")
    summary = f"截至{format_month_cn(M)},{name}共有{len(pairs)}条用工记录({parts})"
    summary += f",本次应发{yuan(total)}元。" if total else "。"
    return Explanation(id_number=id_number, name=name, month=format_month(M), policy=policy.name,
                       policy_title=policy.title, pairs=pairs, summary=summary)
