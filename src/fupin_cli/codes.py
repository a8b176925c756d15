"""The catalogue of problem and error codes, loaded strictly from data/codes.toml.

Every code fupin reports (a data problem in 数据问题, or a FupinError that stops a command) is
declared there once with its severity, a Chinese title and what the clerk should do. The clerks'
reference page docs/codes.md is generated from it:

    python -m fupin_cli.codes > docs/codes.md
"""

from __future__ import annotations

import sys
import tomllib
from functools import cache
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Severity = Literal["error", "warning", "stop"]

SEVERITY_LABELS: dict[str, str] = {"error": "错误(该行不参与核算)", "warning": "警告(该行照常核算,请核对)",
                                   "stop": "停止(命令未做任何处理)"}


class Code(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    severity: Severity
    title: str = Field(min_length=1)
    action: str = Field(min_length=1)


@cache
def catalogue() -> dict[str, Code]:
    """Code → its entry, in the file's order; a malformed file fails loudly (a packaging bug)."""
    text = resources.files("fupin_cli").joinpath("data/codes.toml").read_text(encoding="utf-8")
    return {code: Code.model_validate(entry) for code, entry in tomllib.loads(text).items()}


def render_markdown() -> str:
    """docs/codes.md: one table per severity, codes in catalogue order."""
    lines = ["# 问题代码一览", "",
             "本页由 `src/fupin_cli/data/codes.toml` 生成(`python -m fupin_cli.codes > docs/codes.md`),请勿手工修改。",
             "数据问题清单(`fupin check --report`)和命令的错误提示中的“代码”即下表第一列。", ""]
    for severity, heading in (("error", "数据错误"), ("warning", "数据警告"), ("stop", "命令停止")):
        lines += [f"## {heading}:{SEVERITY_LABELS[severity]}", "", "| 代码 | 问题 | 怎么办 |", "| --- | --- | --- |"]
        lines += [f"| `{c}` | {e.title} | {e.action} |" for c, e in catalogue().items() if e.severity == severity]
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(render_markdown())
