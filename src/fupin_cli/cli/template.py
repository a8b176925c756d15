"""`fupin template`: blank input workbooks with the canonical headers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fupin_cli.cli.common import PolicyOpt, console, handle_errors


@handle_errors
def template(
    folder: Annotated[Path, typer.Argument(help="模板写入的文件夹(不存在会自动创建)")],
    policy: PolicyOpt = None,
) -> None:
    """生成空白录入模板(带下拉列表、文本格式的身份证号列和填表说明)。

    模板随策略变化:策略计入其他人员类别时有“人员类别”列,奖补发给劳动者本人时有本人银行账户列。

    示例:fupin template 模板/ --policy examples/policies/fengxin-2023.toml
    """
    from fupin_cli.commands.template import run_template

    for p in run_template(folder, policy):
        console.print(f"已写出:{p}")
