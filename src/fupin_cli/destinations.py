"""Where outputs may go (SPEC §5.1): never onto an input file, the ledger, or another output.

Every command that writes checks its destinations here before it writes or records anything; a
clash is exit 2 with a Chinese sentence. Paths are compared as the same file (hard links,
symlinks, `./a/../a.xlsx`), not as typed text.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from fupin_cli.errors import ConfigError, FupinError

# A month folder of `batch` (OUTPUT/2019-05) or its staging/aside twin (OUTPUT/.2019-05.tmp-123).
_MONTH_FOLDER = re.compile(r"^\.?\d{4}-\d{2}(\.(tmp|old)-\d+)?$")
_NOTHING_DONE = "本次未做任何处理。"


def same_path(a: Path, b: Path) -> bool:
    """True when `a` and `b` name the same file (or would, once created)."""
    a, b = Path(a), Path(b)
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return os.path.normcase(a.resolve()) == os.path.normcase(b.resolve())


def ledger_files(ledger: Path) -> list[Path]:
    """The ledger and the files SQLite and the lock keep beside it."""
    ledger = Path(ledger)
    return [ledger, *(Path(f"{ledger}{s}") for s in (".lock", "-journal", "-wal", "-shm"))]


def check_outputs(outputs: Mapping[str, Path | None], *, inputs: Iterable[Path] = (),
                  ledger: Path | None = None) -> None:
    """Refuse an output (label → path) that is an input file, the ledger, or another output."""
    named = [(label, Path(p)) for label, p in outputs.items() if p is not None]
    input_files = [Path(p) for p in inputs if not Path(p).is_dir()]
    for i, (label, out) in enumerate(named):
        for inp in input_files:
            if same_path(out, inp):
                raise FupinError(f"{label}“{out}”就是输入文件“{inp}”,写出会覆盖原始数据。"
                                 f"请换一个文件名或文件夹。{_NOTHING_DONE}", code="usage.output_is_input")
        if ledger is not None and any(same_path(out, f) for f in ledger_files(ledger)):
            raise FupinError(f"{label}“{out}”就是账本文件“{ledger}”(或其附属文件),写出会毁掉全部发放记录。"
                             f"请换一个文件名。{_NOTHING_DONE}", code="usage.output_is_ledger")
        for other_label, other in named[:i]:
            if same_path(out, other):
                raise FupinError(f"{label}与{other_label}是同一个文件“{out}”,后写的会覆盖先写的。"
                                 f"请给它们不同的文件名。{_NOTHING_DONE}", code="usage.output_clash")


def _inside(path: Path, folder: Path) -> bool:
    return Path(path).resolve().is_relative_to(Path(folder).resolve())


def _in_month_folder(path: Path, output: Path) -> str | None:
    """The month folder of `output` that holds `path`, if any (it is replaced by every run)."""
    if not _inside(path, output):
        return None
    rel = Path(path).resolve().relative_to(Path(output).resolve())
    return rel.parts[0] if rel.parts and _MONTH_FOLDER.match(rel.parts[0]) else None


def check_batch_layout(input: Path, output: Path, ledger: Path, log: Path) -> None:
    """Refuse a `batch` config whose files would be read as input or lost when a month folder is
    replaced: output inside input; ledger or log inside the input folder or inside OUTPUT/YYYY-MM/
    (the output root itself is fine); the log on the ledger; the input inside a month folder."""
    fix = "请修改配置文件。本次未做任何处理。"
    if _inside(output, input):
        # The next run would read last month's rosters as township input.
        raise ConfigError(f"输出文件夹“{output}”不能放在输入文件夹“{input}”里面,"
                          "否则下次运行会把生成的花名册当作输入读取。请修改配置文件中的 output。",
                          code="config.output_in_input")
    for key, label, path, in_input, in_month in (
            ("ledger", "账本文件", ledger, "config.ledger_in_input", "config.ledger_in_month_folder"),
            ("log", "日志文件", log, "config.log_in_input", "config.log_in_month_folder")):
        if _inside(path, input):
            raise ConfigError(f"{label}“{path}”({key})不能放在输入文件夹“{input}”里面。{fix}", code=in_input)
        month_dir = _in_month_folder(path, output)
        if month_dir is not None:
            raise ConfigError(f"{label}“{path}”({key})不能放在月份输出文件夹“{Path(output) / month_dir}”里面:"
                              f"每次运行都会整体替换该文件夹,{label}会丢失。可放在输出文件夹“{output}”下"
                              f"(如 {Path(output) / Path(path).name})或其他位置。{fix}", code=in_month)
    if any(same_path(log, f) for f in ledger_files(ledger)):
        raise ConfigError(f"日志文件“{log}”(log)与账本文件“{ledger}”(ledger)相同,写日志会毁掉账本。{fix}",
                          code="config.log_is_ledger")
    if _in_month_folder(input, output) is not None:
        raise ConfigError(f"输入文件夹“{input}”不能放在输出文件夹“{output}”的月份文件夹里面。{fix}",
                          code="config.input_in_month_folder")
