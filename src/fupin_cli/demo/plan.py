"""The demo plan (data/demo_plan.toml) as validated models, and the arithmetic it must satisfy."""

from __future__ import annotations

import tomllib
from datetime import date
from functools import cache
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict

from fupin_cli.months import parse_month_arg

Mistake = Literal["id.checksum", "id.converted_15", "id.lost_digits", "required.missing", "money.negative",
                  "ref.unknown_workshop", "name.mismatch", "credit_code.checksum"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Targets(_Strict):
    first_month: str
    as_of: str
    workshops: int
    employed: int
    poor: int
    paid: int
    amount: int
    amount_per_person: int

    @property
    def first(self) -> int:
        return parse_month_arg(self.first_month)

    @property
    def last(self) -> int:
        return parse_month_arg(self.as_of)


class Milestone(_Strict):
    """Batches up to `month` pay `paid` people of `county` in exactly `workshops` workshops."""

    county: str
    month: str
    paid: int
    workshops: int

    @property
    def month_idx(self) -> int:
        return parse_month_arg(self.month)


class Style(_Strict):
    sheets: dict[Literal["workshops", "laborers", "wages"], str]
    title: bool
    unit_row: bool
    seq: bool
    wide: bool
    month_format: Literal["dash", "cn", "date"]
    date_format: Literal["date", "dot"]
    bools: tuple[str | int, str | int]
    days: bool
    headers: dict[str, str]


class Named(_Strict):
    """A workshop the seed report names, with its own figures."""

    name: str
    township: str = ""
    village: str = ""
    operator: str
    operator_type: Literal["企业", "个体工商户", "农民专业合作社"]
    product: str
    certified: date
    # The workshop's usual agreement: one that gx-2018 counts, since its planned payouts follow it.
    contract: Literal["劳务协议", "承揽合同"]
    pay: tuple[int, int] = (1100, 2200)
    employed: int
    poor: int
    relocated: int
    paid: int


class Extra(_Strict):
    """A workshop that stats does not count as of `as_of`: never certified, or withdrawn."""

    kind: Literal["uncertified", "withdrawn"]
    township: str
    village: str
    product: str
    certified: date | None = None
    withdrawn: date | None = None
    laborers: int
    poor: int
    mistakes: list[Mistake] = []


class CountyPlan(_Strict):
    name: str
    code: str
    id_code: str
    abbr: str
    style: str
    workshops: int
    employed: int
    poor: int
    relocated: int
    paid: int
    movers: int
    townships: list[str]
    named: list[Named] = []
    extra: list[Extra] = []


class Plan(_Strict):
    targets: Targets
    milestones: list[Milestone]
    styles: dict[str, Style]
    counties: list[CountyPlan]

    def milestone(self, county: str) -> Milestone | None:
        return next((m for m in self.milestones if m.county == county), None)

    def problems(self) -> list[str]:
        """Every way the plan cannot add up to its targets (empty when it is consistent)."""
        t, out = self.targets, []
        for key in ("workshops", "employed", "poor", "paid"):
            total = sum(getattr(c, key) for c in self.counties)
            if total != getattr(t, key):
                out.append(f"sum of county {key} is {total}, target {getattr(t, key)}")
        if t.paid * t.amount_per_person != t.amount:
            out.append("paid × amount_per_person differs from amount")
        for c in self.counties:
            if c.style not in self.styles:
                out.append(f"{c.name}: unknown style {c.style}")
            if not c.poor >= c.paid >= c.movers or c.relocated > c.poor or c.employed < c.poor:
                out.append(f"{c.name}: needs employed ≥ poor ≥ paid ≥ movers and poor ≥ relocated")
            if len(c.named) > c.workshops:
                out.append(f"{c.name}: more named workshops than workshops")
            for key in ("employed", "poor", "relocated", "paid"):
                if sum(getattr(n, key) for n in c.named) > getattr(c, key):
                    out.append(f"{c.name}: named workshops exceed the county's {key}")
            for e in c.extra:
                if (e.kind == "withdrawn") != (e.withdrawn is not None) or (e.kind == "uncertified") == (
                        e.certified is not None):
                    out.append(f"{c.name}: extra workshop dates do not match its kind")
        names = [c.name for c in self.counties]
        for m in self.milestones:
            c = next((c for c in self.counties if c.name == m.county), None)
            if c is None:
                out.append(f"milestone for unknown county {m.county}")
            elif not (m.workshops <= m.paid <= c.paid and m.workshops <= c.workshops - len(c.named)):
                out.append(f"{m.county}: milestone does not fit the county plan")
        if len(set(names)) != len(names):
            out.append("a county appears twice")
        return out


@cache
def load_plan() -> Plan:
    text = resources.files("fupin_cli").joinpath("data/demo_plan.toml").read_text(encoding="utf-8")
    return Plan.model_validate(tomllib.loads(text))
