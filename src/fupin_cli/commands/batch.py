"""`fupin batch`: the unattended monthly run (SPEC §5), e.g. from cron on the 1st of each month.

Order, chosen so that "nothing done" (exit 2) really means nothing was done:
1. the month (default: the previous calendar month) and a real write test of the output folder —
   before the ledger is touched;
2. the log file (rotating, ID numbers masked), the region and policy, then the inputs are read and
   validated (outside the lock: a slow read must not block another run);
3. the ledger lock (LockBusy → exit 75), the ledger opened (corrupt → exit 2, file untouched),
   leftovers of a killed run cleaned up, month M settled and committed (one transaction; a month
   already recorded is not recorded again: its recorded roster is read back from the ledger);
4. every output written into a staging folder that replaces OUTPUT/YYYY-MM/ in one rename
   (`month_folder`), still under the lock.
Exit codes: 0 done, 1 done but rows with data errors were excluded, 2 nothing done, 3 recorded but the
month folder could not be written (reported by every later run until it is), 75 locked.

Test hook (documented, inert unless set): with the environment variable FUPIN_TEST_PAUSE set to a
step name (`locked`, `committed`, `outputs`, `swap`, `swap_aside`), the run logs
"test pause at <step>" and sleeps FUPIN_TEST_PAUSE_SECONDS (default 60) there, so a test can kill
it at that exact point.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from logging.handlers import RotatingFileHandler
from pathlib import Path

import pandas as pd

from fupin_cli import __version__
from fupin_cli.commands.payout import file_part, load_policies
from fupin_cli.commands.stats import stats_targets
from fupin_cli.config import BatchConfig
from fupin_cli.dataset import Dataset
from fupin_cli.destinations import check_batch_layout
from fupin_cli.errors import EXIT_DATA, EXIT_OK, FupinError, OutputsMissing, os_reason
from fupin_cli.ledger import Ledger, ledger_lock
from fupin_cli.ledger.opening import missing_ledger
from fupin_cli.loading import Progress, load_dataset
from fupin_cli.month_folder import (
    Pause,
    check_writable,
    month_folder,
    publish,
    recover,
    staging,
    write_summary,
)
from fupin_cli.months import format_month, previous_month
from fupin_cli.policy import Policy
from fupin_cli.privacy import mask_text
from fupin_cli.region import Region, load_region
from fupin_cli.roster import Roster, assemble_roster, scope
from fupin_cli.settlement import Settlement, ledger_json, missing_output_message, run_paid, settle
from fupin_cli.stats import StatsResult, compute_stats, report_paragraph
from fupin_cli.status import STATUS_ORDER
from fupin_cli.workbooks.audit import write_audit
from fupin_cli.workbooks.problems import write_problems
from fupin_cli.workbooks.roster import write_roster
from fupin_cli.workbooks.stats import write_stats_workbook

LOGGER_NAME = "fupin.batch"
LOG_MAX_BYTES = 1_000_000
LOG_BACKUPS = 5
PAUSE_ENV = "FUPIN_TEST_PAUSE"
SUMMARY_NAME = "summary.json"


@dataclass
class BatchResult:
    """What one batch run did; `summary` is exactly the summary.json document."""

    config: BatchConfig
    month: int
    month_defaulted: bool
    settlement: Settlement  # the first policy's (the only one, unless `policies` names several)
    stats: StatsResult | None
    folder: Path
    outputs: list[Path]
    summary: dict
    notes: list[str] = field(default_factory=list)
    settlements: list[Settlement] = field(default_factory=list)  # one per policy, in the config's order

    @property
    def exit_code(self) -> int:
        return EXIT_DATA if self.settlement.dataset.errors else EXIT_OK


class _MaskingFormatter(logging.Formatter):
    """ID numbers never reach the log in clear (SPEC §9), whatever a message or traceback holds."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_text(super().format(record))


@contextlib.contextmanager
def batch_log(path: Path) -> Iterator[logging.Logger]:
    """The `fupin.batch` logger writing to a rotating file (1 MB × 5) for the duration of a run."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(path, maxBytes=LOG_MAX_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8")
    except OSError as exc:
        raise FupinError(f"无法写入日志文件“{path}”({os_reason(exc)})。请检查配置文件中的 log 路径。"
                         "本次未做任何登记。", code="config.log") from exc
    handler.setFormatter(_MaskingFormatter("%(asctime)s pid=%(process)d %(levelname)s %(message)s"))
    log = logging.getLogger(LOGGER_NAME)
    log.setLevel(logging.INFO)
    log.propagate = False  # the terminal gets the Chinese summary, not log lines
    log.addHandler(handler)
    try:
        yield log
    finally:
        log.removeHandler(handler)
        handler.close()


class _Steps:
    """One log line per step with its duration; a failing step is logged before the error propagates."""

    def __init__(self, log: logging.Logger) -> None:
        self.log = log

    @contextlib.contextmanager
    def __call__(self, name: str) -> Iterator[dict]:
        info: dict = {}
        t0 = time.perf_counter()
        try:
            yield info
        except BaseException as exc:
            self.log.error("step=%s failed seconds=%.2f error=%s", name, time.perf_counter() - t0,
                           getattr(exc, "code", type(exc).__name__))
            raise
        extra = "".join(f" {k}={v}" for k, v in info.items())
        self.log.info("step=%s ok seconds=%.2f%s", name, time.perf_counter() - t0, extra)

    def pause(self, step: str) -> None:
        if os.environ.get(PAUSE_ENV) == step:
            self.log.warning("test pause at %s", step)
            time.sleep(float(os.environ.get("FUPIN_TEST_PAUSE_SECONDS", "60")))


def run_batch(config: BatchConfig, month: int | None = None, today: date | None = None,
              progress: Progress | None = None, *, new_ledger: bool = False, first_run: bool = False) -> BatchResult:
    """The monthly run for `month` (default: the month before `today`); see the module docstring.
    `progress(stage, done, total)` is told each sheet read and each later stage (a terminal shows it).

    The ledger must exist unless `new_ledger` (SPEC §5.1); that is checked first, so a mistyped
    ledger path creates nothing (no output folder, log or lock file either). `first_run` confirms a
    first commit on a ledger without history (`settlement.check_first_run`).
    """
    defaulted = month is None
    m = previous_month(today or date.today()) if month is None else int(month)
    check_batch_layout(config.input, config.output, config.ledger, config.log)
    if not new_ledger and not config.ledger.exists():
        raise missing_ledger(config.ledger)
    check_writable(config.output)
    with batch_log(config.log) as log:
        log.info("start month=%s config=%s input=%s output=%s ledger=%s version=%s", format_month(m),
                 config.source, config.input, config.output, config.ledger, __version__)
        try:
            result = _run(config, m, defaulted, _Steps(log), progress or _no_progress, new_ledger, today, first_run)
        except FupinError as exc:
            log.error("end exit=%d code=%s message=%s%s", exc.exit_code, exc.code, exc.message,
                      f" detail={exc.detail}" if exc.detail else "")
            raise
        except BaseException:
            log.exception("end crashed")
            raise
        log.info("end exit=%d people=%d amount=%.2f batch=%s audit=%d", result.exit_code,
                 sum(x.roster.people for x in result.settlements), sum(x.roster.amount for x in result.settlements),
                 ",".join(str(x.batch.batch_id if x.batch else None) for x in result.settlements),
                 sum(len(x.audit) for x in result.settlements))
        return result


def _no_progress(stage: str, done: int, total: int) -> None:
    return None


def _run(config: BatchConfig, m: int, defaulted: bool, step: _Steps, progress: Progress, new_ledger: bool,
         today: date | None, first_run: bool) -> BatchResult:
    with step("config") as info:
        region = load_region(config.region)
        policies = load_policies(config.policy_list)
        info.update(region=region.code, policy=",".join(p.name for p in policies))
    with step("read_input") as info:
        ds = load_dataset([config.input], region=region, progress=progress)
        info.update(files=len(ds.files), errors=ds.errors, warnings=ds.warnings, pairs=len(ds.laborers),
                    wage_rows=len(ds.wages))
    n = len(ds.sheets)
    with contextlib.ExitStack() as held:
        with step("lock"):
            held.enter_context(ledger_lock(config.ledger, config.lock_timeout))
            led = held.enter_context(Ledger.open(config.ledger, create=new_ledger))
        step.pause("locked")
        notes = recover(config.output, m)
        for note in notes:
            step.log.warning("recovered: %s", note)
        progress("核定奖补、登记账本", n, n)
        final = month_folder(config.output, m)
        done: list[Settlement] = []
        for pol in policies:  # in the config's order: within an exclusive group the earlier one wins
            done.append(_settle(ds, region, pol, m, led, final, step, done, today=today, first_run=first_run))
        step.pause("committed")
        progress("写出花名册、统计表和数据问题清单", n, n)
        stats = [_stats(s, step) for s in done]
        pending = [s.batch_created or _pending(led, s) for s in done]
        several = len(done) > 1
        try:
            with step("outputs") as info, staging(config.output, m) as tmp:
                names: list[str] = []
                for k, (s, st) in enumerate(zip(done, stats, strict=True)):
                    names += write_month_files(tmp, s, st, county_rosters=config.county_rosters,
                                               problems_summary=_problems_summary(s), pause=step.pause,
                                               suffix=f"_{file_part(s.policy.name)}" if several else "",
                                               problems=k == 0)
                names.append(SUMMARY_NAME)
                docs = [build_summary(config, s, st, defaulted, names, notes) for s, st in zip(done, stats, strict=True)]
                summary = docs[0] if not several else several_summary(docs)
                write_summary(tmp / SUMMARY_NAME, summary)
                publish(tmp, final, step.pause)
                info.update(folder=final, files=len(names))
        except (FupinError, OSError) as exc:
            k = next((i for i, p in enumerate(pending) if p), 0)
            raise _output_failure(exc, done[k], final, pending[k]) from exc
        for s, p in zip(done, pending, strict=True):
            if p:
                led.mark_written(s.batch.batch_id, "month_folder", final.absolute())
        missing = [missing_output_message(o, region) for o in led.missing_outputs()]
        for text in missing:
            step.log.warning("outputs missing: %s", text)
        if missing:
            for s in done:
                s.missing_outputs = led.missing_outputs()
            summary["missing_outputs"] = missing
            write_summary(final / SUMMARY_NAME, summary)
    s = done[0]
    return BatchResult(config=config, month=m, month_defaulted=defaulted, settlement=s, stats=stats[0], folder=final,
                       outputs=[final / n for n in names], summary=summary,
                       notes=[*notes, *(x for d in done for x in d.notes)], settlements=done)


def _settle(ds: Dataset, region: Region, policy: Policy, m: int, led: Ledger, final: Path, step: _Steps,
            earlier: list[Settlement], *, today: date | None, first_run: bool) -> Settlement:
    """Settle and commit month M under one policy, after the run's earlier policies (SPEC §4.3)."""
    with step("settle") as info:
        # A month already recorded is only reproduced (also when later months exist).
        paid = pd.concat([run_paid(x) for x in earlier], ignore_index=True) if earlier else None
        s = settle(ds, region=region, policy=policy, month=m, ledger=led, commit=True,
                   outputs=[("month_folder", str(final.absolute()))], earlier=paid, today=today,
                   first_run=first_run)
        info.update(policy=policy.name, batch=s.batch.batch_id if s.batch else None, created=s.batch_created,
                    recorded=s.recorded, people=s.roster.people, audit=len(s.audit))
    if s.differences is not None and len(s.differences):
        step.log.warning("recorded batch %s differs from today's data in %d pairs", s.batch.batch_id,
                         len(s.differences))
    return s


def several_summary(docs: list[dict]) -> dict:
    """summary.json of a run with several policies: one document per policy, in the config's order."""
    return {"month": docs[0]["month"], "exit_code": docs[0]["exit_code"], "policies": docs}


def _stats(s: Settlement, step: _Steps) -> StatsResult | None:
    """Statistics are a by-product: a failure there is logged, and must not withhold the rosters."""
    try:
        with step("stats"):
            return compute_stats(s.dataset, s.decisions, s.month, s.region, paid=s.paid_all,
                                 targets=stats_targets(s.policy, s.month))
    except Exception:
        step.log.exception("stats not written")
        s.notes.append("统计表生成失败(详见日志),花名册不受影响。")
        return None


def _pending(led: Ledger, s: Settlement) -> bool:
    """The month folder of this run's batch was requested by an earlier run and never written."""
    return s.batch is not None and any(o.batch_id == s.batch.batch_id and o.kind == "month_folder"
                                       for o in led.missing_outputs())


def _output_failure(exc: FupinError | OSError, s: Settlement, final: Path, pending: bool) -> FupinError:
    msg = exc.message if isinstance(exc, FupinError) else f"无法写入输出文件夹“{final.parent}”:{os_reason(exc)}"
    msg = msg.rstrip("。")
    if s.batch is not None and pending:
        return OutputsMissing(
            f"{msg}。第{s.batch.batch_id}批已登记({s.roster.people}人,{s.roster.amount:,.2f}元),但花名册未生成;"
            f"排除问题后请重新运行 fupin batch --month {format_month(s.month)} 生成(不会重复登记)。",
            code="output.missing")
    if s.batch is not None:
        msg += f"。账本中第{s.batch.batch_id}批已登记,原有的输出文件夹未被改动。"
    return FupinError(msg, code="output.unwritable")


def county_codes(s: Settlement) -> list[str]:
    """Counties that get their own roster: those with at least one workshop in the data, in region order."""
    present = set(s.dataset.workshops["county_code"].dropna().astype(str))
    return [c.code for c in s.region.counties if c.code in present]


def county_roster(s: Settlement, code: str) -> Roster:
    """One county's part of the city roster: exactly the rows the city batch records for it (SPEC §5.1)."""
    rows = s.roster.rows.loc[s.roster.rows["county_code"] == code].reset_index(drop=True)
    r = assemble_roster(rows, scope(s.decisions, code), s.dataset.problems, s.month, policy=s.policy.label,
                        region=s.region, county_code=code, held=s.already_recorded, notes=s.roster.notes)
    r.terms = s.policy.terms
    d = s.roster.deferred
    r.deferred = d.loc[d["county_code"] == code] if len(d) else d
    return r


def write_month_files(folder: Path, s: Settlement, stats: StatsResult | None, *, county_rosters: bool,
                      problems_summary: dict, pause: Pause, suffix: str = "", problems: bool = True) -> list[str]:
    """Every output file of the month into `folder`; returns their names in writing order. With several
    policies each policy's files end in `suffix` (_政策名), and the data problems are written once."""
    ym = format_month(s.month) + suffix
    names: list[str] = []

    def out(name: str) -> Path:
        names.append(name)
        return folder / name

    write_roster(out(f"花名册_全市_{ym}.xlsx"), s.roster)
    pause("outputs")
    if county_rosters:
        for code in county_codes(s):
            r = county_roster(s, code)
            write_roster(out(f"花名册_{r.county}_{ym}.xlsx"), r)
    if stats is not None:
        write_stats_workbook(out(f"统计_{ym}.xlsx"), stats, s.region.name, s.policy.terms)
    if problems:
        write_problems(out(f"数据问题_{format_month(s.month)}.xlsx"), s.dataset.problems, problems_summary)
    if len(s.audit):
        write_audit(out(f"审计清单_{ym}.xlsx"), s.audit, s.month, s.region.name)
    return names


def _problems_summary(s: Settlement) -> dict:
    ds = s.dataset
    return {"month": format_month(s.month), "files": len(ds.files), "sheets": len(ds.sheets),
            "errors": ds.errors, "warnings": ds.warnings, "valid": "是" if ds.errors == 0 else "否",
            "region": s.region.name, "policy": s.policy.label, "tool_version": __version__}


def build_summary(config: BatchConfig, s: Settlement, stats: StatsResult | None, defaulted: bool,
                  outputs: list[str], notes: list[str]) -> dict:
    """The summary.json document (English keys; ID numbers masked, the xlsx files keep them whole)."""
    r = s.roster
    counts = s.decisions["status"].value_counts()
    ds = s.dataset
    b = s.batch
    return {
        "month": format_month(s.month),
        "month_defaulted": defaulted,
        "exit_code": EXIT_DATA if ds.errors else EXIT_OK,
        "region": {"code": s.region.code, "name": s.region.name},
        "policy": {"name": s.policy.name, "version": s.policy.version},
        "people": r.people,
        "amount": r.amount,
        "workshops": int(len(r.workshops)),
        "counties": [{"code": c.county_code, "county": c.county, "workshops": int(c.workshops),
                      "people": int(c.people), "amount": float(c.amount)} for c in r.counties.itertuples()],
        "statuses": {k: int(counts[k]) for k in STATUS_ORDER if k in counts},
        "batch": {"batch_id": b.batch_id if b else None, "created": s.batch_created,
                  "created_at": b.created_at if b else None, "recorded": s.recorded, "reprinted": s.reprinted},
        "mismatch": 0 if s.differences is None else int(len(s.differences)),
        **ledger_json(s, s.region),
        "errors": ds.errors,
        "warnings": ds.warnings,
        "excluded": int(counts.get("invalid_data", 0)),
        "audit": int(len(s.audit)),
        "audit_rows": [{"id_number": mask_text(a.id_number), "name": a.name, "workshop_id": a.workshop_id,
                        "batch_id": int(a.batch_id), "batch_month": format_month(int(a.batch_month)),
                        "amount": float(a.amount), "status": a.status, "reason": mask_text(a.reason)}
                       for a in s.audit.itertuples(index=False)],
        "inputs": [{"path": str(f.path), "sha256": f.sha256, "size": f.size} for f in ds.files],
        "outputs": outputs,
        "stats": None if stats is None else stats.total.model_dump(),
        "report": None if stats is None else report_paragraph(stats, s.region, s.policy.terms),
        "notes": [*notes, *s.notes],
        "ledger": str(config.ledger),
        "tool_version": __version__,
    }
