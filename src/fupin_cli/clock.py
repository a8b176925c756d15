"""Times people read: local to the bureau (Asia/Shanghai unless configured), stored with their offset.

A server or container often runs on UTC; a ledger time eight hours off misleads a Baise clerk
(SPEC §9). `FUPIN_TZ` (an IANA name such as Asia/Urumqi) configures another zone.
"""

from __future__ import annotations

import os
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fupin_cli.errors import ConfigError

DEFAULT_TZ = "Asia/Shanghai"
TZ_ENV = "FUPIN_TZ"


def local_zone() -> ZoneInfo:
    name = os.environ.get(TZ_ENV) or DEFAULT_TZ
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"时区“{name}”无法识别(环境变量 {TZ_ENV}),请写 IANA 时区名,如 Asia/Shanghai",
                          code="config.timezone") from exc


def now_local() -> datetime:
    """Now, in the bureau's zone, with its offset (stored as ISO 8601: 2019-06-01T09:30:00+08:00)."""
    return datetime.now(local_zone())


def stamp() -> str:
    return now_local().isoformat(timespec="seconds")


def local_text(value: str | None, *, seconds: bool = False) -> str:
    """A stored ISO time (any offset; older ledgers wrote the server's) as local "YYYY-MM-DD HH:MM"."""
    if not value:
        return ""
    try:
        t = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)  # shown as stored rather than guessed
    if t.tzinfo is not None:
        t = t.astimezone(local_zone())
    return t.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
