"""`fupin stats`: the figures the bureau reports upwards, per county and in total."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

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
from fupin_cli.cli.fit import Col, print_paragraph, print_table, print_wrapped
from fupin_cli.labels import label
from fupin_cli.money import money
from fupin_cli.wording import label_in, say

if TYPE_CHECKING:
    from fupin_cli.policy import Terms

# Full label, and the short one for 80-column terminals (figures are never cut: SPEC §6.2, issue #11).
HEADERS = ("county", "stats_workshops", "employed", "poor", "relocated", "eligible", "paid_people", "paid_amount",
           "paid_workshops")
def columns(terms: Terms | None = None, *, rules: bool = False) -> tuple[Col, ...]:
    """The table's columns, headed in the policy's terms (其中贫困劳动力 under the default policy). With
    `rules` (no ledger, #9 item 18) the paid columns say 应兑现, as wide as 已兑现: not what was paid."""
    def head(text: str) -> str:
        return text.replace("已兑现", "应兑现") if rules else text

    return (Col(label(HEADERS[0])),
            *(Col(head(label_in(k, terms)), head(label_in(f"{k}_short", terms)), right=True) for k in HEADERS[1:]))


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
    from fupin_cli.stats import footnotes

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
    lines = [*view.result.counties, view.result.total]
    rows = [[r.county, str(r.workshops), str(r.employed), str(r.poor), str(r.relocated), str(r.eligible),
             str(r.paid_people), money(r.paid_amount), str(r.paid_workshops)] for r in lines]
    terms = view.settlement.policy.terms
    rules = view.result.paid_source == "rules"
    title = say("{workshop}统计(截至 {month})", terms, month=view.result.month)
    print_table(console, columns(terms, rules=rules), rows,
                title=title + (",兑现数为按规则测算的应兑现数" if rules else ""),
                styles=[None] * len(view.result.counties) + ["bold"])
    for note in footnotes(view.result):
        print_wrapped(console, note)
    print_paragraph(console, view.paragraph)
    for p in view.outputs:
        console.print(f"已写出:{p}")


def register(app: typer.Typer) -> None:
    app.command("stats", help=stats.__doc__)(stats)
