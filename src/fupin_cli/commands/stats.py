"""`fupin stats`: the SPEC §6.2 figures as of month M, the statistics workbook; the `stats` JSON document."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from fupin_cli.loading import Progress
from fupin_cli.policy import Policy
from fupin_cli.settlement import Settlement, settle_inputs
from fupin_cli.stats import StatsResult, compute_stats, report_paragraph
from fupin_cli.workbooks.stats import write_stats_workbook


@dataclass
class StatsView:
    settlement: Settlement
    result: StatsResult
    paragraph: str
    from_ledger: bool
    outputs: list[Path] = field(default_factory=list)


def stats_targets(policy: Policy, month: int) -> tuple[str, ...] | None:
    """The categories 其中 counts: the policy's (SPEC §4.3), None for the default 建档立卡 column."""
    return policy.categories_at(month) if policy.uses("categories") else None


def run_stats(
    paths: Sequence[str | Path], *, month: int | None = None, policy: str | None = None,
    region: str | None = None, ledger_path: Path | None = None, output: Path | None = None,
    progress: Progress | None = None,
) -> StatsView:
    """SPEC §6.2 figures as of M; paid figures from the ledger when one is given, else from the rule."""
    s = settle_inputs(paths, month=month, county_arg=None, policy=policy, region=region, ledger_path=ledger_path,
                      progress=progress, outputs={"统计表(--output)": output})
    paid = s.paid_all if ledger_path is not None else None
    result = compute_stats(s.dataset, s.decisions, s.month, s.region, paid, targets=stats_targets(s.policy, s.month))
    view = StatsView(settlement=s, result=result, paragraph=report_paragraph(result, s.region, s.policy.terms),
                     from_ledger=ledger_path is not None)
    if output is not None:
        view.outputs.append(write_stats_workbook(output, result, s.region.name, s.policy.terms))
    return view


def stats_json(view: StatsView) -> dict:
    doc = view.result.model_dump()
    doc.pop("monthly", None)
    return doc
