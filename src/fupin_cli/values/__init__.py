"""One normaliser per kind of value, vectorised over a column of raw cells (DESIGN.md "values.py").

Each `normalise_*` takes a pandas Series of raw cell values (str, int, float, datetime/date,
bool, None/NaN) and returns `Normalised(values, issues)`: the values with the input's index
(NA where empty or invalid) and an issues frame (`idx, code, severity, message`) whose messages
are Chinese and carry no location — the validator adds file, sheet, row and column.
Empty cells give NA and no issue; `validate` reports missing required values.
"""

from collections.abc import Sequence

import pandas as pd

from fupin_cli.values.dates import normalise_date, normalise_month
from fupin_cli.values.ids import age_on, birth_dates, id_check_digit, id_kernel, normalise_id
from fupin_cli.values.normaliser import ISSUE_COLUMNS, STR_DTYPE, Coded, Normalised, map_unique_parts, take
from fupin_cli.values.numbers import normalise_digits, normalise_int, normalise_money
from fupin_cli.values.text import (
    credit_check_char,
    normalise_bool,
    normalise_county,
    normalise_credit_code,
    normalise_enum,
    normalise_text,
    text_kernel,
)

JOINT_TYPES = ("id", "text")  # column types `normalise_together` knows


def normalise_together(kind: str, parts: list[pd.Series], categorical: Sequence[bool] = ()) -> list[Normalised]:
    """The `kind` ("id" or "text") normaliser over several columns at once, with shared codes
    (see `map_unique_parts`): each part's result is what its own normaliser would return (as a
    Categorical for the parts flagged in `categorical`)."""
    kernel = id_kernel() if kind == "id" else text_kernel if kind == "text" else None
    if kernel is None:
        raise ValueError(f"no joint normaliser for {kind!r}")
    return map_unique_parts(parts, kernel, STR_DTYPE, categorical)


__all__ = [
    "ISSUE_COLUMNS",
    "JOINT_TYPES",
    "Coded",
    "Normalised",
    "STR_DTYPE",
    "age_on",
    "birth_dates",
    "credit_check_char",
    "id_check_digit",
    "normalise_bool",
    "normalise_county",
    "normalise_credit_code",
    "normalise_date",
    "normalise_digits",
    "normalise_enum",
    "normalise_id",
    "normalise_int",
    "normalise_money",
    "normalise_month",
    "normalise_text",
    "normalise_together",
    "take",
]
