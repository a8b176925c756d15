"""`fupin explain`: the month-by-month trace of one laborer; its JSON document."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fupin_cli.explain import Explanation, explain, find_laborer
from fupin_cli.loading import Progress, default_month, load_dataset
from fupin_cli.policy import load_policy
from fupin_cli.privacy import mask_text
from fupin_cli.region import load_region
from fupin_cli.settlement import exclusive_key, existing_ledger


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
    with existing_ledger(ledger_path) as led:
        # M's own batch paid them too
        paid = led.paid(before_month=m + 1, exclusive_key=exclusive_key(pol)) if led is not None else None
    return explain(ds, id_number, m, pol, paid if paid is not None and len(paid) else None)


def explain_json(ex: Explanation, *, mask: bool = True) -> dict:
    """The `explain` document: the Explanation as is, the ID masked unless --show-id."""
    doc = ex.model_dump()
    if mask:
        doc["id_number"] = mask_text(doc["id_number"])
    return doc
