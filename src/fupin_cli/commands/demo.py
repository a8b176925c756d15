"""`fupin demo`: the deterministic 百色市 dataset (built by the `fupin_cli.demo` package)."""

from __future__ import annotations

from pathlib import Path


def run_demo(folder: Path, *, seed: int = 2019) -> list[Path]:
    """Write the demo workbooks into `folder`; the same seed gives the same files."""
    from fupin_cli.demo import write_demo

    return write_demo(folder, seed=seed)
