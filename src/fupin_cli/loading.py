"""Loading the inputs once for every command: read → normalise/validate → Dataset; the default month."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

from fupin_cli import cache
from fupin_cli.dataset import Dataset
from fupin_cli.errors import FupinError
from fupin_cli.months import format_month, month_of
from fupin_cli.region import Region
from fupin_cli.sources import discover, read_sources
from fupin_cli.validate import validate

Progress = Callable[[str, int, int], None]


def load_dataset(paths: Sequence[str | Path], *, region: Region, progress: Progress | None = None) -> Dataset:
    """Read every file (never modifying it), normalise and validate; data problems are returned, not raised."""
    if not paths:
        raise FupinError("请至少给出一个输入文件或文件夹,例如:fupin check 数据.xlsx", code="usage.no_input")
    # unchanged inputs come from the cache of validated datasets (when the CLI turned it on)
    return cache.cached(discover(list(paths)), region, lambda: _read_and_validate(paths, region, progress))


def _read_and_validate(paths: Sequence[str | Path], region: Region, progress: Progress | None) -> Dataset:
    # validation consumes the raw frames (frees each once it is done with it): memory at national scale
    if progress is None:
        return validate(read_sources(list(paths), store=cache.file_parts()), region, consume=True)

    def reading(label: str, done: int, total: int) -> None:
        progress(f"读取 {label}", done - 1, total)  # sources reports a sheet as it starts reading it

    raw = read_sources(list(paths), progress=reading, store=cache.file_parts())
    n = len(raw.sheets)
    progress("检查数据", n, n)
    return validate(raw, region, consume=True)


def default_month(ds: Dataset, today: date | None = None) -> int:
    """The last complete month present in the data: the latest wage month before the current month."""
    current = month_of(today or date.today())
    months = ds.wages["month"]
    months = months[months < current]
    if months.empty:
        raise FupinError("工资表中没有本月以前的月份,无法确定核算月份,请用 --month 指定(如 --month 2019-05)",
                         code="usage.month")
    return int(months.max())


def describe_month(month: int, defaulted: bool) -> str:
    return f"核算月份:{format_month(month)}" + ("(未指定 --month,取数据中最后一个完整月份)" if defaulted else "")
