"""Benchmark (SPEC §9): fupin's commands against the time merely to read the same cells.

    python benchmarks/run.py /tmp/bench.xlsx [--month 2019-06] [--skip-raw] [--out result.json] [--profile DIR]
    python benchmarks/run.py /tmp/nat5m/csv --steps raw,payout,cached     # national shape (generate_national.py)

Every step runs in its own child process, so wall time includes interpreter start and imports,
and peak RSS is that one process's high-water mark: os.wait4 returns the rusage of exactly the
child it reaps (ru_maxrss), so figures are per step, never cumulative. Where wait4 does not
exist (Windows) the child's RSS is polled with psutil every 50 ms instead.

Steps: raw (read every cell with the fastest reader: benchmarks/read_cells.py when present, else
fastexcel into pandas), check (`fupin check --json`), payout (`fupin payout --month M --output
--json`, no ledger), batch (`fupin batch` on a folder holding only this workbook, a fresh ledger
and a temporary output folder; skipped with a message when the batch command is not there yet).
The input is an .xlsx workbook, or a folder of CSV or Parquet files (generate_national.py); for a
folder, raw is pyarrow reading the same files (pyarrow.csv.read_csv / pyarrow.parquet.read_table).
`cached` runs `fupin eligibility --month M --json` again on the cache the payout step left
(each other step starts with an empty cache of its own: XDG_CACHE_HOME points into the temp dir).
Goals (issue 13): see GOALS.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
# wall time as a multiple of the raw read, per kind of input and step; and peak RSS (MB)
_REPEATED = {"cached": 0.6, "cached-check": 0.6, "cached-stats": 0.6, "cached-county": 0.6, "cached-explain": 0.6}
GOALS = {"xlsx": {"check": 1.5, "payout": 2.0, "batch": 2.5, **_REPEATED},
         "csv": {"payout": 5.0, **_REPEATED},
         "parquet": {"payout": 5.0, **_REPEATED}}
GOAL_RSS_MB = {"xlsx": 1536.0, "csv": 2048.0, "parquet": 2048.0}
POLL_S = 0.05


# --- measuring one child process ------------------------------------------------------------

def _poll_peak(proc: subprocess.Popen, box: dict[str, int]) -> None:
    import psutil

    try:
        ps = psutil.Process(proc.pid)
        while proc.poll() is None:
            rss = sum(p.memory_info().rss for p in [ps, *ps.children(recursive=True)])
            box["peak"] = max(box["peak"], rss)
            time.sleep(POLL_S)
    except psutil.Error:  # the child exited between two polls
        pass


def measure(cmd: list[str], workdir: Path, name: str, cache: Path | None = None) -> dict[str, Any]:
    """Run `cmd`, return wall seconds, peak RSS (MB), exit code and where stdout/stderr went.

    `cache`: the child's XDG_CACHE_HOME (platformdirs' user cache dir lives below it).
    """
    out, err = workdir / f"{name}.stdout", workdir / f"{name}.stderr"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "160"}
    if cache is not None:
        env["XDG_CACHE_HOME"] = str(cache)
    with out.open("wb") as fo, err.open("wb") as fe:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=fo, stderr=fe, stdin=subprocess.DEVNULL, env=env)
        if hasattr(os, "wait4"):
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - t0
            proc.returncode = rc = os.waitstatus_to_exitcode(status)
            cpu = usage.ru_utime + usage.ru_stime  # on a shared machine, the part load does not inflate
            # ru_maxrss is KiB on Linux, bytes on macOS.
            peak = usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024)
        else:
            box = {"peak": 0}
            th = threading.Thread(target=_poll_peak, args=(proc, box), daemon=True)
            th.start()
            rc = proc.wait()
            wall = time.perf_counter() - t0
            cpu = float("nan")
            th.join()
            peak = box["peak"]
    return {"step": name, "wall_s": wall, "cpu_s": cpu, "peak_rss_mb": peak / 2**20, "exit": rc,
            "stdout": str(out), "stderr": str(err), "cmd": cmd}


def fupin(*args: str, profile: Path | None = None, name: str = "") -> list[str]:
    pre = [sys.executable]
    if profile is not None:
        pre += ["-m", "cProfile", "-o", str(profile / f"{name}.prof")]
    return [*pre, "-m", "fupin_cli", *args]


# --- the raw read (runs in its own child: `run.py --raw-child PATH`) --------------------------

def raw_read_fastexcel(path: str) -> dict[str, Any]:
    """Every cell of every sheet into Arrow via fastexcel (Rust calamine), no header logic."""
    t0 = time.perf_counter()
    import fastexcel

    reader = fastexcel.read_excel(path)
    cells = 0
    for name in reader.sheet_names:
        batch = reader.load_sheet(name, header_row=None, eager=True)
        cells += batch.num_rows * batch.num_columns
    return {"reader": "fastexcel", "seconds": time.perf_counter() - t0, "cells": cells}


def raw_read_arrow(folder: str) -> dict[str, Any]:
    """Every CSV/Parquet file of the folder into Arrow tables (pyarrow's defaults, all threads)."""
    t0 = time.perf_counter()
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    cells = 0
    readers = []
    for f in sorted(Path(folder).iterdir()):
        if f.suffix.lower() == ".csv":
            table = pcsv.read_csv(f)
            readers.append("pyarrow.csv")
        elif f.suffix.lower() == ".parquet":
            table = pq.read_table(f)
            readers.append("pyarrow.parquet")
        else:
            continue
        cells += table.num_rows * table.num_columns
        del table
    return {"reader": "/".join(sorted(set(readers))), "seconds": time.perf_counter() - t0, "cells": cells}


def input_kind(path: Path) -> str:
    """xlsx (a workbook), csv or parquet (a folder of them)."""
    if path.is_file():
        return "xlsx"
    return "parquet" if any(f.suffix.lower() == ".parquet" for f in path.iterdir()) else "csv"


def raw_child(path: str) -> int:
    if Path(path).is_dir():
        doc = raw_read_arrow(path)
    elif (HERE / "read_cells.py").exists():
        sys.path.insert(0, str(HERE))
        import read_cells  # written alongside: the fastest raw reader found

        doc = read_cells.main(path)
    else:
        doc = raw_read_fastexcel(path)
    print(json.dumps(doc, ensure_ascii=False, default=str))
    return 0


# --- batch config ---------------------------------------------------------------------------

def batch_available() -> str | None:
    """None when `fupin batch` can run, else why not."""
    if importlib.util.find_spec("fupin_cli.commands.batch") is None:
        return "fupin_cli.commands.batch 尚未实现"
    if importlib.util.find_spec("fupin_cli.cli.batch") is None:
        return "fupin batch 命令尚未注册(fupin_cli.cli.batch 不存在)"
    return None


def write_batch_config(tmp: Path, workbook: Path) -> Path:
    """A config with an input folder holding only the workbook, a fresh ledger and output folder."""
    inbox = tmp / "batch-in"
    inbox.mkdir()
    for f in sorted(workbook.iterdir()) if workbook.is_dir() else [workbook]:
        try:
            os.link(f, inbox / f.name)  # same filesystem: no copy of a large file
        except OSError:
            shutil.copy2(f, inbox / f.name)
    cfg = tmp / "fupin-batch.toml"
    cfg.write_text(
        f'input = "{inbox.as_posix()}"\n'
        f'output = "{(tmp / "batch-out").as_posix()}"\n'
        f'ledger = "{(tmp / "ledger.sqlite").as_posix()}"\n'
        f'log = "{(tmp / "batch.log").as_posix()}"\n',
        encoding="utf-8",
    )
    return cfg


# --- repeated commands on the cache ---------------------------------------------------------

# issue 13: explain, eligibility, stats and a second payout for another county on unchanged inputs
CACHED = ("cached", "cached-check", "cached-stats", "cached-county", "cached-explain")


def cached_command(step: str, wb: Path, month: str, tmp: Path, prof: dict) -> list[str] | None:
    """The repeated command of a cached-* step; None when it needs the cached step's output first."""
    if step == "cached":  # --show-id: the next steps take a person and a county from its rows
        return fupin("eligibility", str(wb), "--month", month, "--json", "--show-id", **prof)
    if step == "cached-check":
        return fupin("check", str(wb), "--json", **prof)
    if step == "cached-stats":
        return fupin("stats", str(wb), "--month", month, "--json", **prof)
    try:
        rows = json.loads((tmp / "cached.stdout").read_text(encoding="utf-8"))["rows"]
    except (OSError, ValueError, KeyError):
        return None
    paid = next((r for r in rows if r.get("status") == "eligible"), rows[0])
    if step == "cached-explain":
        return fupin("explain", str(wb), "--id", paid["id_number"], "--month", month, "--json", **prof)
    county = _county_of(tmp, paid["workshop_id"])
    if county is None:
        return None
    return fupin("payout", str(wb), "--month", month, "--county", county, "--output", str(tmp / "county.xlsx"),
                 "--json", **prof)


def _county_of(tmp: Path, workshop_id: str) -> str | None:
    """The county of a workshop, from the payout step's roster JSON (its rows name both)."""
    try:
        rows = json.loads((tmp / "payout.stdout").read_text(encoding="utf-8"))["rows"]
    except (OSError, ValueError, KeyError):
        rows = []
    return next((r.get("county") for r in rows if r.get("workshop_id") == workshop_id), None) or \
        next((r.get("county") for r in rows if r.get("county")), None)


# --- summaries ------------------------------------------------------------------------------

def summarise(step: str, stdout: Path) -> str:
    """A short sanity line from the step's JSON output (so a fast but wrong run is visible)."""
    try:
        doc = json.loads(stdout.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    if step == "raw":
        return f"{doc.get('reader')} read {doc.get('seconds', 0):.1f} s in-process, {doc.get('cells', 0):,} cells"
    if step in ("check", "cached-check"):
        return f"errors {doc.get('errors')}, warnings {doc.get('warnings')}"
    if step == "cached":
        rows = doc.get("rows", doc.get("decisions", []))
        return f"eligibility rows {len(rows) if isinstance(rows, list) else rows}"
    if step == "cached-explain":
        return f"explain: {doc.get('summary', '')}"[:100]
    if step == "cached-stats":
        return f"stats keys {len(doc)}"
    if step in ("payout", "batch", "cached-county"):
        return f"people {doc.get('people')}, amount {doc.get('amount')}"
    return ", ".join(f"{k} {v}" for k, v in doc.items() if isinstance(v, int | float | str))[:100]


def tail(path: Path, n: int = 15) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-n:])
    except OSError:
        return ""


def raw_seconds(results: list[dict[str, Any]]) -> float | None:
    """The yardstick: the raw reader's own in-process read time (no interpreter start, no imports)."""
    for r in results:
        if r["step"] == "raw" and not r.get("skipped") and r["exit"] == 0:
            try:
                return float(json.loads(Path(r["stdout"]).read_text(encoding="utf-8"))["seconds"])
            except (OSError, ValueError, KeyError):
                return r["wall_s"]
    return None


def print_table(results: list[dict[str, Any]], raw_s: float | None, kind: str) -> None:
    print(f"\n{'step':<12} {'wall s':>8} {'cpu s':>7} {'peak RSS MB':>12} {'× raw':>7} {'exit':>5} {'load':>5}  goal  result")
    for r in results:
        if r.get("skipped"):
            print(f"{r['step']:<12} {'-':>8} {'-':>7} {'-':>12} {'-':>7} {'-':>5}  {'':4}  skipped: {r['skipped']}")
            continue
        ratio = r["wall_s"] / raw_s if raw_s else None
        r["ratio"] = ratio
        goal = ""
        limit = GOALS[kind].get(r["step"])
        if limit is not None:
            ok = (ratio is None or ratio <= limit) and r["peak_rss_mb"] <= GOAL_RSS_MB[kind]
            goal = "ok" if ok else "MISS"
        print(f"{r['step']:<12} {r['wall_s']:8.1f} {r.get('cpu_s', float('nan')):7.1f} {r['peak_rss_mb']:12.0f} "
              f"{'-' if ratio is None else f'{ratio:.2f}':>7} {r['exit']:>5} {r.get('load', 0):5.2f}  {goal:<4}  "
              f"{r.get('summary', '')}")
    if raw_s:
        print(f"× raw = wall s / {raw_s:.1f} s, the raw reader's in-process read time; every wall time includes "
              "interpreter start and imports (see startup)")
    limits = ", ".join(f"{k} ≤ {v} ×" for k, v in GOALS[kind].items())
    print(f"goal ({kind}): {limits} raw read; ≤ {GOAL_RSS_MB[kind]:.0f} MB peak RSS "
          "(10 M CSV rows: ≤ 30 s and ≤ 4096 MB)")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--raw-child"]:
        return raw_child(argv[1])
    ap = argparse.ArgumentParser(description="基准测试:各命令的耗时和内存峰值,与仅读取全部单元格的时间相比")
    ap.add_argument("workbook", type=Path,
                    help="benchmarks/generate.py 生成的 xlsx,或 generate_national.py 生成的 csv/、parquet/ 文件夹")
    ap.add_argument("--month", default="2019-06", help="payout/batch 的核算月份")
    ap.add_argument("--skip-raw", action="store_true", help="不测原始读取(倍数一栏留空)")
    ap.add_argument("--raw-seconds", type=float, help="已知的原始读取秒数(与 --skip-raw 一起用)")
    ap.add_argument("--steps", default="raw,startup,check,payout,batch," + ",".join(CACHED), help="要测的步骤,逗号分隔")
    ap.add_argument("--out", type=Path, help="把结果另存为 JSON 文件")
    ap.add_argument("--profile", type=Path, help="在 cProfile 下运行 fupin 各步骤,.prof 写入该文件夹(耗时会偏大)")
    ap.add_argument("--keep", action="store_true", help="保留临时文件夹(各步骤的输出和日志)")
    a = ap.parse_args(argv)
    wb = a.workbook.resolve()
    if not wb.exists():
        ap.error(f"找不到工作簿或文件夹 {wb}")
    kind = input_kind(wb)
    size_mb = sum(f.stat().st_size for f in (wb.iterdir() if wb.is_dir() else [wb])) / 2**20
    steps = [s.strip() for s in a.steps.split(",") if s.strip()]
    if a.skip_raw and "raw" in steps:
        steps.remove("raw")
    if a.profile is not None:
        a.profile.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="fupin-bench-"))
    print(f"input {wb} ({kind}, {size_mb:.1f} MB), month {a.month}, python {sys.version.split()[0]}, "
          f"temp {tmp}; load {os.getloadavg()[0]:.2f}")
    results: list[dict[str, Any]] = []
    try:
        for step in steps:
            prof = {"profile": a.profile, "name": step}
            if step == "raw":
                cmd = [sys.executable, str(Path(__file__).resolve()), "--raw-child", str(wb)]
            elif step == "startup":  # fixed cost in every command's wall time: interpreter, imports, CLI
                cmd = fupin("--version")
            elif step == "check":
                cmd = fupin("check", str(wb), "--json", **prof)
            elif step == "payout":
                cmd = fupin("payout", str(wb), "--month", a.month, "--output", str(tmp / "payout.xlsx"), "--json", **prof)
            elif step in CACHED:  # the same inputs again, on the cache the payout step left
                if not (tmp / "cache-payout").exists():
                    print(f"[{step}] 先运行一次 payout 以建立缓存(不计时)", flush=True)
                    measure(fupin("payout", str(wb), "--month", a.month, "--output", str(tmp / "warm.xlsx"), "--json"),
                            tmp, "warm", cache=tmp / "cache-payout")
                cmd = cached_command(step, wb, a.month, tmp, prof)
                if cmd is None:
                    results.append({"step": step, "skipped": "需要先运行 cached 步骤(取一个身份证号和县)"})
                    continue
            elif step == "batch":
                why = batch_available()
                if why is not None:
                    print(f"[batch] 跳过:{why}")
                    results.append({"step": "batch", "skipped": why})
                    continue
                cfg = write_batch_config(tmp, wb)
                # a fresh ledger: create it with the run and confirm that this first run pays from the start
                cmd = fupin("batch", "--config", str(cfg), "--month", a.month, "--new-ledger", "--first-run", **prof)
            else:
                ap.error(f"未知步骤 {step}")
            print(f"[{step}] {' '.join(cmd)}", flush=True)
            cache = tmp / ("cache-payout" if step == "payout" or step in CACHED else f"cache-{step}")
            r = measure(cmd, tmp, step, cache=cache)
            r["load"] = os.getloadavg()[0]
            out = Path(r["stdout"])
            if step == "batch":  # batch prints text; its machine-readable summary is in the output folder
                out = tmp / "batch-out" / a.month / "summary.json"
            r["summary"] = summarise(step, out)
            print(f"[{step}] {r['wall_s']:.1f} s, peak RSS {r['peak_rss_mb']:.0f} MB, exit {r['exit']}, "
                  f"load {r['load']:.2f}", flush=True)
            if r["exit"] not in (0, 1):  # 1 = done with data problems (the generator plants a few bad IDs)
                print(f"[{step}] 失败,stderr 末尾:\n{tail(Path(r['stderr']))}")
            results.append(r)
        base = a.raw_seconds or raw_seconds(results)
        print_table(results, base, kind)
        if a.out is not None:
            doc = {"input": str(wb), "kind": kind, "size_mb": size_mb, "month": a.month,
                   "goal": {"ratio": GOALS[kind], "peak_rss_mb": GOAL_RSS_MB[kind]}, "steps": results}
            a.out.write_text(json.dumps(doc, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
            print(f"results written to {a.out}")
        if a.profile is not None:
            print_profiles(a.profile, [r["step"] for r in results if r["step"] != "raw" and not r.get("skipped")])
    finally:
        if a.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    failed = [r for r in results if not r.get("skipped") and r["exit"] not in (0, 1)]
    return 1 if failed else 0


def print_profiles(folder: Path, steps: list[str], top: int = 25) -> None:
    import pstats

    for step in steps:
        f = folder / f"{step}.prof"
        if f.exists():
            print(f"\n===== profile {step} (cumulative, top {top}) =====")
            pstats.Stats(str(f)).sort_stats("cumulative").print_stats(top)


if __name__ == "__main__":
    sys.exit(main())
