"""Masking ID numbers in anything shown on a terminal or written to a log (SPEC §9)."""

from __future__ import annotations

import re

# 15- or 18-character ID numbers inside free text; keep the region code and the last four.
_ID_IN_TEXT = re.compile(r"(?<![0-9])(\d{6})(\d{5,8})(\d{3}[0-9Xx]|\d{4})(?![0-9])")


def mask_text(text: object) -> str:
    """Mask every ID-like digit run in a string: 452122199001011234 → 452122********1234."""
    if text is None:
        return ""
    return _ID_IN_TEXT.sub(lambda m: m.group(1) + "*" * len(m.group(2)) + m.group(3), str(text))

