"""Subsidy policies as data (SPEC §4.1): dated parameter values, each with the 文号 or URL it comes from.

A policy file is TOML, validated strictly (unknown keys are errors). Every parameter is a list of
`{ from = "2018-01", value = ..., source = "桂人社发〔20__〕82号" }`; the value in force for month Q is
the last one whose `from` ≤ Q. Before a parameter's first `from` its first value applies, so that
agreements older than the policy can still be evaluated (and then reported `out_of_period`).
Optional parameters (`max_age`, `valid_from`, `valid_to`, `cap_per_workshop`) may be an empty list
(not set), and a dated value of `"none"` lifts a limit from that month on.
"""

from __future__ import annotations

import tomllib
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from fupin_cli.errors import ConfigError, FupinError
from fupin_cli.months import format_month, format_month_cn, month_index, parse_month_arg

DEFAULT_POLICY = "gx-2018"

T = TypeVar("T")

# Chinese labels for explain / reports.
PARAM_LABELS: dict[str, str] = {
    "window_months": "窗口期长度(月)",
    "window_anchor": "窗口期起算方式",
    "min_months": "最少累计工作月数",
    "min_wages": "最低累计劳动报酬(元)",
    "amount": "奖补标准(元/人)",
    "contract_types": "认可的协议类型",
    "min_age": "最低年龄(周岁)",
    "max_age": "最高年龄(周岁)",
    "valid_from": "政策起始月份",
    "valid_to": "政策截止月份",
    "once_per_person": "每人限享受一次",
    "cap_per_workshop": "每个车间奖补上限(元)",
}
ANCHOR_LABELS = {"agreement": "自协议起始月起连续计算", "rolling": "协议起始后任意连续月份(滚动)"}


def _to_month(v: Any) -> Any:
    """'2018-01', '2018-01-01' or a TOML date → month index; other types are left for pydantic."""
    if isinstance(v, date):
        return month_index(v.year, v.month)
    if isinstance(v, str):
        text = v.strip()
        if len(text) == 10 and text[4] == "-" and text[7] == "-":  # 2018-01-01: only the month matters
            text = text[:7]
        try:
            return parse_month_arg(text)
        except FupinError:
            raise ValueError(f"月份“{v}”无法识别,请写成 2018-01 这样的格式") from None
    return v


class DatedValue(BaseModel, Generic[T]):
    """One value of a parameter, in force from month `from_` (index) until the next one."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    from_: int | None = Field(alias="from")  # None only for "not set" (an empty optional parameter)
    value: T
    source: str = Field(min_length=1)

    @field_validator("from_", mode="before")
    @classmethod
    def _month(cls, v: Any) -> Any:
        return _to_month(v)

    @property
    def from_text(self) -> str:
        return "" if self.from_ is None else format_month(self.from_)


class MonthValue(DatedValue[int | None]):
    """A dated value that is itself a month (valid_from / valid_to); "none" = no limit."""

    @field_validator("value", mode="before")
    @classmethod
    def _value(cls, v: Any) -> Any:
        return None if v == "none" else _to_month(v)


def _none_word(v: Any) -> Any:
    return None if v == "none" else v


class OptIntValue(DatedValue[int | None]):
    @field_validator("value", mode="before")
    @classmethod
    def _value(cls, v: Any) -> Any:
        return _none_word(v)


class OptMoneyValue(DatedValue[float | None]):
    @field_validator("value", mode="before")
    @classmethod
    def _value(cls, v: Any) -> Any:
        return _none_word(v)


Required = Field(min_length=1)


class Parameters(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    window_months: list[DatedValue[int]] = Required
    window_anchor: list[DatedValue[Literal["agreement", "rolling"]]] = Required
    min_months: list[DatedValue[int]] = Required
    min_wages: list[DatedValue[float]] = Required
    amount: list[DatedValue[float]] = Required
    contract_types: list[DatedValue[list[str]]] = Required
    min_age: list[DatedValue[int]] = Required
    max_age: list[OptIntValue] = []
    valid_from: list[MonthValue] = []
    valid_to: list[MonthValue] = []
    once_per_person: list[DatedValue[bool]] = Required
    cap_per_workshop: list[OptMoneyValue] = []

    @model_validator(mode="after")
    def _check(self) -> Parameters:
        for name in type(self).model_fields:
            values = getattr(self, name)
            froms = [v.from_ for v in values]
            if any(f is None for f in froms):
                raise ValueError(f"参数 {name} 的每个取值都要写生效月份 from")
            if any(b <= a for a, b in zip(froms, froms[1:], strict=False)):
                raise ValueError(f"参数 {name} 的取值须按生效月份 from 从早到晚排列,且不能重复")
            for v in values:
                x = v.value
                if name == "window_months" and x < 1:
                    raise ValueError("window_months 至少为 1")
                if name in ("min_months", "min_wages", "amount", "min_age", "max_age", "cap_per_workshop") \
                        and x is not None and x < 0:
                    raise ValueError(f"参数 {name} 不能为负数")
        return self


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    title: str = Field(min_length=1)
    version: str = Field(min_length=1)
    parameters: Parameters

    @field_validator("version", mode="before")
    @classmethod
    def _version(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int | float) else v

    # --- lookups -----------------------------------------------------------------------------
    def values(self, param: str) -> list[DatedValue]:
        if param not in Parameters.model_fields:
            raise KeyError(param)
        return getattr(self.parameters, param)

    def at(self, param: str, month_idx: int) -> DatedValue:
        """The value in force in month `month_idx`: the last one whose `from` ≤ the month (the first
        one before that); an empty optional parameter gives value None with source "未设定"."""
        vals = self.values(param)
        if not vals:
            return DatedValue[Any](from_=None, value=None, source="未设定")
        pos = int(np.searchsorted(self._froms(param), int(month_idx), side="right")) - 1
        return vals[max(pos, 0)]

    def positions(self, param: str, months: np.ndarray) -> np.ndarray:
        """Vectorised `at`: index into `values(param)` per month (-1 for an empty parameter)."""
        months = np.asarray(months, dtype=np.int64)
        if not self.values(param):
            return np.full(len(months), -1, dtype=np.int64)
        pos = np.searchsorted(self._froms(param), months, side="right") - 1
        return np.maximum(pos, 0)

    def lookup(self, param: str, months: np.ndarray, *, none: float = np.nan) -> np.ndarray:
        """Vectorised numeric/bool value per month (float array; `none` where the value is not set)."""
        vals = self.values(param)
        table = np.array([none if v.value is None else float(v.value) for v in vals] or [none], dtype=float)
        pos = self.positions(param, months)
        return table[np.maximum(pos, 0)]

    def breakpoints(self, param: str) -> list[int]:
        """Months where the parameter changes (every `from` after the first)."""
        return [int(v.from_) for v in self.values(param)[1:]]

    def _froms(self, param: str) -> np.ndarray:
        return np.array([v.from_ for v in self.values(param)], dtype=np.int64)

    @property
    def label(self) -> str:
        return f"{self.name}({self.title},版本{self.version})"


def format_param_value(param: str, value: Any) -> str:
    """A parameter value as a clerk reads it."""
    if value is None:
        return "不限"
    if param in ("valid_from", "valid_to"):
        return format_month_cn(int(value))
    if param == "window_anchor":
        return ANCHOR_LABELS.get(value, str(value))
    if param == "contract_types":
        return "、".join(value)
    if param == "once_per_person":
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return f"{int(value):,}"
    return f"{value:,}" if isinstance(value, int | float) else str(value)


# --- loading ---------------------------------------------------------------------------------
_ERROR_KINDS = {
    "extra_forbidden": "未知的键",
    "missing": "缺少必填项",
}
_VALUE_MESSAGES = {
    "int_parsing": "应为整数", "int_type": "应为整数", "int_from_float": "应为整数",
    "float_parsing": "应为数字", "float_type": "应为数字",
    "bool_parsing": "应为 true 或 false", "bool_type": "应为 true 或 false",
    "string_type": "应为文字", "string_too_short": "不能为空",
    "list_type": "应为列表", "too_short": "至少要有一个取值", "model_type": "应为 { from = …, value = …, source = … }",
}


def _loc(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif str(part).startswith(("DatedValue", "function-")):
            continue  # pydantic's internal model names in generic locations
        else:
            out += ("." if out else "") + ("from" if part == "from_" else str(part))
    return out or "(顶层)"


def _explain(exc: ValidationError, origin: str) -> str:
    lines = []
    for err in exc.errors():
        where = _loc(err["loc"])
        kind = _ERROR_KINDS.get(err["type"])
        if err["type"] == "extra_forbidden":
            lines.append(f"未知的键“{where}”(请检查拼写,策略文件只允许规定的参数)")
        elif kind:
            lines.append(f"{kind}“{where}”")
        else:
            msg = _VALUE_MESSAGES.get(err["type"]) or str(err.get("msg", "")).removeprefix("Value error, ")
            if err["type"] == "literal_error":
                msg = f"只能是 {err.get('ctx', {}).get('expected', '')}"
            lines.append(f"“{where}”取值不正确:{msg}")
    return f"策略文件“{origin}”有误:" + ";".join(lines)


def parse_policy(text: str, origin: str) -> Policy:
    """Validate a policy from TOML text; any problem → ConfigError naming the file and the key."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"策略文件“{origin}”不是有效的 TOML:{exc}", code="config.policy") from exc
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_explain(exc, origin), code="config.policy") from exc


def builtin_policies() -> list[str]:
    folder = resources.files("fupin_cli").joinpath("data/policies")
    return sorted(p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml"))


@cache
def _builtin(name: str) -> Policy:
    res = resources.files("fupin_cli").joinpath(f"data/policies/{name}.toml")
    return parse_policy(res.read_text(encoding="utf-8"), f"内置策略 {name}")


def load_policy(spec: str | Path | None = None) -> Policy:
    """The built-in policy by name (None = gx-2018) or a TOML policy file path."""
    spec = DEFAULT_POLICY if spec is None or str(spec).strip() == "" else spec
    if str(spec) in builtin_policies():
        return _builtin(str(spec))
    p = Path(spec)
    if p.is_file():
        if p.suffix.lower() in (".yaml", ".yml"):
            raise ConfigError(f"策略文件“{p}”:暂不支持 YAML,请改用 TOML 格式", code="config.policy")
        try:
            text = p.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"无法读取策略文件“{p}”:{exc}", code="config.policy") from exc
        return parse_policy(text, str(p))
    raise ConfigError(
        f"找不到策略“{spec}”:请给出内置策略名称({'、'.join(builtin_policies())})或策略 TOML 文件的路径",
        code="config.policy",
    )
