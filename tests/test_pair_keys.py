"""dataset.pair_keys on Arrow text (both tables dictionary-encoded together) matches wage rows to
laborer rows exactly like its generic path (each column factorised, then mapped)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fupin_cli.dataset import pair_keys


def _matches(keys: tuple[np.ndarray, np.ndarray]) -> list[list[int]]:
    """For each wage row, the laborer rows it belongs to (the only thing the keys are for)."""
    lk, wk = keys
    return [np.flatnonzero((lk == k) & (k >= 0)).tolist() for k in wk.tolist()]


def _frames(dtype: object) -> tuple[pd.DataFrame, pd.DataFrame]:
    lab = pd.DataFrame({"id_number": pd.Series(["A", "B", None, "A", "C", "B"], dtype=dtype),
                        "workshop_id": pd.Series(["W1", "W1", "W1", "W2", None, "W1"], dtype=dtype)})
    wages = pd.DataFrame({"id_number": pd.Series(["A", "A", "B", "Z", None, "C", "A"], dtype=dtype),
                          "workshop_id": pd.Series(["W1", "W2", "W1", "W1", "W1", None, "W9"], dtype=dtype)})
    return lab, wages


@pytest.mark.parametrize("dtype", ["str", object])
def test_arrow_pair_keys_match_the_reference(dtype: object) -> None:
    fast, ref = pair_keys(*_frames(dtype)), pair_keys(*_frames(object))
    assert _matches(fast) == _matches(ref)
    assert _matches(fast) == [[0], [3], [1, 5], [], [], [], []]
    for f, r in zip(fast, ref, strict=True):
        assert ((f < 0) == (r < 0)).all()
