"""The rule of SPEC §4.2, implemented once (see evaluate.py)."""

from fupin_cli.rules.evaluate import DECISION_COLUMNS, WORKSHOP_COLUMNS, evaluate, month_array, qualify

__all__ = ["DECISION_COLUMNS", "WORKSHOP_COLUMNS", "evaluate", "month_array", "qualify"]
