"""Money as text, in one place: the terminal's 1,234.50, the sentences' 1,350 元, the report's 32.3万元, the 大写.

Amounts are numbers (元, float) everywhere else; workbooks keep them numeric with a `#,##0.00` format.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache


def money(v: float) -> str:
    """Terminal tables and totals: always two decimals with thousands separators (1,234.50)."""
    return f"{v:,.2f}"


@lru_cache(maxsize=65536)
def yuan(x: float) -> str:
    """Amounts inside Chinese sentences: 1350 → '1,350'; 1200.5 → '1,200.50'."""
    x = float(x)
    return f"{x:,.0f}" if abs(x - round(x)) < 0.005 else f"{x:,.2f}"


def format_wan(amount: float) -> str:
    """An amount in 元 as the seed report writes it: 323000 → "32.3万元"; under 1万 in 元: "3000元"."""
    value = Decimal(str(amount))
    if abs(value) < 10000:
        text = format(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), "f")
        unit = "元"
    else:
        text = format((value / 10000).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), "f")
        unit = "万元"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text}{unit}"


def amount_in_words(amount: float) -> str:
    """The amount in words (大写) finance signs under a roster's 合计: "人民币叁拾贰万叁仟元整";
    角 and 分 as finance writes them (壹仟元零伍分)."""
    import cn2an  # ~0.4 s to import: only when a roster is written

    cents = Decimal(str(amount)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if cents == 0:
        return "人民币零元整"
    sign = "负" if cents < 0 else ""
    return f"人民币{sign}{cn2an.an2cn(str(abs(cents)), 'rmb')}"
