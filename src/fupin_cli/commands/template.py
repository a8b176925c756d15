"""`fupin template`: blank input workbooks with the canonical headers (written by `workbooks.template`)."""

from __future__ import annotations

from pathlib import Path

from fupin_cli.errors import FupinError


def run_template(folder: Path, policy: str | Path | None = None) -> list[Path]:
    """Write the blank templates for a policy into `folder` (created if missing); returns the files written."""
    from fupin_cli.policy import load_policy
    from fupin_cli.workbooks.template import write_templates

    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise FupinError(f"“{folder}”是一个文件,不是文件夹。请给出模板要写入的文件夹,如 模板/", code="usage.not_a_folder")
    return write_templates(folder, policy=load_policy(policy))
