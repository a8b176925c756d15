"""Column definitions of the input tables, loaded strictly from data/tables.toml.

The single source that the reader (header matching), the validator (types, required) and the
template writer (headers, drop-downs, notes) use.
"""

from __future__ import annotations

import re
import tomllib
from functools import cache
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict

ColumnType = Literal["text", "id", "date", "month", "money", "bool", "enum", "county", "credit_code", "digits", "int",
                     "categories"]
TableKey = Literal["workshops", "laborers", "wages", "history"]
TABLE_KEYS: tuple[TableKey, ...] = ("workshops", "laborers", "wages")


class ColumnSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str
    header: str
    aliases: list[str] = []
    type: ColumnType
    required: bool = False
    unless: str | None = None  # required only where this other column is absent or empty (SPEC §3.2)
    # A column that only a policy feature needs (SPEC §4.3): the template shows it only when the policy
    # uses the feature; `payee_laborer` columns are then needed to pay (check warns where empty).
    feature: Literal["categories", "payee_laborer"] | None = None
    choices: list[str] = []
    min: int | None = None
    max: int | None = None
    note: str = ""
    # Does the rule read this column? A problem in a column it does not read (银行账号, 乡镇…) never
    # removes the row from the computation: it is a warning, and the row keeps its status and is
    # flagged in the roster's 备注 (SPEC §5.1).
    rule: bool = True

    def names(self) -> list[str]:
        return [self.header, *self.aliases]


class TableSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str
    sheet_names: list[str]
    key: list[str]
    columns: list[ColumnSpec]

    def column(self, key: str) -> ColumnSpec:
        for c in self.columns:
            if c.key == key:
                return c
        raise KeyError(key)

    @property
    def required(self) -> list[ColumnSpec]:
        return [c for c in self.columns if c.required]


class Tables(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    workshops: TableSpec
    laborers: TableSpec
    wages: TableSpec
    # Not an input table of the monthly run (TABLE_KEYS): read only by `fupin ledger import`.
    history: TableSpec

    def get(self, key: TableKey) -> TableSpec:
        return getattr(self, key)


_FULL2HALF = str.maketrans("（）【】［］：，　", "()[][]:, ")
_UNIT = re.compile(r"\((元|人|天|日|个|月|家|万元)\)$")
_SPACES = re.compile(r"\s+")


def normalise_header(text: object) -> str:
    """Header as compared: no spaces/line breaks, half-width brackets, no trailing unit like (元)."""
    if text is None:
        return ""
    s = str(text).translate(_FULL2HALF)
    s = _SPACES.sub("", s)
    s = s.replace("*", "")  # "*身份证号" marks a required column in many templates
    return _UNIT.sub("", s)


@cache
def load_tables() -> Tables:
    text = resources.files("fupin_cli").joinpath("data/tables.toml").read_text(encoding="utf-8")
    return Tables.model_validate(tomllib.loads(text))
