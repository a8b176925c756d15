"""Opening the ledger file safely: refuse (and never touch) a file that is not a sound fupin ledger.

Order of checks for an existing file, none of which writes to it:
1. the first 16 bytes must be the SQLite magic string (garbage or a foreign file is refused);
2. a read-only connection (URI mode=ro) runs `PRAGMA quick_check` and reads the application id
   and schema version: corruption, another program's database or a newer schema is refused.
Only then is a read-write connection opened and pending migrations applied.

The one exception to "never written before the checks" is a hot rollback journal left by a run
that was killed mid-transaction: SQLite must roll it back before anything can be read, and doing
so restores the file to exactly its state before that transaction (SPEC §5: before or complete).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from fupin_cli.errors import LedgerError, LockBusy, os_reason
from fupin_cli.ledger.schema import APPLICATION_ID, LATEST_VERSION, migrate, user_version

SQLITE_MAGIC = b"SQLite format 3\x00"

_RESTORE = "文件未被修改。请从备份恢复该账本文件,或用 --ledger 指定其他账本。"


def _uri(path: Path, mode: str) -> str:
    return f"{path.resolve().as_uri()}?mode={mode}"


def _connect(path: Path, mode: str, busy_timeout: float) -> sqlite3.Connection:
    # isolation_level=None: we issue BEGIN IMMEDIATE/COMMIT ourselves, nothing implicit.
    return sqlite3.connect(_uri(path, mode), uri=True, timeout=busy_timeout, isolation_level=None)


def _corrupt(path: Path, detail: str, reason: str = "") -> LedgerError:
    why = f"({reason})" if reason else ""
    return LedgerError(f"账本文件“{path}”不是有效的 fupin 账本或已损坏{why}。{_RESTORE}",
                       code="ledger.corrupt", detail=detail)


def busy_error(path: Path) -> LockBusy:
    return LockBusy(f"账本“{path}”正被另一个 fupin 任务使用,请稍后再试。", code="ledger.locked")


def sqlite_failure(path: Path, exc: sqlite3.Error, doing: str) -> LedgerError | LockBusy:
    """Turn an SQLite error into the user's message: busy → exit 75, read-only/disk → exit 2."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    if name.startswith("SQLITE_BUSY") or name.startswith("SQLITE_LOCKED"):
        return busy_error(path)
    if name.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT")):
        return _corrupt(path, str(exc))
    if name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_AUTH")):
        return LedgerError(f"无法{doing}账本“{path}”:没有写权限或文件夹不可写。"
                           "请检查文件及所在文件夹的权限,或用 --ledger 指定可写的位置。", code="ledger.unwritable",
                           detail=str(exc))
    if name.startswith("SQLITE_FULL"):
        return LedgerError(f"无法{doing}账本“{path}”:磁盘已满。请清理磁盘空间后重试,账本未被改动。",
                           code="ledger.disk_full", detail=str(exc))
    return LedgerError(f"无法{doing}账本“{path}”:数据库读写出错(磁盘、网络盘或文件本身的问题)。"
                       f"请确认磁盘正常后重试,仍不行请加 --debug 运行并把输出发给技术支持。",
                       code="ledger.io", detail=f"{getattr(exc, 'sqlite_errorname', '')}: {exc}")


def missing_ledger(path: Path) -> LedgerError:
    """A commit against a path with no ledger: never start an empty one (it would pay everyone again)."""
    return LedgerError(f"账本文件“{path}”不存在,本次未登记,也未创建任何文件。如果这是第一次使用 fupin,"
                       f"请先运行 fupin ledger init \"{path}\" 创建账本(或在首次登记的命令中加 --new-ledger);"
                       "如果账本早已存在,请检查 --ledger 或配置文件中的账本路径是否写错。", code="ledger.missing")


def _check_header(path: Path) -> None:
    try:
        with open(path, "rb") as fh:
            head = fh.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise LedgerError(f"无法读取账本“{path}”:{os_reason(exc)}。请检查文件权限。", code="ledger.io") from exc
    if head != SQLITE_MAGIC:
        raise _corrupt(path, "bad SQLite header", "文件头不是 SQLite 数据库")


def _recover_hot_journal(path: Path, busy_timeout: float) -> None:
    """Let SQLite roll back the journal of a killed run (restores the pre-transaction state)."""
    try:
        conn = _connect(path, "rw", busy_timeout)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        err = sqlite_failure(path, exc, "恢复")
        if isinstance(err, LedgerError) and err.code == "ledger.unwritable":
            err = LedgerError(f"账本“{path}”上次写入时被中断,需要在可写的位置打开一次才能自动恢复。"
                              "请检查文件夹权限后重试。", code="ledger.unwritable", detail=str(exc))
        raise err from exc


def _inspect(path: Path, busy_timeout: float) -> int:
    """Read-only health check of an existing, non-empty file; returns its schema version."""
    for attempt in range(2):
        try:
            conn = _connect(path, "ro", busy_timeout)
        except sqlite3.Error as exc:
            raise sqlite_failure(path, exc, "打开") from exc
        try:
            try:
                result = [r[0] for r in conn.execute("PRAGMA quick_check(5)").fetchall()]
                app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
                version = user_version(conn)
                tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            except sqlite3.Error as exc:
                if getattr(exc, "sqlite_errorname", "") == "SQLITE_READONLY_ROLLBACK" and attempt == 0:
                    conn.close()
                    _recover_hot_journal(path, busy_timeout)
                    continue
                raise sqlite_failure(path, exc, "读取") from exc
        finally:
            conn.close()
        if result != ["ok"]:
            raise _corrupt(path, ";".join(map(str, result))[:200], "完整性检查未通过")
        if app_id != APPLICATION_ID and not (app_id == 0 and version == 0 and tables == 0):
            raise LedgerError(f"文件“{path}”是一个 SQLite 数据库,但不是 fupin 账本。文件未被修改。"
                              "请用 --ledger 指定正确的账本文件。", code="ledger.foreign")
        if version > LATEST_VERSION:
            raise LedgerError(f"账本“{path}”由更新版本的 fupin 创建(账本结构版本 {version},"
                              f"本程序只支持到 {LATEST_VERSION})。文件未被修改。请升级 fupin 后再使用该账本。",
                              code="ledger.newer")
        return version
    raise AssertionError("unreachable")


def _prepare(conn: sqlite3.Connection, *, writable: bool) -> sqlite3.Connection:
    conn.execute("PRAGMA foreign_keys = ON")
    if writable:
        # Rollback journal, not WAL: one writer at a time (we hold a lock anyway), no -wal/-shm side
        # files that must travel with the ledger when a clerk copies or backs it up, and a commit is
        # atomic on its own. synchronous=FULL makes a committed batch survive a power cut.
        if str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "delete":
            conn.execute("PRAGMA journal_mode = DELETE")
        conn.execute("PRAGMA synchronous = FULL")
        # Room for a province-size batch's index pages, so a big commit does not spill mid-transaction.
        conn.execute("PRAGMA cache_size = -65536")
    return conn


def _memory_copy(source: sqlite3.Connection | None) -> sqlite3.Connection:
    mem = sqlite3.connect(":memory:", isolation_level=None)
    if source is not None:
        source.backup(mem)
    migrate(mem)
    return _prepare(mem, writable=False)


def open_connection(path: Path, *, create: bool, readonly: bool, busy_timeout: float) -> sqlite3.Connection:
    """A connection to a checked, fully migrated ledger (see module docstring)."""
    path = Path(path)
    if path.is_dir():
        raise LedgerError(f"账本路径“{path}”是一个文件夹,请指定一个文件(例如 {path / 'ledger.sqlite3'})。",
                          code="ledger.path")
    exists = path.exists()
    if not exists and not create:
        raise missing_ledger(path)
    version = 0
    if exists and path.stat().st_size > 0:
        _check_header(path)
        version = _inspect(path, busy_timeout)
    if readonly:
        if not exists:
            return _memory_copy(None)  # an empty ledger to read from; nothing is created on disk
        try:
            conn = _connect(path, "ro", busy_timeout)
            if version < LATEST_VERSION:
                # Read an older ledger through an up-to-date copy in memory; the file stays as it is.
                mem = _memory_copy(conn)
                conn.close()
                return mem
            return _prepare(conn, writable=False)
        except sqlite3.Error as exc:
            raise sqlite_failure(path, exc, "读取") from exc
    if not exists:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LedgerError(f"无法创建账本所在的文件夹“{path.parent}”:{os_reason(exc)}。"
                              "请检查路径和权限,或用 --ledger 指定可写的位置。", code="ledger.unwritable") from exc
    try:
        conn = _connect(path, "rwc" if not exists else "rw", busy_timeout)
    except sqlite3.Error as exc:
        raise sqlite_failure(path, exc, "创建" if not exists else "打开") from exc
    try:
        _prepare(conn, writable=True)
        migrate(conn)
    except sqlite3.Error as exc:
        conn.close()
        raise sqlite_failure(path, exc, "升级" if exists else "创建") from exc
    except BaseException:
        conn.close()
        raise
    return conn
