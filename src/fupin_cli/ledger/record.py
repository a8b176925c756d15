"""Recording one month's roster as a batch — all of it in one transaction, or nothing (SPEC §5).

Batches are keyed by (month, county): `payout --county X --commit` records county X's roster,
`payout --commit` / `batch` record the whole region's (county NULL). Rules:
- the month (for that county, or region-wide) is already recorded → nothing is recorded and the
  existing batch is returned (`created=False`); a region-wide batch covers every county, so a
  county commit after it is a no-op too;
- a later month is already recorded (any county) → refused: months are committed in order, since
  the roster for M is computed against the payouts of months before M;
- a row whose laborer an earlier month already paid → refused, nothing recorded (double-pay guard;
  the caller computes with `paid(before_month=M)`, so this only fires on a bug);
- a row whose laborer another batch of the same month paid (a region-wide batch after county
  batches) → left out and listed in `skipped`; the batch records only the rest.
Under a once-per-person policy (the default; 同一人同一类型的就业扶持政策不能重复享受) "already paid"
means the ID number has any payout; otherwise the same (ID number, workshop) pair.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from itertools import repeat
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fupin_cli.clock import stamp
from fupin_cli.errors import FupinError, LedgerError
from fupin_cli.ledger.models import RecordResult
from fupin_cli.ledger.opening import sqlite_failure
from fupin_cli.ledger.sql import BATCH_SELECT, COMPUTED, batch_info
from fupin_cli.months import format_month, format_month_cn, format_months, parse_month_key
from fupin_cli.privacy import mask_id

ROSTER_COLUMNS = ["id_number", "name", "workshop_id", "workshop_name", "county_code", "county",
                  "qualified_month", "payable_month", "amount"]
# The rest of a roster row (SPEC §6.1), kept so that a recorded batch is reprinted, not recomputed.
ROSTER_DETAIL_COLUMNS = ["operator", "operator_type", "bank", "bank_account", "contract_type", "start", "months",
                         "wages"]
_REQUIRED_VALUES = ["id_number", "workshop_id", "qualified_month", "payable_month", "amount"]
_STORED = ["id_number", "name", "workshop_id", "workshop_name", "county_code", "county", "qualified_month",
           "payable_month", "amount_cents", "operator", "operator_type", "bank", "bank_account", "contract_type",
           "start", "months", "wages_cents", "check_note", "period"]
CHUNK_ROWS = 20_000


def _texts(s: pd.Series) -> list[str | None]:
    t = s.astype("str")
    return t.astype(object).where(t.notna(), None).tolist()


def _months(s: pd.Series) -> list[str]:
    return format_months(pd.to_numeric(s).astype("int64"))


def _prepare(rows: pd.DataFrame, once_per_person: bool) -> pd.DataFrame:
    """Roster rows → the column values to store (texts, 'YYYY-MM' months, amounts in cents)."""
    missing = [c for c in ROSTER_COLUMNS if c not in rows.columns]
    if missing:
        raise ValueError(f"roster rows lack columns {missing}")
    empty = [c for c in _REQUIRED_VALUES if rows[c].isna().any()]
    if empty:
        raise ValueError(f"roster rows have empty values in {empty}")
    amount = pd.to_numeric(rows["amount"]).astype("float64")
    if (amount < 0).any():
        raise ValueError("roster rows have negative amounts")
    out = pd.DataFrame({c: _texts(rows[c]) for c in ["id_number", "name", "workshop_id", "workshop_name",
                                                      "county_code", "county"]}, dtype=object)
    out["qualified_month"] = _months(rows["qualified_month"])
    out["payable_month"] = _months(rows["payable_month"])
    out["amount_cents"] = np.rint(amount.to_numpy() * 100).astype("int64")
    _details(rows, out)
    # The calendar year of a yearly entitlement (SPEC §4.3); None under recurrence = "once".
    period = rows["period"] if "period" in rows else pd.Series(None, index=rows.index, dtype=object)
    out["period"] = [None if v is None or pd.isna(v) else str(v) for v in period]
    key = ["id_number", "period"] if once_per_person else ["id_number", "workshop_id", "period"]
    dup = out.duplicated(key, keep=False)
    if dup.any():
        shown = "、".join(mask_id(i) for i in pd.unique(out.loc[dup, "id_number"])[:5])
        raise LedgerError(f"本批次名单中同一人出现了多次({shown} 等 {int(dup.sum())} 行),为防止重复发放,"
                          "本批次未登记。", code="ledger.double_pay")
    return out


def has_details(rows: pd.DataFrame) -> bool:
    return all(c in rows.columns for c in ROSTER_DETAIL_COLUMNS)


def _details(rows: pd.DataFrame, out: pd.DataFrame) -> None:
    """The detail columns into `out` (None where the caller has none: then the batch keeps no roster)."""
    have = has_details(rows)
    for c in ["operator", "operator_type", "bank", "bank_account", "contract_type"]:
        out[c] = _texts(rows[c]) if have else None
    # Optional: a roster without a 备注 column stores none.
    out["check_note"] = _texts(rows["check_note"]) if "check_note" in rows.columns else None
    if not have:
        out["start"] = out["months"] = out["wages_cents"] = None
        return
    start = pd.to_datetime(rows["start"])
    out["start"] = start.dt.strftime("%Y-%m-%d").astype(object).where(start.notna(), None).tolist()
    out["months"] = [None if pd.isna(v) else int(v) for v in rows["months"].tolist()]
    wages = pd.to_numeric(rows["wages"]).astype("float64")
    out["wages_cents"] = [None if pd.isna(v) else int(round(v * 100)) for v in wages.tolist()]


def _conflicts(conn: sqlite3.Connection, data: pd.DataFrame, once_per_person: bool, policy: str,
               exclusive_key: str) -> pd.DataFrame:
    """Existing payouts that the new rows would repeat: new id_number, paid workshop, month, batch.
    Once per person: the same ID, period and exclusive group; otherwise the same pair, policy and period."""
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS fupin_new (id_number TEXT NOT NULL, workshop_id TEXT NOT NULL, "
                 "period TEXT)")
    conn.execute("DELETE FROM temp.fupin_new")
    conn.executemany("INSERT INTO temp.fupin_new VALUES (?, ?, ?)",
                     zip(data["id_number"].tolist(), data["workshop_id"].tolist(), data["period"].tolist(),
                         strict=True))
    same = (" AND p.exclusive_key = ?" if once_per_person else " AND p.workshop_id = n.workshop_id AND p.policy = ?")
    found = conn.execute(
        "SELECT n.id_number, p.workshop_id, b.month, b.batch_id, b.kind FROM temp.fupin_new n "
        f"JOIN payouts p ON p.id_number = n.id_number AND ifnull(p.period, '') = ifnull(n.period, ''){same} "
        "AND p.void = 0 JOIN batches b ON b.batch_id = p.batch_id", (exclusive_key if once_per_person else policy,)
    ).fetchall()
    conn.execute("DELETE FROM temp.fupin_new")
    return pd.DataFrame.from_records(found, columns=["id_number", "paid_workshop_id", "month", "batch_id", "kind"])


def _insert_payouts(conn: sqlite3.Connection, batch_id: int, data: pd.DataFrame, once: int, policy: str,
                    exclusive_key: str, after_chunk: Callable[[int], None] | None) -> None:
    values = [data[c].tolist() for c in _STORED]
    values[8] = [int(v) for v in values[8]]  # amount_cents: numpy ints are not SQLite-bindable
    sql = (f"INSERT INTO payouts (batch_id, {', '.join(_STORED)}, once_per_person, policy, exclusive_key) "
           f"VALUES ({', '.join('?' * (len(_STORED) + 4))})")
    n = len(data)
    for start in range(0, n, CHUNK_ROWS):
        stop = min(start + CHUNK_ROWS, n)
        conn.executemany(sql, zip(repeat(batch_id), *(col[start:stop] for col in values), repeat(once),
                                  repeat(policy), repeat(exclusive_key)))
        if after_chunk is not None:
            after_chunk(stop)


def _files(files: Iterable[Any]) -> list[tuple[str, str, int]]:
    # Absolute: a relative path ("../data/…") means nothing once the command ran elsewhere.
    by_path = {str(Path(f.path).absolute()): (str(Path(f.path).absolute()), str(f.sha256), int(f.size)) for f in files}
    return sorted(by_path.values())


def record_batch(conn: sqlite3.Connection, path: Path, month: int, rows: pd.DataFrame, *, policy: str,
                 policy_version: str, files: Iterable[Any], tool_version: str, county_code: str | None,
                 once_per_person: bool, note: str | None, outputs: Iterable[tuple[str, str]] = (),
                 after_chunk: Callable[[int], None] | None = None, exclusive_key: str | None = None) -> RecordResult:
    """See the module docstring. `files` are fupin_cli.dataset.InputFile (path, sha256, size);
    `outputs` the (kind, path) the run will write for this batch, recorded as not yet written;
    `exclusive_key` the policy's exclusive_group (SPEC §4.3), default its name."""
    data = _prepare(rows, once_per_person)
    file_rows = _files(files)
    with _transaction(conn, path, refused=_REFUSED_RECORD):
        result = _record(conn, path, month, data, policy=policy, policy_version=policy_version,
                         file_rows=file_rows, tool_version=tool_version, county_code=county_code,
                         once_per_person=once_per_person, note=note, after_chunk=after_chunk,
                         roster_rows=has_details(rows), outputs=list(outputs),
                         exclusive_key=exclusive_key or policy)
    return result


# What the database's own double-pay guard (unique indexes) says when it refuses a write.
_REFUSED_RECORD = "登记被账本的防重复发放约束拒绝(名单中有人在账本里已有同类发放记录),本批次未登记,账本未改动。"
_REFUSED_IMPORT = "导入被账本的防重复发放约束拒绝(名单中有人在账本里已有同类发放记录),未导入任何记录,账本未改动。"


@contextmanager
def _transaction(conn: sqlite3.Connection, path: Path, *, refused: str | None) -> Iterator[None]:
    """One write transaction: committed when the block ends, rolled back on any exception, so the
    ledger is as before or complete. `refused`: the message when the double-pay guard refuses."""
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.Error as exc:
        raise sqlite_failure(path, exc, "写入") from exc
    try:
        yield
        conn.execute("COMMIT")
    except sqlite3.IntegrityError as exc:
        _rollback(conn)
        if refused is None:
            raise sqlite_failure(path, exc, "写入") from exc
        raise LedgerError(refused, code="ledger.double_pay", detail=str(exc)) from exc
    except sqlite3.Error as exc:
        _rollback(conn)
        raise sqlite_failure(path, exc, "写入") from exc
    except BaseException:
        _rollback(conn)
        raise


def _rollback(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        conn.execute("ROLLBACK")


def _record(conn: sqlite3.Connection, path: Path, month: int, data: pd.DataFrame, *, policy: str,
            policy_version: str, file_rows: list[tuple[str, str, int]], tool_version: str, county_code: str | None,
            once_per_person: bool, note: str | None, after_chunk: Callable[[int], None] | None,
            roster_rows: bool, outputs: list[tuple[str, str]], exclusive_key: str) -> RecordResult:
    month_text = format_month(month)
    # Batches are per (month, scope, policy): another policy's batch of the month is another batch.
    existing = conn.execute(f"{BATCH_SELECT} WHERE {COMPUTED} AND month = ? AND (county IS NULL OR county = ?) "
                            "AND policy = ? ORDER BY county IS NULL LIMIT 1", (month_text, county_code, policy)).fetchone()
    if existing is not None:
        return RecordResult(batch=batch_info(existing), created=False, recorded=0)
    later = conn.execute(f"SELECT max(month) FROM batches WHERE {COMPUTED} AND month > ? AND policy = ?",
                         (month_text, policy)).fetchone()[0]
    if later is not None:
        raise FupinError(f"账本“{path}”中已登记了{format_month_cn(parse_month_key(later))}的发放批次,"
                         f"不能再登记更早的{format_month_cn(month)}。各月须按时间先后登记;未登记月份中应发的人员"
                         "会自动计入下一次登记的名单。", code="ledger.month_order")
    conflicts = _conflicts(conn, data, once_per_person, policy, exclusive_key)
    earlier = conflicts.loc[(conflicts["month"] < month_text) | (conflicts["kind"] == "imported")]
    if len(earlier):
        shown = "、".join(f"{mask_id(r.id_number)}(已于{r.month}批次{r.batch_id}发放)"
                         for r in earlier.drop_duplicates("id_number").head(5).itertuples())
        raise LedgerError(f"名单中有 {earlier['id_number'].nunique()} 人已在以前的批次中发放过奖补:{shown}。"
                          "为防止重复发放,本批次未登记,账本未改动。", code="ledger.double_pay")
    skipped = sorted(set(conflicts["id_number"]))
    if skipped:
        data = data.loc[~data["id_number"].isin(skipped)]
    created_at = stamp()  # local (Asia/Shanghai unless configured), with its offset
    cur = conn.execute(
        "INSERT INTO batches (month, county, created_at, policy, policy_version, tool_version, people, workshops, "
        "amount_cents, once_per_person, status, note, roster_rows) VALUES (?,?,?,?,?,?,?,?,?,?,'committed',?,?)",
        (month_text, county_code, created_at, policy, policy_version, tool_version, len(data),
         int(data["workshop_id"].nunique()), int(data["amount_cents"].sum()), int(once_per_person), note,
         int(roster_rows)))
    batch_id = int(cur.lastrowid or 0)
    conn.executemany("INSERT INTO batch_outputs (batch_id, kind, path) VALUES (?,?,?)",
                     ((batch_id, kind, out) for kind, out in outputs))
    conn.executemany("INSERT INTO batch_files (batch_id, path, sha256, size) VALUES (?,?,?,?)",
                     ((batch_id, *f) for f in file_rows))
    _insert_payouts(conn, batch_id, data, int(once_per_person), policy, exclusive_key, after_chunk)
    info = batch_info(conn.execute(f"{BATCH_SELECT} WHERE batch_id = ?", (batch_id,)).fetchone())
    return RecordResult(batch=info, created=True, recorded=len(data), skipped=skipped)


def void_batch(conn: sqlite3.Connection, path: Path, batch_id: int, *, reason: str, by: str) -> None:
    """Mark the latest valid batch void (SPEC §5.1): it stays with who/when/why, its payouts stop
    counting, so its people become payable again. Nothing is deleted. One transaction."""
    reason = (reason or "").strip()
    if not reason:
        raise FupinError("作废批次须用 --reason 写明原因,例如 --reason \"月份填错,应为2019-05\"。", code="usage.void_reason")
    with _transaction(conn, path, refused=None):
        row = conn.execute(f"{BATCH_SELECT} WHERE batch_id = ?", (int(batch_id),)).fetchone()
        if row is None:
            raise LedgerError(f"账本中没有编号为 {batch_id} 的批次。可用 fupin ledger list 查看全部批次。",
                              code="ledger.no_batch")
        info = batch_info(row)
        if info.void:
            raise FupinError(f"第{batch_id}批已于{info.void_at}作废,无需再次作废。", code="ledger.already_void")
        latest = conn.execute("SELECT max(batch_id) FROM batches WHERE status <> 'void'").fetchone()[0]
        if latest != info.batch_id:
            raise FupinError(f"只能作废最近登记的一批(第{latest}批)。第{batch_id}批之后还有登记,"
                             "作废它会让后面批次的名单失去依据;请先作废更晚的批次。", code="ledger.void_not_latest")
        when = stamp()
        conn.execute("UPDATE batches SET status = 'void', void_at = ?, void_by = ?, void_reason = ? WHERE batch_id = ?",
                     (when, by, reason, info.batch_id))
        conn.execute("UPDATE payouts SET void = 1 WHERE batch_id = ?", (info.batch_id,))


def record_import(conn: sqlite3.Connection, path: Path, rows: pd.DataFrame, *, policy: str, policy_version: str,
                  files: Iterable[Any], tool_version: str, once_per_person: bool, note: str | None,
                  exclusive_key: str | None = None) -> RecordResult:
    """Record payments made before fupin (`fupin ledger import`) as one batch of kind 'imported',
    all or nothing. `rows` are ROSTER_COLUMNS plus `reference`; qualified and payable month are the
    month paid. A row whose laborer the ledger already holds is refused (nothing recorded): the
    same payment imported twice, or a person fupin already paid."""
    data = _prepare(rows, once_per_person)
    references = rows["reference"].astype(object).where(rows["reference"].notna(), None).tolist()
    file_rows = _files(files)
    with _transaction(conn, path, refused=_REFUSED_IMPORT):
        exclusive_key = exclusive_key or policy
        conflicts = _conflicts(conn, data, once_per_person, policy, exclusive_key)
        if len(conflicts):
            shown = "、".join(f"{mask_id(r.id_number)}(第{r.batch_id}批,{r.month})"
                             for r in conflicts.drop_duplicates("id_number").head(5).itertuples())
            raise LedgerError(f"名单中有 {conflicts['id_number'].nunique()} 人在账本中已有发放记录:{shown}。"
                              "可能是同一份名单导入了两次;本次未导入任何记录,账本未改动。", code="ledger.double_pay")
        created_at = stamp()
        cur = conn.execute(
            "INSERT INTO batches (month, county, created_at, policy, policy_version, tool_version, people, workshops, "
            "amount_cents, once_per_person, status, note, kind) VALUES (?,NULL,?,?,?,?,?,?,?,?,'committed',?,'imported')",
            (max(data["payable_month"]), created_at, policy, policy_version, tool_version, len(data),
             int(data["workshop_id"].nunique()), int(data["amount_cents"].sum()), int(once_per_person), note))
        batch_id = int(cur.lastrowid or 0)
        conn.executemany("INSERT INTO batch_files (batch_id, path, sha256, size) VALUES (?,?,?,?)",
                         ((batch_id, *f) for f in file_rows))
        _insert_payouts(conn, batch_id, data, int(once_per_person), policy, exclusive_key, None)
        conn.executemany("UPDATE payouts SET reference = ? WHERE batch_id = ? AND id_number = ? AND workshop_id = ?",
                         zip(references, repeat(batch_id), data["id_number"].tolist(), data["workshop_id"].tolist(),
                             strict=False))
        info = batch_info(conn.execute(f"{BATCH_SELECT} WHERE batch_id = ?", (batch_id,)).fetchone())
    return RecordResult(batch=info, created=True, recorded=len(data))
