"""The rule of SPEC §4.2 — 一次性带动就业奖补 (桂人社发〔20__〕82号) — implemented once.

`evaluate` gives every (laborer, workshop) pair exactly one status as of month M and returns an
`Evaluation`: the decisions frame plus the figures behind it (windows, counted months with running
totals, parameters with the month they were read at, the checks behind the status). `reasons`,
`explain` and the JSON documents read that one result.

- windows.py: windows, counted months and Q, vectorised.
- params.py: which month each parameter is read at.
- evaluate.py: statuses in the precedence of `status.STATUS_ORDER`, once per person, amounts, cap.
- result.py: `Evaluation` and the per-pair traces built from it on demand.

Choices the SPEC leaves open (documented here, tested in tests/rule_cases.toml):
- `window_months` and `window_anchor` are read at the pair's start month S: the window's shape must
  be fixed before any month is counted. `min_months`/`min_wages` are read at each candidate month,
  so Q is the first month meeting the thresholds as they stood in that month ("read as they stood
  in month Q"); a threshold change is itself a candidate month. `amount`, `contract_types`, ages,
  `valid_from/to`, `once_per_person` and `cap_per_workshop` are read at Q, or — for a pair without
  Q — at the last month evaluated (min(window end, M)), or S if the agreement has not started.
- A pair whose agreement starts after M is `pending` ("协议尚未开始") unless a reason with higher
  precedence (invalid_data, not_poor, contract_type, age) applies: SPEC §4.2 item 5 is applied
  uniformly.
- `months`/`wages`: at Q for a qualified pair; otherwise the window as of M (under `agreement` the
  window from S to min(S+11, end, M); under `rolling` the trailing window ending at min(end, M)).
- `cap_per_workshop`: the workshop's paid pairs count first, then eligible pairs in (P, Q, ID)
  order; an eligible pair beyond the cap keeps status `eligible` with its amount reduced (possibly
  to 0) and the reason says so.
"""

from fupin_cli.rules.evaluate import DECISION_COLUMNS, WORKSHOP_COLUMNS, evaluate, first_applying
from fupin_cli.rules.result import Evaluation, MonthRecord, PairRecord, ParamRecord
from fupin_cli.rules.windows import month_array, qualify

__all__ = [
    "DECISION_COLUMNS", "WORKSHOP_COLUMNS", "Evaluation", "MonthRecord", "PairRecord", "ParamRecord",
    "evaluate", "first_applying", "month_array", "qualify",
]
