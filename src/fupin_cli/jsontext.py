"""The one way fupin turns a document into JSON text (stdout `--json`, summary.json).

RFC 8259 has no Infinity or NaN, and Python's json writes them by default: every writer goes
through `dumps`, which refuses them (allow_nan=False) and writes a non-finite number as null.
"""

from __future__ import annotations

import json
import math
from typing import Any


def _finite(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    return obj


def dumps(doc: Any, *, indent: int | None = None, refuse: bool = False) -> str:
    """Strict JSON text (Chinese kept as is); Infinity/NaN anywhere become null, or with `refuse`
    raise ValueError (a cache entry must read back exactly what was written, or not be written)."""
    compact = (",", ":") if indent is None else None
    try:
        return json.dumps(doc, ensure_ascii=False, indent=indent, separators=compact, default=str, allow_nan=False)
    except ValueError:  # a non-finite number somewhere: only then walk the document
        if refuse:
            raise
        return json.dumps(_finite(doc), ensure_ascii=False, indent=indent, separators=compact, default=str,
                          allow_nan=False)
