"""`fupin check`: every data problem, before any money is computed."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from fupin_cli.cli.common import (
    JsonOpt,
    LazyProgress,
    Paths,
    PolicyOpt,
    RegionOpt,
    ShowId,
    console,
    handle_errors,
    print_json,
)
from fupin_cli.cli.fit import Col, print_table
from fupin_cli.errors import EXIT_DATA, EXIT_OK
from fupin_cli.fsutil import display_names
from fupin_cli.labels import label
from fupin_cli.privacy import mask_text
from fupin_cli.problems import problem_title

if TYPE_CHECKING:
    from fupin_cli.commands.check import CheckResult


SHOW_PER_SHEET = 20
TABLE_LABEL = {"workshops": "车间", "laborers": "人员", "wages": "工资"}


@handle_errors
def check(
    paths: Paths,
    json_out: JsonOpt = False,
    report: Annotated[Path | None, typer.Option("--report", help="把问题清单写入该 xlsx,并在同一文件夹生成标注了问题单元格的输入副本")] = None,
    show_id: ShowId = False,
    region: RegionOpt = None,
    policy: PolicyOpt = None,
) -> None:
    """检查输入表格中的全部数据问题(核算前必做)。

    给出 --policy 时也按该策略检查:奖补发给劳动者本人时要有本人银行账号,计入其他人员类别时要有“人员类别”列。

    示例:fupin check 田阳县车间数据.xlsx --report 问题清单.xlsx
    """
    from fupin_cli.commands.check import run_check
    from fupin_cli.policy import load_policy
    from fupin_cli.region import load_region

    reg = load_region(region)
    pol = load_policy(policy)
    with LazyProgress(enabled=not json_out) as prog:
        result = run_check(paths, region=reg, report=report, progress=prog, policy=pol)
    if json_out:
        print_json(result.to_json(mask=not show_id))
    else:
        render(result, show_id=show_id)
        for p in result.outputs:
            console.print(f"已写出:{p}")
    raise typer.Exit(EXIT_OK if result.valid else EXIT_DATA)


# At 80 columns the title gives way to the message, which says the same at length.
PROBLEM_COLUMNS = (Col(label("row"), right=True), Col(label("column"), wrap=True, min=10),
                   Col(label("value"), wrap=True, min=12), Col(label("problem"), drop=1),
                   Col(label("message"), wrap=True, min=30))
SEVERITY = {"error": ("错误", "red", "这些行不参与核算,请改正后重新检查"), "warning": ("警告", "yellow", "照常核算,请核对")}


def _problem_rows(grp, *, show_id: bool) -> list[list[str]]:
    """One line per (row, problem): the same problem in several columns of a row is said once."""
    rows: list[list[str]] = []
    key_of: dict[tuple, int] = {}
    for r in grp.itertuples(index=False):
        row = "" if r.row is None or r.row != r.row else str(r.row)
        msg = r.message if show_id else mask_text(r.message)
        value = "" if r.value is None or r.value != r.value else str(r.value if show_id else mask_text(r.value))
        key = (row, r.code, msg)
        if key in key_of:
            line = rows[key_of[key]]
            line[1] += f"、{r.column}"
            if value and value not in line[2].split("、"):
                line[2] += f"、{value}"
            continue
        key_of[key] = len(rows)
        rows.append([row, str(r.column), value, problem_title(r.code), msg])
    return rows


def render(result: CheckResult, *, show_id: bool) -> None:
    """Errors first (grouped by sheet), then warnings, then what was read; notes last and brief (issue #11)."""
    ds = result.dataset
    counts = result.table_counts()
    names = display_names([s.file for s in ds.sheets] + list(ds.problems["file"]))
    summary = Text.assemble(f"车间 {counts['workshops']} 行,人员 {counts['laborers']} 行,工资 {counts['wages']} 行;发现 ",
                            (f"{ds.errors} 个错误", "red"), "、", (f"{ds.warnings} 个警告", "yellow"), "。")
    console.print(summary)
    for severity, (word, colour, advice) in SEVERITY.items():
        sub = ds.problems.loc[ds.problems["severity"] == severity]
        if sub.empty:
            continue
        console.print(Text.assemble("\n", (f"{word} {len(sub)} 个", f"bold {colour}"), f"({advice})"))
        for (file, sheet), grp in sub.groupby(["file", "sheet"], sort=False):
            rows = _problem_rows(grp, show_id=show_id)
            print_table(console, PROBLEM_COLUMNS, rows[:SHOW_PER_SHEET], title=f"{names[file]} / {sheet}")
            if len(rows) > SHOW_PER_SHEET:
                console.print(Text(f"……本表另有 {len(rows) - SHOW_PER_SHEET} 行{word}未显示,"
                                   "完整清单请用 --report 问题清单.xlsx 或 --json。", style="dim"))
    console.print()
    read = [[names[s.file], s.sheet, TABLE_LABEL.get(s.table, s.table) + ("(按月分列)" if s.wide else ""),
             str(s.header_row), str(s.rows), str(s.ignored)] for s in ds.sheets]
    print_table(console, READ_COLUMNS, read, title="读取情况")
    for note in ds.notes:
        for full, short in names.items():
            note = note.replace(full, short)
        console.print(Text(f"说明:{note}", style="dim"))
    if ds.problems.empty:
        console.print(Text("未发现数据问题,可以核算。", style="green"))
    else:
        console.print(summary)


READ_COLUMNS = (Col(label("file"), wrap=True, min=24), Col(label("sheet"), wrap=True), Col(label("table")),
                Col(label("header_row"), label("header_row_short"), right=True),
                Col(label("data_rows"), label("data_rows_short"), right=True),
                Col(label("ignored_rows"), label("ignored_rows_short"), right=True))
