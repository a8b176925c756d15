"""Normalise and validate the raw tables into a Dataset (SPEC §3.4–3.6).

Every problem becomes a record naming file, sheet, Excel row, the column header as written, the
cell value, a stable code, a severity and a Chinese message. All problems are collected in one
pass; a row with an error is excluded from computation (its pair becomes `invalid_data`), the
rest still computes.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from fupin_cli import values as V
from fupin_cli.categories import DEFAULT_CATEGORY, has_category, normalise_categories
from fupin_cli.dataset import LOCATION_KEYS, ROW_STRIDE, Dataset, RawTables, SheetInfo, pack_keys, pair_keys
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
    return np.full(len(index), v, dtype=object)


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


def _normalise_table(
    raw: pd.DataFrame, spec: TableSpec, region: Region, out: _Collector,
    faults: list[tuple[int, int, str, str]] | None = None,
) -> tuple[pd.DataFrame, pd.Series]:
    """Normalise every known column; return the clean frame and a per-row 'has error' mask.

    `faults` (_src, _row, column key, shown): cells read as empty that hold an Excel error value or
    a formula without a result; they are reported as such, not as empty. Problems in a column the
    rule does not read (`rule = false`) are warnings that never set the mask: the clean frame's
    `check_note` says, per row, which of those columns to verify before paying (SPEC §5.1)."""
    clean = pd.DataFrame(index=raw.index)
    has_error = pd.Series(False, index=raw.index)
    fault_cells = _fault_cells(raw, faults or [])
    notes = pd.Series(None, index=raw.index, dtype="object")
    for col in spec.columns:
        if col.key not in raw:
            clean[col.key] = pd.NA
            continue
        res = _normaliser(col, region, raw)(raw[col.key])
        clean[col.key] = res.values
        iss = res.issues
        # An error in a column the rule does not read (`rule = false`) is still reported, but never
        # excludes the row (SPEC §5.1): the row is flagged in the roster's 备注 instead.
        flagged = pd.Index(iss.loc[iss["severity"] == "error", "idx"].to_numpy()) if len(iss) else pd.Index([])
        if len(iss) and col.feature == "payee_laborer":
            # The laborer's own account (SPEC §4.3): its problems are warnings under their own codes.
            iss = iss.assign(severity="warning", code=iss["code"].replace(_ACCOUNT_CODES))
        if len(iss):
            idx = pd.Index(iss["idx"].to_numpy())
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
            na = clean[col.key].isna().to_numpy()
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
    clean["check_note"] = notes
    clean["_src"] = raw["_src"].to_numpy()
    clean["_row"] = raw["_row"].to_numpy()
    return clean, has_error


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
    return pd.Series(iss[col].to_numpy(dtype=object), index=pd.Index(iss["idx"].to_numpy()))


def _locate(df: pd.DataFrame, sheets: list[SheetInfo], mask: pd.Series) -> pd.Series:
    """'文件 工作表 第N行' for rows in mask, used in cross-references between rows."""
    sub = df.loc[mask, ["_src", "_row"]]
    names = {i: f"{s.sheet}" for i, s in enumerate(sheets)}
    return sub["_src"].map(names) + "表第" + sub["_row"].astype(str) + "行"


def _duplicates(clean: pd.DataFrame, keys: list[str], out: _Collector, raw: pd.DataFrame, label: str,
                has_error: pd.Series) -> None:
    """All rows of a duplicated key are errors: we cannot know which one is right (money at stake)."""
    usable = clean[keys].notna().all(axis=1)
    dup = usable & clean.duplicated(keys, keep=False)
    if not dup.any():
        return
    d = clean.loc[dup, keys + ["_src", "_row"]].copy()
    d["_where"] = _locate(clean, out.sheets, dup)
    first = d.groupby(keys, sort=False)["_where"].transform(lambda w: "、".join(w.iloc[:4]))
    msg = "重复的" + label + ",共出现在:" + first + "。请删除重复行或改正后再核算"
    out.add(raw, d.index, key=keys[0], code="key.duplicate", severity="error", message=msg)
    has_error.loc[d.index] = True


def validate(raw: RawTables, region: Region) -> Dataset:
    """Normalise, check every cell and every cross-table rule; never raises for data problems."""
    tables = load_tables()
    _require_tables(raw, tables)
    out = _Collector(raw.sheets)
    ws = _check_workshops(raw.workshops, tables, region, out, _faults_of(raw, "workshops"))
    lab, lab_err, reason = _check_laborers(raw.laborers, tables, region, out, ws, _faults_of(raw, "laborers"))
    wg, wg_err, lk, wk = _check_wages(raw, tables, region, out, ws, lab, lab_err, reason)
    good = ~wg_err
    key_ok = pd.Series(wk >= 0, index=wg.index)
    _cross_table_warnings(raw.wages, out, lab, wg, lk, wk, good, key_ok)
    _hidden_rows(raw, out)

    conflict = _categories_vs_poor(lab, raw.laborers, out)
    reason[conflict & reason.isna()] = "人员类别与“是否建档立卡贫困劳动力”不一致"
    lab_err |= conflict
    lab["valid"] = ~lab_err
    lab["invalid_reason"] = reason.where(lab_err, None)
    lab["poor"] = lab["poor"].fillna(False).astype(bool)
    lab["relocated"] = lab["relocated"].fillna(False).astype(bool)
    problems = concat_problems(out.frames)
    # A wide wage sheet repeats the laborer's cells for every month: report each cell once.
    problems = problems.drop_duplicates(["file", "sheet", "row", "column", "code"]).reset_index(drop=True)
    problems["county_code"] = _problem_counties(problems, raw.sheets, ws, lab, wg)
    problems["name"] = _problem_names(problems, raw.sheets, lab, wg)
    # Rows whose laborer key is unreadable cannot form a pair; they live on in `problems` only.
    lab = lab.loc[lab["id_number"].notna() & lab["workshop_id"].notna()]

    wages = wg.loc[good & key_ok & wg["month"].notna() & wg["pay"].notna(),
                   ["id_number", "workshop_id", "month", "pay", "days", *LOCATION_KEYS]].copy()
    wages["month"] = wages["month"].astype("int64")
    wages["pay"] = wages["pay"].astype("float64")

    ws = ws.loc[ws["workshop_id"].notna()]
    return Dataset(
        workshops=ws.reset_index(drop=True),
        laborers=lab.reset_index(drop=True),
        wages=wages.reset_index(drop=True),
        problems=problems,
        sheets=raw.sheets,
        files=raw.files,
        notes=list(raw.notes),
    )


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
                     faults: list[tuple[int, int, str, str]] | None = None) -> pd.DataFrame:
    """车间: normalised rows with `county_code`, `county` (current name) and `valid`."""
    ws, ws_err = _normalise_table(wraw, tables.workshops, region, out, faults)
    _duplicates(ws, ["workshop_id"], out, wraw, "车间编号", ws_err)
    bad_order = ws["withdrawn"].notna() & ws["certified"].notna() & (ws["withdrawn"] < ws["certified"])
    out.add(wraw, ws.index[bad_order], key="withdrawn", code="date.withdrawn_before_certified", severity="error",
            message="撤销日期早于认定日期,请核对两个日期")
    ws_err |= bad_order
    names = region.names_by_code()
    ws["county_code"] = ws["county"]
    ws["county"] = ws["county_code"].map(names)
    ws["valid"] = ~ws_err
    return ws


def _check_laborers(lraw: pd.DataFrame, tables: Tables, region: Region, out: _Collector, ws: pd.DataFrame,
                    faults: list[tuple[int, int, str, str]] | None = None) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """人员: normalised rows, which are in error, and why (the first reason found per row)."""
    lab, lab_err = _normalise_table(lraw, tables.laborers, region, out, faults)
    reason = pd.Series(pd.NA, index=lab.index, dtype="object")
    reason[lab_err] = "人员表本行数据有误"
    all_ws = set(ws["workshop_id"].dropna())
    valid_ws = set(ws.loc[ws["valid"], "workshop_id"].dropna())
    unknown = lab["workshop_id"].notna() & ~lab["workshop_id"].isin(all_ws)
    out.add(lraw, lab.index[unknown], key="workshop_id", code="ref.unknown_workshop", severity="error",
            message="车间编号在车间表中不存在,请核对编号或先在车间表中登记该车间")
    lab_err |= unknown
    reason[unknown] = "车间编号在车间表中不存在"
    bad_ws = lab["workshop_id"].isin(all_ws) & ~lab["workshop_id"].isin(valid_ws)
    reason[bad_ws & reason.isna()] = "所属车间在车间表中的数据有误"
    lab_err |= bad_ws  # DESIGN: a pair whose workshop row has an error is invalid_data too
    _duplicates(lab, ["id_number", "workshop_id"], out, lraw, "人员(同一身份证号在同一车间登记了多次)", lab_err)
    reason[lab_err & reason.isna()] = "人员表本行数据有误"
    ends_early = lab["end"].notna() & lab["start"].notna() & (lab["end"] < lab["start"])
    out.add(lraw, lab.index[ends_early], key="end", code="date.end_before_start", severity="error",
            message="协议终止日期早于起始日期,请核对协议日期")
    reason[ends_early & reason.isna()] = "协议终止日期早于起始日期"
    lab_err |= ends_early
    return lab, lab_err, reason


def _check_wages(raw: RawTables, tables: Tables, region: Region, out: _Collector, ws: pd.DataFrame,
                 lab: pd.DataFrame, lab_err: pd.Series, reason: pd.Series
                 ) -> tuple[pd.DataFrame, pd.Series, np.ndarray, np.ndarray]:
    """工资: normalised rows, which are in error, and the pair keys of both tables.

    A wage row with an error for a known pair marks that pair invalid (`lab_err`, `reason` in place).
    """
    graw = raw.wages
    wg, wg_err = _normalise_table(graw, tables.wages, region, out, _faults_of(raw, "wages"))
    all_ws = set(ws["workshop_id"].dropna())
    lk, wk = pair_keys(lab, wg)
    lab_key = pd.Series(lk, index=lab.index)
    wg_key = pd.Series(wk, index=wg.index)
    known = np.unique(lk[lk >= 0])
    key_ok = pd.Series(wk >= 0, index=wg.index)
    ws_unknown = key_ok & ~wg["workshop_id"].isin(all_ws)
    out.add(graw, wg.index[ws_unknown], key="workshop_id", code="ref.unknown_workshop", severity="error",
            message="车间编号在车间表中不存在,请核对编号")
    registered = pd.Series(np.isin(wk, known), index=wg.index)
    not_registered = key_ok & ~ws_unknown & ~registered
    out.add(graw, wg.index[not_registered], key="id_number", code="ref.unknown_laborer", severity="error",
            message="该身份证号未在人员表中登记在此车间(或人员表中此人的数据有误),请先在人员表中登记或改正,并核对车间编号")
    wg_err |= ws_unknown | not_registered

    # A wage row with an error for a known pair makes the pair's figures unreliable → invalid_data.
    tainted = wg_err & registered
    if tainted.any():
        bad_pairs = wg_key[tainted]
        where = _locate(wg, raw.sheets, tainted)
        first_where = where.groupby(bad_pairs.to_numpy()).first()
        hit = lab_key.isin(first_where.index)
        reason[hit & reason.isna()] = "工资数据有误(见" + lab_key[hit].map(first_where).fillna("") + ")"
        lab_err |= hit
    return wg, wg_err, lk, wk


def _cross_table_warnings(graw: pd.DataFrame, out: _Collector, lab: pd.DataFrame, wg: pd.DataFrame, lk: np.ndarray,
                          wk: np.ndarray, good: pd.Series, key_ok: pd.Series) -> None:
    """Warnings that need both tables: pay outside the agreement, name mismatch, several rows a month."""
    lab_key = pd.Series(lk, index=lab.index)
    wg_key = pd.Series(wk, index=wg.index)
    ok_rows = (lk >= 0) & ~lab_key.duplicated().to_numpy()
    pair_index = pd.Index(lk[ok_rows])
    gkey = wg_key[good].to_numpy()
    pos = pair_index.get_indexer(gkey)
    hit_pair = pos >= 0
    start_m = month_index_of(lab.loc[ok_rows, "start"]).to_numpy(dtype=float, na_value=np.nan)
    end_m = month_index_of(lab.loc[ok_rows, "end"]).to_numpy(dtype=float, na_value=np.nan)
    s_m = np.where(hit_pair, start_m[np.maximum(pos, 0)], np.nan)
    e_m = np.where(hit_pair, end_m[np.maximum(pos, 0)], np.nan)
    m = wg.loc[good, "month"].astype("float").to_numpy()
    with np.errstate(invalid="ignore"):
        outside = (m < s_m) | (~np.isnan(e_m) & (m > e_m))
    outside_idx = wg.index[good.to_numpy()][outside & ~np.isnan(m) & ~np.isnan(s_m)]
    out.add(graw, outside_idx, key="month", code="wage.outside_agreement", severity="warning",
            message="该月份不在劳务协议期内,这笔工资不计入奖补核算;如协议日期有误请更正人员表")
    if "name" in graw:
        names_arr = lab.loc[ok_rows, "name"].astype(object).to_numpy()
        nm = pd.Series(np.where(hit_pair, names_arr[np.maximum(pos, 0)], None), index=wg.index[good.to_numpy()])
        wname = wg.loc[good, "name"]
        mism = pd.Series(_differs(wname, nm.to_numpy()), index=wname.index)
        out.add(graw, mism.index[mism.to_numpy()], key="name", code="name.mismatch", severity="warning",
                message="姓名与人员表(" + nm[mism].astype(str) + ")不一致,请核对")
    # Only rows that will be summed count as "several rows a month"; a rejected row is reported on its own.
    summed = good & key_ok & wg["month"].notna()
    # (pair, month) as one int64: month indexes stay below MONTH_STRIDE (dates are checked to 1950–2100)
    month_key = pack_keys(wk, wg["month"].fillna(0).to_numpy(dtype=np.int64), MONTH_STRIDE)
    month_key = np.where(summed.to_numpy(), month_key, -1 - np.arange(len(wk)))  # unsummed rows never collide
    multi = pd.Series(pd.Series(month_key).duplicated(keep=False).to_numpy(), index=wg.index)
    out.add(graw, wg.index[multi], key="month", code="wage.multiple_rows", severity="warning",
            message="同一人同一车间同一月份有多行工资,核算时按合计计算;如为重复录入请删除")


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
def _problem_names(problems: pd.DataFrame, sheets: list[SheetInfo], lab: pd.DataFrame, wg: pd.DataFrame) -> list:
    """The 姓名 on each problem's row (laborer and wage rows), so that a township need not look up
    who row 24 is; None for workshop rows and rows without a name."""
    if problems.empty:
        return []
    where = pd.DataFrame({"file": [sh.file for sh in sheets], "sheet": [sh.sheet for sh in sheets]})
    parts = [f[["_src", "_row", "name"]] for f in (lab, wg) if "name" in f.columns]
    if not parts:
        return [None] * len(problems)
    names = pd.concat(parts, ignore_index=True).dropna(subset=["name"])
    names = names.join(where, on="_src").drop_duplicates(["file", "sheet", "_row"])
    got = problems[["file", "sheet", "row"]].astype({"row": "float64"}).merge(
        names.assign(row=names["_row"].astype("float64"))[["file", "sheet", "row", "name"]],
        on=["file", "sheet", "row"], how="left")
    return [None if pd.isna(v) else str(v) for v in got["name"].astype(object)]


def _differs(a: pd.Series, b: np.ndarray) -> np.ndarray:
    """a != b where both are present; compared in Arrow, so that millions of wage rows do not each
    become a Python string (national-scale CSV, issue 13)."""
    import pyarrow as pa
    import pyarrow.compute as pac

    try:
        x, y = pa.array(a, type=pa.string(), from_pandas=True), pa.array(b, type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # a cell that is not text: compare as objects
        return (a.notna() & pd.Series(b, index=a.index).notna() & (a.astype(object) != b)).to_numpy()
    return pac.fill_null(pac.not_equal(x, y), False).to_numpy(zero_copy_only=False)


def _problem_counties(problems: pd.DataFrame, sheets: list[SheetInfo], ws: pd.DataFrame, lab: pd.DataFrame,
                      wg: pd.DataFrame) -> np.ndarray:
    """The county (code) each problem row belongs to, by its workshop; None when unknown.

    Lets a county's roster carry only that county's data problems.
    """
    if problems.empty:
        return np.array([], dtype=object)
    src_of = {(sh.file, sh.sheet): i for i, sh in enumerate(sheets)}
    src = np.array([src_of.get(k, -1) for k in zip(problems["file"], problems["sheet"], strict=True)], dtype=np.int64)
    pkey = pack_keys(src, problems["row"].astype("float").fillna(-1).to_numpy(dtype=np.int64), ROW_STRIDE)
    pkey[pkey < 0] = -2  # a problem without sheet or row matches no data row (whose keys are ≥ 0)
    county_by_ws = ws.dropna(subset=["workshop_id"]).drop_duplicates("workshop_id").set_index("workshop_id")["county_code"]
    parts = []
    for frame, own in ((ws, True), (lab, False), (wg, False)):
        k = pack_keys(frame["_src"].to_numpy(dtype=np.int64), frame["_row"].to_numpy(dtype=np.int64), ROW_STRIDE)
        hit = np.isin(k, pkey)
        sub = frame.loc[hit]
        code = sub["county_code"] if own else sub["workshop_id"].map(county_by_ws)
        parts.append(pd.DataFrame({"k": k[hit], "c": code.to_numpy(dtype=object)}))
    table = pd.concat(parts).dropna(subset=["c"]).drop_duplicates("k").set_index("k")["c"]
    return pd.Series(pkey).map(table).astype(object).where(lambda x: x.notna(), None).to_numpy()


def validate_table(raw: pd.DataFrame, spec: TableSpec, sheets: list[SheetInfo], region: Region, *,
                   unique: list[tuple[list[str], str]] = ()) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
    """One table checked on its own, like the input tables (`fupin ledger import`): the clean frame,
    the per-row 'has error' mask and the located problem records. `unique` lists (key columns,
    label) whose repeats are errors."""
    out = _Collector(sheets)
    clean, has_error = _normalise_table(raw, spec, region, out)
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
