"""Normalise and validate the raw tables into a Dataset (SPEC §3.4–3.6).

Every problem becomes a record naming file, sheet, Excel row, the column header as written, the
cell value, a stable code, a severity and a Chinese message. All problems are collected in one
pass; a row with an error is excluded from computation (its pair becomes `invalid_data`), the
rest still computes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fupin_cli import values as V
from fupin_cli.categories import DEFAULT_CATEGORY, has_category, normalise_categories
from fupin_cli.dataset import (
    LOCATION_KEYS,
    ROW_STRIDE,
    Dataset,
    RawTables,
    SheetInfo,
    pack_keys,
    repeated,
    rows_with_keys,
    shared_codes,
)
from fupin_cli.errors import InputError
from fupin_cli.months import month_index_of
from fupin_cli.problems import concat_problems
from fupin_cli.region import Region
from fupin_cli.tables import ColumnSpec, Tables, TableSpec, load_tables

MONTH_STRIDE = 32768  # month indexes of years below 2730
YES_MARKS = {"√", "✓", "✔"}


class _Collector:
    """Turns normaliser issues (index labels) into located problem records."""

    def __init__(self, sheets: list[SheetInfo]) -> None:
        self.sheets = sheets
        self.frames: list[pd.DataFrame] = []
        self._file = {i: s.file for i, s in enumerate(sheets)}
        self._sheet = {i: s.sheet for i, s in enumerate(sheets)}

    def add(
        self,
        raw: pd.DataFrame,
        idx: pd.Index | np.ndarray,
        *,
        key: str | None,
        code: str | pd.Series,
        severity: str | pd.Series,
        message: str | pd.Series,
        value: pd.Series | None = None,
        header: str | None = None,
    ) -> None:
        if len(idx) == 0:
            return
        if isinstance(idx, pd.Index) and idx.dtype == object:
            idx = idx.infer_objects()  # labels as Python objects: a slow lookup (see _labels)
        sub = raw.loc[idx]
        src = sub["_src"]
        wide = None
        if header is not None:
            column = pd.Series(header, index=sub.index)
        elif key is not None:
            hdr = {i: s.headers.get(key, key) for i, s in enumerate(self.sheets)}
            column = src.map(hdr).astype(object)
            if key in ("pay", "month") and "_pay_header" in sub:
                # In a wide wage sheet the month and the pay are the month column's header and cell.
                wide = src.map({i: s.wide or key == "pay" for i, s in enumerate(self.sheets)}).astype(bool)
                column = column.where(~wide, sub["_pay_header"].astype(object))
        else:
            column = pd.Series("", index=sub.index)
        if value is None:
            value = sub[key] if key is not None and key in sub else pd.Series("", index=sub.index)
            if key == "month" and wide is not None and "pay" in sub:
                # The month of a wide sheet is a header; the cell the user looks at holds the pay.
                value = value.astype(object).where(~wide, sub["pay"].astype(object))
        else:
            value = value.reindex(sub.index)
        self.frames.append(
            pd.DataFrame(
                {
                    "file": src.map(self._file).to_numpy(),
                    "sheet": src.map(self._sheet).to_numpy(),
                    "row": sub["_row"].to_numpy(),
                    "column": np.asarray(column, dtype=object),
                    "value": [_show(v) for v in value.to_numpy(dtype=object)],
                    "code": _arr(code, sub.index),
                    "severity": _arr(severity, sub.index),
                    "message": _arr(message, sub.index),
                }
            )
        )


    def add_located(self, src: list[int], rows: list[int], values: list[str], *, code: str, severity: str,
                    messages: list[str]) -> None:
        """Problems placed by sheet (`_src`) and Excel row, not by a data row of a table."""
        if not src:
            return
        self.frames.append(pd.DataFrame({
            "file": [self._file[i] for i in src], "sheet": [self._sheet[i] for i in src], "row": rows,
            "column": "", "value": values, "code": code, "severity": severity, "message": messages}))


def _hidden_rows(raw: RawTables, out: _Collector) -> None:
    """A warning per run of hidden (or filtered-out) rows: they are data and counted (SPEC §5.1)."""
    messages = []
    for _, a, b, filtered in raw.hidden:
        rows = f"第{a}行" if a == b else f"第{a}至{b}行"
        kind = "隐藏或被筛选掉的行" if filtered else "隐藏的行"
        messages.append(f"{rows}是{kind}(共{b - a + 1}行),已作为数据计入核算。"
                        f"如果这些行不应参与核算,请在Excel中删除这些行(而不是隐藏)后重新运行。")
    out.add_located([h[0] for h in raw.hidden], [h[1] for h in raw.hidden],
                    [str(a) if a == b else f"{a}-{b}" for _, a, b, _ in raw.hidden],
                    code="sheet.hidden_rows", severity="warning", messages=messages)


def _arr(v: str | pd.Series, index: pd.Index) -> np.ndarray:
    if isinstance(v, pd.Series):
        return v.reindex(index).to_numpy(dtype=object) if not v.index.equals(index) else v.to_numpy(dtype=object)
    a = np.empty(len(index), dtype=object)
    a.fill(v)  # one shared str: np.full would make a new one per row
    return a


def _show(v: object) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT or v is pd.NA:
        return ""
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))  # what Excel shows for a whole number (15 significant digits)
    if isinstance(v, pd.Timestamp):
        return v.strftime("%Y-%m-%d")
    return str(v)


def _is_empty(s: pd.Series) -> pd.Series:
    return s.isna() | s.astype(str).str.strip().isin(["", "nan", "None"])


# The laborer's own account (payee = laborer, SPEC §4.3): not used by the rule, so never an error.
_ACCOUNT_CODES = {"digits.chars": "account.chars", "digits.lost_digits": "account.lost_digits"}


def _normaliser(col: ColumnSpec, region: Region, raw: pd.DataFrame) -> Callable[[pd.Series], V.Normalised]:
    t = col.type
    if t == "text":
        return V.normalise_text
    if t == "id":
        return V.normalise_id
    if t == "date":
        return V.normalise_date
    if t == "month":
        return V.normalise_month
    if t == "money":
        return lambda s: V.normalise_money(s, col.max)
    if t == "enum":
        return lambda s: V.normalise_enum(s, list(col.choices))
    if t == "county":
        return lambda s: V.normalise_county(s, region)
    if t == "credit_code":
        return V.normalise_credit_code
    if t == "digits":
        return V.normalise_digits
    if t == "int":
        return lambda s: V.normalise_int(s, col.min if col.min is not None else -(10**9), col.max if col.max is not None else 10**9)
    if t == "bool":
        return lambda s: _normalise_bool(s, raw)
    if t == "categories":
        return normalise_categories
    raise AssertionError(f"unknown column type {t}")


def _normalise_bool(s: pd.Series, raw: pd.DataFrame) -> V.Normalised:
    """√/空 sheets mean empty = 否; elsewhere an empty required yes/no is missing (SPEC §3.2)."""
    marks = s.astype(str).str.strip().isin(YES_MARKS)
    tick_srcs = set(raw.loc[marks[marks].index, "_src"].unique())
    if not tick_srcs:
        return V.normalise_bool(s, empty_means_no=False)
    in_tick = raw["_src"].isin(tick_srcs)
    a = V.normalise_bool(s[in_tick], empty_means_no=True)
    b = V.normalise_bool(s[~in_tick], empty_means_no=False)
    vals = pd.concat([a.values, b.values]).reindex(s.index).astype("boolean")
    return V.Normalised(vals, pd.concat([a.issues, b.issues], ignore_index=True))


def _fault_cells(raw: pd.DataFrame, faults: list[tuple[int, int, str, str]]) -> dict[str, pd.Series]:
    """Column key → (raw index → what the cell shows) of the error values and result-less formulas."""
    if not faults:
        return {}
    where = pd.MultiIndex.from_arrays([raw["_src"].to_numpy(), raw["_row"].to_numpy()])
    out: dict[str, pd.Series] = {}
    for key in {f[2] for f in faults}:
        mine = [f for f in faults if f[2] == key]
        pos = where.get_indexer(pd.MultiIndex.from_tuples([(f[0], f[1]) for f in mine]))
        hit = pos >= 0
        out[key] = pd.Series([f[3] for f, h in zip(mine, hit, strict=True) if h], index=raw.index[pos[hit]],
                             dtype=object)
    return out


def _report_faults(raw: pd.DataFrame, shown: pd.Series, col: ColumnSpec, out: _Collector) -> None:
    errors = shown[shown.str.startswith("#")]
    formulas = shown[~shown.str.startswith("#")]
    out.add(raw, errors.index, key=col.key, code="cell.formula_error", severity="error", value=errors,
            message=errors.map(lambda v: f"单元格是Excel错误值{v}(公式算不出结果),请在Excel中改正公式或填入数值"))
    out.add(raw, formulas.index, key=col.key, code="cell.formula_no_value", severity="error", value=formulas,
            message="单元格是公式,但文件中没有保存计算结果(常见于程序生成的表格),请在Excel中打开、保存一次后再读取")


Codes = dict[str, V.Coded]  # column key → its text values as codes (see values.Coded)


def _normalise_table(
    raw: pd.DataFrame, spec: TableSpec, region: Region, out: _Collector,
    faults: list[tuple[int, int, str, str]] | None = None, pre: dict[str, V.Normalised] | None = None,
    consume: bool = False,
) -> tuple[pd.DataFrame, pd.Series, Codes]:
    """Normalise every known column; return the clean frame and a per-row 'has error' mask.

    `faults` (_src, _row, column key, shown): cells read as empty that hold an Excel error value or
    a formula without a result; they are reported as such, not as empty. Problems in a column the
    rule does not read (`rule = false`) are warnings that never set the mask: the clean frame's
    `check_note` says, per row, which of those columns to verify before paying (SPEC §5.1).
    `pre` holds columns already normalised together with other tables' (`_normalise_shared`); the
    returned codes are those of the text columns. With `consume`, each Arrow text column of `raw` is
    replaced by a Categorical over the codes it was factorised into: the same cells (problem records
    still show them) in a fraction of the memory."""
    clean: dict[str, pd.Series] = {}  # one frame built at the end: inserting columns one by one copies
    codes: Codes = {}
    has_error = pd.Series(False, index=raw.index)
    fault_cells = _fault_cells(raw, faults or [])
    notes = pd.Series(None, index=raw.index, dtype="object")
    for col in spec.columns:
        if col.key not in raw:
            clean[col.key] = pd.Series(pd.NA, index=raw.index, dtype=object)
            continue
        res = pre[col.key] if pre and col.key in pre else _normaliser(col, region, raw)(raw[col.key])
        clean[col.key] = res.values
        if res.coded is not None:
            codes[col.key] = res.coded
        iss = res.issues
        # An error in a column the rule does not read (`rule = false`) is still reported, but never
        # excludes the row (SPEC §5.1): the row is flagged in the roster's 备注 instead.
        flagged = _labels(iss.loc[iss["severity"] == "error", "idx"]) if len(iss) else pd.Index([])
        if len(iss) and col.feature == "payee_laborer":
            # The laborer's own account (SPEC §4.3): its problems are warnings under their own codes.
            iss = iss.assign(severity="warning", code=iss["code"].replace(_ACCOUNT_CODES))
        if len(iss):
            idx = _labels(iss["idx"])
            out.add(raw, idx, key=col.key, code=_as(iss, "code"), severity=_as(iss, "severity"),
                    message=_as(iss, "message"))
            if col.rule:
                has_error.loc[idx[(iss["severity"] == "error").to_numpy()]] = True
            else:
                _flag(notes, flagged, col)
        shown = fault_cells.get(col.key)
        if shown is not None and len(shown):
            _report_faults(raw, shown, col, out)
            if col.rule:
                has_error.loc[shown.index] = True
            else:
                _flag(notes, shown.index, col)
        if col.required:
            # Only cells that normalised to nothing can be empty: test those few, not a million.
            na = res.values.isna().to_numpy()
            if shown is not None:
                na = na & ~raw.index.isin(shown.index)
            cand = raw.index[na]
            missing = cand[_is_empty(raw.loc[cand, col.key]).to_numpy()] if len(cand) else cand
            if col.unless is not None and col.unless in raw:
                missing = _missing_both(raw, missing, col, spec, out)
            else:
                out.add(raw, missing, key=col.key, code="required.missing", severity="error",
                        message=f"必填项“{col.header}”为空,请补填")
            has_error.loc[missing] = True
        if consume and res.raw is not None:
            cells = pd.Categorical.from_codes(res.raw.codes, categories=pd.Index(res.raw.uniques, dtype=object))
            raw[col.key] = pd.Series(cells, index=raw.index, name=col.key, copy=False)
    clean["check_note"] = notes
    clean["_src"] = pd.Series(raw["_src"].to_numpy(), index=raw.index, copy=False)
    clean["_row"] = pd.Series(raw["_row"].to_numpy(), index=raw.index, copy=False)
    return pd.DataFrame(clean, index=raw.index, copy=False), has_error, codes


def _flag(notes: pd.Series, idx: pd.Index, col: ColumnSpec) -> None:
    """Add "<column> 有误,发放前请核实" to the 备注 of rows `idx` (a column the rule does not read)."""
    if not len(idx):
        return
    idx = idx.unique()
    flag = f"{col.header}有误,发放前请核实"
    prev = notes.loc[idx]
    notes.loc[idx] = prev.where(prev.isna(), prev + ";" + flag).fillna(flag)


def _missing_both(raw: pd.DataFrame, missing: pd.Index, col: ColumnSpec, spec: TableSpec, out: _Collector
                  ) -> pd.Index:
    """A column required unless another is filled (是否建档立卡 / 人员类别, SPEC §3.2): the rows where
    both are empty, reported on the column the sheet has (the first one if it has both)."""
    other = spec.column(col.unless)  # type: ignore[arg-type]
    missing = missing[_is_empty(raw.loc[missing, other.key]).to_numpy()]
    own = raw.loc[missing, "_src"].map({i: col.key in s.headers for i, s in enumerate(out.sheets)})
    own = own.fillna(True).to_numpy(dtype=bool)
    message = f"“{col.header}”和“{other.header}”都为空,请至少填写一项"
    out.add(raw, missing[own], key=col.key, code="required.missing", severity="error", message=message)
    out.add(raw, missing[~own], key=other.key, code="required.missing", severity="error", message=message)
    return missing
def _faults_of(raw: RawTables | None, table: str) -> list[tuple[int, int, str, str]]:
    return [f[1:] for f in raw.faults if f[0] == table] if raw is not None else []


def _as(iss: pd.DataFrame, col: str) -> pd.Series:
    return pd.Series(iss[col].to_numpy(dtype=object), index=_labels(iss["idx"]))


def _labels(idx: pd.Series) -> pd.Index:
    """Issue row labels as an Index of their own dtype (int for the raw frames' RangeIndex): looking
    up Python objects in a 5,000,000-row index costs a second, integers a millisecond."""
    return pd.Index(idx.to_numpy()).infer_objects()


def _locate(df: pd.DataFrame, sheets: list[SheetInfo], mask: pd.Series) -> pd.Series:
    """'文件 工作表 第N行' for rows in mask, used in cross-references between rows."""
    sub = df.loc[mask, ["_src", "_row"]]
    names = {i: f"{s.sheet}" for i, s in enumerate(sheets)}
    return sub["_src"].map(names) + "表第" + sub["_row"].astype(str) + "行"


def _duplicates(clean: pd.DataFrame, keys: list[str], out: _Collector, raw: pd.DataFrame, label: str,
                has_error: pd.Series, codes: np.ndarray | None = None) -> None:
    """All rows of a duplicated key are errors: we cannot know which one is right (money at stake).

    `codes`: the key as one integer per row (-1 where a part is missing), when already known."""
    if codes is None:
        dup = (clean[keys].notna().all(axis=1) & clean.duplicated(keys, keep=False)).to_numpy()
    else:
        dup = (codes >= 0) & repeated(codes)
    if not dup.any():
        return
    dup = pd.Series(dup, index=clean.index)
    d = clean.loc[dup, keys + ["_src", "_row"]].copy()
    d["_where"] = _locate(clean, out.sheets, dup)
    first = d.groupby(keys, sort=False)["_where"].transform(lambda w: "、".join(w.iloc[:4]))
    msg = "重复的" + label + ",共出现在:" + first + "。请删除重复行或改正后再核算"
    out.add(raw, d.index, key=keys[0], code="key.duplicate", severity="error", message=msg)
    has_error.loc[d.index] = True


_SHARED = ("id_number", "workshop_id", "name")  # columns compared across tables


def _normalise_shared(raw: RawTables, tables: Tables) -> dict[str, dict[str, V.Normalised]]:
    """Columns of one key and type in several tables, normalised together (values.normalise_together):
    each distinct ID is checked once, and the codes of all tables compare without matching strings.
    Only where the columns share a dtype (joining them then copies no cell). The wage table's come
    back as Categoricals: its clean frame stays inside validation, which reads these columns on a
    few rows only, and `_kept_wages` builds the Dataset's strings for the rows kept."""
    pre: dict[str, dict[str, V.Normalised]] = {t: {} for t in ("workshops", "laborers", "wages")}
    for key in _SHARED:
        found = []
        for t in pre:
            frame, spec = getattr(raw, t), tables.get(t)
            col = next((c for c in spec.columns if c.key == key), None)
            if frame is not None and col is not None and key in frame:
                found.append((t, col.type, frame[key]))
        kinds = {k for _, k, _ in found}
        if len(found) < 2 or len(kinds) != 1 or not kinds <= set(V.JOINT_TYPES) or \
                len({str(s.dtype) for _, _, s in found}) != 1:
            continue
        joint = V.normalise_together(kinds.pop(), [s for _, _, s in found], [t == "wages" for t, _, _ in found])
        for (t, _, _), res in zip(found, joint, strict=True):
            pre[t][key] = res
    return pre


def _coded(codes: Codes, key: str, n: int) -> V.Coded:
    """The codes of a text column; every row missing when the table has no such column."""
    return codes.get(key) or V.Coded(np.full(n, -1, dtype=np.intp), np.array([], dtype=object))


def validate(raw: RawTables, region: Region, *, consume: bool = False) -> Dataset:
    """Normalise, check every cell and every cross-table rule; never raises for data problems.

    With `consume`, the raw tables' frames are let go (set to None in `raw`) as soon as they are no
    longer needed: at national scale the raw wage frame is the size of the Dataset's."""
    tables = load_tables()
    _require_tables(raw, tables)
    out = _Collector(raw.sheets)
    pre = _normalise_shared(raw, tables)
    ws, ws_codes = _check_workshops(raw.workshops, tables, region, out, _faults_of(raw, "workshops"),
                                    pre["workshops"])
    lab, lab_err, reason, lab_codes = _check_laborers(raw.laborers, tables, region, out, ws, ws_codes,
                                                      _faults_of(raw, "laborers"), pre["laborers"], consume)
    wg, wg_err, pairs, wg_codes = _check_wages(raw, tables, region, out, ws, ws_codes, lab, lab_codes, lab_err,
                                               reason, pre["wages"], consume)
    good = ~wg_err.to_numpy()
    _cross_table_warnings(raw.wages, out, lab, wg, pairs, lab_codes, wg_codes, good)
    _hidden_rows(raw, out)
    if consume:
        raw.wages = raw.workshops = None

    conflict = _categories_vs_poor(lab, raw.laborers, out)
    if consume:
        raw.laborers = None
    reason[conflict & reason.isna()] = "人员类别与“是否建档立卡贫困劳动力”不一致"
    lab_err |= conflict
    lab["valid"] = ~lab_err
    lab["invalid_reason"] = reason.where(lab_err, None)
    lab["poor"] = lab["poor"].fillna(False).astype(bool)
    lab["relocated"] = lab["relocated"].fillna(False).astype(bool)
    problems = concat_problems(out.frames)
    # A wide wage sheet repeats the laborer's cells for every month: report each cell once.
    problems = problems.drop_duplicates(["file", "sheet", "row", "column", "code"]).reset_index(drop=True)
    pkey, found = _problem_rows(problems, raw.sheets, {"workshops": ws, "laborers": lab, "wages": wg})
    problems["county_code"] = _problem_counties(pkey, ws, found)
    problems["name"] = _problem_names(pkey, found)
    # Rows whose laborer key is unreadable cannot form a pair; they live on in `problems` only.
    lab_kept = (lab["id_number"].notna() & lab["workshop_id"].notna()).to_numpy()
    lab = lab.loc[lab_kept]

    keep = good & pairs.key_ok & wg["month"].notna().to_numpy() & wg["pay"].notna().to_numpy()
    wages = _kept_wages(wg, wg_codes, keep)

    ws = ws.loc[ws["workshop_id"].notna()]
    ds = Dataset(
        workshops=ws.reset_index(drop=True),
        laborers=lab.reset_index(drop=True),
        wages=wages,
        problems=problems,
        sheets=raw.sheets,
        files=raw.files,
        notes=list(raw.notes),
    )
    return ds


def _kept_wages(wg: pd.DataFrame, codes: Codes, keep: np.ndarray) -> pd.DataFrame:
    """The Dataset's wage frame: the clean frame's rows in `keep`, text keys as strings (the clean
    frame holds them as Categoricals, see `_normalise_shared`)."""
    index = pd.RangeIndex(int(keep.sum()))
    cols = {}
    for key in ["id_number", "workshop_id", "month", "pay", "days", *LOCATION_KEYS]:
        col = wg[key]
        if isinstance(col.dtype, pd.CategoricalDtype):
            c = codes[key]
            cols[key] = V.take(c.uniques, c.codes[keep], V.STR_DTYPE, index, key)
        else:
            cols[key] = pd.Series(col.array[keep], index=index, name=key, copy=False)
    cols["month"] = cols["month"].astype("int64")
    cols["pay"] = cols["pay"].astype("float64")
    return pd.DataFrame(cols, copy=False)


def _require_tables(raw: RawTables, tables: Tables) -> None:
    for key, label in (("workshops", "车间"), ("laborers", "人员"), ("wages", "工资")):
        if getattr(raw, key) is None:
            names = "、".join(tables.get(key).sheet_names)
            files = "、".join(sorted({f.path.name for f in raw.files})) or "(无)"
            raise InputError(
                f"在 {files} 中没有找到{label}表:请提供工作表名为 {names} 之一的表格,或表头含{label}表必填列的表格",
                code=f"input.missing_table.{key}",
            )


def _check_workshops(wraw: pd.DataFrame, tables: Tables, region: Region, out: _Collector,
                     faults: list[tuple[int, int, str, str]] | None = None,
                     pre: dict[str, V.Normalised] | None = None) -> tuple[pd.DataFrame, Codes]:
    """车间: normalised rows with `county_code`, `county` (current name) and `valid`; the text codes."""
    ws, ws_err, codes = _normalise_table(wraw, tables.workshops, region, out, faults, pre)
    _duplicates(ws, ["workshop_id"], out, wraw, "车间编号", ws_err, _coded(codes, "workshop_id", len(ws)).codes)
    bad_order = ws["withdrawn"].notna() & ws["certified"].notna() & (ws["withdrawn"] < ws["certified"])
    out.add(wraw, ws.index[bad_order], key="withdrawn", code="date.withdrawn_before_certified", severity="error",
            message="撤销日期早于认定日期,请核对两个日期")
    ws_err |= bad_order
    names = region.names_by_code()
    ws["county_code"] = ws["county"]
    ws["county"] = ws["county_code"].map(names)
    ws["valid"] = ~ws_err
    return ws, codes


def _workshop_state(ws: pd.DataFrame, ws_codes: Codes, other: V.Coded) -> tuple[np.ndarray, np.ndarray]:
    """Per row of a table with codes `other` of its 车间编号: whether the workshop is in the 车间
    table, and whether one of its rows there is valid."""
    own = _coded(ws_codes, "workshop_id", len(ws))
    cw, co, n = shared_codes(own.codes, own.uniques, other.codes, other.uniques)
    known = np.zeros(n + 1, dtype=bool)  # the last slot serves code -1 (missing)
    valid = np.zeros(n + 1, dtype=bool)
    known[cw[cw >= 0]] = True
    valid[cw[(cw >= 0) & ws["valid"].to_numpy(dtype=bool)]] = True
    return known[co], valid[co]


def _check_laborers(lraw: pd.DataFrame, tables: Tables, region: Region, out: _Collector, ws: pd.DataFrame,
                    ws_codes: Codes, faults: list[tuple[int, int, str, str]] | None = None,
                    pre: dict[str, V.Normalised] | None = None, consume: bool = False
                    ) -> tuple[pd.DataFrame, pd.Series, pd.Series, Codes]:
    """人员: normalised rows, which are in error, why (the first reason found per row), the text codes."""
    lab, lab_err, codes = _normalise_table(lraw, tables.laborers, region, out, faults, pre, consume)
    reason = pd.Series(pd.NA, index=lab.index, dtype="object")
    reason[lab_err] = "人员表本行数据有误"
    lab_ws = _coded(codes, "workshop_id", len(lab))
    known, valid = _workshop_state(ws, ws_codes, lab_ws)
    unknown = pd.Series((lab_ws.codes >= 0) & ~known, index=lab.index)
    out.add(lraw, lab.index[unknown], key="workshop_id", code="ref.unknown_workshop", severity="error",
            message="车间编号在车间表中不存在,请核对编号或先在车间表中登记该车间")
    lab_err |= unknown
    reason[unknown] = "车间编号在车间表中不存在"
    bad_ws = pd.Series(known & ~valid, index=lab.index)
    reason[bad_ws & reason.isna()] = "所属车间在车间表中的数据有误"
    lab_err |= bad_ws  # DESIGN: a pair whose workshop row has an error is invalid_data too
    pair = pack_keys(_coded(codes, "id_number", len(lab)).codes, lab_ws.codes, len(lab_ws.uniques) + 1)
    _duplicates(lab, ["id_number", "workshop_id"], out, lraw, "人员(同一身份证号在同一车间登记了多次)", lab_err, pair)
    reason[lab_err & reason.isna()] = "人员表本行数据有误"
    ends_early = lab["end"].notna() & lab["start"].notna() & (lab["end"] < lab["start"])
    out.add(lraw, lab.index[ends_early], key="end", code="date.end_before_start", severity="error",
            message="协议终止日期早于起始日期,请核对协议日期")
    reason[ends_early & reason.isna()] = "协议终止日期早于起始日期"
    lab_err |= ends_early
    return lab, lab_err, reason, codes


@dataclass
class _Pairs:
    """(ID, workshop) pairs of the laborer and wage rows, as integers."""

    lk: np.ndarray  # int64 pair key per laborer row, -1 where a part is missing
    key_ok: np.ndarray  # per wage row: ID and workshop both readable
    first: np.ndarray  # laborer row (position) of each pair's first row, in order of lk
    wpos: np.ndarray  # per wage row: its pair's index into `first`, -1 for a pair no laborer row has
    codes: tuple[np.ndarray, np.ndarray, int]  # ID and workshop codes of the wage rows, number of workshop codes

    def wage_keys(self, rows: np.ndarray) -> np.ndarray:
        """The pair keys (as `lk`) of some wage rows (positions or a mask)."""
        iw, ww, n_ws = self.codes
        return pack_keys(iw[rows], ww[rows], n_ws + 1)


def _pairs(lab_codes: Codes, wg_codes: Codes, n_lab: int, n_wg: int) -> _Pairs:
    il, iw, n_id = shared_codes(*_coded(lab_codes, "id_number", n_lab), *_coded(wg_codes, "id_number", n_wg))
    wl, ww, n_ws = shared_codes(*_coded(lab_codes, "workshop_id", n_lab), *_coded(wg_codes, "workshop_id", n_wg))
    lk = pack_keys(il, wl, n_ws + 1)
    first = np.flatnonzero((lk >= 0) & ~pd.Series(lk).duplicated().to_numpy())
    if not len(first):
        return _Pairs(lk, (iw >= 0) & (ww >= 0), first, np.full(n_wg, -1, dtype=np.int32), (iw, ww, n_ws))
    # Most IDs have one pair: find a wage row's pair by its ID code and confirm the workshop,
    # integer gathers instead of hashing millions of keys; IDs with several pairs are looked up.
    fid = il[first]
    count = np.bincount(fid, minlength=n_id)
    slot = np.full(n_id + 1, -1, dtype=np.int32)  # the last slot serves code -1 (missing)
    single = count[fid] == 1
    slot[fid[single]] = np.flatnonzero(single)
    ws_of = np.append(wl[first], -2).astype(np.int32)  # slot -1 picks -2: equal to no workshop code
    p = slot[iw]
    wpos = np.where(ws_of[p] == ww, p, np.int32(-1))
    del p
    several = np.flatnonzero(np.append(count > 1, False)[iw])
    pairs = _Pairs(lk, (iw >= 0) & (ww >= 0), first, wpos, (iw, ww, n_ws))
    if len(several):
        wpos[several] = pd.Index(lk[first]).get_indexer(pairs.wage_keys(several))
    return pairs


def _check_wages(raw: RawTables, tables: Tables, region: Region, out: _Collector, ws: pd.DataFrame,
                 ws_codes: Codes, lab: pd.DataFrame, lab_codes: Codes, lab_err: pd.Series, reason: pd.Series,
                 pre: dict[str, V.Normalised] | None = None, consume: bool = False
                 ) -> tuple[pd.DataFrame, pd.Series, _Pairs, Codes]:
    """工资: normalised rows, which are in error, the pairs of both tables and the text codes.

    A wage row with an error for a known pair marks that pair invalid (`lab_err`, `reason` in place).
    """
    graw = raw.wages
    wg, wg_err, codes = _normalise_table(graw, tables.wages, region, out, _faults_of(raw, "wages"), pre, consume)
    pairs = _pairs(lab_codes, codes, len(lab), len(wg))
    key_ok = pairs.key_ok
    known_ws, _ = _workshop_state(ws, ws_codes, _coded(codes, "workshop_id", len(wg)))
    ws_unknown = pd.Series(key_ok & ~known_ws, index=wg.index)
    out.add(graw, wg.index[ws_unknown], key="workshop_id", code="ref.unknown_workshop", severity="error",
            message="车间编号在车间表中不存在,请核对编号")
    registered = pd.Series(pairs.wpos >= 0, index=wg.index)
    not_registered = key_ok & ~ws_unknown & ~registered
    out.add(graw, wg.index[not_registered], key="id_number", code="ref.unknown_laborer", severity="error",
            message="该身份证号未在人员表中登记在此车间(或人员表中此人的数据有误),请先在人员表中登记或改正,并核对车间编号")
    wg_err |= ws_unknown | not_registered

    # A wage row with an error for a known pair makes the pair's figures unreliable → invalid_data.
    tainted = wg_err & registered
    if tainted.any():
        bad_pairs = pairs.wage_keys(tainted.to_numpy())
        where = _locate(wg, raw.sheets, tainted)
        first_where = where.groupby(bad_pairs).first()
        lab_key = pd.Series(pairs.lk, index=lab.index)
        hit = lab_key.isin(first_where.index)
        reason[hit & reason.isna()] = "工资数据有误(见" + lab_key[hit].map(first_where).fillna("") + ")"
        lab_err |= hit
    return wg, wg_err, pairs, codes


BLOCK = 1 << 20  # wage rows compared at a time: the per-row temporaries stay small at 10,000,000 rows


def _cross_table_warnings(graw: pd.DataFrame, out: _Collector, lab: pd.DataFrame, wg: pd.DataFrame, pairs: _Pairs,
                          lab_codes: Codes, wg_codes: Codes, good: np.ndarray) -> None:
    """Warnings that need both tables: pay outside the agreement, name mismatch, several rows a month.

    Only error-free wage rows of a registered pair take part; each is compared with its pair's
    first laborer row, looked up in per-pair arrays."""
    firsts = lab.iloc[pairs.first]
    start_p = month_index_of(firsts["start"]).to_numpy(dtype=float, na_value=np.nan)
    end_p = month_index_of(firsts["end"]).to_numpy(dtype=float, na_value=np.nan)
    names = "name" in graw
    if names:
        # The names compared as codes (one code space for both tables): no Python string per wage row.
        own = _coded(lab_codes, "name", len(lab))
        ln, wn, _ = shared_codes(own.codes, own.uniques, *_coded(wg_codes, "name", len(wg)))
        name_p = ln[pairs.first]
    month = wg["month"].array
    outside, mism, summed, summed_pos, summed_month = [], [], [], [], []
    for b0 in range(0, len(wg), BLOCK):
        rows = b0 + np.flatnonzero(good[b0:b0 + BLOCK] & (pairs.wpos[b0:b0 + BLOCK] >= 0))
        pos = pairs.wpos[rows]
        m = month[rows].to_numpy(dtype=float, na_value=np.nan)
        start = start_p[pos]
        # a comparison with NaN (no month, no end) is False
        outside.append(rows[((m < start) | (m > end_p[pos])) & ~np.isnan(start)])
        if names:
            w, lname = wn[rows], name_p[pos]
            mism.append(rows[(w >= 0) & (lname >= 0) & (w != lname)])
        has = ~np.isnan(m)
        summed.append(rows[has])
        summed_pos.append(pos[has])
        summed_month.append(m[has].astype(np.int64))
    at = wg.index[np.concatenate(outside)] if outside else wg.index[:0]
    out.add(graw, at, key="month", code="wage.outside_agreement", severity="warning",
            message="该月份不在劳务协议期内,这笔工资不计入奖补核算;如协议日期有误请更正人员表")
    if names and mism:
        rows = np.concatenate(mism)
        shown = own.uniques[own.codes[pairs.first[pairs.wpos[rows]]]]
        at = wg.index[rows]
        out.add(graw, at, key="name", code="name.mismatch", severity="warning",
                message="姓名与人员表(" + pd.Series(shown, index=at, dtype=object).astype(str) + ")不一致,请核对")
    if not summed:
        return
    # Only rows that will be summed count as "several rows a month"; a rejected row is reported on its own.
    # (pair, month) as one int64, month indexes staying below MONTH_STRIDE (dates are checked to 1950–2100).
    rows = np.concatenate(summed)
    key = _run_keys(np.concatenate(summed_pos)) * MONTH_STRIDE + np.concatenate(summed_month)
    out.add(graw, wg.index[rows[repeated(key)]], key="month", code="wage.multiple_rows", severity="warning",
            message="同一人同一车间同一月份有多行工资,核算时按合计计算;如为重复录入请删除")


def _run_keys(pair: np.ndarray) -> np.ndarray:
    """`pair` itself, or the number of its run when every pair's rows are one run of rows: equal
    exactly where `pair` is equal, and ascending, so that the month keys built on it are sorted
    already when the export lists each person's months in order (no sort of millions of keys)."""
    if len(pair) == 0:
        return pair
    change = np.empty(len(pair), dtype=bool)
    change[0] = True
    np.not_equal(pair[1:], pair[:-1], out=change[1:])
    runs = np.cumsum(change) - 1
    distinct = np.count_nonzero(np.bincount(pair))
    return runs if runs[-1] + 1 == distinct else pair


def _categories_vs_poor(lab: pd.DataFrame, lraw: pd.DataFrame, out: _Collector) -> pd.Series:
    """Fill 人员类别 from 是否建档立卡 where it is empty, and 是否建档立卡 from 人员类别; where both are
    given and disagree the row is an error (SPEC §3.2): returns that mask."""
    given = lab["categories"].notna()
    says_poor = has_category(lab["categories"], DEFAULT_CATEGORY)
    poor = lab["poor"]
    conflict = given & poor.notna() & (poor.fillna(False).astype(bool) != says_poor)
    yes = conflict & says_poor
    out.add(lraw, lab.index[yes], key="categories", code="category.conflict", severity="error",
            message=f"人员类别含“{DEFAULT_CATEGORY}”,但“是否建档立卡贫困劳动力”填的是“否”,请核对后改正其中一项")
    no = conflict & ~says_poor
    out.add(lraw, lab.index[no], key="categories", code="category.conflict", severity="error",
            message=f"“是否建档立卡贫困劳动力”填的是“是”,但人员类别中没有“{DEFAULT_CATEGORY}”:"
                    f"请在人员类别中加上“{DEFAULT_CATEGORY}”,或改正“是否建档立卡贫困劳动力”")
    lab["poor"] = poor.mask(given & poor.isna(), says_poor).astype("boolean")
    derived = np.where(lab["poor"].fillna(False).astype(bool), DEFAULT_CATEGORY, "")
    lab["categories"] = lab["categories"].where(given, pd.Series(derived, index=lab.index)).astype(object)
    return conflict
def _problem_rows(problems: pd.DataFrame, sheets: list[SheetInfo], frames: dict[str, pd.DataFrame]
                  ) -> tuple[np.ndarray, dict[str, tuple[np.ndarray, pd.DataFrame]]]:
    """The (sheet, row) key of each problem (-2 where it has none) and, per table, the keys and
    rows of its rows that problems are on: a few rows found by binary search among millions."""
    src_of = {(sh.file, sh.sheet): i for i, sh in enumerate(sheets)}
    src = np.array([src_of.get(k, -1) for k in zip(problems["file"], problems["sheet"], strict=True)],
                   dtype=np.int64)
    pkey = pack_keys(src, problems["row"].astype("float").fillna(-1).to_numpy(dtype=np.int64), ROW_STRIDE)
    pkey[pkey < 0] = -2  # a problem without sheet or row matches no data row (whose keys are ≥ 0)
    found = {}
    for table, frame in frames.items():
        k = pack_keys(frame["_src"].to_numpy(dtype=np.int64), frame["_row"].to_numpy(dtype=np.int64), ROW_STRIDE)
        at = rows_with_keys(k, pkey)
        found[table] = (k[at], frame.iloc[at])
    return pkey, found


def _problem_names(pkey: np.ndarray, found: dict[str, tuple[np.ndarray, pd.DataFrame]]) -> list:
    """The 姓名 on each problem's row (laborer and wage rows), so that a township need not look up
    who row 24 is; None for workshop rows and rows without a name."""
    if not len(pkey):
        return []
    parts = [pd.DataFrame({"k": k, "name": rows["name"].to_numpy(dtype=object)})
             for table, (k, rows) in found.items() if table != "workshops" and "name" in rows.columns]
    if not parts:
        return [None] * len(pkey)
    names = pd.concat(parts).dropna(subset=["name"]).drop_duplicates("k").set_index("k")["name"]
    got = pd.Series(pkey).map(names)
    return [None if pd.isna(v) else str(v) for v in got.astype(object)]


def _problem_counties(pkey: np.ndarray, ws: pd.DataFrame, found: dict[str, tuple[np.ndarray, pd.DataFrame]]
                      ) -> np.ndarray:
    """The county (code) each problem row belongs to, by its workshop; None when unknown.

    Lets a county's roster carry only that county's data problems.
    """
    if not len(pkey):
        return np.array([], dtype=object)
    county_by_ws = ws.dropna(subset=["workshop_id"]).drop_duplicates("workshop_id").set_index("workshop_id")["county_code"]
    parts = []
    for table, (k, rows) in found.items():
        code = rows["county_code"] if table == "workshops" else rows["workshop_id"].astype(object).map(county_by_ws)
        parts.append(pd.DataFrame({"k": k, "c": code.to_numpy(dtype=object)}))
    table = pd.concat(parts).dropna(subset=["c"]).drop_duplicates("k").set_index("k")["c"]
    return pd.Series(pkey).map(table).astype(object).where(lambda x: x.notna(), None).to_numpy()


def validate_table(raw: pd.DataFrame, spec: TableSpec, sheets: list[SheetInfo], region: Region, *,
                   unique: list[tuple[list[str], str]] = ()) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
    """One table checked on its own, like the input tables (`fupin ledger import`): the clean frame,
    the per-row 'has error' mask and the located problem records. `unique` lists (key columns,
    label) whose repeats are errors."""
    out = _Collector(sheets)
    clean, has_error, _ = _normalise_table(raw, spec, region, out)
    for keys, label in unique:
        _duplicates(clean, keys, out, raw, label, has_error)
    problems = concat_problems(out.frames)
    problems = problems.drop_duplicates(["file", "sheet", "row", "column", "code"]).reset_index(drop=True)
    return clean, has_error, problems


def flag_rows(raw: pd.DataFrame, sheets: list[SheetInfo], mask: pd.Series, *, key: str, code: str,
              message: str) -> pd.DataFrame:
    """Problem records (errors) for the rows in `mask`, located like every other problem."""
    out = _Collector(sheets)
    out.add(raw, raw.index[mask.to_numpy()], key=key, code=code, severity="error", message=message)
    return concat_problems(out.frames)
