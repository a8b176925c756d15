"""Subsidy policies as data (SPEC §4.1): dated parameter values, each with the 文号 or URL it comes from.

A policy file is TOML, validated strictly (unknown keys are errors). Every parameter is a list of
`{ from = "2018-01", value = ..., source = "桂人社发〔20__〕82号" }`; the value in force for month Q is
the last one whose `from` ≤ Q. Before a parameter's first `from` its first value applies, so that
agreements older than the policy can still be evaluated (and then reported `out_of_period`).
Optional parameters (`max_age`, `valid_from`, `valid_to`, `cap_per_workshop`, and the schema v2
ones of SPEC §4.3) may be an empty list (not set), and a dated value of `"none"` lifts a limit from
that month on.

Schema v2 (SPEC §4.3) adds dated parameters (`categories`, `min_monthly_wage`,
`workshop_min_targets`, `max_age` by sex, `window_anchor = "calendar_year"`) and fixed keys, plain
top-level keys beside `name`: `[terms]`, `recurrence`, `payee`, `cap_scope`, `exclusive_group`.
A key written in the wrong place (a fixed key under `[parameters]`, a dated one at the top) is an
error that says where it belongs.
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

from fupin_cli.categories import DEFAULT_CATEGORY, canonical, category_names
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
    "categories": "计入的人员类别",
    "min_monthly_wage": "每月工资下限(元)",
    "workshop_min_targets": "车间最少在岗帮扶对象人数",
}
ANCHOR_LABELS = {"agreement": "自协议起始月起连续计算", "rolling": "协议起始后任意连续月份(滚动)",
                 "calendar_year": "按自然年(1月至12月)计算"}
FIXED_LABELS = {"recurrence": "享受次数", "payee": "奖补发放对象", "cap_scope": "车间上限计算范围",
                "exclusive_group": "互斥政策组"}
FIXED_VALUE_LABELS = {
    "recurrence": {"once": "每人限享受一次", "yearly": "每人每自然年可享受一次"},
    "payee": {"workshop": "发给车间经营主体", "laborer": "发给劳动者本人"},
    "cap_scope": {"total": "政策期内累计", "year": "每自然年"},
}


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


class BySex(BaseModel):
    """An age limit that differs by sex: `{ "男" = 60, "女" = 55 }`."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    male: int = Field(alias="男", ge=0)
    female: int = Field(alias="女", ge=0)

    def __str__(self) -> str:
        return f"男{self.male}周岁、女{self.female}周岁"


_BY_SEX_HINT = '应为整数(周岁),或按性别写成 { "男" = 60, "女" = 55 }(TOML 中“男”“女”要加引号)'


class AgeLimitValue(DatedValue[int | BySex | None]):
    """`max_age`: a number of years, a table by sex, or "none"."""

    @field_validator("value", mode="before")
    @classmethod
    def _value(cls, v: Any) -> Any:
        if v == "none" or v is None:
            return None
        if isinstance(v, bool):
            raise ValueError(_BY_SEX_HINT)
        if isinstance(v, int):
            return v
        if isinstance(v, dict):
            if set(v) != {"男", "女"}:
                raise ValueError(f"按性别的年龄上限须且只须写“男”和“女”两项(现为:{'、'.join(map(str, v)) or '空'})")
            if not all(isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in v.values()):
                raise ValueError("按性别的年龄上限应为不小于 0 的整数")
            return BySex.model_validate(v)
        raise ValueError(_BY_SEX_HINT)


class CategoriesValue(DatedValue[tuple[str, ...]]):
    """`categories`: the 人员类别 that count, by their full names (data/categories.toml)."""

    @field_validator("value", mode="before")
    @classmethod
    def _value(cls, v: Any) -> Any:
        if not isinstance(v, list) or not v or not all(isinstance(x, str) for x in v):
            raise ValueError("应为人员类别名称的列表,如 [\"脱贫人口\", \"防止返贫监测对象\"]")
        names = category_names()
        for x in v:
            if x not in names:
                full = canonical(x)
                hint = f"请写全称“{full}”" if full else f"可选:{'、'.join(names)}"
                raise ValueError(f"人员类别“{x}”不认识,{hint}")
        if len(set(v)) != len(v):
            raise ValueError("人员类别有重复")
        return tuple(v)


class Terms(BaseModel):
    """Wording used in titles, headers, reasons and paragraphs (fixed key `[terms]`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    workshop: str = Field("就业扶贫车间", min_length=1)
    target: str = Field("建档立卡贫困劳动力", min_length=1)
    subsidy: str = Field("一次性带动就业奖补", min_length=1)


Required = Field(min_length=1)


class Parameters(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    window_months: list[DatedValue[int]] = Required
    window_anchor: list[DatedValue[Literal["agreement", "rolling", "calendar_year"]]] = Required
    min_months: list[DatedValue[int]] = Required
    min_wages: list[DatedValue[float]] = Required
    amount: list[DatedValue[float]] = Required
    contract_types: list[DatedValue[list[str]]] = Required
    min_age: list[DatedValue[int]] = Required
    max_age: list[AgeLimitValue] = []
    valid_from: list[MonthValue] = []
    valid_to: list[MonthValue] = []
    once_per_person: list[DatedValue[bool]] = Required
    cap_per_workshop: list[OptMoneyValue] = []
    # schema v2 (SPEC §4.3)
    categories: list[CategoriesValue] = []
    min_monthly_wage: list[DatedValue[float]] = []
    workshop_min_targets: list[DatedValue[int]] = []

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
                if name in _NON_NEGATIVE and isinstance(x, int | float) and x < 0:
                    raise ValueError(f"参数 {name} 不能为负数")
        self._check_calendar_year()
        return self

    def _check_calendar_year(self) -> None:
        """Under calendar_year the window is the calendar year: window_months must say 12 then."""
        for m in sorted({v.from_ for v in self.window_anchor} | {v.from_ for v in self.window_months}):
            anchor = _in_force(self.window_anchor, m).value
            months = _in_force(self.window_months, m).value
            if anchor == "calendar_year" and months != 12:
                raise ValueError(f"window_anchor 为 calendar_year(按自然年)时 window_months 须为 12,"
                                 f"{format_month_cn(m)}起为 {months}")


_NON_NEGATIVE = ("min_months", "min_wages", "amount", "min_age", "max_age", "cap_per_workshop",
                 "min_monthly_wage", "workshop_min_targets")


def _in_force(values: list[DatedValue], month_idx: int) -> DatedValue:
    """The value in force in a month (the first one before its `from`); `values` is not empty."""
    pos = int(np.searchsorted(np.array([v.from_ for v in values], dtype=np.int64), month_idx, side="right")) - 1
    return values[max(pos, 0)]


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    title: str = Field(min_length=1)
    version: str = Field(min_length=1)
    parameters: Parameters
    # fixed keys of schema v2 (SPEC §4.3)
    terms: Terms = Terms()
    recurrence: Literal["once", "yearly"] = "once"
    payee: Literal["workshop", "laborer"] = "workshop"
    cap_scope: Literal["total", "year"] = "total"
    exclusive_group: str | None = Field(None, min_length=1)

    @field_validator("version", mode="before")
    @classmethod
    def _version(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int | float) else v

    @model_validator(mode="after")
    def _fixed(self) -> Policy:
        p = self.parameters
        if self.recurrence == "yearly" and any(v.value != "calendar_year" for v in p.window_anchor):
            raise ValueError('recurrence = "yearly"(每年一次)须与 window_anchor = "calendar_year"(按自然年)'
                             "一起使用,且 window_anchor 的每个取值都须为 calendar_year")
        if self.cap_scope != "total" and not any(v.value is not None for v in p.cap_per_workshop):
            raise ValueError("写了 cap_scope 却没有设定 cap_per_workshop(车间奖补上限):请补上上限,或删去 cap_scope")
        return self

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
        """Vectorised numeric/bool value per month (float array; `none` where the value is not set).
        An age limit by sex has no single value: use `lookup_by_sex`."""
        vals = self.values(param)
        if any(isinstance(v.value, BySex) for v in vals):
            raise TypeError(f"{param} differs by sex: use lookup_by_sex")
        table = np.array([none if v.value is None else float(v.value) for v in vals] or [none], dtype=float)
        pos = self.positions(param, months)
        return table[np.maximum(pos, 0)]

    def lookup_by_sex(self, param: str, months: np.ndarray, male: np.ndarray, *, none: float = np.nan
                      ) -> np.ndarray:
        """Vectorised value per month for each person's sex (a plain value applies to both)."""
        vals = self.values(param)

        def side(v: Any, is_male: bool) -> float:
            if v is None:
                return none
            if isinstance(v, BySex):
                return float(v.male if is_male else v.female)
            return float(v)

        t_m = np.array([side(v.value, True) for v in vals] or [none], dtype=float)
        t_f = np.array([side(v.value, False) for v in vals] or [none], dtype=float)
        pos = np.maximum(self.positions(param, months), 0)
        return np.where(np.asarray(male, dtype=bool), t_m[pos], t_f[pos])

    def categories_at(self, month_idx: int) -> tuple[str, ...]:
        """The 人员类别 that count in a month (default: 建档立卡贫困劳动力 only)."""
        v = self.at("categories", month_idx).value
        return (DEFAULT_CATEGORY,) if v is None else v

    def uses(self, param: str) -> bool:
        """Whether a schema v2 parameter changes anything (set, and not only to its neutral value)."""
        vals = self.values(param)
        if param == "categories":
            return any(v.value != (DEFAULT_CATEGORY,) for v in vals)
        if param == "window_anchor":
            return any(v.value == "calendar_year" for v in vals)
        if param == "max_age":
            return any(isinstance(v.value, BySex) for v in vals)
        return any(v.value not in (None, 0) for v in vals)

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
    if param in FIXED_VALUE_LABELS:
        return FIXED_VALUE_LABELS[param].get(value, str(value))
    if param in ("contract_types", "categories"):
        return "、".join(value)
    if isinstance(value, BySex):
        return str(value)
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
    "list_type": "应为带生效月份的取值列表 [{ from = …, value = …, source = … }]", "too_short": "至少要有一个取值",
    "model_type": "应为 { from = …, value = …, source = … }", "dict_type": "应为表格",
    "model_attributes_type": "应为表格", "greater_than_equal": "不能为负数",
}
_FIXED_KEYS = ("name", "title", "version", "terms", "recurrence", "payee", "cap_scope", "exclusive_group")


def _misplaced(loc: tuple) -> str | None:
    """The message for a known key written in the wrong place, or None."""
    if len(loc) == 1 and loc[0] in Parameters.model_fields:
        return (f"“{loc[0]}”是按月份生效的参数,应写在 [parameters] 下,"
                f"形如 {loc[0]} = [{{ from = \"2018-01\", value = …, source = \"文号\" }}]")
    if len(loc) == 2 and loc[0] == "parameters" and loc[1] in _FIXED_KEYS:
        return (f"“{loc[1]}”是固定键,不按月份变化,应写在文件顶层(与 name 并列、[parameters] 这一行之前),"
                f"不能写在 [parameters] 下")
    return None


def _literal(expected: str) -> str:
    return "只能是 " + expected.replace(" or ", " 或 ")


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
            lines.append(_misplaced(tuple(err["loc"])) or f"未知的键“{where}”(请检查拼写,策略文件只允许规定的参数)")
        elif kind:
            lines.append(f"{kind}“{where}”")
        else:
            msg = _VALUE_MESSAGES.get(err["type"]) or str(err.get("msg", "")).removeprefix("Value error, ")
            if err["type"] == "model_type" and not isinstance(err["loc"][-1], int):
                msg = "应为表格"  # [terms] or parameters given as a plain value
            if err["type"] == "literal_error":
                msg = _literal(str(err.get("ctx", {}).get("expected", "")))
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
