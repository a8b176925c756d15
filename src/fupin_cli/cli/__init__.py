"""The `fupin` command line (Typer). Each command lives in its own module and stays thin."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fupin_cli import __version__
from fupin_cli.cli.common import STATE, console
from fupin_cli.cli.help_zh import install as install_chinese_help
from fupin_cli.cli.help_zh import usage_message

install_chinese_help()

app = typer.Typer(
    name="fupin",
    help="就业扶贫车间一次性带动就业奖补核算工具:检查数据、核定奖补、生成花名册、记账、统计。\n\n"
    "示例:fupin check 数据.xlsx    fupin payout 数据.xlsx --month 2019-05 --output 花名册.xlsx",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        console.print(f"fupin {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="显示版本号")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="出错时显示完整的程序调用栈(供技术支持排查)")] = False,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="不使用也不写入已检查数据的缓存")] = False,
    cache_dir: Annotated[Path | None, typer.Option("--cache-dir", help="缓存文件夹(默认为用户缓存目录下的 fupin)",
                                                   show_default=False)] = None,
) -> None:
    """就业扶贫车间一次性带动就业奖补核算工具。"""
    STATE.debug = debug
    from fupin_cli import cache

    cache.configure(enabled=not no_cache, folder=cache_dir)
    if debug:  # cache hits and misses, and other library remarks, on stderr
        import logging

        logging.basicConfig(level=logging.DEBUG, format="[调试] %(name)s: %(message)s")
        for noisy in ("asyncio", "fsspec", "urllib3"):
            logging.getLogger(noisy).setLevel(logging.WARNING)


def _register() -> None:
    from fupin_cli.cli import (
        batch,
        cache,
        check,
        compare,
        demo,
        eligibility,
        explain,
        ledger,
        payout,
        stats,
        template,
    )

    app.command("check", help=check.check.__doc__)(check.check)
    app.command("template", help=template.template.__doc__)(template.template)
    for mod in (payout, eligibility, explain, stats, compare, batch, demo, ledger, cache):
        mod.register(app)


_register()


def main() -> None:
    """Entry point: usage errors become one Chinese line and exit 2 (SPEC §6.3 exit codes)."""
    import sys

    from typer._click import exceptions as cx

    from fupin_cli.cli.common import EXIT_INTERNAL, STATE, closed_pipe, fail

    STATE.json = "--json" in sys.argv[1:]
    try:
        try:
            rv = app(prog_name="fupin", standalone_mode=False)
        except cx.NoArgsIsHelpError as exc:
            exc.show()
            rv = 0
        except cx.UsageError as exc:
            cmd = exc.ctx.command_path if exc.ctx is not None else "fupin"
            fail("usage", f"{usage_message(exc)}。查看帮助:{cmd} --help", 2, label="用法错误:")
        except typer.Abort:
            rv = 1
        except BrokenPipeError:
            closed_pipe()
        except (KeyboardInterrupt, SystemExit, typer.Exit):
            raise
        except BaseException as exc:  # outside any command (option parsing, a reader's panic): still not 0/1
            if STATE.debug or "--debug" in sys.argv[1:]:
                raise
            fail("internal", f"程序内部错误({type(exc).__name__})。请加 --debug 重新运行,并把输出发给技术支持。",
                 EXIT_INTERNAL)
        sys.stdout.flush()
    except typer.Exit as done:
        rv = done.exit_code
    except BrokenPipeError:
        try:
            closed_pipe()
        except typer.Exit as done:
            rv = done.exit_code
    sys.exit(rv if isinstance(rv, int) else 0)
