"""Ledger schema: an ordered list of migrations, the version kept in `PRAGMA user_version`.

Version N of the schema is the result of applying MIGRATIONS[0..N-1] in order. Each migration is
applied in its own transaction together with the user_version bump, so a run killed half-way
leaves the file at the previous version (SQLite rolls the hot journal back on the next open).
Never edit a released migration: append a new one.
"""

from __future__ import annotations

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

# The ledger keeps the roster it recorded (SPEC §5.1): a recorded batch is reprinted from these
# rows, never recomputed. Batches recorded before (roster_rows = 0) hold only who and how much.
_V3_ROSTER_ROWS: tuple[str, ...] = (
    "ALTER TABLE batches ADD COLUMN roster_rows INTEGER NOT NULL DEFAULT 0 CHECK (roster_rows IN (0, 1))",
    "ALTER TABLE payouts ADD COLUMN operator TEXT",
    "ALTER TABLE payouts ADD COLUMN operator_type TEXT",
    "ALTER TABLE payouts ADD COLUMN bank TEXT",
    "ALTER TABLE payouts ADD COLUMN bank_account TEXT",
    "ALTER TABLE payouts ADD COLUMN contract_type TEXT",
    "ALTER TABLE payouts ADD COLUMN start TEXT",  # 'YYYY-MM-DD'
    "ALTER TABLE payouts ADD COLUMN months INTEGER",
    "ALTER TABLE payouts ADD COLUMN wages_cents INTEGER",
    "ALTER TABLE payouts ADD COLUMN check_note TEXT",  # the roster row's 备注 (e.g. 银行账号有误,发放前请核实)
    # The outputs a batch's run was asked for (the --output roster, batch's month folder), recorded
    # with the batch; written_at stays NULL until they exist, and every later run says so.
    """CREATE TABLE batch_outputs (
        batch_id   INTEGER NOT NULL REFERENCES batches (batch_id),
        kind       TEXT NOT NULL CHECK (kind IN ('roster', 'month_folder')),
        path       TEXT NOT NULL,
        written_at TEXT,
        PRIMARY KEY (batch_id, kind)
    )""",
)

# Schema v2 policies (SPEC §4.3): a payout belongs to a policy and, under yearly recurrence, to a period
# (the calendar year, 'YYYY'; NULL under "once"). Once per person becomes once per person, period and
# exclusive group (the policy's exclusive_group, or its name). SQLite cannot drop the old
# UNIQUE (id_number, workshop_id), so the table is rebuilt; rows recorded before keep their batch's
# policy and read as period NULL. A batch is recorded per (month, scope, policy).
_PERIOD = "GLOB '[0-9][0-9][0-9][0-9]'"
_V4_POLICY_PERIODS: tuple[str, ...] = (
    f"""CREATE TABLE payouts_v4 (
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
        operator        TEXT,
        operator_type   TEXT,
        bank            TEXT,
        bank_account    TEXT,
        contract_type   TEXT,
        start           TEXT,
        months          INTEGER,
        wages_cents     INTEGER,
        check_note      TEXT,
        policy          TEXT NOT NULL,
        period          TEXT CHECK (period IS NULL OR period {_PERIOD}),
        exclusive_key   TEXT NOT NULL
    )""",
    "INSERT INTO payouts_v4 SELECT p.batch_id, p.id_number, p.name, p.workshop_id, p.workshop_name, p.county_code, "
    "p.county, p.qualified_month, p.payable_month, p.amount_cents, p.once_per_person, p.operator, p.operator_type, "
    "p.bank, p.bank_account, p.contract_type, p.start, p.months, p.wages_cents, p.check_note, b.policy, NULL, "
    "b.policy FROM payouts p JOIN batches b ON b.batch_id = p.batch_id",
    "DROP TABLE payouts",
    "ALTER TABLE payouts_v4 RENAME TO payouts",
    "CREATE UNIQUE INDEX payouts_pair ON payouts (id_number, workshop_id, policy, ifnull(period, ''))",
    # The last line of defence against double pay, now per period and exclusive group.
    "CREATE UNIQUE INDEX payouts_once_per_person ON payouts (id_number, exclusive_key, ifnull(period, '')) "
    "WHERE once_per_person = 1",
    "CREATE INDEX payouts_batch ON payouts (batch_id)",
    "DROP INDEX batches_month_county",
    "CREATE UNIQUE INDEX batches_month_county_policy ON batches (month, ifnull(county, ''), policy)",
)

Step = str | Callable[[sqlite3.Connection], None]

# Void (`fupin ledger void`) and history (`fupin ledger import`), SPEC §5.1: a voided batch stays,
# marked with who/when/why, and its payouts stop counting, so its laborers are payable again; the
# uniqueness v4 enforces (one payment per ID, period and exclusive group; one row per pair, policy
# and period) therefore holds over rows not voided. v4 already rebuilt payouts without the
# table-level UNIQUE, so partial indexes suffice.
_V5_VOID_IMPORT: tuple[Step, ...] = (
    "ALTER TABLE batches ADD COLUMN void_at TEXT",
    "ALTER TABLE batches ADD COLUMN void_by TEXT",
    "ALTER TABLE batches ADD COLUMN void_reason TEXT",
    # 'computed' (payout --commit / batch) or 'imported' (`fupin ledger import`: paid before fupin).
    "ALTER TABLE batches ADD COLUMN kind TEXT NOT NULL DEFAULT 'computed' CHECK (kind IN ('computed', 'imported'))",
    "DROP INDEX batches_month_county_policy",
    "CREATE UNIQUE INDEX batches_month_county_policy ON batches (month, ifnull(county, ''), policy) "
    "WHERE status <> 'void' AND kind = 'computed'",
    "ALTER TABLE payouts ADD COLUMN void INTEGER NOT NULL DEFAULT 0 CHECK (void IN (0, 1))",
    # An imported payment's own reference (凭证号 / 文号 of the manual payment).
    "ALTER TABLE payouts ADD COLUMN reference TEXT",
    "DROP INDEX payouts_pair",
    "CREATE UNIQUE INDEX payouts_pair ON payouts (id_number, workshop_id, policy, ifnull(period, '')) WHERE void = 0",
    "DROP INDEX payouts_once_per_person",
    # The last line of defence against double pay: per period and exclusive group, voided rows aside.
    "CREATE UNIQUE INDEX payouts_once_per_person ON payouts (id_number, exclusive_key, ifnull(period, '')) "
    "WHERE once_per_person = 1 AND void = 0",
)

MIGRATIONS: tuple[tuple[Step, ...], ...] = (_V1, _V2, _V3_ROSTER_ROWS, _V4_POLICY_PERIODS, _V5_VOID_IMPORT)
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
