"""Hostile and odd input files, built by the tests themselves (nothing large is committed).

`patch_xlsx` copies a small valid workbook and replaces parts of it; `bomb_member` writes a zip
member whose XML decompresses to far more than its compressed size (repeated bytes, written as
independent deflate blocks so building it stays fast); `lie_about_size` rewrites the sizes a zip
declares for a member. `run_cli` runs fupin in a child process under a 4 GB address-space limit.
"""

from __future__ import annotations

import os
import re
import resource
import struct
import subprocess
import sys
import zipfile
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path

ADDRESS_LIMIT = 4 << 30
_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
Part = bytes | Callable[[bytes], bytes] | None


def patch_xlsx(src: Path, dst: Path, parts: dict[str, Part]) -> Path:
    """Copy `src` to `dst` with parts replaced (bytes), transformed (callable) or removed (None)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename in parts:
                new = parts[info.filename]
                if new is None:
                    continue
                data = new(data) if callable(new) else new
            zout.writestr(info.filename, data)
        for name, new in parts.items():
            if name not in zin.namelist() and isinstance(new, bytes):
                zout.writestr(name, new)
    return dst


def sheet_member(src: Path, name: str) -> str:
    """The zip member of worksheet `name` (openpyxl numbers them in order)."""
    with zipfile.ZipFile(src) as zf:
        book = zf.read("xl/workbook.xml").decode()
    names = re.findall(r'<sheet [^>]*name="([^"]+)"', book)
    return f"xl/worksheets/sheet{names.index(name) + 1}.xml"


def with_cells(xml: bytes, extra: str, dimension: str | None = None) -> bytes:
    """A sheet XML with `extra` (<row> elements) appended to its sheetData, optionally a new <dimension>."""
    text = xml.decode()
    text = text.replace("</sheetData>", extra + "</sheetData>") if "</sheetData>" in text \
        else text.replace("<sheetData/>", f"<sheetData>{extra}</sheetData>")
    if dimension is not None:
        text = re.sub(r'<dimension ref="[^"]*"/>', f'<dimension ref="{dimension}"/>', text)
    return text.encode()


def bomb_member(zout: zipfile.ZipFile, name: str, head: bytes, unit: bytes, repeat: int, tail: bytes) -> None:
    """Write `head + unit * repeat + tail` as one deflated member, fast: the deflate stream of
    `unit` (after a full flush, independent of what came before) is simply repeated."""
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = comp.compress(head) + comp.flush(zlib.Z_FULL_FLUSH)
    block_c = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = block_c.compress(unit) + block_c.flush(zlib.Z_FULL_FLUSH)
    end_c = zlib.compressobj(9, zlib.DEFLATED, -15)
    last = end_c.compress(tail) + end_c.flush(zlib.Z_FINISH)
    crc = zlib.crc32(head)
    step = unit * max(1, (1 << 20) // len(unit))
    done = 0
    while done + len(step) // len(unit) <= repeat:
        crc = zlib.crc32(step, crc)
        done += len(step) // len(unit)
    for _ in range(repeat - done):
        crc = zlib.crc32(unit, crc)
    crc = zlib.crc32(tail, crc)
    body = first + block * repeat + last
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    size = len(head) + len(unit) * repeat + len(tail)
    # zipfile has no API for pre-compressed data: write a stored member, then fix its header.
    info.compress_type = zipfile.ZIP_STORED
    with zout.open(info, "w", force_zip64=size >= 0xFFFFFFFF) as fh:
        fh.write(body)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.CRC = crc
    info.file_size = size
    info.compress_size = len(body)
    pos = zout.fp.tell()
    zout.fp.seek(info.header_offset)
    zout.fp.write(info.FileHeader(zip64=size >= 0xFFFFFFFF))
    zout.fp.seek(pos)


def bomb_xlsx(src: Path, dst: Path, member: str, head: bytes, unit: bytes, repeat: int, tail: bytes) -> Path:
    """Copy of `src` whose `member` is a decompression bomb (see bomb_member)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename == member:
                bomb_member(zout, member, head, unit, repeat, tail)
            else:
                zout.writestr(info.filename, zin.read(info))
    return dst


def lie_about_size(path: Path, member: str, size: int) -> None:
    """Rewrite the uncompressed size the zip declares for `member` (local and central headers)."""
    data = bytearray(path.read_bytes())
    name = member.encode()
    with zipfile.ZipFile(path) as zf:
        local = zf.getinfo(member).header_offset
    struct.pack_into("<I", data, local + 22, size)
    central = data.find(b"PK\x01\x02", 0)
    while central >= 0:
        n = struct.unpack_from("<H", data, central + 28)[0]
        if bytes(data[central + 46:central + 46 + n]) == name:
            struct.pack_into("<I", data, central + 24, size)
            break
        central = data.find(b"PK\x01\x02", central + 4)
    path.write_bytes(bytes(data))


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_LIMIT, ADDRESS_LIMIT))


def run_cli(args: Iterable[str | Path], *, timeout: float = 120, stdin: int | None = subprocess.DEVNULL,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`fupin ARGS` in a child process limited to 4 GB of address space (as `ulimit -v`)."""
    full_env = {**os.environ, "COLUMNS": "200", "PYTHONIOENCODING": "utf-8", **(env or {})}
    return subprocess.run([sys.executable, "-m", "fupin_cli", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, preexec_fn=_limit, stdin=stdin, env=full_env)


def one_chinese_line(stderr: str) -> str:
    """The single line the CLI printed on stderr; asserts there is exactly one, in Chinese, without a traceback."""
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert "Traceback" not in stderr and "panicked" not in stderr, stderr
    assert len(lines) == 1, stderr
    assert re.search(r"[\u4e00-\u9fff]", lines[0]), stderr
    return lines[0]
