"""人员类别 (SPEC §4.3): the category names, and the short forms clerks write (data/categories.toml).

A policy counts some categories (`categories`, default 建档立卡贫困劳动力); the 人员 table may say
which categories a laborer belongs to in its optional 人员类别 column, several joined by 、 , ; or /.
"""

from __future__ import annotations

import re
import tomllib
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd

from fupin_cli.values.normaliser import (
    FULL2HALF,
    STR_DTYPE,
    Issue,
    Normalised,
    elementwise,
    error,
    is_blank,
    map_unique,
)

DEFAULT_CATEGORY = "建档立卡贫困劳动力"
_SEPARATORS = re.compile(r"[、,，;；/／\s]+")


@cache
def _table() -> tuple[tuple[str, ...], dict[str, str]]:
    data = tomllib.loads(resources.files("fupin_cli").joinpath("data/categories.toml").read_text("utf-8"))
    names = tuple(c["name"] for c in data["category"])
    spelling = {n: n for n in names}
    for c in data["category"]:
        for s in c.get("short", []):
            spelling[s] = c["name"]
    return names, spelling


def category_names() -> tuple[str, ...]:
    """The full names, in the order of the data file."""
    return _table()[0]


def canonical(word: str) -> str | None:
    """The full name for a full name or short form (None if unknown)."""
    return _table()[1].get(word.strip())


def split_categories(text: str) -> tuple[list[str], list[str]]:
    """One 人员类别 cell → (full names in order, without repeats; words not recognised)."""
    found: list[str] = []
    unknown: list[str] = []
    for word in _SEPARATORS.split(text.strip()):
        if not word:
            continue
        name = canonical(word)
        if name is None:
            unknown.append(word)
        elif name not in found:
            found.append(name)
    return found, unknown


MSG_UNKNOWN = "人员类别“{words}”无法识别,应为以下之一(可填多个,用、分隔):{names}"


def join_categories(names: list[str]) -> str:
    """Full names in the data file's order, joined by 、 (the form a row carries)."""
    order = category_names()
    return "、".join(sorted(names, key=order.index))


def normalise_categories(s: pd.Series) -> Normalised:
    """人员类别 cells → full names joined by 、 (NA when empty); an unknown word is an error."""
    listed = "、".join(category_names())

    def one(v: Any) -> tuple[str | None, Issue | None]:
        if is_blank(v):
            return None, None
        found, unknown = split_categories(str(v).translate(FULL2HALF))
        if unknown:
            return None, error("category.unknown", MSG_UNKNOWN.format(words="、".join(unknown), names=listed))
        return (join_categories(found) or None), None

    return map_unique(s, elementwise(one), STR_DTYPE)


def has_category(categories: pd.Series, name: str) -> pd.Series:
    """Per row: whether the joined names include `name` (False where empty)."""
    codes, uniques = pd.factorize(categories, use_na_sentinel=True)
    hit = np.array([name in str(u).split("、") for u in uniques] + [False], dtype=bool)
    return pd.Series(hit[codes], index=categories.index)
