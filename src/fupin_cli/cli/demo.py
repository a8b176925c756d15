"""`fupin demo`: the deterministic 百色市 dataset that reproduces the seed report's figures."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fupin_cli.cli.common import JsonOpt, console, handle_errors, print_json


@handle_errors
def demo(
    folder: Annotated[Path, typer.Argument(help="演示数据写入的文件夹(须为空文件夹或不存在,不存在会自动创建)")],
    seed: Annotated[int, typer.Option("--seed", help="随机种子;同一种子每次生成完全相同的文件")] = 2019,
    json_out: JsonOpt = False,
) -> None:
    """写出百色市 12 个县(市、区)的演示数据(乡镇台账风格,含少量故意留下的错误)。

    按月从 2017-09 逐月登记到 2019-02,可重现汇报中的数字:认定车间132家、带动就业13007人、
    其中贫困劳动力2572人、兑现32.3万元补贴323人。

    示例:fupin demo 演示数据/ && fupin check 演示数据/
    """
    from fupin_cli.commands.demo import run_demo

    paths = run_demo(folder, seed=seed)
    if json_out:
        print_json({"files": [str(p) for p in paths]})
        return
    for p in paths:
        console.print(f"已写出:{p}")
    console.print(f"共 {len(paths)} 个文件。下一步:fupin check {folder}")


def register(app: typer.Typer) -> None:
    app.command("demo", help=demo.__doc__)(demo)
