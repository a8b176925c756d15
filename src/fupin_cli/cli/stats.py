"""`fupin stats`: the figures the bureau reports upwards, per county and in total."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from fupin_cli.cli.common import (
    JsonOpt,
    LazyProgress,
    LedgerOpt,
    MonthOpt,
    Paths,
    PolicyOpt,
    RegionOpt,
    console,
    err_console,
    handle_errors,
    month_option,
    print_json,
)
from fupin_cli.labels import label
from fupin_cli.money import money

HEADERS = ("county", "stats_workshops", "employed", "poor", "relocated", "eligible", "paid_people", "paid_amount",
           "paid_workshops")


@handle_errors
def stats(
    paths: Paths,
    month: MonthOpt = None,
    ledger: LedgerOpt = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="统计表 xlsx(含图表)写入路径")] = None,
    text: Annotated[bool, typer.Option("--text", help="输出情况汇报用的一段文字")] = False,
    policy: PolicyOpt = None,
    region: RegionOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """按县(市、区)和全市统计认定车间、带动就业、贫困劳动力、达标和兑现情况。

    示例:fupin stats 数据/ --month 2019-02 --ledger 账本.sqlite3 --text --output 统计.xlsx
    """
    from fupin_cli.commands.stats import run_stats, stats_json
    from fupin_cli.loading import describe_month

    with LazyProgress(enabled=not json_out) as prog:
        view = run_stats(paths, month=month_option(month), policy=policy, region=region, ledger_path=ledger,
                         output=output, progress=prog)
    if json_out:
        print_json(stats_json(view))
        return
    if text:
        # Plain, unwrapped: the paragraph is pasted into the 情况汇报 as is.
        typer.echo(view.paragraph)
        for p in view.outputs:
            err_console.print(f"已写出:{p}")
        return
    err_console.print(describe_month(view.settlement.month, view.settlement.month_defaulted)
                      + (";兑现数据来自账本" if view.from_ledger else ";未给出账本,兑现数据按规则计算"))
    t = Table(title=f"就业扶贫车间统计(截至 {view.result.month})", title_justify="left")
    rules = view.result.paid_source == "rules"
    for h in HEADERS:
        h_label = label(h).replace("已兑现", "应兑现(测算)") if rules else label(h)
        t.add_column(h_label, justify="right" if h != HEADERS[0] else "left")
    for r in [*view.result.counties, view.result.total]:
        t.add_row(r.county, str(r.workshops), str(r.employed), str(r.poor), str(r.relocated), str(r.eligible),
                  str(r.paid_people), money(r.paid_amount), str(r.paid_workshops),
                  style="bold" if r is view.result.total else None)
    console.print(t)
    console.print(view.paragraph, soft_wrap=True)
    for p in view.outputs:
        console.print(f"已写出:{p}")


def register(app: typer.Typer) -> None:
    app.command("stats", help=stats.__doc__)(stats)
