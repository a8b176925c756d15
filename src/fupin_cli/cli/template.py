"""`fupin template`: blank input workbooks with the canonical headers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fupin_cli.cli.common import JsonOpt, console, handle_errors, print_json


@handle_errors
def template(
    folder: Annotated[Path, typer.Argument(help="模板写入的文件夹(不存在会自动创建)")],
    json_out: JsonOpt = False,
) -> None:
    """生成空白录入模板(带下拉列表、文本格式的身份证号列和填表说明)。

    示例:fupin template 模板/
    """
    from fupin_cli.commands.template import run_template

    paths = run_template(folder)
    if json_out:
        print_json({"files": [str(p) for p in paths]})
        return
    for p in paths:
        console.print(f"已写出:{p}")
