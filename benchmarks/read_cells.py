"""Time merely reading every cell of every sheet of an .xlsx (the yardstick of SPEC §9).

Usage: python benchmarks/read_cells.py FILE.xlsx [--reader fastexcel|calamine|both] [--sources]

`main(path)` returns {"reader", "seconds", "cells", "peak_rss_mb", ...}. fastexcel (Arrow) is the
fastest raw reader measured; calamine's `to_python` (what fupin's reader uses, because it keeps each
cell's own type) is timed with `reader="calamine"`. `--sources` also times
`fupin_cli.sources.read_sources` on the same file and prints the ratio. Each measurement runs in a
fresh process so that peak RSS belongs to that reader alone.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import sys
import time
from pathlib import Path
from typing import Any


def _peak_rss_mb() -> float:
    # ru_maxrss is KiB on Linux, bytes on macOS
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1 << 20 if sys.platform == "darwin" else 1 << 10), 1)


def _fastexcel(path: str) -> int:
    import fastexcel

    reader = fastexcel.read_excel(path)
    cells = 0
    for name in reader.sheet_names:
        batch = reader.load_sheet(name, header_row=None, eager=True)
        cells += batch.num_rows * batch.num_columns
    return cells


def _calamine(path: str) -> int:
    import python_calamine as pc

    cells = 0
    with pc.CalamineWorkbook.from_path(path) as wb:
        for name in wb.sheet_names:
            rows = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
            cells += sum(len(r) for r in rows)
    return cells


def _sources(path: str) -> int:
    from fupin_cli.sources import read_sources

    raw = read_sources([path])
    return sum(len(f) * (f.shape[1] - 2) for f in (raw.workshops, raw.laborers, raw.wages) if f is not None)


_READERS = {"fastexcel": _fastexcel, "calamine": _calamine, "sources": _sources}


def _measure(reader: str, path: str, out: Any) -> None:
    t0 = time.perf_counter()
    cells = _READERS[reader](path)
    out.put({"reader": reader, "seconds": round(time.perf_counter() - t0, 3), "cells": cells,
             "peak_rss_mb": _peak_rss_mb()})


def run(reader: str, path: str | Path) -> dict[str, Any]:
    """One measurement in a fresh process."""
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_measure, args=(reader, str(path), q))
    p.start()
    result = q.get()
    p.join()
    return result


def main(path: str | Path, reader: str = "fastexcel", sources: bool = False) -> dict[str, Any]:
    """Seconds and peak RSS to read all cells of `path` with `reader` ("fastexcel", "calamine", "both")."""
    names = ["fastexcel", "calamine"] if reader == "both" else [reader]
    runs = [run(n, path) for n in names]
    best = min(runs, key=lambda r: r["seconds"])
    result: dict[str, Any] = {"file": str(path), **best, "runs": runs}
    if sources:
        src = run("sources", path)
        result["read_sources"] = src
        result["ratio"] = round(src["seconds"] / best["seconds"], 2)
    return result


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path")
    ap.add_argument("--reader", default="fastexcel", choices=["fastexcel", "calamine", "both"])
    ap.add_argument("--sources", action="store_true", help="also time read_sources and print the ratio")
    args = ap.parse_args()
    print(json.dumps(main(args.path, args.reader, args.sources), ensure_ascii=False, indent=2))
