"""Settling month M: evaluate against the ledger's earlier payments, build the roster, record it.

Used by `fupin payout` (preview, or `--commit`), `fupin batch` and `fupin stats`. Evaluation and
recording happen under the ledger lock, so two overlapping runs can never pay the same laborer
twice (SPEC §5).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

from fupin_cli import __version__
from fupin_cli.dataset import Dataset
from fupin_cli.destinations import check_outputs
from fupin_cli.errors import FupinError
from fupin_cli.ledger import Ledger
from fupin_cli.ledger.models import BatchInfo
from fupin_cli.loading import Progress, default_month, load_dataset
from fupin_cli.months import format_month_cn, month_of
from fupin_cli.policy import Policy, load_policy
from fupin_cli.region import Region, load_region
from fupin_cli.roster import Roster, build_roster
from fupin_cli.rules import evaluate
from fupin_cli.status import STATUS_LABELS

AUDIT_COLUMNS = ["batch_id", "batch_month", "county", "workshop_id", "workshop_name", "name", "id_number",
                 "amount", "status", "status_label", "reason"]


@dataclass
class Settlement:
    """Everything one month's run decided; the CLI renders it, `batch` writes it."""

    dataset: Dataset
    region: Region
    policy: Policy
    month: int
    month_defaulted: bool
    decisions: pd.DataFrame
    roster: Roster
    audit: pd.DataFrame
    paid_all: pd.DataFrame  # every ledger payout of months ≤ M (empty without a ledger)
    batch: BatchInfo | None = None
    batch_created: bool = False
    recorded: int = 0
    mismatch: pd.DataFrame | None = None  # recommit: recorded pairs that today's roster no longer has, or vice versa
    outputs: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    ledger_path: Path | None = None


def resolve_county(region: Region, county_arg: str | None) -> str | None:
    """The county code for what the user typed after --county (old or new name, or code); None = all."""
    if county_arg is None:
        return None
    c = region.resolve(county_arg)
    if c is None:
        names = "、".join(x.name for x in region.counties)
        raise FupinError(f"不认识的县(市、区)“{county_arg}”。{region.name}的县(市、区)有:{names}", code="usage.county")
    return c.code


def check_commit_month(ds: Dataset, month: int, today: date | None = None) -> None:
    """Refuse to record a month that cannot be right (SPEC §5.1): one after the current calendar
    month, or after the last month with a pay value in the wage data (blank template columns are
    not pay). A batch for such a month would block every earlier month from then on."""
    today = today or date.today()
    if month > month_of(today):
        raise FupinError(f"不能登记{format_month_cn(month)}:这个月还没到(今天是{today:%Y年%m月%d日})。"
                         "请检查 --month 是否写错,本次未登记。", code="ledger.month_future")
    last = int(ds.wages["month"].max()) if len(ds.wages) else None
    if last is None or month > last:
        have = "工资表中没有任何工资数据" if last is None else f"工资表中最后一个有工资数据的月份是{format_month_cn(last)}"
        raise FupinError(f"不能登记{format_month_cn(month)}:{have}。请先补齐该月工资数据,"
                         "或用 --month 指定已有工资数据的月份,本次未登记。", code="ledger.month_beyond_data")


def check_first_run(ledger: Ledger, roster: Roster, month: int) -> None:
    """A first commit on a ledger without any batch, whose roster holds people payable more than two
    months before M, stops with a question (SPEC §5.1): were they paid by hand before fupin? Then
    importing them (`fupin ledger import`) keeps them from being paid twice."""
    if ledger.has_batches():
        return
    early = roster.rows.loc[pd.to_numeric(roster.rows["payable_month"]) < month - 2]
    if early.empty:
        return
    first = int(pd.to_numeric(early["payable_month"]).min())
    raise FupinError(f"账本中没有历史发放记录,而本次{format_month_cn(month)}的名单中有 {len(early)} 人早在"
                     f"{format_month_cn(first)}起就已可发放(早于本月两个月以上)。如以前已人工发放,请先导入"
                     "(fupin ledger import 历史发放名单.xlsx);确认首次发放请加 --first-run。本次未登记。",
                     code="ledger.first_run")


def audit_frame(decisions: pd.DataFrame, paid: pd.DataFrame) -> pd.DataFrame:
    """Paid pairs whose current data no longer supports the payment (SPEC §5). Never unpays."""
    if paid.empty:
        return pd.DataFrame(columns=AUDIT_COLUMNS)
    cur = decisions[["id_number", "workshop_id", "data_status", "reason", "county", "workshop_name", "name"]]
    a = paid.merge(cur.rename(columns={"data_status": "status"}), on=["id_number", "workshop_id"], how="left")
    a = a.loc[a["status"].ne("paid") | a["status"].isna()].copy()
    a["reason"] = a["reason"].fillna("人员表中已找不到该人员在该车间的记录")
    a["status"] = a["status"].fillna("missing")
    a["status_label"] = a["status"].map(STATUS_LABELS).fillna("记录缺失")
    return a.reindex(columns=AUDIT_COLUMNS).reset_index(drop=True)


def _compare(recorded: pd.DataFrame, roster: Roster) -> pd.DataFrame:
    """A recommit must reproduce the recorded roster; list every pair where it does not."""
    rec = recorded[["id_number", "workshop_id", "name", "amount"]].assign(_rec=True)
    now = roster.rows[["id_number", "workshop_id", "name", "amount"]].assign(_now=True)
    m = rec.merge(now, on=["id_number", "workshop_id"], how="outer", suffixes=("_recorded", "_now"))
    diff = m.loc[m["_rec"].isna() | m["_now"].isna() | (m["amount_recorded"] != m["amount_now"])].copy()
    diff["note"] = "金额不同"
    diff.loc[diff["_now"].isna(), "note"] = "已登记,但按现有数据本月不应发放"
    diff.loc[diff["_rec"].isna(), "note"] = "按现有数据本月应发放,但已登记的批次中没有"
    return diff.drop(columns=["_rec", "_now"]).reset_index(drop=True)


def settle(
    ds: Dataset,
    *,
    region: Region,
    policy: Policy,
    month: int | None = None,
    county_arg: str | None = None,
    ledger: Ledger | None = None,
    commit: bool = False,
    today: date | None = None,
    through_month: bool = False,
    first_run: bool = False,
) -> Settlement:
    """Evaluate month M (default: last complete month in the data) and optionally record its roster.

    The caller holds the ledger lock when `commit` is true. A new batch is recorded only for a
    month that can be right (`check_commit_month`, as of `today`). `through_month` (read-only
    views: eligibility, stats) evaluates against every batch up to and including M, so a person
    that M's own batch paid reads `paid`, whatever today's data says (SPEC §4.2 step 4).
    `first_run` confirms a first commit that pays people payable long before M (`check_first_run`).
    """
    if through_month and commit:
        raise ValueError("through_month is for read-only views")
    defaulted = month is None
    m = default_month(ds) if month is None else month
    code = resolve_county(region, county_arg)
    notes: list[str] = []
    if ledger is not None:
        latest = ledger.latest_month()
        if commit and latest is not None and latest > m:
            raise FupinError(
                f"账本中已有{format_month_cn(latest)}的批次,不能再登记更早的{format_month_cn(m)}。"
                "如需重印该月花名册,请去掉 --commit 预览。", code="ledger.month_order")
        paid_before = ledger.paid(before_month=m)
        paid_all = ledger.paid(before_month=m + 1)
    else:
        paid_before = paid_all = pd.DataFrame(columns=["id_number", "workshop_id", "amount", "batch_id", "batch_month"])
    if through_month:
        paid_before = paid_all
    decisions = evaluate(ds, m, policy, paid_before if len(paid_before) else None).decisions
    roster = build_roster(decisions, ds.problems, m, policy=policy.label, region=region, county_code=code)
    audit = audit_frame(decisions, paid_before)
    s = Settlement(dataset=ds, region=region, policy=policy, month=m, month_defaulted=defaulted,
                   decisions=decisions, roster=roster, audit=audit, paid_all=paid_all, notes=notes)
    if ledger is None:
        return s
    existing = ledger.batch_for_month(m, code)
    if existing is not None:
        s.batch = existing
        s.mismatch = _compare(ledger.batch_payouts(existing.batch_id).pipe(
            lambda p: p if code is None else p.loc[p["county_code"] == code]), roster)
        notes.append(f"{format_month_cn(m)}已于{existing.created_at[:16]}登记为第{existing.batch_id}批,本次不再重复登记。")
        return s
    if commit:
        check_commit_month(ds, m, today)
        if not first_run:
            check_first_run(ledger, roster, m)
        rows = roster.rows.assign(qualified_month=roster.rows["qualified_month"].astype("int64"),
                                  payable_month=roster.rows["payable_month"].astype("int64"))
        res = ledger.record_batch(m, rows, policy=policy.name, policy_version=policy.version, files=ds.files,
                                  tool_version=__version__, county_code=code,
                                  once_per_person=bool(policy.at("once_per_person", m).value))
        s.batch, s.batch_created, s.recorded = res.batch, res.created, res.recorded
        if res.skipped:
            notes.append(f"{len(res.skipped)} 人已在本月其他批次登记,本批次未重复登记。")
        s.paid_all = ledger.paid(before_month=m + 1)
    return s


def existing_ledger(path: Path | None) -> AbstractContextManager[Ledger | None]:
    """The ledger at `path` opened read-only (None without a path); a missing file is a usage error."""
    if path is None:
        return nullcontext(None)
    return Ledger.open_existing(path, hint="请检查 --ledger 路径。")


def settle_inputs(paths: Sequence[str | Path], *, month: int | None, county_arg: str | None, policy: str | None,
                  region: str | None, ledger_path: Path | None, progress: Progress | None,
                  outputs: Mapping[str, Path | None] | None = None) -> Settlement:
    """Load the inputs and settle month M against an existing ledger, read-only (eligibility, stats).

    `outputs` (label → path) are checked never to be an input file or the ledger (SPEC §5.1)
    before anything is read, and again against the files found in input folders.
    """
    outputs = outputs or {}
    check_outputs(outputs, inputs=[Path(p) for p in paths], ledger=ledger_path)
    reg = load_region(region)
    pol = load_policy(policy)
    ds = load_dataset(paths, region=reg, progress=progress)
    check_outputs(outputs, inputs=[f.path for f in ds.files])
    with existing_ledger(ledger_path) as led:
        return settle(ds, region=reg, policy=pol, month=month, county_arg=county_arg, ledger=led,
                      through_month=True)
