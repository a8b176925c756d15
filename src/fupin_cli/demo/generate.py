"""The demo rows: from the plan (data/demo_plan.toml) to workshops, laborers and wages frames.

See the package docstring for why the figures come out; this module makes the rows.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from fupin_cli.demo import identity as idt
from fupin_cli.demo import people as pp
from fupin_cli.demo.plan import CountyPlan, Extra, Plan, load_plan
from fupin_cli.months import month_index, month_of

# gx-2018 `valid_from` (SPEC §4.1): a qualification month before 2018-01 is out of the policy period.
POLICY_FROM = month_index(2018, 1)
# Relative weights of the certification month over 2017-09 … 2019-02 (most certified in the first year).
CERT_WEIGHTS = np.array([1, 3, 4, 5, 5, 4, 4, 4, 3, 3, 3, 3, 3, 2, 2, 2, 2, 1], dtype=float)
CONTRACTS = ["劳务协议", "承揽合同", "劳动合同"]
# gx-2018 counts only 劳务协议 / 承揽合同 (SPEC §4.1): a workshop's usual agreement is one of them, and a
# pair that must qualify (paid, duplicate, withdrawn, not_certified) never gets a 劳动合同.
COUNTED = CONTRACTS[:2]
MUST_QUALIFY = frozenset({"paid", "duplicate", "withdrawn", "not_certified"})
WORKSHOP_COLUMNS = ["county", "county_code", "workshop_id", "workshop_name", "operator", "operator_type",
                    "credit_code", "township", "village", "certified", "withdrawn", "bank", "bank_account",
                    "kind", "planted"]
LABORER_COLUMNS = ["county", "id_number", "name", "workshop_id", "poor", "relocated", "contract_type", "start",
                   "end", "role", "planted"]
WAGE_COLUMNS = ["county", "id_number", "name", "workshop_id", "month", "pay", "days", "planted"]


@dataclass
class DemoData:
    """The rows to write. `id_number` is the value written (a float for the planted lost-digits ID);
    `kind` is counted / uncertified / withdrawn; `role` says which wage pattern a pair follows;
    `planted` names the data mistake a row carries ("" for clean rows)."""

    workshops: pd.DataFrame
    laborers: pd.DataFrame
    wages: pd.DataFrame


def allocate(total: int, weights: np.ndarray, floors: np.ndarray, caps: np.ndarray) -> np.ndarray:
    """Split `total` into integers ≥ floors and ≤ caps, in proportion to weights (largest remainder)."""
    out = np.asarray(floors, dtype=np.int64).copy()
    caps = np.asarray(caps, dtype=np.int64)
    if out.sum() > total or caps.sum() < total or (out > caps).any():
        raise ValueError(f"cannot allocate {total} within floors {out.sum()} / caps {caps.sum()}")
    rest = total - int(out.sum())
    w = np.asarray(weights, dtype=float)
    while rest > 0:
        room = caps - out
        ww = np.where(room > 0, w, 0.0)
        if ww.sum() <= 0:
            ww = (room > 0).astype(float)
        share = ww / ww.sum() * rest
        add = np.minimum(np.floor(share).astype(np.int64), room)
        if add.sum() == 0:
            add[int(np.argmax(np.where(room > 0, share, -1.0)))] = 1
        out += add
        rest -= int(add.sum())
    return out


def _day(month: int, day: int) -> date:
    y, m = divmod(month, 12)
    return date(y, m + 1, day)


def _month_end(month: int) -> date:
    y, m = divmod(month, 12)
    return date(y, m + 1, calendar.monthrange(y, m + 1)[1])


@dataclass
class _Workshop:
    name: str
    operator: str
    operator_type: str
    township: str
    village: str
    product: str
    certified: date | None
    withdrawn: date | None = None
    opened: int = 0  # first month laborers may start
    contract: str = "劳务协议"
    pay: tuple[int, int] = (1100, 2200)
    kind: str = "counted"
    early: bool = False  # holds the milestone's payouts
    employed: int = 0
    poor: int = 0
    relocated: int = 0
    paid_early: int = 0
    paid_late: int = 0
    extra: Extra | None = None

    @property
    def cert_month(self) -> int | None:
        return None if self.certified is None else month_of(self.certified)


class _CountyGen:
    def __init__(self, plan: Plan, cp: CountyPlan, rng: np.random.Generator, ids: idt.IdFactory) -> None:
        self.plan, self.cp, self.rng, self.ids = plan, cp, rng, ids
        self.first, self.last = plan.targets.first, plan.targets.last
        self.milestone = plan.milestone(cp.name)
        self.other_codes = sorted({c.id_code for c in plan.counties} - {cp.id_code})
        self.workshops: list[_Workshop] = []
        self.persons: list[dict] = []  # id_number, name, poor, relocated
        self.pairs: list[pp.Pair] = []
        self.bad_credit: int | None = None  # workshop whose credit code gets a wrong check character

    # -- workshops -------------------------------------------------------------------------------
    def make_workshops(self) -> None:
        rng, cp = self.rng, self.cp
        for n in cp.named:
            cm = month_of(n.certified)
            self.workshops.append(_Workshop(
                name=n.name, operator=n.operator, operator_type=n.operator_type, township=n.township,
                village=n.village, product=n.product, certified=n.certified, opened=max(self.first, cm - 2),
                contract=n.contract, pay=n.pay, employed=n.employed, poor=n.poor, relocated=n.relocated,
                paid_late=n.paid))
        n_gen = cp.workshops - len(cp.named)
        early = set()
        if self.milestone is not None:
            early = set(rng.choice(n_gen, self.milestone.workshops, replace=False).tolist())
        townships = [cp.townships[i] for i in rng.permutation(len(cp.townships))]
        generated, villages = [], set()
        for i in range(n_gen):
            township = townships[i % len(townships)]
            village = idt.village(rng)
            while (township, village) in villages:
                village = idt.village(rng)
            villages.add((township, village))
            product = idt.PRODUCTS[int(rng.integers(0, len(idt.PRODUCTS)))]
            if i in early:
                # Certified, with laborers started, in time for the milestone's batches.
                cm = int(rng.integers(self.first + 1, self.milestone.month_idx))
                opened = max(self.first, min(cm, self.milestone.month_idx - 6) - int(rng.integers(0, 3)))
            else:
                cm = self.first + int(rng.choice(len(CERT_WEIGHTS), p=CERT_WEIGHTS / CERT_WEIGHTS.sum()))
                opened = min(max(self.first, cm - int(rng.integers(0, 7))), self.last - 8)
            otype = idt.OPERATOR_TYPES[int(rng.choice(3, p=[0.45, 0.35, 0.2]))]
            generated.append(_Workshop(
                name=f"{township}{village}{product}扶贫车间",
                operator=idt.operator_name(rng, otype, cp.name, township, village, product),
                operator_type=otype, township=township, village=village, product=product,
                certified=_day(cm, int(rng.integers(1, 29))), opened=opened,
                contract=COUNTED[int(rng.choice(2, p=[0.7, 0.3]))], early=i in early))
        # The registry lists workshops in the order they were certified.
        generated.sort(key=lambda w: (w.certified, w.name))
        self.workshops += generated
        for e in cp.extra:
            otype = "企业" if e.mistakes else "农民专业合作社"
            cm = None if e.certified is None else month_of(e.certified)
            self.workshops.append(_Workshop(
                name=f"{e.township}{e.village}{e.product}扶贫车间",
                operator=idt.operator_name(rng, otype, cp.name, e.township, e.village, e.product),
                operator_type=otype, township=e.township, village=e.village, product=e.product,
                certified=e.certified, withdrawn=e.withdrawn, kind=e.kind, extra=e, employed=e.laborers,
                poor=e.poor, opened=max(self.first, (cm or self.first + 3) - 1)))

    def allocate_people(self) -> None:
        rng, cp = self.rng, self.cp
        gen = [w for w in self.workshops if w.kind == "counted" and w.employed == 0]
        named = [w for w in self.workshops if w.kind == "counted" and w.employed > 0]
        n = len(gen)
        paid_rest = cp.paid - sum(w.paid_late for w in named)
        early = np.zeros(n, dtype=np.int64)
        if self.milestone is not None:
            is_early = np.array([w.early for w in gen])
            early[is_early] = allocate(self.milestone.paid, rng.gamma(3.0, 1.0, is_early.sum()),
                                       np.full(is_early.sum(), 5), np.full(is_early.sum(), 10**6))
            paid_rest -= self.milestone.paid
        # Not every workshop has paid anyone yet; the rest share the county's payouts.
        w_paid = rng.gamma(1.5, 1.0, n) * (rng.random(n) < 0.75)
        late = allocate(paid_rest, w_paid, np.zeros(n), np.full(n, 10**6))
        paid = early + late
        poor = allocate(cp.poor - sum(w.poor for w in named), rng.gamma(2.0, 1.0, n),
                        np.ceil(paid * 1.3).astype(np.int64) + 2, np.full(n, 10**6))
        employed = allocate(cp.employed - sum(w.employed for w in named), rng.gamma(2.0, 1.0, n),
                            np.maximum(30, np.ceil(poor / 0.6)).astype(np.int64), np.full(n, 10**6))
        relocated = allocate(cp.relocated - sum(w.relocated for w in named), poor.astype(float),
                             np.zeros(n), poor)
        for i, w in enumerate(gen):
            w.paid_early, w.paid_late = int(early[i]), int(late[i])
            w.poor, w.employed, w.relocated = int(poor[i]), int(employed[i]), int(relocated[i])

    # -- laborers --------------------------------------------------------------------------------
    def new_person(self, poor: bool, relocated: bool = False) -> int:
        code = self.cp.id_code if self.rng.random() < 0.93 else self.other_codes[
            int(self.rng.integers(0, len(self.other_codes)))]
        number, male = self.ids.new(self.rng, code)
        self.persons.append({"id_number": number, "name": idt.person_name(self.rng, male), "poor": poor,
                             "relocated": relocated})
        return len(self.persons) - 1

    def start_in(self, lo: int, hi: int) -> int:
        return int(self.rng.integers(lo, max(lo, hi) + 1))

    def qualifying_pair(self, person: int, wi: int, lo: int, hi: int, role: str, k: int | None = None) -> pp.Pair:
        rng, w = self.rng, self.workshops[wi]
        if k is None:
            k = int(rng.choice([5, 6, 7], p=[0.6, 0.25, 0.15]))
        start = self.start_in(max(lo, POLICY_FROM - 5), hi - (k - 5))
        months, pays, q = pp.qualifying(rng, start, k, w.pay, self.last, int(rng.integers(0, 10)))
        return pp.Pair(person, wi, role, start, int(rng.integers(1, 29)), months=months, pays=pays, qualified=q)

    def other_pair(self, person: int, wi: int, role: str) -> pp.Pair:
        rng, w, last = self.rng, self.workshops[wi], self.last
        if role == "few":
            start = self.start_in(w.opened, last)
            months, pays = pp.few(rng, start, w.pay, last)
        elif role == "low":
            start = self.start_in(w.opened, last)
            months, pays = pp.low(rng, start, last)
        elif role == "recent":
            start = self.start_in(max(w.opened, last - 4), last)
            months, pays = pp.recent(rng, start, w.pay, last)
        else:
            start = self.start_in(w.opened, last)
            months, pays = pp.ordinary(rng, start, last)
        end = None
        if len(months) and months[-1] < last and rng.random() < 0.4:
            end = int(months[-1])
        return pp.Pair(person, wi, role, start, int(rng.integers(1, 29)), end=end, months=months, pays=pays)

    def make_pairs(self) -> None:
        rng, last = self.rng, self.last
        # Paid slots that will move on (make_movers): paid early enough to qualify again before the end.
        slots = [(wi, j) for wi, w in enumerate(self.workshops)
                 if w.kind == "counted" and w.cert_month <= last - 2 for j in range(w.paid_early + w.paid_late)]
        movers = {slots[i] for i in rng.choice(len(slots), self.cp.movers, replace=False)}
        for wi, _ in movers:  # such a workshop has been running for a year by the end of the data
            self.workshops[wi].opened = min(self.workshops[wi].opened, last - 13)
        self.movers: list[pp.Pair] = []
        for wi, w in enumerate(self.workshops):
            if w.kind != "counted":
                continue
            n_paid = w.paid_early + w.paid_late
            roles = ["few", "low", "recent"] if w.pay[0] < 1500 else ["few", "recent"]
            probs = [0.45, 0.35, 0.2] if len(roles) == 3 else [0.7, 0.3]
            unpaid = [roles[i] for i in rng.choice(len(roles), w.poor - n_paid, p=probs)]
            relocated = set(rng.choice(w.poor, w.relocated, replace=False).tolist())
            for j in range(w.poor):
                person = self.new_person(True, j in relocated)
                if j < w.paid_early:
                    # Milestone payouts: Q = S+5 ≤ milestone month, workshop certified before it.
                    pair = self.qualifying_pair(person, wi, w.opened, self.milestone.month_idx - 5, "paid", k=5)
                elif j < n_paid:
                    lo = w.opened
                    if self.milestone is not None and w.cert_month <= self.milestone.month_idx:
                        lo = max(lo, self.milestone.month_idx + 1 - 5)  # paid after the milestone
                    if (wi, j) in movers:
                        pair = self.qualifying_pair(person, wi, lo, last - 12, "paid", k=5)
                    else:
                        pair = self.qualifying_pair(person, wi, lo, last - 5, "paid")
                else:
                    pair = self.other_pair(person, wi, unpaid[j - n_paid])
                if (wi, j) in movers:
                    self.movers.append(pair)
                self.pairs.append(pair)
            for _ in range(w.employed - w.poor):
                self.pairs.append(self.other_pair(self.new_person(False), wi, "ordinary"))

    def make_movers(self) -> None:
        """Paid laborers who then qualify again in another workshop: that pair is a duplicate."""
        rng, last = self.rng, self.last
        counted = [i for i, w in enumerate(self.workshops) if w.kind == "counted"]
        for p in self.movers:
            # The second window starts after the first Q and ends (Q' = start+5) after the first payout.
            lo = max(p.qualified + 1, max(p.qualified, self.workshops[p.workshop].cert_month) - 4)
            assert lo <= last - 6
            wi = int(rng.choice([i for i in counted if i != p.workshop]))
            start = self.start_in(lo, last - 6)
            p.truncate(start - 1)
            months, pays, q = pp.qualifying(rng, start, 5, (1200, 2200), last, int(rng.integers(0, 6)))
            self.pairs.append(pp.Pair(p.person, wi, "duplicate", start, 1, months=months, pays=pays, qualified=q))
        # Non-poor laborers move too (counted once per county all the same).
        ordinary = [p for p in self.pairs if p.role == "ordinary" and p.start <= last - 6 and p.end is None]
        for p in [ordinary[i] for i in sorted(rng.choice(len(ordinary), 2, replace=False))]:
            wi = int(rng.choice([i for i in counted if i != p.workshop]))
            p.truncate(p.start + 2)
            months, pays = pp.ordinary(rng, p.start + 3, last)
            self.pairs.append(pp.Pair(p.person, wi, "ordinary", p.start + 3, 1, months=months, pays=pays))

    def make_extras(self) -> None:
        last = self.last
        for wi, w in enumerate(self.workshops):
            if w.kind == "counted":
                continue
            for j in range(w.employed):
                person = self.new_person(j < w.poor)
                if j < w.poor and w.kind == "withdrawn":
                    # Would qualify only after the withdrawal (Q ≥ its month + 1): status withdrawn.
                    wm = month_of(w.withdrawn)
                    self.pairs.append(self.qualifying_pair(person, wi, wm - 4, wm - 2, "withdrawn", k=5))
                elif j < w.poor and j % 2 == 0:
                    self.pairs.append(self.qualifying_pair(person, wi, w.opened, last - 5, "not_certified"))
                else:
                    self.pairs.append(self.other_pair(person, wi, "few" if j < w.poor else "ordinary"))
            if w.extra is not None and w.extra.mistakes:
                self.plant(wi, w.extra.mistakes)

    def plant(self, wi: int, mistakes: list[str]) -> None:
        """Rows that `check` reports; all in a workshop stats and payouts never count."""
        rng = self.rng
        mine = [p for p in self.pairs if p.workshop == wi and len(p.months)]
        for code in mistakes:
            if code in ("id.checksum", "id.converted_15", "id.lost_digits", "required.missing", "money.negative"):
                person = self.new_person(False)
                pair = self.other_pair(person, wi, "ordinary")
                pair.planted = code
                if code == "id.checksum":
                    self.persons[person]["id_number"] = idt.bad_check(self.persons[person]["id_number"])
                elif code == "id.converted_15":  # issued before 1999 to someone born long before
                    number = self.ids.new(rng, self.cp.id_code, born_from=1958, born_to=1975)[0]
                    self.persons[person]["id_number"] = idt.old_id(number)
                elif code == "id.lost_digits":
                    # What Excel keeps of an ID typed into a number cell (last digit made a digit, never X).
                    self.persons[person]["id_number"] = float(self.persons[person]["id_number"][:17] + "1")
                    pair.months, pair.pays = pair.months[:0], pair.pays[:0]
                elif code == "required.missing":
                    pair.start_day = 0  # written empty
                    pair.months, pair.pays = pair.months[:0], pair.pays[:0]
                else:
                    pair.start, pair.end = self.last - 8, None
                    pair.months = np.arange(self.last - 8, self.last - 2)
                    pair.pays = np.append(pp.money(rng, 1500, 2500, 5), -500.0)
                self.pairs.append(pair)
            elif code == "ref.unknown_workshop":
                p = mine[0]
                self.pairs.append(pp.Pair(p.person, -1, "planted", p.start, 1, months=p.months[:1],
                                          pays=p.pays[:1], planted=code))
            elif code == "name.mismatch":
                mine[1].planted = code
            elif code == "credit_code.checksum":
                self.bad_credit = wi

    # -- frames ----------------------------------------------------------------------------------
    def frames(self) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        rng, cp = self.rng, self.cp
        ids = [f"{cp.abbr}{i + 1:03d}" for i in range(len(self.workshops))]
        ws_rows = []
        for i, w in enumerate(self.workshops):
            code = idt.credit_code(rng, cp.code, w.operator_type)
            planted = ""
            if self.bad_credit == i:
                code, planted = idt.bad_credit_check(code), "credit_code.checksum"
            bank, account = idt.bank(rng, idt.county_short(cp.name))
            ws_rows.append([cp.name, cp.code, ids[i], w.name, w.operator, w.operator_type, code, w.township,
                            w.village, w.certified, w.withdrawn, bank, account, w.kind, planted])
        lab_rows: list[list] = []
        w_idx: list[int] = []  # per wage row: index of its pair in `order`
        w_names: list[str] = []
        w_planted: list[str] = []
        # Each workshop's laborers together in the order they joined (a mover under the new workshop).
        order = sorted(self.pairs, key=lambda p: (p.workshop if p.workshop >= 0 else len(ids), p.start, p.start_day))
        for k, p in enumerate(order):
            person = self.persons[p.person]
            if p.workshop >= 0:
                w = self.workshops[p.workshop]
                # A few laborers sign another agreement than the workshop's usual one (劳动合同 only
                # where the pair could not qualify anyway: it then shows as status contract_type).
                kinds = COUNTED if p.role in MUST_QUALIFY else CONTRACTS
                contract = w.contract if rng.random() < 0.9 else kinds[int(rng.integers(0, len(kinds)))]
                start = None if p.start_day == 0 else _day(p.start, p.start_day)
                end = None if p.end is None else _month_end(p.end)
                lab_rows.append([cp.name, person["id_number"], person["name"], ids[p.workshop], person["poor"],
                                 person["relocated"], contract, start, end, p.role, p.planted])
            n = len(p.months)
            name = person["name"]
            names, planted = [name] * n, [p.planted] * n
            if n and p.planted == "name.mismatch":  # one payroll row misspells the name
                names[0] = name[:-1] + ("华" if name[-1] != "华" else "花")
                planted[1:] = [""] * (n - 1)
            elif p.planted == "money.negative":
                planted = ["money.negative" if x < 0 else "" for x in p.pays]
            w_idx += [k] * n
            w_names += names
            w_planted += planted
        take = np.asarray(w_idx, dtype=np.int64)
        pair_ids = np.array([self.persons[p.person]["id_number"] for p in order], dtype=object)
        pair_ws = np.array([ids[p.workshop] if p.workshop >= 0 else f"{cp.abbr}099" for p in order], dtype=object)
        pays = np.concatenate([p.pays for p in order]).astype(float)
        wages = pd.DataFrame({
            "county": cp.name, "id_number": pair_ids[take], "name": w_names, "workshop_id": pair_ws[take],
            "month": np.concatenate([p.months for p in order]).astype(np.int64), "pay": pays,
            "days": np.where(pays > 0, rng.integers(10, 27, len(pays)), 0), "planted": w_planted})
        workshops = pd.DataFrame(ws_rows, columns=WORKSHOP_COLUMNS)
        laborers = pd.DataFrame(lab_rows, columns=LABORER_COLUMNS)
        return workshops, laborers, wages[WAGE_COLUMNS]


def build_demo(seed: int = 2019, plan: Plan | None = None) -> DemoData:
    """Every row of the demo dataset, deterministic for a seed (counties in plan order)."""
    plan = plan or load_plan()
    problems = plan.problems()
    if problems:
        raise ValueError("demo plan does not add up: " + "; ".join(problems))
    ids = idt.IdFactory()
    parts: list[tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]] = []
    for ci, cp in enumerate(plan.counties):
        gen = _CountyGen(plan, cp, np.random.default_rng([seed, ci]), ids)
        gen.make_workshops()
        gen.allocate_people()
        gen.make_pairs()
        gen.make_movers()
        gen.make_extras()
        parts.append(gen.frames())
    workshops, laborers, wages = (pd.concat([p[i] for p in parts], ignore_index=True) for i in range(3))
    return DemoData(workshops=workshops, laborers=laborers, wages=wages)
