"""Masking ID numbers in anything shown on a terminal, printed as JSON or written to a log (SPEC §9).

The one home of ID masking: `mask_id` for a value known to be an ID, `mask_ids` for an ID column,
`mask_text` for free text that may contain IDs anywhere.
"""

from __future__ import annotations

import re

import pandas as pd

from fupin_cli.values.normaliser import STR_DTYPE, _factorize, take

# 15- or 18-character ID numbers inside free text; keep the region code and the last four.
_ID_IN_TEXT = re.compile(r"(?<![0-9])(\d{6})(\d{5,8})(\d{3}[0-9Xx]|\d{4})(?![0-9])")


def mask_text(text: object) -> str:
    """Mask every ID-like digit run in a string: 452122199001011234 → 452122********1234."""
    if text is None:
        return ""
    return _ID_IN_TEXT.sub(lambda m: m.group(1) + "*" * len(m.group(2)) + m.group(3), str(text))


def mask_id(text: str) -> str:
    """452122199001011234 → 452122********1234: region and last four digits stay for recognition."""
    t = str(text)
    if len(t) >= 11:
        return t[:6] + "*" * (len(t) - 10) + t[-4:]
    return "*" * len(t)


def mask_ids(s: pd.Series) -> pd.Series:
    """mask_id over a series (distinct values only); missing stays missing."""
    codes, uniq = _factorize(s)
    masked = [mask_id(v if isinstance(v, str) else str(v)) for v in uniq]
    return take(masked, codes, STR_DTYPE, s.index, s.name)


def ids_list(s: pd.Series, mask: bool) -> list:
    """An ID column as a JSON list: masked unless the user asked for whole IDs (--show-id)."""
    return (mask_ids(s) if mask else s).astype(object).tolist()
