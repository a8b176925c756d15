"""rules.windows.text_pair_keys (Arrow) matches wage rows to laborer rows exactly like dataset.pair_keys."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fupin_cli.dataset import pair_keys
from fupin_cli.rules.windows import text_pair_keys


def _matches(keys: tuple[np.ndarray, np.ndarray]) -> list[list[int]]:
    """For each wage row, the laborer rows it belongs to (the only thing the keys are for)."""
    lk, wk = keys
    return [np.flatnonzero((lk == k) & (k >= 0)).tolist() for k in wk.tolist()]


@pytest.mark.parametrize("dtype", ["str", object])
def test_arrow_pair_keys_match_the_reference(dtype: object) -> None:
    lab = pd.DataFrame({"id_number": pd.Series(["A", "B", None, "A", "C", "B"], dtype=dtype),
                        "workshop_id": pd.Series(["W1", "W1", "W1", "W2", None, "W1"], dtype=dtype)})
    wages = pd.DataFrame({"id_number": pd.Series(["A", "A", "B", "Z", None, "C", "A"], dtype=dtype),
                          "workshop_id": pd.Series(["W1", "W2", "W1", "W1", "W1", None, "W9"], dtype=dtype)})
    fast, ref = text_pair_keys(lab, wages), pair_keys(lab, wages)
    assert _matches(fast) == _matches(ref)
    assert _matches(fast) == [[0], [3], [1, 5], [], [], [], []]
    for f, r in zip(fast, ref, strict=True):
        assert ((f < 0) == (r < 0)).all()
