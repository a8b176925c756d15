"""`fupin eligibility`: every (laborer, workshop) pair with its status as of month M; its JSON document."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from fupin_cli.errors import FupinError
from fupin_cli.loading import Progress
from fupin_cli.months import format_month, format_months, period_texts
from fupin_cli.privacy import ids_list
from fupin_cli.settlement import Settlement, resolve_county, settle_inputs
from fupin_cli.status import STATUS_LABELS, STATUS_ORDER, status_code


@dataclass
class EligibilityResult:
    settlement: Settlement
    rows: pd.DataFrame  # the decisions after the --county/--status filters
    outputs: list[Path] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        c = self.rows["status"].value_counts()
        return {s: int(c[s]) for s in STATUS_ORDER if s in c}


def run_eligibility(
    paths: Sequence[str | Path], *, month: int | None = None, county_arg: str | None = None,
    statuses: Sequence[str] = (), policy: str | None = None, region: str | None = None,
    ledger_path: Path | None = None, output: Path | None = None, progress: Progress | None = None,
) -> EligibilityResult:
    """Every (laborer, workshop) pair with its status as of month M (SPEC §4.2)."""
    codes = [status_code(s) for s in statuses]  # 未满期 as well as pending
    bad = [s for s, c in zip(statuses, codes, strict=True) if c is None]
    if bad:
        allowed = "、".join(f"{v}({k})" for k, v in STATUS_LABELS.items())
        raise FupinError(f"不认识的状态:{'、'.join(bad)}。可用的状态:{allowed}", code="usage.status")
    statuses = [c for c in codes if c is not None]
    s = settle_inputs(paths, month=month, county_arg=None, policy=policy, region=region, ledger_path=ledger_path,
                      progress=progress, outputs={"结果文件(--output)": output})
    d = s.decisions
    code = resolve_county(s.region, county_arg)
    if code is not None:
        d = d.loc[d["county_code"] == code]
    if statuses:
        d = d.loc[d["status"].isin(list(statuses))]
    d = d.sort_values(["county_code", "workshop_id", "id_number"], kind="stable").reset_index(drop=True)
    res = EligibilityResult(settlement=s, rows=d)
    if output is not None:
        from fupin_cli.workbooks.decisions import write_decisions

        place = s.region.by_code(code).name if code else s.region.name
        res.outputs.append(write_decisions(output, d, place=place, month=s.month, terms=s.policy.terms))
    return res


def eligibility_json(decisions: pd.DataFrame, month: int, *, mask: bool = True) -> dict:
    """The §6.3 `eligibility` document."""
    d = decisions
    cols = {
        "id_number": ids_list(d["id_number"], mask),
        "workshop_id": d["workshop_id"].astype(object).tolist(),
        "status": d["status"].astype(object).tolist(),
        "qualified_month": format_months(d["qualified_month"]),
        "months": d["months"].astype("int64").tolist(),
        "wages": d["wages"].astype("float64").round(2).tolist(),
        "reason": d["reason"].astype(object).tolist(),
        "period": period_texts(d),  # SPEC §4.3: the entitlement's calendar year, null under "once"
    }
    # one dict per row from plain lists: DataFrame.to_dict boxes every cell and took 0.4 s at 100 k rows
    keys = list(cols)
    return {"month": format_month(month), "rows": [dict(zip(keys, row, strict=True)) for row in zip(*cols.values(), strict=True)]}
