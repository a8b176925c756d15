"""`fupin check`: every data problem, before any money is computed; the `check` JSON document."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from fupin_cli.dataset import Dataset
from fupin_cli.loading import Progress, load_dataset
from fupin_cli.policy import Policy
from fupin_cli.policy_checks import policy_problems
from fupin_cli.problems import problems_to_records
from fupin_cli.region import Region


@dataclass
class CheckResult:
    dataset: Dataset
    outputs: list[Path] = field(default_factory=list)  # the report and the marked copies

    @property
    def valid(self) -> bool:
        return self.dataset.errors == 0

    def table_counts(self) -> dict[str, int]:
        ds = self.dataset
        per: dict[str, int] = {"workshops": 0, "laborers": 0, "wages": 0}
        for s in ds.sheets:
            per[s.table] = per.get(s.table, 0) + s.rows
        return per

    def to_json(self, *, mask: bool = True) -> dict:
        recs = problems_to_records(self.dataset.problems)
        if mask:
            from fupin_cli.privacy import mask_text

            for r in recs:
                r["value"] = mask_text(r["value"])
                r["message"] = mask_text(r["message"])
        return {
            "valid": self.valid,
            "errors": self.dataset.errors,
            "warnings": self.dataset.warnings,
            "issues": recs,
        }


def run_check(paths: Sequence[str | Path], *, region: Region, report: Path | None = None,
              progress: Progress | None = None, policy: Policy | None = None) -> CheckResult:
    """Read and validate every input, with the problems the policy makes (SPEC §4.3: accounts when the
    laborer is paid, the 人员类别 column); with `report`, write the problem list and the marked copies."""
    ds = load_dataset(paths, region=region, progress=progress)
    res = CheckResult(policy_problems(ds, policy) if policy is not None else ds)
    if report is not None:
        from fupin_cli.workbooks.check_report import (
            write_check_report,  # openpyxl/xlsxwriter only when a report is asked for
        )

        res.outputs = write_check_report(res.dataset, report)
    return res


def summary_frame(ds: Dataset) -> pd.DataFrame:
    """Problems per file/sheet/severity for the terminal summary."""
    p = ds.problems
    if p.empty:
        return pd.DataFrame(columns=["file", "sheet", "errors", "warnings"])
    g = p.assign(e=p["severity"].eq("error"), w=p["severity"].eq("warning")).groupby(["file", "sheet"], sort=False)
    return g.agg(errors=("e", "sum"), warnings=("w", "sum")).reset_index()
