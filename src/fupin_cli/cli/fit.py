"""Tables that fit the terminal without cutting a figure (issue #11).

Rich shrinks a table that is too wide by cutting cells (`14,00…`). A clerk's terminal is often
80 columns, so here the layout is chosen before rich sees it: each column has a full and a short
label and a priority; the widest layout that fits wins (full labels, then short labels, then
fewer optional columns). Figures and IDs never wrap; only columns marked `wrap` (messages, names)
take the remaining width, broken between Chinese characters, never inside a number. When even the
narrowest table does not fit, rows are printed as "label:value" blocks.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

# One token: a run of printable ASCII (numbers, IDs, dates, money, file names) or one other
# character, with the closing punctuation that must not start a line.
_TOKEN = re.compile(r"(?:[\x21-\x7e]+|\s|.)[,。;:、)」』”’!?》,.;:)\]]*", re.S)
_MAX_TOKEN = 24  # an ASCII run longer than this (a path, garbage) may be split


@dataclass(frozen=True)
class Col:
    """A column: `short` is the abbreviated label ("\\n" allowed); `drop` > 0 may be left out (higher first)."""

    label: str
    short: str | None = None
    right: bool = False
    drop: int = 0
    wrap: bool = False
    min: int = 12  # a wrapping column is never narrower (nor narrower than its longest number or ID)


def _safe(text: object) -> str:
    """Data printed literally: control characters as visible escapes (see cli.common.literal)."""
    from fupin_cli.cli.common import literal

    return literal(text)


def wrap_text(text: str, width: int) -> list[str]:
    """Break `text` into lines of at most `width` cells, between characters but never inside an ASCII run
    (a number, an ID, a date) unless the run alone is wider than the line."""
    lines: list[str] = []
    for para in _safe(text).split("\n"):
        line, used = "", 0
        for tok in _TOKEN.findall(para):
            w = cell_len(tok)
            if used + w > width and line:
                lines.append(line.rstrip())
                line, used = "", 0
                if tok.isspace():
                    continue
            while w > width:  # a single run wider than the line: split it, nothing else is possible
                cut, n = "", 0
                for ch in tok:
                    if n + cell_len(ch) > width:
                        break
                    cut, n = cut + ch, n + cell_len(ch)
                lines.append(cut)
                tok = tok[len(cut):]
                w = cell_len(tok)
            line, used = line + tok, used + w
        lines.append(line.rstrip())
    return lines


def _label_width(label: str) -> int:
    return max(cell_len(part) for part in label.split("\n"))


def _widths(cols: Sequence[Col], rows: Sequence[Sequence[str]], labels: Sequence[str]) -> list[int]:
    out = []
    for i, (c, lab) in enumerate(zip(cols, labels, strict=True)):
        data = max((cell_len(part) for r in rows for part in _safe(r[i]).split("\n")), default=0)
        if c.wrap:
            token = max((cell_len(t.strip()) for r in rows for t in _TOKEN.findall(_safe(r[i]))), default=0)
            data = min(data, max(c.min, min(token, _MAX_TOKEN)))
        out.append(max(data, _label_width(lab)))
    return out


def _optional_levels(cols: Sequence[Col]) -> list[list[int]]:
    """Kept indexes from all columns down to the mandatory ones, dropping the highest `drop` first."""
    levels = sorted({c.drop for c in cols if c.drop}, reverse=True)
    out = [list(range(len(cols)))]
    gone: set[int] = set()
    for lv in levels:
        gone |= {i for i, c in enumerate(cols) if c.drop == lv}
        out.append([i for i in range(len(cols)) if i not in gone])
    return out


def _share(spare: int, widths: list[int], wraps: list[int], rows: Sequence[Sequence[str]]) -> None:
    """Give spare width to wrapping columns up to their natural width: the short ones first
    (a column name, a value), the last (usually a message) takes the rest."""
    natural = {j: max((cell_len(p) for r in rows for p in _safe(r[j]).split("\n")), default=0) for j in wraps}
    for j in sorted(wraps, key=lambda j: natural[j] - widths[j]):
        add = max(0, min(spare, natural[j] - widths[j]))
        widths[j] += add
        spare -= add


def layout(cols: Sequence[Col], rows: Sequence[Sequence[str]], width: int) -> tuple[list[int], list[str], list[int]] | None:
    """(kept column indexes, labels, widths) of the widest layout that fits `width`, or None."""
    for keep in _optional_levels(cols):
        kc = [cols[i] for i in keep]
        sub = [[r[i] for i in keep] for r in rows]
        for use_short in (False, True):
            labels = [(c.short or c.label) if use_short else c.label for c in kc]
            widths = _widths(kc, sub, labels)
            spare = width - (sum(widths) + 2 * len(kc) - 2)
            if spare >= 0:
                _share(spare, widths, [j for j, c in enumerate(kc) if c.wrap], sub)
                return keep, labels, widths
    return None


def fit_table(cols: Sequence[Col], rows: Sequence[Sequence[str]], width: int, *, title: str | None = None,
              styles: Sequence[str | None] | None = None) -> Table | None:
    """A rich Table laid out for `width` cells, or None when no layout fits (use `records`)."""
    chosen = layout(cols, rows, width)
    if chosen is None:
        return None
    keep, labels, widths = chosen
    # No padding, a one-cell divider, and one more cell per column after the first: two cells between columns.
    t = Table(title=Text(_safe(title)) if title else None, title_justify="left", box=box.SIMPLE_HEAD, padding=(0, 0),
              pad_edge=False, show_edge=False)
    for n, (i, lab, w) in enumerate(zip(keep, labels, widths, strict=True)):
        pad = "" if cols[i].right or n == 0 else " "
        t.add_column(Text(pad + lab.replace("\n", "\n" + pad)), justify="right" if cols[i].right else "left", width=w + (n > 0), no_wrap=True)
    for n, r in enumerate(rows):
        cells = []
        for i, w in zip(keep, widths, strict=True):
            value = _safe(r[i])
            text = "\n".join(wrap_text(value, w)) if cols[i].wrap else value
            cells.append(Text((" " + text.replace("\n", "\n ")) if not cols[i].right and i != keep[0] else text))
        t.add_row(*cells, style=styles[n] if styles else None)
    return t


def records(cols: Sequence[Col], rows: Sequence[Sequence[str]], width: int) -> list[Text]:
    """Rows as "label:value" lines, for terminals too narrow for any table."""
    out: list[Text] = []
    for r in rows:
        for c, v in zip(cols, r, strict=True):
            for line in wrap_text(f"{c.label}:{v}", max(width, 8)):
                out.append(Text(line))
        out.append(Text(""))
    return out


def print_table(console: Console, cols: Sequence[Col], rows: Sequence[Sequence[str]], *, title: str | None = None,
                styles: Sequence[str | None] | None = None) -> None:
    """Print rows as the widest table that fits the console, or as blocks when none does."""
    width = console.width
    t = fit_table(cols, rows, width, title=title, styles=styles)
    if t is not None:
        console.print(t)
        return
    if title:
        console.print(Text(title))
    for line in records(cols, rows, width):
        console.print(line, no_wrap=True, crop=False)


def print_paragraph(console: Console, text: str) -> None:
    """A paragraph for the 情况汇报: wrapped between characters (never inside a number) on a terminal,
    one unbroken line otherwise so that it can be pasted as it is."""
    if not console.is_terminal:
        console.print(Text(text), soft_wrap=True)
        return
    for line in wrap_text(text, console.width):
        console.print(Text(line), no_wrap=True)


def print_wrapped(console: Console, text: str, style: str | None = None) -> None:
    """A sentence wrapped to the console width between characters, never inside a number."""
    for line in wrap_text(text, console.width):
        console.print(Text(line, style=style or ""), no_wrap=True)
