"""`fupin explain`: why one laborer is (not) paid, month by month."""

from __future__ import annotations

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
    ShowId,
    console,
    handle_errors,
    month_option,
    print_json,
    styled,
)
from fupin_cli.labels import label
from fupin_cli.money import money
from fupin_cli.privacy import mask_text


@handle_errors
def explain(
    paths: Paths,
    who: Annotated[str, typer.Option("--id", help="身份证号,或人员表中唯一的姓名")],
    month: MonthOpt = None,
    ledger: LedgerOpt = None,
    policy: PolicyOpt = None,
    region: RegionOpt = None,
    json_out: JsonOpt = False,
    show_id: ShowId = False,
) -> None:
    """逐月说明一个人的核定过程:每月工资、是否计入、累计月数和报酬、所用参数及出处、结论。

    示例:fupin explain 数据.xlsx --id 452122199001011234 --month 2019-02
    """
    from fupin_cli.commands.explain import explain_json, run_explain

    with LazyProgress(enabled=not json_out) as prog:
        ex = run_explain(paths, who=who, month=month_option(month), policy=policy, region=region,
                         ledger_path=ledger, progress=prog)
    doc = explain_json(ex, mask=not show_id)
    if json_out:
        print_json(doc)
        return
    console.print(styled((ex.name, "bold"), f" {doc['id_number']}  核算月份 {ex.month}  政策 {ex.policy}({ex.policy_title})"))
    for p in ex.pairs:
        console.rule(f"车间 {p.workshop_id} {p.workshop_name or ''}({p.county or ''})")
        console.print(f"经营主体:{p.operator or ''};认定日期:{p.certified or '未认定'};撤销日期:{p.withdrawn or '无'}")
        console.print(f"协议:{p.contract_type or ''},{p.start or ''} 至 {p.end or '无固定期限'};"
                      f"窗口期:{p.window_start or ''} 至 {p.window_end or '不限'}({p.anchor_label})")
        t = Table(show_header=True)
        for c in [label(k) for k in ("month", "pay", "counted", "months", "wages", "reason_note")]:
            t.add_column(c)
        for ln in p.lines:
            t.add_row(ln.month, money(ln.pay), "是" if ln.counted else "否",
                      "" if ln.months is None else str(ln.months), "" if ln.wages is None else money(ln.wages), ln.note)
        console.print(t)
        pt = Table(title="所用参数", title_justify="left")
        for c in [label(k) for k in ("param", "param_value", "param_read_at", "param_since", "param_source")]:
            pt.add_column(c, overflow="fold")
        for prm in p.params:
            pt.add_row(prm.label, prm.display, prm.read_at, prm.since or "", prm.source)
        console.print(pt)
        console.print(f"达标月份:{p.qualified_month or '未达标'};可发放月份:{p.payable_month or '—'};"
                      f"状态:{p.status_label};{mask_text(p.reason) if not show_id else p.reason}")
        console.print(p.decision, style="bold")
    console.rule()
    console.print(ex.summary if show_id else mask_text(ex.summary))


def register(app: typer.Typer) -> None:
    app.command("explain", help=explain.__doc__)(explain)
