"""Reading cases: one case in full, lists streamed in batches, and what a case still needs."""
from __future__ import annotations

from datetime import date
from itertools import islice
from typing import Any, Sequence

from sqlalchemy import and_, bindparam, func, or_, select

from engine.adapters import tables as t
from engine.adapters.app import App
from engine.domain.auth import Actor
from engine.adapters.repository import SqlCaseRepository
from engine.domain.cases import SIGNING_TYPES, next_step, participants
from engine.domain.deadline_rules import wall_clock
from engine.domain.errors import BadInput, Codes, RuleViolation, noted, render_failure, render_stored, render_value
from engine.domain.facts import CaseFacts, beside, runs_beside
from engine.domain.guards import Violation, default_as_of, other_open
from engine.services.context import needed_first, step_roles
from engine.services.guards import (ASSIGNEE_ONLY, CADRE_ROLE, LEADER_ONLY, ORIGINAL_APPROVER, OWN_CADRE, can_proceed,
                                   later_pools, stranding)
from engine.services.org import holders, require_reader
from engine.domain.regions import province_of
from engine.reads.case_record import person_names
from engine.reads.case_lists import other_posts, paired_with, within


def pairing_loads(app: App, region: str, codes: Sequence[str], on: date,
                  case_id: int | None = None) -> dict[str, dict[str, Any]]:
    """{person code: {"first": n, "second": n, "first_full": bool, "second_full": bool}}: how many
    households each cadre is paired with now in each slot, against the province's limits on `on`
    (what a pairing form tells before the step refuses a full cadre); those of `case_id` left out, as
    the step counts them (a change of a household's cadres)."""
    params = app.config.policy.params(province_of(region), on.year)
    limits = {"first": int(params["first_cadre_max_households"]), "second": int(params["second_cadre_max_households"])}
    p = t.pairings.c
    with app.engine.connect() as conn:
        counts = conn.execute(select(t.persons.c.code, p.kind, func.count()).join(t.pairings, p.person_id == t.persons.c.id)
                              .where(t.persons.c.code.in_(list(codes)), p.end_date.is_(None),
                                     p.case_id != (case_id if case_id is not None else -1))
                              .group_by(t.persons.c.code, p.kind)).all() if codes else []
    found = {code: {"first": 0, "second": 0} for code in codes}
    for code, kind, n in counts:
        found[code][kind] = n
    for load in found.values():
        load.update({f"{k}_max": limits[k] for k in limits} | {f"{k}_full": load[k] >= limits[k] for k in limits})
    return found


def risks_unanswered(app: App, actor: Actor, kind: str, procedure: str, limit: int = 50) -> list[dict[str, Any]]:
    """Households where a visit found a risk of poverty and no `procedure` (monitoring) has started since
    (by office days), within the posts of the reader that may start it (a pairing cadre's own
    households), newest risk first: each with its latest such visit. Only cases at a stage the
    procedure may start from, and that the workflow would offer it to (a household monitored already
    is not), are listed: a risk recorded had led nowhere."""
    from engine.domain.deadline_rules import aware, office_zone
    workflow, lifecycle = app.config.workflows[kind], app.lifecycles[kind]
    first = workflow.procedures[procedure].steps[0]
    stages = [s for s in workflow.stages if procedure in lifecycle.procedures_from(s)]
    narrowed = OWN_CADRE in first.checks        # a pairing cadre starts it for their own households
    full = other_posts(actor, first) if narrowed else [a.region_code for a in actor.assignments
                                                         if a.role in first.roles]
    own = [a.region_code for a in actor.assignments if a.role == CADRE_ROLE] if narrowed else []
    if not (full or own) or not stages:
        return []
    v, c, p = t.monitoring_visits.c, t.cases.c, t.procedures.c
    q = (select(c.id, c.title, c.region_code, c.stage, c.attrs, c.open_procedure_id, c.pending_procedure,
                c.pending_step, func.max(v.visit_date).label("visited"))
         .select_from(t.cases).join(t.monitoring_visits, v.case_id == c.id)
         .where(c.kind == kind, c.stage.in_(stages), or_(within(full), and_(within(own), paired_with(actor))),
                v.risk.is_(True), t.visit_in_force())      # a visit corrected: its correction
         .group_by(c.id).order_by(func.max(v.visit_date).desc(), c.id))     # the rest depends on the key
    offered = _offered(app, kind)
    zone, found = office_zone(app.config), []
    with app.engine.connect() as conn:
        rows = iter(conn.execute(q.execution_options(yield_per=200)))
        while len(found) < limit:
            chunk = [r for r in islice(rows, 200) if offered(r, procedure)]
            if not chunk:
                break
            started = dict(conn.execute(select(p.case_id, func.max(p.started_at)).where(
                p.case_id.in_([r.id for r in chunk]), p.kind == procedure).group_by(p.case_id)).all())
            found += [r for r in chunk        # followed: started on or after the visit's day, in office time
                      if r.id not in started or aware(started[r.id]).astimezone(zone).date() < r.visited]
        clued = _clues_unanswered(app, conn, kind, procedure, stages, full, own, actor, offered,
                                  {r.id for r in found}, limit)
    found = sorted([*((r, False) for r in found), *((r, True) for r in clued)],
                   key=lambda f: (-f[0].visited.toordinal(), f[0].id))
    # another procedure open (a plan revision awaiting approval): the monitoring cannot start before it
    # ends; said with what it waits for, not offered as a link that would be refused (procedure.other_open)
    return [{"id": r.id, "title": r.title, "region": r.region_code, "stage": r.stage, "visited": r.visited,
             "clue": clue,          # its days run from a clue of another channel (a department's list), not a visit
             "open": {"procedure": r.pending_procedure, "step": r.pending_step}
             if r.open_procedure_id is not None and r.pending_procedure != procedure else None}
            for r, clue in found[:limit]]


def _clues_unanswered(app: App, conn, kind: str, procedure: str, stages, full, own, actor: Actor, offered,
                      seen: set[int], limit: int) -> list:
    """The households (as risks_unanswered reads them) whose days to start `procedure` run from a
    clue of another channel than a visit (a department's list imported, a clue recorded): an open
    deadline leading to it with no procedure started, `visited` its start; `seen` (listed by a visit) left
    out. Read by the deadlines' (rule, status) index."""
    from engine.domain.deadline_rules import compiled
    rules = compiled(app.config)
    names = sorted(n for n, r in (rules.rules.items() if rules else ()) if r.started_procedure == procedure)
    if not names:
        return []
    d, c = t.deadlines.c, t.cases.c
    q = (select(c.id, c.title, c.region_code, c.stage, c.attrs, c.open_procedure_id, c.pending_procedure,
                c.pending_step, func.min(d.start_on).label("visited"))
         .select_from(t.deadlines).join(t.cases, c.id == d.case_id)
         .where(d.rule.in_(names), d.status == "open", d.procedure_id.is_(None), c.kind == kind,
                c.stage.in_(stages), or_(within(full), and_(within(own), paired_with(actor))))
         .group_by(c.id).order_by(func.min(d.start_on).desc(), c.id))
    found = []
    rows = iter(conn.execute(q.execution_options(yield_per=200)))
    while len(found) < limit and (batch := list(islice(rows, 200))):
        found += [r for r in batch if r.id not in seen and offered(r, procedure)]
    return found[:limit]


def paired_households(app: App, actor: Actor, limit: int = 200) -> list[dict[str, Any]]:
    """The households this person is paired with now (a pairing cadre's own, 一户一策), by the
    pairings' person index; whatever step they wait at, or none."""
    p, c = t.pairings.c, t.cases.c
    with app.engine.connect() as conn:       # within the posts they hold now (a cadre moved on reads no more)
        rows = conn.execute(select(c.id, c.title, c.stage, c.region_code, p.kind).join(t.pairings, p.case_id == c.id)
                            .where(p.person_id == actor.person_id, p.end_date.is_(None),
                                   within([a.region_code for a in actor.assignments]))
                            .order_by(c.id).limit(limit)).all()
    return [{"id": r.id, "title": r.title, "stage": r.stage, "region": r.region_code, "kind": r.kind} for r in rows]


def ids_to_confirm(app: App, actor: Actor, roles: Sequence[str], limit: int = 50) -> dict[str, Any]:
    """The households, within the reader's posts of `roles` (those who may confirm a number), holding a
    member whose ID number awaits the cadre's check against the card: how many, and the first `limit`
    of them. Read from the few marked members (a partial index), not from the households."""
    scopes = [a.region_code for a in actor.assignments if a.role in roles]
    if not scopes:
        return {"count": 0, "cases": []}
    m, c = t.household_members.c, t.cases.c
    marked = (select(c.id, c.title, c.region_code).join(t.household_members, m.case_id == c.id)
              .where(m.id_check.is_not(None), m.active.is_(True), c.stage != "removed", within(scopes))
              .distinct())
    with app.engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(marked.subquery())).scalar()
        rows = conn.execute(marked.order_by(c.id).limit(limit)).all() if count else []
    return {"count": count, "cases": [{"id": r.id, "title": r.title, "region": r.region_code} for r in rows]}


def next_for(app: App, actor: Actor, case_id: int, lang: str = "zh", as_of: date | None = None,
             procedure: str | None = None) -> dict[str, Any]:
    """What the case still needs: the next step, who may do it, and every rule that blocks it as of
    `as_of` (by default today, or for a back-dated record the day its next step would bear).

    The next step is that of the open procedure, else of `procedure` (one that may start from the
    case's stage: a side move such as monitoring or a removal), else of the stage's main path."""
    with app.engine.connect() as conn:
        repo = SqlCaseRepository(conn)
        case = repo.cases([case_id])[case_id]
        require_reader(app, actor, case.region_code)
        workflow = app.config.workflows[case.kind]
        open_proc = repo.open_procedures([case]).get(case_id)
        available = app.lifecycles[case.kind].procedures_from(case.stage)
        result: dict[str, Any] = {"case": case_id, "kind": case.kind, "stage": case.stage,
                                  "title": render_stored(app.config, case.title, lang),
                                  "region": case.region_code, "version": case.version,
                                  "procedures_available": available}
        if procedure is not None:
            _startable(workflow, case, open_proc, available, procedure)
            if runs_beside(case, procedure, workflow.procedures[procedure]):
                open_proc = None        # judged beside the open one (a pairing change), which stays as it was
        needed = None if open_proc or procedure else needed_first(app, case, conn)
        if needed is not None:     # needed before the main path (a reopened household's new plan), and why
            result["needed"] = {"procedure": needed[0], "why": render_value(app.config, "why", needed[1], lang)}
        name = open_proc.kind if open_proc else procedure or (needed and needed[0]) or workflow.main_path.get(case.stage)
        # what else may start from the stage while no procedure is open (removals, monitoring, reopening…)
        offered = _offered(app, case.kind)
        # (and, while one is open, those that run beside it: a pairing change)
        result["others"] = [_first_step(app, conn, case, workflow, p) for p in available
                            if p != name and offered(case, p, conn) and (
                                case.open_procedure_id is None or runs_beside(case, p, workflow.procedures[p]))]
        # a first clue's days running before its procedure has started (a department's list, a risk visit)
        from engine.reads.deadlines import clocks_before_start
        result["clocks"] = clocks_before_start(app, conn, case_id)
        if name is None:
            on = as_of or default_as_of(CaseFacts(case, open_proc, last_recorded_on=repo.last_recorded_on(case_id)),
                                        app.clock.today())
            _add_figures(app, conn, case, lang, as_of, on, result)
            result["next"] = None
            return result
        proc_def = workflow.procedures[name]
        step = next_step(proc_def, open_proc)
        facts = beside(repo.facts([case], proc_def.evidence_types(), actor.person_id, step.type in SIGNING_TYPES,
                                  kept=app.config.workflows[case.kind].per_procedure_types())[case_id], name, proc_def)
        facts.last_recorded_on = repo.last_recorded_on(case_id)
        on = as_of or default_as_of(facts, app.clock.today())
        _add_figures(app, conn, case, lang, as_of, on, result)
        verdict = can_proceed(app, conn, actor, facts, name, step, on)
        result["next"] = _next_step(app, conn, facts, name, proc_def, step, on, verdict.violations, lang)
        result["next"].update(_verifiers_kept(app, conn, facts, name, step, on, actor.code, result["next"]))
        # refused, but what the refusal leaves recordable: a failed vote, a rejection (the form stays open for it)
        result["next"]["rejection_only"] = verdict.rejection_only
        decided = app.rules[case.kind].decides
        lines = decided(app, conn, case, name, on) if decided is not None else []
        if lines:      # what the step decides on (a monitoring's type, income and line), in words
            result["next"]["decides"] = [{"kind": kind, "text": render_value(app.config, "decides", msg, lang)}
                                         for kind, msg in lines]
        return result


def _offered(app: App, kind: str):
    """offered(case, procedure): whether the workflow offers to start it now (WorkflowRules.offered;
    every procedure that may start, where the workflow says nothing)."""
    return app.rules[kind].offered or (lambda _case, _procedure, _conn=None: True)


def _first_step(app: App, conn, case, workflow, procedure: str) -> dict[str, Any]:
    """A procedure that may start: the stage it moves to, the roles of its first step and, when that
    step's checks narrow a role to some people (a pairing cadre's own households), who they are."""
    first = workflow.procedures[procedure].steps[0]
    found = {"procedure": procedure, "to": workflow.procedures[procedure].to,
             "roles": list(step_roles(app, first, case.region_code, app.clock.today()))}
    return found | _only(_narrowed(conn, case, first))


def _startable(workflow, case, open_proc, available: list[str], procedure: str) -> None:
    """A procedure asked for by name must be the open one, or one that may start from the case's stage."""
    if procedure not in workflow.procedures:
        raise BadInput("procedure.unknown", procedure=procedure[:40], known=Codes("procedure", tuple(workflow.procedures)))
    if open_proc is not None and open_proc.kind != procedure and not runs_beside(case, procedure,
                                                                                 workflow.procedures[procedure]):
        open_def = workflow.procedures.get(open_proc.kind)
        raise other_open(case.id, open_proc.kind, next_step(open_def, open_proc) if open_def else None,
                         procedure).error()
    if open_proc is None and procedure not in available:
        raise RuleViolation("stage.not_allowed", case=case.id, procedure=procedure, stage=case.stage,
                            stage_kind=case.kind)


def _add_figures(app: App, conn, case, lang: str, asked: date | None, on: date, result: dict) -> None:
    """The figures (e.g. a village's incidence and the households behind it) are computed now, or as
    of the day asked; `as_of` is the day the rules are judged on."""
    result["as_of"] = on.isoformat()
    figures = app.rules[case.kind].figures
    if figures is not None:
        result["figures"] = figures(app, conn, case, lang, as_of=asked)


def _next_step(app: App, conn, facts: CaseFacts, name: str, proc_def, step, on: date,
               violations: list[Violation], lang: str) -> dict[str, Any]:
    open_proc = facts.open_proc
    taken = _participant_codes(conn, open_proc)
    roles = step_roles(app, step, facts.case.region_code, on)
    only = _narrowed(conn, facts.case, step)
    # the last who could do a later step may not do this one (duty.no_signer_left): not listed as able
    last = stranding(app, conn, facts.case, name, step, on, participants(open_proc))
    held = holders(conn, roles, facts.case.region_code)
    eligible = [{"person": code, "name": pname, "role": role} for code, pname, role in held
                if code not in taken and code not in last and (only is None or role not in only[0] or code in only[1])]
    if only is not None and (LEADER_ONLY in step.checks or ORIGINAL_APPROVER in step.checks):
        # said as the posts that may: the leader's own, the approving body's (not every post of the step)
        roles = tuple(r for r in roles if r not in only[0] or any(e["role"] == r for e in eligible))
    done = [s.step_key for s in open_proc.steps] if open_proc else []
    return {
        "procedure": name, "procedure_open": open_proc is not None, "step": step.key, "type": step.type,
        "roles": list(roles), "evidence": list(step.evidence), "eligible": eligible,
        "excluded": sorted(taken), "excluded_names": [{"person": c, "name": taken[c]} for c in sorted(taken)],
        "as_of": on.isoformat(),
        # every unmet condition for the asking person, in the order the step checks them
        "rules": [v.code for v in violations],
        # each in words: `texts` one a failed condition (a policy check's), `text` them all in one line
        "violations": [{"code": v.code, "text": "; ".join(said), "texts": said, "personal": v.personal}
                       for v, said in ((v, render_violation(app, v, lang)) for v in violations)],
        # what blocks the case whoever does the step (not the asker's own role or duties)
        "blockers": [t_ + _objection(facts, v) for v in violations if not v.personal
                     for t_ in render_violation(app, v, lang)],
        "done": done, "remaining": [s.key for s in proc_def.steps][len(done):],
        **minimums(app, facts.case.region_code, step, on), **_only(only), **_voided(app, conn, open_proc, lang),
        **({} if eligible else {"nobody": _why_nobody(roles, held, taken, last, only)}),
        # the verifiers to choose from who must be left for a later step (its last possible doer)
        "kept_for_later": sorted({code for code, _n, _r in holders(conn, step.verifier_roles, facts.case.region_code)}
                                 & (last - set(taken))) if step.type == "verification" and step.verifier_roles else [],
    }


def _verifiers_kept(app: App, conn, facts: CaseFacts, name: str, step, on: date, asker: str,
                    found: dict[str, Any]) -> dict[str, Any]:
    """A verification's verifiers the asker must leave for a later step: `kept_for_later` gains the last
    who may do one once the asker has done this step; `kept_one_of`, each later step whose only doers
    left are verifiers to choose from, two or more: not all of them may be chosen (the form says so as
    they are ticked; the step refuses it, duty.verifiers_take_last)."""
    if step.type != "verification" or not step.verifier_roles:
        return {}
    choices = {code for code, _n, _r in holders(conn, step.verifier_roles, facts.case.region_code)}
    pools = [(key, set(pool) - {asker})
             for key, pool in later_pools(app, conn, facts.case, name, step, on, participants(facts.open_proc))]
    last = {code for _key, pool in pools if len(pool) == 1 for code in pool} & choices
    return {"kept_for_later": sorted(set(found.get("kept_for_later", ())) | last),
            "kept_one_of": [{"step": key, "persons": sorted(pool)} for key, pool in pools
                            if len(pool) > 1 and pool <= choices]}


def _why_nobody(roles, held: list, taken: dict, last: set, only) -> dict[str, list[str]]:
    """Why nobody may do the step: `vacant`, its roles nobody in office holds over the case (a post
    left empty: an administrator appoints a successor; a household's pairing cadre who left: 调整帮扶责任人);
    `kept`, those left out because each is the last who may do a later step."""
    def in_office(role: str) -> bool:
        return any(r == role and (only is None or role not in only[0] or code in only[1]) for code, _n, r in held)
    return {"vacant": [r for r in roles if not in_office(r)],
            "kept": sorted({code for code, _n, _r in held if code in last and code not in taken})}


_VOIDED = select(t.steps.c.step_key, t.steps.c.voided_at, t.steps.c.voided_reason).where(
    t.steps.c.procedure_id == bindparam("procedure"), t.steps.c.voided_at.is_not(None)).order_by(t.steps.c.id)


def _voided(app: App, conn, open_proc, lang: str) -> dict[str, Any]:
    """Steps of the open procedure voided and not done again (a replaced income voided the village's
    steps up to its notice): which, when and why the latest voiding was, so the next step says why
    the case is back at it (the record below lists each voided step)."""
    if open_proc is None:
        return {}
    live = {s.step_key for s in open_proc.steps}
    again = [r for r in conn.execute(_VOIDED, {"procedure": open_proc.id}) if r.step_key not in live]
    if not again:
        return {}
    last = max(again, key=lambda r: r.voided_at)
    return {"voided": {"steps": list(dict.fromkeys(r.step_key for r in again)),
                       "at": wall_clock(app.config, last.voided_at),
                       "reason": render_stored(app.config, last.voided_reason, lang)}}


def _only(only: tuple[set[str], set[str]] | None) -> dict[str, Any]:
    """A role the step's checks narrow to some people (a pairing cadre to their own households): which
    roles, and who they are (the page offers the step's form to them alone in that role)."""
    return {} if only is None else {"only": {"roles": sorted(only[0]), "persons": sorted(p for p in only[1] if p)}}


def minimums(app: App, region: str, step, on: date) -> dict[str, int | bool]:
    """What the policy asks of the step's inputs in the region on the day: a notice's days, a
    verification's number of verifiers (the form says them; they had been said only by a refusal)."""
    params = app.config.policy.params(province_of(region), on.year)
    found = {}
    if step.type == "notice" and step.days:
        found["days_required"] = int(params["notice_days"][step.days])
        found["days_working"] = step.days in params.get("notice_working_days", ())    # counted in working days
    if step.verifiers:
        found["verifiers_min"] = int(params["verifiers_min"][step.verifiers])
    return found


# Steps whose checks narrow who of a role may do them: (the roles narrowed, the codes left) for the case.
# A pairing cadre signs for their own households only; a problem item's assignee alone receives and
# reports it (the "可办理人" listed every pairing cadre of the village, and every township post).
def _narrowed(conn, case, step) -> tuple[set[str], set[str]] | None:
    if OWN_CADRE in step.checks:
        return {CADRE_ROLE}, set(conn.execute(
            select(t.persons.c.code).join(t.pairings, t.pairings.c.person_id == t.persons.c.id)
            .where(t.pairings.c.case_id == case.id, t.pairings.c.end_date.is_(None))).scalars())
    if ASSIGNEE_ONLY in step.checks:
        return set(step.roles), {case.attrs.get("assignee")}
    if LEADER_ONLY in step.checks:
        return set(step.roles), {case.attrs.get("leader")}
    if ORIGINAL_APPROVER in step.checks and (role := approving_role(case)) in step.roles:
        return set(step.roles) - {role}, set()     # the other posts: nobody of theirs
    return None


def approving_role(case) -> str | None:
    """The post that approved a project's library entry (its plan change goes back to it)."""
    return (case.attrs.get("library_approval") or {}).get("role")


def people_holding(app: App, actor: Actor, region: str, roles: Sequence[str]) -> list[dict[str, str]]:
    """Who holds one of `roles` over a region the reader may read (a step form's choices of verifiers
    or pairing cadres), by code."""
    require_reader(app, actor, region)
    with app.engine.connect() as conn:
        return [{"person": code, "name": name, "role": role} for code, name, role in holders(conn, roles, region)]


def _participant_codes(conn, open_proc) -> dict[str, str]:
    """Everyone already in the open procedure (separation of duties excludes them): code -> name."""
    return dict(person_names(conn, participants(open_proc)).values())


def _objection(facts: CaseFacts, v: Violation) -> str:
    """An open objection is shown with who raised it and what it says."""
    found = [o for o in facts.objections if v.code == "notice.objection" and o.id == v.params["objection"]]
    return "".join(f" — {o.objector}: {o.content}" for o in found)


def render_violation(app: App, v: Violation, lang: str, names: dict | None = None) -> list[str]:
    """A violation in words; a policy check's failures one by one. A region or person it names is
    named as a reader knows them (洋塘村（360730100201）), not by its code alone; `names`: the names
    looked up so far, kept for the next (a list's thousands of refusals name the same few)."""
    if v.code.startswith("check.") and v.params.get("failures"):
        return [render_failure(app.config, (code, with_names(app, params, lang, names=names)), lang, advised=True)
                for code, params in v.params["failures"]]
    return [Violation(v.code, with_names(app, v.params, lang, names=names), v.kind).error().render(app.config, lang)]


# A refusal's params that hold a region's or a person's code: a rule's refusal names the person who
# signed, objected or is a relative by name (黄陂村主任（v01_secretary）已在本程序中签署…), where a
# person code alone had said nothing to the cadres reading it; a refusal of access (auth.*) names
# the reader, by the code they signed in with, as it is.
_REGION_PARAMS, _PERSON_PARAMS = ("region",), ("assignee", "person")
_ACCESS_PERSON_PARAMS = ("assignee",)


def with_names(app: App, params: dict[str, Any], lang: str,
               person_params: tuple[str, ...] = _PERSON_PARAMS, names: dict | None = None) -> dict[str, Any]:
    """`params` with each region and person code written as its name with the code in parentheses
    (two indexed lookups by primary/unique key; a code not found is left as it is). `names`: a dict
    the caller keeps over many calls, {("region"|"person", code): name or None}, asked first and filled
    (a list's 4,000 refusals looked the same county up 16,000 times: 22 of its 26 seconds)."""
    regions = {params[k] for k in _REGION_PARAMS if isinstance(params.get(k), str)}
    persons = {params[k] for k in person_params if isinstance(params.get(k), str)}
    if not regions and not persons:
        return params
    known = {} if names is None else names
    regions_new = sorted(c for c in regions if ("region", c) not in known)
    persons_new = sorted(c for c in persons if ("person", c) not in known)
    if regions_new or persons_new:
        with app.engine.connect() as conn:
            found = dict(conn.execute(select(t.regions.c.code, t.regions.c.name).where(
                t.regions.c.code.in_(regions_new))).all()) if regions_new else {}
            known.update({("region", c): found.get(c) for c in regions_new})
            found = dict(conn.execute(select(t.persons.c.code, t.persons.c.name).where(
                t.persons.c.code.in_(persons_new))).all()) if persons_new else {}
            known.update({("person", c): found.get(c) for c in persons_new})
    region_names = {c: known[("region", c)] for c in regions}
    person_names_ = {c: known[("person", c)] for c in persons}

    def named(key: str, value: Any) -> Any:
        names = region_names if key in _REGION_PARAMS else person_names_ if key in person_params else {}
        name = names.get(value) if isinstance(value, str) else None
        return noted(name, value, lang) if name and name != value else value
    return {k: named(k, v) for k, v in params.items()}


def named_error(app: App, exc, lang: str, names: dict | None = None):
    """The refusal `exc` (a JingzhunError) with its region and person codes named (see with_names, and
    its `names`): a copy, or `exc` itself when it names none."""
    import copy
    from engine.domain.errors import AuthError
    params = with_names(app, exc.params, lang, _ACCESS_PERSON_PARAMS if isinstance(exc, AuthError) else _PERSON_PARAMS,
                        names)
    if params is exc.params:
        return exc
    named = copy.copy(exc)
    named.params = params
    return named


def check_step(app: App, actor: Actor, case_id: int, procedure: str, step_key: str, as_of: date | None = None,
               inputs=None) -> list[Violation]:
    """Every rule that would refuse `actor` doing `step_key` of `procedure` on the case as of `as_of`
    (default as in `next_for`): a dry run of the step, writing nothing. With `inputs` (a StepInput)
    the step type's own rules are judged too."""
    with app.engine.connect() as conn:
        repo = SqlCaseRepository(conn)
        case = repo.cases([case_id])[case_id]
        require_reader(app, actor, case.region_code)
        proc_def = app.config.workflows[case.kind].procedures.get(procedure)
        if proc_def is None:
            raise BadInput("procedure.unknown", procedure=procedure, known=", ".join(
                app.config.workflows[case.kind].procedures))
        step = _step_of(proc_def, procedure, step_key)
        facts = beside(repo.facts([case], proc_def.evidence_types(), actor.person_id, step.type in SIGNING_TYPES,
                                  kept=app.config.workflows[case.kind].per_procedure_types())[case_id],
                       procedure, proc_def)
        facts.last_recorded_on = repo.last_recorded_on(case_id)
        on = as_of or (inputs.date if inputs is not None and inputs.date else None) \
            or default_as_of(facts, app.clock.today())
        return can_proceed(app, conn, actor, facts, procedure, step, on, inputs).violations


def judged_at_step(app: App, conn, actor: Actor, kind: str, procedure: str, step_key: str,
                   case_ids: Sequence[int]):
    """Each case of `case_ids` (of `kind`, waiting at `step_key` of `procedure`) with its facts and the verdict
    of the step's rules for `actor`, judged as the step would judge it today: (case id, facts, verdict), the
    facts read in one batch. What a village's list holds back and which checks its sheet replaces read it."""
    workflow = app.config.workflows[kind]
    proc_def = workflow.procedures[procedure]
    step = proc_def.step(step_key)
    repo, today = SqlCaseRepository(conn), app.clock.today()
    cases = repo.cases(list(case_ids))
    facts = repo.facts(list(cases.values()), proc_def.evidence_types(), actor.person_id, step.type in SIGNING_TYPES,
                       kept=workflow.per_procedure_types()) if cases else {}
    for case_id in case_ids:
        yield case_id, facts[case_id], can_proceed(app, conn, actor, facts[case_id], procedure, step,
                                                   default_as_of(facts[case_id], today))


def holds_at_step(app: App, conn, actor: Actor, cases: Sequence[Any], lang: str) -> dict[int, list[str]]:
    """What holds each case at the step it waits for, `actor` doing it (`case next`'s blockers: an income too
    old, a check to redo), in words, as the step would judge it today; not the actor's own want of a post or
    duty. `cases`: rows with id, kind, pending_procedure and pending_step; the facts of those waiting at one
    step read at once."""
    by_step: dict[tuple, list[int]] = {}
    for c in cases:
        if c.pending_procedure and c.pending_step:
            by_step.setdefault((c.kind, c.pending_procedure, c.pending_step), []).append(c.id)
    found: dict[int, list[str]] = {}
    for (kind, procedure, step), ids in by_step.items():
        for case_id, facts, verdict in judged_at_step(app, conn, actor, kind, procedure, step, ids):
            found[case_id] = [said for v in verdict.violations if not v.personal
                              for said in render_violation(app, v, lang)]
    return found


def _step_of(proc_def, procedure: str, step_key: str):
    try:
        return proc_def.step(step_key)
    except KeyError:
        raise BadInput("step.unknown", procedure=procedure, step=step_key,
                       known=", ".join(s.key for s in proc_def.steps)) from None
