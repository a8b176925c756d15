"""The catalogue of codes (data/codes.toml): every code src/ uses is declared once, with the severity it
is used with, and docs/codes.md is generated from it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import fupin_cli
from fupin_cli.codes import catalogue, render_markdown
from fupin_cli.commands.check import run_check
from fupin_cli.errors import FupinError
from fupin_cli.region import load_region
from xlsxfixtures import write_messy

SRC = Path(fupin_cli.__file__).resolve().parent
DOCS = SRC.parents[1] / "docs" / "codes.md"
CODE = re.compile(r"^[a-z][a-z_]*(\.[a-z][a-z_0-9]*)+$")
NOT_CODES = re.compile(r"\.(py|toml|json|log|sqlite3|xlsx|csv|batch)$")  # file and logger names


def _call_name(node: ast.Call) -> str:
    f = node.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""


def _uses() -> list[tuple[str, str | None, str]]:
    """(code, severity it is used with or None, where) for every code written in src/."""
    found: list[tuple[str, str | None, str]] = []
    for path in sorted(SRC.rglob("*.py")):
        where = str(path.relative_to(SRC))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = _call_name(node)
            kws = {k.arg: k.value for k in node.keywords}
            code = kws.get("code")
            if isinstance(code, ast.Constant) and isinstance(code.value, str):
                sev = kws.get("severity")
                severity = ("stop" if name.endswith("Error") or name == "LockBusy"
                            else sev.value if isinstance(sev, ast.Constant) else None)
                found.append((code.value, severity, where))
            elif isinstance(code, ast.JoinedStr):  # f"input.missing_table.{key}": a family of codes
                prefix = code.values[0].value if isinstance(code.values[0], ast.Constant) else ""
                found.append((f"{prefix}*", "stop", where))
            if name in ("error", "warning") and node.args and isinstance(node.args[0], ast.Constant) \
                    and isinstance(node.args[0].value, str) and CODE.match(node.args[0].value):
                found.append((node.args[0].value, name, where))
    return found


def test_every_code_in_src_is_in_the_catalogue_with_its_severity() -> None:
    cat = catalogue()
    uses = _uses()
    assert len({c for c, _, _ in uses}) > 70
    missing, wrong = [], []
    for code, severity, where in uses:
        if code.endswith("*"):
            family = [c for c in cat if c.startswith(code[:-1])]
            if not family:
                missing.append(f"{code} ({where})")
            wrong += [f"{c}: catalogue {cat[c].severity}, used as stop ({where})" for c in family
                      if cat[c].severity != "stop"]
        elif code not in cat:
            missing.append(f"{code} ({where})")
        elif severity is not None and cat[code].severity != severity:
            wrong.append(f"{code}: catalogue {cat[code].severity}, used as {severity} ({where})")
    assert not missing, f"codes used in src/ but not in data/codes.toml: {missing}"
    assert not wrong, f"severity differs from data/codes.toml: {wrong}"


def test_every_string_that_looks_like_a_code_is_declared() -> None:
    """Codes passed around as plain strings (not as code=…) are caught too."""
    namespaces = {c.split(".")[0] for c in catalogue()}
    strays = []
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and CODE.match(node.value) \
                    and node.value.split(".")[0] in namespaces and not NOT_CODES.search(node.value) \
                    and node.value not in catalogue():
                strays.append(f"{node.value} ({path.relative_to(SRC)}:{node.lineno})")
    assert not strays, f"code-like strings not in data/codes.toml: {strays}"


def test_month_codes_exist_for_every_date_code_the_month_normaliser_renames() -> None:
    """normalise_month reports a date column's date.* issues as month.*."""
    text = (SRC / "values" / "dates.py").read_text(encoding="utf-8")
    for code in set(re.findall(r'error\("date\.([a-z_]+)"', text)):
        assert f"month.{code}" in catalogue()


def test_no_catalogue_entry_is_unused() -> None:
    text = "\n".join(p.read_text(encoding="utf-8") for p in SRC.rglob("*.py"))
    unused = [c for c in catalogue() if f'"{c}"' not in text and not c.startswith("input.missing_table.")
              and not (c.startswith("month.") and f'"date.{c[6:]}"' in text)]
    assert not unused, f"codes in data/codes.toml that src/ never uses: {unused}"


def test_merged_double_codes_are_gone() -> None:
    for old in ("ledger.out_of_order", "input.none"):
        assert old not in catalogue()
        assert not any(f'"{old}"' in p.read_text(encoding="utf-8") for p in SRC.rglob("*.py"))


def test_problems_of_a_real_check_are_catalogued(tmp_path: Path) -> None:
    ds = run_check(write_messy(tmp_path).paths, region=load_region()).dataset
    cat = catalogue()
    seen = ds.problems[["code", "severity"]].drop_duplicates()
    assert len(seen) > 5
    for code, severity in seen.itertuples(index=False):
        assert code in cat and cat[code].severity == severity, (code, severity)


def test_a_stopping_error_names_a_catalogued_code(tmp_path: Path) -> None:
    with pytest.raises(FupinError) as err:
        run_check([tmp_path / "没有这个文件.xlsx"], region=load_region())
    assert catalogue()[err.value.code].severity == "stop"


def test_docs_codes_md_is_generated_from_the_catalogue() -> None:
    assert DOCS.read_text(encoding="utf-8") == render_markdown(), \
        "docs/codes.md is stale: run `python -m fupin_cli.codes > docs/codes.md`"
