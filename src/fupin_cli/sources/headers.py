"""Find the header row of a sheet and map its physical columns to column keys (SPEC §3).

Rules, in the order they apply:
- The header is looked for in the first 15 rows. Each candidate row is read together with the
  row above it (a group header): merged ranges are filled first (every cell of a merged range
  gets the top-left value), then an empty group cell takes the group text to its left (a group
  typed once above several sub-headers without merging).
- A column's label is the sub-header if that is a known column name (header or alias, after
  `normalise_header`), else group + sub-header if that is (e.g. `协议期限` over `起始日期`
  → `协议起始日期`), else the group alone when the sub-header cell is empty (a header merged
  vertically over two rows).
- The header row is the row whose labels match the most distinct column keys (wages: month
  columns count too); on a tie the earlier row wins, unless a merged range spans both rows
  (then the two rows are one header and the lower one is the header row).
- Two physical columns for the same key: the one written exactly as the column's header wins
  (e.g. 实发工资 over 应发工资) and the other is noted as unused; two aliases with neither
  exact is an InputError, since guessing could pay on the wrong figure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from fupin_cli.errors import InputError
from fupin_cli.sources.wide import MonthColumn, cell_text, group_month, month_header
from fupin_cli.tables import TABLE_KEYS, TableSpec, load_tables, normalise_header

SERIAL_NAMES = {"序号", "顺序号", "序"}
# "协议期限" over "起始日期": the group's generic tail is dropped when combining.
_GROUP_TAIL = re.compile(r"(期限|时间|日期|情况|信息)$")


@dataclass
class HeaderMatch:
    table: str
    row: int  # 0-based grid row of the (last) header row
    columns: dict[str, int] = field(default_factory=dict)  # key → physical column
    headers: dict[str, str] = field(default_factory=dict)  # key → header text as written
    months: list[MonthColumn] = field(default_factory=list)
    serial: list[int] = field(default_factory=list)  # 序号 columns (dropped)
    header_cols: list[int] = field(default_factory=list)  # columns with any header text, left to right
    unused: list[str] = field(default_factory=list)  # header texts not used
    duplicates: list[str] = field(default_factory=list)  # notes about columns beaten by an exact header
    ambiguous: list[tuple[str, str]] = field(default_factory=list)  # (key, "a”和“b") without an exact header
    score: int = 0

    @property
    def wide(self) -> bool:
        return bool(self.months) and "month" not in self.columns

    def missing(self, spec: TableSpec) -> list[str]:
        found = set(self.columns)
        if self.table == "wages" and self.wide:
            found |= {"month", "pay"}
        return [c.header for c in spec.required if c.key not in found and c.unless not in found]


def _alias_index(spec: TableSpec) -> dict[str, tuple[str, bool]]:
    index: dict[str, tuple[str, bool]] = {}
    for col in spec.columns:
        for i, name in enumerate(col.names()):
            index.setdefault(normalise_header(name), (col.key, i == 0))
    return index


def _empty(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def _fill_merges(head: list[list[Any]], merges: list[Any] | None) -> list[list[Any]]:
    grid = [list(r) for r in head]
    for (r0, c0), (r1, c1) in merges or ():
        if r0 >= len(grid):
            continue
        value = grid[r0][c0] if c0 < len(grid[r0]) else None
        for r in range(r0, min(r1, len(grid) - 1) + 1):
            for c in range(c0, min(c1, len(grid[r]) - 1) + 1):
                grid[r][c] = value
    return grid


def _group_row(above: list[Any], row: list[Any]) -> list[Any]:
    """The row above, with an empty cell taking the text to its left where the row has a header."""
    out = list(above)
    last = None
    for j, v in enumerate(above):
        if not _empty(v):
            last = v
        elif last is not None and not _empty(row[j]):
            out[j] = last
    return out


@dataclass
class _Label:
    key: str | None
    exact: bool
    text: str
    month: str | None = None


def _label(group: Any, sub: Any, index: dict[str, tuple[str, bool]], wages: bool) -> _Label | None:
    g, s = cell_text(group), cell_text(sub)
    if s and normalise_header(s) in index:
        key, exact = index[normalise_header(s)]
        return _Label(key, exact, s)
    if wages and s and (m := month_header(sub)) is not None:
        return _Label(None, False, s, m)
    if g and s and g != s:
        text = f"{g}/{s}"
        for combined in (g + s, _GROUP_TAIL.sub("", normalise_header(g)) + s):
            if normalise_header(combined) in index:
                key, exact = index[normalise_header(combined)]
                return _Label(key, exact, text)
        if wages and (m := group_month(group, sub)) is not None:
            return _Label(None, False, text, m)
    if not s and g:
        if normalise_header(g) in index:
            key, exact = index[normalise_header(g)]
            return _Label(key, exact, g)
        if wages and (m := month_header(group)) is not None:
            return _Label(None, False, g, m)
        return None  # an empty sub-header cell under unmatched group text is no column
    if s:
        return _Label(None, False, s)
    return None


def _match_row(table: str, head: list[list[Any]], r: int, index: dict[str, tuple[str, bool]]) -> HeaderMatch:
    row = head[r]
    group = _group_row(head[r - 1], row) if r > 0 else [None] * len(row)
    match = HeaderMatch(table, r)
    found: dict[str, list[tuple[int, _Label]]] = {}
    for j in range(len(row)):
        lab = _label(group[j], row[j], index, table == "wages")
        if lab is None:
            continue
        match.header_cols.append(j)
        if lab.month is not None:
            match.months.append(MonthColumn(j, lab.month, lab.text))
        elif lab.key is not None:
            found.setdefault(lab.key, []).append((j, lab))
        elif normalise_header(lab.text) in SERIAL_NAMES:
            match.serial.append(j)
        else:
            match.unused.append(lab.text)
    for key, hits in found.items():
        j, lab = hits[0]
        if len(hits) > 1:
            exact = [h for h in hits if h[1].exact]
            if len(exact) != 1:
                match.ambiguous.append((key, "”和“".join(h[1].text for h in hits)))
            else:
                j, lab = exact[0]
                others = "、".join(h[1].text for h in hits if h[0] != j)
                match.duplicates.append(f"“{lab.text}”(未使用同义列“{others}”)")
        match.columns[key] = j
        match.headers[key] = lab.text
    match.score = len(match.columns) + (2 if match.months and "month" not in match.columns else 0)
    return match


def _spans(merges: list[Any] | None, upper: int, lower: int) -> bool:
    return any(r0 <= upper and r1 >= lower for (r0, _), (r1, _) in merges or ())


def best_header(table: str, head: list[list[Any]], merges: list[Any] | None) -> HeaderMatch | None:
    """The best header row of `head` for `table`, or None when no row matches any column."""
    spec = load_tables().get(table)  # type: ignore[arg-type]
    index = _alias_index(spec)
    grid = _fill_merges(head, merges)
    best: HeaderMatch | None = None
    for r in range(len(grid)):
        m = _match_row(table, grid, r, index)
        if best is None or m.score > best.score or (
            m.score == best.score and m.score > 0 and r == best.row + 1 and _spans(merges, best.row, r)
            and set(best.columns) <= set(m.columns)
        ):
            best = m
    if best is None or best.score == 0:
        return None
    return best


def check_ambiguous(match: HeaderMatch, where: str) -> None:
    """Raise when two columns could both be the same key and neither is the exact header."""
    if match.ambiguous:
        key, names = match.ambiguous[0]
        col = load_tables().get(match.table).column(key).header  # type: ignore[arg-type]
        raise InputError(f"{where}有多列都对应“{col}”:“{names}”,无法确定用哪一列。请删除或改名其中一列。",
                         code="input.ambiguous_column")


def detect(head: list[list[Any]], merges: list[Any] | None,
           table: str | None = None) -> tuple[HeaderMatch | None, list[HeaderMatch]]:
    """Header match for a known `table`, or the table recognised from the headers.

    Returns (match with all required columns or the named table's best row, all candidates).
    """
    tables = load_tables()
    keys = [table] if table else list(TABLE_KEYS)
    candidates = [m for t in keys if (m := best_header(t, head, merges)) is not None]
    if table:
        return (candidates[0] if candidates else None), candidates
    complete = [m for m in candidates if not m.missing(tables.get(m.table))]  # type: ignore[arg-type]
    complete.sort(key=lambda m: -m.score)
    return (complete[0] if complete else None), candidates
