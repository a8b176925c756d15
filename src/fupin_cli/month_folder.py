"""The month folder of `fupin batch`: OUTPUT/YYYY-MM/ appears complete or not at all (SPEC §5).

Every file is written into a sibling staging folder `OUTPUT/.YYYY-MM.tmp-<pid>`, which is then
renamed into place. When the month folder already exists (a rerun), the two are swapped in one
atomic `renameat2(RENAME_EXCHANGE)` on Linux; elsewhere the old folder is renamed aside to
`OUTPUT/.YYYY-MM.old-<pid>`, the new one renamed in, the old one deleted — and if a run dies
between those two renames, the next run renames the old folder back before doing anything else
(`recover`). So a run killed at any instant leaves the month folder as it was or complete.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil

from fupin_cli import jsontext
from fupin_cli.errors import FupinError, os_reason
from fupin_cli.fsutil import atomic_path
from fupin_cli.months import format_month

Pause = Callable[[str], None]



def month_folder(output: Path, month: int) -> Path:
    return Path(output) / format_month(month)


def check_writable(folder: Path) -> None:
    """Create `folder` if needed and prove a file can be written there (before the ledger is touched).

    A real write, not os.access: access() says yes to root on a read-only mount or a folder under a file.
    """
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".fupin-probe-", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise FupinError(f"输出文件夹“{folder}”无法写入({os_reason(exc)})。请检查配置文件中的 output "
                         "路径和文件夹权限。本次未做任何登记。", code="output.unwritable") from exc


def _dead(pid_text: str) -> bool:
    pid = int(pid_text)
    return pid != os.getpid() and not psutil.pid_exists(pid)


def recover(output: Path, month: int) -> list[str]:
    """Undo what a killed run of `month` left behind; returns Chinese notes of what was done.

    Call while holding the ledger lock, so no live run of the same ledger is mid-write.
    """
    name = format_month(month)
    final = month_folder(output, month)
    notes: list[str] = []
    pattern = re.compile(rf"^\.{re.escape(name)}\.(tmp|old)-(\d+)$")
    leftovers = sorted((p for p in Path(output).iterdir() if pattern.match(p.name)), key=lambda p: p.name)
    for p in leftovers:
        kind, pid = pattern.match(p.name).groups()  # type: ignore[union-attr]
        if not _dead(pid):
            continue
        if kind == "old" and not final.exists():
            os.rename(p, final)  # the run died between "old aside" and "new in": put the old one back
            notes.append(f"上次运行在替换输出文件夹时中断,已恢复原来的“{name}”文件夹。")
        else:
            shutil.rmtree(p, ignore_errors=True)
            notes.append(f"已删除上次中断的运行留下的临时文件夹“{p.name}”。")
    return notes


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    at_fdcwd, rename_exchange = -100, 2
    if fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False  # e.g. a file system without exchange support
    raise OSError(err, os.strerror(err), str(a))


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def staging(output: Path, month: int) -> Iterator[Path]:
    """The staging folder `OUTPUT/.YYYY-MM.tmp-<pid>`; removed if the body fails."""
    tmp = Path(output) / f".{format_month(month)}.tmp-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def publish(tmp: Path, final: Path, pause: Pause) -> None:
    """Move the complete staging folder to `final`, replacing an earlier run's folder atomically."""
    _fsync_dir(tmp)
    pause("swap")
    if not final.exists():
        os.rename(tmp, final)
    elif _exchange(tmp, final):
        shutil.rmtree(tmp)  # now holds the previous run's folder
    else:
        aside = final.parent / f".{final.name}.old-{os.getpid()}"
        os.rename(final, aside)
        pause("swap_aside")
        try:
            os.rename(tmp, final)
        except OSError:
            os.rename(aside, final)  # e.g. Windows refusing while a file is open: keep the old folder
            raise
        shutil.rmtree(aside)
    _fsync_dir(final.parent)


def write_summary(path: Path, doc: dict) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(jsontext.dumps(doc, indent=1) + "\n", encoding="utf-8")
