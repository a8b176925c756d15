"""Read-only views of the ledger for `fupin ledger` (SPEC §5): an auditor sees everything without SQL.

The ledger is always opened read-only and must exist: a mistyped path is an error (exit 2), never
a new empty ledger.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from fupin_cli.config import CONFIG_ENV, DEFAULT_CONFIG_NAME, find_config, load_config
from fupin_cli.destinations import check_outputs
from fupin_cli.errors import LOCK_TIMEOUT
from fupin_cli.history import History
from fupin_cli.ledger import EXPORT_HEADERS, Ledger, default_ledger_path
from fupin_cli.ledger.models import BatchInfo
from fupin_cli.ledger.opening import missing_ledger
from fupin_cli.ledger.store import KIND_TEXT, STATUS_TEXT
from fupin_cli.months import format_month
from fupin_cli.privacy import mask_ids
from fupin_cli.region import load_region
from fupin_cli.workbooks.ledger_export import write_ledger_export


def ledger_path_for(ledger: Path | None = None, config: Path | None = None) -> Path:
    """`--ledger`, else the ledger of the config file (--config, $FUPIN_CONFIG or ./fupin.toml when
    present), else `default_ledger_path()`."""
    if ledger is not None:
        return Path(ledger)
    if config is not None or os.environ.get(CONFIG_ENV, "").strip() or (Path.cwd() / DEFAULT_CONFIG_NAME).is_file():
        return load_config(find_config(config)).ledger
    return default_ledger_path()


def _open(path: Path) -> Ledger:
    return Ledger.open_existing(path, hint="请用 --ledger 指定账本文件,或检查配置文件中的 ledger 路径。")


def init_ledger(path: Path) -> tuple[Path, bool, int]:
    """`fupin ledger init`: create the ledger at `path`; (path, created, batches already there).

    An existing sound ledger is left as it is (only migrated); anything else at that path is refused.
    """
    created = Ledger.init(path)
    with Ledger.open(path, readonly=True) as led:
        return Path(path), created, len(led.batches())


def who_am_i() -> str:
    """The operating-system user and machine, recorded as who voided a batch when --by is not given."""
    import getpass
    import socket

    try:
        user = getpass.getuser()
    except (OSError, KeyError):
        user = "未知用户"
    return f"{user}@{socket.gethostname()}"


def void_ledger_batch(path: Path, batch_id: int, *, reason: str, by: str | None = None,
                      lock_timeout: float = LOCK_TIMEOUT) -> BatchInfo:
    """`fupin ledger void`: mark the latest batch void, under the ledger lock (SPEC §5.1)."""
    if not Path(path).is_file():
        raise missing_ledger(Path(path))
    with Ledger.open(path) as led, led.lock(lock_timeout):
        return led.void_batch(batch_id, reason=reason, by=(by or "").strip() or who_am_i())


def batch_state(status: str, kind: str) -> str:
    """One word for a batch's state: 已作废 / 历史导入 / 已登记."""
    return STATUS_TEXT["void"] if status == "void" else KIND_TEXT["imported"] if kind == "imported" else STATUS_TEXT.get(status, status)


def list_batches(path: Path) -> pd.DataFrame:
    """Every batch (fupin_cli.ledger.BATCH_COLUMNS plus `county`, the county's name; None = the whole
    region), oldest month first."""
    with _open(path) as led:
        batches = led.batches()
        recorded = led.county_names()
    return batches.assign(county=pd.Series(_county_names(batches, recorded), index=batches.index, dtype=object))


def missing_outputs(path: Path) -> list[str]:
    """"第N批已登记但花名册未生成…" for every batch whose requested roster was never written (SPEC §5.1)."""
    from fupin_cli.settlement import missing_output_message

    with _open(path) as led:
        missing = led.missing_outputs()
    region = load_region()
    return [missing_output_message(o, region) for o in missing]


def _county_names(batches: pd.DataFrame, recorded: dict[int, str]) -> list[str | None]:
    """The name a county batch's payouts recorded; else the default region's name for the code."""
    current = load_region().names_by_code()
    return [None if not isinstance(code, str) else recorded.get(int(bid)) or current.get(code, code)
            for bid, code in zip(batches["batch_id"], batches["county_code"], strict=True)]


def _batch_dict(row: dict) -> dict:
    return {
        "batch_id": int(row["batch_id"]), "month": format_month(int(row["month"])),
        "county_code": row["county_code"], "county": row["county"],
        "created_at": row["created_at"], "policy": row["policy"], "policy_version": row["policy_version"],
        "tool_version": row["tool_version"], "people": int(row["people"]), "workshops": int(row["workshops"]),
        "amount": float(row["amount"]), "status": row["status"], "note": row["note"],
        "kind": row.get("kind", "computed"), "void": row["status"] == "void",
        "void_at": row.get("void_at"), "void_by": row.get("void_by"), "void_reason": row.get("void_reason"),
    }


def batches_json(path: Path, batches: pd.DataFrame, missing: list[str] | None = None) -> dict:
    rows = []
    for rec in batches.astype(object).where(batches.notna(), None).to_dict("records"):
        d = _batch_dict(rec)
        d["files"] = int(rec["files"])
        rows.append(d)
    return {"ledger": str(path), "batches": rows, "missing_outputs": missing or []}


@dataclass
class BatchView:
    info: BatchInfo
    payouts: pd.DataFrame  # PAYOUT_COLUMNS, months as indexes
    files: pd.DataFrame  # path, sha256, size
    county: str | None = None  # the county's name for a one-county batch; None = the whole region


def show_batch(path: Path, batch_id: int) -> BatchView:
    with _open(path) as led:
        payouts = led.batch_payouts(batch_id)  # LedgerError (exit 2) for an unknown batch
        info = led.batch(batch_id)
        files = led.batch_files(batch_id)
    assert info is not None
    names = _county_names(pd.DataFrame({"batch_id": [info.batch_id], "county_code": [info.county_code]}),
                          {info.batch_id: str(payouts["county"].iloc[0])} if len(payouts) else {})
    return BatchView(info=info, payouts=payouts, files=files, county=names[0])


def masked_payouts(view: BatchView, *, mask: bool = True) -> pd.DataFrame:
    p = view.payouts
    return p.assign(id_number=mask_ids(p["id_number"])) if mask else p


def batch_json(view: BatchView, *, mask: bool = True) -> dict:
    info = view.info.model_dump()
    info["month"] = format_month(view.info.month)
    info["county"] = view.county
    info["void"] = view.info.void
    p = masked_payouts(view, mask=mask)
    def text(v: object) -> str | None:  # an imported payment has no workshop name or county: null, never NaN
        return v if isinstance(v, str) else None

    payouts = [
        {"id_number": r.id_number, "name": text(r.name), "workshop_id": r.workshop_id,
         "workshop_name": text(r.workshop_name), "county_code": text(r.county_code), "county": text(r.county),
         "qualified_month": format_month(int(r.qualified_month)), "payable_month": format_month(int(r.payable_month)),
         "amount": float(r.amount), "reference": text(r.reference)}
        for r in p.itertuples(index=False)
    ]
    files = [{"path": f.path, "sha256": f.sha256, "size": int(f.size)} for f in view.files.itertuples(index=False)]
    return {"batch": info, "payouts": payouts, "files": files}


def export_ledger(path: Path, dest: Path) -> Path:
    """The whole ledger (批次 / 发放明细 / 输入文件) as one xlsx, IDs whole (it is the audit record)."""
    check_outputs({"导出文件": dest}, ledger=path)
    with _open(path) as led:
        batches, payouts, files = led.export_rows()
    return write_ledger_export(Path(dest), batches, payouts, files, EXPORT_HEADERS)


@dataclass
class ImportResult:
    history: History
    batch: BatchInfo | None  # None: errors in the list, nothing recorded


def import_history(path: Path, files: Sequence[Path], *, policy: str | None = None, region: str | None = None,
                   lock_timeout: float = LOCK_TIMEOUT) -> ImportResult:
    """`fupin ledger import`: record payments made before fupin as one imported batch (SPEC §5.1).

    The ledger must exist; the list is checked first and one bad row records nothing."""
    from fupin_cli import __version__
    from fupin_cli.history import read_history
    from fupin_cli.policy import load_policy
    from fupin_cli.region import load_region
    from fupin_cli.settlement import exclusive_key

    if not Path(path).is_file():
        raise missing_ledger(Path(path))
    pol = load_policy(policy)
    history = read_history(files, load_region(region))
    if history.errors:
        return ImportResult(history=history, batch=None)
    rows = history.rows.assign(workshop_name=None, county_code=None, county=None,
                               qualified_month=history.rows["month"], payable_month=history.rows["month"])
    if pol.recurrence == "yearly":  # a yearly entitlement is paid once per calendar year (SPEC §4.3)
        rows = rows.assign(period=(rows["month"] // 12).astype(str))
    last = int(rows["month"].max())
    with Ledger.open(path) as led, led.lock(lock_timeout):
        res = led.record_import(rows, policy=pol.name, policy_version=pol.version, files=history.files,
                                tool_version=__version__,
                                once_per_person=bool(pol.at("once_per_person", last).value),
                                exclusive_key=exclusive_key(pol),
                                note="fupin ledger import:" + "、".join(str(f.path.name) for f in history.files))
    return ImportResult(history=history, batch=res.batch)
