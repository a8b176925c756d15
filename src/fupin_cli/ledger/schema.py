"""Ledger schema: an ordered list of migrations, the version kept in `PRAGMA user_version`.

Version N of the schema is the result of applying MIGRATIONS[0..N-1] in order. Each migration is
applied in its own transaction together with the user_version bump, so a run killed half-way
leaves the file at the previous version (SQLite rolls the hot journal back on the next open).
Never edit a released migration: append a new one.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable

# Marks the file as a fupin ledger (ASCII "FUPI"), so another program's SQLite file is refused.
APPLICATION_ID = 0x46555049

# Month columns hold 'YYYY-MM' text: readable in any SQLite browser and sortable as text.
_MONTH_CHECK = "GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]'"

_V1: tuple[str, ...] = (
    f"PRAGMA application_id = {APPLICATION_ID}",
    f"""CREATE TABLE batches (
        batch_id        INTEGER PRIMARY KEY,
        month           TEXT NOT NULL CHECK (month {_MONTH_CHECK}),
        county          TEXT,                      -- county code; NULL = every county of the region
        created_at      TEXT NOT NULL,             -- ISO 8601 local time with offset
        policy          TEXT NOT NULL,
        policy_version  TEXT NOT NULL,
        tool_version    TEXT NOT NULL,
        people          INTEGER NOT NULL CHECK (people >= 0),
        workshops       INTEGER NOT NULL CHECK (workshops >= 0),
        amount_cents    INTEGER NOT NULL CHECK (amount_cents >= 0),
        once_per_person INTEGER NOT NULL DEFAULT 1 CHECK (once_per_person IN (0, 1)),
        status          TEXT NOT NULL DEFAULT 'committed'
    )""",
    # One batch per (month, county); NULL county (the whole region) is its own key.
    "CREATE UNIQUE INDEX batches_month_county ON batches (month, ifnull(county, ''))",
    """CREATE TABLE batch_files (
        batch_id INTEGER NOT NULL REFERENCES batches (batch_id),
        path     TEXT NOT NULL,
        sha256   TEXT NOT NULL CHECK (length(sha256) = 64),
        size     INTEGER NOT NULL CHECK (size >= 0),
        PRIMARY KEY (batch_id, path)
    )""",
    f"""CREATE TABLE payouts (
        batch_id        INTEGER NOT NULL REFERENCES batches (batch_id),
        id_number       TEXT NOT NULL,
        name            TEXT,
        workshop_id     TEXT NOT NULL,
        workshop_name   TEXT,
        county_code     TEXT,
        county          TEXT,
        qualified_month TEXT NOT NULL CHECK (qualified_month {_MONTH_CHECK}),
        payable_month   TEXT NOT NULL CHECK (payable_month {_MONTH_CHECK}),
        amount_cents    INTEGER NOT NULL CHECK (amount_cents >= 0),
        once_per_person INTEGER NOT NULL DEFAULT 1 CHECK (once_per_person IN (0, 1)),
        UNIQUE (id_number, workshop_id)
    )""",
    # Last line of defence against double pay (同一人同一类型的就业扶持政策不能重复享受):
    # under a once-per-person policy an ID number can hold only one payout row, whatever the code does.
    "CREATE UNIQUE INDEX payouts_once_per_person ON payouts (id_number) WHERE once_per_person = 1",
)

_V2: tuple[str, ...] = (
    # A free remark per batch (who committed it and how, e.g. the command line).
    "ALTER TABLE batches ADD COLUMN note TEXT",
    # `fupin ledger` shows one batch's payouts without scanning the whole table.
    "CREATE INDEX payouts_batch ON payouts (batch_id)",
)


def _payouts_unique_only_while_valid(conn: sqlite3.Connection) -> None:
    """Rebuild `payouts` without its table-level UNIQUE (id_number, workshop_id), which SQLite cannot
    drop: a voided payout stays in the ledger, yet its laborer must be payable again (SPEC §5.1).
    The same guarantee returns as partial unique indexes over rows not voided (added after this).
    Built from the stored CREATE text, so columns other migrations added travel along; the
    table's other indexes are recreated as they were."""
    sql = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'payouts'").fetchone()[0]
    new_sql, n = re.subn(r",\s*UNIQUE\s*\(\s*id_number\s*,\s*workshop_id\s*\)", "", sql, flags=re.IGNORECASE)
    if n != 1:
        raise RuntimeError("payouts table has an unexpected definition; cannot migrate")
    new_sql = re.sub(r"^CREATE TABLE\s+\"?payouts\"?", "CREATE TABLE payouts_v3", new_sql, count=1)
    indexes = [r[0] for r in conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'payouts' AND sql IS NOT NULL "
        "AND name <> 'payouts_once_per_person'")]
    conn.execute(new_sql)
    conn.execute("INSERT INTO payouts_v3 SELECT * FROM payouts")
    conn.execute("DROP TABLE payouts")
    conn.execute("ALTER TABLE payouts_v3 RENAME TO payouts")
    for statement in indexes:
        conn.execute(statement)


Step = str | Callable[[sqlite3.Connection], None]

_V3: tuple[Step, ...] = (
    # Void (`fupin ledger void`): a batch stays, marked with who/when/why; its rows stop counting.
    "ALTER TABLE batches ADD COLUMN void_at TEXT",
    "ALTER TABLE batches ADD COLUMN void_by TEXT",
    "ALTER TABLE batches ADD COLUMN void_reason TEXT",
    # 'computed' (payout --commit / batch) or 'imported' (`fupin ledger import`: paid before fupin).
    "ALTER TABLE batches ADD COLUMN kind TEXT NOT NULL DEFAULT 'computed' CHECK (kind IN ('computed', 'imported'))",
    "DROP INDEX batches_month_county",
    "CREATE UNIQUE INDEX batches_month_county ON batches (month, ifnull(county, '')) "
    "WHERE status <> 'void' AND kind = 'computed'",
    _payouts_unique_only_while_valid,
    "ALTER TABLE payouts ADD COLUMN void INTEGER NOT NULL DEFAULT 0 CHECK (void IN (0, 1))",
    # An imported payment's own reference (凭证号 / 文号 of the manual payment).
    "ALTER TABLE payouts ADD COLUMN reference TEXT",
    "CREATE UNIQUE INDEX payouts_pair ON payouts (id_number, workshop_id) WHERE void = 0",
    "CREATE UNIQUE INDEX payouts_once_per_person ON payouts (id_number) WHERE once_per_person = 1 AND void = 0",
)

MIGRATIONS: tuple[tuple[Step, ...], ...] = (_V1, _V2, _V3)
LATEST_VERSION = len(MIGRATIONS)


def user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, target: int = LATEST_VERSION) -> int:
    """Bring the database to schema version `target`, one transaction per migration.

    The version is re-read inside each write transaction (BEGIN IMMEDIATE), so two processes
    opening a fresh ledger at once cannot apply a migration twice. Returns the final version.
    `conn` must be in autocommit mode (isolation_level=None).
    """
    if not 0 <= target <= LATEST_VERSION:
        raise ValueError(f"unknown schema version {target}")
    while True:
        if user_version(conn) >= target:
            return user_version(conn)
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = user_version(conn)
            if version < target:
                for statement in MIGRATIONS[version]:
                    if callable(statement):
                        statement(conn)
                    else:
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
