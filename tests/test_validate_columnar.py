"""Validation on integer codes (issue 13): the same Dataset whatever the columns' dtypes.

National CSV and Parquet come as Arrow-backed text columns, factorised once and compared as codes
(pairs, repeats, names, problem locations); spreadsheets come as Python objects. A small national-
shape dataset with planted cross-table cases is validated from CSV, from Parquet and with its
text columns turned into objects (all tables, or only some: then the tables are coded apart and
their codes matched), and every frame and problem must be the same.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest

from fupin_cli import values as V
from fupin_cli.dataset import Dataset, RawTables, index_of, repeated, rows_with_keys, shared_codes
from fupin_cli.region import load_region
from fupin_cli.sources import read_sources
from fupin_cli.validate import validate
from fupin_cli.values.ids import id_check_digit

WS_HEAD = "车间编号,车间名称,经营主体,主体类型,统一社会信用代码,县(市、区),乡镇,村(社区),认定日期,撤销日期,开户银行,银行账号"
LAB_HEAD = "身份证号,姓名,车间编号,是否建档立卡贫困劳动力,是否易地扶贫搬迁,协议类型,协议起始日期,协议终止日期"
WAGE_HEAD = "身份证号,车间编号,月份,实发工资,出勤天数,姓名"


def _id(n: int) -> str:
    first17 = f"45102119900101{n:03d}"
    return first17 + id_check_digit(first17)


def _bad(n: int) -> str:
    good = _id(n)
    return good[:17] + ("0" if good[17] != "0" else "1")  # a wrong check character


def _write(folder: Path) -> Path:
    """车间/人员/工资 CSV files with planted cases; the row of each case in `CASES`."""
    ws = [f"GX00000{k},凌云县龙镇河村电子厂{k},凌云县某实业有限公司,个体工商户,,凌云县,龙镇,河村,2018-06-26,,"
          f"中国工商银行,62001088357387323{k}" for k in (1, 2, 3)]
    lab = [
        f"{_id(1)},韦一,GX000001,是,否,劳务协议,2018-01-01,",
        f"{_id(2)},黄二,GX000001,是,否,劳务协议,2018-01-01,",
        f"{_id(2)},黄二,GX000002,是,否,劳务协议,2018-01-01,",  # one person in two workshops
        f"{_id(3)},王五,GX000002,否,否,劳务协议,2018-01-01,",
        f"{_id(4)},李四,GX000003,是,否,劳务协议,2019-03-01,",  # agreement from March
        f"{_id(5)},赵六,GX000001,是,否,劳务协议,2018-01-01,",
        f"{_bad(6)},钱七,GX000001,是,否,劳务协议,2018-01-01,",  # checksum
        f"{_id(7)},孙八,GX000003,否,否,劳务协议,2018-01-01,2019-12-31",
        f" {_id(8)} ,周九,GX000002,是,否,劳务协议,2018-01-01,",  # reformatted in 人员 only
    ]
    wages = []
    for m in (1, 2, 3):
        wages += [f"{_id(1)},GX000001,2019-0{m},1000.00,20,韦一",
                  f"{_id(2)},GX000001,2019-0{m},900.00,20,黄二",
                  f"{_id(2)},GX000002,2019-0{m},800.00,20,黄二",
                  f"{_id(7)},GX000003,2019-0{m},700.00,20,孙八",
                  f"{_id(7)},GX000003,2019-0{m},10.00,1,孙八",  # several rows a month, one run
                  f"{_id(8)},GX000002,2019-0{m},600.00,20,周九"]
    wages += [
        f"{_id(3)},GX000002,2019-01,500.00,20,王伍",  # name mismatch
        f"{_id(4)},GX000003,2019-01,500.00,20,李四",  # outside the agreement
        f"{_id(5)},GX000002,2019-01,500.00,20,赵六",  # registered in another workshop only
        f"{_id(5)},GX000009,2019-01,500.00,20,赵六",  # unknown workshop
        f"{_bad(6)},GX000001,2019-01,500.00,20,钱七",  # checksum
        f"{_id(1)},GX000001,2019-02,50.00,2,韦一",  # the same month again, far from its pair's rows
        f"{_id(2)}X,GX000001,2019-04,500.00,20,黄二",  # 19 characters
        f"{_id(8).replace('1', ' 1', 1)},GX000002,2019-04,500.00,20,周九",  # a space inside: reformatted
    ]
    for name, head, rows in (("车间", WS_HEAD, ws), ("人员", LAB_HEAD, lab), ("工资", WAGE_HEAD, wages)):
        (folder / f"{name}.csv").write_text("\n".join([head, *rows]) + "\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def csv_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write(tmp_path_factory.mktemp("national"))


def _same(a: Dataset, b: Dataset, *, files: bool = True) -> None:
    for name in ("workshops", "laborers", "wages", "problems"):
        x, y = getattr(a, name), getattr(b, name)
        if not files and name == "problems":
            x, y = x.drop(columns=["file"]), y.drop(columns=["file"])
        pd.testing.assert_frame_equal(x, y, check_exact=True, obj=name)


def _objects(raw: RawTables, tables: tuple[str, ...]) -> RawTables:
    """The raw tables with the text columns of `tables` as Python objects (as a spreadsheet gives)."""
    out = RawTables(raw.workshops, raw.laborers, raw.wages, raw.sheets, raw.files, raw.notes, raw.faults, raw.hidden)
    for t in tables:
        frame = getattr(raw, t).copy()
        for c in frame.columns:
            if isinstance(frame[c].dtype, pd.StringDtype):
                frame[c] = frame[c].astype(object).where(frame[c].notna(), None)
        setattr(out, t, frame)
    return out


def _codes(ds: Dataset) -> set[tuple[str, int, str]]:
    return set(zip(ds.problems["sheet"], ds.problems["row"].astype(int), ds.problems["code"], strict=True))


def test_planted_cross_table_cases(csv_folder: Path) -> None:
    ds = validate(read_sources([csv_folder]), load_region())
    found = _codes(ds)
    # 工资 rows: header is row 1; months 1..3 × 6 rows are rows 2..19, then the planted rows from 20
    multi = {("工资", r, "wage.multiple_rows") for m in range(3) for r in (2 + 6 * m + 3, 2 + 6 * m + 4)}
    multi |= {("工资", 2 + 6, "wage.multiple_rows"), ("工资", 25, "wage.multiple_rows")}
    assert multi <= found
    assert {("工资", 20, "name.mismatch"), ("工资", 21, "wage.outside_agreement"),
            ("工资", 22, "ref.unknown_laborer"), ("工资", 23, "ref.unknown_workshop"),
            ("工资", 24, "id.checksum"), ("人员", 8, "id.checksum"), ("人员", 10, "id.reformatted"),
            ("工资", 26, "id.length"), ("工资", 27, "id.reformatted")} <= found
    assert not {c for c in found if c[2] == "wage.multiple_rows"} - multi
    assert not any(c[2] in ("key.duplicate", "ref.unknown_laborer") and c[0] == "人员" for c in found)
    # the person in two workshops is paid in both; a reformatted ID joins its canonical laborer row
    pairs = ds.wages.groupby(["id_number", "workshop_id"]).size()
    assert pairs[(_id(2), "GX000001")] == 3 and pairs[(_id(2), "GX000002")] == 3
    assert pairs[(_id(8), "GX000002")] == 4
    mism = ds.problems[ds.problems["code"] == "name.mismatch"]
    assert mism["message"].str.contains("王五").all() and mism["name"].tolist() == ["王伍"]
    assert ds.wages["id_number"].dtype == V.STR_DTYPE and ds.wages["month"].dtype == np.int64


@pytest.mark.parametrize("as_objects", [("workshops", "laborers", "wages"), ("laborers",), ("wages",)])
def test_same_dataset_from_objects(csv_folder: Path, as_objects: tuple[str, ...]) -> None:
    """Object columns (all tables: coded together; some: coded apart, codes matched) give the same Dataset."""
    raw = read_sources([csv_folder])
    _same(validate(raw, load_region()), validate(_objects(raw, as_objects), load_region()))


def test_parquet_and_consume(csv_folder: Path, tmp_path: Path) -> None:
    for name in ("车间", "人员", "工资"):
        table = pcsv.read_csv(csv_folder / f"{name}.csv", convert_options=pcsv.ConvertOptions(
            column_types={c: pa.string() for c in pcsv.read_csv(csv_folder / f"{name}.csv").column_names}))
        pq.write_table(table, tmp_path / f"{name}.parquet")
    from_csv = validate(read_sources([csv_folder]), load_region())
    _same(from_csv, validate(read_sources([tmp_path]), load_region()), files=False)
    raw = read_sources([csv_folder])
    _same(from_csv, validate(raw, load_region(), consume=True))
    assert raw.wages is None and raw.laborers is None and raw.workshops is None


def test_csv_empty_cells_are_empty(tmp_path: Path) -> None:
    path = _write(tmp_path)
    raw = read_sources([path])
    assert raw.workshops["credit_code"].isna().all() and raw.workshops["withdrawn"].isna().all()
    assert raw.laborers["end"].notna().sum() == 1
    assert raw.wages["id_number"].array.__arrow_array__().type == pa.large_string()


def _dup_ref(keys: np.ndarray) -> np.ndarray:
    return pd.Series(keys).duplicated(keep=False).to_numpy()


def test_repeated_and_rows_with_keys() -> None:
    rng = np.random.default_rng(7)
    for keys in (rng.integers(-1, 50, 1000), np.sort(rng.integers(0, 300, 1000)), np.array([], np.int64),
                 np.array([5]), np.repeat(np.arange(100), 3)[::-1]):
        assert (repeated(keys) == _dup_ref(keys)).all()
        wanted = np.r_[rng.integers(-2, 60, 20), -2]
        assert (rows_with_keys(keys, wanted) == np.flatnonzero(np.isin(keys, wanted))).all()


def test_shared_codes_and_index_of() -> None:
    ua = np.array(["甲", "乙", "丙"], dtype=object)
    ub = np.array(["丙", "丁", "甲"], dtype=object)
    ca, cb = np.array([0, 1, -1, 2]), np.array([2, 0, 1, -1, 1])
    a, b, n = shared_codes(ca, ua, cb, ub)
    text_a = [ua[c] if c >= 0 else None for c in ca]
    text_b = [ub[c] if c >= 0 else None for c in cb]
    for i, x in enumerate(text_a):
        for j, y in enumerate(text_b):
            assert (a[i] == b[j] and a[i] >= 0) == (x is not None and x == y)
    assert n == 4 and (b[cb < 0] == -1).all()
    assert index_of(np.array([3, "x", 1], dtype=object), np.array([1, 2, 3], dtype=object)).tolist() == [2, -1, 0]
    assert index_of(ub, np.array([], dtype=object)).tolist() == [-1, -1, -1]


def test_normalise_together_is_each_normaliser() -> None:
    parts = [pd.Series([_id(1), f" {_id(2)}", None, _bad(3), "45102119900101", _id(1)], index=[10, 11, 12, 13, 14, 15]),
             pd.Series([_id(2), "x", _id(1)], dtype="str"),
             pd.Series([4.5102119900101e17, _id(9)], dtype=object)]
    together = V.normalise_together("id", parts, [False, True, False])
    for s, got in zip(parts, together, strict=True):
        alone = V.normalise_id(s)
        values = got.values.astype(object) if isinstance(got.values.dtype, pd.CategoricalDtype) else got.values
        pd.testing.assert_series_equal(values.astype(V.STR_DTYPE), alone.values)
        pd.testing.assert_frame_equal(got.issues.reset_index(drop=True), alone.issues.reset_index(drop=True))
        shown = [got.coded.uniques[c] if c >= 0 else None for c in got.coded.codes]
        assert shown == [None if pd.isna(v) else v for v in alone.values]
    assert together[0].coded.uniques is together[1].coded.uniques


def test_blocks_of_wage_rows(csv_folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The cross-table checks run over blocks of wage rows: any block size gives the same result."""
    import fupin_cli.validate as validation

    whole = validate(read_sources([csv_folder]), load_region())
    monkeypatch.setattr(validation, "BLOCK", 4)
    _same(whole, validate(read_sources([csv_folder]), load_region()))
