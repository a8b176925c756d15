"""Masking ID numbers in anything shown on a terminal, printed as JSON or written to a log (SPEC §9).

The one home of ID masking: `mask_id` for a value known to be an ID, `mask_ids` for an ID column,
`mask_text` for free text that may contain IDs anywhere.
"""

from __future__ import annotations

import re

import pandas as pd

from fupin_cli.values.normaliser import STR_DTYPE, _factorize, take

# Anything that looks like an ID number inside free text: 15 to 20 digits (the last may be X),
# also written in groups ("452122 19900101 1234", "4521-2219-9001-0112-34", a non-breaking or
# full-width space between groups) or with full-width digits. Groups are at least three digits
# long (the last one excepted), so dates such as 2019-03-05 2019-04-05 are left alone.
_D = "0-9\uff10-\uff19"
_SEP = "[ \\-\u00a0\u2000-\u200b\u202f\u3000\uff0d_.]"
_ID_IN_TEXT = re.compile(
    rf"(?<![{_D}])(?:[{_D}]{{3,}}{_SEP})*[{_D}]+[XxＸｘ]?(?![{_D}XxＸｘ])")
_DIGIT = re.compile(rf"[{_D}]")


def _mask(m: re.Match[str]) -> str:
    text = m.group()
    chars = [c for c in text if not c.isspace() and c not in "-\uff0d_."]
    if not 15 <= len(chars) <= 21 or sum(1 for c in chars if _DIGIT.match(c)) < 15:
        return text
    return "".join(chars[:6]) + "*" * (len(chars) - 10) + "".join(chars[-4:])


def mask_text(text: object) -> str:
    """Mask every ID-like digit run in a string: 451021199001010014 → 451021********0014."""
    if text is None:
        return ""
    return _ID_IN_TEXT.sub(_mask, str(text))


def mask_id(text: str) -> str:
    """451021199001010014 → 451021********0014: region and last four digits stay for recognition."""
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
