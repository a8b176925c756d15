"""Domain exceptions: errors a user causes carry a Chinese message and an exit code.

Bugs stay ordinary exceptions (tracebacks); only these are turned into one-line messages by the CLI.
"""

from __future__ import annotations

import errno

EXIT_OK = 0
EXIT_DATA = 1
EXIT_USAGE = 2
EXIT_RECORDED = 3  # the batch is recorded in the ledger, but its requested outputs were not written
EXIT_LOCKED = 75  # EX_TEMPFAIL: cron may simply retry later

# Seconds a run waits for the ledger lock before LockBusy (`--lock-timeout`, config `lock_timeout`).
LOCK_TIMEOUT = 30.0


class FupinError(Exception):
    """A problem the user can fix; `message` is Chinese and names file/sheet/column where known."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, *, code: str = "usage", detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.detail = detail  # the library's own (English) words: for logs and --debug, never the message


class InputError(FupinError):
    """Unreadable, corrupt, empty or structurally wrong input (exit 2)."""


class ConfigError(FupinError):
    """Bad config, policy or region file (exit 2)."""


class LedgerError(FupinError):
    """Corrupt or unusable ledger (exit 2)."""


class LockBusy(FupinError):
    """Another run holds the ledger lock (exit 75)."""

    exit_code = EXIT_LOCKED


class OutputsMissing(FupinError):
    """A batch was recorded but its roster / month folder could not be written (exit 3)."""

    exit_code = EXIT_RECORDED


def reader_failure(exc: BaseException) -> bool:
    """True for what a file reader may raise on a bad file: any Exception, and the Rust panics of
    calamine/fastexcel (`pyo3_runtime.PanicException` derives from BaseException, not Exception)."""
    return isinstance(exc, Exception) or type(exc).__name__ == "PanicException"


_OS_REASONS = {
    errno.ENOENT: "文件或文件夹不存在",
    errno.EACCES: "没有权限",
    errno.EPERM: "没有权限",
    errno.EEXIST: "已有同名的文件或文件夹",
    errno.EISDIR: "这是一个文件夹,不是文件",
    errno.ENOTDIR: "路径中的某一级不是文件夹",
    errno.ENOSPC: "磁盘空间已满",
    errno.EROFS: "磁盘只读",
    errno.ENAMETOOLONG: "文件名太长",
    errno.EBUSY: "文件正被占用",
    errno.ETXTBSY: "文件正被占用",
    errno.EIO: "磁盘读写错误",
    errno.EDQUOT: "磁盘配额已用完",
}


def os_reason(exc: BaseException) -> str:
    """An operating-system error said in Chinese (its English strerror never reaches a clerk)."""
    code = getattr(exc, "errno", None)
    if code in _OS_REASONS:
        return _OS_REASONS[code]
    return f"系统错误(错误号 {code})" if code is not None else "系统错误"
