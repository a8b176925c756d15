"""Schema v2 policy keys (SPEC §4.3): each key loads, each bad form is a Chinese message naming it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fupin_cli.errors import ConfigError
from fupin_cli.policy import BySex, Terms, format_param_value, load_policy, parse_policy
from ruleutil import month, policy_text


def _parse(overrides: dict | None = None, **top) -> object:
    return parse_policy(policy_text(overrides, **top), "测试策略.toml")


def _error(overrides: dict | None = None, **top) -> str:
    with pytest.raises(ConfigError) as exc:
        _parse(overrides, **top)
    assert exc.value.code == "config.policy"
    assert "测试策略.toml" in exc.value.message
    return exc.value.message


def test_absent_keys_keep_spec_4_1() -> None:
    p = load_policy(None)
    assert p.terms == Terms() and p.terms.workshop == "就业扶贫车间"
    assert (p.recurrence, p.payee, p.cap_scope, p.exclusive_group) == ("once", "workshop", "total", None)
    assert p.categories_at(month("2019-01")) == ("建档立卡贫困劳动力",)
    assert p.at("min_monthly_wage", month("2019-01")).value is None
    assert p.at("workshop_min_targets", month("2019-01")).value is None


# -- [terms] -----------------------------------------------------------------------------------------

def test_terms_load_and_default_per_word() -> None:
    p = _parse(terms={"workshop": "就业帮扶车间", "target": "脱贫人口(含防止返贫监测对象)"})
    assert p.terms.workshop == "就业帮扶车间"
    assert p.terms.target == "脱贫人口(含防止返贫监测对象)"
    assert p.terms.subsidy == "一次性带动就业奖补"


@pytest.mark.parametrize("terms,needle", [
    ({"shop": "车间"}, "未知的键“terms.shop”"),
    ({"workshop": ""}, "“terms.workshop”取值不正确:不能为空"),
    ({"workshop": 5}, "“terms.workshop”取值不正确:应为文字"),
    ("就业帮扶车间", "“terms”取值不正确:应为表格"),
])
def test_bad_terms(terms: object, needle: str) -> None:
    assert needle in _error(terms=terms)


# -- categories ----------------------------------------------------------------------------------------

def test_categories_dated() -> None:
    p = _parse({"categories": [
        {"from": "2018-01", "value": ["建档立卡贫困劳动力"], "source": "甲"},
        {"from": "2021-01", "value": ["脱贫人口", "防止返贫监测对象"], "source": "乙"}]})
    assert p.categories_at(month("2020-12")) == ("建档立卡贫困劳动力",)
    assert p.categories_at(month("2021-01")) == ("脱贫人口", "防止返贫监测对象")
    assert format_param_value("categories", p.at("categories", month("2021-05")).value) == "脱贫人口、防止返贫监测对象"


@pytest.mark.parametrize("value,needle", [
    (["脱贫户"], "人员类别“脱贫户”不认识,请写全称“脱贫人口”"),
    (["贫困群众"], "人员类别“贫困群众”不认识,可选:建档立卡贫困劳动力、脱贫人口"),
    ([], "应为人员类别名称的列表"),
    ("脱贫人口", "应为人员类别名称的列表"),
    (["脱贫人口", "脱贫人口"], "人员类别有重复"),
])
def test_bad_categories(value: object, needle: str) -> None:
    msg = _error({"categories": [{"from": "2018-01", "value": value, "source": "甲"}]})
    assert "parameters.categories[0].value" in msg and needle in msg


# -- min_monthly_wage / workshop_min_targets ------------------------------------------------------------

def test_min_monthly_wage_and_workshop_min_targets() -> None:
    p = _parse({"min_monthly_wage": [{"from": "2018-01", "value": 1400, "source": "甲"},
                                     {"from": "2020-03", "value": 1810, "source": "乙"}],
                "workshop_min_targets": 5})
    assert list(p.lookup("min_monthly_wage", np.array([month("2020-02"), month("2020-03")]))) == [1400, 1810]
    assert p.at("workshop_min_targets", month("2019-01")).value == 5


@pytest.mark.parametrize("key,value,needle", [
    ("min_monthly_wage", -1, "参数 min_monthly_wage 不能为负数"),
    ("min_monthly_wage", "最低工资", "应为数字"),
    ("workshop_min_targets", 2.5, "应为整数"),
    ("workshop_min_targets", -5, "参数 workshop_min_targets 不能为负数"),
])
def test_bad_numbers(key: str, value: object, needle: str) -> None:
    msg = _error({key: value})
    assert key in msg and needle in msg


# -- window_anchor = calendar_year, recurrence -----------------------------------------------------------

def test_calendar_year_and_yearly() -> None:
    p = _parse({"window_anchor": "calendar_year"}, recurrence="yearly")
    assert p.recurrence == "yearly" and p.at("window_anchor", month("2019-01")).value == "calendar_year"
    assert format_param_value("window_anchor", "calendar_year") == "按自然年(1月至12月)计算"
    assert format_param_value("recurrence", "yearly") == "每人每自然年可享受一次"
    assert _parse({"window_anchor": "calendar_year"}).recurrence == "once"  # once, counted by calendar year


@pytest.mark.parametrize("overrides,top,needle", [
    ({"window_anchor": "yearly"}, {}, "只能是 'agreement'、'rolling' 或 'calendar_year'"),
    ({}, {"recurrence": "monthly"}, "“recurrence”取值不正确:只能是 'once' 或 'yearly'"),
    ({}, {"recurrence": "yearly"}, 'recurrence = "yearly"(每年一次)须与 window_anchor = "calendar_year"'),
    ({"window_anchor": [{"from": "2018-01", "value": "agreement", "source": "甲"},
                        {"from": "2021-01", "value": "calendar_year", "source": "乙"}]}, {"recurrence": "yearly"},
     "window_anchor 的每个取值都须为 calendar_year"),
    ({"window_anchor": "calendar_year", "window_months": 6}, {}, "window_months 须为 12,2018年1月起为 6"),
])
def test_bad_calendar_year(overrides: dict, top: dict, needle: str) -> None:
    assert needle in _error(overrides, **top).replace(", ", "、")


# -- max_age by sex --------------------------------------------------------------------------------------

def test_max_age_by_sex_and_plain() -> None:
    p = _parse({"max_age": [{"from": "2018-01", "value": {"男": 60, "女": 55}, "source": "甲"},
                            {"from": "2021-01", "value": 65, "source": "乙"}]})
    v = p.at("max_age", month("2019-01")).value
    assert v == BySex(男=60, 女=55) and format_param_value("max_age", v) == "男60周岁、女55周岁"
    months = np.array([month("2019-01"), month("2019-01"), month("2021-06"), month("2021-06")])
    male = np.array([True, False, True, False])
    assert list(p.lookup_by_sex("max_age", months, male)) == [60, 55, 65, 65]
    with pytest.raises(TypeError):
        p.lookup("max_age", months)


@pytest.mark.parametrize("value,needle", [
    ({"男": 60}, "须且只须写“男”和“女”两项(现为:男)"),
    ({"男": 60, "女": 55, "其他": 50}, "须且只须写“男”和“女”两项"),
    ({"男": "六十", "女": 55}, "应为不小于 0 的整数"),
    ({"男": -1, "女": 55}, "应为不小于 0 的整数"),
    ("六十", "按性别写成 { \"男\" = 60, \"女\" = 55 }"),
    (True, "应为整数(周岁)"),
])
def test_bad_max_age(value: object, needle: str) -> None:
    msg = _error({"max_age": [{"from": "2018-01", "value": value, "source": "甲"}]})
    assert "parameters.max_age[0].value" in msg and needle in msg


# -- payee, cap_scope, exclusive_group --------------------------------------------------------------------

def test_fixed_keys_load() -> None:
    p = _parse({"cap_per_workshop": 50000}, payee="laborer", cap_scope="year", exclusive_group="带动就业奖补")
    assert (p.payee, p.cap_scope, p.exclusive_group) == ("laborer", "year", "带动就业奖补")


@pytest.mark.parametrize("overrides,top,needle", [
    ({}, {"payee": "person"}, "“payee”取值不正确:只能是 'workshop' 或 'laborer'"),
    ({"cap_per_workshop": 50000}, {"cap_scope": "month"}, "“cap_scope”取值不正确:只能是 'total' 或 'year'"),
    ({}, {"cap_scope": "year"}, "写了 cap_scope 却没有设定 cap_per_workshop"),
    ({}, {"exclusive_group": ""}, "“exclusive_group”取值不正确:不能为空"),
    ({}, {"exclusive_group": 3}, "“exclusive_group”取值不正确:应为文字"),
])
def test_bad_fixed_keys(overrides: dict, top: dict, needle: str) -> None:
    assert needle in _error(overrides, **top)


# -- misplaced keys --------------------------------------------------------------------------------------

def test_fixed_key_under_parameters_says_where_it_belongs() -> None:
    text = policy_text() + 'recurrence = "yearly"\n'  # after [parameters]: a clerk's usual slip
    with pytest.raises(ConfigError) as exc:
        parse_policy(text, "p.toml")
    assert "“recurrence”是固定键" in exc.value.message and "[parameters] 这一行之前" in exc.value.message


def test_dated_key_at_top_says_where_it_belongs() -> None:
    msg = _error(min_monthly_wage=1500)
    assert "“min_monthly_wage”是按月份生效的参数,应写在 [parameters] 下" in msg


def test_scalar_parameter_says_the_dated_form() -> None:
    text = policy_text().replace("min_months = [", "min_months = 6\nx_ = [")
    with pytest.raises(ConfigError) as exc:
        parse_policy(text, "p.toml")
    assert "“parameters.min_months”取值不正确:应为带生效月份的取值列表" in exc.value.message


# -- examples/policies --------------------------------------------------------------------------------------

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "policies"


def _example(name: str) -> object:
    path = EXAMPLES / name
    return parse_policy(path.read_text(encoding="utf-8"), str(path))


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.toml")))
def test_example_cites_its_source_and_what_it_cannot_express(name: str) -> None:
    text = (EXAMPLES / name).read_text(encoding="utf-8")
    header = "".join(line for line in text.splitlines(keepends=True) if line.startswith("#"))
    assert "来源" in header and "不能表达" in header
    p = _example(name)
    for key in type(p.parameters).model_fields:
        assert all(v.source.strip() for v in p.values(key)), key


def test_example_jilin_2018() -> None:
    p = _example("jilin-2018.toml")
    at = month("2019-06")
    assert "吉人社联字〔2018〕20号" in p.at("amount", at).source
    assert p.at("amount", at).value == 1000 and p.at("min_months", at).value == 6
    assert p.at("min_monthly_wage", at).value > 0 and p.at("workshop_min_targets", at).value == 5
    assert p.at("cap_per_workshop", at).value == 50000 and p.cap_scope == "total"
    assert p.at("max_age", at).value == BySex(男=60, 女=55) and p.at("min_age", at).value == 16
    assert (p.at("valid_from", at).value, p.at("valid_to", at).value) == (month("2018-01"), month("2020-12"))


def test_example_fengxin_2023_and_park() -> None:
    shop, park = _example("fengxin-2023.toml"), _example("fengxin-2023-park.toml")
    for p in (shop, park):
        assert (p.recurrence, p.exclusive_group) == ("yearly", "奉新县吸纳就业奖补")
        assert p.at("window_anchor", month("2023-06")).value == "calendar_year"
        assert p.categories_at(month("2023-06")) == ("脱贫人口", "防止返贫监测对象")
        assert p.terms.workshop in ("就业帮扶车间", "园区企业")
    assert shop.at("amount", month("2023-06")).value == 1200
    assert [park.at("amount", month(m)).value for m in ("2022-12", "2023-01")] == [1000, 1500]


def test_example_wushan_2022() -> None:
    p = _example("wushan-2022.toml")
    at = month("2022-08")
    assert (p.at("amount", at).value, p.at("min_months", at).value, p.recurrence) == (3000, 6, "once")
    assert p.categories_at(at) == ("脱贫人口",)
