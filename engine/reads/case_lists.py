"""Lists of cases: a person's cases, filtered and streamed, the region ranges every list reads by
and the names of the regions a list shows.

Apart from the other reads (engine/reads/queries.py) so a list loads only what it needs: the rules
of a step are imported only for the list of what waits for the person.
"""
from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

from sqlalchemy import and_, bindparam, exists, false, func, or_, select, true, tuple_

from engine.adapters import tables as t
from engine.domain.errors import BadInput, Codes
from engine.domain.exit_years import PLANNED_EXIT_YEAR
from engine.domain.monitoring import ANY, monitoring_types
from engine.domain.regions import check_code, level_of, prefix
from engine.reads.standing import NOT_IDENTIFIED, case_standing, standing_filter, standings
from engine.services.org import require_reader

if TYPE_CHECKING:
    from engine.adapters.app import App
    from engine.domain.auth import Actor


def region_range(code: str, column=t.cases.c.region_code):
    """`column` within region `code` (a range on the code's prefix, which an index serves), or None
    for the whole country."""
    p = prefix(code)
    if not p:
        return None
    return and_(column >= p, column < p[:-1] + chr(ord(p[-1]) + 1))


def within(codes, column=t.cases.c.region_code):
    """`column` within any of the regions `codes` (all rows when one of them is the whole country;
    none when there is none)."""
    ranges = [region_range(c, column) for c in codes]
    if not ranges:
        return false()
    return true() if any(r is None for r in ranges) else or_(*ranges)


def list_cases(app: App, actor: Actor, kind: str | None = None, stage: str | None = None,
               region: str | None = None, waiting_for_me: bool = False, limit: int | None = None,
               batch: int = 1000, after: int = 0, id_to_confirm: bool = False, monitoring: str | None = None,
               transition_ends: int | None = None, mine: bool = False) -> Iterator[dict[str, Any]]:
    """Cases in the actor's jurisdiction, streamed in id order (from the first id above `after`),
    `batch` rows per query; `id_to_confirm`: only households with a member's ID number awaiting the
    cadre's check against the card; `monitoring`: only households monitored now (防返贫监测), of that
    type or of any (`any`); `transition_ends`: only households whose transition period (过渡期) ends in
    that year; `mine`: the households `actor` is pairing cadre of now and the cases waiting for a step they
    may do (a pairing cadre's own list). Each case has its `stage` and its `standing`, the stage as the
    figures count it (a household whose identification was rejected, with nothing open, is not
    identified: 未通过识别); the `stage` a list is filtered by is a standing.

    The filters are checked (and refused) at the call, before the first row is produced.
    """
    conditions = []
    if kind:
        if kind not in app.config.workflows:
            raise BadInput("case.bad_kind", kind=kind, known=", ".join(app.config.workflows))
        conditions.append(t.cases.c.kind == kind)
    if stage:       # a standing, as the figures count it: a rejected applicant is not identified
        stages = sorted({s for wf in app.config.workflows.values() for s in standings(wf.stages)})
        if stage not in stages:
            raise BadInput("case.bad_stage", stage=stage, known=", ".join(stages))
        conditions += standing_filter(stage)
    if region:
        check_code(region)
        require_reader(app, actor, region)
        rng = region_range(region)
        if rng is not None:
            conditions.append(rng)
    scopes = [a.region_code for a in actor.assignments]
    if not region:
        if not scopes:
            return iter(())
        conditions.append(within(scopes))
    if waiting_for_me or mine:
        waiting = _waiting_for(app, actor)
        if waiting is None and not mine:
            return iter(())
        conditions.append(or_(paired_with(actor), and_(*waiting) if waiting else false()) if mine else and_(*waiting))
    if id_to_confirm:
        conditions.append(ids_to_confirm())
    conditions += monitoring_filter(app, monitoring, transition_ends)
    if limit is not None and limit <= 0:
        return iter(())
    narrow = all(level_of(code) in ("village", "township") for code in ([region] if region else scopes))
    return _stream(app, actor, conditions, waiting_for_me or mine, limit, batch, narrow, after, paired_too=mine)


def count_waiting(app: App, actor: Actor) -> int:
    """How many cases wait for a step `actor` may do (what `list_cases(waiting_for_me=True)` lists), in
    one count served by the cases' (pending_procedure, pending_step, region_code) index: the true number
    when a page shows only the first of them."""
    scopes = [a.region_code for a in actor.assignments]
    waiting = _waiting_for(app, actor)
    if not scopes or waiting is None:
        return 0
    with app.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(t.cases)
                            .where(within(scopes), *waiting)).scalar_one()


def _waiting_for(app: App, actor: Actor) -> list | None:
    """The conditions (on t.cases) of a case waiting for a step `actor` may do; None: no step is theirs."""
    from engine.services.guards import ASSIGNEE_ONLY
    steps = [(name, step) for wf in app.config.workflows.values() for name, proc in wf.procedures.items()
             for step in proc.steps if any(a.role in step.roles for a in actor.assignments)]
    if not steps:
        return None
    conditions = []
    pending = tuple_(t.cases.c.pending_procedure, t.cases.c.pending_step)
    own = [(name, s) for name, s in steps if _as_cadre(actor, s)]
    anyone = [(name, s.key) for name, s in steps if ASSIGNEE_ONLY not in s.checks and not _as_cadre(actor, s)]
    assigned = [(name, s.key) for name, s in steps if ASSIGNEE_ONLY in s.checks]   # a problem item's receipt
    # a pairing cadre's step: their own households, and wherever another post of theirs does it
    cadres = [and_(pending == (name, s.key), or_(paired_with(actor), within(other_posts(actor, s))))
              for name, s in own]
    conditions.append(or_(pending.in_(anyone) if anyone else false(),                 # and report: its
                          and_(pending.in_(assigned),                                  # assignee's alone
                               t.cases.c.attrs["assignee_id"].as_integer() == actor.person_id)
                          if assigned else false(), *cadres))
    # Not the cases where I already signed a step of the open procedure (separation of duties).
    conditions.append(~exists().where(t.steps.c.procedure_id == t.cases.c.open_procedure_id,
                                      t.steps.c.person_id == actor.person_id, t.steps.c.voided_at.is_(None)))
    conditions.append(~not_yet_in_campaign(app.clock.today().year))
    return conditions


# Work of the year's campaign, not due at once (DOMAIN §4: the exit is the year-end campaign's, after
# assistance): a household is proposed for exit in the exit campaign of a year after the one it came under
# assistance in (新识别的贫困户当年原则上不脱贫退出 [LOCAL, as county offices apply it]). Until then its
# exit's proposal is no work on anybody's list (its case page and its village's step list still offer it).
# A household brought in from another registry as assisted (帮扶中) came under assistance through no
# procedure here: nothing says its exit is due (an exit is proposed when the household is ready), so it
# is no work on a list either until an exit of it has been started once (a proposal rejected comes back),
# or until the year its registry planned its exit for (计划脱贫年度, kept as PLANNED_EXIT_YEAR), from which on it is.
CAMPAIGN_WORK = {("household", "exit", "proposal"): "assisted"}


def not_yet_in_campaign(year: int):
    """SQL on t.cases: the case waits for campaign work (CAMPAIGN_WORK), no procedure of that work was
    ever started on it, and it came into the stage the work starts from this `year` (a procedure moving
    it there completed with a step dated this year) or through no procedure at all (imported so) with
    no exit planned for this year or before: not yet due. Each EXISTS reads the case's procedures by their
    (case_id, status) index, then their steps."""
    c, p, s = t.cases.c, t.procedures.c, t.steps.c
    planned = c.attrs[PLANNED_EXIT_YEAR].as_integer()

    def came_in(stage, *when):
        return exists().where(p.case_id == c.id, p.status == "completed", p.to_stage == stage, *when)
    return or_(*(and_(c.kind == kind, c.pending_procedure == procedure, c.pending_step == step,
                      ~exists().where(p.case_id == c.id, p.kind == procedure),
                      or_(and_(~came_in(stage), or_(planned.is_(None), planned > year)),
                          came_in(stage, exists().where(s.procedure_id == p.id, s.voided_at.is_(None),
                                                        s.effective_date >= date(year, 1, 1)))))
                 for (kind, procedure, step), stage in CAMPAIGN_WORK.items()))


def monitoring_filter(app: App, monitoring: str | None, transition_ends: int | None) -> list:
    """Households (t.cases) monitored now, of type `monitoring` or of any (`any`), and whose transition
    period ends in the year `transition_ends`: each read through its partial index
    (engine/domain/monitoring.py). A type or year that names none is refused, naming what would."""
    found = []
    if monitoring:
        known = monitoring_types(app.config.workflows["household"])
        if monitoring != ANY and monitoring not in known:
            raise BadInput("case.bad_monitoring", value=str(monitoring)[:40],
                           known=Codes("field.monitoring_type", (*known,)), any=ANY)
        found += [t.cases.c.kind == "household",
                  t.cases.c.monitoring.is_not(None) if monitoring == ANY else t.cases.c.monitoring == monitoring]
    if transition_ends is not None:
        if not isinstance(transition_ends, int) or not 1949 <= transition_ends <= 2200:
            raise BadInput("case.bad_transition_year", value=str(transition_ends)[:20])
        found += [t.cases.c.kind == "household",
                  t.cases.c.transition_until.between(date(transition_ends, 1, 1), date(transition_ends, 12, 31))]
    return found


def ids_to_confirm():
    """The case (t.cases) has a member in the household whose ID number awaits the cadre's check
    against the card (household_members.id_check, through its partial index)."""
    m = t.household_members.c
    return exists().where(m.case_id == t.cases.c.id, m.id_check.is_not(None), m.active == true())


def _as_cadre(actor: Actor, step) -> bool:
    """Whether `actor` holds the pairing cadre's post for a step pairing cadres do for their own
    households alone (own_pairing_cadre)."""
    from engine.services.guards import CADRE_ROLE, OWN_CADRE
    return OWN_CADRE in step.checks and any(a.role == CADRE_ROLE for a in actor.assignments)


def paired_with(actor: Actor):
    """The case (t.cases) is one of the households `actor` is paired with now."""
    return exists().where(t.pairings.c.case_id == t.cases.c.id, t.pairings.c.person_id == actor.person_id,
                          t.pairings.c.end_date.is_(None))


def other_posts(actor: Actor, step) -> list[str]:
    """The regions where `actor` holds another post of the step (not the pairing cadre's)."""
    from engine.services.guards import CADRE_ROLE
    return [a.region_code for a in actor.assignments if a.role in step.roles and a.role != CADRE_ROLE]


# A case's standing beside its stage: its procedures read through their (case_id, status) index
_STANDING = case_standing().label("standing")


def _stream(app: App, actor: Actor, conditions: list, waiting_for_me: bool, limit: int | None,
            batch: int, narrow: bool = False, after: int = 0, paired_too: bool = False) -> Iterator[dict[str, Any]]:
    # A village's or township's cases are found through the region index and sorted (`id + 0` keeps
    # SQLite from walking the whole table in id order instead); a county's are most of the table.
    order = t.cases.c.id + 0 if narrow else t.cases.c.id
    mine = _mine(app, actor) if waiting_for_me else None
    last_id, sent = after, 0
    while True:
        with app.engine.connect() as conn:
            rows = conn.execute(
                select(t.cases.c.id, t.cases.c.kind, t.cases.c.title, t.cases.c.region_code, t.cases.c.stage,
                       _STANDING, t.cases.c.version, t.cases.c.pending_procedure, t.cases.c.pending_step,
                       (paired_with(actor) if paired_too else false()).label("paired"))
                .where(t.cases.c.id > last_id, *conditions).order_by(order).limit(batch)).all()
        if not rows:
            return
        ended = why_not_identified(app, [r.id for r in rows if r.standing == NOT_IDENTIFIED])
        for r in rows:
            if mine is not None and not r.paired and not mine(r):
                continue
            yield {"id": r.id, "kind": r.kind, "title": r.title, "region": r.region_code, "stage": r.stage,
                   "standing": r.standing, "version": r.version, "pending_procedure": r.pending_procedure,
                   "pending_step": r.pending_step, **({"ended": ended[r.id]} if r.id in ended else {}),
                   **({"paired": True} if r.paired else {})}
            sent += 1
            if limit is not None and sent >= limit:
                return
        last_id = rows[-1].id


_P = t.procedures.c
_LAST_REJECTED = select(_P.case_id, _P.kind, _P.ended_at, _P.outcome_reason).where(_P.id.in_(
    select(func.max(_P.id)).where(_P.case_id.in_(bindparam("ids", expanding=True)), _P.status == "rejected")
    .group_by(_P.case_id)))


def why_not_identified(app: App, case_ids: list[int]) -> dict[int, dict[str, Any]]:
    """How the last identification of each applicant not identified (未通过识别) ended: its procedure,
    day and reason as stored (a failed vote, an upheld objection), one statement a batch, read through
    the procedures' (case_id, status) index."""
    if not case_ids:
        return {}
    with app.engine.connect() as conn:
        return {r.case_id: {"procedure": r.kind, "ended_at": r.ended_at, "reason": r.outcome_reason}
                for r in conn.execute(_LAST_REJECTED, {"ids": case_ids})}


def _mine(app: App, actor: Actor) -> Callable[[Any], bool]:
    """Whether a case row's pending step is one `actor` may do (the step rules imported once a list)."""
    from engine.services.context import step_roles

    def mine(row) -> bool:
        proc = app.config.workflows[row.kind].procedures.get(row.pending_procedure)
        if proc is None:
            return False
        step = proc.step(row.pending_step)
        roles = step_roles(app, step, row.region_code, app.clock.today())
        return actor.first_role(roles, row.region_code) is not None
    return mine


# --- the names of a list's regions -------------------------------------------------------------

def region_names(app: App, codes: Iterable[str | None]) -> dict[str, str]:
    with app.engine.connect() as conn:
        return region_names_in(conn, codes)


def region_namer(app: App):
    """A region's name by its code (the code itself for none), each looked up once: for a list
    streamed row by row, whose regions are few (a village's name on each of its households)."""
    names: dict[str, str] = {}

    def name(code: str) -> str:
        if code not in names:
            names[code] = region_names(app, [code]).get(code, code)
        return names[code]
    return name


def region_names_in(conn, codes: Iterable[str | None]) -> dict[str, str]:
    wanted = sorted({c for c in codes if c})
    if not wanted:
        return {}
    return {r.code: r.name for r in conn.execute(select(t.regions.c.code, t.regions.c.name)
                                                 .where(t.regions.c.code.in_(wanted)))}
