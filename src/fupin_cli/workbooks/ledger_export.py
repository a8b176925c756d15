"""Export of the ledger (batches, payouts, input files) to xlsx for audit (SPEC §5).

The frames come straight from the ledger, so columns are whatever it holds: known English column
names get Chinese headers and a fitting cell kind; unknown ones keep their name and a kind from dtype.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from fupin_cli.fsutil import atomic_path
from fupin_cli.workbooks.cells import Formats, Kind, infer_kind, new_workbook
from fupin_cli.workbooks.layout import Col, write_table

HEADER_LABELS: dict[str, str] = {
    "batch_id": "批次号",
    "month": "月份",
    "batch_month": "批次月份",
    "created_at": "时间",
    "committed_at": "提交时间",
    "policy": "政策",
    "policy_version": "政策版本",
    "tool_version": "程序版本",
    "region": "地区",
    "county": "县(市、区)",
    "county_code": "区划代码",
    "people": "人数",
    "amount": "金额(元)",
    "wages": "累计报酬(元)",
    "months": "累计月数",
    "id_number": "身份证号",
    "name": "姓名",
    "workshop_id": "车间编号",
    "workshop_name": "车间名称",
    "operator": "经营主体",
    "bank": "开户银行",
    "bank_account": "银行账号",
    "qualified_month": "达标月份",
    "payable_month": "可发放月份",
    "path": "文件",
    "file": "文件",
    "size": "大小(字节)",
    "mtime": "修改时间",
    "sha256": "SHA-256 校验值",
    "rows": "行数",
    "status": "状态",
    "note": "备注",
}

# Columns that must stay text even when the ledger hands them over as numbers (leading zeros, 18 digits).
TEXT_KEYS = {"id_number", "bank_account", "county_code", "workshop_id", "batch_id", "sha256", "policy_version",
             "tool_version"}
MONEY_KEYS = {"amount", "wages", "paid_amount"}
SUM_KEYS = {"people", "amount"}


def ledger_columns(frame: pd.DataFrame, labels: Mapping[str, str] | None = None) -> list[Col]:
    """Output columns for whatever columns the frame has, in the frame's order."""
    labels = {**HEADER_LABELS, **(labels or {})}
    cols = []
    for key in frame.columns:
        k = str(key)
        kind: Kind = "id" if k in TEXT_KEYS else "money" if k in MONEY_KEYS else infer_kind(frame[key], k)
        cols.append(Col(key, kind, total=k in SUM_KEYS and kind in ("money", "int"), text=labels.get(k, k)))
    return cols


def write_ledger_export(
    path: Path,
    batches: pd.DataFrame,
    payouts: pd.DataFrame,
    files: pd.DataFrame,
    headers: Mapping[str, Mapping[str, str]] | None = None,
) -> Path:
    """Write 批次 / 发放明细 / 输入文件 sheets; payouts can be long, hence constant_memory.

    `headers` optionally overrides the Chinese header per frame: {"batches"|"payouts"|"files":
    {column: header}} (e.g. `fupin_cli.ledger.store.EXPORT_HEADERS`); other columns use HEADER_LABELS.
    """
    path = Path(path)
    headers = headers or {}
    with atomic_path(path) as tmp:
        wb = new_workbook(tmp, constant_memory=True)
        fmts = Formats(wb)
        for key, sheet, title, frame, unit in (
            ("batches", "批次", "奖补发放批次", batches, "共{n}批"),
            ("payouts", "发放明细", "奖补发放明细", payouts, "共{n}人次"),
            ("files", "输入文件", "各批次输入文件", files, "共{n}个"),
        ):
            frame = frame if frame is not None else pd.DataFrame()
            cols = ledger_columns(frame, headers.get(key))
            # The 合计 row shows the count in the first non-summed column after 序号.
            count_key = next((c.key for c in cols if not c.total), None)
            write_table(wb.add_worksheet(sheet), fmts, title=title, cols=cols, frame=frame,
                        count_text=(count_key, unit) if count_key is not None else None)
        wb.close()
    return path
