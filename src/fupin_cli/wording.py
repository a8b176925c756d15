"""The programme's words in everything a user reads (SPEC §4.3 `[terms]`), through one helper.

Titles, headers and summary sentences are written as templates with `{workshop}`, `{target}`,
`{subsidy}` (the policy's terms) and the short forms the seed report uses beside them
(`{workshop_short}` 扶贫车间, `{target_short}` 贫困劳动力). A short form is the seed's word only
while the policy keeps the default term; a policy with its own term gets that term everywhere, so
the default policy's outputs read exactly as before.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

    from fupin_cli.policy import Terms

# The seed's short forms of the default terms (百色市 report, 2019): used only with those terms.
_SHORT = {"workshop_short": ("workshop", "扶贫车间"), "target_short": ("target", "贫困劳动力"),
          "target_abbr": ("target", "贫困")}  # 80-column terminal headers


def words(terms: Terms | None = None) -> dict[str, str]:
    """Every placeholder of a wording template, in the policy's terms (default terms when None)."""
    from fupin_cli.policy import Terms

    t, default = terms or Terms(), Terms()
    out = {"workshop": t.workshop, "target": t.target, "subsidy": t.subsidy}
    for short_key, (key, seed_word) in _SHORT.items():
        out[short_key] = seed_word if getattr(t, key) == getattr(default, key) else getattr(t, key)
    return out


def say(template: str, terms: Terms | None = None, **values: object) -> str:
    """`template` with the policy's words (and `values`) filled in."""
    return template.format(**words(terms), **values)


def label_in(key: str, terms: Terms | None = None) -> str:
    """The header of column `key` (data/labels.toml) in the policy's terms."""
    from fupin_cli.labels import raw_label

    return say(raw_label(key), terms)


def in_terms(cols: Iterable, terms: Terms | None = None) -> list:
    """Output columns whose header (data/labels.toml) names the programme, relabelled in `terms`."""
    from fupin_cli.labels import raw_label

    out = []
    for c in cols:
        raw = c.text if c.text is not None else raw_label(c.label or c.key)
        out.append(replace(c, text=say(raw, terms)) if "{" in raw else c)
    return out
