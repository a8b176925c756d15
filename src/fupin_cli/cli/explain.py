"""`fupin explain`: why one laborer is (not) paid, month by month."""

from __future__ import annotations

from typing import Annotated

import typer

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
from fupin_cli.cli.fit import Col, print_table, print_wrapped
from fupin_cli.labels import label
from fupin_cli.money import money
from fupin_cli.privacy import mask_text

MONTH_COLUMNS = (Col(label("month")), Col(label("pay"), right=True), Col(label("counted")),
                 Col(label("months"), label("months_short"), right=True), Col(label("wages"), right=True),
                 Col(label("reason_note"), wrap=True, min=16))
PARAM_COLUMNS = (Col(label("param"), wrap=True, min=8), Col(label("param_value"), wrap=True, min=8),
                 Col(label("param_read_at")), Col(label("param_since")), Col(label("param_source"), wrap=True, min=16))


@handle_errors
def explain(
    paths: Paths,
    who: Annotated[str, typer.Option("--id", metavar="身份证号或姓名", help="身份证号,或人员表中唯一的姓名(姓名中的空格不计)")],
    month: MonthOpt = None,
    ledger: LedgerOpt = None,
    policy: PolicyOpt = None,
    region: RegionOpt = None,
    json_out: JsonOpt = False,
    show_id: ShowId = False,
) -> None:
    """逐月说明一个人的核定过程:每月工资、是否计入、累计月数和报酬、所用参数及出处、结论。

    示例:fupin explain 数据.xlsx --id 451021199001010014 --month 2019-02
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
    # The same parameter values for every workshop: one table after them, not one per workshop.
    same_params = len({tuple((prm.label, prm.display, prm.since, prm.source) for prm in p.params)
                       for p in ex.pairs}) == 1 and len(ex.pairs) > 1
    for p in ex.pairs:
        console.rule(f"车间 {p.workshop_id} {p.workshop_name or ''}({p.county or ''})")
        console.print(f"经营主体:{p.operator or ''};认定日期:{p.certified or '未认定'};撤销日期:{p.withdrawn or '无'}")
        console.print(f"协议:{p.contract_type or ''},{p.start or ''} 至 {p.end or '无固定期限'};"
                      f"窗口期:{p.window_start or ''} 至 {p.window_end or '不限'}({p.anchor_label})")
        rows = [[ln.month, money(ln.pay), "是" if ln.counted else "否", "" if ln.months is None else str(ln.months),
                 "" if ln.wages is None else money(ln.wages), ln.note] for ln in p.lines]
        print_table(console, MONTH_COLUMNS, rows)
        if not same_params:
            print_table(console, PARAM_COLUMNS, _param_rows([p]), title="所用参数")
        print_wrapped(console, f"达标月份:{p.qualified_month or '未达标'};可发放月份:{p.payable_month or '—'};"
                      f"状态:{p.status_label};{mask_text(p.reason) if not show_id else p.reason}")
        print_wrapped(console, p.decision, style="bold")
    if same_params:
        console.rule()
        print_table(console, PARAM_COLUMNS, _param_rows(ex.pairs), title="所用参数(各车间相同)")
    console.rule()
    print_wrapped(console, ex.summary if show_id else mask_text(ex.summary))


def _param_rows(pairs: list) -> list[list[str]]:
    """One row per parameter; the months it was read at, over the given workshops, joined."""
    rows = []
    for i, prm in enumerate(pairs[0].params):
        months = "、".join(dict.fromkeys(p.params[i].read_at for p in pairs))
        rows.append([prm.label, prm.display, months, prm.since or "", prm.source])
    return rows


def register(app: typer.Typer) -> None:
    app.command("explain", help=explain.__doc__)(explain)
