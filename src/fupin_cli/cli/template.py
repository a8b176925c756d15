"""`fupin template`: blank input workbooks with the canonical headers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fupin_cli.cli.common import JsonOpt, PolicyOpt, console, handle_errors, print_json


@handle_errors
def template(
    folder: Annotated[Path, typer.Argument(help="模板写入的文件夹(不存在会自动创建)", metavar="文件夹")],
    wide: Annotated[int | None, typer.Option("--wide", metavar="年份",
                                             help="工资表按“每人一行、每月一列”生成该年1至12月的列(乡镇常用的写法),"
                                                  "如 --wide 2019;不给出时每人每月一行")] = None,
    policy: PolicyOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """生成空白录入模板(带下拉列表、文本格式的身份证号列和填表说明)。

    模板随策略变化:策略计入其他人员类别时有“人员类别”列,奖补发给劳动者本人时有本人银行账户列。

    示例:fupin template 模板/    fupin template 模板/ --wide 2019
    """
    from fupin_cli.commands.template import run_template

    paths = run_template(folder, wide_year=wide, policy=policy)
    if json_out:
        print_json({"files": [str(p) for p in paths]})
        return
    for p in paths:
        console.print(f"已写出:{p}")
