"""`fupin explain`: the trace of SPEC §4.2 for one laborer — months counted, running totals, the
parameters used with their source, and why each pair got its status.

Everything comes from the `rules.Evaluation` of the laborer's workshops (so that once-per-person
and any workshop cap are decided exactly as in a payout): its per-pair traces give the window, the
month table with running totals and the parameters read; this module only words them.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel

from fupin_cli.dataset import Dataset
from fupin_cli.errors import FupinError
from fupin_cli.money import yuan
from fupin_cli.months import format_month, format_month_cn
from fupin_cli.policy import ANCHOR_LABELS, PARAM_LABELS, Policy, format_param_value
from fupin_cli.privacy import mask_id, mask_text
from fupin_cli.problems import problem_title
from fupin_cli.rules import MonthRecord, PairRecord, ParamRecord, evaluate
from fupin_cli.status import STATUS_LABELS
from fupin_cli.values import normalise_id

_ID_LIKE = re.compile(r"^(\d{17}[\dX]|\d{15})$")
_SPACE = re.compile(r"\s+")
_NOT_COUNTED = {"before_start": "协议起始前,不计", "after_end": "协议期外,不计", "outside_window": "超出窗口期,不计",
                "no_pay": "无报酬,不计"}


class MonthLine(BaseModel):
    month: str  # "2019-03"
    pay: float  # pay recorded for the pair in the month (several rows summed)
    counted: bool  # counts towards the window as of M
    months: int | None  # running counted months of the window ending here (None: outside the window)
    wages: float | None  # running pay of that window
    targets: int | None = None  # workshop_min_targets: the workshop's target laborers that month
    targets_needed: int | None = None
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
    period: str | None = None  # the calendar year of a yearly entitlement (SPEC §4.3); None under "once"
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
    rejected: list[str] = []  # this person's wage rows left out for a data error ("工资表第7行因…未计入")


def _name_key(text: object) -> str:
    """A name as compared: 黄　红, 黄 红 and 黄红 are one name (two-character names are often padded)."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", str(text)))


def _names(frame: pd.DataFrame) -> pd.Series:
    return frame["name"].astype("object").map(lambda v: "" if v is None or v != v else _name_key(v))


def _table_rows(ds: Dataset, table: str) -> pd.Series:
    """Which problems lie on a sheet of `table` (workshops / laborers / wages)."""
    on = {(sh.file, sh.sheet) for sh in ds.sheets if sh.table == table}
    p = ds.problems
    return pd.Series([(f, s) in on for f, s in zip(p["file"], p["sheet"], strict=True)], index=p.index, dtype=bool)


def _where(r: Any) -> str:
    return f"文件“{Path(str(r.file)).name}”工作表“{r.sheet}”"


def _unusable_id_row(ds: Dataset, raw: str) -> None:
    """A person not found because their 人员 row has an error: say which row and why (not "没有名为…")."""
    p = ds.problems
    if p.empty or "name" not in p.columns:
        return
    hit = p.loc[_table_rows(ds, "laborers") & (p["severity"] == "error")
                & ((_names(p) == raw) | (p["value"].astype("object").astype(str) == raw))]
    if hit.empty:
        return
    r = next(iter(hit.itertuples(index=False)))
    what = "身份证号无法使用" if str(r.code).startswith("id.") else "有错误,未参与核算"
    raise FupinError(f"{_where(r)}第{r.row}行{what}:{r.message}。请改正该行后再查询", code="explain.not_found")


def find_laborer(ds: Dataset, text: str) -> str:
    """The ID number meant by `text`: an ID number (normalised) or a unique name."""
    raw = _name_key(text).upper()
    if re.fullmatch(r"[0-9X\-_.]+", raw):  # an ID number written in groups: 452122-19900101-1234
        raw = re.sub(r"[\-_.]", "", raw)
    ids = ds.laborers["id_number"].astype("object")
    if _ID_LIKE.match(raw) or raw.isdigit():
        candidate = raw
        v = normalise_id(pd.Series([raw])).values.iloc[0]  # e.g. a 15-digit number → 18 digits
        candidate = raw if v is None or pd.isna(v) else str(v)
        if (ids == candidate).any():
            return candidate
        _unusable_id_row(ds, candidate)
        raise FupinError(f"人员表中没有身份证号为 {mask_id(candidate)} 的人员,请核对号码", code="explain.not_found")
    hits = ds.laborers.loc[_names(ds.laborers) == raw]
    found = list(dict.fromkeys(hits["id_number"].astype("object")))
    if not found:
        _unusable_id_row(ds, raw)
        raise FupinError(f"人员表中没有名为“{mask_text(raw)}”的人员,请核对姓名或改用身份证号", code="explain.not_found")
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


def _month_text(m: int | None) -> str | None:
    return None if m is None else format_month(m)


def _line(r: MonthRecord, parts: dict[int, str]) -> MonthLine:
    if r.not_counted == "after_month":
        note = "晚于核算月份,不计"  # one wording whether or not the month has a pay row
    elif r.not_counted == "below_floor":
        note = f"低于每月工资下限{yuan(r.floor or 0)}元,不计"
    else:
        note = _NOT_COUNTED.get(r.not_counted, "") if r.not_counted else ""
    if r.qualifying:
        note = (note + ";" if note else "") + "达标"
    if r.targets is not None and r.targets_needed:
        enough = "" if r.targets >= r.targets_needed else f",不足{r.targets_needed}人"
        note = (note + ";" if note else "") + f"车间在岗{r.targets}人{enough}"
    if r.month in parts:  # a month summed from several rows (two files, a 补录 CSV) shows its parts
        note = (note + ";" if note else "") + parts[r.month]
    return MonthLine(month=format_month(r.month), pay=r.pay, counted=r.counted, months=r.months,
                     wages=r.wages, targets=r.targets, targets_needed=r.targets_needed, note=note)


def _param(r: ParamRecord) -> ParamUsed:
    value = r.value
    if r.name in ("valid_from", "valid_to") and value is not None:
        value = format_month(value)
    return ParamUsed(name=r.name, label=PARAM_LABELS[r.name], value=value,
                     display=format_param_value(r.name, r.value), read_at=format_month(r.read_at),
                     since=r.since, source=r.source)


def _decision(row: pd.Series, name: str, subsidy: str = "一次性带动就业奖补") -> str:
    s = row["status"]
    ws = f"车间{row['workshop_id']}"
    if s == "eligible":
        return (f"结论:应发放。{ws}因吸纳{name}就业,可获{subsidy}{yuan(row['amount'])}元,"
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


def _pair(t: PairRecord, row: pd.Series, name: str, parts: dict[int, str], subsidy: str = "一次性带动就业奖补"
          ) -> PairTrace:
    """One pair's trace as the clerk reads it."""
    def text(c: str) -> str | None:
        return row[c] if pd.notna(row[c]) else None

    return PairTrace(
        workshop_id=str(row["workshop_id"]), workshop_name=text("workshop_name"), county=text("county"),
        operator=text("operator"), certified=_date(t.certified), withdrawn=_date(t.withdrawn),
        contract_type=text("contract_type"), start=_date(row["start"]), end=_date(row["end"]),
        anchor=t.anchor or "", anchor_label=ANCHOR_LABELS.get(t.anchor or "", ""),
        window_start=_month_text(t.window_start), window_end=_month_text(t.window_last), period=t.period,
        lines=[_line(r, parts) for r in t.months], params=[_param(r) for r in t.params],
        qualified_month=_month_text(t.qualified_month), payable_month=_month_text(t.payable_month),
        months=t.months_counted, wages=t.wages, amount=t.amount, status=t.status,
        status_label=STATUS_LABELS[t.status], reason=t.reason, decision=_decision(row, name, subsidy),
    )


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
    ev = evaluate(sub, M, policy, paid)
    dec = ev.decisions.loc[mine.index]
    wages = ds.wages.loc[ds.wages["id_number"] == id_number]
    pairs = [_pair(t, row, str(mine.loc[idx, "name"]),
                   _month_parts(ds, wages.loc[wages["workshop_id"] == row["workshop_id"]]), policy.terms.subsidy)
             for t, (idx, row) in zip(ev.traces(ev.positions(mine.index)), dec.iterrows(), strict=True)]
    name = str(mine["name"].iloc[0])
    parts = ";".join(f"车间{p.workshop_id}{f'({p.period}年度)' if p.period else ''}:{p.status_label}"
                     for p in pairs)
    total = sum(p.amount for p in pairs if p.status == "eligible")
    summary = f"截至{format_month_cn(M)},{name}共有{len(pairs)}条用工记录({parts})"
    summary += f",本次应发{yuan(total)}元。" if total else "。"
    rejected = _rejected_wage_rows(ds, id_number, name)
    if rejected:
        summary += "另:" + ";".join(rejected) + "。改正后重新核算,这些工资才会计入。"
    return Explanation(id_number=id_number, name=name, month=format_month(M), policy=policy.name,
                       policy_title=policy.title, pairs=pairs, summary=summary, rejected=rejected)


def _month_parts(ds: Dataset, w: pd.DataFrame) -> dict[int, str]:
    """Month → "2行合计:工资.xlsx第5行1,000、补录.csv第3行500" for months paid in more than one row."""
    if "_src" not in w.columns or not w["month"].duplicated().any():
        return {}
    out = {}
    for m, g in w.loc[w["month"].duplicated(keep=False)].groupby("month"):
        items = [f"{Path(ds.sheets[int(src)].file).name if 0 <= int(src) < len(ds.sheets) else ''}"
                 f"第{int(row)}行{yuan(pay)}" for src, row, pay in zip(g["_src"], g["_row"], g["pay"], strict=True)]
        out[int(m)] = f"{len(items)}行合计:" + "、".join(items)
    return out


def _rejected_wage_rows(ds: Dataset, id_number: str, name: str) -> list[str]:
    """This person's wage rows that a data error kept out of the count (by ID, or by name when the ID
    itself is what is wrong): "累计工作0个月" must not read as "the workshop never paid"."""
    p = ds.problems
    if p.empty or "name" not in p.columns:
        return []
    mine = (p["value"].astype("object").astype(str) == id_number) | (_names(p) == _name_key(name))
    hit = p.loc[_table_rows(ds, "wages") & (p["severity"] == "error") & mine]
    out = []
    for (_f, _s, row), g in hit.groupby(["file", "sheet", "row"], sort=False):
        r = g.iloc[0]
        out.append(f"{_where(r)}第{row}行因“{problem_title(str(r['code']))}”未计入")
    return out
