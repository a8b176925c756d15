"""The region (a city and its counties) as data: data/regions/<code>.toml or a user file."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from fupin_cli.errors import ConfigError
from fupin_cli.months import month_index

DEFAULT_REGION = "451000"


class County(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str
    name: str
    names: list[str]
    former_codes: list[str] = []
    renamed: str | None = None  # YYYY-MM the current name took effect
    former_name: str | None = None  # the name in force before `renamed` (printed on older rosters)

    def name_at(self, month: int) -> str:
        """The name in force in `month` (a month index): 田阳县 for 2018, 田阳区 from 2019-01."""
        if self.former_name and self.renamed:
            year, mon = (int(x) for x in self.renamed.split("-"))
            if month < month_index(year, mon):
                return self.former_name
        return self.name


class Region(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str
    name: str
    short: str = "全市"
    counties: list[County]

    def lookup(self) -> dict[str, str]:
        """Every accepted spelling (names, codes, former codes) → current county code."""
        out: dict[str, str] = {}
        for c in self.counties:
            for n in [c.name, *c.names, c.code, *c.former_codes]:
                out[n.strip()] = c.code
        return out

    def resolve(self, text: str) -> County | None:
        code = self.lookup().get(str(text).strip().replace(" ", ""))
        return None if code is None else self.by_code(code)

    def by_code(self, code: str) -> County:
        for c in self.counties:
            if c.code == code:
                return c
        raise KeyError(code)

    def names_by_code(self, month: int | None = None) -> dict[str, str]:
        """County code → name: today's, or the one in force in `month` (SPEC §6.1)."""
        return {c.code: c.name if month is None else c.name_at(month) for c in self.counties}


def _parse(text: str, origin: str) -> Region:
    try:
        return Region.model_validate(tomllib.loads(text))
    except (tomllib.TOMLDecodeError, ValidationError) as exc:
        raise ConfigError(f"地区文件“{origin}”格式不正确:{exc}", code="config.region") from exc


@cache
def load_region(spec: str | None = None) -> Region:
    """A built-in region by code (default 451000 百色市) or a TOML file path."""
    spec = spec or DEFAULT_REGION
    p = Path(spec)
    if p.suffix == ".toml" and p.exists():
        return _parse(p.read_text(encoding="utf-8"), str(p))
    res = resources.files("fupin_cli").joinpath(f"data/regions/{spec}.toml")
    if not res.is_file():
        raise ConfigError(f"找不到地区“{spec}”:请给出内置地区代码(如 451000)或地区 TOML 文件路径", code="config.region")
    return _parse(res.read_text(encoding="utf-8"), spec)
