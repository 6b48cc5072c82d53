"""/api/v1 for supervisors, inspectors and administrators: deadlines, alerts, trace, inspection
flags, the audit log, fund and coverage figures, regions and people, projects, problem items and
accountability. Each route calls the service or read of the matching CLI command."""
from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Query, Response

from engine.domain.cases import StepInput
from engine.domain.errors import AuthError, RuleViolation

from . import api_models as m
from .api_common import api_user, require_reach, titled, within_reach
from .deps import Reader

router = APIRouter(prefix="/api/v1")
ALERTS_PAGE = 500        # alerts a page by default: a city's every alert was one 40 MB answer (issue 12)


@router.get("/deadlines", response_model=m.DeadlineList, tags=["oversight"], summary="Deadlines (`deadline list`)")
def deadlines(mine: bool = False, overdue: bool = False, status: str = Query("open", pattern="^(open|done|cancelled|any)$"),
              region: str | None = None, rule: str | None = None, case: int | None = None,
              limit: int = Query(500, ge=1, le=10000, description="At most this many a page, oldest due first."),
              after: str | None = Query(None, max_length=40, description="Keyset: the deadlines after it (give "
                                        "`next_after` of the page before)."),
              reader: Reader = Depends(api_user)) -> Any:
    from engine.reads.deadlines import deadline_page
    rows, next_after = deadline_page(reader.core, reader.actor, limit, after, mine=mine, overdue=overdue, region=region,
                                     status=None if status == "any" else status, rule=rule, case_id=case)
    return m.DeadlineList(deadlines=titled(reader, rows), next_after=next_after)


@router.get("/alerts", response_model=list[m.Open], tags=["oversight"], summary="Alerts and their delivery (`alerts list`)")
def alerts(mine: bool = False, level: int | None = Query(None, ge=-1, le=20, description="-1 a reminder before "
                                                           "the due date, 0 on it, 1… each rung after"),
           status: str | None = Query(None, pattern="^(pending|delivered|failed|not_needed)$"),
           region: str | None = None,
           limit: int = Query(ALERTS_PAGE, ge=1, le=10000, description="At most this many, newest first."),
           before: int | None = Query(None, ge=1, description="Only the alerts older than this alert's id (give "
                                      "the last `id` of the page before)."),
           reader: Reader = Depends(api_user)) -> Any:
    from engine.reads.deadlines import alert_rows
    return alert_rows(reader.core, reader.actor, mine=mine, level=level, status=status, region=region, limit=limit,
                      lang=reader.lang, before=before)


@router.get("/trace/cases/{case_id}", response_model=m.Open, tags=["inspection"], summary="A case's whole life (`trace`)")
def trace_case(case_id: int, reader: Reader = Depends(api_user)) -> Any:
    from engine.reads.trace import case_trace
    with within_reach(case_id):
        return case_trace(reader.core, reader.actor, case_id, reader.lang)


@router.get("/trace/persons/{code}", response_model=m.Open, tags=["inspection"],
            summary="All a person did and answers for (`trace --person`)")
def trace_person(code: str,
                 steps_before: int | None = Query(None, ge=1, description="Only the steps older than this step's "
                                                  "id (give the page before's `steps_older`)."),
                 steps: str | None = Query(None, max_length=200, description="Only the steps of this group (a "
                                           "`step_groups` item's `key`, PROCEDURE:STEP:ROLE)."),
                 responsibilities_before: int | None = Query(None, ge=1, description="Only the responsibilities "
                                                             "older than this one's id (`responsibilities_older`)."),
                 responsibilities: str | None = Query(None, max_length=200, description="Only the "
                                                      "responsibilities of this group (a `responsibility_groups` "
                                                      "item's `key`)."),
                 before: int | None = Query(None, ge=1, description="Only the other acts older than this event "
                                            "(`acts_older`)."),
                 action: str | None = Query(None, max_length=40, description="Only the other acts of this kind."),
                 leads: bool = Query(True, description="With the leads about the person (`leads`, `leads_count`; "
                                     "seconds for one who signed 150,000 steps): false leaves them to "
                                     "`/trace/persons/{code}/leads`, as the trace page does."),
                 reader: Reader = Depends(api_user)) -> Any:
    """Their steps and responsibilities summed up by group (every one counted) and a page of each,
    newest first, with the id to page on (`steps_older`, `responsibilities_older`), a page of their
    other acts (`acts_older`), and for an inspector the 50 weightiest leads about them (`leads`, and how
    many there are, `leads_count`; null for a reader who reads no leads or with `leads=false`)."""
    from engine.reads.trace import Page, person_trace
    with within_reach(code, "person.unknown", "code"):    # type: ignore[arg-type]
        return person_trace(reader.core, reader.actor, code, reader.lang, before=before, action=action,
                            steps=Page(steps_before, steps), responsibilities=Page(responsibilities_before,
                                                                                   responsibilities), leads=leads)


@router.get("/trace/persons/{code}/leads", response_model=m.Open, tags=["inspection"],
            summary="The inspection leads about a person (`inspect flags --person`), the 50 weightiest")
def trace_person_leads(code: str, reader: Reader = Depends(api_user)) -> Any:
    """`leads` (each with `record_altered`), how many there are (`count`; all of them: `/inspection/flags?person=`),
    and the warning to say first if a case they rest on was altered (`record_altered`); null for a reader who
    reads no leads."""
    from engine.reads.trace import person_leads
    with within_reach(code, "person.unknown", "code"):    # type: ignore[arg-type]
        return person_leads(reader.core, reader.actor, code, reader.lang)


@router.get("/trace/persons/{code}/{name}", tags=["inspection"], response_class=Response,
            summary="A person's steps or responsibilities, every one, as CSV or Excel (`export steps|responsibilities "
                    "--person`): steps.csv, steps.xlsx, responsibilities.csv, responsibilities.xlsx")
def trace_person_download(code: str, name: str, reader: Reader = Depends(api_user)) -> Any:
    """Every one of the person's steps (or responsibilities) within your jurisdiction, oldest first: CSV
    (UTF-8 with a BOM, streamed) or a workbook; recorded in the activity log."""
    from .routes_export import person_download
    with within_reach(code, "person.unknown", "code"):    # type: ignore[arg-type]
        return person_download(reader, code, name)


@router.get("/inspection/flags", response_model=list[m.Open], tags=["inspection"], summary="Inspection flags (`inspect flags`)")
def inspection_flags(response: Response, region: str | None = None, kind: list[str] = Query([]),
                     case: int | None = Query(None, ge=1), person: str | None = None,
                     reader: Reader = Depends(api_user)) -> Any:
    """Each lead says whether a case it rests on was found altered in the database (`record_altered`); if
    any record was (the last `audit verify` found damage, or one of the leads' cases is found damaged
    now), the header X-Jingzhun-Record-Altered names the damaged cases by number ("-": none named). The
    leads' cases are checked by their steps (the first 2,000), the first 50 whole; when there are more,
    the header X-Jingzhun-Record-Checked says so (cases=N; steps=S; whole=50: `audit verify` checks all).
    `case`: only the leads on that case; `person` (a code): only the leads about that person."""
    from engine.reads.inspection import flags
    from engine.reads.record_warnings import checked_partly, leads_shown
    found = list(flags(reader.core, reader.actor, region, kind or None, case, person))
    shown, altered = leads_shown(reader.core, found, reader.lang)
    if altered:
        response.headers["X-Jingzhun-Record-Altered"] = ",".join(map(str, altered["cases"])) or "-"
    partly = checked_partly(found)
    if partly:
        response.headers["X-Jingzhun-Record-Checked"] = "cases={}; steps={}; whole={}".format(*partly)
    return shown


@router.get("/inspection/activity", response_model=m.Open, tags=["inspection"],
            summary="What was done outside any case, newest first: imports, exports, people… (`inspect activity`)")
def inspection_activity(action: str | None = None, person: str | None = None, before: int | None = Query(None, ge=1),
                        limit: int = Query(50, ge=1, le=1000), reader: Reader = Depends(api_user)) -> Any:
    from engine.reads.oversight import activity
    return activity(reader.core, reader.actor, action=action, person=person, before=before, limit=limit)


@router.get("/audit/head", response_model=m.AuditHead, tags=["inspection"], summary="The latest checkpoint (`audit head`)")
def audit_head(reader: Reader = Depends(api_user)) -> m.AuditHead:
    from engine.reads.audit_verify import head
    found = head(reader.core)
    if found is None:
        raise RuleViolation("audit.no_checkpoint")
    return m.AuditHead(seq=found[0], hash=found[1])


def _require_auditor(reader: Reader) -> None:
    """As `audit verify`: inspectors (read-only roles) and administrators only."""
    roles = reader.core.config.roles
    allowed = [name for name, r in roles.items() if r.read_only or r.admin]
    if not any(a.role in allowed for a in reader.actor.assignments):
        raise AuthError("auth.wrong_role", person=reader.actor.code, action="audit verify", roles=", ".join(allowed),
                        region="-")


@router.post("/audit/verify", response_model=m.VerifyReport, tags=["inspection"], summary="Verify the log (`audit verify`)")
def audit_verify(body: m.VerifyRequest, reader: Reader = Depends(api_user)) -> m.VerifyReport:
    from engine.domain.inputs import published_head
    from engine.reads.audit_verify import verify
    _require_auditor(reader)
    against = published_head(body.against) if body.against else None
    report = verify(reader.core, against)
    head = m.PublishedHead(seq=against[0], matched=report.after_head is not None, events_after=report.after_head) \
        if against else None
    return m.VerifyReport(intact=report.intact, events=report.events, cases=report.cases, evidence=report.evidence,
                          macs_checked=report.macs_checked, damage=[{"kind": d.kind, "where": d.where,
                                   "detail": d.render_detail(reader.core.config.labels, reader.lang)} for d in report.damage],
                          published_head=head)


@router.get("/funds/report", response_model=m.Open, tags=["figures"], summary="Fund figures (`funds report`)")
def funds_report(region: str | None = None, as_of: date | None = None, reader: Reader = Depends(api_user)) -> Any:
    from engine.reads.funds import funds_report as report
    return report(reader.core, reader.actor, region, as_of)


@router.get("/reports/coverage", response_model=list[m.Open], tags=["figures"], summary="Industry coverage (`report coverage`)")
def coverage(region: str | None = None, year: int | None = None, reader: Reader = Depends(api_user)) -> Any:
    from engine.reads.indicators import coverage_report
    return coverage_report(reader.core, reader.actor, region, year)


@router.get("/regions", response_model=list[m.Open], tags=["organisation"], summary="Regions (`region list`)")
def regions(under: str | None = None, reader: Reader = Depends(api_user)) -> Any:
    from engine.reads.listings import region_rows
    return region_rows(reader.core, reader.actor, under)


@router.get("/persons", response_model=list[m.Open], tags=["organisation"], summary="People and roles (`person list`)")
def persons(region: str | None = None, reader: Reader = Depends(api_user)) -> Any:
    from engine.reads.listings import people_rows
    return people_rows(reader.core, reader.actor, region)


@router.post("/persons/{code}/enrol", response_model=m.Enrolment, tags=["organisation"],
             summary="A one-time enrolment code for the first sign-in (`person enrol`; administrators)")
def enrol(code: str, body: m.EnrolRequest, reader: Reader = Depends(api_user)) -> m.Enrolment:
    from engine.services.accounts import issue_enrolment
    made = issue_enrolment(reader.core, reader.actor, code, paper=body.paper, session=not reader.via_token)
    expires = made.expires_at.isoformat()
    if made.code is None:
        return m.Enrolment(person=code, expires_at=expires, sent_over=str(made.delivery))
    return m.Enrolment(person=code, expires_at=expires, code=made.code)


@router.post("/projects", response_model=m.Created, status_code=201, tags=["projects"], summary="Register a project (`project add`)")
def project_add(body: m.ProjectAdd, reader: Reader = Depends(api_user)) -> m.Created:
    from workflows.project import ProjectInput, register_project
    funds = [(f.source, f.amount, f.document) for f in body.funds]
    return m.Created(id=register_project(reader.core, reader.actor, ProjectInput(
        body.name, body.category, body.site, body.responsible_unit, body.unit_head, body.leader, funds,
        body.beneficiaries, body.targets, body.complete_by, body.proposed_on, body.description)))


@router.get("/projects/{case_id}", response_model=m.Open, tags=["projects"], summary="A project (`project show`)")
def project_show(case_id: int, as_of: date | None = None, reader: Reader = Depends(api_user)) -> Any:
    from workflows.project import project_detail
    with within_reach(case_id):
        return project_detail(reader.core, reader.actor, case_id, as_of)


@router.post("/projects/{case_id}/payments", response_model=m.PaymentCreated, status_code=201, tags=["projects"],
             summary="Record a disbursement (`project pay`)")
def project_pay(case_id: int, body: m.Payment, reader: Reader = Depends(api_user)) -> m.PaymentCreated:
    from engine.reads.money_words import entered_late_words
    from workflows.project import PaymentInput, record_payment
    require_reach(reader, case_id)
    with within_reach(case_id):
        done = record_payment(reader.core, reader.actor, case_id, PaymentInput(
            body.amount, body.payee_kind, body.payee, body.paid_on, body.reference, body.from_retention,
            body.payee_code))
    return m.PaymentCreated(id=done.id, late=done.late, entered_late=done.late and entered_late_words(
        reader.core.config, done.paid_on.isoformat(), done.late, reader.lang), recorded_as=done.recorded_as,
        payee_code=done.code, recorded_as_words=done.recorded_as and reader.core.config.label(
            "cli.payee_recorded_as", reader.lang).format(payee=done.recorded_as, code=done.code or "-"))


@router.post("/projects/{case_id}/completion/withdraw", response_model=m.Open, tags=["projects"],
             summary="Withdraw the completion under way (`project withdraw-completion`)")
def project_withdraw_completion(case_id: int, body: m.CompletionWithdrawn, reader: Reader = Depends(api_user)) -> Any:
    """Ends the project's completion before its final accounts, so that a supplementary contract can be
    signed (the county office director or county head); `message` says what comes next."""
    from workflows.project_completion import withdraw_completion, withdrawn_words
    require_reach(reader, case_id)
    with within_reach(case_id):
        done = withdraw_completion(reader.core, reader.actor, case_id, body.reason)
    return {**done, "message": withdrawn_words(reader.core.config, done, reader.lang)}


@router.post("/projects/{case_id}/milestones", response_model=list[m.StepDone], tags=["projects"],
             summary="A milestone reached (`project milestone-done`)")
def milestone_done(case_id: int, body: m.MilestoneDone, reader: Reader = Depends(api_user)) -> Any:
    from engine.services.procedures import perform_step

    from .api_cases import steps_done
    require_reach(reader, case_id)
    with within_reach(case_id):
        return steps_done(perform_step(reader.core, reader.actor, "milestone", "milestone", [case_id],
                                  StepInput(date=body.date, milestone=body.milestone)))


@router.post("/problems", response_model=m.Created, status_code=201, tags=["accountability"],
             summary="Record a problem item (`problem add`; the finding document with `jingzhun --server`)")
def problem_add(body: m.ProblemAdd, reader: Reader = Depends(api_user)) -> m.Created:
    from workflows.problem import ProblemInput, register_problem
    found_on = body.found_on or reader.core.clock.today()
    return m.Created(id=register_problem(reader.core, reader.actor, ProblemInput(
        body.region, body.source, body.description, found_on, body.finding, tuple(body.cases))))


@router.get("/samples/{draw_id}", response_model=m.Open, tags=["accountability"],
            summary="A sample check's draw with its households and findings (`sample show`)")
def sample_show(draw_id: int, reader: Reader = Depends(api_user)) -> Any:
    from engine.services.sampling import show
    return show(reader.core, reader.actor, draw_id)


@router.post("/samples/{draw_id}/findings", response_model=m.FindingRecorded, status_code=201, tags=["accountability"],
             summary="Record what a sample check found on a drawn household (`sample record`; a wrong exit opens "
                     "its problem item)")
def sample_record(draw_id: int, body: m.SampleFindingAdd, reader: Reader = Depends(api_user)) -> m.FindingRecorded:
    from engine.services.sampling import Finding, awaits_of, problem_of, record_finding
    found = record_finding(reader.core, reader.actor, Finding(draw_id, body.case, body.finding, body.note, body.persons))
    return m.FindingRecorded(id=found, problem=problem_of(reader.core, found), awaits=awaits_of(reader.core, found))


@router.post("/problems/refer-overdue", response_model=m.Referred, tags=["accountability"],
             summary="Refer overdue problem items (`problem refer-overdue`)")
def refer_overdue(region: str, reader: Reader = Depends(api_user)) -> m.Referred:
    from workflows.problem import refer_overdue as refer
    return m.Referred(ids=refer(reader.core, reader.actor, region))


@router.post("/accountability", response_model=m.Created, status_code=201, tags=["accountability"],
             summary="Record an accountability decision (`accountability record`)")
def outcome_add(body: m.OutcomeAdd, reader: Reader = Depends(api_user)) -> m.Created:
    from engine.services.accountability import OutcomeInput, record_outcome
    given = body.model_dump()
    given["decided_on"] = body.decided_on or reader.core.clock.today()
    return m.Created(id=record_outcome(reader.core, reader.actor, OutcomeInput(**given)))


@router.post("/accountability/{outcome_id}/done", response_model=m.Created, tags=["accountability"],
             summary="A reassignment or removal carried out (`accountability done`)")
def outcome_done(outcome_id: int, body: m.OutcomeDone, reader: Reader = Depends(api_user)) -> m.Created:
    from engine.services.accountability import outcome_done as done
    done(reader.core, reader.actor, outcome_id, body.done_on or reader.core.clock.today())
    return m.Created(id=outcome_id)
