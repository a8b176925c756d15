"""`fupin template`: blank input workbooks with the canonical headers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fupin_cli.cli.common import console, handle_errors
from fupin_cli.errors import FupinError


@handle_errors
def template(
    folder: Annotated[Path, typer.Argument(help="模板写入的文件夹(不存在会自动创建)")],
) -> None:
    """生成空白录入模板(带下拉列表、文本格式的身份证号列和填表说明)。

    示例:fupin template 模板/
    """
    from fupin_cli.workbooks.template import write_templates

    if folder.exists() and not folder.is_dir():
        raise FupinError(f"“{folder}”是一个文件,不是文件夹。请给出模板要写入的文件夹,如 模板/", code="usage.not_a_folder")
    for p in write_templates(folder):
        console.print(f"已写出:{p}")
