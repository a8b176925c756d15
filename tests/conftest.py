"""Helpers shared by every test module (pytest also loads this file first), and the cache isolation.

Every test starts with the dataset cache off and pointed at its own temporary folder: the CLI
turns the cache on (unless --no-cache); without this a library call in a later test could be
answered from an earlier test's cache and never reach the code it means to test.
"""

from __future__ import annotations

import datetime as dt

import pytest

from fupin_cli import cache

ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
ID_CHECK = "10X98765432"


def id_check_char(body17: str) -> str:
    """GB 11643-1999 MOD 11-2 check character, computed here independently of fupin_cli.values."""
    return ID_CHECK[sum(int(c) * w for c, w in zip(body17, ID_WEIGHTS, strict=True)) % 11]


def make_id(birth: str | dt.date, seq: int, area: str = "452122") -> str:
    """A valid 18-character ID number: `area` (6 digits), birth date ('YYYY-MM-DD', 'YYYYMMDD' or a
    date), sequence number `seq` (mod 1000), check character."""
    born = birth.strftime("%Y%m%d") if isinstance(birth, dt.date) else birth.replace("-", "")
    body = f"{area}{born}{seq % 1000:03d}"
    return body + id_check_char(body)


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cache.ENV_DIR, str(tmp_path_factory.mktemp("cache")))
    monkeypatch.setattr(cache, "SETTINGS", cache.Settings())
