"""Writers of every xlsx the tool produces (xlsxwriter; written atomically; text never a formula)."""

from __future__ import annotations

from fupin_cli.workbooks.ledger_export import write_ledger_export
from fupin_cli.workbooks.problems import write_marked_copy, write_problems
from fupin_cli.workbooks.roster import write_roster
from fupin_cli.workbooks.stats import write_stats
from fupin_cli.workbooks.template import write_templates

__all__ = ["write_ledger_export", "write_marked_copy", "write_problems", "write_roster", "write_stats",
           "write_templates"]
