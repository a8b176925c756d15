"""Cache of validated datasets (issue 13; SPEC §9): a repeated command on unchanged inputs skips
reading and validation.

- Key: sha256 over the cache format, the tool's version and a digest of its own code and data
  files and of the readers' versions (a changed rule, table definition or reader is a different tool), the region, the table
  definitions, and each input file's name as shown and sha256. The policy is not part of it:
  validation does not depend on the policy (evaluation, which does, always runs).
- Content: the Dataset's frames as Arrow IPC files and its sheets, files and notes as JSON, in
  one folder per key, written to a temporary folder and renamed into place (a reader sees a
  complete entry or none). Folders are created owner-only (0700) and files 0600: they hold
  whole ID numbers.
- Where: `--cache-dir`, else $FUPIN_CACHE_DIR, else platformdirs' user cache dir. Deleting it
  changes no result; `fupin cache clear` does that. `--no-cache` turns it off.
- Never a source of truth: any unreadable or inconsistent entry is a miss (and is rebuilt); the
  ledger records the input hashes computed for the key, i.e. of the bytes the key describes.

Validation is cross-file (references, duplicates), so a validated entry is one per set of
inputs. Below it, each file's raw read (its recognised sheets as frames, with its notes) is
cached on its own, keyed by the file's name and sha256: when one township's file changes, only
that file is read again, then everything is validated (with a single input file the dataset entry
is all there is to reuse, so no per-file entry is written). Cells keep their own Python kind
(cache_cells.py); a file holding a cell of a kind that cannot be stored without loss is simply
read again next time.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from fupin_cli import __version__, jsontext
from fupin_cli.dataset import Dataset, InputFile, SheetInfo
from fupin_cli.fsutil import sha256_file

FORMAT = 1
FRAMES = ("workshops", "laborers", "wages", "problems")
ENV_DIR = "FUPIN_CACHE_DIR"
COMPRESSION = "zstd"  # a tenth of the size on disk; decompressing costs about what reading the bytes saves
log = logging.getLogger("fupin.cache")
_LONE_INPUT: contextvars.ContextVar[bool] = contextvars.ContextVar("fupin_lone_input", default=False)


@dataclass
class Settings:
    enabled: bool = False  # library calls do not cache unless asked; the CLI turns it on
    folder: Path | None = None


SETTINGS = Settings()


def configure(*, enabled: bool, folder: Path | None = None) -> None:
    SETTINGS.enabled, SETTINGS.folder = enabled, folder


def cache_dir(folder: Path | None = None) -> Path:
    if folder is not None:
        return Path(folder)
    if SETTINGS.folder is not None:
        return SETTINGS.folder
    if os.environ.get(ENV_DIR):
        return Path(os.environ[ENV_DIR])
    import platformdirs

    return platformdirs.user_cache_path("fupin", appauthor=False)


READERS = ("pandas", "numpy", "pyarrow", "python-calamine", "fastexcel", "xlrd")  # they shape the cells


@lru_cache(maxsize=1)
def code_digest() -> str:
    """sha256 of the package's own .py and data files and of the readers' versions: a changed rule
    or an upgraded reader is a different tool."""
    from importlib.metadata import PackageNotFoundError, version

    root = Path(__file__).resolve().parent
    h = hashlib.sha256(__version__.encode())
    for dist in READERS:
        with contextlib.suppress(PackageNotFoundError):
            h.update(f"{dist}={version(dist)}\0".encode())
    for p in sorted(root.rglob("*")):
        if p.suffix in (".py", ".toml") and p.is_file():
            h.update(p.relative_to(root).as_posix().encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def dataset_key(files: Sequence[tuple[str, str]], region: Any, tables: Any) -> str:
    """Key of the validated dataset of `files` ((name as shown, sha256) in reading order)."""
    doc = {"format": FORMAT, "version": __version__, "code": code_digest(),
           "region": region.model_dump(mode="json"), "tables": tables.model_dump(mode="json"),
           "files": [list(f) for f in files]}
    return hashlib.sha256(json.dumps(doc, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def _entry(key: str, folder: Path | None = None, kind: str = "datasets") -> Path:
    return cache_dir(folder) / f"v{FORMAT}" / kind / key


def _write_frames(tmp: Path, frames: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Each frame as an Arrow IPC file (0600); their column dtypes, to restore them exactly."""
    import pyarrow as pa
    import pyarrow.feather as feather

    dtypes = {}
    for name, df in frames.items():
        df = df.reset_index(drop=True)
        dtypes[name] = {c: str(t) for c, t in df.dtypes.items()}
        target = tmp / f"{name}.arrow"
        feather.write_feather(pa.Table.from_pandas(df, preserve_index=False), target, compression=COMPRESSION)
        os.chmod(target, 0o600)
    return dtypes


def _read_frame(entry: Path, name: str, dtypes: dict[str, str]) -> Any:
    import pyarrow.feather as feather

    df = feather.read_table(entry / f"{name}.arrow", memory_map=False).to_pandas()
    if list(df.columns) != list(dtypes):
        raise ValueError(f"columns of {name} differ")
    for col, dtype in dtypes.items():
        if str(df[col].dtype) == dtype:
            continue
        if dtype == "object":  # pandas reads Arrow text back as "str"; the frame had Python objects
            df[col] = df[col].astype(object).where(df[col].notna(), None)
        else:
            df[col] = df[col].astype(dtype)
    return df


def _publish(entry: Path, write: Callable[[Path], None]) -> Path | None:
    """Write an entry into a private temporary folder, then rename it into place."""
    try:
        root = entry.parent
        for folder in (root.parent.parent, root.parent, root):
            _private_mkdir(folder)
        tmp = Path(tempfile.mkdtemp(prefix=f".{entry.name[:16]}.", dir=root))  # 0700
        try:
            write(tmp)
            if not entry.exists():  # else another run wrote the same key meanwhile: same content
                os.replace(tmp, entry)
            return entry
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    except Exception as exc:  # a full disk or a read-only home must not stop the payout
        log.debug("无法写入缓存 %s(%s)", entry, exc)
        return None


def load(key: str) -> Dataset | None:
    """The cached dataset of `key`, or None (absent, unreadable, or from another format)."""
    entry = _entry(key)
    try:
        meta = json.loads((entry / "meta.json").read_text(encoding="utf-8"))
        if meta.get("key") != key:
            return None
        frames = {name: _read_frame(entry, name, meta["dtypes"][name]) for name in FRAMES}
        return Dataset(**frames,
                       sheets=[SheetInfo(**s) for s in meta["sheets"]],
                       files=[InputFile(path=Path(f["path"]), sha256=f["sha256"], size=f["size"]) for f in meta["files"]],
                       notes=list(meta["notes"]))
    except FileNotFoundError:
        return None
    except Exception as exc:  # a damaged entry is a miss, never an error: the inputs are read again
        log.debug("缓存条目 %s 无法读取(%s),已删除,重新读取输入文件", entry, exc)
        shutil.rmtree(entry, ignore_errors=True)  # so that this run's store replaces it
        return None


def _private_mkdir(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        os.chmod(path, 0o700)


def _write_meta(tmp: Path, meta: dict) -> None:
    (tmp / "meta.json").write_text(jsontext.dumps(meta, refuse=True), encoding="utf-8")
    os.chmod(tmp / "meta.json", 0o600)


def store(key: str, ds: Dataset) -> Path | None:
    """Write the entry (owner-only); None when the cache cannot be written (the run goes on)."""
    def write(tmp: Path) -> None:
        dtypes = _write_frames(tmp, {name: getattr(ds, name) for name in FRAMES})
        _write_meta(tmp, {"key": key, "format": FORMAT, "dtypes": dtypes,
                          "sheets": [asdict(s) for s in ds.sheets],
                          "files": [{"path": str(f.path), "sha256": f.sha256, "size": f.size} for f in ds.files],
                          "notes": list(ds.notes)})

    return _publish(_entry(key), write)


class FileParts:
    """The per-file store read_sources uses (sources.PartStore)."""

    def _key(self, file: InputFile, shown: str) -> str:
        from fupin_cli.tables import load_tables

        doc = {"format": FORMAT, "code": code_digest(), "tables": load_tables().model_dump(mode="json"),
               "file": [shown, file.sha256]}
        return hashlib.sha256(json.dumps(doc, ensure_ascii=False, sort_keys=True).encode()).hexdigest()

    def get(self, file: InputFile, shown: str) -> Any:
        import pyarrow.feather as feather

        from fupin_cli.cache_cells import table_to_frame
        from fupin_cli.sources import FilePart

        entry = _entry(self._key(file, shown), kind="files")
        try:
            meta = json.loads((entry / "meta.json").read_text(encoding="utf-8"))
            frames = [table_to_frame(feather.read_table(entry / f"sheet{i}.arrow", memory_map=False), objects, dtypes)
                      for i, (objects, dtypes) in enumerate(meta["frames"])]
            part = FilePart([SheetInfo(**s) for s in meta["sheets"]], frames, list(meta["notes"]), list(meta["names"]),
                            [tuple(f) for f in meta["faults"]], list(meta["open_notes"]),
                            [tuple(h) for h in meta["hidden"]])
        except FileNotFoundError:
            log.debug("文件缓存未命中:%s", shown)
            return None
        except Exception as exc:
            log.debug("文件缓存条目 %s 无法读取(%s),已删除", entry, exc)
            shutil.rmtree(entry, ignore_errors=True)
            return None
        log.debug("文件缓存命中:%s(未改变,不再读取)", shown)
        return part

    def put(self, file: InputFile, shown: str, part: Any) -> None:
        if _LONE_INPUT.get():  # the dataset entry already stands for this one file's read (cached())
            log.debug("仅一个输入文件,不另写文件缓存:%s", shown)
            return
        import pyarrow.feather as feather

        from fupin_cli.cache_cells import frame_to_table

        tables = []
        for frame in part.frames:  # every cell with its own kind (cache_cells), or not cached at all
            enc = frame_to_table(frame)
            if enc is None:
                log.debug("文件 %s 含无法无损保存的单元格,不写入文件缓存", shown)
                return
            tables.append((enc, {c: str(t) for c, t in frame.dtypes.items()}))

        def write(tmp: Path) -> None:
            for i, ((table, _), _) in enumerate(tables):
                feather.write_feather(table, tmp / f"sheet{i}.arrow", compression=COMPRESSION)
                os.chmod(tmp / f"sheet{i}.arrow", 0o600)
            _write_meta(tmp, {"format": FORMAT, "frames": [[objects, dtypes] for (_, objects), dtypes in tables],
                              "sheets": [asdict(s) for s in part.sheets],
                              "notes": list(part.notes), "names": list(part.names),
                              "faults": [list(f) for f in part.faults], "open_notes": list(part.open_notes),
                              "hidden": [list(h) for h in part.hidden]})

        if _publish(_entry(self._key(file, shown), kind="files"), write) is not None:
            log.debug("文件已写入缓存:%s", shown)


def file_parts() -> FileParts | None:
    """The per-file store, when the cache is on."""
    return FileParts() if SETTINGS.enabled else None


def cached(files: Sequence[tuple[Path, str]], region: Any, build: Callable[[], Dataset]) -> Dataset:
    """The dataset of `files` ((path, name as shown), as sources.discover lists them) from the
    cache, else `build()` it and store it."""
    from fupin_cli.tables import load_tables

    if not SETTINGS.enabled:
        return build()
    inputs = [InputFile(path=p, sha256=sha256_file(p), size=p.stat().st_size) for p, _ in files]
    key = dataset_key([(shown, f.sha256) for (_, shown), f in zip(files, inputs, strict=True)],
                      region, load_tables())
    ds = load(key)
    if ds is not None:
        log.debug("缓存命中:%s(%d 个输入文件未改变,跳过读取和检查)", _entry(key), len(files))
        ds.files = inputs  # the hashes just computed: the same bytes, as the key says
        ds.cache_key = key
        return ds
    log.debug("缓存未命中:%s(读取并检查输入文件)", _entry(key))
    # With one input file the per-file entry would only repeat the dataset entry (a changed file
    # misses both) and costs ~0.5 s at 1,000,000 rows: it is written for several files only.
    lone = _LONE_INPUT.set(len(files) == 1)
    try:
        ds = build()
    finally:
        _LONE_INPUT.reset(lone)
    if [(f.path, f.sha256) for f in ds.files] != [(f.path, f.sha256) for f in inputs]:
        log.debug("输入文件在读取期间被修改,不写入缓存")
        return ds
    where = store(key, ds)
    if where is not None:
        log.debug("已写入缓存:%s", where)
        ds.cache_key = key
    return ds


def clear(folder: Path | None = None) -> tuple[Path, int]:
    """Delete every cached dataset; (the cache folder, entries removed)."""
    root = cache_dir(folder)
    removed = 0
    if root.is_dir():
        for sub in root.iterdir():
            if sub.is_dir() and sub.name.startswith("v"):
                removed += sum(1 for e in sub.glob("*/*") if e.is_dir() and not e.name.startswith("."))
                shutil.rmtree(sub)
    return root, removed
