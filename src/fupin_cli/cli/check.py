"""`fupin check`: every data problem, before any money is computed."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from fupin_cli.cli.common import (
    JsonOpt,
    LazyProgress,
    Paths,
    RegionOpt,
    ShowId,
    console,
    handle_errors,
    print_json,
    styled,
)
from fupin_cli.errors import EXIT_DATA, EXIT_OK
from fupin_cli.labels import label
from fupin_cli.privacy import mask_text

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
) -> None:
    """检查输入表格中的全部数据问题(核算前必做)。

    示例:fupin check 田阳县车间数据.xlsx --report 问题清单.xlsx
    """
    from fupin_cli.commands.check import run_check
    from fupin_cli.region import load_region

    reg = load_region(region)
    with LazyProgress(enabled=not json_out) as prog:
        result = run_check(paths, region=reg, report=report, progress=prog)
    if json_out:
        print_json(result.to_json(mask=not show_id))
    else:
        render(result, show_id=show_id)
        for p in result.outputs:
            console.print(f"已写出:{p}")
    raise typer.Exit(EXIT_OK if result.valid else EXIT_DATA)


def render(result: CheckResult, *, show_id: bool) -> None:
    from fupin_cli.commands.check import summary_frame

    ds = result.dataset
    t = Table(title="读取情况", show_lines=False)
    for c in [label(k) for k in ("file", "sheet", "table", "header_row", "data_rows", "ignored_rows")]:
        t.add_column(c)
    for s in ds.sheets:
        t.add_row(Path(s.file).name, s.sheet, TABLE_LABEL.get(s.table, s.table) + ("(按月分列)" if s.wide else ""),
                  str(s.header_row), str(s.rows), str(s.ignored))
    console.print(t)
    for note in ds.notes:
        console.print(f"说明:{note}", style="dim")
    counts = result.table_counts()
    console.print(
        f"车间 {counts['workshops']} 行,人员 {counts['laborers']} 行,工资 {counts['wages']} 行;"
        f"发现 {ds.errors} 个错误、{ds.warnings} 个警告。"
    )
    if ds.problems.empty:
        console.print("未发现数据问题,可以核算。", style="green")
        return
    for (file, sheet), grp in ds.problems.groupby(["file", "sheet"], sort=False):
        pt = Table(title=f"{Path(file).name} / {sheet}", title_justify="left")
        for c in [label(k) for k in ("row", "column", "value", "severity_label", "code", "message")]:
            pt.add_column(c, overflow="fold")
        for r in grp.head(SHOW_PER_SHEET).itertuples(index=False):
            value = r.value if show_id else mask_text(r.value)
            msg = r.message if show_id else mask_text(r.message)
            sev = styled(("错误", "red")) if r.severity == "error" else styled(("警告", "yellow"))
            pt.add_row("" if r.row is None or r.row != r.row else str(r.row), str(r.column), str(value), sev, r.code, msg)
        console.print(pt)
        if len(grp) > SHOW_PER_SHEET:
            console.print(f"……本表另有 {len(grp) - SHOW_PER_SHEET} 条问题未显示,完整清单请用 --report 问题清单.xlsx 或 --json。", style="dim")
    summary = summary_frame(ds)
    console.print(f"共 {len(summary)} 个工作表有问题。有错误的行不参与核算,其余行照常核算。", style="dim")
