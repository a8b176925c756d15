"""`fupin template`: blank input workbooks with the canonical headers (written by `workbooks.template`)."""

from __future__ import annotations

from pathlib import Path

from fupin_cli.errors import FupinError


def run_template(folder: Path, wide_year: int | None = None, policy: str | Path | None = None) -> list[Path]:
    """Write the blank templates for a policy into `folder` (created if missing); returns the files written."""
    from fupin_cli.policy import load_policy
    from fupin_cli.workbooks.template import write_templates

    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise FupinError(f"“{folder}”是一个文件,不是文件夹。请给出模板要写入的文件夹,如 模板/", code="usage.not_a_folder")
    if wide_year is not None and not 2000 <= wide_year <= 2099:
        raise FupinError(f"年份“{wide_year}”不正确,请写四位年份,如 --wide 2019", code="usage.month")
    return write_templates(folder, wide_year=wide_year, policy=load_policy(policy))
