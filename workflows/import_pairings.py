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

from sqlalchemy import func, insert, select

from engine.adapters import tables as t
from engine.domain.errors import BadInput
from engine.domain.regions import covers

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

    def check(self, households: list, stage_of, problem) -> None:
        """Each household's cadre (those that give one, in a stage that has one): chosen, or its problem."""
        wanted = [h for h in households if h.pairing_cadre and stage_of(h) in self.stages]
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
        limit = int(self.params_of(h.village)["first_cadre_max_households"])
        load = self._load(pid)
        if load >= limit:
            return BadInput("import.pairing_capacity", name=name, person=code, count=load, maximum=limit)
        self.loads[pid] = load + 1
        self.chosen[id(h)] = (pid, code)
        return None

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
