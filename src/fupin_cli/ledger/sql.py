"""SQL fragments shared by the reading and writing sides of the ledger."""

from __future__ import annotations

from typing import Any

from fupin_cli.ledger.models import BatchInfo


def month_index_sql(column: str) -> str:
    """'YYYY-MM' text → month index, computed by SQLite so frames arrive with integer months."""
    return f"(CAST(substr({column}, 1, 4) AS INTEGER) * 12 + CAST(substr({column}, 6, 2) AS INTEGER) - 1)"


BATCH_SELECT = (
    f"SELECT batch_id, {month_index_sql('month')} AS month, county AS county_code, created_at, policy, policy_version, "
    "tool_version, people, workshops, amount_cents, once_per_person, status, note, roster_rows, kind, void_at, "
    "void_by, void_reason FROM batches"
)

# Batches whose payouts count: not voided. A computed batch also orders the months; an imported one
# (payments made before fupin) holds history only.
VALID = "status <> 'void'"
COMPUTED = f"{VALID} AND kind = 'computed'"


def batch_info(row: tuple[Any, ...]) -> BatchInfo:
    """A BatchInfo from one row of BATCH_SELECT."""
    (batch_id, month, county_code, created_at, policy, policy_version, tool_version, people, workshops,
     cents, once, status, note, roster_rows, kind, void_at, void_by, void_reason) = row
    return BatchInfo(batch_id=batch_id, month=month, county_code=county_code, created_at=created_at, policy=policy,
                     policy_version=policy_version, tool_version=tool_version, people=people,
                     workshops=workshops, amount=cents / 100, once_per_person=bool(once), status=status,
                     note=note, roster_kept=bool(roster_rows), kind=kind, void_at=void_at, void_by=void_by,
                     void_reason=void_reason)
