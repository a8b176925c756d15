"""The payout ledger: schema and migrations, batches, the double-pay guard, corrupt files, lock, kills."""

from __future__ import annotations

import hashlib
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from fupin_cli.dataset import InputFile
from fupin_cli.errors import EXIT_LOCKED, FupinError, LedgerError, LockBusy
from fupin_cli.fsutil import sha256_file
from fupin_cli.ledger import (
    EXPORT_HEADERS,
    LATEST_VERSION,
    PAID_COLUMNS,
    PAYOUT_COLUMNS,
    ROSTER_COLUMNS,
    Ledger,
    default_ledger_path,
)
from fupin_cli.ledger.schema import APPLICATION_ID, migrate
from fupin_cli.months import month_index

M = month_index(2019, 5)
TESTS = Path(__file__).parent


def make_roster(n: int, *, start: int = 0, workshops: int = 3, county_code: str = "451003",
                county: str = "田阳区", month: int = M, amount: float = 1000.0) -> pd.DataFrame:
    """`n` roster rows with distinct 18-character ID numbers numbered from `start`."""
    idx = range(start, start + n)
    return pd.DataFrame({
        "id_number": [f"{county_code}1990{i:08d}" for i in idx],
        "name": [f"劳动力{i}" for i in idx],
        "workshop_id": [f"{county_code}-W{i % workshops}" for i in idx],
        "workshop_name": [f"车间{i % workshops}" for i in idx],
        "county_code": county_code,
        "county": county,
        "qualified_month": pd.array([month - 1] * n, dtype="Int64"),
        "payable_month": pd.array([month] * n, dtype="Int64"),
        "amount": amount,
    })


def input_files(folder: Path) -> list[InputFile]:
    out = []
    for name, body in [("车间.xlsx", b"workshops"), ("工资.csv", "工资,1200".encode("gbk"))]:
        p = folder / name
        p.write_bytes(body)
        out.append(InputFile(path=p, sha256=sha256_file(p), size=p.stat().st_size))
    return out


def record(ledger: Ledger, month: int, rows: pd.DataFrame, **kw: object):
    return ledger.record_batch(month, rows, policy="gx-2018", policy_version="2018-01",
                               files=kw.pop("files", []), **kw)  # type: ignore[arg-type]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def dump(path: Path) -> list[str]:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def scalar(path: Path, sql: str) -> object:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchone()[0]
    finally:
        conn.close()


@pytest.fixture
def ledger_path(tmp_path: Path) -> Path:
    return tmp_path / "账本" / "ledger.sqlite3"


# --- schema and migrations -----------------------------------------------------------------------

def test_new_ledger_in_missing_folder_gets_latest_schema(ledger_path: Path) -> None:
    with Ledger.open(ledger_path, create=True) as ledger:
        assert ledger.batches().empty
        assert ledger.latest_month() is None
    assert ledger_path.is_file()
    assert scalar(ledger_path, "PRAGMA user_version") == LATEST_VERSION == 5
    assert scalar(ledger_path, "PRAGMA application_id") == APPLICATION_ID
    assert scalar(ledger_path, "PRAGMA journal_mode") == "delete"
    tables = {r for r in dump(ledger_path) if r.startswith("CREATE")}
    assert any("CREATE TABLE batch_files" in t for t in tables)
    assert any("payouts_once_per_person" in t for t in tables)
    assert not Path(f"{ledger_path}-wal").exists() and not Path(f"{ledger_path}-journal").exists()


def test_migration_from_v1_keeps_data_and_adds_v2(ledger_path: Path) -> None:
    ledger_path.parent.mkdir()
    conn = sqlite3.connect(ledger_path, isolation_level=None)
    assert migrate(conn, target=1) == 1
    conn.execute("INSERT INTO batches (month, county, created_at, policy, policy_version, tool_version, people,"
                 " workshops, amount_cents) VALUES ('2019-04', NULL, '2019-05-01T00:00:00+08:00', 'gx-2018', '1',"
                 " '0.0.1', 1, 1, 100000)")
    conn.execute("INSERT INTO payouts (batch_id, id_number, name, workshop_id, workshop_name, county_code, county,"
                 " qualified_month, payable_month, amount_cents) VALUES (1, '452122199001011234', '甲', 'W1',"
                 " '车间', '451003', '田阳区', '2019-03', '2019-04', 100000)")
    cols_v1 = [r[1] for r in conn.execute("PRAGMA table_info(batches)")]
    conn.close()
    assert "note" not in cols_v1

    with Ledger.open(ledger_path, create=True) as ledger:
        paid = ledger.paid()
        batches = ledger.batches()
    assert scalar(ledger_path, "PRAGMA user_version") == LATEST_VERSION
    for index in ("payouts_batch", "payouts_pair", "payouts_once_per_person"):  # indexes survive the rebuilds
        assert scalar(ledger_path, f"SELECT count(*) FROM sqlite_master WHERE name = '{index}'") == 1
    # v4 (SPEC §4.3): a payout recorded before reads as period null, policy gx-2018.
    assert pd.isna(paid["period"].iloc[0]) and paid["policy"].iloc[0] == "gx-2018"
    assert paid["id_number"].tolist() == ["452122199001011234"]
    assert paid[["qualified_month", "payable_month", "batch_month"]].iloc[0].tolist() == [
        month_index(2019, 3), month_index(2019, 4), month_index(2019, 4)]
    assert paid["amount"].tolist() == [1000.0]
    assert batches["note"].isna().all()


def test_periods_one_payment_per_person_period_and_group(ledger_path: Path) -> None:
    """v3: a yearly policy pays the same pair once per period; the database refuses a second row for
    the same ID, period and exclusive group, whatever the code does."""
    ledger_path.parent.mkdir()
    conn = sqlite3.connect(ledger_path, isolation_level=None)
    migrate(conn)
    conn.execute("INSERT INTO batches (month, county, created_at, policy, policy_version, tool_version, people,"
                 " workshops, amount_cents) VALUES ('2020-06', NULL, 't', 'fx-2023', '1', '0', 1, 1, 120000)")
    row = ("INSERT INTO payouts (batch_id, id_number, workshop_id, qualified_month, payable_month, amount_cents,"
           " policy, period, exclusive_key) VALUES (1, 'A', ?, '2020-06', '2020-06', 120000, ?, ?, ?)")
    conn.execute(row, ("W1", "fx-2023", "2019", "奉新"))
    conn.execute(row, ("W1", "fx-2023", "2020", "奉新"))  # the same pair, another year
    for args in (("W2", "fx-2023", "2020", "奉新"),        # another workshop, same year
                 ("W1", "fx-2023-park", "2020", "奉新"),   # another policy of the same group
                 ("W1", "fx-2023", "2020", "奉新")):        # the same pair and year again
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute(row, args)
    conn.execute(row, ("W2", "jl-2018", None, "jl-2018"))  # another group: its own payment
    with pytest.raises(sqlite3.IntegrityError):  # once: a second null-period payment of the group
        conn.execute(row, ("W3", "jl-2018", None, "jl-2018"))
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute(row, ("W4", "x", "20", "x"))  # a period is a 4-digit year
    conn.close()


def test_migrate_is_idempotent_and_stepwise(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "x.sqlite3", isolation_level=None)
    assert migrate(conn, target=1) == 1
    assert migrate(conn, target=1) == 1
    assert migrate(conn) == LATEST_VERSION
    assert migrate(conn) == LATEST_VERSION
    with pytest.raises(ValueError):
        migrate(conn, target=LATEST_VERSION + 1)
    conn.close()


def test_default_ledger_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("FUPIN_LEDGER", raising=False)
    p = default_ledger_path()
    assert p.name == "ledger.sqlite3" and "fupin" in p.parent.name
    monkeypatch.setenv("FUPIN_LEDGER", str(tmp_path / "x.sqlite3"))
    assert default_ledger_path() == tmp_path / "x.sqlite3"


# --- recording and reading -----------------------------------------------------------------------

def test_record_batch_and_read_back(ledger_path: Path, tmp_path: Path) -> None:
    rows = make_roster(4, workshops=2)
    rows.loc[1, "amount"] = 2000.0
    files = input_files(tmp_path)
    with Ledger.open(ledger_path, create=True) as ledger:
        result = record(ledger, M, rows, files=files + files[:1], county_code="451003", note="payout --commit")
        info = result.batch
        assert result.created and result.recorded == 4 and result.skipped == []
        assert (info.month, info.county_code, info.people, info.workshops, info.amount) == (M, "451003", 4, 2, 5000.0)
        assert (info.policy, info.policy_version, info.note, info.once_per_person) == (
            "gx-2018", "2018-01", "payout --commit", True)
        assert ledger.batch(info.batch_id) == info
        assert ledger.latest_month() == M

        payouts = ledger.batch_payouts(info.batch_id)
        assert list(payouts.columns) == PAYOUT_COLUMNS
        expected = rows.astype({"qualified_month": "int64", "payable_month": "int64"})
        got = payouts.set_index("id_number").loc[rows["id_number"]].reset_index()
        pd.testing.assert_frame_equal(got[ROSTER_COLUMNS], expected[ROSTER_COLUMNS], check_dtype=False)

        stored = ledger.batch_files(info.batch_id)
        assert sorted(stored["path"]) == sorted(str(f.path) for f in files)
        assert dict(zip(stored["path"], stored["sha256"], strict=True)) == {str(f.path): f.sha256 for f in files}

        paid = ledger.paid()
        assert list(paid.columns) == PAID_COLUMNS
        assert sorted(paid["id_number"]) == sorted(rows["id_number"])
        assert set(paid["batch_month"]) == {M} and set(paid["batch_id"]) == {info.batch_id}
        assert ledger.paid(before_month=M).empty
        assert len(ledger.paid(before_month=M + 1)) == 4

        listed = ledger.batches()
        assert listed[["batch_id", "month", "people", "amount", "files"]].iloc[0].tolist() == [
            info.batch_id, M, 4, 5000.0, 2]
        with pytest.raises(LedgerError) as err:
            ledger.batch_payouts(99)
        assert "99" in err.value.message


def test_export_rows_have_text_months_and_chinese_headers(ledger_path: Path, tmp_path: Path) -> None:
    with Ledger.open(ledger_path, create=True) as ledger:
        record(ledger, M, make_roster(2), files=input_files(tmp_path))
        record(ledger, M + 1, make_roster(1, start=10, month=M + 1))
        batches, payouts, files = ledger.export_rows()
    assert batches["month"].tolist() == ["2019-05", "2019-06"]
    assert sorted(payouts["payable_month"]) == ["2019-05", "2019-05", "2019-06"]
    assert len(files) == 2
    for key, frame in [("batches", batches), ("payouts", payouts), ("files", files)]:
        assert set(frame.columns) <= set(EXPORT_HEADERS[key])


def test_committing_same_month_again_records_nothing(ledger_path: Path) -> None:
    with Ledger.open(ledger_path, create=True) as ledger:
        first = record(ledger, M, make_roster(5))
    before = dump(ledger_path)
    with Ledger.open(ledger_path, create=True) as ledger:
        again = record(ledger, M, make_roster(5))
        changed = record(ledger, M, make_roster(7, start=3))
    assert not again.created and not changed.created
    assert again.batch == first.batch == changed.batch
    assert again.recorded == 0
    assert dump(ledger_path) == before


def test_already_paid_laborer_is_rejected_and_nothing_recorded(ledger_path: Path) -> None:
    with Ledger.open(ledger_path, create=True) as ledger:
        record(ledger, M, make_roster(3))
    before = digest(ledger_path)
    # Same person (start=2 → ID of row 2) at another workshop, next month, plus two new people.
    second = make_roster(3, start=2, workshops=1, month=M + 1)
    second["workshop_id"] = "451003-OTHER"
    with Ledger.open(ledger_path, create=True) as ledger:
        with pytest.raises(LedgerError) as err:
            record(ledger, M + 1, second)
        assert err.value.code == "ledger.double_pay"
        assert "451003********0002" in err.value.message and "2019-05" in err.value.message
        assert len(ledger.batches()) == 1
        assert len(ledger.paid()) == 3
        # The ledger is still usable: without the paid person the batch goes through.
        ok = record(ledger, M + 1, second.iloc[1:])
        assert ok.created and ok.recorded == 2
    assert digest(ledger_path) != before  # (only after the valid commit)


def test_rejected_batch_leaves_file_bytes_unchanged(ledger_path: Path) -> None:
    with Ledger.open(ledger_path, create=True) as ledger:
        record(ledger, M, make_roster(3))
    before = digest(ledger_path)
    with Ledger.open(ledger_path, create=True) as ledger, pytest.raises(LedgerError):
        record(ledger, M + 1, make_roster(2000, start=1, month=M + 1))
    assert digest(ledger_path) == before
    assert not Path(f"{ledger_path}-journal").exists()


def test_duplicate_person_within_one_roster_is_rejected(ledger_path: Path) -> None:
    rows = pd.concat([make_roster(2), make_roster(1, start=1, workshops=1)], ignore_index=True)
    with Ledger.open(ledger_path, create=True) as ledger:
        with pytest.raises(LedgerError) as err:
            record(ledger, M, rows)
        assert err.value.code == "ledger.double_pay"
        assert ledger.batches().empty


def test_unique_index_is_the_last_line_of_defence(ledger_path: Path) -> None:
    with Ledger.open(ledger_path, create=True) as ledger:
        record(ledger, M, make_roster(1))
    conn = sqlite3.connect(ledger_path)
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("INSERT INTO payouts (batch_id, id_number, workshop_id, qualified_month, payable_month,"
                     " amount_cents) SELECT batch_id, id_number, 'ANOTHER', qualified_month, payable_month,"
                     " amount_cents FROM payouts")
    conn.close()


def test_policy_without_once_per_person_pays_each_pair_once(ledger_path: Path) -> None:
    first = make_roster(2)
    other = first.copy()
    other["workshop_id"] = "451003-OTHER"
    with Ledger.open(ledger_path, create=True) as ledger:
        record(ledger, M, first, once_per_person=False)
        ok = record(ledger, M + 1, other.assign(payable_month=M + 1), once_per_person=False)
        assert ok.created and ok.recorded == 2
        with pytest.raises(LedgerError):
            record(ledger, M + 2, first.assign(payable_month=M + 2), once_per_person=False)
        # Under the default policy the same people are paid already, whatever the workshop.
        third = first.assign(workshop_id="451003-THIRD", payable_month=M + 2)
        with pytest.raises(LedgerError):
            record(ledger, M + 2, third)
        assert len(ledger.paid()) == 4


def test_earlier_month_after_later_month_is_refused(ledger_path: Path) -> None:
    with Ledger.open(ledger_path, create=True) as ledger:
        record(ledger, M, make_roster(1))
        before = dump(ledger_path)
        with pytest.raises(FupinError) as err:
            record(ledger, M - 1, make_roster(1, start=5, month=M - 1))
        assert err.value.code == "ledger.month_order"
        assert "2019年5月" in err.value.message and "2019年4月" in err.value.message
    assert dump(ledger_path) == before


def test_county_batches_then_region_wide_batch(ledger_path: Path) -> None:
    a = make_roster(2, county_code="451003", county="田阳区")
    b = make_roster(3, county_code="451022", county="田东县")
    c = make_roster(1, county_code="451024", county="德保县")
    with Ledger.open(ledger_path, create=True) as ledger:
        ra = record(ledger, M, a, county_code="451003")
        rb = record(ledger, M, b, county_code="451022")
        assert ra.created and rb.created and ra.batch.batch_id != rb.batch.batch_id
        assert ledger.batch_for_month(M) is None
        assert ledger.batch_for_month(M, "451022") == rb.batch

        city = record(ledger, M, pd.concat([a, b, c], ignore_index=True))
        assert city.created and city.recorded == 1
        assert city.skipped == sorted([*a["id_number"], *b["id_number"]])
        assert ledger.batch_payouts(city.batch.batch_id)["id_number"].tolist() == c["id_number"].tolist()
        assert city.batch.people == 1 and city.batch.amount == 1000.0

        # A county without its own batch is covered by the region-wide one.
        rc = record(ledger, M, c, county_code="451024")
        assert not rc.created and rc.batch == city.batch
        assert ledger.batch_for_month(M, "451024") == city.batch
        assert ledger.batch_for_month(M, "451003") == ra.batch
        b = ledger.batches()
        assert b.loc[b["month"] == M, "batch_id"].tolist() == [ra.batch.batch_id, rb.batch.batch_id,
                                                               city.batch.batch_id]
        assert len(ledger.paid()) == 6


# --- files that are not sound ledgers ------------------------------------------------------------

def _real_ledger(path: Path, rows: int = 3000) -> None:
    with Ledger.open(path, create=True) as ledger:
        record(ledger, M, make_roster(rows))


@pytest.mark.parametrize("kind", ["garbage", "truncated", "truncated_odd", "header_only"])
def test_corrupt_file_is_refused_and_not_modified(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "ledger.sqlite3"
    if kind == "garbage":
        path.write_bytes(random.Random(7).randbytes(16384))
    else:
        _real_ledger(path)
        data = path.read_bytes()
        cut = {"truncated": len(data) // 2, "truncated_odd": len(data) // 3 + 777, "header_only": 100}[kind]
        path.write_bytes(data[:cut])
    before, listing = digest(path), sorted(os.listdir(tmp_path))
    for readonly in (False, True):
        with pytest.raises(LedgerError) as err:
            Ledger.open(path, create=True, readonly=readonly)
        assert err.value.code == "ledger.corrupt"
        assert str(path) in err.value.message and "备份" in err.value.message and "未被修改" in err.value.message
    assert digest(path) == before
    assert sorted(os.listdir(tmp_path)) == listing


def test_foreign_sqlite_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    before = digest(path)
    with pytest.raises(LedgerError) as err:
        Ledger.open(path, create=True)
    assert err.value.code == "ledger.foreign"
    assert digest(path) == before


def test_ledger_from_newer_version_is_refused(ledger_path: Path) -> None:
    _real_ledger(ledger_path, rows=3)
    conn = sqlite3.connect(ledger_path)
    conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    conn.close()
    before = digest(ledger_path)
    with pytest.raises(LedgerError) as err:
        Ledger.open(ledger_path, create=True)
    assert err.value.code == "ledger.newer" and "升级" in err.value.message
    assert digest(ledger_path) == before


def test_missing_ledger(ledger_path: Path) -> None:
    with pytest.raises(LedgerError) as err:
        Ledger.open(ledger_path, create=False)
    assert err.value.code == "ledger.missing"
    with Ledger.open(ledger_path, create=True, readonly=True) as ledger:
        assert ledger.paid().empty and list(ledger.paid().columns) == PAID_COLUMNS
        with pytest.raises(LedgerError):
            record(ledger, M, make_roster(1))
    assert not ledger_path.parent.exists()


def test_readonly_open_of_old_schema_reads_without_writing(ledger_path: Path) -> None:
    ledger_path.parent.mkdir()
    conn = sqlite3.connect(ledger_path, isolation_level=None)
    migrate(conn, target=1)
    conn.close()
    before = digest(ledger_path)
    with Ledger.open(ledger_path, create=True, readonly=True) as ledger:
        assert ledger.batches().empty and "note" in ledger.batches().columns
    assert digest(ledger_path) == before
    assert scalar(ledger_path, "PRAGMA user_version") == 1


def test_unwritable_location(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    with pytest.raises(LedgerError) as err:
        Ledger.open(blocker / "ledger.sqlite3", create=True)
    assert err.value.code == "ledger.unwritable" and str(blocker) in err.value.message
    with pytest.raises(LedgerError) as err:
        Ledger.open(tmp_path, create=True)
    assert err.value.code == "ledger.path"


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root ignores permissions")
def test_read_only_folder(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(LedgerError) as err:
            Ledger.open(folder / "ledger.sqlite3", create=True)
        assert err.value.code == "ledger.unwritable"
    finally:
        folder.chmod(0o755)


def test_busy_database_gives_lock_busy(ledger_path: Path) -> None:
    _real_ledger(ledger_path, rows=1)
    other = sqlite3.connect(ledger_path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with Ledger.open(ledger_path, create=True, busy_timeout=0.2) as ledger, pytest.raises(LockBusy) as err:
            record(ledger, M + 1, make_roster(1, start=9, month=M + 1))
        assert err.value.exit_code == EXIT_LOCKED
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_fifty_thousand_rows_commit_in_chunks(ledger_path: Path) -> None:
    # Speed is measured by benchmarks/, not asserted here; this checks a multi-chunk commit is whole.
    rows = make_roster(50_000, workshops=300)
    with Ledger.open(ledger_path, create=True) as ledger:
        result = record(ledger, M, rows)
        assert result.recorded == 50_000 and len(ledger.paid()) == 50_000
        assert set(ledger.paid()["id_number"]) == set(rows["id_number"])


# --- processes: lock, races, kills ---------------------------------------------------------------

def _python(code: str, *args: str) -> subprocess.Popen[str]:
    prelude = f"import sys; sys.path.insert(0, {str(TESTS)!r})\n"
    return subprocess.Popen([sys.executable, "-c", prelude + textwrap.dedent(code), *args],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_lock_held_by_another_process(ledger_path: Path) -> None:
    holder = _python("""
        from pathlib import Path
        from fupin_cli.ledger import ledger_lock
        with ledger_lock(Path(sys.argv[1])):
            print("locked", flush=True)
            sys.stdin.read()
    """, str(ledger_path))
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with Ledger.open(ledger_path, create=True) as ledger:
            t0 = time.perf_counter()
            with pytest.raises(LockBusy) as err, ledger.lock(timeout=0.5):
                pass
            assert 0.4 < time.perf_counter() - t0 < 5
            assert err.value.exit_code == EXIT_LOCKED
            assert "另一个 fupin 任务正在使用账本" in err.value.message and "请稍后再试" in err.value.message
            # A killed holder releases the lock (the kernel drops it), no stale lock.
            holder.send_signal(signal.SIGKILL)
            holder.wait(10)
            with ledger.lock(timeout=5):
                pass
    finally:
        holder.kill()
        holder.communicate()


_RACE = """
    import time
    from pathlib import Path
    from fupin_cli.ledger import Ledger
    from test_ledger import M, make_roster
    rows = make_roster(20_000)
    start = float(sys.argv[2])
    time.sleep(max(0.0, start - time.time()))
    with Ledger.open(Path(sys.argv[1]), create=True) as ledger, ledger.lock(timeout=60):
        if ledger.batch_for_month(M) is None:
            paid = ledger.paid(before_month=M)
            r = ledger.record_batch(M, rows, policy="gx-2018", policy_version="1", files=[])
            print("created" if r.created else "existing", flush=True)
        else:
            print("existing", flush=True)
"""


def test_two_processes_creating_and_committing_the_same_month_record_one_batch(ledger_path: Path) -> None:
    # No ledger yet: both processes also race to create the file and apply the migrations.
    start = str(time.time() + 2.5)  # both wait for the same instant, after their imports
    procs = [_python(_RACE, str(ledger_path), start) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1] for o in outs]
    assert sorted(o[0].strip() for o in outs) == ["created", "existing"]
    with Ledger.open(ledger_path, create=True) as ledger:
        assert len(ledger.batches()) == 1 and len(ledger.paid()) == 20_000


_KILLED = """
    import time
    from pathlib import Path
    from fupin_cli.ledger import Ledger
    from test_ledger import M, make_roster
    rows = make_roster(200_000, start=100, month=M + 1, workshops=500)
    ledger = Ledger.open(Path(sys.argv[1]), create=True)
    ledger._conn.execute("PRAGMA cache_size = 50")  # spill pages into the file before the commit
    if sys.argv[2] == "hook":
        def pause(done):
            print("inserted", done, flush=True)
            time.sleep(60)
        ledger._after_chunk = pause
    print("start", flush=True)
    ledger.record_batch(M + 1, rows, policy="gx-2018", policy_version="1", files=[])
    print("done", flush=True)
"""


def _kill_and_check(ledger_path: Path, before: list[str], mode: str, delay: float) -> str:
    original = digest(ledger_path)
    proc = _python(_KILLED, str(ledger_path), mode)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "start", proc.stderr.read() if proc.stderr else ""
        if mode == "hook":
            assert proc.stdout.readline().startswith("inserted")
            assert Path(f"{ledger_path}-journal").exists()  # mid-transaction for sure
            assert digest(ledger_path) != original  # and pages already written into the file
        else:
            time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        proc.kill()
        proc.communicate()
    with Ledger.open(ledger_path, create=True) as ledger:
        batches = ledger.batches()
        count = len(ledger.paid())
    assert scalar(ledger_path, "PRAGMA integrity_check") == "ok"
    if len(batches) == 1:  # killed before the commit: exactly as before
        assert count == 5 and dump(ledger_path) == before
        outcome = "before"
    else:  # killed after it: complete
        assert len(batches) == 2 and count == 5 + 200_000
        assert batches["people"].tolist() == [5, 200_000]
        outcome = "complete"
    # Still usable; a killed run may leave an empty (cold) journal, which the next write replaces.
    with Ledger.open(ledger_path, create=True) as ledger:
        assert record(ledger, M + 2, make_roster(3, start=500_000, month=M + 2)).created
    assert not Path(f"{ledger_path}-journal").exists()
    return outcome


def test_kill_in_the_middle_of_a_large_batch_leaves_ledger_as_before(ledger_path: Path) -> None:
    _real_ledger(ledger_path, rows=5)
    before = dump(ledger_path)
    assert _kill_and_check(ledger_path, before, "hook", 0) == "before"


@pytest.mark.parametrize("delay", [0.6, 1.2])
def test_kill_at_other_instants_leaves_ledger_before_or_complete(ledger_path: Path, delay: float) -> None:
    _real_ledger(ledger_path, rows=5)
    assert _kill_and_check(ledger_path, dump(ledger_path), "plain", delay) in {"before", "complete"}


def test_batch_keeps_its_roster_rows(ledger_path: Path) -> None:
    """A batch recorded with the full roster row reads it back as written (SPEC §5.1); one recorded
    without the details keeps who and how much, and says it has no roster rows."""
    full = make_roster(3).assign(
        operator="民胜电子", operator_type="企业", bank="农行", bank_account="6228480000000000017",
        contract_type="劳务协议", start=pd.to_datetime(["2018-01-05", "2018-02-01", None]),
        months=pd.array([6, 7, 6], dtype="int64"), wages=[6600.5, 7000.0, 6000.25],
        check_note=[None, "银行账号有误,发放前请核实", None])
    with Ledger.open(ledger_path, create=True) as ledger:
        kept = record(ledger, M, full)
        bare = record(ledger, M + 1, make_roster(1, start=10))
        back = ledger.batch_roster(kept.batch.batch_id)
        old = ledger.batch_roster(bare.batch.batch_id)
    assert kept.batch.roster_kept and not bare.batch.roster_kept
    assert back["id_number"].tolist() == full["id_number"].tolist()
    assert back["wages"].tolist() == [6600.5, 7000.0, 6000.25] and back["months"].tolist() == [6, 7, 6]
    assert back["start"].iloc[0] == pd.Timestamp("2018-01-05") and pd.isna(back["start"].iloc[2])
    assert back["check_note"].iloc[1] == "银行账号有误,发放前请核实" and pd.isna(back["check_note"].iloc[0])
    assert set(back["bank_account"]) == {"6228480000000000017"}
    assert old["amount"].tolist() == [1000.0] and old["months"].isna().all()


@pytest.mark.parametrize(("name", "text"), [
    ("SQLITE_NOTADB", "file is not a database"),
    ("SQLITE_CORRUPT", "database disk image is malformed"),
    ("SQLITE_READONLY", "attempt to write a readonly database"),
    ("SQLITE_CANTOPEN", "unable to open database file"),
    ("SQLITE_IOERR", "disk I/O error"),
    ("SQLITE_FULL", "database or disk is full"),
])
def test_sqlite_errors_are_said_in_chinese(tmp_path: Path, name: str, text: str) -> None:
    """SQLite's English text never reaches the clerk: it stays in the error's detail (logs, --debug)."""
    from fupin_cli.ledger.opening import sqlite_failure

    exc = sqlite3.OperationalError(text)
    exc.sqlite_errorname = name  # type: ignore[attr-defined]
    err = sqlite_failure(tmp_path / "l.sqlite3", exc, "写入")
    assert text not in err.message and not re.search(r"[A-Za-z]{4,}", re.sub(r"--(ledger|debug)", "", err.message)
                                                      .replace("fupin", "").replace(str(tmp_path / "l.sqlite3"), "")), err.message
    assert text in err.detail
