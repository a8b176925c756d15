"""`fupin payout`: settle month M, write the roster (花名册), record it with `--commit`; the `payout` JSON."""

from __future__ import annotations

import contextlib
import errno
import re
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from fupin_cli.errors import LOCK_TIMEOUT, FupinError, OutputsMissing, os_reason
from fupin_cli.ledger import Ledger
from fupin_cli.loading import Progress, load_dataset
from fupin_cli.months import format_month, format_months, period_texts
from fupin_cli.policy import load_policy
from fupin_cli.privacy import ids_list, mask_text
from fupin_cli.region import load_region
from fupin_cli.roster import Roster
from fupin_cli.settlement import Settlement, ledger_json, run_paid, settle


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
    """`fupin payout` with one policy: the roster for month M, written to `output`; recorded with `commit`."""
    return run_payouts(paths, policies=[policy], month=month, county_arg=county_arg, region=region,
                       ledger_path=ledger_path, commit=commit, new_ledger=new_ledger, first_run=first_run,
                       output=output, lock_timeout=lock_timeout, progress=progress)[0]


def run_payouts(
    paths: Sequence[str | Path],
    *,
    policies: Sequence[str | None],
    month: int | None = None,
    county_arg: str | None = None,
    region: str | None = None,
    ledger_path: Path | None = None,
    commit: bool = False,
    new_ledger: bool = False,
    first_run: bool = False,
    output: Path | None = None,
    lock_timeout: float = LOCK_TIMEOUT,
    progress: Progress | None = None,
) -> list[Settlement]:
    """`fupin payout`: one settlement per policy (`--policy` repeated), in the order given, on one
    reading of the data and under one hold of the ledger lock. Each policy has its own batch and, with
    several, its own roster file (`policy_output`); a person an earlier policy of the same exclusive
    group pays this month is not paid again by a later one (SPEC §4.3), previewed or committed alike.

    A commit needs an existing ledger unless `new_ledger` (SPEC §5.1: created explicitly); the
    check comes before the inputs are read, so a typo costs nothing and creates nothing. A commit
    records the requested roster with its batch and marks it written once it exists, so a failed or
    killed write is reported by every later run (SPEC §5.1).
    """
    from fupin_cli.destinations import check_outputs
    from fupin_cli.ledger.lock import check_lock_timeout
    from fupin_cli.ledger.opening import missing_ledger

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
    pols = load_policies(policies)
    ds = load_dataset(paths, region=reg, progress=progress)
    check_outputs(outputs, inputs=[f.path for f in ds.files])  # files found in input folders
    with contextlib.ExitStack() as stack:
        led = None
        if ledger_path is not None and commit:
            led = stack.enter_context(Ledger.open(ledger_path, create=new_ledger))
            stack.enter_context(led.lock(lock_timeout))
        elif ledger_path is not None:
            led = stack.enter_context(Ledger.open_existing(
                ledger_path, hint="预览时请给出已有的账本;新账本请用 fupin ledger init 创建。"))
        done: list[Settlement] = []
        for pol in pols:
            out = output if output is None or len(pols) == 1 else policy_output(output, pol.name)
            wanted = [("roster", str(Path(out).absolute()))] if out is not None and commit else []
            earlier = pd.concat([run_paid(x) for x in done], ignore_index=True) if done else None
            s = settle(ds, region=reg, policy=pol, month=month, county_arg=county_arg, ledger=led, commit=commit,
                       outputs=wanted, earlier=earlier, first_run=first_run)
            s.ledger_path = Path(ledger_path) if ledger_path is not None else None
            if out is not None:
                _write_output(s, Path(out), led if commit else None)
            done.append(s)
        if led is not None:
            for s in done:
                s.missing_outputs = led.missing_outputs()
    return done


def load_policies(specs: Sequence[str | None]) -> list:
    """The run's policies in the order given; the same policy twice is a usage error."""
    pols = [load_policy(p) for p in specs]
    names = [file_part(p.name) for p in pols]  # distinct as file names too: 花名册_<名>.xlsx each
    dup = sorted({p.name for p, n in zip(pols, names, strict=True) if names.count(n) > 1})
    if dup:
        raise FupinError(f"政策“{'、'.join(dup)}”给出了不止一次;每个政策只能给出一次。", code="usage.policy_repeated")
    return pols


def policy_output(output: Path, policy_name: str) -> Path:
    """One roster file per policy: 花名册.xlsx → 花名册_<政策名>.xlsx (each is signed and paid on its own)."""
    output = Path(output)
    return output.with_name(f"{output.stem}_{file_part(policy_name)}{output.suffix or '.xlsx'}")


def file_part(policy_name: str) -> str:
    """A policy's name as part of a file name (characters Windows forbids become _)."""
    return re.sub(r'[\\/:*?"<>|\x00-\x1f]', "_", policy_name)


def _write_output(s: Settlement, output: Path, ledger: Ledger | None) -> None:
    """Write the roster; a batch whose roster is then missing says it was recorded (exit 3)."""
    from fupin_cli.workbooks.roster import write_roster

    b = s.batch
    pending = b is not None and ledger is not None and any(
        o.batch_id == b.batch_id and o.kind == "roster" for o in ledger.missing_outputs())
    try:
        s.outputs.append(write_roster(output, s.roster))
    except (OSError, FupinError) as exc:
        why = (exc.message if isinstance(exc, FupinError) else _os_reason(exc, output)).rstrip("。")
        if b is not None and (s.batch_created or pending):
            raise OutputsMissing(
                f"第{b.batch_id}批已登记({s.roster.people}人,{s.roster.amount:,.2f}元),但花名册未能写出:{why}。"
                "排除问题后请重新运行同一命令生成花名册(不会重复登记)。", code="output.missing") from exc
        raise FupinError(f"花名册未能写出:{why}。", code="output.unwritable") from exc
    if pending and ledger is not None:
        ledger.mark_written(b.batch_id, "roster", Path(output).absolute())


def _os_reason(exc: OSError, path: Path) -> str:
    if isinstance(exc, PermissionError):
        return f"无法写入“{path}”(没有权限,或文件正被占用:如已在Excel中打开,请先在Excel中关闭)"
    if exc.errno == errno.ENOSPC:
        return f"磁盘已满,无法写入“{path}”"
    return f"无法写入“{path}”({os_reason(exc)})"


def settlement_json(s: Settlement, *, mask: bool = True) -> dict:
    """The §6.3 `payout` document: `rows` is exactly what this run's batch records (or recorded)."""
    doc = roster_json(s.roster, mask=mask)
    doc["audit"] = [
        {"id_number": mask_text(r.id_number) if mask else r.id_number, "workshop_id": r.workshop_id,
         "batch_month": format_month(int(r.batch_month)), "status": r.status, "reason": r.reason}
        for r in s.audit.itertuples(index=False)
    ]
    doc["batch"] = None if s.batch is None else {"batch_id": s.batch.batch_id, "created": s.batch_created,
                                                 "recorded": s.recorded, "reprinted": s.reprinted}
    doc.update(ledger_json(s, s.region, mask=mask))
    return doc


def roster_json(roster: Roster, *, mask: bool = True) -> dict:
    """The §6.3 `payout` document. IDs are masked unless the caller asked for them (--show-id)."""
    r = roster.rows
    columns = {
        "id_number": ids_list(r["id_number"], mask),
        "name": r["name"].astype(object).tolist(),
        "workshop_id": r["workshop_id"].astype(object).tolist(),
        "workshop_name": r["workshop_name"].astype(object).tolist(),
        "county": r["county"].astype(object).tolist(),
        "qualified_month": format_months(r["qualified_month"]),
        "payable_month": format_months(r["payable_month"]),
        # Blank only on a roster reprinted from a ledger that predates roster rows, for a pair today's
        # data no longer has.
        "months": [None if pd.isna(v) else int(v) for v in r["months"].tolist()],
        "wages": [None if pd.isna(v) else v for v in r["wages"].astype("float64").round(2).tolist()],
        "amount": r["amount"].astype("float64").round(2).tolist(),
        # The calendar year of a yearly entitlement (SPEC §4.3); null under recurrence = "once".
        "period": period_texts(r),
    }
    # Every value is a plain Python value already: records zipped directly (DataFrame.to_dict boxes each).
    keys = list(columns)
    records = [dict(zip(keys, values, strict=True)) for values in zip(*columns.values(), strict=True)]
    h = roster.deferred
    deferred = [] if h is None or h.empty else [
        {"id_number": i, "workshop_id": w, "amount": round(float(a), 2), "period": p, "reason": r}
        for i, w, a, p, r in zip(ids_list(h["id_number"], mask), h["workshop_id"].astype(object), h["amount"],
                                 period_texts(h), h["reason"], strict=True)]
    return {
        "month": format_month(roster.month),
        "county": roster.county,
        "policy": roster.policy,
        "people": roster.people,
        "amount": round(roster.amount, 2),
        "rows": records,
        "deferred": deferred,  # payee = laborer (SPEC §4.3): payable, 暂缓发放 until an account is given
    }
