"""Money as text, in one place: the terminal's 1,234.50, the sentences' 1,350 元, the report's 32.3万元, the 大写.

Amounts are numbers (元, float) everywhere else; workbooks keep them numeric with a `#,##0.00` format.
"""

from __future__ import annotations

import re
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


UP_DIGITS = "零壹贰叁肆伍陆柒捌玖"
UP_UNITS = ["", "拾", "佰", "仟", "万", "拾", "佰", "仟", "亿", "拾", "佰", "仟", "万", "拾", "佰", "仟"]
_WAN_YI_ZERO = re.compile(r"([万亿])零([壹贰叁肆伍陆柒捌玖]仟)")


def amount_in_words(amount: float) -> str:
    """The amount in words (大写) finance signs under a roster's 合计: "人民币叁拾贰万叁仟元整";
    角 and 分 as finance writes them (壹仟元零伍分). The wording is cn2an's `an2cn(…, "rmb")`, written
    out here because importing cn2an costs a payout ~0.3 s (tests compare the two)."""
    cents = Decimal(str(amount)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if cents == 0:
        return "人民币零元整"
    sign = "负" if cents < 0 else ""
    whole, frac = format(abs(cents), "f").split(".")
    yuan_text, jiao, fen = _integer_words(whole), UP_DIGITS[int(frac[0])], UP_DIGITS[int(frac[1])]
    if jiao == "零" and fen == "零":
        words = yuan_text + "元整"
    elif fen == "零":
        words = (jiao if yuan_text == "零" else yuan_text + "元" + jiao) + "角"
    elif jiao == "零":
        words = fen + "分" if yuan_text == "零" else yuan_text + "元零" + fen + "分"
    else:
        words = ("" if yuan_text == "零" else yuan_text + "元") + jiao + "角" + fen + "分"
    return f"人民币{sign}{words}"


def _integer_words(digits: str) -> str:
    """Whole 元 in capital digits with their units, zeros read as finance reads them (cn2an's rules)."""
    digits = str(int(digits))
    n = len(digits)
    if n > len(UP_UNITS):
        raise ValueError(f"超出数据范围，最长支持 {len(UP_UNITS)} 位")
    out = ""
    for i, ch in enumerate(digits):
        d, unit = int(ch), UP_UNITS[n - i - 1]
        if d:
            out += UP_DIGITS[d] + unit
        else:
            if not (n - i - 1) % 4:
                out += UP_DIGITS[0] + unit
            if i > 0 and out[-1] != "零":
                out += UP_DIGITS[0]
    out = out.replace("零零", "零").replace("零万", "万").replace("零亿", "亿").replace("亿万", "亿").strip("零")
    return _WAN_YI_ZERO.sub(r"\1\2", out) or "零"
