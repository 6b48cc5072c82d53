"""Actions on a case besides procedure steps: evidence, objections to notices, relatives."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Callable, Sequence

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from engine.adapters import tables as t
from engine.adapters.app import App
from engine.domain.auth import Actor
from engine.domain.deadline_rules import wall_clock
from engine.domain.errors import (BadInput, CaseChanged, ChangedMeanwhile, Codes, Msg, NotFound, RuleViolation,
                                  own_words, stored)
from engine.domain.evidence import coerce_fields, content_hash, next_year
from engine.domain.kin import KIN, kin_code
from engine.domain.record_digests import attrs_digest
from engine.domain.regions import common_ancestor
from engine.reads.visits import VISITED_STAGES
from engine.reads.words import figure
from engine.services.org import person_ids, persons_holding, refuse_read_only, require_role
from engine.domain.cases import SIGNING_TYPES, CaseRow, OpenProcedure, measure_status
from engine.domain.guards import dated_before_followed, raise_first
from engine.adapters.repository import held_evidence, load_cases, load_members, load_open_procedures
from engine.adapters.uow import judged_again, judged_again_when_lost
from engine.services.context import workflow_roles
from engine.services.deadlines import (after_objection, after_objection_ruled, after_procedure_ended,
                                      after_procedure_rejected, after_risk_visit, after_steps_voided)
from engine.services.procedures import pending_after_end


def signing_roles(app: App) -> list[str]:
    return [name for name, r in app.config.roles.items() if not (r.read_only or r.admin)]


def append_case_event(app: App, conn: Connection, actor: Actor, case: CaseRow, action: str, role: str,
                      *, expect_version: int | None = None, evidence: list | None = None,
                      procedure_id: int | None = None, reason: str | None = None,
                      pending: tuple | None = None, close_procedure: bool = False, **detail: Any) -> None:
    """Bump the case version (optimistic lock) and append its audit event, in `conn`'s transaction."""
    if expect_version is not None and expect_version != case.version:
        raise CaseChanged(case.id, expected=expect_version, found=case.version)
    values: dict[str, Any] = {}
    if pending is not None:
        values.update(pending_procedure=pending[0], pending_step=pending[1])
    if close_procedure:
        values.update(open_procedure_id=None)
    detail["attrs_digest"] = attrs_digest(case.attrs)     # the attributes as they stand (audit verify)
    app.work_on(conn).append_case_event(actor, case, values, action=action, role=role, procedure_id=procedure_id,
                                        reason=reason, evidence_hashes=evidence, detail=detail)


@dataclass
class EvidenceItem:
    case_id: int
    type: str
    fields: dict[str, Any]
    file: Path | None = None
    replace: bool = False
    void_signoffs: bool = False
    reason: str | None = None
    expect_version: int | None = None
    confirm_figure: bool = False      # an income far past the poverty line confirmed as typed (implausible_income)
    line: int | None = None           # its line in the sheet it came from (evidence_sheet.sheet_items)
    # judged against the record before its transaction (a sheet's row: sheet_items), with the item of the
    # type the household held then (its id, or None): another writer's item since is told, not overridden
    judged: bool = False
    in_place_of: int | None = None


def attach_evidence(app: App, actor: Actor, case_id: int, etype: str, fields: dict[str, Any],
                    file: Path | None = None, **options: Any) -> int:
    """Attach a typed evidence item; replacing one a step of the open procedure relied on must void
    that step and the later ones. A person's replacement reason is their own words (a sheet's items
    carry the engine's)."""
    own_words(options.get("reason"))
    return attach_evidence_many(app, actor, [EvidenceItem(case_id, etype, fields, file, **options)])[0]


def attach_evidence_many(app: App, actor: Actor, items: Sequence[EvidenceItem], source: dict | None = None,
                         before_commit: Callable[[], None] | None = None) -> list[int]:
    """Attach many items (a village's income computations, say) in one transaction: all or none.
    `source` (a sheet's file name, sha256, skipped rows) adds one `evidence_imported` event naming it.
    `before_commit()`, called once all is written and before it commits, writes what must not be lost
    with it (a sheet's bad rows): where it fails (a full disk) nothing is attached."""
    refuse_read_only(app, actor, "evidence add")
    if not items:
        raise BadInput("evidence.none")
    new_files: list[str] = []
    try:      # a household another writer changed meanwhile: the items judged again as it now stands
        return judged_again(lambda: _attach_all(app, actor, items, source, new_files, before_commit))
    except BaseException:
        app.evidence.discard(new_files)   # files stored for a refused attach go too
        raise


def _attach_all(app: App, actor: Actor, items: Sequence[EvidenceItem], source: dict | None,
                new_files: list[str], before_commit: Callable[[], None] | None = None) -> list[int]:
    """The items attached in one transaction (see attach_evidence_many)."""
    with app.transaction() as conn:
        cases = load_cases(conn, list(dict.fromkeys(i.case_id for i in items)))
        ids = [_attach(app, conn, actor, cases[item.case_id], item, new_files, _from_sheet(source, item))
               for item in items]
        from engine.services.deadlines import after_clues, after_evidence
        after_evidence(app, conn, ids, {i.type for i in items})   # work shown done closes its deadline
        # a first clue (a department's list, a clue typed before its procedure): the days to identify run
        after_clues(app, conn, cases, ids, {i.type for i in items}, app.clock.now())
        if source is not None:
            first = cases[items[0].case_id]
            used = require_role(app, actor, workflow_roles(app, first.kind), first.region_code, "evidence add")
            where = common_ancestor({c.region_code for c in cases.values()})   # what it covered, not the post
            app.work_on(conn).append_org_event(actor, "evidence_imported", used.role, where, **source,
                                               items=len(ids), types=sorted({i.type for i in items}))
        if before_commit is not None:
            before_commit()
        return ids


def _from_sheet(source: dict | None, item: EvidenceItem) -> dict | None:
    """Where a sheet's item came from, for its case event: the sheet (file, SHA-256) and the line, so that
    a household's trace says which sheet's row put this income on it."""
    if source is None:
        return None
    return {"file": source.get("file"), "sha256": source.get("sha256"), "line": item.line}


def _file_required(app: App, etype: str) -> RuleViolation:
    """A type whose file is required, attached without one: the refusal says which paper to attach
    where the catalogue describes it (`evidence_file.<type>`: a wrong inclusion's written finding)."""
    if f"evidence_file.{etype}" in app.config.labels:
        return RuleViolation("evidence.file_required_what", type=etype, what=Msg(f"evidence_file.{etype}"))
    return RuleViolation("evidence.file_required", type=etype)


def _attach(app: App, conn: Connection, actor: Actor, case: CaseRow, item: EvidenceItem,
            new_files: list[str], sheet: dict | None = None) -> int:
    etype, case_id, reason, file = item.type, case.id, item.reason, item.file
    if item.expect_version is not None and item.expect_version != case.version:
        raise CaseChanged(case_id, expected=item.expect_version, found=case.version)
    workflow = app.config.workflows[case.kind]
    definition = workflow.evidence_types.get(etype)
    if definition is None:
        owner = next((k for k, wf in app.config.workflows.items() if etype in wf.evidence_types), None)
        if owner is not None:       # a type there is, of another kind of case (a village's profile on a problem item)
            raise BadInput("evidence.type_of_other_kind", type=Msg(f"evidence.{etype}"), owner=Msg(f"kind.{owner}"),
                           kind=Msg(f"kind.{case.kind}"), case=case_id)
        raise BadInput("evidence.unknown_type", type=etype, known=", ".join(workflow.evidence_types))
    values = coerce_fields(etype, definition, item.fields, app.clock.today(), app.config.labels)
    if definition.file and file is None:
        raise _file_required(app, etype)
    assignment = require_role(app, actor, workflow_roles(app, case.kind), case.region_code, "evidence add")
    current = held_evidence(conn, etype, [case_id], definition.per_procedure).get(case_id)
    if item.judged and (current.id if current is not None else None) != item.in_place_of:
        raise _held_meanwhile(app, conn, case_id, etype, current)
    open_proc, first = None, None
    if current is not None:
        later = next_year(values, current.fields)      # a new year's record: added as such, no reason asked
        if not item.replace and later is None:
            raise BadInput("evidence.exists", type=etype, case=case_id, id=current.id)
        if later is not None and not (reason and reason.strip()):
            reason = stored(Msg("evidence.next_year", {"year": later, "before": current.fields["year"]}))
        if not (reason and reason.strip()):
            raise BadInput("evidence.reason_required")
        open_proc = load_open_procedures(conn, [case]).get(case_id)
        first = _first_relying(open_proc, _naming(current.id))
        if first is not None and not item.void_signoffs:
            if later is not None:
                raise later_year_refused(case_id, etype, open_proc, current.id, current.fields["year"], later)
            raise RuleViolation("evidence.frozen", case=case_id, type=etype, step=open_proc.steps[first].step_key,
                                count=len(open_proc.steps) - first)
    elif item.replace:
        raise BadInput("evidence.nothing_to_replace", type=etype, case=case_id)
    implausible = implausible_income(app, definition, etype, values, case.province, len(load_members(conn, case_id))) \
        if income_type(definition) else None
    if implausible is not None and not item.confirm_figure:
        raise implausible
    if follows_a_step(workflow, etype):
        standing = open_proc if open_proc is not None else load_open_procedures(conn, [case]).get(case_id)
        if standing is not None and first is not None:      # the steps this replacement voids are not
            standing = OpenProcedure(standing.id, standing.kind, standing.steps[:first])    # followed any more
        raise_first(dated_out_of_order(app, case.kind, case_id, standing, etype, values))
    file_sha = None
    if file is not None:
        file_sha, created = app.evidence.put(Path(file))
        if created:
            new_files.append(file_sha)
    row = {"case_id": case_id, "type": etype, "fields": values, "file_sha256": file_sha,
           "file_name": Path(file).name if file is not None else None,
           "content_hash": content_hash(etype, values, file_sha), "attached_by": actor.person_id,
           "attached_at": app.clock.now()}
    new_id = conn.execute(_INSERT_EVIDENCE, row).inserted_primary_key[0]
    if current is not None:
        conn.execute(update(t.evidence).where(t.evidence.c.id == current.id).values(
            superseded_by=new_id, supersede_reason=reason))
    voided, pending = [], None
    if first is not None:
        voided, pending = _void_from(app, conn, case, open_proc, first,
                                     stored(Msg("void_reason.evidence_replaced",
                                                {"type": etype, "id": current.id, "reason": reason})))
    ref = {"id": new_id, "type": etype, "hash": row["content_hash"], "file": file_sha}
    append_case_event(app, conn, actor, case, "evidence_replaced" if current else "evidence_attached",
                      assignment.role, expect_version=item.expect_version, evidence=[ref],
                      procedure_id=open_proc.id if voided else None, reason=reason, pending=pending,
                      type=etype, replaced=current.id if current else None, voided_steps=voided,
                      **({"figure_confirmed": True} if implausible is not None else {}),
                      **({"sheet": sheet} if sheet else {}))
    return new_id


def _held_meanwhile(app: App, conn: Connection, case_id: int, etype: str, current) -> BadInput:
    """An item judged (a sheet's row) as the household stood, refused since another writer attached or
    replaced the item of its type: which one, by whom, when (on the office's clock)."""
    if current is None:      # the one it was to take the place of is gone (a per-procedure type's new procedure)
        return BadInput("evidence.nothing_to_replace", type=etype, case=case_id)
    who, at, kind = conn.execute(select(t.persons.c.code, t.evidence.c.attached_at, t.cases.c.kind).join(
        t.persons, t.persons.c.id == t.evidence.c.attached_by).join(t.cases, t.cases.c.id == t.evidence.c.case_id)
        .where(t.evidence.c.id == current.id)).one()
    # a village's or a project's case is looked at on its case's page, not a household's
    return BadInput("sheets.held_meanwhile" if kind == "household" else "sheets.held_meanwhile_case", case=case_id,
                    type=etype, id=current.id, person=who, at=wall_clock(app.config, at))


# An income a head over this many times the year's poverty line is refused unless the person confirms
# the figure: 50 x the Jiangxi 2019 line (3,747 yuan) is about 187,000 yuan a head, above any real rural
# household's income, while a figure typed with two or three extra digits is always over it. Unchecked,
# one mistyped figure decides an exit (or an identification) check with nobody noticing. It bounds
# typing, not policy: a confirmed figure stands, and the confirmation is on the case's record.
IMPLAUSIBLE_INCOME_FACTOR = 50


def income_type(definition) -> bool:
    """Whether items of the type give a year's income (a `year` and a `net_income`, as the income
    checks read them): only those are held to IMPLAUSIBLE_INCOME_FACTOR (their members counted)."""
    return definition.fields.get("year") == "year" and definition.fields.get("net_income") == "number"


def implausible_income(app: App, definition, etype: str, values: dict[str, Any], province: str,
                       members: int) -> BadInput | None:
    """The refusal of an income item (`income_type`) whose income a head, over the household's active
    members, is past IMPLAUSIBLE_INCOME_FACTOR times the poverty line of its province and year (for a
    year past the policy file's lines, its last one); None when it is within it or the type has no income."""
    if not income_type(definition) or values.get("year") is None or values.get("net_income") is None:
        return None
    found = _line_of(app.config.policy, province, int(values["year"]))
    if found is None:
        return None
    line, year = found
    per_capita = float(values["net_income"]) / (members or 1)
    if per_capita <= line * IMPLAUSIBLE_INCOME_FACTOR:
        return None
    return BadInput("evidence.income_implausible", type=etype, net_income=figure(values["net_income"]),
                    members=members or 1, per_capita=figure(round(per_capita)), factor=IMPLAUSIBLE_INCOME_FACTOR,
                    line=figure(line), year=year)


def _line_of(policy, province: str, year: int) -> tuple[float, int] | None:
    """The income line the income checks hold the province's `year` to, and its year."""
    earlier = [y for y in policy.data.national_income_line if y < year]
    for each in [year] + ([max(earlier)] if earlier else []):
        found = policy.income_line(province, each)
        if found is not None:
            return found[0], each
    return None


def follows_a_step(workflow, etype: str) -> bool:
    """Whether a step bringing evidence of `etype` follows an earlier step (`follows` in the workflow)."""
    return any(etype in step.evidence and step.follows is not None
               for proc in workflow.procedures.values() for step in proc.steps)


def dated_out_of_order(app: App, kind: str, case_id: int, open_proc, etype: str, values: dict[str, Any]) -> list:
    """Dates in order as an item comes in: one a step of the open procedure brings that follows an
    earlier step already done (the household's confirmation of the proposal) is not dated before it."""
    workflow = app.config.workflows[kind]
    proc_def = workflow.procedures.get(open_proc.kind) if open_proc is not None else None
    if proc_def is None:
        return []
    kinds = workflow.evidence_types[etype].fields
    return [v for step in proc_def.steps if etype in step.evidence and step.follows is not None
            for v in dated_before_followed(case_id, open_proc, step, etype, values, kinds)]


_INSERT_EVIDENCE = insert(t.evidence)


def void_relying_steps(app: App, conn: Connection, case: CaseRow, what: str, void_signoffs: bool,
                       reason: str, checks: frozenset[str] = frozenset()) -> tuple[list[dict], tuple | None, int | None]:
    """A change to facts of the case (its members, say) voids the steps of the open procedure that
    relied on them, from the first on, if confirmed: its sign-offs (a signer vouches for the whole
    file) and each step running one of `checks` (the checks that read those facts: a proposal held to
    the exit standard read the members' count, schooling and insurance).

    Returns the voided steps, the case's new pending step and the procedure id (or nothing to void).
    """
    open_proc = load_open_procedures(conn, [case]).get(case.id)
    first = _first_relying(open_proc, _reading(app, case, open_proc, checks))
    if first is None:
        return [], None, None
    if not void_signoffs:
        raise RuleViolation("facts.frozen", case=case.id, what=what, step=open_proc.steps[first].step_key,
                            count=len(open_proc.steps) - first)
    voided, pending = _void_from(app, conn, case, open_proc, first,
                                 stored(Msg("void_reason.facts_changed", {"what": what, "reason": reason})))
    return voided, pending, open_proc.id


def later_year_refused(case_id: int, etype: str, open_proc, evidence_id: int, before: Any, year: int
                       ) -> RuleViolation | None:
    """A later year's item refused, said alike on every way in (`evidence add`, the case page, the API, a
    village's sheet), when a step of the open procedure relied on the earlier year's item it takes the
    place of: it would void that step and those after it (how many), confirmed on the household's page
    (`--void-signoffs`), which a sheet does not do. None when no step relied on it."""
    first = _first_relying(open_proc, _naming(evidence_id))
    if first is None:
        return None
    return RuleViolation("evidence.year_relied_on", case=case_id, type=etype, before=before, year=year,
                         step=open_proc.steps[first].step_key, count=len(open_proc.steps) - first)


def step_relying_on(open_proc, evidence_id: int) -> str | None:
    """The first step of the open procedure that relied on the evidence item, if any (its key)."""
    first = _first_relying(open_proc, _naming(evidence_id))
    return None if first is None else open_proc.steps[first].step_key


def _first_relying(open_proc, relied_on) -> int | None:
    """Index of the open procedure's first step for which `relied_on(step)` holds, if any: voiding it
    voids every later step too (each came after it, and the last ones vouch for all before them)."""
    if open_proc is None:
        return None
    return next((i for i, s in enumerate(open_proc.steps) if relied_on(s)), None)


def _naming(evidence_id: int):
    """Whether a step relied on the evidence item: its record names the item (a sign-off names every
    item of its procedure's types; a step bringing evidence, as an application, a proposal or a
    household's acknowledgement, the items it was done with)."""
    return lambda s: any(e.get("id") == evidence_id for e in s.evidence_hashes or [])


def _reading(app: App, case: CaseRow, open_proc, checks: frozenset[str]):
    """Whether a step relied on facts that `checks` read: a sign-off, or a step running one of them."""
    if open_proc is None:
        return lambda s: False
    ran = {s.key: set(s.checks) for s in app.config.workflows[case.kind].procedures[open_proc.kind].steps}
    return lambda s: s.step_type in SIGNING_TYPES or bool(ran.get(s.step_key, set()) & checks)


def _void_from(app: App, conn: Connection, case: CaseRow, open_proc, first: int, reason: str) -> tuple[list, tuple]:
    """Void step `first` of the open procedure and every later one; returns them and the new pending step."""
    voided = [{"id": s.id, "step": s.step_key} for s in open_proc.steps[first:]]
    conn.execute(update(t.steps).where(t.steps.c.id.in_([v["id"] for v in voided])).values(
        voided_at=app.clock.now(), voided_reason=reason))
    proc_def = app.config.workflows[case.kind].procedures[open_proc.kind]
    after_steps_voided(conn, case.id, open_proc.id, app.clock.now(),     # it no longer waits for a later step
                       app, case, proc_def.steps[first], open_proc.steps[:first])
    return voided, (open_proc.kind, proc_def.steps[first].key)


OBJECTION_RECORDERS = ("village_secretary", "village_director", "first_secretary", "resident_team_leader",
                       "resident_team_member", "township_staff", "township_head", "township_secretary")
OBJECTION_RESOLVERS = ("township_head", "township_secretary", "township_staff", "county_office_staff",
                       "county_office_director")


@judged_again_when_lost
def file_objection(app: App, actor: Actor, notice_id: int, case_id: int, objector: str, content: str,
                   filed_on: date | None = None) -> int:
    """Record an objection raised during a notice; it blocks the case's procedure until resolved."""
    refuse_read_only(app, actor, "notice object")      # before anything of the notice is told
    if not (objector and objector.strip()) or not (content and content.strip()):
        raise BadInput("objection.incomplete")
    filed_on = filed_on or app.clock.today()
    with app.transaction() as conn:
        notice = conn.execute(select(t.notices).where(t.notices.c.id == notice_id)).first()
        if notice is None:
            raise NotFound("notice.unknown", notice=notice_id)
        link = conn.execute(select(t.notice_cases).where(t.notice_cases.c.notice_id == notice_id,
                                                         t.notice_cases.c.case_id == case_id)).first()
        if link is None:
            raise BadInput("notice.case_not_listed", notice=notice_id, case=case_id)
        if filed_on > app.clock.today():      # a day not yet come, whether the notice runs then or not
            raise RuleViolation("date.future", date=filed_on, today=app.clock.today())
        # The notice runs from its start up to the day before end_date; on end_date the next step may run.
        if not notice.start_date <= filed_on < notice.end_date:
            raise RuleViolation("objection.outside_notice", notice=notice_id, start=notice.start_date,
                                end=notice.end_date, date=filed_on)
        case = load_cases(conn, [case_id])[case_id]
        assignment = require_role(app, actor, OBJECTION_RECORDERS, case.region_code, "notice object")
        open_proc = load_open_procedures(conn, [case]).get(case_id)
        if open_proc is None or open_proc.id != link.procedure_id or not open_proc.steps \
                or open_proc.steps[-1].notice_id != notice_id:
            raise RuleViolation("objection.notice_passed", notice=notice_id, case=case_id)
        oid = conn.execute(insert(t.objections).values(
            notice_id=notice_id, case_id=case_id, objector=objector.strip(), content=content.strip(),
            filed_on=filed_on, recorded_by=actor.person_id, recorded_at=app.clock.now())).inserted_primary_key[0]
        append_case_event(app, conn, actor, case, "objection_filed", assignment.role,
                          procedure_id=link.procedure_id, notice=notice_id, objection=oid,
                          objector=objector.strip(), content=content.strip(), filed_on=filed_on.isoformat())
        after_objection(app, conn, case, oid, filed_on, actor.person_id, app.clock.now())   # to be ruled on within days
        _tell_resolvers(app, conn, actor, case, notice_id, oid, objector.strip(), content.strip())
    return oid


def _tell_resolvers(app: App, conn: Connection, actor: Actor, case, notice_id: int, oid: int, objector: str,
                    content: str) -> None:
    """Those of the township who may resolve the objection (its posts over the case; not who recorded it)
    hear of it at once, over their channels, in the same transaction: until it is resolved the
    household's procedure waits."""
    from engine.services.org import holders
    from engine.services.plugins import ObjectionMessage
    told = [r for r in OBJECTION_RESOLVERS if not r.startswith("county_")]     # the township's: not a county's every one
    codes = {code for code, _name, _role in holders(conn, told, case.region_code)} - {actor.code}
    if not codes:
        return
    ids = list(person_ids(conn, sorted(codes)).values())
    channels = [c for chans in app.plugins.channels_of(conn, ids).values() for c in chans]
    if channels:
        app.plugins.enqueue_objection(app, conn, ObjectionMessage(
            objection=oid, notice=notice_id, case=case, recorder=(actor.person_id, actor.code, actor.name),
            objector=objector, content=content), channels, app.clock.now())


OBJECTION_RULING = "objection_ruling"       # the evidence type of the checks a ruling rests on (its file)


@judged_again_when_lost
def resolve_objection(app: App, actor: Actor, objection_id: int, upheld: bool, reason: str,
                      ruled_on: date | None = None, verifiers: Sequence[str] = (), file: Path | None = None) -> str:
    """Dismiss an objection (the procedure may go on) or uphold it (the procedure is rejected). The
    ruling takes effect on `ruled_on` (the township's visit: not after today, not before the objection;
    today if not given); `verifiers` are the persons of the village or township (their codes) who
    verified it on the spot, as a verification step names its verifiers; `file` the checks it rests on
    (a registry's answer, a visit's record: a photo or scan), kept as the case's evidence, hashed."""
    refuse_read_only(app, actor, "notice resolve")     # before anything of the objection is told
    own_words(reason, "objection.reason_required")
    ruled_on = ruled_on or app.clock.today()
    if ruled_on > app.clock.today():
        raise RuleViolation("date.future", date=ruled_on, today=app.clock.today())
    codes = list(dict.fromkeys(c.strip() for c in verifiers if c and c.strip()))
    new_files: list[str] = []
    try:
        return _resolve(app, actor, objection_id, upheld, reason, ruled_on, codes, file, new_files)
    except BaseException:
        app.evidence.discard(new_files)       # a file stored for a refused ruling goes too
        raise


def _ruling_file(app: App, conn: Connection, actor: Actor, case_id: int, file: Path | None,
                 new_files: list[str]) -> dict[str, Any] | None:
    """The checks a ruling rests on as the case's evidence item (its file stored, told by its content:
    a photo or scan); its reference, or None without a file."""
    if file is None:
        return None
    sha, created = app.evidence.put(Path(file))
    if created:
        new_files.append(sha)
    row = {"case_id": case_id, "type": OBJECTION_RULING, "fields": {}, "file_sha256": sha,
           "file_name": Path(file).name, "content_hash": content_hash(OBJECTION_RULING, {}, sha),
           "attached_by": actor.person_id, "attached_at": app.clock.now()}
    row["id"] = conn.execute(insert(t.evidence), row).inserted_primary_key[0]
    return {"id": row["id"], "type": OBJECTION_RULING, "hash": row["content_hash"], "file": sha}


def _resolve(app: App, actor: Actor, objection_id: int, upheld: bool, reason: str, ruled_on: date,
             codes: list[str], file: Path | None, new_files: list[str]) -> str:
    with app.transaction() as conn:
        obj = conn.execute(select(t.objections).where(t.objections.c.id == objection_id)).first()
        if obj is None:
            raise NotFound("objection.unknown", objection=objection_id)
        if obj.resolution is not None:
            raise RuleViolation("objection.resolved", objection=objection_id, resolution=obj.resolution)
        case = load_cases(conn, [obj.case_id])[obj.case_id]
        assignment = require_role(app, actor, OBJECTION_RESOLVERS, case.region_code, "notice resolve")
        if obj.recorded_by == actor.person_id:
            raise RuleViolation("duty.own_objection", person=actor.code, objection=objection_id)
        if ruled_on < obj.filed_on:
            raise RuleViolation("objection.ruled_before_filed", objection=objection_id, date=ruled_on,
                                filed_on=obj.filed_on)
        held = persons_holding(conn, codes, OBJECTION_RECORDERS, case.region_code) if codes else {}
        lacking = [c for c in codes if c not in held]
        if lacking:
            raise RuleViolation("objection.verifier_role", persons=", ".join(lacking))
        resolution = "upheld" if upheld else "dismissed"
        now = app.clock.now()
        ref = _ruling_file(app, conn, actor, case.id, file, new_files)
        after_objection_ruled(conn, case.id, objection_id, now)
        conn.execute(update(t.objections).where(t.objections.c.id == objection_id).values(
            resolution=resolution, resolution_reason=reason.strip(), resolved_by=actor.person_id, resolved_at=now,
            resolved_on=ruled_on, resolution_verifiers=codes or None,
            resolution_evidence_id=ref["id"] if ref else None))
        link = conn.execute(select(t.notice_cases.c.procedure_id).where(
            t.notice_cases.c.notice_id == obj.notice_id, t.notice_cases.c.case_id == obj.case_id)).scalar()
        pending = None
        rejected = False
        if upheld:
            open_proc = load_open_procedures(conn, [case]).get(case.id)      # its steps, before it ends
            outcome = stored(Msg("outcome_reason.objection_upheld", {"objection": objection_id, "reason": reason.strip()}))
            rejected = bool(conn.execute(update(t.procedures).where(
                t.procedures.c.id == link, t.procedures.c.status == "open").values(
                status="rejected", ended_at=now, outcome_reason=outcome)).rowcount)
            if rejected:
                pending = pending_after_end(app, app.config.workflows[case.kind], case, case.stage, "rejected", conn)
                after_procedure_rejected(conn, case.id, link, now)
                after_procedure_ended(app, conn, case, now)     # a sample check's wrong exit waiting on it
                _tell_upheld(app, conn, actor, case, open_proc, obj.notice_id, link, assignment.role, outcome, now)
        append_case_event(app, conn, actor, case, "objection_resolved", assignment.role, procedure_id=link,
                          reason=reason.strip(), pending=pending, close_procedure=rejected,
                          evidence=[ref] if ref else None, objection=objection_id, resolution=resolution,
                          **({"ruling_evidence": ref["id"]} if ref else {}),
                          procedure_rejected=rejected, ruled_on=ruled_on.isoformat(), verifiers=codes)
    return resolution


def _tell_upheld(app: App, conn: Connection, actor: Actor, case: CaseRow, open_proc, notice_id: int, procedure_id: int,
                 role: str, outcome: str, now) -> None:
    """An objection upheld ends its procedure rejected: those who did its steps hear of it as they do
    of a step's rejection (at the notice's step, with the objection's finding as the reason)."""
    from engine.services.rejections import Rejected, tell_of_rejections
    if open_proc is None or open_proc.id != procedure_id:
        return
    notice = conn.execute(select(t.notices.c.procedure_kind, t.notices.c.step_key).where(
        t.notices.c.id == notice_id)).first()
    tell_of_rejections(app, conn, actor, notice.procedure_kind, notice.step_key,
                       [Rejected(case, open_proc, role, outcome, procedure_id)], app.clock.today(), now)


@judged_again_when_lost
def record_relative(app: App, actor: Actor, case_id: int, person_code: str, relation: str, reason: str) -> str:
    """Record that a cadre is a relative of the household: they may not sign off its steps. Only the
    case's own cadres may say so, with a reason (remove_relative takes it back). The relation is one of
    the kinship list (engine/domain/kin.py: its code, label or word, 外甥女 is niece), kept as its code,
    which is returned; a word it does not name is refused with the list."""
    if not (relation and relation.strip()):
        raise BadInput("relative.no_relation")
    kin = kin_code(relation)
    if kin is None:
        raise BadInput("relative.bad_relation", value=relation.strip()[:40], known=Codes("kin", tuple(KIN)))
    own_words(reason, "relative.reason_required")
    with app.transaction() as conn:
        case = load_cases(conn, [case_id])[case_id]
        assignment = require_role(app, actor, workflow_roles(app, case.kind), case.region_code, "relative add")
        pid = person_ids(conn, [person_code])[person_code]
        if conn.execute(_RELATIVE, {"case_id": case_id, "person_id": pid}).first():
            raise _relative_recorded(app, conn, case_id, person_code)
        try:
            conn.execute(insert(t.relatives).values(case_id=case_id, person_id=pid, relation=kin))
        except IntegrityError:      # a colleague recorded the same relative since the check: judged again
            raise ChangedMeanwhile(case_id, after=case.event_count) from None
        append_case_event(app, conn, actor, case, "relative_recorded", assignment.role, reason=reason.strip(),
                          person=person_code, relation=kin)
    return kin


def _relative_recorded(app: App, conn: Connection, case_id: int, person_code: str) -> BadInput:
    """A relative declared twice refused: already recorded, by whom and when (on the office's clock), as
    the event that recorded it says."""
    ae = t.audit_events.c
    recorded = next((r for r in conn.execute(select(ae.person_code, ae.at, ae.detail).where(
        ae.case_id == case_id, ae.action == "relative_recorded").order_by(ae.case_seq.desc()))
        if r.detail.get("person") == person_code), None)
    if recorded is None:
        return BadInput("relative.exists", person=person_code, case=case_id)
    return BadInput("relative.recorded_by", person=person_code, case=case_id, by=recorded.person_code,
                    at=wall_clock(app.config, recorded.at))


@judged_again_when_lost
def remove_relative(app: App, actor: Actor, case_id: int, person_code: str, reason: str) -> None:
    """Take back a declaration that a cadre is a relative of the household (made in error, or the
    relation ended): they may sign off its steps again. The audit log keeps both, with reasons."""
    own_words(reason, "relative.reason_required")
    with app.transaction() as conn:
        case = load_cases(conn, [case_id])[case_id]
        assignment = require_role(app, actor, workflow_roles(app, case.kind), case.region_code, "relative remove")
        pid = person_ids(conn, [person_code])[person_code]
        current = conn.execute(_RELATIVE, {"case_id": case_id, "person_id": pid}).first()
        if current is None:
            raise BadInput("relative.none", person=person_code, case=case_id)
        conn.execute(delete(t.relatives).where(t.relatives.c.case_id == case_id, t.relatives.c.person_id == pid))
        append_case_event(app, conn, actor, case, "relative_removed", assignment.role, reason=reason.strip(),
                          person=person_code, relation=current.relation)


_RELATIVE = select(t.relatives).where(t.relatives.c.case_id == bindparam("case_id"),
                                      t.relatives.c.person_id == bindparam("person_id"))


@dataclass(frozen=True)
class VisitRecorded:
    """A visit recorded (or corrected): its id; `again` when the same visit was on record already (typed
    or sent twice: stored once); `paired` whether the visitor is one of the household's pairing cadres."""
    id: int
    case_id: int
    again: bool = False
    paired: bool = True


@dataclass(frozen=True)
class VisitInput:
    """What a visit says: its day, what was found, whether the household is at risk of poverty, the
    measure of the plan in force it concerns (optional) and what was done and what it brought."""
    visit_date: date
    findings: str
    risk: bool = False
    measure_id: int | None = None
    result: str | None = None


def _visit_judged(app: App, conn: Connection, actor: Actor, case: CaseRow, visit: VisitInput) -> tuple[str, bool]:
    """The role `actor` records a visit on `case` in, and whether they are one of its pairing cadres: a
    pairing cadre visits their own households (帮扶责任人); the village's and township's cadres (first
    secretary, resident team, staff) any in their reach. A measure named must be of this household's plan in force."""
    from engine.services.guards import CADRE_ROLE
    if visit.visit_date > app.clock.today():
        raise RuleViolation("date.future", date=visit.visit_date, today=app.clock.today())
    if case.stage not in VISITED_STAGES:
        raise RuleViolation("visit.stage", case=case.id, stage=case.stage)
    since = case.attrs.get("assisted_since")
    if since and visit.visit_date < date.fromisoformat(since):
        raise RuleViolation("visit.before_assistance", case=case.id, date=visit.visit_date, since=since)
    assignment = require_role(app, actor, signing_roles(app), case.region_code, "visit add")
    paired = conn.execute(select(t.pairings.c.id).where(
        t.pairings.c.case_id == case.id, t.pairings.c.person_id == actor.person_id,
        t.pairings.c.end_date.is_(None))).first() is not None
    if not paired:
        other = actor.first_role([r for r in signing_roles(app) if r != CADRE_ROLE], case.region_code)
        if other is None:
            raise RuleViolation("visit.not_paired", case=case.id)
        assignment = other
    if visit.measure_id is not None:
        m = conn.execute(select(t.measures.c.case_id, t.measures.c.end_date, t.procedures.c.status)
                         .select_from(t.measures).outerjoin(t.procedures, t.procedures.c.id == t.measures.c.procedure_id)
                         .where(t.measures.c.id == visit.measure_id)).first()
        if m is None or m.case_id != case.id or measure_status(m.status, m.end_date) != "in_force":
            raise BadInput("visit.bad_measure", measure=visit.measure_id, case=case.id)
    return assignment.role, paired


def _visit_values(case_id: int, actor: Actor, visit: VisitInput) -> dict[str, Any]:
    return {"case_id": case_id, "person_id": actor.person_id, "visit_date": visit.visit_date,
            "findings": visit.findings.strip(), "risk": visit.risk, "measure_id": visit.measure_id,
            "result": (visit.result or "").strip() or None}


def record_visit(app: App, actor: Actor, case_id: int, visit_date: date, findings: str, risk: bool = False) -> int:
    """A monitoring or assistance visit to the household (四个不摘: assistance continues): its id."""
    return visit_recorded(app, actor, case_id, VisitInput(visit_date, findings, risk)).id


@judged_again_when_lost
def visit_recorded(app: App, actor: Actor, case_id: int, visit: VisitInput) -> VisitRecorded:
    """A visit to the household recorded: the same visit by the same person (day, findings, risk, measure,
    result) on record already is not stored again (a form sent twice, a command typed twice)."""
    own_words(visit.findings, "visit.no_findings")
    own_words(visit.result)
    visit_date, risk = visit.visit_date, visit.risk
    with app.transaction() as conn:
        case = load_cases(conn, [case_id])[case_id]
        role, paired = _visit_judged(app, conn, actor, case, visit)
        values = _visit_values(case_id, actor, visit)
        v = t.monitoring_visits.c
        same = conn.execute(select(v.id).where(*(getattr(v, k) == x if x is not None else getattr(v, k).is_(None)
                                                 for k, x in values.items()),
                                               t.visit_in_force())).first()
        if same is not None:
            return VisitRecorded(same.id, case_id, again=True, paired=paired)
        vid = conn.execute(insert(t.monitoring_visits).values(**values)).inserted_primary_key[0]
        append_case_event(app, conn, actor, case, "visit_recorded", role, visit=vid,
                          visit_date=visit_date.isoformat(), risk=risk)
        if risk:    # the first clue: the days to identify a monitored household run from it (DOMAIN §3, §6)
            after_risk_visit(app, conn, case, visit_date, app.clock.now())
    return VisitRecorded(vid, case_id, paired=paired)


def _visit_in_force(conn: Connection, actor: Actor, visit_id: int, case_id: int | None):
    """The visit `visit_id` (of the case `case_id`, when given), in force (neither corrected nor
    withdrawn) and recorded by `actor`."""
    row = conn.execute(select(t.monitoring_visits, t.visit_in_force().label("in_force"))
                       .where(t.monitoring_visits.c.id == visit_id)).first()
    if row is None or case_id is not None and row.case_id != case_id:
        raise NotFound("visit.not_found", visit=visit_id)
    if not row.in_force:
        raise RuleViolation("visit.not_in_force", visit=visit_id)
    if row.person_id != actor.person_id:
        raise RuleViolation("visit.not_yours", visit=visit_id)
    return row


@judged_again_when_lost
def correct_visit(app: App, actor: Actor, visit_id: int, reason: str, visit_date: date | None = None,
                  findings: str | None = None, measure_id: int | None = None, result: str | None = None,
                  keep_measure: bool = True, case_id: int | None = None) -> VisitRecorded:
    """A mistaken visit corrected by the one who recorded it (DOMAIN §11: a new version with a reason,
    the old kept): what is not given stays as it was. Whether it found a risk stays: a risk found is a
    clue whose days run (monitoring decides it)."""
    own_words(reason, "visit.reason_required")
    own_words(findings)
    own_words(result)
    with app.transaction() as conn:
        old = _visit_in_force(conn, actor, visit_id, case_id)
        case = load_cases(conn, [old.case_id])[old.case_id]
        visit = VisitInput(visit_date or old.visit_date, findings if findings and findings.strip() else old.findings,
                           old.risk, old.measure_id if keep_measure and measure_id is None else measure_id,
                           result if result is not None else old.result)
        role, paired = _visit_judged(app, conn, actor, case, visit)
        values = _visit_values(case.id, actor, visit)
        if all(getattr(old, k) == x for k, x in values.items()):
            raise BadInput("visit.same_as_before", visit=visit_id)
        vid = conn.execute(insert(t.monitoring_visits).values(**values)).inserted_primary_key[0]
        conn.execute(update(t.monitoring_visits).where(t.monitoring_visits.c.id == visit_id)
                     .values(superseded_by=vid, supersede_reason=reason.strip()))
        append_case_event(app, conn, actor, case, "visit_corrected", role, reason=reason.strip(), visit=vid,
                          replaces=visit_id, visit_date=visit.visit_date.isoformat(), risk=visit.risk)
    return VisitRecorded(vid, case.id, paired=paired)


@judged_again_when_lost
def withdraw_visit(app: App, actor: Actor, visit_id: int, reason: str, case_id: int | None = None) -> int:
    """A visit recorded by mistake (another household's, never made) withdrawn by the one who recorded
    it, with the reason; kept on record as withdrawn. A visit that found a risk is not withdrawn: its
    clue's days run (correct its words instead). Returns the case's id."""
    own_words(reason, "visit.reason_required")
    with app.transaction() as conn:
        old = _visit_in_force(conn, actor, visit_id, case_id)
        if old.risk:
            raise RuleViolation("visit.risk_kept", visit=visit_id)
        case = load_cases(conn, [old.case_id])[old.case_id]
        assignment = require_role(app, actor, signing_roles(app), case.region_code, "visit add")
        conn.execute(update(t.monitoring_visits).where(t.monitoring_visits.c.id == visit_id)
                     .values(supersede_reason=reason.strip()))
        append_case_event(app, conn, actor, case, "visit_withdrawn", assignment.role, reason=reason.strip(),
                          visit=visit_id)
    return case.id
