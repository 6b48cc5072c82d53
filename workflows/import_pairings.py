"""A registry's pairing cadres (帮扶责任人, 帮扶责任人联系电话): each household's first pairing cadre,
matched to a person already imported (`person import`) who holds the pairing cadre's post in the
household's county, by name, the phone telling namesakes apart (an address of their notification
channels holding its digits). What the file names that is no such person, or several, or one whose
first-cadre households would pass the limit (`first_cadre_max_households`, [LOCAL]), is the row's
problem, told in words; `--skip-bad` sets such a household aside as any other bad row.

The pairing is recorded from the import's day, as a pairing step records one (workflows'
_pairing_writer), in the household's first event (`pairing`, `pairing_from`): audit verify projects
it from there (engine/reads/audit_records.py)."""
from __future__ import annotations

import re
from datetime import date

from dataclasses import dataclass, field
from typing import Callable

from sqlalchemy import func, insert, select

from engine.adapters import tables as t
from engine.adapters.app import App
from engine.domain.auth import Actor
from engine.domain.cases import StepInput
from engine.domain.errors import BadInput, Codes, JingzhunError
from engine.domain.regions import common_ancestor, covers, province_of
from engine.reads.case_lists import within

SLOT = "first"
# The stages a household has a first pairing cadre in (assisted, and through the transition: 四个不摘):
# one without is told so on its page and in `case next`, and counted by an import that registers it so
PAIRED_STAGES = frozenset({"assisted", "exited", "consolidated"})
COUNTY_DIGITS = 6
_DIGITS = re.compile(r"\D")


def _digits(phone: str | None) -> str:
    return _DIGITS.sub("", phone or "")


class Pairings:
    """The cadres an import pairs, and how many first-cadre households each holds so far (theirs in
    the database, and those planned in this import)."""

    def __init__(self, conn, params_of, actor_id: int, day: date, stages: frozenset[str]):
        self.conn, self.params_of, self.actor_id, self.day, self.stages = conn, params_of, actor_id, day, stages
        self.loads: dict[int, int] = {}        # person id -> first-cadre households (open) so far
        self.chosen: dict[int, tuple[int, str]] = {}      # id(household) -> (person id, person code)
        self.county_names: dict[str, str] = {}
        self.limited = True

    def check(self, households: list, stage_of, problem, limited: bool = True) -> None:
        """Each household's cadre (those that give one, in a stage that has one): chosen, or its problem;
        not `limited`: the first-cadre limit left to the step that pairs them (pair_households)."""
        self.limited = limited
        wanted = [h for h in households if h.pairing_cadre and (stage_of is None or stage_of(h) in self.stages)]
        if not wanted:
            return
        counties = {h.village[:COUNTY_DIGITS] for h in wanted}
        found = self._cadres({h.pairing_cadre.strip() for h in wanted}, counties)
        self.county_names = self._county_names(counties)
        for h in wanted:
            error = self._choose(h, found)
            if error is not None:
                problem(h, error)

    def _county_names(self, counties: set[str]) -> dict[str, str]:
        """Each county (its code's first six digits) -> its name, as a clerk knows it (宁都县, not 360730)."""
        r = t.regions.c
        return {code[:COUNTY_DIGITS]: name for code, name in self.conn.execute(
            select(r.code, r.name).where(r.code.in_(sorted(c + "0" * 6 for c in counties))))}

    def _cadres(self, names: set[str], counties: set[str]) -> dict[str, list[tuple]]:
        """name -> [(person id, code, post's region, channel addresses)] of the pairing cadres of those
        names holding the post in one of the counties."""
        p, ra = t.persons.c, t.role_assignments.c
        rows = self.conn.execute(select(p.id, p.code, p.name, ra.region_code).join(
            t.role_assignments, ra.person_id == p.id).where(
            p.name.in_(sorted(names)), p.active.is_(True), ra.role == "pairing_cadre", ra.revoked_at.is_(None),
            func.substr(ra.region_code, 1, COUNTY_DIGITS).in_(sorted(counties)))).all()
        addresses: dict[int, list[str]] = {}
        if rows:
            for pid, address in self.conn.execute(select(t.person_channels.c.person_id, t.person_channels.c.address)
                                                  .where(t.person_channels.c.person_id.in_({r.id for r in rows}))):
                addresses.setdefault(pid, []).append(_digits(address))
        found: dict[str, list[tuple]] = {}
        for r in rows:
            found.setdefault(r.name, []).append((r.id, r.code, r.region_code, addresses.get(r.id, [])))
        return found

    def _choose(self, h, found: dict) -> BadInput | None:
        name, phone = h.pairing_cadre.strip(), _digits(h.pairing_phone)
        county = h.village[:COUNTY_DIGITS]
        each = [c for c in found.get(name, []) if c[2].startswith(county)]
        if not each:
            return BadInput("import.pairing_unknown", name=name, county=self.county_names.get(county, county))
        if len({c[0] for c in each}) > 1 and phone:
            each = [c for c in each if any(phone in a for a in c[3])]
            if not each:
                return BadInput("import.pairing_phone_unknown", name=name, phone=h.pairing_phone.strip())
        if len({c[0] for c in each}) > 1:
            return BadInput("import.pairing_ambiguous", name=name, count=len({c[0] for c in each}),
                            persons=", ".join(sorted({c[1] for c in each})))
        over = [c for c in each if covers(c[2], h.village)]
        if not over:
            return BadInput("import.pairing_not_over", name=name, person=each[0][1], region=each[0][2],
                            village=h.village)
        pid, code = over[0][0], over[0][1]
        if self.limited and (error := self._taken(h, pid, code)) is not None:
            return error
        self.chosen[id(h)] = (pid, code)
        return None

    def _taken(self, h, pid: int, code: str) -> BadInput | None:
        """The cadre takes one more first-cadre household, within the province's `first_cadre_max_households`
        (theirs in the database and those planned so far), or the refusal, as the import tells it."""
        limit = int(self.params_of(h.village)["first_cadre_max_households"])
        load = self._load(pid)
        if load >= limit:
            return BadInput("import.pairing_capacity", name=h.pairing_cadre.strip(), person=code, count=load,
                            maximum=limit)
        self.loads[pid] = load + 1
        return None

    def within_limit(self, households: list, problem) -> None:
        """The households chosen with the limit left aside (`check(limited=False)`), in order, each cadre's
        count held to the limit now: a household past it is `problem(household, error)`."""
        for h in households:
            if (error := self._taken(h, *self.chosen[id(h)])) is not None:
                problem(h, error)

    def _load(self, pid: int) -> int:
        if pid not in self.loads:
            pr = t.pairings.c
            self.loads[pid] = self.conn.execute(select(func.count()).select_from(t.pairings).where(
                pr.person_id == pid, pr.kind == SLOT, pr.end_date.is_(None))).scalar()
        return self.loads[pid]

    def of(self, h) -> tuple[int, str] | None:
        return self.chosen.get(id(h))

    def write(self, cases: list[tuple[object, int]]) -> int:
        """The pairings of the households written (household, case id): one statement; how many."""
        rows = [{"case_id": case_id, "person_id": self.chosen[id(h)][0], "kind": SLOT, "start_date": self.day,
                 "assigned_by": self.actor_id} for h, case_id in cases if id(h) in self.chosen]
        if rows:
            self.conn.execute(insert(t.pairings), rows)
        for h, _case in cases:
            self.chosen.pop(id(h), None)
        return len(rows)


# --- pairing registered households from a list (帮扶责任人调整 by file) ------------------------------
# A county brings its households first and its pairing list later, or corrects it: each listed household
# (by its 户编号) is paired with the cadre the list names, as 调整帮扶责任人 pairs one (the pairing_change
# procedure's step, its second cadre kept), all the listed households in one list step (one batch), then
# one event naming the file. Every bad row is told at once; none is paired unless all are good
# (`keep_good`: the good ones are, the others set aside).

@dataclass
class PairingRow:
    """A row of a pairing list: its line, 户编号, 帮扶责任人 and phone, and its cells as read."""
    line: object
    household_code: str
    pairing_cadre: str
    pairing_phone: str | None
    cells: dict = field(default_factory=dict)
    village: str = ""
    case_id: int | None = None


@dataclass
class PairedResult:
    paired: list = field(default_factory=list)       # (case id, person code) paired anew
    unchanged: int = 0                               # already paired with the cadre listed
    skipped: int = 0                                 # rows set aside (keep_good)
    problems: int = 0


PROCEDURE, STEP = "pairing_change", "pairing"


def pair_households(app: App, actor: Actor, rows: list[PairingRow], keep_good: bool, source: dict,
                    on_problem: Callable, on_skipped: Callable[[PairingRow], None],
                    day=None) -> PairedResult:
    """Pair each listed household (by 户编号, in the actor's jurisdiction) with its first pairing cadre
    (by name, the phone telling namesakes apart, as the import matches them), keeping its second; a row
    whose household or cadre is not found, or that the pairing step refuses (the household's stage, the
    first-cadre limit, the actor's post), is `on_problem(line, column, error)`, where error is a
    JingzhunError or the step's reasons (a ListResult and the case). All or none unless `keep_good`."""
    from engine.services.list_steps import ListResult
    from engine.services.procedures import perform_each, perform_step
    result = PairedResult()
    bad: set[int] = set()

    def problem(row: PairingRow, column: str, error) -> None:
        if id(row) not in bad:
            bad.add(id(row))
            result.problems += 1
        on_problem(row.line, column, error)

    rows = _one_a_household(rows, problem)
    today = app.clock.today()
    sources = frozenset(app.config.workflows["household"].procedures[PROCEDURE].sources)
    with app.engine.connect() as conn:
        found = _households(conn, actor, [r.household_code for r in rows if id(r) not in bad])
        for r in rows:
            if id(r) in bad:
                continue
            if r.household_code not in found:
                problem(r, "household_code", BadInput("pair_list.unknown_household", code=r.household_code[:40]))
                continue
            r.case_id, r.village, stage = found[r.household_code]
            if stage not in sources:        # an applicant, a household removed: no pairing to change
                problem(r, "household_code", BadInput("pair_list.stage", code=r.household_code[:40],
                                                      stage=Codes("stage", (stage,))))
        listed = [r for r in rows if id(r) not in bad]
        pairings = Pairings(conn, lambda village: app.config.policy.params(province_of(village), today.year),
                            actor.person_id, today, sources)
        pairings.check(listed, None, lambda r, error: problem(r, "pairing_cadre", error), limited=False)
        listed = [r for r in listed if id(r) not in bad]
        current = _current(conn, [r.case_id for r in listed])
        wanted: dict[int, tuple[str, str | None]] = {}
        by_case: dict[int, PairingRow] = {}
        for r in listed:
            code = pairings.of(r)[1]
            first, second = current.get(r.case_id, {}).get("first"), current.get(r.case_id, {}).get("second")
            if first == code:
                result.unchanged += 1
                continue
            wanted[r.case_id] = (code, second if second != code else None)
            by_case[r.case_id] = r
        pairings.within_limit([by_case[c] for c in wanted], lambda r, error: problem(r, "pairing_cadre", error))
    wanted = {c: w for c, w in wanted.items() if id(by_case[c]) not in bad}
    if result.problems and not keep_good:
        raise BadInput("pair_list.bad_rows", file=source["file"], problems=result.problems)
    inputs = StepInput(pairings=wanted, date=day)
    if wanted and not keep_good:
        try:
            perform_step(app, actor, PROCEDURE, STEP, list(wanted), inputs)
        except JingzhunError as exc:
            refused = getattr(exc, "refused_cases", None) or {list(wanted)[0]: [exc]}
            told = ListResult(refused=refused)
            for case_id in refused:
                problem(by_case[case_id], "pairing_cadre", (told, case_id))
            raise BadInput("pair_list.bad_rows", file=source["file"], problems=result.problems) from None
        result.paired = [(c, code) for c, (code, _s) in wanted.items()]
    elif wanted:
        done, refused = perform_each(app, actor, PROCEDURE, STEP, list(wanted), inputs)
        told = ListResult(refused=refused)
        for case_id in refused:
            problem(by_case[case_id], "pairing_cadre", (told, case_id))
        result.paired = [(c, wanted[c][0]) for c in wanted if c not in refused]
    for r in rows:
        if id(r) in bad:
            result.skipped += 1
            on_skipped(r)
    if not result.paired:
        raise BadInput("pair_list.nothing_paired", file=source["file"], unchanged=result.unchanged,
                       skipped=result.skipped)
    regions = {by_case[c].village for c, _code in result.paired}
    with app.unit_of_work() as uow:
        role = next((a.role for a in actor.assignments if covers(a.region_code, common_ancestor(regions))), None)
        uow.append_org_event(actor, "pairings_imported", role, common_ancestor(regions), **source,
                             paired=len(result.paired), unchanged=result.unchanged, skipped_households=result.skipped,
                             cases=[c for c, _code in result.paired][:1000])
    return result


def _one_a_household(rows: list[PairingRow], problem) -> list[PairingRow]:
    """The list's rows, a household's rows that repeat its cadre kept once (a members list names it on
    each member's row); a row naming no household or no cadre, or another cadre than the household's
    earlier row, is its problem."""
    first: dict[str, PairingRow] = {}
    kept = []
    for r in rows:
        if not r.household_code:
            problem(r, "household_code", BadInput("pair_list.no_household"))
        elif not r.pairing_cadre:
            problem(r, "pairing_cadre", BadInput("pair_list.no_cadre", code=r.household_code[:40]))
        elif r.household_code in first:
            earlier = first[r.household_code]
            if (earlier.pairing_cadre, _digits(earlier.pairing_phone)) != (r.pairing_cadre, _digits(r.pairing_phone)):
                problem(r, "pairing_cadre", BadInput("pair_list.disagrees", line=earlier.line,
                                                     code=r.household_code[:40]))
            continue
        else:
            first[r.household_code] = r
        kept.append(r)
    return kept


def _households(conn, actor: Actor, codes: list[str]) -> dict[str, tuple[int, str, str]]:
    """户编号 -> (case id, village, stage) of the households of those codes in the actor's jurisdiction."""
    c = t.cases.c
    found: dict[str, tuple[int, str, str]] = {}
    scopes = [a.region_code for a in actor.assignments]
    for at in range(0, len(codes), 1000):
        for case_id, code, region, stage in conn.execute(select(c.id, c.external_code, c.region_code, c.stage).where(
                c.kind == "household", c.external_code.in_(codes[at:at + 1000]), within(scopes))):
            found[code] = (case_id, region, stage)
    return found


def _current(conn, case_ids: list[int]) -> dict[int, dict[str, str]]:
    """Each case's pairing cadres in force by slot (person codes)."""
    pr = t.pairings.c
    current: dict[int, dict[str, str]] = {}
    for at in range(0, len(case_ids), 1000):
        for case_id, kind, code in conn.execute(select(pr.case_id, pr.kind, t.persons.c.code).join(
                t.persons, t.persons.c.id == pr.person_id).where(
                pr.case_id.in_(case_ids[at:at + 1000]), pr.end_date.is_(None)).order_by(pr.id)):
            current.setdefault(case_id, {})[kind] = code
    return current
