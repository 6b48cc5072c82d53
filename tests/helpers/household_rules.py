"""What the household workflow tests read: the configuration straight from the YAML (not through
the engine's loader), one world per example copied from a template, the database read back and the
invariants checked on it."""
from __future__ import annotations

import atexit
import shutil
import tempfile
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

import yaml
from sqlalchemy import select

from engine.adapters import tables as t
from engine.adapters.app import App, FixedClock
from entrypoints.bootstrap import make_app
from engine.domain.audit import event_hash
from engine.adapters.db import Settings
from engine.domain.regions import covers
from tests.world import World, build_world


# --- the configuration, read straight from the YAML (not through the engine's loader) --------

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"
WORKFLOW = yaml.safe_load((CONFIG_DIR / "workflows" / "household.yaml").read_text(encoding="utf-8"))
ROLE_DEFS = yaml.safe_load((CONFIG_DIR / "roles.yaml").read_text(encoding="utf-8"))["roles"]
STAGES = tuple(WORKFLOW["stages"])
INITIAL = WORKFLOW["initial"]
PROCEDURES = WORKFLOW["procedures"]


STEP_DEFS = {name: {s["key"]: s for s in p["steps"]} for name, p in PROCEDURES.items()}
ALLOWED_MOVES = {(src, p["to"]) for p in PROCEDURES.values() if p["to"] for src in p["from"]}
COUNTY_SIGNING_ROLES = {r for r, d in ROLE_DEFS.items()
                        if d["level"] == "county" and not d.get("read_only") and not d.get("admin")}


# --- one world per example, copied from a template built once per session ----------------------

TEMPLATE: tuple | None = None


def template() -> tuple:
    """Build the template world once (hashing the tokens is slow) and keep its data home."""
    global TEMPLATE
    if TEMPLATE is None:
        root = Path(tempfile.mkdtemp(prefix="jz-sm-template-"))
        atexit.register(shutil.rmtree, root, True)
        world = build_world(root / "home")
        world.app.close()
        TEMPLATE = (root / "home", dict(world.tokens), dict(world.actors), world.app.config)
    return TEMPLATE


def fresh_world() -> tuple[World, Path]:
    """A fresh world in a new temp dir (as tests/conftest.py's `world` fixture does); caller cleans up.

    The template's loaded configuration is reused: loading it costs more than a whole example's
    steps, and every example then runs under the same rules even if a YAML file is edited meanwhile."""
    home, tokens, actors, config = template()
    tmp = Path(tempfile.mkdtemp(prefix="jz-sm-"))
    shutil.copytree(home, tmp / "home")
    clock = FixedClock(datetime(2019, 1, 10, 2, 0, tzinfo=timezone.utc))
    app = make_app(Settings.from_env(str(tmp / "home")), config=config, clock=clock)
    return World(app, clock, dict(tokens), dict(actors)), tmp


def snapshot(app: App) -> dict:
    """Everything the invariants read, in one transaction: the households (household.yaml's cases; a
    wrong exit's problem item is a case of its own workflow) and their events."""
    with app.transaction() as conn:
        cases = conn.execute(select(t.cases).where(t.cases.c.kind == "household").order_by(t.cases.c.id)).all()
        events = defaultdict(list)
        for e in conn.execute(select(t.audit_events).join(t.cases, t.cases.c.id == t.audit_events.c.case_id)
                              .where(t.cases.c.kind == "household")
                              .order_by(t.audit_events.c.case_id, t.audit_events.c.case_seq)):
            events[e.case_id].append(e)
        procedures = {p.id: p for p in conn.execute(select(t.procedures))}
        steps = defaultdict(list)
        for s in conn.execute(select(t.steps).order_by(t.steps.c.id)):
            steps[s.procedure_id].append(s)
        assignments = defaultdict(list)
        for a in conn.execute(select(t.role_assignments).where(t.role_assignments.c.revoked_at.is_(None))):
            assignments[a.person_id].append(a)
        other_events = conn.execute(select(t.audit_events).where(t.audit_events.c.case_id.is_(None))).all()
        superseded = set(conn.execute(select(t.evidence.c.id).where(t.evidence.c.superseded_by.is_not(None))).scalars())
    return {"cases": cases, "events": events, "procedures": procedures, "steps": steps,
            "assignments": assignments, "other_events": other_events, "superseded": superseded}


def holds(snap: dict, person_id: int, roles, region: str) -> bool:
    return any(a.role in roles and covers(a.region_code, region) for a in snap["assignments"][person_id])


def check_stage_history(snap: dict) -> None:
    """Invariant 1: every stage and every stage change is one household.yaml allows, made properly."""
    for case in snap["cases"]:
        assert case.stage in STAGES, f"case {case.id}: stage {case.stage!r} is not a workflow stage"
        stage = INITIAL
        for ev in snap["events"][case.id]:
            if ev.action != "step":
                assert ev.to_stage is None, f"case {case.id} seq {ev.case_seq}: {ev.action} changed the stage"
                continue
            assert ev.from_stage == stage, (
                f"case {case.id} seq {ev.case_seq}: step event acted in stage {ev.from_stage!r} but the "
                f"history says the case was {stage!r}")
            if ev.to_stage is None:
                continue
            where = f"case {case.id} seq {ev.case_seq}: {ev.from_stage}->{ev.to_stage} by step {ev.step_key}"
            assert (ev.from_stage, ev.to_stage) in ALLOWED_MOVES, f"{where}: no procedure of household.yaml moves so"
            proc = snap["procedures"].get(ev.procedure_id)
            assert proc is not None and proc.case_id == case.id, f"{where}: procedure #{ev.procedure_id} is not the case's"
            pdef = PROCEDURES[proc.kind]
            where = f"case {case.id} seq {ev.case_seq}: {ev.from_stage}->{ev.to_stage} by {proc.kind}.{ev.step_key}"
            assert ev.from_stage in pdef["from"] and ev.to_stage == pdef["to"], \
                f"{where}: household.yaml has {proc.kind}: {pdef['from']} -> {pdef['to']}"
            assert ev.step_key == pdef["steps"][-1]["key"], f"{where}: not the procedure's last step"
            assert proc.status == "completed", f"{where}: procedure #{proc.id} is {proc.status}"
            live = [s for s in snap["steps"][proc.id] if s.voided_at is None]
            keys = [s["key"] for s in pdef["steps"]]
            assert [s.step_key for s in live] == keys, \
                f"{where}: steps in force {[s.step_key for s in live]} != {keys}"
            assert all(s.decision in ("done", "approved") for s in live), \
                f"{where}: decisions {[(s.step_key, s.decision) for s in live]}"
            persons = [s.person_id for s in live]
            assert len(set(persons)) == len(persons), \
                f"{where}: a person did two steps: {[(s.step_key, s.person_id) for s in live]}"
            verifiers = [v for s in live for v in s.data.get("verifier_ids", [])]
            assert not set(verifiers) & set(persons) and len(set(verifiers)) == len(verifiers), \
                f"{where}: a verifier also signed a step: verifiers {verifiers}, signers {persons}"
            dates = [s.effective_date for s in live]
            assert dates == sorted(dates), f"{where}: step dates out of order {dates}"
            stage = ev.to_stage


def check_procedure_steps(snap: dict) -> None:
    """Invariant 1, for every procedure whatever its status (open, rejected, completed): the steps in
    force are the first steps of its definition, in order, each by a different person (verifiers
    included), dated in order; a completed procedure has all of them."""
    for proc in snap["procedures"].values():
        keys = [s["key"] for s in PROCEDURES[proc.kind]["steps"]]
        live = [s for s in snap["steps"][proc.id] if s.voided_at is None]
        where = f"case {proc.case_id} {proc.kind} #{proc.id} ({proc.status})"
        done = [s.step_key for s in live]
        assert done == keys[:len(done)], f"{where}: steps in force {done} are not the first of {keys}"
        if proc.status == "completed":
            assert done == keys, f"{where}: completed with steps {done}"
        people = [s.person_id for s in live] + [v for s in live for v in s.data.get("verifier_ids", [])]
        assert len(set(people)) == len(people), \
            f"{where}: a person took part twice: {[(s.step_key, s.person_id, s.data.get('verifier_ids')) for s in live]}"
        dates = [s.effective_date for s in live]
        assert dates == sorted(dates), f"{where}: step dates out of order {list(zip(done, dates))}"


def check_audit_chain(snap: dict) -> None:
    """Invariant 2: the audit log accounts for every change, and agrees with the case row."""
    for case in snap["cases"]:
        evs = snap["events"][case.id]
        assert [e.case_seq for e in evs] == list(range(1, case.event_count + 1)), \
            f"case {case.id}: case_seq {[e.case_seq for e in evs]} vs event_count {case.event_count}"
        prev = None
        for e in evs:
            assert e.prev_hash == prev, f"case {case.id} seq {e.case_seq}: prev_hash breaks the chain"
            assert event_hash(dict(e._mapping)) == e.hash, f"case {case.id} seq {e.case_seq}: hash mismatch"
            prev = e.hash
        assert case.last_event_hash == prev, f"case {case.id}: last_event_hash is not the last event's hash"
        last_to = next((e.to_stage for e in reversed(evs) if e.to_stage is not None), INITIAL)
        assert case.stage == last_to, f"case {case.id}: stage {case.stage!r} but the events end in {last_to!r}"
    for e in snap["other_events"]:
        assert event_hash(dict(e._mapping)) == e.hash, f"audit event seq {e.seq}: hash mismatch"


def check_open_steps_rely_on_current_evidence(snap: dict) -> None:
    """Invariant 6: no step in force of an open procedure stands on an evidence item since replaced
    (replacing it voided that step, and every later one)."""
    for case in snap["cases"]:
        if case.open_procedure_id is None:
            continue
        for s in snap["steps"][case.open_procedure_id]:
            stale = [e["id"] for e in s.evidence_hashes if s.voided_at is None and e["id"] in snap["superseded"]]
            assert not stale, f"case {case.id}: step {s.step_key} in force relies on replaced evidence {stale}"


def check_step_roles(snap: dict) -> None:
    """Invariant 3: every step (and verifier) held one of the step's roles over the case's region."""
    regions = {c.id: c.region_code for c in snap["cases"]}
    for proc_id, steps in snap["steps"].items():
        proc = snap["procedures"][proc_id]
        for s in steps:
            where = f"case {s.case_id} {proc.kind}.{s.step_key} (step #{s.id}, {s.decision})"
            assert s.step_key in STEP_DEFS[proc.kind], f"{where}: no such step in household.yaml"
            sdef = STEP_DEFS[proc.kind][s.step_key]
            region = regions[s.case_id]
            assert s.role in sdef["roles"], f"{where}: recorded role {s.role!r} not in {sdef['roles']}"
            assert holds(snap, s.person_id, [s.role], region), \
                f"{where}: person {s.person_id} does not hold {s.role} over {region}"
            assert any(a.role == s.role and a.region_code == s.role_region
                       for a in snap["assignments"][s.person_id]) and covers(s.role_region, region), \
                f"{where}: recorded assignment {s.role} over {s.role_region} is not the person's or not over {region}"
            for v in s.data.get("verifier_ids", []):
                assert holds(snap, v, sdef.get("verifier_roles", []), region), \
                    f"{where}: verifier {v} holds none of {sdef.get('verifier_roles')} over {region}"


def check_exits_county_approved(snap: dict) -> list[int]:
    """Every arrival in `exited` comes from a completed exit procedure approved at county level.

    Returns the case ids that have ever reached `exited`."""
    regions = {c.id: c.region_code for c in snap["cases"]}
    exited = []
    for case_id, evs in snap["events"].items():
        for ev in evs:
            if ev.to_stage != "exited":
                continue
            exited.append(case_id)
            proc = snap["procedures"].get(ev.procedure_id)
            where = f"case {case_id} seq {ev.case_seq} reached exited"
            assert proc is not None and proc.kind == "exit" and proc.status == "completed", \
                f"{where} without a completed exit procedure ({proc and (proc.kind, proc.status)})"
            approvals = [s for s in snap["steps"][proc.id]
                         if s.step_key == "county_approval" and s.voided_at is None]
            assert len(approvals) == 1 and approvals[0].decision == "approved", \
                f"{where}: county approvals in force {[(s.id, s.decision) for s in approvals]}"
            a = approvals[0]
            assert a.role in COUNTY_SIGNING_ROLES and holds(snap, a.person_id, [a.role], regions[case_id]), \
                f"{where}: county_approval by person {a.person_id} as {a.role!r}, not a county-level role"
    return exited
