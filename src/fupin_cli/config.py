"""The `fupin batch` config file (TOML): where the inputs, outputs, ledger and log live (SPEC §5).

Strict on purpose: an unattended monthly run must not silently ignore a misspelt key, so an
unknown key is a ConfigError naming the key and the file. Relative paths are relative to the
config file's folder, so that cron (which starts in $HOME) reads the same files as the clerk.

Lookup: `--config FILE`, else the environment variable FUPIN_CONFIG, else ./fupin.toml.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from fupin_cli.errors import LOCK_TIMEOUT, ConfigError
from fupin_cli.ledger import default_ledger_path
from fupin_cli.ledger.lock import MAX_LOCK_TIMEOUT
from fupin_cli.policy import builtin_policies

CONFIG_ENV = "FUPIN_CONFIG"
DEFAULT_CONFIG_NAME = "fupin.toml"
DEFAULT_LOG_NAME = "fupin.log"

KEY_LABELS = {
    "input": "输入文件夹",
    "output": "输出文件夹",
    "ledger": "账本文件",
    "policy": "政策",
    "policies": "多个政策(按顺序核算)",
    "region": "地区",
    "log": "日志文件",
    "lock_timeout": "等待账本锁的秒数",
    "county_rosters": "是否生成各县花名册",
}

# What a valid value looks like, said in Chinese (pydantic's own messages are English).
KEY_HINTS = {
    "lock_timeout": f"须是 0 到 {MAX_LOCK_TIMEOUT:g} 之间的秒数(不能是 inf、nan 或负数),例如 lock_timeout = 30",
    "county_rosters": "须是 true 或 false",
}


class ConfigFile(BaseModel):
    """The keys of fupin.toml exactly as written (paths not yet resolved)."""

    model_config = ConfigDict(extra="forbid")

    input: str = Field(min_length=1)
    output: str = Field(min_length=1)
    ledger: str | None = None
    policy: str | None = None
    policies: list[str] | None = Field(default=None, min_length=1)
    region: str | None = None
    log: str | None = None
    lock_timeout: float = Field(default=LOCK_TIMEOUT, ge=0, le=MAX_LOCK_TIMEOUT, allow_inf_nan=False)
    county_rosters: bool = True


class BatchConfig(BaseModel):
    """A resolved config: absolute paths; `policy`/`region` a built-in name/code or a file path."""

    model_config = ConfigDict(frozen=True)

    input: Path
    output: Path
    ledger: Path
    policy: str | None = None
    policies: tuple[str | None, ...] | None = None  # several, evaluated in this order (SPEC §4.3)
    region: str | None = None
    log: Path
    lock_timeout: float = Field(default=LOCK_TIMEOUT, ge=0, le=MAX_LOCK_TIMEOUT, allow_inf_nan=False)
    county_rosters: bool = True
    source: Path | None = None  # the config file it came from

    @property
    def policy_list(self) -> list[str | None]:
        """The run's policies in order: `policies`, else the one `policy` (None = built-in default)."""
        return list(self.policies) if self.policies else [self.policy]

    @classmethod
    def build(cls, *, input: Path, output: Path, ledger: Path | None = None, policy: str | None = None,
              region: str | None = None, log: Path | None = None, lock_timeout: float = LOCK_TIMEOUT,
              county_rosters: bool = True) -> BatchConfig:
        """A config made in code (tests, other front ends); same defaults as the file."""
        output = Path(output)
        return cls(input=Path(input), output=output, ledger=Path(ledger) if ledger else default_ledger_path(),
                   policy=policy, region=region, log=Path(log) if log else output / DEFAULT_LOG_NAME,
                   lock_timeout=lock_timeout, county_rosters=county_rosters)


def find_config(explicit: Path | None = None) -> Path:
    """The config file to use: `--config`, else $FUPIN_CONFIG, else ./fupin.toml (must exist)."""
    if explicit is not None:
        path, how = Path(explicit), "--config 指定的"
    elif os.environ.get(CONFIG_ENV, "").strip():
        path, how = Path(os.environ[CONFIG_ENV].strip()), f"环境变量 {CONFIG_ENV} 指定的"
    else:
        path, how = Path.cwd() / DEFAULT_CONFIG_NAME, "当前文件夹中的"
    path = path.expanduser()
    if not path.is_file():
        raise ConfigError(f"找不到{how}配置文件“{path}”。请用 --config 指定配置文件,或设置环境变量 {CONFIG_ENV};"
                          "配置文件的写法见 examples/fupin.toml。", code="config.missing")
    return path


def _explain(exc: ValidationError, path: Path) -> str:
    parts = []
    for err in exc.errors():
        key = ".".join(str(x) for x in err["loc"]) or "?"
        if err["type"] == "extra_forbidden":
            allowed = "、".join(KEY_LABELS)
            parts.append(f"不认识的设置项“{key}”(可用的设置项:{allowed})")
        elif err["type"] == "missing":
            parts.append(f"缺少必填的设置项“{key}”({KEY_LABELS.get(key, key)})")
        else:
            hint = KEY_HINTS.get(key, err["msg"])
            parts.append(f"设置项“{key}”({KEY_LABELS.get(key, key)})的值不正确:{hint}")
    return f"配置文件“{path}”有误:" + ";".join(parts) + "。"


def _resolve(base: Path, value: str) -> Path:
    p = Path(value).expanduser()
    return p if p.is_absolute() else (base / p).resolve()


def _spec(base: Path, value: str | None, is_builtin: bool) -> str | None:
    """A policy/region value: a built-in name stays as is, anything else is a file beside the config."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    return value if is_builtin else str(_resolve(base, value))


def load_config(path: Path) -> BatchConfig:
    """Read and check a config file; every problem is a ConfigError (exit 2) naming the file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"无法读取配置文件“{path}”:{exc}。配置文件须为 UTF-8 编码的文本。",
                          code="config.unreadable") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"配置文件“{path}”不是有效的 TOML 格式:{exc}。"
                          "注意路径要用引号括起来,例如 input = \"数据\"。", code="config.syntax") from exc
    try:
        raw = ConfigFile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_explain(exc, path), code="config.invalid") from exc
    base = path.resolve().parent
    output = _resolve(base, raw.output)
    if raw.policy is not None and raw.policies is not None:
        raise ConfigError(f"配置文件“{path}”有误:policy 和 policies 只能写一个(一个政策写 policy,"
                          "多个政策写 policies = [\"政策1\", \"政策2\"])。", code="config.invalid")
    policy = _spec(base, raw.policy, raw.policy is not None and raw.policy.strip() in builtin_policies())
    policies = None if raw.policies is None else tuple(
        _spec(base, p, p.strip() in builtin_policies()) for p in raw.policies)
    region = _spec(base, raw.region, raw.region is not None and raw.region.strip().isdigit())
    return BatchConfig(
        input=_resolve(base, raw.input),
        output=output,
        ledger=_resolve(base, raw.ledger) if raw.ledger else default_ledger_path(),
        policy=policy,
        policies=policies,
        region=region,
        log=_resolve(base, raw.log) if raw.log else output / DEFAULT_LOG_NAME,
        lock_timeout=raw.lock_timeout,
        county_rosters=raw.county_rosters,
        source=path.resolve(),
    )
