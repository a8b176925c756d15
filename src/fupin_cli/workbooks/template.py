"""Blank input workbook (`fupin template`, SPEC §7): the right headers, drop-down lists, text ID columns.

Headers, required flags, choices and notes all come from tables.toml, so the template always matches
what the reader accepts. The template follows the policy (SPEC §4.3): the 人员类别 column (with its
drop-down) appears when the policy counts other categories than 建档立卡贫困劳动力, the laborer's bank
columns when the subsidy is paid to the laborer (then required), and the title uses the policy's terms.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from xlsxwriter.utility import xl_col_to_name

from fupin_cli.fsutil import atomic_path
from fupin_cli.policy import Policy, load_policy
from fupin_cli.region import Region, load_region
from fupin_cli.tables import ColumnSpec, TableSpec, load_tables
from fupin_cli.workbooks.cells import Formats, new_workbook, text_width
from fupin_cli.workbooks.layout import setup_print

TEMPLATE_NAME = "就业扶贫车间数据模板.xlsx"
TEMPLATE_ROWS = 2000  # rows pre-formatted as blank cells (the column format covers the rest of the sheet)
LAST_ROW = 1_048_575  # drop-down lists and checks cover the whole column, not only the pre-formatted rows
YES_NO = ["是", "否"]
LIST_SHEET = "选项"  # hidden sheet for lists longer than Excel's 255-character inline limit

# Cell kind per column type: text-like columns are "@" so that Excel keeps 18-digit IDs, leading zeros
# and "2019-03" as typed.
KIND_BY_TYPE = {"id": "id", "digits": "id", "credit_code": "id", "text": "text", "month": "month",
                "enum": "text", "county": "text", "bool": "text", "date": "date", "money": "money", "int": "int",
                "categories": "text"}

TYPE_NOTES = {
    "id": "文本格式", "digits": "文本格式", "credit_code": "文本格式", "text": "文本", "month": "文本(年-月)",
    "enum": "下拉选择", "county": "下拉选择", "bool": "下拉选择 是/否", "date": "日期", "money": "数字(元)",
    "int": "整数", "categories": "下拉选择,可填多个",
}

COMMON_MISTAKES = [
    "身份证号、银行账号、统一社会信用代码请保持文本格式:设成数字格式后 Excel 会把18位身份证号变成 4.52122E+17,后几位永久丢失。",
    "从其他表格粘贴时请用“选择性粘贴 → 数值”,以免把数字格式一起粘贴进来。",
    "表格上方可以有标题行(如“XX县就业扶贫车间花名册”“填报单位:…”),表格下方可以有“合计”行,程序会自动识别并跳过。",
    "可以有“序号”列;列的顺序不限;表头中的空格、换行、全角括号和“(元)”等单位不影响识别。",
    "工资表每人每月一行(填“月份”列);也可以每人一行、每月一列(表头写 2019年3月、2019-03 等),两种写法都可以。",
    "同一人在两个车间务工,人员表中填两行(每个车间一行)。",
    "日期请写成 2019-03-01 这样的格式;工资金额只填数字,不要写“元”。",
    "可以把车间、人员、工资分别放在不同文件或按乡镇分成多个工作表,程序会合并。",
]


def visible_columns(spec: TableSpec, policy: Policy) -> list[ColumnSpec]:
    """The columns a template for this policy shows (a feature column only when the policy uses it)."""
    uses = {"categories": policy.uses("categories"), "payee_laborer": policy.payee == "laborer"}
    return [c for c in spec.columns if c.feature is None or uses[c.feature]]


def is_required(col: ColumnSpec) -> bool:
    """Required in a template that shows the column: the laborer's bank and account when paying laborers."""
    return col.required or col.key in ("laborer_bank", "laborer_account")


def _choices(col: ColumnSpec, region: Region) -> list[str] | None:
    if col.type in ("enum", "categories"):
        return list(col.choices)
    if col.type == "bool":
        return YES_NO
    if col.type == "county":
        return [c.name for c in region.counties]
    return None


def _validation(col: ColumnSpec, choices: list[str] | None, list_ref: str | None) -> dict | None:
    if choices is not None and col.type == "categories":
        # Several categories may be joined by 、: the list helps, it does not forbid a combination.
        return {"validate": "list", "source": list_ref or choices, "error_type": "information",
                "error_title": "人员类别", "error_message": "属于多个类别时用、分隔,如:脱贫人口、防止返贫监测对象"}
    if choices is not None:
        source: object = list_ref if list_ref else choices
        return {"validate": "list", "source": source, "error_title": "请从下拉列表选择",
                "error_message": f"“{col.header}”请从下拉列表中选择:{'、'.join(choices)[:200]}"}
    if col.type == "date":
        # A warning, not a stop: text dates such as 2019.3.5 are still accepted by the program.
        return {"validate": "date", "criteria": "between", "minimum": date(2000, 1, 1), "maximum": date(2099, 12, 31),
                "error_type": "warning", "error_title": "日期格式",
                "error_message": "请填写日期,如 2019-03-01"}
    if col.type == "money":
        return {"validate": "decimal", "criteria": ">=", "value": 0, "error_title": "金额",
                "error_message": "请填写不小于 0 的金额(只填数字,单位元)"}
    if col.type == "int":
        lo, hi = col.min if col.min is not None else 0, col.max if col.max is not None else 1_000_000
        return {"validate": "integer", "criteria": "between", "minimum": lo, "maximum": hi,
                "error_title": col.header, "error_message": f"请填写 {lo}–{hi} 的整数"}
    return None


def _write_table_sheet(wb, fmts: Formats, spec: TableSpec, columns: list[ColumnSpec], region: Region,
                       lists: dict[str, str]) -> None:
    ws = wb.add_worksheet(spec.title)
    for j, col in enumerate(columns):
        kind = KIND_BY_TYPE[col.type]
        fmt = fmts.cell(kind)
        header_fmt = fmts.required_header if is_required(col) else fmts.header
        ws.write_string(0, j, col.header, header_fmt)
        if col.note:
            ws.write_comment(0, j, f"{col.header}{'(必填)' if is_required(col) else ''}:{col.note}",
                             {"author": "fupin", "x_scale": 2})
        width = {"id": 22, "date": 12, "money": 12}.get(kind, 10)
        choices = _choices(col, region)
        if choices:
            width = max(width, text_width(choices) + 4)
        ws.set_column(j, j, max(width, text_width([col.header]) + 2), fmt)
        # Explicitly formatted blank cells too: a column format alone is lost when rows are pasted.
        for r in range(1, TEMPLATE_ROWS + 1):
            ws.write_blank(r, j, None, fmt)
        dv = _validation(col, choices, lists.get(f"{spec.title}:{col.key}"))
        if dv is not None:
            ws.data_validation(1, j, LAST_ROW, j, dv)
    ws.set_row(0, 30)
    ws.autofilter(0, 0, 0, len(columns) - 1)
    setup_print(ws, 0, len(columns))


WIDE_KEYS = ("id_number", "name", "workshop_id")  # then one column per month


def _write_wide_wages(wb, fmts: Formats, spec: TableSpec, year: int) -> None:
    """The 工资 sheet as townships mostly keep it: one row per person and workshop, one column per month
    (headers 2019年1月 … 2019年12月, which the reader takes as months)."""
    ws = wb.add_worksheet(spec.title)
    by_key = {c.key: c for c in spec.columns}
    cols = [by_key[k] for k in WIDE_KEYS]
    for j, col in enumerate(cols):
        fmt = fmts.cell(KIND_BY_TYPE[col.type])
        ws.write_string(0, j, col.header, fmts.required_header if col.required else fmts.header)
        ws.set_column(j, j, {"id": 22}.get(KIND_BY_TYPE[col.type], 12), fmt)
        for r in range(1, TEMPLATE_ROWS + 1):
            ws.write_blank(r, j, None, fmt)
    money = fmts.cell("money")
    for i in range(12):
        j = len(cols) + i
        ws.write_string(0, j, f"{year}年{i + 1}月", fmts.header)
        ws.set_column(j, j, 11, money)
        ws.data_validation(1, j, LAST_ROW, j, {"validate": "decimal", "criteria": ">=", "value": 0,
                                                "error_title": "金额不正确", "error_message": "请填写实发工资(元),只填数字"})
    ws.write_comment(0, len(cols), "每月一列:填该月实发工资(元),没有工资的月份留空。", {"author": "fupin", "x_scale": 2})
    ws.set_row(0, 30)
    ws.freeze_panes(1, len(cols))
    setup_print(ws, 0, len(cols) + 12)


def _write_notes(wb, fmts: Formats, specs: list[tuple[TableSpec, list[ColumnSpec]]], title: str) -> None:
    ws = wb.add_worksheet("填表说明")
    ws.merge_range(0, 0, 0, 4, "", fmts.title)
    ws.write_string(0, 0, f"{title}填表说明", fmts.title)
    ws.set_row(0, 30)
    for j, h in enumerate(["工作表", "列名", "是否必填", "格式", "说明(也可用的列名)"]):
        ws.write_string(1, j, h, fmts.header)
    text = fmts.cell("text")
    r = 2
    for spec, columns in specs:
        for col in columns:
            aliases = f"(也可写作:{'、'.join(col.aliases)})" if col.aliases else ""
            for j, v in enumerate([spec.title, col.header, "必填" if is_required(col) else "选填",
                                   TYPE_NOTES[col.type], col.note + aliases]):
                ws.write_string(r, j, v, text)
            r += 1
    r += 1
    ws.write_string(r, 0, "红色表头为必填列。常见问题:", fmts.cell("text", True))
    for i, line in enumerate(COMMON_MISTAKES, start=1):
        r += 1
        ws.merge_range(r, 0, r, 4, "", fmts.note)
        ws.write_string(r, 0, f"{i}. {line}", fmts.note)
        ws.set_row(r, 32)
    for j, w in enumerate([10, 24, 10, 16, 70]):
        ws.set_column(j, j, w, fmts.note if j == 4 else None)
    setup_print(ws, 1, 5)


def write_templates(folder: Path, region: Region | None = None, wide_year: int | None = None,
                    policy: Policy | None = None) -> list[Path]:
    """Write 就业扶贫车间数据模板.xlsx (车间, 人员, 工资, 填表说明; the workshop word from the policy's
    terms) into `folder`; return the paths. `wide_year` writes the 工资 sheet with one column per month."""
    region = region or load_region()
    policy = policy or load_policy(None)
    tables = load_tables()
    specs = [(s, visible_columns(s, policy)) for s in (tables.workshops, tables.laborers, tables.wages)]
    title = f"{policy.terms.workshop}数据模板"
    path = Path(folder) / (TEMPLATE_NAME if title == "就业扶贫车间数据模板" else f"{title}.xlsx")
    with atomic_path(path) as tmp:
        wb = new_workbook(tmp, result=False)
        fmts = Formats(wb)
        # Long lists go to a hidden sheet (Excel limits an inline list to 255 characters).
        long_lists = [(f"{s.title}:{c.key}", ch) for s, cols in specs for c in cols
                      if (ch := _choices(c, region)) and len(",".join(ch)) > 255]
        lists = lists_for(long_lists)
        for spec, columns in specs:
            if spec is tables.wages and wide_year is not None:
                _write_wide_wages(wb, fmts, spec, wide_year)
            else:
                _write_table_sheet(wb, fmts, spec, columns, region, lists)
        _write_notes(wb, fmts, specs, title)
        if long_lists:
            ls = wb.add_worksheet(LIST_SHEET)
            for j, (key, choices) in enumerate(long_lists):
                ls.write_string(0, j, key)
                for i, v in enumerate(choices, start=1):
                    ls.write_string(i, j, v)
            ls.hide()
        wb.worksheets()[0].activate()
        wb.close()
    return [path]


def lists_for(long_lists: list[tuple[str, list[str]]]) -> dict[str, str]:
    """Validation source formulas (=选项!$A$2:$A$n) for the lists kept on the hidden sheet."""
    out = {}
    for j, (key, choices) in enumerate(long_lists):
        c = xl_col_to_name(j)
        out[key] = f"={LIST_SHEET}!${c}$2:${c}${len(choices) + 1}"
    return out
