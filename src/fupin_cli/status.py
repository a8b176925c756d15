"""Pair statuses of SPEC §4.2, in precedence order, with the Chinese labels users read."""

from __future__ import annotations

# Precedence: when several reasons apply, the first in this order is the status (SPEC §4.2 item 5).
# This is the only definition: `rules.evaluate` reads it (tests/test_rules.py checks that it does).
STATUS_ORDER: tuple[str, ...] = (
    "invalid_data",
    "not_poor",
    "contract_type",
    "age",
    "pending",
    "short",
    "out_of_period",
    "not_certified",
    "withdrawn",
    "workshop_gate",  # SPEC §4.3 workshop_min_targets
    "paid",
    "duplicate",
    "eligible",
)

# Decided after the pair's own checks, from the ledger and the person's other pairs (item 4).
ONCE_STATUSES: tuple[str, ...] = ("paid", "duplicate", "eligible")


def check_statuses() -> tuple[str, ...]:
    """The statuses a pair's own data decides, in precedence order (all before `ONCE_STATUSES`)."""
    return tuple(s for s in STATUS_ORDER if s not in ONCE_STATUSES)


STATUS_LABELS: dict[str, str] = {
    "eligible": "达标应发",
    "paid": "已兑现",
    "duplicate": "重复享受",
    "pending": "未满期",
    "short": "未达标",
    "not_poor": "非建档立卡",
    "contract_type": "协议类型不符",
    "age": "年龄不符",
    "not_certified": "车间未认定",
    "withdrawn": "车间已撤销",
    "workshop_gate": "车间人数不足",
    "out_of_period": "不在政策期内",
    "invalid_data": "数据有误",
}

# 未达标名单 of a roster: an `eligible` pair this roster does not pay, because another batch of the
# same month recorded the person (HELD_*), or because the roster is a recorded one reprinted and
# today's data differs (NOT_RECORDED_LABEL).
HELD_LABEL = "已在第{batch_id}批登记"
HELD_REASON = "本月已由另一批次登记发放,不在本花名册"
NOT_RECORDED_LABEL = "按现有数据应发,未在本批次登记"


def status_code(text: str) -> str | None:
    """A status as a user types it: the code (pending) or its Chinese label (未满期); None if neither."""
    t = str(text).strip()
    if t in STATUS_LABELS:
        return t
    by_label = {v: k for k, v in STATUS_LABELS.items()}
    return by_label.get(t) or by_label.get(t.replace(" ", ""))
