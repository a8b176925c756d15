"""`fupin ledger list|show|export`: what the ledger holds, for clerks and auditors (no SQL needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from fupin_cli.cli.common import JsonOpt, LedgerOpt, PolicyOpt, ShowId, console, handle_errors, print_json
from fupin_cli.clock import local_text
from fupin_cli.labels import label
from fupin_cli.money import money
from fupin_cli.months import format_month

ConfigOpt = Annotated[Path | None, typer.Option(
    "--config", "-c", help="配置文件(取其中的账本路径);不给 --ledger 时使用")]

ledger_app = typer.Typer(
    name="ledger",
    help="账本:新建账本、列出发放批次、查看某批次的发放明细、把整个账本导出为 xlsx。\n\n"
    "示例:fupin ledger init 账本.sqlite3    fupin ledger list --ledger 账本.sqlite3",
    no_args_is_help=True,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)


@ledger_app.command("init")
@handle_errors
def init_cmd(
    path: Annotated[Path | None, typer.Argument(
        help="新账本文件路径;不给时用 --config 配置文件中的账本路径", show_default=False)] = None,
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """新建一个空账本(首次使用时运行一次)。已存在的账本不会被清空或改动。

    登记发放(payout --commit、batch)只使用已存在的账本:路径写错时报错,不会悄悄新建一个空账本而重复发放。

    示例:fupin ledger init 账本.sqlite3    fupin ledger init --config fupin.toml
    """
    from fupin_cli.commands.ledger import init_ledger, ledger_path_for

    path, created, batches = init_ledger(ledger_path_for(path, config))
    if json_out:
        print_json({"ledger": str(path), "created": created, "batches": batches})
    elif created:
        console.print(f"已新建账本:{path}。请定期备份这个文件。", soft_wrap=True)
    else:
        console.print(f"账本“{path}”已存在(已登记 {batches} 批),未做任何改动。", soft_wrap=True)


@ledger_app.command("void")
@handle_errors
def void_cmd(
    batch_id: Annotated[int, typer.Argument(help="要作废的批次号(只能是最近登记的一批)", show_default=False)],
    reason: Annotated[str, typer.Option("--reason", help="作废原因(必填),记入账本")] = "",
    by: Annotated[str | None, typer.Option("--by", help="经办人姓名;不给时记录操作系统用户名")] = None,
    ledger: LedgerOpt = None,
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """作废最近登记的一批:批次和明细保留在账本中并标明作废人、时间和原因,其中人员重新计为未发放。

    账本中的任何记录都不会被删除。只能作废最近的一批;作废后重新运行该月即可重新登记。

    示例:fupin ledger void 7 --reason "误登记了2099-12" --by 张三 --ledger 账本.sqlite3
    """
    from fupin_cli.commands.ledger import ledger_path_for, void_ledger_batch

    path = ledger_path_for(ledger, config)
    info = void_ledger_batch(path, batch_id, reason=reason, by=by)
    if json_out:
        print_json({"ledger": str(path), "batch_id": info.batch_id, "month": format_month(info.month),
                    "void": info.void, "void_at": info.void_at, "void_by": info.void_by,
                    "void_reason": info.void_reason, "people": info.people, "amount": info.amount})
        return
    console.print(Text(f"已作废第 {info.batch_id} 批({format_month(info.month)},{info.people} 人,{money(info.amount)} 元)。"
                       f"作废人:{info.void_by};原因:{info.void_reason}。该批次人员重新计为未发放;"
                       "如已打印该批次花名册,请勿据此发放。"), soft_wrap=True)


@ledger_app.command("import")
@handle_errors
def import_cmd(
    files: Annotated[list[Path], typer.Argument(help="历史发放名单(.xlsx/.xls/.csv)或所在文件夹", show_default=False)],
    ledger: LedgerOpt = None,
    config: ConfigOpt = None,
    policy: PolicyOpt = None,
    json_out: JsonOpt = False,
    show_id: ShowId = False,
) -> None:
    """把使用 fupin 之前已人工发放的奖补登记到账本(一个“历史导入”批次),这些人以后不会再次发放。

    名单须有列:身份证号、车间编号、发放月份、发放金额;可有 姓名、凭证号。名单和输入表格一样逐行检查,
    有任何错误都不导入(列出文件、工作表、行、列),改正后重新导入即可。

    示例:fupin ledger import 历史发放名单.xlsx --ledger 账本.sqlite3
    """
    from fupin_cli.commands.ledger import import_history, ledger_path_for
    from fupin_cli.privacy import mask_text
    from fupin_cli.problems import problems_to_records

    path = ledger_path_for(ledger, config)
    res = import_history(path, files, policy=policy)
    h = res.history
    issues = problems_to_records(h.problems)
    if not show_id:
        for r in issues:
            r["value"], r["message"] = mask_text(r["value"]), mask_text(r["message"])
    if json_out:
        b = res.batch
        print_json({"ledger": str(path), "imported": b is not None, "batch_id": b.batch_id if b else None,
                    "people": b.people if b else 0, "amount": b.amount if b else 0.0, "errors": h.errors,
                    "issues": issues})
    else:
        for note in h.notes:
            console.print(Text(note), style="dim", soft_wrap=True)
        for r in issues:
            console.print(Text(f"{Path(str(r['file'])).name} / {r['sheet']} 第{r['row']}行 {r['column']}"
                               f"“{r['value']}”:{r['message']}"), soft_wrap=True)
        if res.batch is None:
            console.print(Text(f"历史发放名单有 {h.errors} 个错误,未导入任何记录(账本未改动)。请改正后重新导入。",
                               style="bold red"), soft_wrap=True)
        else:
            b = res.batch
            console.print(Text(f"已导入为第 {b.batch_id} 批(历史导入):{b.people} 人,{money(b.amount)} 元。"
                               f"这些人今后不会再次发放。账本:{path}"), soft_wrap=True)
    raise typer.Exit(1 if res.batch is None else 0)


@ledger_app.command("list")
@handle_errors
def list_cmd(ledger: LedgerOpt = None, config: ConfigOpt = None, json_out: JsonOpt = False) -> None:
    """列出账本中的全部发放批次(月份、人数、金额、登记时间)。

    示例:fupin ledger list --ledger 账本.sqlite3
    """
    from fupin_cli.commands.ledger import (
        batch_state,
        batches_json,
        ledger_path_for,
        list_batches,
        missing_outputs,
    )

    path = ledger_path_for(ledger, config)
    batches = list_batches(path)
    missing = missing_outputs(path)
    if json_out:
        print_json(batches_json(path, batches, missing))
        return
    t = Table(title=Text(f"账本 {path} 的发放批次"), title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False,
              collapse_padding=True)
    for h in [label(k) for k in ("batch_id", "month", "county_scope", "people", "workshops", "amount_sum", "created_at",
                                 "status_label")]:
        t.add_column(h, no_wrap=True)
    for b in batches.itertuples(index=False):
        t.add_row(str(b.batch_id), format_month(b.month), b.county or "全市",
                  str(b.people), str(b.workshops), money(b.amount), local_text(b.created_at),
                  batch_state(b.status, b.kind))
    console.print(t)
    valid = batches.loc[batches["status"] != "void"]
    console.print(f"共 {len(valid)} 批,{int(valid['people'].sum())} 人次,{money(float(valid['amount'].sum()))} 元"
                  + (f"(不含已作废的 {len(batches) - len(valid)} 批):" if len(valid) < len(batches) else "。"))
    for b in batches.loc[batches["status"] == "void"].itertuples(index=False):
        console.print(Text(f"  第 {b.batch_id} 批已于 {local_text(b.void_at)} 由 {b.void_by} 作废,"
                           f"原因:{b.void_reason}"), soft_wrap=True)
    for text in missing:
        console.print(Text(text, style="bold red"))


@ledger_app.command("show")
@handle_errors
def show_cmd(
    batch_id: Annotated[int, typer.Argument(help="批次号(见 fupin ledger list)", show_default=False)],
    ledger: LedgerOpt = None,
    config: ConfigOpt = None,
    show_id: ShowId = False,
    json_out: JsonOpt = False,
) -> None:
    """显示一个批次的发放明细,以及该批次所依据的输入文件和 SHA-256 校验值。

    示例:fupin ledger show 3 --ledger 账本.sqlite3 --show-id
    """
    from fupin_cli.commands.ledger import batch_json, batch_state, ledger_path_for, masked_payouts, show_batch

    view = show_batch(ledger_path_for(ledger, config), batch_id)
    if json_out:
        print_json(batch_json(view, mask=not show_id))
        return
    i = view.info
    console.print(f"第 {i.batch_id} 批:{format_month(i.month)},{view.county or '全市'},{i.people} 人,"
                  f"{money(i.amount)} 元,登记于 {local_text(i.created_at, seconds=True)},政策 {i.policy} {i.policy_version},"
                  f"状态:{batch_state(i.status, i.kind)}")
    if i.void:
        console.print(Text(f"本批次已作废:{local_text(i.void_at, seconds=True)} 由 {i.void_by} 作废,原因:{i.void_reason}。"
                           "其中人员不计为已发放,请勿按本批次花名册发放。", style="bold red"), soft_wrap=True)
    t = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for k in ("county", "workshop", "name", "id_number", "qualified_month", "payable_month", "amount_sum"):
        t.add_column(label(k), overflow="fold", min_width=4,
                     no_wrap=k in ("name", "id_number", "qualified_month", "payable_month", "amount_sum"))
    def text(v: object) -> Text:  # data printed literally; an imported payment has no county
        return Text(v if isinstance(v, str) else "")

    for r in masked_payouts(view, mask=not show_id).itertuples(index=False):
        t.add_row(text(r.county), text(r.workshop_id), text(r.name), r.id_number,
                  format_month(r.qualified_month), format_month(r.payable_month), money(r.amount))
    console.print(t)
    console.print("输入文件:")
    for f in view.files.itertuples(index=False):
        console.print(f"  {f.path}({f.size} 字节)\n    SHA-256 {f.sha256}", soft_wrap=True)


@ledger_app.command("export")
@handle_errors
def export_cmd(
    output: Annotated[Path, typer.Argument(help="导出的 xlsx 文件路径", show_default=False)],
    ledger: LedgerOpt = None,
    config: ConfigOpt = None,
) -> None:
    """把整个账本(批次、发放明细、输入文件)导出为一个 xlsx,供审计查看。

    示例:fupin ledger export 账本导出.xlsx --ledger 账本.sqlite3
    """
    from fupin_cli.commands.ledger import export_ledger, ledger_path_for

    path = export_ledger(ledger_path_for(ledger, config), output)
    console.print(f"已写出:{path}")


def register(app: typer.Typer) -> None:
    app.add_typer(ledger_app, name="ledger")
