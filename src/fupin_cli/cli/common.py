"""What every command shares: options, error handling, JSON printing, progress, ID masking.

Commands stay thin: parse options, call one library function, render its result.
"""

from __future__ import annotations

import functools
import os
import re
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from fupin_cli import jsontext
from fupin_cli.errors import EXIT_USAGE, FupinError, reader_failure
from fupin_cli.months import parse_month_arg

# Control characters (ESC starts terminal escape sequences), and bidi overrides that reorder what
# a clerk sees, are shown as visible escapes: text from data must never steer the terminal.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def literal(text: object) -> str:
    """`text` safe to print: control characters as visible escapes (\\x1b), nothing else changed."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), str(text))


class LiteralConsole(Console):
    """A console that prints every string literally: no rich markup (`[/]`, `[link=…]` in a name
    stays text), no emoji codes, and control characters escaped. Styles are given explicitly
    (`style=`, or `Text` pieces from `styled`)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(markup=False, emoji=False, highlight=False, **kwargs)

    def render_str(self, text: str, **kwargs: Any) -> Text:  # type: ignore[override]
        return super().render_str(literal(text), **kwargs)

    def print(self, *objects: Any, **kwargs: Any) -> None:
        # a Text built from data bypasses render_str: escape its control characters too
        objects = tuple(Text(literal(o.plain), style=o.style) if isinstance(o, Text) and _CONTROL.search(o.plain)
                        else o for o in objects)
        super().print(*objects, **kwargs)


def styled(*parts: str | tuple[str, str]) -> Text:
    """One line from plain pieces and (text, style) pieces, every piece printed literally."""
    return Text.assemble(*((literal(p[0]), p[1]) if isinstance(p, tuple) else literal(p) for p in parts))


# Output that is not a terminal (a pipe, a file, cron mail) is not cut to rich's default of 80
# columns: tables choose their layout for this width (see cli/fit.py), paragraphs are not wrapped.
_PIPE_WIDTH = 160
console = LiteralConsole(width=None if sys.stdout.isatty() or "COLUMNS" in os.environ else _PIPE_WIDTH)
err_console = LiteralConsole(stderr=True)


class State:
    debug: bool = False
    json: bool = False  # the command was asked for --json: errors go to stdout as a JSON document


STATE = State()

F = TypeVar("F", bound=Callable[..., Any])

# --- shared options -----------------------------------------------------------------------
Paths = Annotated[list[Path], typer.Argument(help="输入文件(.xlsx/.xls/.csv/.parquet)或文件夹,可给多个", show_default=False,
                                              metavar="文件或文件夹")]
JsonOpt = Annotated[bool, typer.Option("--json", help="输出一个 JSON 文档到标准输出(供程序读取)")]
ShowId = Annotated[bool, typer.Option("--show-id", help="终端输出中显示完整身份证号(默认打码)")]
RegionOpt = Annotated[str | None, typer.Option("--region", metavar="代码或文件",
                                               help="地区代码或地区 TOML 文件(默认 451000 百色市)")]
PolicyOpt = Annotated[str | None, typer.Option("--policy", metavar="文件", help="政策参数文件(TOML),默认内置 gx-2018")]
MonthOpt = Annotated[str | None, typer.Option(
    "--month", metavar="年-月",
    help="核算月份,如 2019-05。不给出时取工资表中本月以前最后一个有工资的月份(即最后一个完整月份),并在输出中注明")]
CountyOpt = Annotated[str | None, typer.Option("--county", metavar="县名",
                                               help="只看一个县(市、区),新旧名称均可,如 田阳县")]
LedgerOpt = Annotated[Path | None, typer.Option(
    "--ledger", metavar="文件",
    help="账本文件(SQLite)路径。不给出时依次取:配置文件中的账本、环境变量 FUPIN_LEDGER、"
         "用户数据目录下的 fupin/ledger.sqlite3(Linux 为 ~/.local/share/fupin/ledger.sqlite3)")]


def handle_errors(fn: F) -> F:
    """Turn user-caused errors into a one-line Chinese message and their exit code (no traceback)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        STATE.json = bool(kwargs.get("json_out"))
        try:
            return fn(*args, **kwargs)
        except typer.Exit:
            raise
        except FupinError as exc:
            if STATE.debug:
                raise
            fail(exc.code, exc.message, exc.exit_code)
        except BrokenPipeError:
            closed_pipe()
        except KeyboardInterrupt:
            err_console.print("已中断。")
            raise typer.Exit(130) from None
        except MemoryError:
            fail("memory", "内存不足,请分批处理输入文件。", EXIT_USAGE)
        except BaseException as exc:  # a bug (or a reader's panic): say so plainly; --debug shows the traceback
            if STATE.debug or not reader_failure(exc):
                raise
            fail("internal", f"程序内部错误({type(exc).__name__}: {exc})。请加 --debug 重新运行,并把输出发给技术支持。",
                 EXIT_INTERNAL)

    return wrapper  # type: ignore[return-value]


EXIT_INTERNAL = 70  # never 0 or 1: cron must not read a crash as "done"
EXIT_PIPE = 141  # as a shell reports a process ended by SIGPIPE


def fail(code: str, message: str, exit_code: int, *, label: str = "错误:") -> NoReturn:
    """End the command with one Chinese line on stderr (and, under --json, the error document)."""
    if STATE.json:
        try:
            print_json({"error": {"code": code, "message": message}})
        except BrokenPipeError:
            closed_pipe()
    err_console.print(styled((label, "bold red"), message), soft_wrap=True)
    raise typer.Exit(exit_code) from None


def closed_pipe() -> None:
    """The reader of stdout went away (`| head`): stop quietly, without Python's shutdown warning."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    raise typer.Exit(EXIT_PIPE) from None


def print_json(doc: dict) -> None:
    """One JSON document on stdout: always valid JSON (RFC 8259 has no Infinity/NaN)."""
    sys.stdout.write(jsontext.dumps(doc))
    sys.stdout.write("\n")
    sys.stdout.flush()


def month_option(value: str | None) -> int | None:
    return None if value is None else parse_month_arg(value)


# The stage is the description ("读取 数据.xlsx:工资", "检查数据", "核定奖补、登记账本"); the count says what
# is counted, so that "3/3" is not read as three of anything else.
PROGRESS_COUNT = "工作表 {done}/{total} 个"


class SheetCount(ProgressColumn):
    """"工作表 2/3 个", or nothing before the number of sheets is known (never "0/None")."""

    def render(self, task: Task) -> Text:
        if task.total is None:
            return Text("")
        return Text(PROGRESS_COUNT.format(done=int(task.completed), total=int(task.total)))


class LazyProgress:
    """A progress bar on stderr that appears only when the work has taken more than a second.

    A timer shows it even while one long sheet is being read (callbacks come per sheet); rich
    refreshes it from its own thread. Nothing is shown when stderr is not a terminal (cron, pipes).
    """

    def __init__(self, enabled: bool = True, delay: float = 1.0) -> None:
        self.enabled = enabled and err_console.is_terminal
        self.delay = delay
        self.label = "读取输入文件"
        self.done = 0
        self.total: int | None = None
        self.progress: Progress | None = None
        self.task = None
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None

    def _show(self) -> None:
        with self._lock:
            if self.progress is not None or not self.enabled:
                return
            self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                     SheetCount(), TimeElapsedColumn(),
                                     console=err_console, transient=True)
            self.progress.start()
            self.task = self.progress.add_task(self.label, total=self.total, completed=self.done)

    def __call__(self, label: str, done: int, total: int) -> None:
        with self._lock:
            self.label, self.done, self.total = label, done, total
            if self.progress is not None:
                self.progress.update(self.task, description=self.label, completed=done, total=total)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        with self._lock:
            self.enabled = False
            if self.progress is not None:
                self.progress.stop()

    def __enter__(self) -> LazyProgress:
        if self.enabled:
            self._timer = threading.Timer(self.delay, self._show)
            self._timer.daemon = True
            self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

