"""`fupin payout`: settle month M, write the roster (花名册), record it with `--commit`; the `payout` JSON."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from fupin_cli.errors import LOCK_TIMEOUT, FupinError
from fupin_cli.ledger import Ledger
from fupin_cli.loading import Progress, load_dataset
from fupin_cli.months import format_month, format_months
from fupin_cli.policy import load_policy
from fupin_cli.privacy import ids_list, mask_text
from fupin_cli.region import load_region
from fupin_cli.roster import Roster
from fupin_cli.settlement import Settlement, settle


def run_payout(
    paths: Sequence[str | Path],
    *,
    month: int | None = None,
    county_arg: str | None = None,
    policy: str | None = None,
    region: str | None = None,
    ledger_path: Path | None = None,
    commit: bool = False,
    new_ledger: bool = False,
    first_run: bool = False,
    output: Path | None = None,
    lock_timeout: float = LOCK_TIMEOUT,
    progress: Progress | None = None,
) -> Settlement:
    """`fupin payout`: the roster for month M, written to `output`; recorded with `commit`.

    A commit needs an existing ledger unless `new_ledger` (SPEC §5.1: created explicitly); the
    check comes before the inputs are read, so a typo costs nothing and creates nothing.
    """
    from fupin_cli.destinations import check_outputs
    from fupin_cli.ledger.lock import check_lock_timeout
    from fupin_cli.ledger.opening import missing_ledger
    from fupin_cli.workbooks.roster import write_roster

    check_lock_timeout(lock_timeout)  # before the (slow) read: a typo costs nothing
    if new_ledger and not commit:
        raise FupinError("--new-ledger 只能与 --commit 一起使用(在首次登记时新建账本)。", code="usage.new_ledger")
    if commit:
        from fupin_cli.ledger import default_ledger_path

        ledger_path = Path(ledger_path) if ledger_path is not None else default_ledger_path()
        if not new_ledger and not ledger_path.exists():
            raise missing_ledger(ledger_path)
    outputs = {"花名册(--output)": output}
    check_outputs(outputs, inputs=[Path(p) for p in paths], ledger=ledger_path)
    reg = load_region(region)
    pol = load_policy(policy)
    ds = load_dataset(paths, region=reg, progress=progress)
    check_outputs(outputs, inputs=[f.path for f in ds.files])  # files found in input folders
    if ledger_path is None:
        s = settle(ds, region=reg, policy=pol, month=month, county_arg=county_arg)
    elif commit:
        with Ledger.open(ledger_path, create=new_ledger) as led, led.lock(lock_timeout):
            s = settle(ds, region=reg, policy=pol, month=month, county_arg=county_arg, ledger=led, commit=True,
                       first_run=first_run)
    else:
        with Ledger.open_existing(ledger_path, hint="预览时请给出已有的账本;新账本请用 fupin ledger init 创建。") as led:
            s = settle(ds, region=reg, policy=pol, month=month, county_arg=county_arg, ledger=led)
    s.ledger_path = Path(ledger_path) if ledger_path is not None else None
    if output is not None:
        s.outputs.append(write_roster(output, s.roster))
    return s


def settlement_json(s: Settlement, *, mask: bool = True) -> dict:
    doc = roster_json(s.roster, mask=mask)
    doc["audit"] = [
        {"id_number": mask_text(r.id_number) if mask else r.id_number, "workshop_id": r.workshop_id,
         "batch_month": format_month(int(r.batch_month)), "status": r.status, "reason": r.reason}
        for r in s.audit.itertuples(index=False)
    ]
    doc["batch"] = None if s.batch is None else {"batch_id": s.batch.batch_id, "created": s.batch_created,
                                                 "recorded": s.recorded}
    return doc


def roster_json(roster: Roster, *, mask: bool = True) -> dict:
    """The §6.3 `payout` document. IDs are masked unless the caller asked for them (--show-id)."""
    r = roster.rows
    frame = pd.DataFrame({
        "id_number": ids_list(r["id_number"], mask),
        "name": r["name"].astype(object).tolist(),
        "workshop_id": r["workshop_id"].astype(object).tolist(),
        "workshop_name": r["workshop_name"].astype(object).tolist(),
        "county": r["county"].astype(object).tolist(),
        "qualified_month": format_months(r["qualified_month"]),
        "payable_month": format_months(r["payable_month"]),
        "months": r["months"].astype("int64").tolist(),
        "wages": r["wages"].astype("float64").round(2).tolist(),
        "amount": r["amount"].astype("float64").round(2).tolist(),
    }, dtype=object)
    return {
        "month": format_month(roster.month),
        "county": roster.county,
        "policy": roster.policy,
        "people": roster.people,
        "amount": round(roster.amount, 2),
        "rows": frame.to_dict("records"),
    }
