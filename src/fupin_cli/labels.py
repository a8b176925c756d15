"""The Chinese labels of output columns, loaded strictly from data/labels.toml (one table for all).

`label("amount")` → "奖补金额". Terminal tables (cli/) and workbooks (workbooks/) take every column
header from here, so a header is spelled once and the two never drift apart.
"""

from __future__ import annotations

import re
import tomllib
from functools import cache
from importlib import resources

_KEY = re.compile(r"^[a-z][a-z0-9_]*$")


@cache
def labels() -> dict[str, str]:
    """Every label; a malformed file is a packaging bug and fails loudly on first use."""
    text = resources.files("fupin_cli").joinpath("data/labels.toml").read_text(encoding="utf-8")
    table = tomllib.loads(text)
    bad = [k for k, v in table.items() if not _KEY.match(k) or not isinstance(v, str) or not v.strip()]
    if bad:
        raise ValueError(f"data/labels.toml: malformed entries {bad} (keys lower_snake_case, values non-empty text)")
    return table


def raw_label(key: str) -> str:
    """The label of `key` as written, with its `{target_short}`-style placeholders (fupin_cli.wording)."""
    try:
        return labels()[key]
    except KeyError:
        raise KeyError(f"no label {key!r} in data/labels.toml") from None


def label(key: str) -> str:
    """The header of column `key` in the default policy's terms (`wording.in_terms` for another
    policy's); an unknown key is a bug (KeyError naming it)."""
    text = raw_label(key)
    if "{" not in text:
        return text
    from fupin_cli.wording import say

    return say(text)
