"""Progress statistics per county and in total, as of a month (SPEC §6.2, JSON shape §6.3).

Definitions (each figure is "as of the end of month M"):

- 认定车间数 `workshops`: valid workshop rows certified in or before M (month of 认定日期 ≤ M) and
  not withdrawn by then (no 撤销日期, or its month > M). Attributed to the workshop's county.
- 带动就业人数 `employed`: distinct laborers (身份证号) with a valid 人员 row whose agreement started
  in or before M (month of 协议起始日期 ≤ M) in one of those workshops. Cumulative, as the seed
  report counts it: an agreement that has since ended still counts.
- 其中贫困劳动力 `poor` / 其中易地搬迁 `relocated`: of those laborers, the ones marked 建档立卡 /
  易地扶贫搬迁 on such a row.
- 达标人数 `eligible`: distinct laborers with a pair whose status is `eligible` or `paid` in the
  decisions (SPEC §4.2, evaluated as of M by the caller), by the county of that pair's workshop.
- 已兑现人数/金额/车间数 `paid_people`/`paid_amount`/`paid_workshops`: with a ledger, its rows of
  batches with month ≤ M (distinct laborers, sum of amounts, distinct workshops); without one, what
  the rule makes payable up to M: the `eligible` and `paid` pairs of the decisions.
- Rows with a data error (`valid == False`) are excluded, as from every other computation (§3.6).

A laborer who worked in two counties is counted once in each county and once in the total, so
the total of a column can be smaller than the sum of the county rows (never larger); `footnotes`
says so. 兑现车间数 counts a workshop paid up to M even if it was withdrawn later, 认定车间数 does not:
the paragraph and `footnotes` say so when that makes them differ.

`monthly` lists, for every month from the first payout up to M (months without payout included,
with zeros, so that a chart has a continuous axis), the people and amount paid in that month:
ledger batches by batch month, or without a ledger the payable month of the pairs above.
"""

from __future__ import annotations

import pandas as pd
from pydantic import BaseModel

from fupin_cli.dataset import Dataset
from fupin_cli.money import format_wan
from fupin_cli.months import format_month, format_month_cn, month_index_of, parse_month_arg
from fupin_cli.policy import Terms
from fupin_cli.region import Region
from fupin_cli.wording import words

PAID_STATUSES = ("eligible", "paid")


class StatsRow(BaseModel):
    """One county (or the total) — exactly the keys of SPEC §6.3 `stats` rows."""

    county: str
    code: str
    workshops: int
    employed: int
    poor: int
    relocated: int
    eligible: int
    paid_people: int
    paid_amount: float
    paid_workshops: int


class MonthlyPaid(BaseModel):
    month: str  # YYYY-MM
    people: int
    amount: float


class StatsResult(BaseModel):
    month: str  # YYYY-MM
    counties: list[StatsRow]
    total: StatsRow
    monthly: list[MonthlyPaid]
    # 兑现车间数 counts workshops paid up to M even when withdrawn since; 认定车间数 does not.
    paid_withdrawn_workshops: int = 0
    # Laborers counted in two or more counties (once in the total): the total is then below the sum.
    multi_county_people: int = 0
    # Where the 兑现 figures come from: "ledger" (money actually recorded) or "rules" (no ledger
    # given: what the rule makes payable, to be read as 应兑现(按规则测算), SPEC §6.2).
    paid_source: str = "ledger"


def _asmonth_index_of(values: pd.Series) -> pd.Series:
    """Batch months from the ledger: month indexes already, or "YYYY-MM" text from an export."""
    if pd.api.types.is_numeric_dtype(values):
        return values.astype("Int64")
    numbers = pd.to_numeric(values, errors="coerce").astype("Int64")
    text = values.notna() & numbers.isna()
    numbers[text] = [parse_month_arg(str(v)) for v in values[text]]
    return numbers


def _flag(s: pd.Series) -> pd.Series:
    return s.astype("boolean").fillna(False).astype(bool)


def _valid(frame: pd.DataFrame) -> pd.Series:
    if "valid" not in frame.columns:
        return pd.Series(True, index=frame.index)
    return _flag(frame["valid"])


def _per_county(frame: pd.DataFrame, value: str, how: str) -> tuple[pd.Series, float]:
    """(per county_code, total) of `value`: distinct count (`nunique`) or `sum`."""
    if frame.empty:
        return pd.Series(dtype="float64"), 0
    grouped = frame.groupby("county_code", sort=False)[value]
    if how == "nunique":
        return grouped.nunique(), int(frame[value].nunique())
    return grouped.sum(), float(frame[value].sum())


def _counted_workshops(ds: Dataset, month: int) -> pd.DataFrame:
    ws = ds.workshops
    cert = month_index_of(ws["certified"])
    withdrawn = month_index_of(ws["withdrawn"])
    keep = _valid(ws) & (cert <= month).fillna(False) & ~(withdrawn <= month).fillna(False)
    return ws.loc[keep.astype(bool), ["workshop_id", "county_code"]]


def _employed(ds: Dataset, workshops: pd.DataFrame, month: int, targets: tuple[str, ...] | None) -> pd.DataFrame:
    lab = ds.laborers
    started = (month_index_of(lab["start"]) <= month).fillna(False).astype(bool)
    lab = lab.loc[_valid(lab) & started]
    if targets is not None:  # 其中 the policy's target laborers (SPEC §4.3 categories), not only 建档立卡
        from fupin_cli.rules.gate import in_categories

        lab = lab.assign(poor=in_categories(lab, targets))
    lab = lab[["id_number", "workshop_id", "poor", "relocated"]].merge(workshops, on="workshop_id", how="inner")
    lab["poor"] = _flag(lab["poor"])
    lab["relocated"] = _flag(lab["relocated"])
    return lab


def _paid_rows(ds: Dataset, decisions: pd.DataFrame, month: int, paid: pd.DataFrame | None) -> pd.DataFrame:
    """Paid rows with `id_number, workshop_id, county_code, amount, month` (the batch/payable month)."""
    if paid is None:
        rows = decisions.loc[decisions["status"].isin(PAID_STATUSES)]
        rows = rows[["id_number", "workshop_id", "county_code", "amount", "payable_month"]]
        rows = rows.rename(columns={"payable_month": "month"})
        rows["month"] = rows["month"].astype("Int64")
        return rows.loc[(rows["month"] <= month).fillna(True).astype(bool)]
    rows = paid[["id_number", "workshop_id", "amount", "batch_month"]].copy()
    rows["month"] = _asmonth_index_of(rows.pop("batch_month"))
    rows = rows.loc[(rows["month"] <= month).fillna(False).astype(bool)]
    # County of the workshop as the data describe it now; a workshop no longer in the data still
    # counts in the total (its county code stays NA and matches no county row).
    where = pd.concat([ds.workshops[["workshop_id", "county_code"]],
                       decisions[["workshop_id", "county_code"]]]).drop_duplicates("workshop_id")
    return rows.merge(where, on="workshop_id", how="left")


def _monthly(rows: pd.DataFrame, month: int) -> list[MonthlyPaid]:
    rows = rows.loc[rows["month"].notna()]
    if rows.empty:
        return []
    grouped = rows.groupby("month")
    people = grouped["id_number"].nunique()
    amount = grouped["amount"].sum()
    months = range(int(rows["month"].min()), month + 1)
    return [MonthlyPaid(month=format_month(m), people=int(people.get(m, 0)), amount=float(amount.get(m, 0.0)))
            for m in months]


def compute_stats(ds: Dataset, decisions: pd.DataFrame, month: int, region: Region,
                  paid: pd.DataFrame | None = None, targets: tuple[str, ...] | None = None) -> StatsResult:
    """The §6.2 figures per county of `region` (in its order) and in total, as of `month`.

    `decisions` is `rules.evaluate(ds, month, policy, paid).decisions`; `paid` the ledger's paid rows
    (`id_number, workshop_id, amount, batch_id, batch_month`) or None to take payouts from the rule.
    `targets`: the categories the policy counts (SPEC §4.3); None = 是否建档立卡.
    """
    workshops = _counted_workshops(ds, month)
    employed = _employed(ds, workshops, month, targets)
    reached = decisions.loc[decisions["status"].isin(PAID_STATUSES), ["id_number", "county_code"]]
    paid_rows = _paid_rows(ds, decisions, month, paid)

    figures: dict[str, tuple[pd.Series, float]] = {
        "workshops": _per_county(workshops, "workshop_id", "nunique"),
        "employed": _per_county(employed, "id_number", "nunique"),
        "poor": _per_county(employed.loc[employed["poor"]], "id_number", "nunique"),
        "relocated": _per_county(employed.loc[employed["relocated"]], "id_number", "nunique"),
        "eligible": _per_county(reached, "id_number", "nunique"),
        "paid_people": _per_county(paid_rows, "id_number", "nunique"),
        "paid_amount": _per_county(paid_rows, "amount", "sum"),
        "paid_workshops": _per_county(paid_rows, "workshop_id", "nunique"),
    }

    def cast(key: str, value: object) -> int | float:
        return float(value) if key == "paid_amount" else int(value)

    counties = [
        StatsRow(county=c.name_at(month), code=c.code,  # the name in force in M (田阳县 in 2018)
                 **{k: cast(k, per.get(c.code, 0)) for k, (per, _) in figures.items()})
        for c in region.counties
    ]
    total = StatsRow(county=region.short, code=region.code,
                     **{k: cast(k, whole) for k, (_, whole) in figures.items()})
    counted = set(workshops["workshop_id"])
    withdrawn = {w for w in paid_rows["workshop_id"].dropna().unique() if w not in counted}
    multi: set = set()  # people counted in two counties within one figure
    for f in (employed, reached, paid_rows):
        n = f[["id_number", "county_code"]].dropna().drop_duplicates().groupby("id_number")["county_code"].nunique()
        multi |= set(n.index[n > 1])
    return StatsResult(month=format_month(month), counties=counties, total=total,
                       monthly=_monthly(paid_rows, month), paid_withdrawn_workshops=len(withdrawn),
                       multi_county_people=len(multi), paid_source="rules" if paid is None else "ledger")


def footnotes(result: StatsResult) -> list[str]:
    """What the reader of the table must know for the figures to add up (terminal and workbook)."""
    notes = []
    if result.multi_county_people:
        notes.append(f"注:{result.multi_county_people}人在两个及以上县(市、区)的车间务工,在各县分别计数、"
                     f"在{result.total.county}合计中只计一次,故合计可能小于各县之和。")
    if result.paid_withdrawn_workshops:
        notes.append(f"注:兑现车间数含截至{format_month_cn(parse_month_arg(result.month))}底已撤销认定的车间"
                     f"{result.paid_withdrawn_workshops}家,这些车间不计入认定车间数。")
    return notes


def report_paragraph(result: StatsResult, region: Region, terms: Terms | None = None) -> str:
    """The progress paragraph in the style of the seed report (seed/000_fe2d7d76f4e00a55.txt), in the
    policy's terms (SPEC §4.3; the default terms give the seed's own wording)."""
    t = result.total
    w = words(terms)
    shop, target, short_shop = w["workshop"], w["target_short"], w["workshop_short"]
    text = (f"截至{format_month_cn(parse_month_arg(result.month))}底,{region.short}认定{shop}{t.workshops}家,"
            f"带动劳动力就业{t.employed}人,其中{target}{t.poor}人")
    if t.relocated > 0:
        text += f"、易地扶贫搬迁劳动力{t.relocated}人"
    text += f";达到{w['subsidy']}条件的{target}{t.eligible}人"
    withdrawn = (f"(其中{result.paid_withdrawn_workshops}家已撤销认定,不计入认定车间数)"
                 if result.paid_withdrawn_workshops else "")
    if result.paid_source == "rules":
        # Nothing is known to be paid without a ledger: never say 兑现 of money not recorded.
        text += (f",应兑现(按规则测算){short_shop}补贴{format_wan(t.paid_amount)},补贴{t.paid_people}人,"
                 f"涉及{short_shop}{t.paid_workshops}家{withdrawn}(未使用账本,非实际兑现数)。")
    elif t.paid_people > 0:
        text += (f",共计兑现{short_shop}补贴{format_wan(t.paid_amount)},补贴{t.paid_people}人,"
                 f"涉及{short_shop}{t.paid_workshops}家{withdrawn}。")
    else:
        text += f",尚未兑现{short_shop}补贴。"
    return text
