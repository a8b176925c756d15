"""Cache of the rule's decisions (issue 13): a repeated command on unchanged inputs skips the rule.

`eligibility`, `stats` and a second `payout` for another county evaluate the same month of the
same dataset under the same policy; at 1 M wage rows the rule takes longer than loading the
cached dataset. The decisions frame is a pure function of:

- the validated dataset (its cache key, which covers the input files' hashes, the region, the
  table definitions and the tool's own code: see cache.py),
- the month, the policy (its whole content, dated values and 文号 included),
- the payments it is evaluated against (the ledger's rows before M; hashed by content).

So that is the key; nothing else (not the clock, not the county) reaches `rules.evaluate`.
Entries live beside the datasets' (owner-only, written then renamed into place) and are read back
cell for cell (cache_cells), index included (a yearly policy repeats index labels). A dataset that
did not come through the cache (no key: library callers, `--no-cache`) is never cached.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from fupin_cli import cache, jsontext
from fupin_cli.cache_cells import frame_to_table, table_to_frame

KIND = "decisions"
INDEX = "__index__"  # the frame's index, stored as a column
log = logging.getLogger("fupin.cache.decisions")


def _paid_digest(paid: pd.DataFrame | None) -> str:
    if paid is None or not len(paid):
        return "none"
    h = hashlib.sha256(json.dumps([[str(c), str(t)] for c, t in paid.dtypes.items()]).encode())
    h.update(pd.util.hash_pandas_object(paid, index=True).to_numpy().tobytes())
    return h.hexdigest()


def decisions_key(dataset_key: str, month: int, policy: Any, paid: pd.DataFrame | None) -> str:
    doc = {"format": cache.FORMAT, "code": cache.code_digest(), "dataset": dataset_key, "month": int(month),
           "policy": policy.model_dump(mode="json"), "paid": _paid_digest(paid)}
    return hashlib.sha256(jsontext.dumps(doc).encode()).hexdigest()


def _load(entry: Path) -> pd.DataFrame | None:
    import pyarrow.feather as feather

    try:
        meta = json.loads((entry / "meta.json").read_text(encoding="utf-8"))
        df = table_to_frame(feather.read_table(entry / "decisions.arrow", memory_map=False),
                            meta["structs"], meta["dtypes"])
    except FileNotFoundError:
        return None
    except Exception as exc:  # a damaged entry is a miss: the rule runs again
        log.debug("判定缓存条目 %s 无法读取(%s),已删除", entry, exc)
        shutil.rmtree(entry, ignore_errors=True)
        return None
    return df.set_index(INDEX).rename_axis(meta["index_name"])


def _store(entry: Path, decisions: pd.DataFrame) -> None:
    import pyarrow.feather as feather

    if INDEX in decisions.columns or decisions.index.nlevels != 1:
        return
    frame = decisions.reset_index(names=INDEX)
    enc = frame_to_table(frame)
    if enc is None:
        log.debug("判定结果含无法无损保存的值,不写入缓存")
        return
    table, structs = enc

    def write(tmp: Path) -> None:
        feather.write_feather(table, tmp / "decisions.arrow", compression=cache.COMPRESSION)
        os.chmod(tmp / "decisions.arrow", 0o600)
        cache._write_meta(tmp, {"structs": structs, "dtypes": {str(c): str(t) for c, t in frame.dtypes.items()},
                                "index_name": decisions.index.name})

    if cache._publish(entry, write) is not None:
        log.debug("判定结果已写入缓存:%s", entry)


def cached_decisions(dataset_key: str | None, month: int, policy: Any, paid: pd.DataFrame | None,
                     build: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    """The decisions of (dataset, month, policy, paid) from the cache, else `build()` and store them."""
    if not cache.SETTINGS.enabled or dataset_key is None:
        return build()
    try:
        entry = cache._entry(decisions_key(dataset_key, month, policy, paid), kind=KIND)
    except (TypeError, ValueError) as exc:  # a payment frame that cannot be hashed: no cache, same result
        log.debug("判定结果不使用缓存(%s)", exc)
        return build()
    found = _load(entry)
    if found is not None:
        log.debug("判定缓存命中:%s(数据、政策、月份和已发放记录未变,不再重新判定)", entry)
        return found
    log.debug("判定缓存未命中:%s", entry)
    decisions = build()
    _store(entry, decisions)
    return decisions
