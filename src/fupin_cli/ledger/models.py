"""Per-record results of the ledger: one batch, and the outcome of recording one."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class BatchInfo(BaseModel):
    """One committed batch (a month's roster, for one county or the whole region)."""

    model_config = ConfigDict(frozen=True)

    batch_id: int
    month: int  # month index (fupin_cli.months)
    county_code: str | None  # county code the batch was restricted to; None = every county
    created_at: str  # ISO 8601, local time with UTC offset
    policy: str
    policy_version: str
    tool_version: str
    people: int
    workshops: int
    amount: float  # 元
    once_per_person: bool
    status: str  # 'committed' or 'void'
    note: str | None = None
    roster_kept: bool = False  # the full roster rows are stored (schema v3+); else only who and how much
    kind: str = "computed"  # or 'imported': payments made before fupin (`fupin ledger import`)
    void_at: str | None = None
    void_by: str | None = None
    void_reason: str | None = None

    @property
    def void(self) -> bool:
        return self.status == "void"


class RecordResult(BaseModel):
    """What `Ledger.record_batch` did.

    `created` is False when a batch for that month (and county, or a region-wide one) already
    existed: nothing was recorded and `batch` is the existing batch, for the caller to compare
    its roster with. `skipped` lists ID numbers left out because another batch of the same month
    already paid them (a region-wide batch after county batches records only the rest).
    """

    batch: BatchInfo
    created: bool
    recorded: int
    skipped: list[str] = []


class OutputRecord(BaseModel):
    """An output requested for a batch (`kind` 'roster': payout --output; 'month_folder': batch)."""

    model_config = ConfigDict(frozen=True)

    batch_id: int
    month: int
    county_code: str | None
    kind: str
    path: str
