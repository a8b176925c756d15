"""The Ledger object: open, read batches and payouts, record a batch (SPEC §5)."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import pandas as pd
import platformdirs

from fupin_cli import __version__
from fupin_cli.clock import local_text
from fupin_cli.errors import LOCK_TIMEOUT, LedgerError
from fupin_cli.ledger.lock import ledger_lock
from fupin_cli.ledger.models import BatchInfo, OutputRecord, RecordResult
from fupin_cli.ledger.opening import open_connection, sqlite_failure
from fupin_cli.ledger.record import record_batch, record_import, void_batch
from fupin_cli.ledger.sql import BATCH_SELECT, COMPUTED, VALID, batch_info, month_index_sql
from fupin_cli.months import format_month, format_months

BATCH_COLUMNS = ["batch_id", "month", "county_code", "created_at", "policy", "policy_version", "tool_version",
                 "people", "workshops", "amount", "once_per_person", "status", "note", "files", "kind", "void_at",
                 "void_by", "void_reason"]
PAID_COLUMNS = ["id_number", "workshop_id", "county_code", "qualified_month", "payable_month", "amount",
                "batch_id", "batch_month", "period", "policy", "imported"]
PAYOUT_COLUMNS = ["batch_id", "id_number", "name", "workshop_id", "workshop_name", "county_code", "county",
                  "qualified_month", "payable_month", "amount", "period", "void", "reference"]
FILE_COLUMNS = ["batch_id", "path", "sha256", "size"]
ROSTER_FRAME_COLUMNS = ["county_code", "county", "workshop_id", "workshop_name", "operator", "operator_type", "bank",
                        "bank_account", "name", "id_number", "contract_type", "start", "qualified_month",
                        "payable_month", "months", "wages", "amount", "check_note", "period"]

# What a clerk reads for a batch's status and origin (list, show, export).
STATUS_TEXT = {"committed": "已登记", "void": "已作废"}
KIND_TEXT = {"computed": "按规则核算", "imported": "历史导入"}

_INT = "int64"
_TEXT = "str"


def default_ledger_path() -> Path:
    """Where the ledger lives when neither --ledger nor the config file names one.

    Order of precedence (the CLI applies the first two): `--ledger PATH`, the config file's
    ledger path, the environment variable FUPIN_LEDGER, and finally
    `platformdirs.user_data_dir("fupin") / "ledger.sqlite3"` — e.g.
    ~/.local/share/fupin/ledger.sqlite3 on Linux,
    C:\\Users\\<user>\\AppData\\Local\\fupin\\ledger.sqlite3 on Windows.
    """
    env = os.environ.get("FUPIN_LEDGER", "").strip()
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("fupin", appauthor=False)) / "ledger.sqlite3"


def _frame(rows: list[tuple[Any, ...]], columns: list[str], dtypes: dict[str, str]) -> pd.DataFrame:
    df = pd.DataFrame.from_records(rows, columns=columns)
    return df.astype({c: t for c, t in dtypes.items() if c in df.columns})


def _months_text(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    out = df.copy()
    for c in columns:
        out[c] = pd.Series(format_months(out[c]), index=out.index, dtype=_TEXT)
    return out


class Ledger(AbstractContextManager["Ledger"]):
    """The payout ledger: an SQLite file with batches, their input files and payout rows.

    Use `Ledger.open(path)`; as a context manager it closes itself. Every write happens in one
    `BEGIN IMMEDIATE` transaction, so a run killed at any instant leaves the ledger as it was before
    or complete. Serialise whole compute-and-commit runs with `ledger.lock()`.
    """

    def __init__(self, conn: sqlite3.Connection, path: Path, *, readonly: bool) -> None:
        self._conn = conn
        self.path = path
        self.readonly = readonly
        # Test seam: called with the number of payout rows inserted so far, after each chunk,
        # inside the open transaction (lets a test kill the process mid-write).
        self._after_chunk: Callable[[int], None] | None = None

    @classmethod
    def open(cls, path: Path | None = None, *, create: bool = False, readonly: bool = False,
             busy_timeout: float = 15.0) -> Ledger:
        """Open (and if needed create and migrate) the ledger at `path` (default: `default_ledger_path()`).

        A file that is not a sound fupin ledger (garbage, truncated, corrupt, another program's
        database, a newer schema) raises LedgerError and is left untouched. `create=False` refuses
        a missing file (the default: a ledger is created explicitly, with `Ledger.init` — a mistyped
        path must never start an empty ledger that pays everyone again, SPEC §5.1). `readonly=True` records nothing: a missing file reads as an empty ledger and
        an older schema is read through a migrated copy in memory (the only write ever made while
        opening is SQLite rolling back the journal of a killed run, which restores the file). `busy_timeout` bounds how long a
        statement waits for another process's transaction (then LockBusy).
        """
        path = Path(path) if path is not None else default_ledger_path()
        conn = open_connection(path, create=create, readonly=readonly, busy_timeout=busy_timeout)
        return cls(conn, path, readonly=readonly)

    @classmethod
    def open_existing(cls, path: Path, *, hint: str) -> Ledger:
        """An existing ledger, read-only (previews, views, `fupin ledger`): a mistyped path is an error
        (`hint` says what to do), never a new empty ledger."""
        path = Path(path)
        if not path.exists():
            raise LedgerError(f"账本文件“{path}”不存在。{hint}", code="ledger.missing")
        return cls.open(path, create=False, readonly=True)

    @classmethod
    def init(cls, path: Path) -> bool:
        """Create an empty ledger at `path` (`fupin ledger init`); True if created, False if a sound
        fupin ledger was already there (it is only checked and migrated, never emptied)."""
        path = Path(path)
        existed = path.exists() and path.stat().st_size > 0
        with cls.open(path, create=True):
            pass
        return not existed

    def close(self) -> None:
        self._conn.close()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def lock(self, timeout: float = LOCK_TIMEOUT) -> AbstractContextManager[None]:
        """Context manager holding `<ledger>.lock` (see `ledger_lock`); LockBusy after `timeout` s.

        Hold it around the whole run (read `paid`, compute, `record_batch`, write outputs) so a
        second run computes against the first one's batch. Not re-entrant: take it once per run.
        """
        return ledger_lock(self.path, timeout)

    # --- reading -------------------------------------------------------------------------------

    def _rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        try:
            return self._conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise sqlite_failure(self.path, exc, "读取") from exc

    def batch(self, batch_id: int) -> BatchInfo | None:
        rows = self._rows(f"{BATCH_SELECT} WHERE batch_id = ?", (int(batch_id),))
        return batch_info(rows[0]) if rows else None

    def batch_for_month(self, month: int, county_code: str | None = None, policy: str | None = None
                        ) -> BatchInfo | None:
        """The batch that recorded month `month`'s roster for `county` (a county code).

        With a county: that county's own batch, else the region-wide batch of the month (which
        covers every county). Without: the region-wide batch of the month. None if neither exists.
        With `policy` (its name), only that policy's batches: policies are recorded side by side.
        """
        by_policy, params = ("AND policy = ? ", (policy,)) if policy is not None else ("", ())
        rows = self._rows(f"{BATCH_SELECT} WHERE {COMPUTED} AND month = ? AND (county IS NULL OR county = ?) "
                          f"{by_policy}ORDER BY county IS NULL", (format_month(month), county_code, *params))
        return batch_info(rows[0]) if rows else None

    def has_batches(self) -> bool:
        """Whether any batch (computed or imported) is recorded and not void."""
        return bool(self._rows(f"SELECT count(*) FROM batches WHERE {VALID}")[0][0])

    def latest_month(self, policy: str | None = None) -> int | None:
        """The latest month a computed batch not voided was recorded for (by `policy` only, when given)."""
        where, params = (" AND policy = ?", (policy,)) if policy is not None else ("", ())
        row = self._rows(f"SELECT max({month_index_sql('month')}) FROM batches WHERE {COMPUTED}{where}", params)[0]
        return None if row[0] is None else int(row[0])

    def batches(self) -> pd.DataFrame:
        """One row per batch (BATCH_COLUMNS), by month: month as a month index, amount in 元,
        `files` the number of input files recorded."""
        rows = self._rows(
            f"SELECT b.batch_id, {month_index_sql('b.month')}, b.county, b.created_at, b.policy, b.policy_version, "
            "b.tool_version, b.people, b.workshops, b.amount_cents / 100.0, b.once_per_person = 1, b.status, "
            "b.note, (SELECT count(*) FROM batch_files f WHERE f.batch_id = b.batch_id), b.kind, b.void_at, "
            "b.void_by, b.void_reason FROM batches b ORDER BY b.month, b.batch_id")
        return _frame(rows, BATCH_COLUMNS, {
            "batch_id": _INT, "month": _INT, "county_code": _TEXT, "created_at": _TEXT, "policy": _TEXT,
            "policy_version": _TEXT, "tool_version": _TEXT, "people": _INT, "workshops": _INT,
            "amount": "float64", "once_per_person": "bool", "status": _TEXT, "note": _TEXT, "files": _INT,
            "kind": _TEXT, "void_at": _TEXT, "void_by": _TEXT, "void_reason": _TEXT})

    def county_names(self) -> dict[int, str]:
        """Batch id → the county name its payouts recorded, for batches restricted to one county."""
        rows = self._rows("SELECT b.batch_id, min(p.county) FROM batches b JOIN payouts p ON p.batch_id = b.batch_id "
                          "WHERE b.county IS NOT NULL GROUP BY b.batch_id")
        return {int(b): str(n) for b, n in rows if n is not None}

    def _payouts(self, where: str, params: tuple[Any, ...]) -> pd.DataFrame:
        rows = self._rows(
            f"SELECT batch_id, id_number, name, workshop_id, workshop_name, county_code, county, "
            f"{month_index_sql('qualified_month')}, {month_index_sql('payable_month')}, amount_cents / 100.0, period, "
            f"void = 1, reference FROM payouts {where} ORDER BY batch_id, county_code, workshop_id, id_number, period",
            params)
        return _frame(rows, PAYOUT_COLUMNS, {
            "batch_id": _INT, "id_number": _TEXT, "name": _TEXT, "workshop_id": _TEXT, "workshop_name": _TEXT,
            "county_code": _TEXT, "county": _TEXT, "qualified_month": _INT, "payable_month": _INT,
            "amount": "float64", "period": _TEXT, "void": "bool", "reference": _TEXT})

    def _require_batch(self, batch_id: int) -> None:
        # SQLite integers are 64-bit: a larger number cannot name a batch (and must not crash the query)
        if not -(1 << 63) <= batch_id < (1 << 63) or self.batch(batch_id) is None:
            raise LedgerError(f"账本中没有编号为 {batch_id} 的批次。可用 fupin ledger 查看全部批次。",
                              code="ledger.no_batch")

    def batch_payouts(self, batch_id: int) -> pd.DataFrame:
        """The payout rows of one batch (PAYOUT_COLUMNS; months as indexes, amount in 元)."""
        self._require_batch(batch_id)
        return self._payouts("WHERE batch_id = ?", (int(batch_id),))

    def batch_files(self, batch_id: int) -> pd.DataFrame:
        """The input files a batch was computed from: path, sha256, size (FILE_COLUMNS)."""
        self._require_batch(batch_id)
        rows = self._rows("SELECT batch_id, path, sha256, size FROM batch_files WHERE batch_id = ? ORDER BY path",
                          (int(batch_id),))
        return _frame(rows, FILE_COLUMNS, {"batch_id": _INT, "path": _TEXT, "sha256": _TEXT, "size": _INT})

    def batch_roster(self, batch_id: int) -> pd.DataFrame:
        """The roster rows a batch recorded (ROSTER_FRAME_COLUMNS; months as indexes, start as a date,
        money in 元), in roster order. Batches without `roster_kept` have None in the detail columns."""
        self._require_batch(batch_id)
        rows = self._rows(
            "SELECT county_code, county, workshop_id, workshop_name, operator, operator_type, bank, bank_account, "
            f"name, id_number, contract_type, start, {month_index_sql('qualified_month')}, "
            f"{month_index_sql('payable_month')}, months, wages_cents / 100.0, amount_cents / 100.0, check_note, period "
            "FROM payouts WHERE batch_id = ? ORDER BY county_code, workshop_id, payable_month, id_number",
            (int(batch_id),))
        df = _frame(rows, ROSTER_FRAME_COLUMNS, {c: _TEXT for c in [*ROSTER_FRAME_COLUMNS[:11], "check_note", "period"]})
        df["start"] = pd.to_datetime(df["start"], format="%Y-%m-%d")
        df = df.astype({"qualified_month": "Int64", "payable_month": "Int64", "months": "Int64",
                        "wages": "float64", "amount": "float64"})
        return df

    def missing_outputs(self) -> list[OutputRecord]:
        """Outputs requested for a batch that were never written (a failed or killed run), oldest first."""
        rows = self._rows(
            f"SELECT o.batch_id, {month_index_sql('b.month')}, b.county, o.kind, o.path FROM batch_outputs o "
            "JOIN batches b ON b.batch_id = o.batch_id WHERE o.written_at IS NULL AND b.status <> 'void' "
            "ORDER BY o.batch_id, o.kind")
        return [OutputRecord(batch_id=r[0], month=r[1], county_code=r[2], kind=r[3], path=r[4]) for r in rows]

    def mark_written(self, batch_id: int, kind: str, path: Path | str) -> bool:
        """Record that `kind` of batch `batch_id` now exists at `path`; True if it had been missing.

        Writes only when the output was missing, so rerunning a complete month leaves the file as it was.
        """
        if self.readonly:
            return False
        try:
            cur = self._conn.execute(
                "UPDATE batch_outputs SET written_at = ?, path = ? WHERE batch_id = ? AND kind = ? "
                "AND written_at IS NULL", (datetime.now().astimezone().isoformat(timespec="seconds"), str(path),
                                           int(batch_id), kind))
        except sqlite3.Error as exc:
            raise sqlite_failure(self.path, exc, "写入") from exc
        return cur.rowcount > 0

    def paid(self, before_month: int | None = None, exclusive_key: str | None = None) -> pd.DataFrame:
        """Pairs paid so far (PAID_COLUMNS), for rules.evaluate and the audit.

        With `before_month`, only batches of months < before_month: the roster for month M is
        computed with `paid(before_month=M)`, so committing M again reproduces the same roster.
        With `exclusive_key` (a policy's exclusive_group or name, SPEC §4.3), only that group's payouts.
        """
        # Voided batches pay nobody; payments imported from before fupin count for every month.
        conds, params = [f"b.{VALID}"], []
        if before_month is not None:
            conds.append("(b.kind = 'imported' OR b.month < ?)")
            params.append(format_month(before_month))
        if exclusive_key is not None:
            conds.append("p.exclusive_key = ?")
            params.append(exclusive_key)
        where = "WHERE " + " AND ".join(conds)
        rows = self._rows(
            f"SELECT p.id_number, p.workshop_id, p.county_code, {month_index_sql('p.qualified_month')}, "
            f"{month_index_sql('p.payable_month')}, p.amount_cents / 100.0, p.batch_id, {month_index_sql('b.month')}, "
            f"p.period, p.policy, b.kind = 'imported' FROM payouts p JOIN batches b ON b.batch_id = p.batch_id {where} "
            "ORDER BY b.month, p.batch_id, p.id_number, p.period", tuple(params))
        return _frame(rows, PAID_COLUMNS, {
            "id_number": _TEXT, "workshop_id": _TEXT, "county_code": _TEXT, "qualified_month": _INT,
            "payable_month": _INT, "amount": "float64", "batch_id": _INT, "batch_month": _INT, "period": _TEXT,
            "policy": _TEXT, "imported": "bool"})

    def export_rows(self) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """(batches, payouts, files) of the whole ledger for the xlsx export, months as 'YYYY-MM' text.

        Column names are those of BATCH_COLUMNS / PAYOUT_COLUMNS / FILE_COLUMNS; EXPORT_HEADERS
        gives their Chinese headers.
        """
        batches = _months_text(self.batches(), ["month"])
        # For people: status and kind in Chinese, times local (the database keeps the code and the offset).
        batches["status"] = batches["status"].map(STATUS_TEXT).fillna(batches["status"])
        batches["kind"] = batches["kind"].map(KIND_TEXT).fillna(batches["kind"])
        batches["created_at"] = batches["created_at"].map(lambda v: local_text(v, seconds=True))
        payouts = _months_text(self._payouts("", ()), ["qualified_month", "payable_month"])
        payouts["void"] = payouts["void"].map({True: "是", False: ""}).astype(_TEXT)
        rows = self._rows("SELECT batch_id, path, sha256, size FROM batch_files ORDER BY batch_id, path")
        files = _frame(rows, FILE_COLUMNS, {"batch_id": _INT, "path": _TEXT, "sha256": _TEXT, "size": _INT})
        return batches, payouts, files

    # --- writing -------------------------------------------------------------------------------

    def record_batch(self, month: int, rows: pd.DataFrame, *, policy: str, policy_version: str,
                     files: list[Any], tool_version: str = __version__, county_code: str | None = None,
                     once_per_person: bool = True, note: str | None = None,
                     outputs: list[tuple[str, str]] | None = None, exclusive_key: str | None = None) -> RecordResult:
        """Record month `month`'s roster (ROSTER_COLUMNS) as one batch, in one transaction.

        `county_code` is the county code when only that county's roster is committed (None: the whole
        region). Returns `created=False` and records nothing when the month is already recorded
        (for this county, or region-wide); raises FupinError when a later month is already
        recorded and LedgerError when a row would pay someone a second time — then nothing is
        recorded. Rules in detail: `fupin_cli.ledger.record`.
        """
        if self.readonly:
            raise LedgerError(f"账本“{self.path}”以只读方式打开,不能登记发放批次。", code="ledger.readonly")
        return record_batch(self._conn, self.path, month, rows, after_chunk=self._after_chunk, policy=policy,
                            policy_version=policy_version, files=files, tool_version=tool_version, county_code=county_code,
                            once_per_person=once_per_person, note=note, outputs=outputs or [],
                            exclusive_key=exclusive_key)

    def record_import(self, rows: pd.DataFrame, *, policy: str, policy_version: str, files: list[Any],
                      tool_version: str = __version__, once_per_person: bool = True,
                      note: str | None = None, exclusive_key: str | None = None) -> RecordResult:
        """Record payments made before fupin as one imported batch (see `fupin_cli.ledger.record.record_import`)."""
        if self.readonly:
            raise LedgerError(f"账本“{self.path}”以只读方式打开,不能导入。", code="ledger.readonly")
        return record_import(self._conn, self.path, rows, policy=policy, policy_version=policy_version, files=files,
                             tool_version=tool_version, once_per_person=once_per_person, note=note,
                             exclusive_key=exclusive_key)

    def void_batch(self, batch_id: int, *, reason: str, by: str) -> BatchInfo:
        """Void the latest valid batch (see `fupin_cli.ledger.record.void_batch`); returns it as now stored.
        Hold `lock()` around it, so no run computes against the batch meanwhile."""
        if self.readonly:
            raise LedgerError(f"账本“{self.path}”以只读方式打开,不能作废批次。", code="ledger.readonly")
        void_batch(self._conn, self.path, batch_id, reason=reason, by=by)
        info = self.batch(batch_id)
        assert info is not None
        return info


_COMMON_HEADERS = {"batch_id": "批次号", "amount": "金额(元)"}

# Chinese headers for the ledger export (fupin_cli.workbooks.ledger_export), per frame of export_rows().
EXPORT_HEADERS: dict[str, dict[str, str]] = {
    "batches": {**_COMMON_HEADERS, "month": "发放月份", "county_code": "县(市、区)代码(空=全市)",
                "created_at": "登记时间", "policy": "政策", "policy_version": "政策版本", "tool_version": "程序版本",
                "people": "人数", "workshops": "车间数", "once_per_person": "每人限享一次", "status": "状态",
                "note": "备注", "files": "输入文件数", "kind": "来源", "void_at": "作废时间", "void_by": "作废人",
                "void_reason": "作废原因"},
    "payouts": {**_COMMON_HEADERS, "id_number": "身份证号", "name": "姓名", "workshop_id": "车间编号",
                "workshop_name": "车间名称", "county_code": "县(市、区)代码", "county": "县(市、区)",
                "qualified_month": "达标月份", "payable_month": "可发放月份", "period": "年度", "void": "已作废",
                "reference": "凭证号/备注"},
    "files": {"batch_id": "批次号", "path": "输入文件", "sha256": "SHA-256", "size": "大小(字节)"},
}
