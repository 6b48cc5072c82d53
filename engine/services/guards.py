"""`can_proceed`: the one answer to "may this step be done on this case, on this day, by this person?"

The step (`perform_step`) refuses with the first violation; `case next` shows them all. Both judge
as of a date: the step's own date, or for `case next` the day asked (by default the case's next
step date where the record is back-dated).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache, partial
from time import monotonic
from typing import Any, Iterator, TYPE_CHECKING

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection

from engine.adapters import tables as t
from engine.adapters.app import App
from engine.domain import guards
from engine.domain.auth import Actor
from engine.domain.cases import SIGNING_TYPES, StepInput, participants
from engine.domain.deadline_rules import wall_clock
from engine.adapters.direct import Direct
from engine.adapters.uow import organisation_epoch
from engine.domain.errors import Codes, stored_msg
from engine.domain.evidence import content_hash
from engine.domain.facts import CaseFacts
from engine.domain.guards import Violation, collect
from engine.services import steptypes
from engine.services.context import StepContext, step_roles
from engine.services.org import require_role
from engine.services.steptypes import StepEffect

if TYPE_CHECKING:      # the configuration's models (pydantic) are loaded only where used
    from config import StepDef


@dataclass
class Verdict:
    """What `can_proceed` found: every unmet condition, and what the step would use if none."""
    violations: list[Violation]
    ctx: StepContext
    assignment: Any = None                 # the actor's assignment that allows the step
    taken: dict[int, str] = field(default_factory=dict)   # who already took part in the procedure
    effect: StepEffect | None = None       # the step type's decision and data (when inputs were given)
    # the workflow's checks unmet: a step that rejects (a failed vote, a decision to reject) is not held to them
    unless_rejected: list[Violation] = field(default_factory=list)

    @property
    def rejection_only(self) -> bool:
        """Refused, but a rejection may still be recorded: every unmet condition is a workflow check
        (an exit standard a meeting's failed vote or a reviewer's rejection does not need met), and
        the step is of a type that may reject (an appraisal, a verification, a sign-off)."""
        if not self.violations or not steptypes.get(self.ctx.step.type).may_reject:
            return False
        waived = {id(v) for v in self.unless_rejected}
        return all(id(v) in waived for v in self.violations)

    @property
    def ok(self) -> bool:
        return not self.violations


def evidence_intact(app: App, row) -> bool:
    """The row's fields and file still hash to what was recorded when it was attached."""
    return (content_hash(row.type, row.fields, row.file_sha256) == row.content_hash
            and (row.file_sha256 is None or app.evidence.intact(row.file_sha256)))


# An item in force of a type, on the case: by the evidence's (case, type) index
_HELD = (select(t.evidence.c.id).where(t.evidence.c.case_id == bindparam("b_case"), t.evidence.c.type == bindparam("b_type"),
                                      t.evidence.c.superseded_by.is_(None)).order_by(t.evidence.c.id.desc()).limit(1))


def _look_alikes(app: App, conn: Connection, case, missing: list[Violation]) -> list[Violation]:
    """The missing evidence, where the case holds a type easily taken for a missing one
    (WorkflowRules.not_instead: a 收支核查表 for the 收入核算明细表 an exit needs) said apart: that the
    item on file does not count, why, and what to record."""
    rules = app.rules.get(case.kind)
    alike = rules.not_instead if rules is not None else {}
    if not alike:
        return missing
    out = []
    for v in missing:
        if v.code != "evidence.missing":
            out.append(v)
            continue
        rest = []
        for etype in v.params["types"].split(", "):
            held = conn.execute(_HELD, {"b_case": case.id, "b_type": alike[etype][0]}).scalar() \
                if etype in alike else None
            if held is None:
                rest.append(etype)
            else:
                out.append(Violation(alike[etype][1], {"case": case.id, "step": v.params["step"], "types": etype,
                                                       "type": alike[etype][0], "code": etype, "evidence": held}))
        if rest:
            out.append(Violation(v.code, {**v.params, "types": ", ".join(rest)}))
    return out


def can_proceed(app: App, conn: Connection, actor: Actor, facts: CaseFacts, procedure: str, step: StepDef,
                on: date, inputs: StepInput | None = None, batch: dict | None = None) -> Verdict:
    """Every unmet condition of doing `step` of `procedure` on the case on day `on`, in the order the
    step checks them. Without `inputs` (what `case next` asks) the step type's input rules are left out."""
    case = facts.case
    ctx = StepContext(app, conn, actor, case, procedure, step, on, inputs or StepInput(), facts.evidence,
                      batch=batch if batch is not None else {})
    today = app.clock.today()
    verdict = Verdict(guards.future(on, today), ctx, taken=participants(facts.open_proc))
    out = verdict.violations
    out_of_order = _voided_before(app, conn, facts, _already_done(app, conn, facts, step,
                                                                  _order(app, facts, procedure, step)))
    out += out_of_order
    verdict.assignment, found = _role(app, actor, procedure, step, case, on)
    out += found
    # who did the step already may not do it again: said once, as done (not as a duty it would break)
    again = {v.params["step"] for v in out_of_order if v.code == "step.done"}
    out += [v for v in guards.duties(facts, actor, step, verdict.taken)
            if not (v.code == "duty.same_person" and v.params.get("step") in again)]
    out += guards.dates(facts, on, today)
    intact = partial(evidence_intact, app)
    out += guards.relied_evidence(facts, intact)
    missing = _look_alikes(app, conn, case, guards.missing_evidence(facts, step))
    out += missing
    if not missing:
        out += guards.evidence_dated_after(facts, step, _field_kinds(app, case.kind, step), on)
        out += guards.evidence_dated_before(facts, step, _field_kinds(app, case.kind, step))
    unmet = steptypes.get(step.type).preconditions(ctx, verdict.taken)
    out += unmet
    if inputs is not None and not unmet:   # the step type's effect runs only once its preconditions hold
        verdict.effect, broken = steptypes.get(step.type).rules(ctx, verdict.taken)
        out += broken
    # The workflow's checks read the evidence and the case as the step expects them: not when the
    # step is not the case's next, nor while its evidence is missing, but those that read none of it
    # (WorkflowRules.evidence_free: an exit's aged checks at the acknowledgement, said before the
    # household signs). A step that rejects (a failed vote, a decision to reject) is held only to those
    # that say who may take it (WorkflowRules.who_checks: the original approver, not the rectifier),
    # not to the standards an approval must meet.
    if not out_of_order:
        rejecting = not (inputs is None or (verdict.effect and verdict.effect.decision != "rejected"))
        who = app.rules[case.kind].who_checks
        for name, found in policy_checks_by_name(app, ctx, app.rules[case.kind].evidence_free if missing else None):
            if name in who:
                out += found
            elif not rejecting:
                verdict.unless_rejected += found
                out += found
    out += guards.signed_evidence(facts, step, _signed_types(app, case.kind, procedure, step), intact)
    if not out and (verdict.effect is None or verdict.effect.decision != "rejected"):    # a dry run too (case next)
        out += _leaves_a_signer(app, conn, actor, case, procedure, step, on, inputs or StepInput(), verdict.taken,
                                ctx.batch)
    return verdict


def _leaves_a_signer(app: App, conn: Connection, actor: Actor, case, procedure: str, step: StepDef, on: date,
                     inputs: StepInput, taken: dict[int, str], batch: dict) -> list[Violation]:
    """Separation of duties must leave someone for every step still to come: a first secretary who
    leads the verification, where she and the village secretary (who proposed) alone may post the
    notice two steps on, would leave the household where nobody may ever act, on no one's list and
    with no deadline saying so. Each later step whose roles the actor or the step's verifiers hold
    is looked at (others lose nobody by this step); its pool is who holds its roles over the case,
    less who signed this procedure, and for a step pairing cadres do for their own households, less
    the village's other cadres. Holders are read once per region and roles (kept a minute)."""
    # The same for every case of a list in one region with the same signers so far, unless a later step
    # is a pairing cadre's for their own households (then it depends on the case): judged once for them.
    own = batch.get(("own_cadre_later", procedure, step.key))
    if own is None:
        own = batch[("own_cadre_later", procedure, step.key)] = _own_cadre_later(app, case.kind, procedure, step)
    key = None if own else ("stranded", procedure, step.key, case.region_code, frozenset(taken))
    stranded = batch.get(key, False) if key is not None else False
    if stranded is False:
        stranded = _stranded(app, conn, actor, case, procedure, step, on, inputs, taken, batch)
        if key is not None:
            batch[key] = stranded
    if stranded is None:
        return []
    later, persons, chosen = stranded
    if chosen:      # the verifiers chosen take the last of them (the actor alone would leave one)
        return [Violation("duty.verifiers_take_last", {"case": case.id, "step": later.key, "persons": Codes(
            "name", persons), "verifiers": Codes("name", chosen)})]
    return [Violation("duty.no_signer_left", {"case": case.id, "step": later.key, "persons": Codes("name", persons)})]


def _stranded(app: App, conn: Connection, actor: Actor, case, procedure: str, step: StepDef, on: date,
              inputs: StepInput, taken: dict[int, str], batch: dict
              ) -> tuple[StepDef, tuple[str, ...], tuple[str, ...]] | None:
    """The first later step this one would leave with nobody to do it, the names of who could, and of
    those the verifiers chosen take when the actor alone would leave one (see _leaves_a_signer); None
    when every later step keeps someone."""
    def concerned(roles) -> bool:
        return actor.first_role(roles, case.region_code) is not None or bool(inputs.verifiers)
    for later, holders, pool in _later_pools(app, conn, case, procedure, step, on, taken, batch, concerned):
        chosen = {pid for pid, (code, _n, _r) in holders.items() if code in inputs.verifiers}
        if pool and not set(pool) - {actor.person_id} - chosen:    # someone could, and this step would take them all
            by_verifiers = tuple(sorted(pool[p] for p in chosen & set(pool))) if set(pool) - {actor.person_id} else ()
            return later, tuple(sorted(pool.values())), by_verifiers
    return None


def _own_cadre_later(app: App, kind: str, procedure: str, step: StepDef) -> bool:
    """Whether a step after this one is done by pairing cadres for their own households only."""
    steps = app.config.workflows[kind].procedures[procedure].steps
    at = next(i for i, s in enumerate(steps) if s.key == step.key)
    return any(OWN_CADRE in later.checks for later in steps[at + 1:])


def stranding(app: App, conn: Connection, case, procedure: str, step: StepDef, on: date,
              taken: dict[int, str]) -> set[str]:
    """The codes of those who may not do `step` because each is the last who could do a later one
    (who may act leaves them out: their step would be refused with duty.no_signer_left)."""
    found: set[str] = set()
    for _later, holders, pool in _later_pools(app, conn, case, procedure, step, on, taken, {}, lambda _roles: True):
        if len(pool) == 1:
            found.add(holders[next(iter(pool))][0])
    return found


def later_pools(app: App, conn: Connection, case, procedure: str, step: StepDef, on: date,
                taken: dict[int, str]) -> list[tuple[str, dict[str, str]]]:
    """Each later step's key and who may still do it ({code: name}): a verification's form keeps the
    asker and the verifiers chosen from taking the last of them (engine/reads/queries.py)."""
    return [(later.key, {holders[pid][0]: name for pid, name in pool.items()})
            for later, holders, pool in _later_pools(app, conn, case, procedure, step, on, taken, {}, lambda _r: True)]


def _later_pools(app: App, conn: Connection, case, procedure: str, step: StepDef, on: date, taken: dict[int, str],
                 batch: dict, concerned) -> Iterator[tuple[StepDef, dict, dict[int, str]]]:
    """(later step, its holders by person id, its pool: person id -> name of who may still do it) for
    each step after `step` whose roles are `concerned` (a problem's assignee's steps left out)."""
    steps = app.config.workflows[case.kind].procedures[procedure].steps
    at = next(i for i, s in enumerate(steps) if s.key == step.key)
    paired: set[int] | None = None
    for later in steps[at + 1:]:
        if ASSIGNEE_ONLY in later.checks:          # one person's step by design (a problem's assignee)
            continue
        roles = step_roles(app, later, case.region_code, on)
        if not concerned(roles):
            continue
        key = ("holders", roles, case.region_code)
        if key not in batch:
            batch[key] = _holders_cached(conn, roles, case.region_code)
        holders = batch[key]
        if OWN_CADRE in later.checks:              # a cadre of another household cannot do it here
            if paired is None:
                paired = set(conn.execute(_PAIRED, {"case_id": case.id}).scalars())
            holders = {pid: h for pid, h in holders.items() if pid in paired or h[2] - {CADRE_ROLE}}
        yield later, holders, {pid: name for pid, (_code, name, _roles) in holders.items() if pid not in taken}


# The checks (config/workflows) that narrow who of a step's roles may do it: a problem item's receipt
# and report are its assignee's alone (problem.yaml); a step a pairing cadre does only for the households
# they are paired with (household.yaml). "My work", who may act and this guard all read them here.
ASSIGNEE_ONLY, OWN_CADRE, CADRE_ROLE = "is_assignee", "own_pairing_cadre", "pairing_cadre"
# A fund project's schedule, milestones and change request are its leader's alone; its plan change is
# approved by a holder of the post that approved its library entry (project.yaml).
LEADER_ONLY, ORIGINAL_APPROVER = "is_project_leader", "original_approver"


def _holders_cached(conn: Connection, roles, region_code: str) -> dict[int, tuple[str, str, frozenset]]:
    """_holder_ids, kept HOLDERS_KEPT_S seconds and until this process writes an organisation event
    (a post granted or revoked here reads them again at once; another process's change within the
    minute). A guard against a mistake, not a permission: who may act is read afresh by each step."""
    key, epoch, now = (id(conn.engine), roles, region_code), organisation_epoch(), monotonic()   # per database
    kept = _HOLDERS_KEPT.get(key)
    if kept is not None and kept[0] == epoch and kept[1] > now:
        return kept[2]
    if len(_HOLDERS_KEPT) >= 4096:
        _HOLDERS_KEPT.clear()
    found = _holder_ids(conn, roles, region_code)
    _HOLDERS_KEPT[key] = (epoch, now + HOLDERS_KEPT_S, found)
    return found


HOLDERS_KEPT_S = 60.0
_HOLDERS_KEPT: dict[tuple, tuple] = {}


def forget_holders() -> None:
    """Drop what _holders_cached kept: for a database replaced under its engine (the test suite's
    worlds, one engine for a session), whose posts are no longer those kept."""
    _HOLDERS_KEPT.clear()


def _holder_ids(conn: Connection, roles, region_code: str) -> dict[int, tuple[str, str, frozenset]]:
    """person id -> (code, name, the roles of `roles` they hold) of everyone holding one of `roles`
    over `region_code`, active: on the driver's cursor (engine.adapters.direct), a fixed number of
    role and region slots."""
    from engine.domain.regions import ancestors_of
    roles, regions = list(roles), ancestors_of(region_code)
    if len(roles) > HOLDER_ROLES or len(regions) > HOLDER_REGIONS:      # more than the slots: compiled each time
        rows = conn.execute(_holders_statement(roles, regions)).all()
    else:
        params = {f"role{i}": roles[i] if i < len(roles) else "" for i in range(HOLDER_ROLES)}
        params |= {f"region{i}": regions[i] if i < len(regions) else "" for i in range(HOLDER_REGIONS)}
        rows = _HOLDERS.rows(conn, params)
    found: dict[int, tuple[str, str, frozenset]] = {}
    for r in rows:
        held = found.get(r.id)
        found[r.id] = (r.code, r.name, (held[2] if held else frozenset()) | {r.role})
    return found


def _holders_statement(roles=None, regions=None):
    """Who holds `roles` over `regions`: bound slots (role0…, region0…; unused ones "") when not given."""
    from sqlalchemy import bindparam, select
    from engine.adapters import tables as t
    ra = t.role_assignments.c
    roles = roles or [bindparam(f"role{i}") for i in range(HOLDER_ROLES)]
    regions = regions or [bindparam(f"region{i}") for i in range(HOLDER_REGIONS)]
    return (select(t.persons.c.id, t.persons.c.code, t.persons.c.name, ra.role)
            .join(t.role_assignments, ra.person_id == t.persons.c.id)
            .where(ra.role.in_(roles), ra.region_code.in_(regions), ra.revoked_at.is_(None),
                   t.persons.c.active.is_(True)))


HOLDER_ROLES, HOLDER_REGIONS = 8, 7     # a step's roles; a village's ancestors (country … village) and one more
_HOLDERS = Direct(_holders_statement())  # built once: a step asks it of every case it is done on


def _paired_statement():
    from sqlalchemy import bindparam, select
    from engine.adapters import tables as t
    p = t.pairings.c
    return select(p.person_id).where(p.case_id == bindparam("case_id"), p.end_date.is_(None))


_PAIRED = _paired_statement()


def _already_done(app: App, conn: Connection, facts: CaseFacts, step: StepDef,
                  found: list[Violation]) -> list[Violation]:
    """`found` with the step out of order because it is done already in the open procedure (a second
    tab, a list opened before it was done) said as that: done, by whom, when (on the office's clock)."""
    done = next((s for s in facts.open_proc.steps if s.step_key == step.key), None) if facts.open_proc else None
    if done is None or not any(v.code == "step.order" for v in found):
        return found
    who, at = conn.execute(select(t.persons.c.code, t.steps.c.recorded_at).join(
        t.persons, t.persons.c.id == t.steps.c.person_id).where(t.steps.c.id == done.id)).one()
    said = Violation("step.done", {"case": facts.case.id, "step": step.key, "person": who,
                                   "at": wall_clock(app.config, at)})
    return [said if v.code == "step.order" else v for v in found]


_VOIDED = select(t.steps.c.id, t.steps.c.step_key, t.steps.c.voided_at, t.steps.c.voided_reason).where(
    t.steps.c.procedure_id == bindparam("procedure"), t.steps.c.voided_at.is_not(None)).order_by(
    t.steps.c.voided_at.desc(), t.steps.c.id)
_REPLACED_BY = select(t.persons.c.code, t.evidence.c.attached_at).join(
    t.persons, t.persons.c.id == t.evidence.c.attached_by).where(
    t.evidence.c.id == select(t.evidence.c.superseded_by).where(t.evidence.c.id == bindparam("old")).scalar_subquery())


def _voided_before(app: App, conn: Connection, facts: CaseFacts, found: list[Violation]) -> list[Violation]:
    """`found` with the step out of order because the open procedure's steps up to it were voided by an
    evidence item replaced (a village's corrected income check while the township reviewed) said as
    that: which steps, by whose replacement of which item, when (on the office's clock), and that the
    procedure goes on again from its next step."""
    order = next((v for v in found if v.code == "step.order"), None)
    if order is None or facts.open_proc is None or conn is None:      # None: facts judged without a database
        return found
    voided = conn.execute(_VOIDED, {"procedure": facts.open_proc.id}).all()
    last = [v for v in voided if v.voided_at == voided[0].voided_at] if voided else []
    msg = stored_msg(last[0].voided_reason) if last else None
    if msg is None or msg.key != "void_reason.evidence_replaced" or \
            order.params["expected"] not in {v.step_key for v in last} or \
            any(s.id > last[-1].id for s in facts.open_proc.steps):      # done again since: an order of its own
        return found
    replaced = conn.execute(_REPLACED_BY, {"old": msg.params["id"]}).first()
    if replaced is None:
        return found
    who, at = replaced
    said = Violation("step.voided", {**order.params, "voided": Codes("step", tuple(v.step_key for v in last)),
                                     "type": msg.params["type"], "person": who, "at": wall_clock(app.config, at)})
    return [said if v is order else v for v in found]


def _order(app: App, facts: CaseFacts, procedure: str, step: StepDef) -> list[Violation]:
    procedures = app.config.workflows[facts.case.kind].procedures
    available = [] if facts.open_proc else list(_procedures_from(app.lifecycles[facts.case.kind], facts.case.stage))
    return guards.order(facts, procedure, procedures[procedure], step, available,
                        procedures.get(facts.open_proc.kind) if facts.open_proc else None)


@lru_cache(maxsize=256)
def _procedures_from(lifecycle: Any, stage: str) -> tuple[str, ...]:
    """The procedures that may start from a stage: fixed by the workflow's machine (asked of every case of a list)."""
    return tuple(lifecycle.procedures_from(stage))


def _role(app: App, actor: Actor, procedure: str, step: StepDef, case, on: date) -> tuple[Any, list[Violation]]:
    """Role and jurisdiction, and the approver level where configuration sets it."""
    roles = step_roles(app, step, case.region_code, on)
    if roles != step.roles and actor.first_role(roles, case.region_code) is None \
            and actor.first_role(step.roles, case.region_code) is not None:
        level = app.config.roles[roles[0]].level if roles else "-"
        return None, [Violation("step.approver_level", {
            "case": case.id, "person": actor.code, "step": step.key, "level": level, "param": step.level_param,
            "province": case.province})]
    return collect(require_role, app, actor, roles, case.region_code, f"{procedure}.{step.key}")


def policy_checks_by_name(app: App, ctx: StepContext, only: frozenset[str] | None = None) -> list[tuple[str, list[Violation]]]:
    """Each of the workflow's checks the step names (`only`: of these), in the step's order, with what it
    found unmet (`check.<name>` with its failures), as of ctx's date."""
    out = []
    checks = app.rules[ctx.case.kind].checks
    for name in ctx.step.checks:
        if only is not None and name not in only:
            continue
        failures, raised = collect(checks[name], ctx)
        found = list(raised)
        if failures:
            found.append(Violation(f"check.{name}", {"case": ctx.case.id, "failures": failures}))
        out.append((name, found))
    return out


def _field_kinds(app: App, kind: str, step: StepDef) -> dict[str, dict[str, str]]:
    """The date fields (name -> kind) of each evidence type the step relies on: what
    evidence_dated_after reads (a field of another kind cannot be dated after the step). Found once per
    step definition and evidence types (kept with them): every case of a list asks."""
    types = app.config.workflows[kind].evidence_types
    kept = _DATE_FIELDS.get((id(types), id(step)))
    if kept is None or kept[0] is not types or kept[1] is not step:
        kept = _DATE_FIELDS[id(types), id(step)] = (types, step, {
            e: {n: k for n, k in types[e].fields.items() if k.rstrip("?") == "date"} for e in step.evidence})
    return kept[2]


_DATE_FIELDS: dict[tuple[int, int], tuple] = {}


def _signed_types(app: App, kind: str, procedure: str, step: StepDef):
    if step.type not in SIGNING_TYPES:
        return step.evidence
    return app.config.workflows[kind].procedures[procedure].evidence_types()
