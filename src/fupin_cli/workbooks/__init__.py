"""Writers of every xlsx the tool produces (xlsxwriter; written atomically; text never a formula).

The writers are imported on first use (PEP 562): a command that writes one workbook does not pay for
the imports of the others (openpyxl for marked copies alone is ~0.1 s).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fupin_cli.workbooks.ledger_export import write_ledger_export
    from fupin_cli.workbooks.problems import write_marked_copy, write_problems
    from fupin_cli.workbooks.roster import write_roster
    from fupin_cli.workbooks.stats import write_stats
    from fupin_cli.workbooks.template import write_templates

_WRITERS = {"write_ledger_export": "ledger_export", "write_marked_copy": "problems", "write_problems": "problems",
            "write_roster": "roster", "write_stats": "stats", "write_templates": "template"}

__all__ = ["write_ledger_export", "write_marked_copy", "write_problems", "write_roster", "write_stats",
           "write_templates"]


def __getattr__(name: str) -> Any:
    module = _WRITERS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
