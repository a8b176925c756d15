"""The `fupin` command line (Typer). Each command lives in its own module and stays thin."""

from __future__ import annotations

from typing import Annotated

import typer

from fupin_cli import __version__
from fupin_cli.cli.common import STATE, console

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
) -> None:
    """就业扶贫车间一次性带动就业奖补核算工具。"""
    STATE.debug = debug


def _register() -> None:
    from fupin_cli.cli import check, template

    app.command("check", help=check.check.__doc__)(check.check)
    app.command("template", help=template.template.__doc__)(template.template)
    for name in ("payout", "eligibility", "explain", "stats", "batch", "demo", "ledger"):
        try:
            mod = __import__(f"fupin_cli.cli.{name}", fromlist=["register"])
        except ModuleNotFoundError:
            continue
        mod.register(app)


_register()


def main() -> None:
    app(prog_name="fupin")
