"""Read-only views of one month: eligibility of every pair, one laborer's trace, statistics.

Each is one library call for one CLI command; none of them writes to the ledger.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from fupin_cli.errors import FupinError
from fupin_cli.explain import Explanation, explain, find_laborer
from fupin_cli.ledger import Ledger
from fupin_cli.loading import Progress, default_month, load_dataset
from fupin_cli.policy import load_policy
from fupin_cli.region import load_region
from fupin_cli.settlement import Settlement, resolve_county, settle
from fupin_cli.stats import StatsResult, compute_stats, report_paragraph
from fupin_cli.status import STATUS_LABELS, STATUS_ORDER
from fupin_cli.workbooks.stats import write_stats_workbook


def _ledger(path: Path | None):
    if path is None:
        return nullcontext(None)
    if not Path(path).exists():
        raise FupinError(f"账本文件“{path}”不存在,请检查 --ledger 路径。", code="usage.ledger")
    return Ledger.open(path, create=False, readonly=True)


def _settle(paths, *, month, county, policy, region, ledger_path, progress) -> Settlement:
    reg = load_region(region)
    pol = load_policy(policy)
    ds = load_dataset(paths, region=reg, progress=progress)
    with _ledger(ledger_path) as led:
        return settle(ds, region=reg, policy=pol, month=month, county=county, ledger=led)


@dataclass
class EligibilityResult:
    settlement: Settlement
    rows: pd.DataFrame  # the decisions after the --county/--status filters
    outputs: list[Path] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        c = self.rows["status"].value_counts()
        return {s: int(c[s]) for s in STATUS_ORDER if s in c}


def run_eligibility(
    paths: Sequence[str | Path], *, month: int | None = None, county: str | None = None,
    statuses: Sequence[str] = (), policy: str | None = None, region: str | None = None,
    ledger_path: Path | None = None, output: Path | None = None, progress: Progress | None = None,
) -> EligibilityResult:
    """Every (laborer, workshop) pair with its status as of month M (SPEC §4.2)."""
    bad = [s for s in statuses if s not in STATUS_LABELS]
    if bad:
        allowed = "、".join(f"{k}({v})" for k, v in STATUS_LABELS.items())
        raise FupinError(f"不认识的状态:{'、'.join(bad)}。可用的状态:{allowed}", code="usage.status")
    s = _settle(paths, month=month, county=None, policy=policy, region=region, ledger_path=ledger_path,
                progress=progress)
    d = s.decisions
    code = resolve_county(s.region, county)
    if code is not None:
        d = d.loc[d["county_code"] == code]
    if statuses:
        d = d.loc[d["status"].isin(list(statuses))]
    d = d.sort_values(["county_code", "workshop_id", "id_number"], kind="stable").reset_index(drop=True)
    res = EligibilityResult(settlement=s, rows=d)
    if output is not None:
        from fupin_cli.workbooks.decisions import write_decisions

        place = s.region.by_code(code).name if code else s.region.name
        res.outputs.append(write_decisions(output, d, place=place, month=s.month))
    return res


def run_explain(
    paths: Sequence[str | Path], *, who: str, month: int | None = None, policy: str | None = None,
    region: str | None = None, ledger_path: Path | None = None, progress: Progress | None = None,
) -> Explanation:
    """The month-by-month trace for one laborer (by ID number, or by name when unique)."""
    reg = load_region(region)
    pol = load_policy(policy)
    ds = load_dataset(paths, region=reg, progress=progress)
    id_number = find_laborer(ds, who)
    m = default_month(ds) if month is None else month
    # explain evaluates only this laborer's workshops; no need to settle the whole month first
    with _ledger(ledger_path) as led:
        paid = led.paid(before_month=m) if led is not None else None
    return explain(ds, id_number, m, pol, paid if paid is not None and len(paid) else None)


@dataclass
class StatsView:
    settlement: Settlement
    result: StatsResult
    paragraph: str
    from_ledger: bool
    outputs: list[Path] = field(default_factory=list)


def run_stats(
    paths: Sequence[str | Path], *, month: int | None = None, policy: str | None = None,
    region: str | None = None, ledger_path: Path | None = None, output: Path | None = None,
    progress: Progress | None = None,
) -> StatsView:
    """SPEC §6.2 figures as of M; paid figures from the ledger when one is given, else from the rule."""
    s = _settle(paths, month=month, county=None, policy=policy, region=region, ledger_path=ledger_path,
                progress=progress)
    paid = s.paid_all if ledger_path is not None else None
    result = compute_stats(s.dataset, s.decisions, s.month, s.region, paid)
    view = StatsView(settlement=s, result=result, paragraph=report_paragraph(result, s.region),
                     from_ledger=ledger_path is not None)
    if output is not None:
        view.outputs.append(write_stats_workbook(output, result, s.region.name))
    return view


def stats_json(view: StatsView) -> dict:
    doc = view.result.model_dump()
    doc.pop("monthly", None)
    return doc

