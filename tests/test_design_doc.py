"""docs/DESIGN.md describes what is built: every module, package or data file it names exists."""

from __future__ import annotations

import re
from pathlib import Path

import fupin_cli

SRC = Path(fupin_cli.__file__).resolve().parent.parent
DESIGN = SRC.parent / "docs" / "DESIGN.md"


def test_every_module_named_in_design_md_exists() -> None:
    text = DESIGN.read_text(encoding="utf-8")
    named = set(re.findall(r"fupin_cli/[\w/]+(?:\.py|\.toml|/)?", text))
    assert len(named) > 40
    missing = sorted(n for n in named if not (SRC / n).exists() and not (SRC / f"{n}.py").exists())
    assert not missing, f"docs/DESIGN.md names modules that do not exist: {missing}"


def test_every_command_module_is_in_design_md() -> None:
    text = DESIGN.read_text(encoding="utf-8")
    for sub in ("cli", "commands"):
        for p in (SRC / "fupin_cli" / sub).glob("*.py"):
            if p.name != "__init__.py":
                assert f"fupin_cli/{sub}/{p.name}" in text, p
