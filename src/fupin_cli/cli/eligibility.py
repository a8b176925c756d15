"""`fupin eligibility`: every (laborer, workshop) pair with its status as of a month."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.table import Table

from fupin_cli.cli.common import (
    CountyOpt,
    JsonOpt,
    LazyProgress,
    LedgerOpt,
    MonthOpt,
    Paths,
    PolicyOpt,
    RegionOpt,
    ShowId,
    console,
    err_console,
    handle_errors,
    month_option,
    print_json,
)
from fupin_cli.errors import EXIT_DATA, EXIT_OK
from fupin_cli.labels import label
from fupin_cli.money import money
from fupin_cli.months import format_month
from fupin_cli.privacy import mask_text
from fupin_cli.status import STATUS_LABELS

SHOW_ROWS = 40


@handle_errors
def eligibility(
    paths: Paths,
    month: MonthOpt = None,
    county: CountyOpt = None,
    status: Annotated[list[str] | None, typer.Option("--status", metavar="状态",
                                                      help="只看某种状态(可多次给出),中文或代码均可,如 未满期、达标应发、pending")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="把结果写入 xlsx")] = None,
    ledger: LedgerOpt = None,
    policy: PolicyOpt = None,
    region: RegionOpt = None,
    json_out: JsonOpt = False,
    show_id: ShowId = False,
) -> None:
    """列出每个人在每个车间的核定状态(达标、未满期、未达标、重复享受……)及原因。

    示例:fupin eligibility 数据.xlsx --month 2019-02 --county 田阳县 --status 未满期
    """
    from fupin_cli.commands.eligibility import eligibility_json, run_eligibility
    from fupin_cli.loading import describe_month

    with LazyProgress(enabled=not json_out) as prog:
        res = run_eligibility(paths, month=month_option(month), county_arg=county, statuses=status or [],
                              policy=policy, region=region, ledger_path=ledger, output=output, progress=prog)
    s = res.settlement
    if json_out:
        print_json(eligibility_json(res.rows, s.month, mask=not show_id))
    else:
        err_console.print(describe_month(s.month, s.month_defaulted))
        t = Table(title=f"核定结果({format_month(s.month)})", title_justify="left")
        for c in [label(k) for k in ("county", "workshop_id", "name", "id_number", "status_label", "qualified_month", "months", "wages", "reason_note")]:
            t.add_column(c, overflow="fold")
        for r in res.rows.head(SHOW_ROWS).itertuples(index=False):
            q = "" if pd.isna(r.qualified_month) else format_month(r.qualified_month)
            t.add_row(str(r.county), str(r.workshop_id), str(r.name), r.id_number if show_id else mask_text(r.id_number),
                      STATUS_LABELS[r.status], q, str(r.months), money(r.wages), r.reason)
        console.print(t)
        if len(res.rows) > SHOW_ROWS:
            console.print(f"……另有 {len(res.rows) - SHOW_ROWS} 条未显示,完整结果请用 --output 或 --json。", style="dim")
        counts = Table(title="各状态人数", title_justify="left")
        counts.add_column(label("status_label"))
        counts.add_column(label("status_code"))
        counts.add_column(label("count_rows"), justify="right")
        for k, n in res.counts().items():
            counts.add_row(STATUS_LABELS[k], k, str(n))
        console.print(counts)
        for p in res.outputs:
            console.print(f"已写出:{p}")
    raise typer.Exit(EXIT_DATA if s.dataset.errors else EXIT_OK)


def register(app: typer.Typer) -> None:
    app.command("eligibility", help=eligibility.__doc__)(eligibility)
