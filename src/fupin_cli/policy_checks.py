"""Data problems that only a policy makes (SPEC §4.3), added by `check --policy` and every run.

- payee = laborer: a laborer of a counted category needs an account (银行账号 or 社会保障卡号) to be
  paid; without one they stay payable and are listed 暂缓发放 (a warning, never an excluded row).
- categories other than 建档立卡贫困劳动力 while a 人员 sheet has no 人员类别 column: nobody on that
  sheet can be in those categories (a warning on the sheet, so the clerk adds the column).
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from fupin_cli.categories import DEFAULT_CATEGORY, has_category, join_categories
from fupin_cli.dataset import Dataset
from fupin_cli.policy import Policy
from fupin_cli.problems import concat_problems

NO_ACCOUNT = "本策略奖补发给劳动者本人,但本行没有银行账号或社会保障卡号:达标后将列为暂缓发放,请补填"


def counted_categories(policy: Policy) -> set[str]:
    """Every category the policy counts at some time."""
    return {c for v in policy.values("categories") for c in v.value} or {DEFAULT_CATEGORY}


def in_counted_category(lab: pd.DataFrame, policy: Policy) -> pd.Series:
    """Per 人员 row: in a category the policy counts at some time."""
    cats = lab["categories"] if "categories" in lab else pd.Series("", index=lab.index)
    hit = pd.Series(False, index=lab.index)
    for name in counted_categories(policy):
        hit |= has_category(cats.fillna(""), name)
    return hit


def policy_problems(ds: Dataset, policy: Policy) -> Dataset:
    """The dataset with the policy's own problems added (none for gx-2018)."""
    frames = [p for p in (_accounts(ds, policy), _categories_column(ds, policy)) if p is not None]
    if not frames:
        return ds
    county = dict(zip(ds.workshops["workshop_id"], ds.workshops["county_code"], strict=False))
    extra = pd.concat(frames, ignore_index=True)
    extra["county_code"] = extra.pop("_workshop").map(county).astype(object)
    extra["county_code"] = extra["county_code"].where(extra["county_code"].notna(), None)
    old = ds.problems if "county_code" in ds.problems else ds.problems.assign(county_code=None)
    return replace(ds, problems=concat_problems([old, extra], keep=("county_code",)))


def _frame(ds: Dataset, rows: pd.DataFrame, key: str, default_header: str, code: str, message: str,
           value: pd.Series | None = None) -> pd.DataFrame:
    src = rows["_src"].to_numpy()
    return pd.DataFrame({
        "file": [ds.sheets[i].file for i in src], "sheet": [ds.sheets[i].sheet for i in src],
        "row": rows["_row"].to_numpy(), "column": [ds.sheets[i].headers.get(key, default_header) for i in src],
        "value": "" if value is None else value.to_numpy(dtype=object), "code": code, "severity": "warning",
        "message": message, "_workshop": rows["workshop_id"].to_numpy() if "workshop_id" in rows else None})


def _accounts(ds: Dataset, policy: Policy) -> pd.DataFrame | None:
    if policy.payee != "laborer" or ds.laborers.empty:
        return None
    lab = ds.laborers
    target = lab["valid"].astype(bool) & in_counted_category(lab, policy)
    has = pd.Series(False, index=lab.index)
    for key in ("laborer_account", "social_card"):
        if key in lab:
            has |= lab[key].notna()
    missing = lab.loc[target & ~has]
    if missing.empty:
        return None
    sheets_with = {i for i, s in enumerate(ds.sheets) if {"laborer_account", "social_card"} & set(s.headers)}
    in_sheet = missing["_src"].isin(sheets_with)
    per_row = _frame(ds, missing.loc[in_sheet], "laborer_account", "银行账号", "payee.no_account", NO_ACCOUNT)
    # A sheet without either column: one warning on its header row, not one per person.
    lacking = missing.loc[~in_sheet]
    heads = lacking.groupby("_src").agg(n=("_row", "size"), workshop_id=("workshop_id", "first")).reset_index()
    heads["_row"] = [ds.sheets[i].header_row for i in heads["_src"]]
    msg = ("本策略奖补发给劳动者本人,但本表没有“银行账号”或“社会保障卡号”列(本表计入类别人员"
           + heads["n"].astype(str) + "人):请增加其中一列并填写,否则达标人员将列为暂缓发放")
    per_sheet = _frame(ds, heads, "laborer_account", "银行账号", "payee.no_account_column", "")
    per_sheet["message"] = msg.to_numpy()
    per_sheet["_workshop"] = None
    return pd.concat([per_row, per_sheet], ignore_index=True)


def _categories_column(ds: Dataset, policy: Policy) -> pd.DataFrame | None:
    if counted_categories(policy) == {DEFAULT_CATEGORY}:
        return None
    sheets = [(i, s) for i, s in enumerate(ds.sheets) if s.table == "laborers" and "categories" not in s.headers]
    if not sheets:
        return None
    names = join_categories(list(counted_categories(policy)))
    rows = pd.DataFrame({"_src": [i for i, _ in sheets], "_row": [s.header_row for _, s in sheets]})
    only = DEFAULT_CATEGORY in counted_categories(policy)
    msg = (f"本策略计入的人员类别为{names},但本表没有“人员类别”列:" +
           ("只有“是否建档立卡贫困劳动力”为“是”的人按建档立卡贫困劳动力计入," if only else "本表人员都不属于计入类别,")
           + "请增加“人员类别”列并填写")
    out = _frame(ds, rows, "categories", "人员类别", "category.no_column", msg)
    out["_workshop"] = None
    return out
