"""Sample checks (抽查, DOMAIN §8): a reproducible random draw of exited households for evaluators,
and the findings they record against the drawn households.

The same seed over the same data draws the same households: the candidates are the exited
households of the region in id order, shuffled by `random.Random(seed)`; a draw checking a year's
exits draws from the households that exited in it, those imported as exited that year included
(engine/reads/exits.py). A draw and each finding are audit events. A wrong exit (错退) opens a
problem item that reopens the household (engine/services/problems.py, the problem kind's rules), its
source the draw's (a third-party evaluator's draw: 第三方评估; a poverty office's: 考核), naming who found
it; a third-party evaluator's is registered by the system as the consequence of their finding.
"""
from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, literal_column, select, true

from engine.adapters import tables as t
from engine.adapters.app import App
from engine.adapters.repository import load_cases
from engine.domain.auth import Actor
from engine.domain.errors import BadInput, Codes, Msg, NotFound, RuleViolation
from engine.domain.exit_years import EXITED_STAGES
from engine.domain.regions import check_code
from engine.reads.exits import ExitYear, exited_in
from engine.reads.case_lists import region_range
from engine.services.case_actions import append_case_event
from engine.services.org import require_reader, require_role
from engine.services.problems import FoundBy, ProblemInput, register_problem

# Who draws and records: the county and city poverty offices, and third-party evaluators.
SAMPLER_ROLES = ("county_office_director", "county_office_staff", "city_office_staff", "evaluator")
FINDINGS = {"confirmed": "核实无误", "wrong_exit": "错退", "missed": "漏评", "approving": "认可",
            "not_approving": "不认可"}
# One answer per household and topic: the exit's verdict, the survey's answer. Missed persons add up.
TOPICS = {"confirmed": "verdict", "wrong_exit": "verdict", "approving": "survey", "not_approving": "survey"}
DEFAULT_SIZE_MAX = 1000

# The problem item's source (问题来源) by the post the draw was made in: a third-party evaluator's sample
# check is a third-party evaluation's (第三方评估); a county or city poverty office's, the assessment's (考核).
SOURCE_BY_DRAWER = {"evaluator": "third_party_evaluation"}
DEFAULT_SOURCE = "assessment"

_MEMBERS = select(func.count()).select_from(t.household_members).where(
    t.household_members.c.active == true())


@dataclass(frozen=True)
class Finding:
    draw_id: int
    case_id: int
    finding: str
    note: str | None = None
    persons: int | None = None       # missed: how many unregistered poor persons were found
    evidence: Path | None = None


# --- the draw ------------------------------------------------------------------------------------

def candidates(conn, region: str, year: ExitYear | None = None) -> list[int]:
    """The exited households of `region`, in id order (what a seed shuffles); with `year`, those that
    exited in it, as the assessment report counts a year's exits (an exit procedure completed in it,
    or imported as exited with that year noted): the assessment of a year checks that year's exits."""
    q = select(t.cases.c.id).where(t.cases.c.kind == "household", t.cases.c.stage.in_(EXITED_STAGES))
    if year is not None:
        q = q.where(exited_in(year))
    rng = region_range(region)
    return list(conn.execute((q if rng is None else q.where(rng)).order_by(t.cases.c.id)).scalars())


def choose(ids: list[int], size: int, seed: str) -> list[int]:
    """`size` of `ids` (all when fewer), chosen by `seed` alone."""
    return random.Random(f"jingzhun-sample:{seed}").sample(ids, min(size, len(ids)))


def _checked_size(app: App, size: int) -> int:
    most = int(app.config.policy.data.assessment.get("sample_size_max", DEFAULT_SIZE_MAX))
    if not 1 <= size <= most:
        raise BadInput("sample.bad_size", size=size, most=most)
    return size


def draw(app: App, actor: Actor, region: str, size: int, seed: str | int, period: int | None = None) -> dict[str, Any]:
    """Draw and keep a sample of the region's exited households, for the assessment of `period` (the
    year whose exits it checks; default this year); returns the draw."""
    period = app.clock.today().year if period is None else period
    if not 1949 <= period <= app.clock.today().year:
        raise BadInput("sample.bad_period", period=period)
    check_code(region)
    assignment = require_role(app, actor, SAMPLER_ROLES, region, "sample draw")
    size, seed = _checked_size(app, size), str(seed).strip()
    if not seed:
        raise BadInput("sample.no_seed")
    with app.unit_of_work() as uow:
        if uow.conn.execute(select(t.regions.c.code).where(t.regions.c.code == region)).first() is None:
            raise BadInput("region.unknown", code=region)
        ids = candidates(uow.conn, region, ExitYear.of(app.config, period))
        if not ids:
            raise RuleViolation("sample.none_exited", region=region, period=period)
        chosen, now = choose(ids, size, seed), app.clock.now()
        row = {"region_code": region, "size": size, "seed": seed, "population": len(ids), "case_ids": chosen,
               "drawn_by": actor.person_id, "drawn_at": now, "period": period}
        draw_id = uow.conn.execute(insert(t.sample_draws), row).inserted_primary_key[0]
        uow.append_org_event(actor, "sample_drawn", assignment.role, region, draw_id=draw_id, seed=seed,
                             size=size, population=len(ids), cases=chosen, period=period)
    return {"id": draw_id, **row, "drawn_by": actor.code}


# --- findings ------------------------------------------------------------------------------------

def _draw_row(conn, draw_id: int):
    row = conn.execute(select(t.sample_draws).where(t.sample_draws.c.id == draw_id)).first()
    if row is None:
        raise NotFound("sample.unknown_draw", draw=draw_id)
    return row


def _checked_finding(item: Finding) -> str:
    found = next((code for code, zh in FINDINGS.items() if item.finding in (code, zh)), None)
    if found is None:
        raise BadInput("sample.bad_finding", finding=item.finding, known=Codes("sample_finding", tuple(FINDINGS)))
    if found == "missed" and not (item.persons and item.persons > 0):
        raise BadInput("sample.missed_needs_persons")
    return found


def _check_not_recorded(conn, item: Finding, finding: str) -> None:
    topic = TOPICS.get(finding)
    if topic is None:
        return
    same = [f for f, tp in TOPICS.items() if tp == topic]
    f = t.sample_findings.c
    if conn.execute(select(f.id).where(f.draw_id == item.draw_id, f.case_id == item.case_id,
                                       f.finding.in_(same))).first() is not None:
        raise RuleViolation("sample.already_recorded", case=item.case_id, draw=item.draw_id)


def _prepare(app: App, actor: Actor, item: Finding) -> tuple[str, Any, Any]:
    """Everything checked before anything is written: the finding, the draw, the assignment."""
    finding = _checked_finding(item)
    with app.engine.connect() as conn:
        row = _draw_row(conn, item.draw_id)
        assignment = require_role(app, actor, SAMPLER_ROLES, row.region_code, "sample record")
        if item.case_id not in row.case_ids:
            raise BadInput("sample.case_not_drawn", case=item.case_id, draw=item.draw_id)
        _check_not_recorded(conn, item, finding)
    return finding, row, assignment


def record_finding(app: App, actor: Actor, item: Finding) -> int:
    """Record what an evaluator found on a drawn household; returns the finding's id. A wrong exit
    first opens a problem item (wrong_exit_problem), which puts the household back to `assisted`."""
    finding, row, assignment = _prepare(app, actor, item)
    source = draw_source(app, row) if finding == "wrong_exit" else None
    new_files: list[str] = []
    try:
        file_sha = _store(app, item.evidence, new_files)
        with app.unit_of_work() as uow:      # the problem item and the finding's row: both, or neither
            busy = _open_procedure(uow.conn, item.case_id) if finding == "wrong_exit" else None
            if busy is not None:      # held to whom may register its problem item, as one registered now is
                app.rules["problem"].registrar(app, actor, row.region_code, finding, FoundBy(assignment, row.id))
            # a household with a procedure under way (its village's own 错退纠正, a monitoring…) is not
            # reopened now: the finding is recorded (the rates count it), and the wrong-exit problem item
            # registered for the household next (the correction's when it completes, or the county office's
            # `problem add`) is this finding's too (workflows/problem.py)
            problem_id = wrong_exit_problem(app, actor, assignment, row, item, source, uow.conn) \
                if finding == "wrong_exit" and busy is None else None
            return _write_finding(app, uow.conn, actor, assignment, item, finding, file_sha, problem_id, busy)
    except BaseException:
        app.evidence.discard(new_files)
        raise


def wrong_exit_problem(app: App, actor: Actor, assignment, draw_row, item: Finding, source: str, conn) -> int:
    """The problem item a wrong exit found on a drawn household opens, in the finding's transaction
    (`conn`): its source the draw's (draw_source), its description the engine's words (_problem_text),
    the finder named on it."""
    problem = ProblemInput(draw_row.region_code, source, _problem_text(item), app.clock.today(),
                           "wrong_exit", [item.case_id])
    return register_problem(app, actor, problem, FoundBy(assignment, draw_row.id), conn)


_DRAWN = select(t.audit_events.c.role, t.audit_events.c.detail).where(
    t.audit_events.c.case_id.is_(None), t.audit_events.c.action == "sample_drawn")


def draw_source(app: App, draw_row) -> str:
    """Whose sample check a draw was, as a problem item's source: the post its drawing event was
    recorded in (a third-party evaluator's: third_party_evaluation), read through the organisation
    events' (action, region) index; a county or city office's, or one not found, the assessment's."""
    with app.engine.connect() as conn:
        for role, detail in conn.execute(_DRAWN.where(t.audit_events.c.region_code == draw_row.region_code)):
            detail = json.loads(detail) if isinstance(detail, str) else detail or {}
            if detail.get("draw_id") == draw_row.id:
                return SOURCE_BY_DRAWER.get(role, DEFAULT_SOURCE)
    return DEFAULT_SOURCE


def _store(app: App, path: Path | None, new_files: list[str]) -> str | None:
    if path is None:
        return None
    sha, created = app.evidence.put(Path(path))
    if created:
        new_files.append(sha)
    return sha


def _problem_text(item: Finding) -> Msg:
    """What a problem item a finding opens is called (抽查 #3 错退：…, sample check #3: wrong exit: …): the
    draw, the finding and the evaluator's note as typed, kept as a message said in each reader's language."""
    note = (item.note or "").strip()
    params = {"draw": item.draw_id, "sample_finding": "wrong_exit"}
    return Msg("problem_title.sample_check_noted", {**params, "note": note}) if note else \
        Msg("problem_title.sample_check", params)


def _open_procedure(conn, case_id: int) -> tuple[int, str] | None:
    """The procedure under way on a household still exited, if any: (its id, its kind). One no longer exited
    (back under assistance by a 返贫 reopening, removed) is not reopened by its wrong-exit problem item, which
    is registered at once whatever is under way."""
    found = conn.execute(select(t.procedures.c.id, t.procedures.c.kind).join(
        t.cases, t.cases.c.id == t.procedures.c.case_id).where(
        t.procedures.c.case_id == case_id, t.procedures.c.status == "open", t.cases.c.stage.in_(EXITED_STAGES))).first()
    return (found.id, found.kind) if found is not None else None


def _write_finding(app: App, conn, actor: Actor, assignment, item: Finding, finding: str, file_sha: str | None,
                   problem_id: int | None, busy: tuple[int, str] | None = None) -> int:
    """The finding's row and its event, in the transaction on `conn` (its problem item's, if any);
    `busy`: the household's procedure under way, after which its wrong exit's problem item is registered."""
    case = load_cases(conn, [item.case_id])[item.case_id]
    persons = item.persons if finding == "missed" else conn.execute(
        _MEMBERS.where(t.household_members.c.case_id == case.id)).scalar()
    row = {"draw_id": item.draw_id, "case_id": case.id, "region_code": case.region_code, "finding": finding,
           "persons": int(persons or 0), "note": (item.note or "").strip() or None, "file_sha256": file_sha,
           "problem_id": problem_id, "recorded_by": actor.person_id, "recorded_at": app.clock.now()}
    finding_id = conn.execute(insert(t.sample_findings), row).inserted_primary_key[0]
    append_case_event(app, conn, actor, case, "sample_finding", assignment.role, reason=row["note"],
                      draw_id=item.draw_id, finding_id=finding_id, finding=finding, persons=row["persons"],
                      problem_id=problem_id, file_sha256=file_sha,
                      **({"awaits_procedure": busy[0], "awaits_kind": busy[1]} if busy else {}))
    return finding_id


# --- reading a draw ------------------------------------------------------------------------------

def draws_samples(actor: Actor) -> bool:
    """Holds a post that draws samples and records findings (SAMPLER_ROLES): reads the draws' pages as the
    inspectors' readers do, over its own regions (`show`, `recent_draws`)."""
    return any(a.role in SAMPLER_ROLES for a in actor.assignments)


def records_on(actor: Actor, region: str) -> bool:
    """May record findings on a draw of `region` (a SAMPLER_ROLES post over it): its page offers the form
    to them alone (an inspector reads it); `record_finding` checks it again, with a wrong exit's own rule."""
    from engine.domain.regions import covers
    return any(a.role in SAMPLER_ROLES and covers(a.region_code, region) for a in actor.assignments)


def show(app: App, actor: Actor, draw_id: int) -> dict[str, Any]:
    """A draw with its households (in draw order) and the findings recorded on each."""
    with app.engine.connect() as conn:
        row = _draw_row(conn, draw_id)
        require_reader(app, actor, row.region_code)
        cases = {r.id: r for r in conn.execute(select(t.cases.c.id, t.cases.c.title, t.cases.c.region_code,
                                                      t.cases.c.stage).where(t.cases.c.id.in_(row.case_ids)))}
        findings = conn.execute(select(t.sample_findings).where(t.sample_findings.c.draw_id == draw_id)
                                .order_by(t.sample_findings.c.id)).all()
        drawer = conn.execute(select(t.persons.c.code, t.persons.c.name).where(t.persons.c.id == row.drawn_by)).first()
        # a wrong exit whose problem item is not registered yet: the procedure under way it awaits, if any
        # (a household no longer exited awaits no procedure: its item does not reopen it, see _open_procedure)
        waiting = [f.case_id for f in findings if f.finding == "wrong_exit" and f.problem_id is None]
        exited = [c for c in waiting if c in cases and cases[c].stage in EXITED_STAGES]
        busy = {r.case_id: {"procedure": r.id, "kind": r.kind} for r in conn.execute(
            select(t.procedures.c.case_id, t.procedures.c.id, t.procedures.c.kind).where(
                t.procedures.c.case_id.in_(exited), t.procedures.c.status == "open"))} if exited else {}
        busy.update({c: {"due_on": due} for c, due in _registration_due(conn, [c for c in waiting if c not in busy])})
    return {"id": row.id, "region": row.region_code, "period": row.period, "size": row.size, "seed": row.seed,
            "population": row.population, "drawn_by": drawer.code if drawer else None,
            "drawn_by_name": drawer.name if drawer else None, "drawn_at": row.drawn_at.isoformat(),
            "households": [_household(cases.get(cid), cid, findings, busy) for cid in row.case_ids]}


DRAWS_SHOWN = 50
_RECENT_DRAWS = select(t.sample_draws.c.id, t.sample_draws.c.region_code, t.sample_draws.c.period,
                       t.sample_draws.c.size, t.sample_draws.c.drawn_at).order_by(t.sample_draws.c.id.desc())


def recent_draws(app: App, actor: Actor, limit: int = DRAWS_SHOWN) -> list[dict[str, Any]]:
    """The newest draws over a region the actor reads (show's rule: their post covers the draw's
    region), with how many of their households have a finding recorded; a few a county a year, read by
    their primary key, newest first, at most `limit` of them."""
    from engine.domain.regions import covers
    shown: list[dict[str, Any]] = []
    with app.engine.connect() as conn:
        for row in conn.execute(_RECENT_DRAWS.limit(limit * 10)):
            if any(covers(a.region_code, row.region_code) for a in actor.assignments):
                shown.append({"id": row.id, "region": row.region_code, "period": row.period, "size": row.size,
                              "drawn_at": row.drawn_at.isoformat()})
            if len(shown) == limit:
                break
        f = t.sample_findings.c
        done = dict(conn.execute(select(f.draw_id, func.count(func.distinct(f.case_id))).where(
            f.draw_id.in_([d["id"] for d in shown])).group_by(f.draw_id)).all()) if shown else {}
    return [{**d, "checked": done.get(d["id"], 0)} for d in shown]


def problem_of(app: App, finding_id: int) -> int | None:
    """The problem item a recorded finding opened (a wrong exit's), if any."""
    with app.engine.connect() as conn:
        return conn.execute(select(t.sample_findings.c.problem_id).where(t.sample_findings.c.id == finding_id)).scalar()


def _household(case, case_id: int, findings: list, busy: dict[int, dict]) -> dict[str, Any]:
    return {"case": case_id, "title": case.title if case else None, "region": case.region_code if case else None,
            "stage": case.stage if case else None,
            "findings": [{"id": f.id, "finding": f.finding, "persons": f.persons, "note": f.note,
                          "problem": f.problem_id, "awaits": _awaits(f, busy)}
                         for f in findings if f.case_id == case_id]}


def _awaits(finding, busy: dict[int, dict]) -> dict[str, Any] | None:
    """A wrong exit with no problem item yet: the procedure under way it waits for ({procedure, kind}), or,
    none under way, {procedure: None}: for the county office to register its problem item, by `due_on`
    (its deadline's due date, ISO; None when none is open: recorded before there were such deadlines)."""
    if finding.finding != "wrong_exit" or finding.problem_id is not None:
        return None
    found = busy.get(finding.case_id) or {}
    if found.get("procedure") is not None:
        return found
    due = found.get("due_on")
    return {"procedure": None, "kind": None, "due_on": due.isoformat() if due is not None else None}


_OPEN = literal_column("'open'")       # as the partial index uq_deadlines_open reads it (services/deadlines.py)


def _registration_due(conn, cases: list[int]) -> list[tuple[int, Any]]:
    """The due date of each household's open deadline to register its waiting wrong exit's problem item
    (a rule `when: {sample_waiting: true}`, config/deadlines.yaml), by the open deadlines' index."""
    if not cases:
        return []
    d = t.deadlines.c
    return conn.execute(select(d.case_id, func.min(d.due_on)).where(
        d.case_id.in_(cases), d.status == _OPEN, d.type == "sample").group_by(d.case_id)).all()


def awaits_of(app: App, finding_id: int) -> dict[str, Any] | None:
    """What a recorded wrong exit with no problem item yet waits for (as `show` says it), if anything."""
    with app.engine.connect() as conn:
        found = conn.execute(select(t.sample_findings).where(t.sample_findings.c.id == finding_id)).first()
        if found is None:
            return None
        busy = _open_procedure(conn, found.case_id)
        due = dict(_registration_due(conn, [found.case_id])) if busy is None else {}
    return _awaits(found, {found.case_id: {"procedure": busy[0], "kind": busy[1]}} if busy
                   else {found.case_id: {"due_on": due.get(found.case_id)}})



def field_sheet(app: App, actor: Actor, draw_id: int, lang: str = "zh") -> dict[str, Any]:
    """A draw's sheet for the evaluators' visits (抽查入户核查表), from the record: each household drawn with
    what its exit rested on (its size, exit, the latest year's income per head against the line, its
    first pairing cadre) and what was recorded of it already; blank columns to fill in at its door. The
    draw is read as `show` reads it (its region within the reader's reach)."""
    from engine.reads.case_record import case_detail
    from engine.reads.handbook import shaped
    drawn = show(app, actor, draw_id)
    rows = []
    for h in drawn["households"]:
        book = shaped(app, case_detail(app, actor, h["case"], lang=lang))
        basics, incomes = book["basics"], book["results"]["incomes"]
        rows.append({**h, "region_name": book["region_name"], "size": basics["size"],
                     "exited_on": basics["exited_on"], "exit_year": basics["exit_year"],
                     # the income of the exits' year the draw checks (what those exits rested on), else the latest before
                     "income": next((i for i in reversed(incomes) if drawn.get("period") is None
                                     or i["year"] <= drawn["period"]), None),
                     "pairing": [p["person_name"] for p in book["pairings"] if p["kind"] == "first" and not p["end"]]})
    return {**drawn, "households": rows, "finding_codes": list(FINDINGS), "printed_on": app.clock.today().isoformat()}
