"""`fupin cache clear`: delete the cache of checked data (safe at any time; results do not change)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fupin_cli.cli.common import JsonOpt, console, handle_errors, print_json

cache_app = typer.Typer(
    name="cache",
    help="管理已检查数据的缓存(输入文件未改变时,再次运行命令不必重新读取和检查)。\n\n示例:fupin cache clear",
    no_args_is_help=True,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)


@cache_app.command("clear")
@handle_errors
def clear_cmd(
    cache_dir: Annotated[Path | None, typer.Option("--cache-dir", help="缓存文件夹(默认为用户缓存目录下的 fupin)",
                                                   show_default=False)] = None,
    json_out: JsonOpt = False,
) -> None:
    """删除全部缓存。随时可以删除:下次运行会重新读取和检查输入文件,结果不变。

    示例:fupin cache clear
    """
    from fupin_cli import cache

    folder, removed = cache.clear(cache_dir)
    if json_out:
        print_json({"cache_dir": str(folder), "removed": removed})
        return
    console.print(f"已删除缓存 {removed} 项(缓存文件夹:{folder})。", markup=False)


def register(app: typer.Typer) -> None:
    app.add_typer(cache_app, name="cache")
