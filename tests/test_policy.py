"""Policy files (SPEC §4.1): the built-in gx-2018, dated values, strict loading."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fupin_cli.errors import ConfigError
from fupin_cli.policy import load_policy, parse_policy
from ruleutil import month, policy_text


def test_builtin_values_of_spec_4_1() -> None:
    p = load_policy(None)
    assert p.name == "gx-2018" and load_policy("gx-2018") == p
    q = month("2019-05")
    expected = {
        "window_months": 12, "window_anchor": "agreement", "min_months": 6, "min_wages": 6000,
        "amount": 1000, "contract_types": ["劳务协议", "承揽合同"], "min_age": 16, "max_age": None,
        "valid_from": month("2018-01"), "valid_to": None, "once_per_person": True, "cap_per_workshop": None,
    }
    for name, value in expected.items():
        assert p.at(name, q).value == value, name
    for name in expected:
        for v in p.values(name):
            assert v.source.strip(), name
    assert p.at("amount", q).source == "桂人社发〔20__〕82号"


def test_builtin_holds_only_what_the_seed_states() -> None:
    """Issue 12 §1: no unsourced 2000元 for 2020, no 劳动合同; the 文号 as the seed shows it."""
    p = load_policy(None)
    assert [v.value for v in p.values("amount")] == [1000]
    assert "劳动合同" not in p.at("contract_types", month("2020-06")).value
    for name in type(p.parameters).model_fields:
        for v in p.values(name):
            assert v.source == "桂人社发〔20__〕82号", name


DATED = [{"from": "2018-01", "value": 1000, "source": "甲"}, {"from": "2020-02", "value": 2000, "source": "乙"},
         {"from": "2021-01", "value": 1000, "source": "甲"}]


@pytest.mark.parametrize("m,amount,source", [
    ("2018-01", 1000, "甲"), ("2020-01", 1000, "甲"), ("2020-02", 2000, "乙"), ("2020-12", 2000, "乙"),
    ("2021-01", 1000, "甲"),
    ("2017-06", 1000, "甲"),  # before the first `from`: the first value
])
def test_amount_in_force_by_month(m: str, amount: int, source: str) -> None:
    v = parse_policy(policy_text({"amount": DATED}), "内存").at("amount", month(m))
    assert v.value == amount
    assert v.source == source


def test_vectorised_lookup_agrees_with_at() -> None:
    p = parse_policy(policy_text({"amount": DATED}), "内存")
    months = np.arange(month("2016-01"), month("2023-01"))
    got = p.lookup("amount", months)
    assert list(got) == [p.at("amount", int(m)).value for m in months]
    assert np.isnan(p.lookup("max_age", months)).all()


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "my-policy.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("edit,key", [
    (lambda t: t + 'colour = "red"\n', "parameters.colour"),
    (lambda t: t.replace("[parameters]", 'author = "x"\n[parameters]'), "author"),
    (lambda t: t.replace('source = "测试用"', 'source = "测试用", sorce = "x"', 1), "sorce"),
    (lambda t: t.replace("min_months =", "min_month =", 1), "parameters.min_month"),
])
def test_unknown_keys_are_rejected_naming_key_and_file(tmp_path: Path, edit, key: str) -> None:
    text = edit(policy_text({"min_months": 3}))
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as exc:
        load_policy(path)
    assert "未知的键" in exc.value.message
    assert key in exc.value.message
    assert "my-policy.toml" in exc.value.message


def test_policy_file_overrides_builtin(tmp_path: Path) -> None:
    p = load_policy(_write(tmp_path, policy_text({"min_months": 3})))
    assert p.name == "test-policy"
    assert p.at("min_months", month("2019-01")).value == 3
    assert p.at("min_months", month("2019-01")).source == "测试用"
    assert p.at("amount", month("2020-05")).value == 1000  # untouched parameters stay
    assert p.at("amount", month("2020-05")).source == "桂人社发〔20__〕82号"


@pytest.mark.parametrize("overrides,needle", [
    ({"window_anchor": "fixed"}, "window_anchor"),
    ({"min_wages": [{"from": "2018-01", "value": 6000}]}, "source"),
    ({"amount": [{"from": "2019-01", "value": 1, "source": "a"}, {"from": "2018-01", "value": 2, "source": "b"}]},
     "amount"),
    ({"min_months": -1}, "min_months"),
    ({"window_months": "十二"}, "window_months"),
    ({"contract_types": []}, "contract_types"),
    ({"amount": [{"from": "2018-13", "value": 1, "source": "a"}]}, "amount"),
])
def test_bad_values_are_config_errors(tmp_path: Path, overrides: dict, needle: str) -> None:
    with pytest.raises(ConfigError) as exc:
        load_policy(_write(tmp_path, policy_text(overrides)))
    assert needle in exc.value.message
    assert exc.value.code == "config.policy"


def test_missing_required_parameter(tmp_path: Path) -> None:
    text = "\n".join(x for x in policy_text().splitlines() if not x.startswith("min_age"))
    with pytest.raises(ConfigError) as exc:
        load_policy(_write(tmp_path, text))
    assert "缺少必填项“parameters.min_age”" in exc.value.message


def test_none_lifts_a_limit_and_dates_are_accepted(tmp_path: Path) -> None:
    text = policy_text({
        "max_age": [{"from": "2018-01", "value": 60, "source": "甲"}, {"from": "2020-01", "value": "none", "source": "乙"}],
        "valid_to": "2022-06-30",
    }).replace('valid_from = [{ from = "2018-01", value = "2018-01"', "valid_from = [{ from = 2018-01-01, value = 2018-03-01")
    p = load_policy(_write(tmp_path, text))
    assert p.at("max_age", month("2019-12")).value == 60
    assert p.at("max_age", month("2020-06")).value is None
    assert p.at("max_age", month("2020-06")).source == "乙"
    assert p.at("valid_to", month("2019-01")).value == month("2022-06")
    assert p.at("valid_from", month("2019-01")).value == month("2018-03")


def test_not_found_and_not_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="找不到策略"):
        load_policy(str(tmp_path / "nope.toml"))
    with pytest.raises(ConfigError, match="不是有效的 TOML"):
        load_policy(_write(tmp_path, "name = \n"))
    with pytest.raises(ConfigError, match="YAML"):
        (tmp_path / "p.yaml").write_text("name: x\n", encoding="utf-8")
        load_policy(str(tmp_path / "p.yaml"))


def test_parse_policy_is_what_load_uses() -> None:
    p = parse_policy(policy_text({"cap_per_workshop": 5000}), "内存")
    assert p.at("cap_per_workshop", month("2019-01")).value == 5000
