"""`fupin batch`: the unattended monthly run (see fupin_cli.commands.batch)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from fupin_cli.cli.common import (
    JsonOpt,
    LazyProgress,
    MonthOpt,
    console,
    handle_errors,
    month_option,
    print_json,
)
from fupin_cli.cli.payout import render_ledger_lists, render_missing
from fupin_cli.money import money
from fupin_cli.months import format_month
from fupin_cli.privacy import mask_text
from fupin_cli.status import STATUS_LABELS

if TYPE_CHECKING:
    from fupin_cli.commands.batch import BatchResult
    from fupin_cli.settlement import Settlement


SHOW_AUDIT = 30


@handle_errors
def batch(
    config: Annotated[Path | None, typer.Option(
        "--config", "-c", help="配置文件(TOML);不给时依次找环境变量 FUPIN_CONFIG、当前文件夹的 fupin.toml")] = None,
    month: MonthOpt = None,
    new_ledger: Annotated[bool, typer.Option(
        "--new-ledger", help="首次运行时新建配置文件中的账本(也可先运行 fupin ledger init --config …)")] = False,
    first_run: Annotated[bool, typer.Option(
        "--first-run", help="确认这是首次发放(账本中没有历史记录时才需要;以前人工发放过的请先 fupin ledger import)")] = False,
    json_out: JsonOpt = False,
) -> None:
    """每月无人值守运行:检查、核算、登记账本,并把花名册、统计表、数据问题和 summary.json 写入“输出文件夹/年-月/”。

    不给 --month 时核算上一个自然月。退出码:0 完成;1 完成但有数据错误的行被排除;2 未做任何处理(配置有误或输入无法读取);3 已登记但输出未能写出(排除问题后重新运行同一月份补写);75 另一个任务正占用账本(稍后重试)。

    示例:fupin batch --config /srv/fupin/fupin.toml --month 2019-05
    """
    from fupin_cli.commands.batch import run_batch
    from fupin_cli.config import find_config, load_config

    cfg = load_config(find_config(config))
    with LazyProgress(enabled=not json_out) as prog:  # shown only on a terminal, never in cron mail
        result = run_batch(cfg, month_option(month), progress=prog, new_ledger=new_ledger, first_run=first_run)
    if json_out:
        print_json(result.summary)
    else:
        render(result)
    raise typer.Exit(result.exit_code)


def render(r: BatchResult) -> None:
    console.print(f"核算月份:{format_month(r.month)}" + ("(未指定 --month,取上一个自然月)" if r.month_defaulted else ""))
    from fupin_cli.commands.payout import file_part

    docs = r.summary["policies"] if "policies" in r.summary else [r.summary]
    for s, doc in zip(r.settlements or [r.settlement], docs, strict=True):
        if len(docs) > 1:  # several policies (config `policies`): one block each, in the config's order
            console.rule(Text(f"政策:{s.policy.label}"))
        _render_policy(s, doc, f"_{file_part(s.policy.name)}" if len(docs) > 1 else "")
    for n in r.notes:
        console.print(f"{n}", style="dim")
    console.print(f"已写出:{r.folder}(共 {len(r.outputs)} 个文件)")
    console.print(f"日志:{r.config.log}", style="dim")
    render_missing(r.settlement)  # the ledger's missing outputs: the same list for every policy


def _render_policy(s: Settlement, doc: dict, suffix: str) -> None:
    console.print(f"本月应发 {doc['people']} 人,共 {money(doc['amount'])} 元,"
                  f"涉及 {doc['workshops']} 个车间。")
    b = doc["batch"]
    if b["batch_id"] is not None:
        state = "新登记" if b["created"] else "已存在,本次未重复登记"
        console.print(f"账本批次:第 {b['batch_id']} 批({state})。")
    console.print("全部人员状态:" + "、".join(f"{STATUS_LABELS[k]} {n}" for k, n in doc["statuses"].items()))
    if doc["errors"]:
        console.print(f"数据错误 {doc['errors']} 条、警告 {doc['warnings']} 条;有错误的行未参与核算"
                      f"(其中 {doc['excluded']} 条人员记录标为数据有误),详见 数据问题_{doc['month']}.xlsx。", style="yellow")
    render_ledger_lists(s, show_id=False)
    if len(s.audit):
        console.print(f"审计清单:{len(s.audit)} 名已发放人员按现有数据已不符合条件"
                      f"(不会撤销发放,请人工核查,见 审计清单_{doc['month']}{suffix}.xlsx):", style="bold red")
        for a in s.audit.head(SHOW_AUDIT).itertuples(index=False):
            console.print(f"  {a.name} {mask_text(a.id_number)} 车间{a.workshop_id}:{mask_text(a.reason)}")


def register(app: typer.Typer) -> None:
    app.command("batch", help=batch.__doc__)(batch)
