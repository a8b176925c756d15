"""Output labels are data (data/labels.toml): every header used in src/ exists there, spelled once."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import fupin_cli.workbooks
from fupin_cli.labels import label, labels
from fupin_cli.workbooks.layout import Col

SRC = Path(fupin_cli.workbooks.__file__).resolve().parents[1]


def test_every_workbook_column_has_its_label() -> None:
    cols = []
    for m in pkgutil.iter_modules(fupin_cli.workbooks.__path__, "fupin_cli.workbooks."):
        mod = importlib.import_module(m.name)
        for v in vars(mod).values():
            if isinstance(v, list) and v and all(isinstance(c, Col) for c in v):
                cols += v
    assert len(cols) > 40
    for c in cols:
        assert c.header == (c.text if c.text is not None else label(c.label or c.key))
        assert "{" not in c.header  # a placeholder of the policy's words is filled (fupin_cli.wording)


def test_every_label_key_in_the_terminal_code_exists() -> None:
    used: set[str] = set()
    for p in (SRC / "cli").glob("*.py"):
        text = p.read_text(encoding="utf-8")
        used |= set(re.findall(r'label\("([a-z_0-9]+)"\)', text))
        for group in re.findall(r"label\(\w+\) for \w+ in \(([^)]*)\)", text):
            used |= set(re.findall(r'"([a-z_0-9]+)"', group))
        for group in re.findall(r"HEADERS = \(([^)]*)\)", text):
            used |= set(re.findall(r'"([a-z_0-9]+)"', group))
    assert {"county", "amount", "wages", "paid_amount"} <= used
    missing = sorted(k for k in used if k not in labels())
    assert not missing, f"labels used in cli/ but missing from data/labels.toml: {missing}"


def test_spec_header_names_win() -> None:
    """SPEC §6.1/§6.2 spell these headers; terminal and workbooks share them."""
    assert (label("county"), label("amount"), label("wages"), label("paid_amount")) == (
        "县(市、区)", "奖补金额", "累计报酬", "已兑现金额")


def test_unknown_label_is_a_clear_error() -> None:
    try:
        label("no_such_label")
    except KeyError as exc:
        assert "no_such_label" in str(exc) and "labels.toml" in str(exc)
    else:
        raise AssertionError("an unknown label must raise")
