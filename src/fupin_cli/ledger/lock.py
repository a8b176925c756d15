"""The inter-process lock around a ledger: one `payout --commit` / `batch` run at a time (SPEC §5)."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock, Timeout

from fupin_cli.errors import LOCK_TIMEOUT, FupinError, LedgerError, LockBusy, os_reason

# A day: a cron run waiting longer than that for another run is stuck, not patient.
MAX_LOCK_TIMEOUT = 86_400.0


def check_lock_timeout(value: float) -> float:
    """The seconds to wait for the lock: finite, ≥ 0 and at most a day (nan/inf/-1 are typos)."""
    try:
        ok = math.isfinite(value) and 0 <= value <= MAX_LOCK_TIMEOUT
    except TypeError:
        ok = False
    if not ok:
        raise FupinError(f"等待账本锁的秒数(--lock-timeout / lock_timeout)须是 0 到 {MAX_LOCK_TIMEOUT:g} 之间的数,"
                         f"收到的是“{value}”。例如 --lock-timeout 30。", code="usage.lock_timeout")
    return float(value)


def lock_path(ledger_path: Path) -> Path:
    return Path(f"{ledger_path}.lock")


@contextlib.contextmanager
def ledger_lock(ledger_path: Path, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """Hold `<ledger>.lock` for the body; wait at most `timeout` seconds, then raise LockBusy (exit 75).

    An OS file lock (flock/LockFileEx) is released by the kernel when the holder dies, so a killed
    run never leaves a stale lock behind; the empty .lock file itself may stay and is harmless.
    """
    timeout = check_lock_timeout(timeout)
    path = lock_path(Path(ledger_path))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LedgerError(f"无法创建账本所在的文件夹“{path.parent}”:{os_reason(exc)}。",
                          code="ledger.unwritable") from exc
    lock = FileLock(path, timeout=timeout)
    try:
        lock.acquire()
    except Timeout as exc:
        raise LockBusy(f"另一个 fupin 任务正在使用账本“{ledger_path}”(已等待 {timeout:g} 秒),请稍后再试。",
                       code="ledger.locked") from exc
    except OSError as exc:
        raise LedgerError(f"无法创建账本锁文件“{path}”:{os_reason(exc)}。请检查文件夹权限。",
                          code="ledger.unwritable") from exc
    try:
        yield
    finally:
        lock.release()
