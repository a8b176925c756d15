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
from fupin_cli.cache_decisions import cached_decisions
from fupin_cli.clock import local_text
from fupin_cli.dataset import Dataset, isin
from fupin_cli.destinations import check_outputs
from fupin_cli.errors import FupinError
from fupin_cli.ledger import Ledger
from fupin_cli.ledger.models import BatchInfo, OutputRecord
from fupin_cli.loading import Progress, default_month, load_dataset
from fupin_cli.months import format_month, format_month_cn, month_of
from fupin_cli.policy import Policy, load_policy
from fupin_cli.region import Region, load_region
from fupin_cli.roster import ROW_COLUMNS, Roster, assemble_roster, build_roster, scope
from fupin_cli.rules import evaluate
from fupin_cli.status import STATUS_LABELS

AUDIT_COLUMNS = ["batch_id", "batch_month", "county", "workshop_id", "workshop_name", "name", "id_number",
                 "amount", "status", "status_label", "reason"]


HELD_COLUMNS = ["id_number", "workshop_id", "name", "county", "batch_id"]
DIFF_COLUMNS = ["id_number", "name", "workshop_id", "county", "change", "amount_recorded", "amount_now", "note"]


@dataclass
class Settlement:
    """Everything one month's run decided; the CLI renders it, `batch` writes it.

    `roster` is what the run prints: for a (month, scope) the ledger records, the recorded roster read
    from the ledger (`reprinted`); else today's, which a commit records exactly. `already_recorded`
    lists people of the scope another batch of the month recorded (not on this roster), and
    `differences` compares a recorded roster with today's data.
    """

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
    reprinted: bool = False
    already_recorded: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=HELD_COLUMNS))
    differences: pd.DataFrame | None = None  # recorded roster vs today's data (None: nothing recorded)
    missing_outputs: list[OutputRecord] = field(default_factory=list)
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


def differences_frame(recorded: pd.DataFrame, now: pd.DataFrame) -> pd.DataFrame:
    """Today's data beside a recorded roster: who would now be paid, who no longer, other amounts."""
    cols = ["id_number", "workshop_id", "name", "county", "amount"]
    m = recorded[cols].assign(_rec=True).merge(now[cols].assign(_now=True), on=["id_number", "workshop_id"],
                                               how="outer", suffixes=("_recorded", "_now"))
    diff = m.loc[m["_rec"].isna() | m["_now"].isna() | (m["amount_recorded"] != m["amount_now"])].copy()
    diff["name"] = diff["name_recorded"].fillna(diff["name_now"])
    diff["county"] = diff["county_recorded"].fillna(diff["county_now"])
    diff["change"] = "amount"
    diff["note"] = "金额不同"
    diff.loc[diff["_now"].isna(), ["change", "note"]] = ["removed", "已登记,但按现有数据本月不应发放"]
    diff.loc[diff["_rec"].isna(), ["change", "note"]] = ["added", "按现有数据本月应发放,但已登记的批次中没有"]
    return diff.reindex(columns=DIFF_COLUMNS).reset_index(drop=True)


def batch_note(b: BatchInfo) -> str:
    """The line a recorded roster carries, the same when it is printed at commit and reprinted later."""
    # No time of day: two ledgers holding the same batch print the same roster.
    return f"本名单为账本第{b.batch_id}批登记的名单,重印时内容不变。"


LEGACY_NOTE = ("本批次登记于账本保存花名册明细之前:发放人员和奖补金额以账本为准,经营主体、协议、累计月数、"
               "累计报酬等明细按现有数据重印。")


def _held(ledger: Ledger, month: int, recorded: BatchInfo | None, once: bool, policy: str) -> pd.DataFrame:
    """People recorded by the month's other batches of the policy (not on this scope's roster: SPEC
    §5.1). Another policy's batch is no reason: its exclusive group, if shared, is the rule's business."""
    b = ledger.batches()
    # Imported history is not a batch of the month: its people read `paid` anyway.
    others = b.loc[(b["month"] == month) & (b["status"] != "void") & (b["kind"] == "computed")
                   & (b["policy"] == policy), "batch_id"].tolist()
    frames = [ledger.batch_payouts(i) for i in others if recorded is None or i != recorded.batch_id]
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=HELD_COLUMNS)
    held = pd.concat(frames, ignore_index=True)[HELD_COLUMNS]
    return held if once else held.assign(id_number=held["id_number"] + "\x00" + held["workshop_id"])


def _recorded_roster(ledger: Ledger, b: BatchInfo, code: str | None, decisions: pd.DataFrame, ds: Dataset,
                     month: int, policy: Policy, region: Region, held: pd.DataFrame) -> Roster:
    """The roster batch `b` recorded for the scope, read from the ledger (never recomputed)."""
    rows = ledger.batch_roster(b.batch_id)
    if code is not None:
        rows = rows.loc[rows["county_code"] == code].reset_index(drop=True)
    notes = [batch_note(b)]
    if not b.roster_kept:
        details = ["operator", "operator_type", "bank", "bank_account", "contract_type", "start", "months", "wages"]
        today = decisions[["id_number", "workshop_id", *details]].drop_duplicates(["id_number", "workshop_id"])
        rows = rows.drop(columns=details).merge(today, on=["id_number", "workshop_id"], how="left")
        notes.append(LEGACY_NOTE)
    return assemble_roster(rows[ROW_COLUMNS + ["period"]], scope(decisions, code), ds.problems, month, policy=policy.label,
                           region=region, county_code=code, held=held, notes=notes)


def settle(
    ds: Dataset,
    *,
    region: Region,
    policy: Policy,
    month: int | None = None,
    county_arg: str | None = None,
    ledger: Ledger | None = None,
    commit: bool = False,
    outputs: list[tuple[str, str]] | None = None,
    today: date | None = None,
    through_month: bool = False,
    first_run: bool = False,
    earlier: pd.DataFrame | None = None,
) -> Settlement:
    """Evaluate month M (default: last complete month in the data) and optionally record its roster.

    A (month, scope) the ledger records is reprinted from the ledger, with today's differences beside
    it, and never recorded again (SPEC §5.1). The caller holds the ledger lock when `commit` is true;
    `outputs` are the (kind, path) the caller will write for a new batch. `earlier` is what the
    run's earlier policies pay (`run_paid`): of the same exclusive group, they paid those people.
    A new batch is recorded only for a month that can be right (`check_commit_month`, as of
    `today`). `through_month` (read-only views: eligibility, stats) evaluates against every batch up
    to and including M, so a person that M's own batch paid reads `paid`, whatever today's data says
    (SPEC §4.2 step 4). `first_run` confirms a first commit that pays people payable long before M
    (`check_first_run`).
    """
    if through_month and commit:
        raise ValueError("through_month is for read-only views")
    defaulted = month is None
    m = default_month(ds) if month is None else month
    code = resolve_county(region, county_arg)
    once = bool(policy.at("once_per_person", m).value)
    paid_before = _paid_before(ledger, m, policy, through_month) if ledger is not None else pd.DataFrame()
    paid_before = _with_earlier(paid_before, earlier, policy)
    paid = paid_before if len(paid_before) else None
    decisions = cached_decisions(ds.cache_key, m, policy, paid, lambda: evaluate(ds, m, policy, paid).decisions)
    own = paid_before.loc[paid_before["policy"].isna() | paid_before["policy"].eq(policy.name)] \
        if len(paid_before) else paid_before  # the audit is of this policy's payments
    wording = {"terms": policy.terms, "accounts": laborer_accounts(ds, policy)}
    if ledger is None:
        roster = build_roster(decisions, ds.problems, m, policy=policy.label, region=region, county_code=code,
                              **wording)
        empty = pd.DataFrame(columns=["id_number", "workshop_id", "amount", "batch_id", "batch_month"])
        return Settlement(dataset=ds, region=region, policy=policy, month=m, month_defaulted=defaulted,
                          decisions=decisions, roster=roster, audit=audit_frame(decisions, own),
                          paid_all=empty)
    recorded = ledger.batch_for_month(m, code, policy.name)  # batches are per (month, scope, policy)
    held = _held(ledger, m, recorded, once, policy.name)
    d = decisions if once else decisions.assign(id_number=decisions["id_number"] + "\x00" + decisions["workshop_id"])
    current = build_roster(d, ds.problems, m, policy=policy.label, region=region, county_code=code, held=held,
                         **wording)
    if not once:
        current = _unkey(current)
        held = held.assign(id_number=held["id_number"].str.split("\x00").str[0])
    s = Settlement(dataset=ds, region=region, policy=policy, month=m, month_defaulted=defaulted,
                   decisions=decisions, roster=current, audit=audit_frame(decisions, own), paid_all=paid_before,
                   already_recorded=_in_scope(held, decisions, code))
    if recorded is not None and recorded.policy == policy.name:
        s.roster = _recorded_roster(ledger, recorded, code, decisions, ds, m, policy, region, s.already_recorded)
        s.roster.terms = policy.terms
        s.batch, s.reprinted = recorded, True
        s.differences = differences_frame(s.roster.rows, current.rows)
        s.notes.append(f"{format_month_cn(m)}已于{local_text(recorded.created_at)}登记为第"
                       f"{recorded.batch_id}批;显示和写出的是账本中登记的名单,本次不再重复登记。")
    elif recorded is not None:
        if commit:
            raise FupinError(f"{format_month_cn(m)}已按政策“{recorded.policy}”登记为第{recorded.batch_id}批,"
                             f"不能再按政策“{policy.name}”登记。", code="ledger.policy_recorded")
        s.notes.append(f"{format_month_cn(m)}已按另一政策“{recorded.policy}”登记为第{recorded.batch_id}批;"
                       "显示的是按本政策测算的名单,仅供预览。")
    elif commit:
        _commit(s, ledger, current, code, outputs or [], once, today=today, first_run=first_run)
    s.paid_all = ledger.paid(before_month=m + 1, exclusive_key=exclusive_key(policy))
    return s


def _paid_before(ledger: Ledger, m: int, policy: Policy, through_month: bool = False) -> pd.DataFrame:
    """The payouts once-per-person reads for month M: the policy's exclusive group (SPEC §4.3) before M,
    and this month's payouts under the group's other policies (they paid those people already).
    `through_month` (read-only views): M's own batches too, so a person M paid reads `paid`."""
    paid = ledger.paid(before_month=m + 1, exclusive_key=exclusive_key(policy))
    if through_month:
        return paid
    mine = paid["policy"].eq(policy.name) | paid["policy"].isna()
    # Payments imported from before fupin count in every month, whatever month their batch carries.
    return paid.loc[(paid["batch_month"] < m) | ~mine | paid["imported"]].reset_index(drop=True)


def run_paid(s: Settlement) -> pd.DataFrame:
    """What `s`'s roster pays this month, as ledger payouts (PAID_COLUMNS and its exclusive key), for
    the run's later policies: with several policies in one run the earlier one in the list wins."""
    r = s.roster.rows
    return pd.DataFrame({
        "id_number": r["id_number"].astype(object), "workshop_id": r["workshop_id"].astype(object),
        "county_code": r["county_code"].astype(object), "qualified_month": r["qualified_month"],
        "payable_month": r["payable_month"], "amount": r["amount"].astype("float64"), "batch_id": None,
        "batch_month": s.month, "period": r["period"] if "period" in r else None, "policy": s.policy.name,
        "exclusive_key": exclusive_key(s.policy)})


def _with_earlier(paid: pd.DataFrame, earlier: pd.DataFrame | None, policy: Policy) -> pd.DataFrame:
    """The ledger's payouts plus those of the run's earlier policies of the same exclusive group."""
    if earlier is None or earlier.empty:
        return paid
    mine = earlier.loc[earlier["exclusive_key"].eq(exclusive_key(policy)) & earlier["policy"].ne(policy.name)]
    if mine.empty:
        return paid
    both = pd.concat([paid, mine.drop(columns="exclusive_key")], ignore_index=True) if len(paid) else \
        mine.drop(columns="exclusive_key").reset_index(drop=True)
    # A committed earlier roster is in the ledger already: count each payment once.
    key = pd.Series("", index=both.index)
    for c in ("id_number", "workshop_id", "policy", "period"):
        key = key + "\x1f" + both[c].astype(object).fillna("").astype(str)
    return both.loc[~key.duplicated()].reset_index(drop=True)


def laborer_accounts(ds: Dataset, policy: Policy) -> pd.DataFrame | None:
    """The laborers' own accounts when the policy pays them (payee = laborer, SPEC §4.3), else None."""
    if policy.payee != "laborer":
        return None
    cols = [c for c in ("laborer_bank", "laborer_account", "social_card") if c in ds.laborers]
    return ds.laborers[["id_number", "workshop_id", *cols]]


def exclusive_key(policy: Policy) -> str:
    """Whose payouts a policy's once-per-person reads: its exclusive_group (SPEC §4.3), else its own."""
    return policy.exclusive_group or policy.name


def _in_scope(held: pd.DataFrame, decisions: pd.DataFrame, code: str | None) -> pd.DataFrame:
    """The held people this scope's roster would otherwise pay today."""
    d = scope(decisions, code)
    return held.loc[isin(held["id_number"], d.loc[d["status"].eq("eligible"), "id_number"])].reset_index(drop=True)


def _unkey(r: Roster) -> Roster:
    """Undo the (ID, workshop) key used when the policy pays a person once per workshop."""
    for df in (r.rows, r.not_paid):
        df["id_number"] = df["id_number"].str.split("\x00").str[0]
    return r


def _commit(s: Settlement, ledger: Ledger, roster: Roster, code: str | None, outputs: list[tuple[str, str]],
            once: bool, *, today: date | None, first_run: bool) -> None:
    """Record exactly the printed roster as this run's batch, for a month that can be right and, on a
    ledger without history, only once the clerk confirmed the first run (SPEC §5.1)."""
    latest = ledger.latest_month(s.policy.name)
    if latest is not None and latest > s.month:
        raise FupinError(
            f"账本中已有{format_month_cn(latest)}的批次,{format_month_cn(s.month)}未登记过,不能再登记更早的月份"
            "(该月应发的人员已计入以后月份的名单)。已登记的月份可以随时重印。",
            code="ledger.month_order")
    check_commit_month(s.dataset, s.month, today)
    if not first_run:
        check_first_run(ledger, roster, s.month)
    rows = roster.rows.assign(qualified_month=roster.rows["qualified_month"].astype("int64"),
                              payable_month=roster.rows["payable_month"].astype("int64"))
    res = ledger.record_batch(s.month, rows, policy=s.policy.name, policy_version=s.policy.version,
                              files=s.dataset.files, tool_version=__version__, county_code=code,
                              once_per_person=once, outputs=outputs, exclusive_key=exclusive_key(s.policy))
    if res.skipped:  # settle left these out already; a difference here is a bug, never a silent payment
        raise AssertionError(f"batch {res.batch.batch_id} skipped rows the roster printed")
    s.batch, s.batch_created, s.recorded = res.batch, res.created, res.recorded
    roster.notes = [batch_note(res.batch)]


def missing_output_message(o: OutputRecord, region: Region) -> str:
    """"第N批已登记但花名册未生成,请重新运行 … 生成" for an output a batch's run did not write."""
    ym, names = format_month(o.month), region.names_by_code()
    where = names.get(o.county_code, o.county_code) if o.county_code else region.name
    if o.kind == "month_folder":
        how = f"fupin batch --month {ym}"
    else:
        how = (f"fupin payout 数据文件夹 --month {ym}" + (f" --county {where}" if o.county_code else "")
               + f" --commit --output {o.path}")
    return (f"第{o.batch_id}批已登记但花名册未生成({format_month_cn(o.month)},{where},{o.path}),"
            f"请重新运行 {how} 生成(不会重复登记)。")


def ledger_json(s: Settlement, region: Region, *, mask: bool = True) -> dict:
    """`already_recorded`, `differences` and `missing_outputs`, shared by payout and batch."""
    from fupin_cli.privacy import mask_text

    def idn(v: str) -> str:
        return mask_text(v) if mask else v

    diff = s.differences if s.differences is not None else pd.DataFrame(columns=DIFF_COLUMNS)
    return {
        "already_recorded": [{"id_number": idn(r.id_number), "workshop_id": r.workshop_id, "name": r.name,
                              "batch_id": int(r.batch_id)} for r in s.already_recorded.itertuples(index=False)],
        "differences": [{"id_number": idn(r.id_number), "name": r.name, "workshop_id": r.workshop_id,
                         "county": r.county, "change": r.change,
                         "amount_recorded": None if pd.isna(r.amount_recorded) else float(r.amount_recorded),
                         "amount_now": None if pd.isna(r.amount_now) else float(r.amount_now), "note": r.note}
                        for r in diff.itertuples(index=False)],
        "missing_outputs": [missing_output_message(o, region) for o in s.missing_outputs],
    }


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
