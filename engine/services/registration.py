"""Registering a case of any kind (`jingzhun case add KIND`): its region, a title and plain attributes.

A new case kind needs no registration code of its own: the case opens at its workflow's `initial`
stage, and whoever may do the first step of the procedure that leaves that stage may register it
(no key of its own in the workflow YAML: one would change the rules version of every workflow).
Households, villages and fund projects keep their richer commands (members, population, funds),
which check more.
"""
from __future__ import annotations

from typing import Any, Mapping, TYPE_CHECKING

from sqlalchemy import insert, select

from engine.adapters import tables as t
from engine.adapters.app import App
from engine.domain.auth import Actor
from engine.domain.cases import CaseRow
from engine.domain.errors import BadInput
from engine.domain.record_digests import attrs_digest
from engine.services.context import step_roles
from engine.services.deadlines import after_case_opened
from engine.services.org import require_role
from engine.services.procedures import pending_for_stage

if TYPE_CHECKING:      # the configuration's models (pydantic) are loaded only where used
    from config import StepDef, WorkflowDef


def register_case(app: App, actor: Actor, kind: str, region_code: str, title: str,
                  attrs: Mapping[str, Any] | None = None) -> int:
    """Open a case of `kind` over `region_code` at its workflow's initial stage; returns its id.
    One audit event, `case_registered`, records the title and the attributes."""
    workflow, title, attrs = _workflow(app, kind), _title(title), dict(attrs or {})
    roles = register_roles(app, workflow, region_code)
    with app.unit_of_work() as uow:
        if uow.conn.execute(select(t.regions.c.code).where(t.regions.c.code == region_code)).first() is None:
            raise BadInput("region.unknown", code=region_code)
        assignment = require_role(app, actor, roles, region_code, "case add")
        case = _insert(app, uow.conn, workflow, region_code, title, attrs)
        uow.append_case_event(actor, case, action="case_registered", role=assignment.role,
                              detail={"title": title, "attrs": attrs, "attrs_digest": attrs_digest(attrs)})
        after_case_opened(app, uow.conn, case, app.clock.now())    # a rule from its first stage (to be assigned)
        return case.id


def register_roles(app: App, workflow: WorkflowDef, region_code: str) -> tuple[str, ...]:
    """Who may register a case of this workflow over `region_code`: the roles of the first step of
    the procedure a new case runs first."""
    step = first_step(workflow)
    if step is None:
        raise BadInput("case.no_first_step", kind=workflow.kind, stage=workflow.initial)
    return step_roles(app, step, region_code, app.clock.today())


def first_step(workflow: WorkflowDef) -> StepDef | None:
    """The first step of the procedure that leaves the initial stage (its main path, else the first
    procedure declared from it); None when no procedure leaves it."""
    name = workflow.main_path.get(workflow.initial) or next(
        (n for n, p in workflow.procedures.items() if workflow.initial in p.sources), None)
    return workflow.procedures[name].steps[0] if name else None


def _workflow(app: App, kind: str) -> WorkflowDef:
    if kind not in app.config.workflows:
        raise BadInput("case.bad_kind", kind=kind, known=", ".join(app.config.workflows))
    return app.config.workflows[kind]


def _title(title: str) -> str:
    if not (title and title.strip()):
        raise BadInput("case.title_required")
    return title.strip()


def _insert(app: App, conn, workflow: WorkflowDef, region_code: str, title: str, attrs: dict) -> CaseRow:
    now, stage = app.clock.now(), workflow.initial
    pending = pending_for_stage(workflow, stage)
    case_id = conn.execute(insert(t.cases), {
        "kind": workflow.kind, "region_code": region_code, "title": title, "stage": stage, "version": 1,
        "workflow_version": workflow.version, "attrs": attrs, "created_at": now, "updated_at": now,
        "event_count": 0, "last_event_hash": None, "open_procedure_id": None,
        "pending_procedure": pending[0], "pending_step": pending[1]}).inserted_primary_key[0]
    return CaseRow(case_id, workflow.kind, region_code, title, stage, 1, attrs, 0, None)
