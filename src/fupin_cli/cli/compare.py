"""`fupin compare`: a draft policy against the current one on the same data."""

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
from fupin_cli.privacy import mask_text

SHOW_ROWS = 20


@handle_errors
def compare(
    paths: Paths,
    policy: Annotated[list[str], typer.Option("--policy", help="先给现行策略,再给拟议策略(内置名称或 TOML 文件),共两次")],
    month: MonthOpt = None,
    ledger: LedgerOpt = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="把对比结果写入 xlsx")] = None,
    region: RegionOpt = None,
    json_out: JsonOpt = False,
    show_id: ShowId = False,
) -> None:
    """对比两个奖补策略:在本地数据上,按拟议策略谁增加、谁减少、各县区和全市金额变化;给出 --ledger 时列出已发放人员的变化(已发放的不追回)。

    示例:fupin compare 数据/ --month 2019-02 --policy gx-2018 --policy 拟议策略.toml --output 对比.xlsx
    """
    from fupin_cli.commands.compare import compare_json, run_compare
    from fupin_cli.loading import describe_month

    with LazyProgress(enabled=not json_out) as prog:
        res = run_compare(paths, month=month_option(month), policies=policy, region=region, ledger_path=ledger,
                          output=output, progress=prog)
    if json_out:
        print_json(compare_json(res, mask=not show_id))
    else:
        _render(res, show_id)
        err_console.print(describe_month(res.month, res.month_defaulted))
    raise typer.Exit(EXIT_DATA if res.dataset.errors else EXIT_OK)


def _render(res, show_id: bool) -> None:
    a, b = res.policies
    t = Table(title=f"政策对比:现行 {a.name} → 拟议 {b.name}", title_justify="left")
    keys = ("county", "people_current", "amount_current", "people_draft", "amount_draft", "difference")
    for k in keys:
        t.add_column(label(k), justify="left" if k == "county" else "right")
    for r in res.counties.itertuples(index=False):
        t.add_row(str(r.county), str(r.people_a), money(r.amount_a), str(r.people_b), money(r.amount_b),
                  money(r.diff))
    console.print(t)
    for title, frame in (("增加奖补的人员", res.gains), ("减少奖补的人员", res.losses)):
        console.print(f"{title}:{len(frame)}人")
        for r in frame.head(SHOW_ROWS).itertuples(index=False):
            who = r.id_number if show_id else mask_text(r.id_number)
            console.print(f"  {r.county} {r.name} {who}:{money(r.amount_a)} → {money(r.amount_b)}", markup=False)
    if res.already_paid is not None:
        console.print(f"已发放人员中按拟议政策会变化的:{len(res.already_paid)}人(已发放的不追回)")
        for r in res.already_paid.head(SHOW_ROWS).itertuples(index=False):
            who = r.id_number if show_id else mask_text(r.id_number)
            console.print(f"  {r.county} {r.name} {who}:{r.change}", markup=False)
    for p in res.outputs:
        console.print(f"已写出:{p}")


def register(app: typer.Typer) -> None:
    app.command("compare", help=compare.__doc__)(compare)
