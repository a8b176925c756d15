"""Crash-safe file writing: write to a temporary name in the same folder, fsync, then rename."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from fupin_cli.errors import FupinError, os_reason


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path next to `target`; on success it replaces `target` in one rename.

    A run killed at any instant leaves either the old file or the complete new one.
    """
    target = Path(target)
    folder = target.parent
    if target.is_dir():
        raise FupinError(f"“{target}”是一个文件夹,不能作为输出文件。请在文件夹后加上文件名,例如“{target / '结果.xlsx'}”。",
                         code="output.is_directory")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=target.suffix + ".tmp", dir=folder)
        os.close(fd)
    except OSError as exc:
        raise FupinError(f"无法在文件夹“{folder}”中写入文件:{os_reason(exc)}。请检查文件夹是否存在且可写。",
                         code="output.unwritable") from exc
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as fh:
            os.fsync(fh.fileno())
        # mkstemp makes 0600 files; outputs should get the permissions the user's umask allows.
        os.chmod(tmp_path, 0o666 & ~_umask())
        os.replace(tmp_path, target)
    except PermissionError as exc:
        raise FupinError(f"无法写入“{target}”:文件可能正被 Excel/WPS 打开或没有写权限,请关闭后重试。",
                         code="output.unwritable") from exc
    except OSError as exc:
        raise FupinError(f"无法写入“{target}”:{os_reason(exc)}。", code="output.unwritable") from exc
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_HASHES: dict[tuple[str, int, int, int], str] = {}


def sha256_file(path: Path) -> str:
    """sha256 of the file's bytes; remembered for this process while its size, mtime and inode stay
    (the cache key and the ledger hash one input once)."""
    st = os.stat(path)
    key = (str(Path(path).resolve()), st.st_mtime_ns, st.st_size, st.st_ino)
    if key not in _HASHES:
        _HASHES[key] = _sha256(path)
    return _HASHES[key]


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def display_names(files: list[str]) -> dict[str, str]:
    """The name to show for each file: its bare name, or enough of its path to tell apart files
    of the same name in different folders (never cut where they differ)."""
    paths = [Path(f) for f in dict.fromkeys(files)]
    names = [p.name for p in paths]
    out = {}
    for p in paths:
        same = [q for q in paths if q.name == p.name]
        if names.count(p.name) == 1:
            out[str(p)] = p.name
            continue
        common = Path(os.path.commonpath([str(q) for q in same])) if all(q.is_absolute() == p.is_absolute()
                                                                         for q in same) else Path()
        out[str(p)] = str(p.relative_to(common)) if common != Path() and p != common else str(p)
    return out
