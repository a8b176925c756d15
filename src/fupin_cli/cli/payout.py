"""`fupin payout`: the month's payout roster (花名册); `--commit` records it in the ledger."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text

from fupin_cli.cli.common import (
    CountyOpt,
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
from fupin_cli.cli.fit import Col, fit_table, print_table
from fupin_cli.errors import EXIT_DATA, EXIT_OK, LOCK_TIMEOUT
from fupin_cli.labels import label
from fupin_cli.money import money
from fupin_cli.months import format_month
from fupin_cli.privacy import mask_text
from fupin_cli.wording import say

if TYPE_CHECKING:
    from fupin_cli.settlement import Settlement


SHOW_ROWS = 30
# One line a person: the workshop name goes first, then the county, then 累计报酬 (issue #11).
ROSTER_COLUMNS = (Col(label("county"), label("county_short"), drop=2),
                  Col(label("workshop_id"), label("workshop_id_short")), Col(label("workshop_name"), drop=3),
                  Col(label("name")), Col(label("id_number")),
                  Col(label("qualified_month"), label("qualified_month_short")),
                  Col(label("payable_month"), label("payable_month_short")),
                  Col(label("months"), label("months_short"), right=True),
                  Col(label("wages"), right=True, drop=1), Col(label("amount"), right=True))


@handle_errors
def payout(
    paths: Paths,
    month: MonthOpt = None,
    county: CountyOpt = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="花名册 xlsx 写入路径")] = None,
    commit: Annotated[bool, typer.Option("--commit", help="把本月花名册登记到账本(同一月份重复登记不会重复发放)")] = False,
    ledger: LedgerOpt = None,
    new_ledger: Annotated[bool, typer.Option(
        "--new-ledger", help="首次登记时新建账本(账本文件不存在时才需要;也可先运行 fupin ledger init)")] = False,
    first_run: Annotated[bool, typer.Option(
        "--first-run", help="确认这是首次发放:账本中没有历史记录时,名单中早已可发放的人员也一并登记"
        "(以前人工发放过的,请先用 fupin ledger import 导入)")] = False,
    lock_timeout: Annotated[float, typer.Option("--lock-timeout", metavar="秒数", help="等待其他任务释放账本的秒数")] = LOCK_TIMEOUT,
    policy: Annotated[list[str] | None, typer.Option(
        "--policy", metavar="文件",
        help="政策参数文件(TOML),默认内置 gx-2018。可重复给出多个政策,按给出的顺序核算:同一 exclusive_group "
             "的政策中,本月已按前面政策发放的人不再按后面的政策发放;每个政策单独登记批次、单独写出花名册"
             "(--output 花名册.xlsx 写成 花名册_政策名.xlsx)")] = None,
    region: RegionOpt = None,
    json_out: JsonOpt = False,
    show_id: ShowId = False,
) -> None:
    """生成某月的一次性带动就业奖补发放花名册;加 --commit 登记到账本。

    示例:fupin payout 数据/ --county 田阳县 --month 2019-05 --output 花名册.xlsx --commit
    """
    from fupin_cli.commands.payout import run_payouts, settlement_json

    with LazyProgress(enabled=not json_out) as prog:
        done = run_payouts(paths, policies=policy or [None], month=month_option(month), county_arg=county,
                           region=region, ledger_path=ledger, commit=commit, new_ledger=new_ledger,
                           first_run=first_run, output=output,
                           lock_timeout=lock_timeout, progress=prog)
    if json_out:  # several policies: one payout document each, in the order given
        docs = [settlement_json(s, mask=not show_id) for s in done]
        print_json(docs[0] if len(docs) == 1 else {"policies": docs})
    else:
        for s in done:
            if len(done) > 1:
                console.rule(Text(f"政策:{s.policy.label}"))
            render(s, show_id=show_id)
    raise typer.Exit(EXIT_DATA if done[0].dataset.errors else EXIT_OK)


def render(s: Settlement, *, show_id: bool) -> None:
    from fupin_cli.loading import describe_month

    r = s.roster
    err_console.print(describe_month(s.month, s.month_defaulted))
    where = r.county or r.region_name
    shown = r.rows.head(SHOW_ROWS)
    rows = [[row.county, str(row.workshop_id), str(row.workshop_name), str(row.name),
             row.id_number if show_id else mask_text(row.id_number), format_month(row.qualified_month),
             format_month(row.payable_month), _blank(row.months, str), _blank(row.wages, money), money(row.amount)]
            for row in shown.itertuples(index=False)]
    title = say("{where}{subsidy}花名册({month})", s.policy.terms, where=where, month=format_month(s.month))
    table = fit_table(ROSTER_COLUMNS, rows, console.width, title=title)
    if table is None:
        print_table(console, ROSTER_COLUMNS, rows, title=title)
    else:
        console.print(table)
        if not any(c.header.plain.strip() == label("workshop_name") for c in table.columns):  # name left out to keep one line a person
            names = dict(zip(shown["workshop_id"].astype(str), shown["workshop_name"].astype(str), strict=True))
            console.print(Text("车间:" + ";".join(f"{k} {v}" for k, v in names.items())))
    if len(r.rows) > SHOW_ROWS:
        console.print(f"……另有 {len(r.rows) - SHOW_ROWS} 人未显示,完整名单见 --output 花名册。", style="dim")
    console.print(f"本月应发 {r.people} 人,共 {money(r.amount)} 元;涉及 {len(r.workshops)} 个车间。")
    d = s.decisions if r.county_code is None else s.decisions.loc[s.decisions["county_code"] == r.county_code]
    # People another batch of the month recorded are counted apart, not as 达标应发 of this roster.
    held = d["status"].eq("eligible") & d["id_number"].isin(s.already_recorded["id_number"])
    counts = d.loc[~held, "status"].value_counts()
    from fupin_cli.status import STATUS_LABELS, STATUS_ORDER

    parts = [f"{STATUS_LABELS[k]} {int(counts[k])}" for k in STATUS_ORDER if k in counts]
    if held.any():
        parts.append(f"已在本月其他批次登记 {int(held.sum())}")
    console.print(f"{where}全部人员状态:" + "、".join(parts))
    if s.dataset.errors:
        excluded = int((d["status"] == "invalid_data").sum())
        console.print(f"有 {s.dataset.errors} 个数据错误" + (f",{excluded} 条人员记录因此未参与核算" if excluded else "")
                      + "(见花名册“数据问题”表或 fupin check)。", style="yellow")
    flagged = int(r.rows["check_note"].notna().sum()) if "check_note" in r.rows else 0
    if flagged:
        console.print(f"名单中 {flagged} 人有不影响核算的数据错误(如银行账号),已照常核算,"
                      "花名册“备注”列已标出,发放前请核实。", style="yellow")
    if len(s.audit):
        console.print(f"审计清单:{len(s.audit)} 名已发放人员按现有数据已不符合条件(不会追回,请人工核查):", style="bold red")
        for a in s.audit.head(SHOW_ROWS).itertuples(index=False):
            console.print(f"  {a.name} {a.id_number if show_id else mask_text(a.id_number)} 车间{a.workshop_id}:{a.reason}")
    render_ledger_lists(s, show_id=show_id)
    if s.batch is not None:
        state = "新登记" if s.batch_created else "已存在(未重复登记)"
        console.print(f"账本批次:第 {s.batch.batch_id} 批,{state}(账本:{s.ledger_path})。")
    for n in s.notes:
        console.print(Text(n, style="dim"))
    for p in s.outputs:
        console.print(Text(f"已写出:{p}"))
    render_missing(s)


def _blank(v: object, fmt: Callable[[Any], str]) -> str:
    """A detail a legacy reprint may lack (see fupin_cli.settlement.LEGACY_NOTE) shows as blank."""
    import pandas as pd

    return "" if pd.isna(v) else fmt(v)


def render_ledger_lists(s: Settlement, *, show_id: bool) -> None:
    """People another batch of the month recorded, and today's differences from a recorded roster."""
    def idn(v: str) -> str:
        return v if show_id else mask_text(v)

    from fupin_cli.status import HELD_LABEL

    held = s.already_recorded
    if len(held):
        console.print(f"另有 {len(held)} 人已在本月其他批次登记,不在本花名册上:", style="bold")
        for h in held.head(SHOW_ROWS).itertuples(index=False):
            console.print(Text(f"  {h.name} {idn(h.id_number)} 车间{h.workshop_id}:"
                               + HELD_LABEL.format(batch_id=int(h.batch_id))))
    diff = s.differences
    if diff is not None and len(diff):
        console.print(f"注意:按现有数据与已登记的名单有 {len(diff)} 处不同(花名册以账本登记为准,"
                      "不会重复登记或撤销):", style="bold red")
        for d in diff.head(SHOW_ROWS).itertuples(index=False):
            console.print(Text(f"  {d.name} {idn(d.id_number)} 车间{d.workshop_id}:{d.note}"))


def render_missing(s: Settlement) -> None:
    from fupin_cli.settlement import missing_output_message

    for o in s.missing_outputs:
        err_console.print(Text(missing_output_message(o, s.region), style="bold red"))


def register(app: typer.Typer) -> None:
    app.command("payout", help=payout.__doc__)(payout)
