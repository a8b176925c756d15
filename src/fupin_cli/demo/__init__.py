"""`fupin demo`: the deterministic 百色市 dataset of SPEC §8, written as township-style workbooks.

What comes out, and why the figures come out
--------------------------------------------
The plan (data/demo_plan.toml) fixes, per county, how many workshops are certified by 2019-02 and
how many laborers, poor laborers, relocated laborers and paid laborers they have; the counties add
up to the seed report's figures (132 workshops, 13007 laborers, 2572 poor, 323 paid = 32.3万元),
and 田阳县 carries a milestone: 103 people paid in 7 workshops by the batches up to 2018-05. The
generator (generate.py) turns the plan into rows; nothing after the plan knows the totals:

- Workshops. The seed's named workshops (右江区汪甸瑶族乡美达电子厂, 百色市民胜电子设备制造有限公司,
  平果县坡造镇龙板村巾帼脱贫示范基地电子厂) with their own figures, and "{乡镇}{村}{产品}扶贫车间"
  for the rest, certified between 2017-09 and 2019-02. On top come workshops stats does not count as
  of 2019-02: two never certified (they carry the planted data mistakes) and one withdrawn.
- Laborers. Each counted workshop gets its share of the county's figures (largest-remainder
  allocation). Every poor laborer follows one wage pattern (people.py) whose outcome under the
  default policy gx-2018 is clear-cut with margin: `paid` laborers reach 6 paid months with ≥ 6600 元
  at exactly Q = S+k; the others work at most 4 months, or earn ≤ 450 元 a month, or start in the
  last 5 months of the data, so none can qualify by 2019-02 whatever the anchoring. Q is never before
  2018-01 (the policy's start), and P = max(Q, 认定月) ≤ 2019-02 for every `paid` laborer, so the
  monthly batches from 2017-09 to 2019-02 pay exactly the planned 323, once each (1000 元). A pair
  that must qualify always has an agreement type gx-2018 counts (劳务协议 / 承揽合同); a few others
  carry a 劳动合同 and show as `contract_type`.
- 田阳县. Its milestone laborers start in 2017-09…2017-12 in 7 workshops certified before 2018-05,
  so Q = S+5 ≤ 2018-05 = P; its other paid laborers are paid after 2018-05 (Q ≥ 2018-06, or a
  workshop certified later), so batches up to 2018-05 pay exactly 103 people in those 7 workshops.
- Movers. Some paid laborers later take an agreement in a second workshop of the same county and
  qualify there too, strictly after their first payout: once per person makes that pair a
  `duplicate`. Two non-poor laborers per county move as well. All are counted once.
- Extras. The withdrawn workshop's poor laborers would qualify only after its withdrawal
  (status `withdrawn`); the uncertified ones' poor laborers partly qualify (`not_certified`).
- Planted mistakes (a bad ID check digit, a 15-digit old ID, an ID Excel turned into a number, a
  missing 协议起始日期, a negative pay, a pay row for an unknown 车间编号, a misspelt name, a bad
  credit-code check digit) all sit on rows of the uncertified workshops, so they are reported by
  `check` but cannot change a counted figure, whether or not a row is excluded.

Everything is drawn from numpy Generators seeded with (seed, county position in the plan), and the
workbooks carry a fixed creation date: the same seed writes the same files.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from fupin_cli.demo.generate import DemoData, build_demo
from fupin_cli.demo.plan import Plan, load_plan
from fupin_cli.demo.workbook import write_county
from fupin_cli.errors import FupinError

__all__ = ["DemoData", "Plan", "build_demo", "demo_file_name", "load_plan", "write_demo"]


def demo_file_name(county: str) -> str:
    return f"{county}就业扶贫车间数据.xlsx"


def write_demo(folder: Path, *, seed: int = 2019, counties: Iterable[str] | None = None) -> list[Path]:
    """Write one workbook per county into `folder` (created if needed, must be empty); return their paths in plan order.

    `counties` (names as in the plan, e.g. "田阳县") limits which workbooks are written; the data are
    the same as in a full run.
    """
    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        # Real data may live there: never overwrite a same-named file (SPEC §5.1).
        raise FupinError(f"“{folder}”不是空文件夹。演示数据只写入新的或空的文件夹,以免覆盖已有的文件;"
                         "请换一个文件夹名(如 演示数据)。", code="usage.demo_not_empty")
    plan = load_plan()
    data = build_demo(seed, plan)
    wanted = None if counties is None else set(counties)
    paths = []
    for cp in plan.counties:
        if wanted is not None and cp.name not in wanted:
            continue
        path = folder / demo_file_name(cp.name)
        write_county(path, cp.name, plan.styles[cp.style],
                     data.workshops.loc[data.workshops["county"] == cp.name],
                     data.laborers.loc[data.laborers["county"] == cp.name],
                     data.wages.loc[data.wages["county"] == cp.name])
        paths.append(path)
    return paths
