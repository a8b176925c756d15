"""Build `Dataset`s and policies for rule tests from compact case data (see rule_cases.toml)."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from conftest import make_id
from fupin_cli.dataset import Dataset
from fupin_cli.months import parse_month_arg
from fupin_cli.policy import Policy, load_policy
from fupin_cli.problems import empty_problems

COUNTIES = {"451003": "田阳区", "451022": "田东县", "451002": "右江区"}


def _date(v: Any) -> pd.Timestamp:
    return pd.NaT if v in (None, "") else pd.Timestamp(v)


def month(v: str) -> int:
    return parse_month_arg(v)


class Case:
    """A rule case: `who` names map to IDs built from each laborer's birth date."""

    def __init__(self, case: dict) -> None:
        self.case = case
        self.ids: dict[str, str] = {}
        for lab in case.get("laborers", []):
            who = lab["who"]
            if who not in self.ids:
                # The sequence's last digit is the ID's 17th: odd = 男 (the default), even = 女.
                seq = 2 * len(self.ids) + (2 if lab.get("sex") == "女" else 1)
                self.ids[who] = make_id(lab.get("birth", "1990-01-01"), seq)

    def dataset(self) -> Dataset:
        ws = pd.DataFrame([
            {
                "workshop_id": w["id"], "workshop_name": w.get("name", f"{w['id']}厂"),
                "operator": w.get("operator", f"{w['id']}公司"), "operator_type": "企业", "credit_code": None,
                "county_code": w.get("county", "451003"), "county": COUNTIES[w.get("county", "451003")],
                "township": None, "village": None,
                "certified": _date(w.get("certified", "2018-01-01")), "withdrawn": _date(w.get("withdrawn")),
                "bank": "农村信用社", "bank_account": "6221000000000000", "valid": w.get("valid", True),
                "_src": 0, "_row": 3 + i,
            }
            for i, w in enumerate(self.case.get("workshops", []))
        ])
        labs = pd.DataFrame([
            {
                "id_number": self.ids[lab["who"]], "name": lab["who"], "workshop_id": lab["ws"],
                "poor": lab.get("poor", True), "relocated": lab.get("relocated", False),
                "categories": lab.get("categories", "建档立卡贫困劳动力" if lab.get("poor", True) else ""),
                "contract_type": lab.get("type", "劳务协议"), "start": _date(lab["start"]),
                "end": _date(lab.get("end")), "valid": lab.get("valid", True),
                "invalid_reason": lab.get("invalid_reason") or None, "_src": 1, "_row": 3 + i,
            }
            for i, lab in enumerate(self.case.get("laborers", []))
        ])
        rows = []
        for w in self.case.get("wages", []):
            months = [month(w["month"])] if "month" in w else range(month(w["from"]), month(w["to"]) + 1)
            for m in months:
                rows.append({"id_number": self.ids[w["who"]], "workshop_id": w["ws"], "month": m,
                             "pay": float(w["pay"]), "days": pd.NA, "_src": 2, "_row": 3 + len(rows)})
        wages = pd.DataFrame(rows, columns=["id_number", "workshop_id", "month", "pay", "days", "_src", "_row"])
        wages["month"] = wages["month"].astype("int64")
        wages["days"] = wages["days"].astype("Int64")
        return Dataset(workshops=ws, laborers=labs, wages=wages, problems=empty_problems(), sheets=[], files=[])

    def paid(self) -> pd.DataFrame | None:
        rows = self.case.get("paid")
        if not rows:
            return None
        return pd.DataFrame([
            {"id_number": self.ids.get(p["who"], p["who"]), "workshop_id": p["ws"], "amount": float(p["amount"]),
             "batch_id": p.get("batch", "B1"), "batch_month": month(p["month"]), "period": p.get("period"),
             "policy": p.get("policy")}
            for p in rows
        ])

    def id_of(self, who: str) -> str:
        return self.ids[who]


# --- policies written to files ------------------------------------------------------------------
def _toml_key(k: str) -> str:
    """A bare key when TOML allows it (ASCII letters, digits, _ and -), else quoted ("男")."""
    return k if k.isascii() and k.replace("_", "").replace("-", "").isalnum() else _toml_value(k)


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(type(v))


def policy_text(overrides: dict[str, Any] | None = None, **top: Any) -> str:
    """The built-in gx-2018 with some parameters replaced, as TOML text. A scalar/list override
    becomes one value from 2018-01; a list of dicts is taken as the dated values themselves."""
    base = tomllib.loads(resources.files("fupin_cli").joinpath("data/policies/gx-2018.toml").read_text("utf-8"))
    base.update({"name": "test-policy", "title": "测试策略"}, **top)
    for k, v in (overrides or {}).items():
        if isinstance(v, list) and (not v or isinstance(v[0], dict)):
            base["parameters"][k] = v
        else:
            base["parameters"][k] = [{"from": "2018-01", "value": v, "source": "测试用"}]
    lines = [f"{k} = {_toml_value(v)}" for k, v in base.items() if k != "parameters"]
    lines.append("[parameters]")
    lines += [f"{k} = {_toml_value(v)}" for k, v in base["parameters"].items()]
    return "\n".join(lines) + "\n"


def policy_from_overrides(tmp: Path, overrides: dict[str, Any] | None, top: dict[str, Any] | None = None
                          ) -> Policy:
    """gx-2018 with `overrides` of its [parameters] and `top` fixed keys (recurrence, cap_scope, …)."""
    if not overrides and not top:
        return load_policy(None)
    path = tmp / "policy.toml"
    path.write_text(policy_text(overrides, **(top or {})), encoding="utf-8")
    return load_policy(str(path))
