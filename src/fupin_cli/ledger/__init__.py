"""The payout ledger (SPEC §5): an embedded SQLite database of committed monthly batches.

    from fupin_cli.ledger import Ledger
    with Ledger.open(path) as ledger, ledger.lock():
        paid = ledger.paid(before_month=month)
        ...
        result = ledger.record_batch(month, roster.rows, policy=..., policy_version=..., files=ds.files)

Modules: schema (tables, migrations), opening (safe open/checks), record (one batch, one
transaction), store (the Ledger object and its queries), lock (the inter-process lock).
"""

from fupin_cli.ledger.lock import ledger_lock, lock_path
from fupin_cli.ledger.models import BatchInfo, OutputRecord, RecordResult
from fupin_cli.ledger.record import ROSTER_COLUMNS
from fupin_cli.ledger.schema import LATEST_VERSION, MIGRATIONS
from fupin_cli.ledger.store import (
    BATCH_COLUMNS,
    EXPORT_HEADERS,
    FILE_COLUMNS,
    PAID_COLUMNS,
    PAYOUT_COLUMNS,
    ROSTER_FRAME_COLUMNS,
    Ledger,
    default_ledger_path,
)

__all__ = [
    "BATCH_COLUMNS", "EXPORT_HEADERS", "FILE_COLUMNS", "LATEST_VERSION", "MIGRATIONS", "PAID_COLUMNS",
    "PAYOUT_COLUMNS", "ROSTER_COLUMNS", "ROSTER_FRAME_COLUMNS", "BatchInfo", "RecordResult", "OutputRecord", "Ledger", "default_ledger_path",
    "ledger_lock", "lock_path",
]
