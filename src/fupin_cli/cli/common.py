"""What every command shares: options, error handling, JSON printing, progress, ID masking.

Commands stay thin: parse options, call one library function, render its result.
"""

from __future__ import annotations

import functools
import json
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from fupin_cli.errors import EXIT_USAGE, FupinError
from fupin_cli.months import parse_month_arg

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


class State:
    debug: bool = False


STATE = State()

F = TypeVar("F", bound=Callable[..., Any])

# --- shared options -----------------------------------------------------------------------
Paths = Annotated[list[Path], typer.Argument(help="输入文件(.xlsx/.xls/.csv)或文件夹,可给多个", show_default=False)]
JsonOpt = Annotated[bool, typer.Option("--json", help="输出一个 JSON 文档到标准输出(供程序读取)")]
ShowId = Annotated[bool, typer.Option("--show-id", help="终端输出中显示完整身份证号(默认打码)")]
RegionOpt = Annotated[str | None, typer.Option("--region", help="地区代码或地区 TOML 文件(默认 451000 百色市)")]
PolicyOpt = Annotated[str | None, typer.Option("--policy", help="政策参数文件(TOML),默认内置 gx-2018")]
MonthOpt = Annotated[str | None, typer.Option("--month", help="核算月份,如 2019-05")]
CountyOpt = Annotated[str | None, typer.Option("--county", help="只看一个县(市、区),新旧名称均可,如 田阳县")]
LedgerOpt = Annotated[Path | None, typer.Option("--ledger", help="账本文件(SQLite)路径")]


def handle_errors(fn: F) -> F:
    """Turn user-caused errors into a one-line Chinese message and their exit code (no traceback)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except typer.Exit:
            raise
        except FupinError as exc:
            if STATE.debug:
                raise
            err_console.print(f"[bold red]错误:[/]{exc.message}", soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            err_console.print("已中断。")
            raise typer.Exit(130) from None
        except MemoryError:
            err_console.print("[bold red]错误:[/]内存不足,请分批处理输入文件。")
            raise typer.Exit(EXIT_USAGE) from None
        except Exception as exc:  # a bug: say so plainly; --debug shows the traceback
            if STATE.debug:
                raise
            err_console.print(
                f"[bold red]程序内部错误[/]({type(exc).__name__}: {exc})。请加 --debug 重新运行,并把输出发给技术支持。",
                soft_wrap=True,
            )
            raise typer.Exit(70) from None

    return wrapper  # type: ignore[return-value]


def print_json(doc: dict) -> None:
    sys.stdout.write(json.dumps(doc, ensure_ascii=False, separators=(",", ":"), default=str))
    sys.stdout.write("\n")


def month_option(value: str | None) -> int | None:
    return None if value is None else parse_month_arg(value)


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
                                     TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
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

