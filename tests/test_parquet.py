"""Parquet input (issue 13): recognised by its column names, cells with a spreadsheet's kinds."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fupin_cli.errors import InputError
from fupin_cli.loading import load_dataset
from fupin_cli.problems import problems_to_records
from fupin_cli.region import load_region
from fupin_cli.sources import read_sources
from xlsxfixtures import ID, bad_check

CST = timezone(timedelta(hours=8))


def _write(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    ids = [ID["p1"], ID["p2"], bad_check(ID["p6"])]
    tables = {
        "车间": pa.table({"车间编号": ["TD001"], "车间名称": ["田东县电子车间"], "经营主体": ["某电子厂"],
                        "主体类型": ["企业"], "县(市、区)": ["田东县"],
                        "认定日期": pa.array([date(2018, 1, 10)], pa.date32())}),
        # IDs as int64 where they are all digits would lose nothing: here as text, one with a bad check digit
        "人员": pa.table({"身份证号": ids, "姓名": ["黄秀英", "韦小红", "陆六"], "车间编号": ["TD001"] * 3,
                        "是否建档立卡贫困劳动力": [True, True, None], "协议类型": ["劳务协议"] * 3,
                        # a time-zoned timestamp: the local date counts (2018-03-01 00:30 in Beijing)
                        "协议起始日期": pa.array([datetime(2018, 3, 1, 0, 30, tzinfo=CST)] * 3,
                                              pa.timestamp("ms", tz="Asia/Shanghai"))}),
        "工资": pa.table({"身份证号": [i for i in ids for _ in range(3)],
                        "车间编号": ["TD001"] * 9, "月份": ["2018-03", "2018-04", "2018-05"] * 3,
                        "实发工资": pa.array([1100, 1200, None] * 3, pa.int64()),
                        "出勤天数": pa.array([20.0, 21.0, 22.0] * 3, pa.float64())}),
    }
    out = []
    for name, t in tables.items():
        pq.write_table(t, folder / f"{name}.parquet")
        out.append(folder / f"{name}.parquet")
    return out


def test_parquet_tables_read_and_validated(tmp_path: Path) -> None:
    paths = _write(tmp_path / "in")
    ds = load_dataset(paths, region=load_region())
    recs = problems_to_records(ds.problems)
    bad = [r for r in recs if r["code"] == "id.checksum" and r["sheet"] == "人员"]
    assert [(r["sheet"], r["row"], r["column"]) for r in bad] == [("人员", 4, "身份证号")]  # record 2 → row 4
    lab = ds.laborers.set_index("id_number")
    assert lab.loc[ID["p1"], "start"] == datetime(2018, 3, 1)  # the Beijing date; in UTC it was 2018-02-28
    assert bool(lab.loc[ID["p1"], "poor"]) is True
    w = ds.wages[ds.wages["id_number"] == ID["p1"]]
    assert w["pay"].tolist() == [1100.0, 1200.0]  # the empty pay of 2018-05 is no wage row
    assert w["_row"].tolist() == [2, 3]
    assert [s.header_row for s in ds.sheets] == [1, 1, 1]


def test_parquet_integer_ids_keep_every_digit(tmp_path: Path) -> None:
    pid = ID["p1"] if ID["p1"][-1] != "X" else ID["p2"]
    pq.write_table(pa.table({"身份证号": pa.array([int(pid)], pa.int64()), "车间编号": ["TD001"],
                             "月份": ["2018-03"], "实发工资": [1100.0]}), tmp_path / "工资.parquet")
    raw = read_sources([tmp_path / "工资.parquet"])
    assert raw.wages["id_number"].tolist() == [pid]


def test_parquet_nested_column_refused(tmp_path: Path) -> None:
    pq.write_table(pa.table({"身份证号": [[1, 2]], "车间编号": ["TD001"], "月份": ["2018-03"],
                             "实发工资": [1100.0]}), tmp_path / "工资.parquet")
    with pytest.raises(InputError, match="不支持的数据类型") as exc:
        read_sources([tmp_path / "工资.parquet"])
    assert "身份证号" in exc.value.message


def test_parquet_not_parquet(tmp_path: Path) -> None:
    (tmp_path / "工资.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(InputError, match="不是有效的Parquet") as exc:
        read_sources([tmp_path / "工资.parquet"])
    assert exc.value.code == "input.corrupt"
