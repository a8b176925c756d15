"""One normaliser per kind of value, vectorised over a column of raw cells (DESIGN.md "values.py").

Each `normalise_*` takes a pandas Series of raw cell values (str, int, float, datetime/date,
bool, None/NaN) and returns `Normalised(values, issues)`: the values with the input's index
(NA where empty or invalid) and an issues frame (`idx, code, severity, message`) whose messages
are Chinese and carry no location — the validator adds file, sheet, row and column.
Empty cells give NA and no issue; `validate` reports missing required values.
"""

from fupin_cli.values.dates import normalise_date, normalise_month
from fupin_cli.values.ids import age_on, birth_dates, id_check_digit, normalise_id
from fupin_cli.values.normaliser import ISSUE_COLUMNS, Normalised
from fupin_cli.values.numbers import normalise_digits, normalise_int, normalise_money
from fupin_cli.values.text import (
    credit_check_char,
    normalise_bool,
    normalise_county,
    normalise_credit_code,
    normalise_enum,
    normalise_text,
)

__all__ = [
    "ISSUE_COLUMNS",
    "Normalised",
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
]
