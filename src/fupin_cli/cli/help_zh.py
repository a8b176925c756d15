"""Chinese help chrome through typer/rich's own settings (SPEC §1: everything a user reads is Chinese).

Typer renders help with rich and exposes its panel titles and strings as `typer.rich_utils`
constants; the vendored click keeps the "Usage:" prefix, the "[OPTIONS]" metavar and the type
placeholders (`<list[Path]>`, `<bool>`). Each is set or wrapped here, once, at import of the CLI.
Usage errors (`No such command 'chek'`) are said in Chinese by `usage_message`.
"""

from __future__ import annotations

import re
from typing import Any

import typer.rich_utils as ru

PANEL_TEXT = {
    "ARGUMENTS_PANEL_TITLE": "参数",
    "OPTIONS_PANEL_TITLE": "选项",
    "COMMANDS_PANEL_TITLE": "命令",
    "ERRORS_PANEL_TITLE": "错误",
    "DEFAULT_STRING": "[默认:{}]",
    "REQUIRED_LONG_STRING": "[必填]",
    "ENVVAR_STRING": "[环境变量:{}]",
    "DEPRECATED_STRING": "(已停用)",
    "ABORTED_TEXT": "已中止。",
    "RICH_HELP": "查看帮助:[blue]{command_path} {help_option}[/]",
}
USAGE_PREFIX = "用法:"
OPTIONS_METAVAR = "[选项]"
HELP_OPTION_TEXT = "显示本帮助并退出"

# Placeholders of a parameter's type, by typer's own label (bool flags take no value: no placeholder).
TYPE_LABELS = {"bool": "", "str": "文字", "int": "整数", "float": "数字", "Path": "路径", "path": "路径",
               "file": "文件", "directory": "文件夹", "list[Path]": "文件…", "list[str]": "文字…"}

# Click's usage errors, in the order tried: (pattern, Chinese with \1… from the pattern).
USAGE_ERRORS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"No such command '(.+?)'\.(?:\s*Did you mean '(.+?)'\?)?"), "没有“{0}”这个命令{1}"),
    (re.compile(r"Got unexpected extra arguments? \((.*)\)"), "多余的参数:{0}"),
    (re.compile(r"Option '(.+?)' requires an argument\."), "选项 {0} 后面要给出取值"),
    (re.compile(r"Option '(.+?)' does not take a value\."), "选项 {0} 不带取值"),
    (re.compile(r"Missing command\."), "缺少命令"),
]


def _type_label(original: Any) -> Any:
    def display_type(self: Any, ctx: Any) -> str:
        label = original(self, ctx)
        bare = label[1:-1] if label.startswith("<") and label.endswith(">") else label
        zh = TYPE_LABELS.get(bare)
        return label if zh is None else zh

    return display_type


def install() -> None:
    """Set typer/rich's help texts to Chinese (idempotent; skips what a typer upgrade moved)."""
    for name, text in PANEL_TEXT.items():
        if hasattr(ru, name):
            setattr(ru, name, text)
    try:
        from typer._click.core import Command
        from typer._click.formatting import HelpFormatter
        from typer.core import _TyperParameter
    except ImportError:  # pragma: no cover - another typer layout: English chrome, nothing breaks
        return
    if getattr(HelpFormatter.write_usage, "_zh", False):
        return
    write_usage = HelpFormatter.write_usage

    def write_usage_zh(self: Any, prog: str, args: str = "", prefix: str | None = None) -> None:
        args = args.replace("[OPTIONS]", OPTIONS_METAVAR).replace("COMMAND [ARGS]...", "命令 [参数]...")
        write_usage(self, prog, args, USAGE_PREFIX if prefix is None else prefix)

    write_usage_zh._zh = True  # type: ignore[attr-defined]
    HelpFormatter.write_usage = write_usage_zh  # type: ignore[method-assign]
    # Chinese help has no spaces to wrap at: fold it rather than cut it with "…" at 80 columns.
    make_text = ru._make_rich_text

    def make_text_fold(*args: Any, **kwargs: Any) -> Any:
        out = make_text(*args, **kwargs)
        if hasattr(out, "overflow"):
            out.overflow = "fold"
        return out

    ru._make_rich_text = make_text_fold
    _TyperParameter.display_type = _type_label(_TyperParameter.display_type)  # type: ignore[method-assign]
    get_help_option = Command.get_help_option

    def get_help_option_zh(self: Any, ctx: Any) -> Any:
        opt = get_help_option(self, ctx)
        if opt is not None and getattr(opt, "help", None) == "Show this message and exit.":
            opt.help = HELP_OPTION_TEXT
        return opt

    Command.get_help_option = get_help_option_zh  # type: ignore[method-assign]


def param_label(param: Any) -> str:
    """How a parameter is named in a Chinese message: an option by its name (--id), an argument by
    its Chinese placeholder (输入文件或文件夹)."""
    opts = [o for o in getattr(param, "opts", []) or [] if o.startswith("-")]
    if opts:
        return " / ".join(opts)
    metavar = getattr(param, "metavar", None)
    return (metavar or getattr(param, "name", "") or "").rstrip(".…")


def usage_message(exc: Exception) -> str:
    """Click's usage errors said in Chinese on one line."""
    from typer._click import exceptions as cx

    param = getattr(exc, "param", None)
    if isinstance(exc, cx.MissingParameter):
        what = "选项" if getattr(param, "param_type_name", "") == "option" else "参数"
        return f"缺少{what}:{param_label(param)}" if param is not None else "缺少参数"
    if isinstance(exc, cx.NoSuchOption):
        near = f"(是不是要用 {' / '.join(exc.possibilities)}?)" if exc.possibilities else ""
        return f"没有这个选项:{exc.option_name}{near}"
    if isinstance(exc, cx.BadParameter):
        hint = param_label(param) if param is not None else (getattr(exc, "param_hint", "") or "")
        return f"参数 {hint} 的值不正确:{exc.message}"
    message = str(getattr(exc, "message", exc))
    for pattern, zh in USAGE_ERRORS:
        m = pattern.search(message)
        if m:
            groups = [g or "" for g in m.groups()]
            if pattern.pattern.startswith("No such command"):
                groups[1] = f"(是不是要用 {groups[1]}?)" if groups[1] else ""
            return zh.format(*groups)
    return message
