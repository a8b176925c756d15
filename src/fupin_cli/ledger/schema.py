"""Ledger schema: an ordered list of migrations, the version kept in `PRAGMA user_version`.

Version N of the schema is the result of applying MIGRATIONS[0..N-1] in order. Each migration is
applied in its own transaction together with the user_version bump, so a run killed half-way
leaves the file at the previous version (SQLite rolls the hot journal back on the next open).
Never edit a released migration: append a new one.
"""

from __future__ import annotations

import sqlite3

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

# Schema v2 policies (SPEC §4.3): a payout belongs to a policy and, under yearly recurrence, to a period
# (the calendar year, 'YYYY'; NULL under "once"). Once per person becomes once per person, period and
# exclusive group (the policy's exclusive_group, or its name). SQLite cannot drop the old
# UNIQUE (id_number, workshop_id), so the table is rebuilt; rows recorded before keep their batch's
# policy and read as period NULL.
_PERIOD = "GLOB '[0-9][0-9][0-9][0-9]'"
_V3_POLICY_PERIODS: tuple[str, ...] = (
    f"""CREATE TABLE payouts_v3 (
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
        policy          TEXT NOT NULL,
        period          TEXT CHECK (period IS NULL OR period {_PERIOD}),
        exclusive_key   TEXT NOT NULL
    )""",
    "INSERT INTO payouts_v3 SELECT p.batch_id, p.id_number, p.name, p.workshop_id, p.workshop_name, p.county_code, "
    "p.county, p.qualified_month, p.payable_month, p.amount_cents, p.once_per_person, b.policy, NULL, b.policy "
    "FROM payouts p JOIN batches b ON b.batch_id = p.batch_id",
    "DROP TABLE payouts",
    "ALTER TABLE payouts_v3 RENAME TO payouts",
    "CREATE UNIQUE INDEX payouts_pair ON payouts (id_number, workshop_id, policy, ifnull(period, ''))",
    # The last line of defence against double pay, now per period and exclusive group.
    "CREATE UNIQUE INDEX payouts_once_per_person ON payouts (id_number, exclusive_key, ifnull(period, '')) "
    "WHERE once_per_person = 1",
    "CREATE INDEX payouts_batch ON payouts (batch_id)",
    # A batch is recorded for a (month, scope, policy) (SPEC §5.1): policies run side by side.
    "DROP INDEX batches_month_county",
    "CREATE UNIQUE INDEX batches_month_county_policy ON batches (month, ifnull(county, ''), policy)",
)

MIGRATIONS: tuple[tuple[str, ...], ...] = (_V1, _V2, _V3_POLICY_PERIODS)
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
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
