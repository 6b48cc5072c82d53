"""Stateful property test of the household workflow (DOMAIN.md §3-§4, config/workflows/household.yaml).

A hypothesis RuleBasedStateMachine drives ONE real world per example (a copy of a template data
home built once per session) holding 2-4 household cases, some walked along the main path first
(as one village list where the engine lets them), and throws engine calls at it: any procedure of
household.yaml, any step, any person, any inputs, any date, on one case or a list; evidence added or
replaced (voiding sign-offs or not); objections filed and resolved; the clock moved forward. Most
calls are steered towards the step a case stands at (read from the database), some are anything at
all. Every call may succeed or be refused with a JingzhunError. Nothing of the engine's rules is
modelled; after every rule the invariants read the database and check what must hold whatever
happened:

1. every stage is a workflow stage, and every stage change in the audit log is a (from, to) of
   household.yaml made by the last step of that procedure, whose steps were then all in force, in
   order, each by a different person; and for every procedure, whatever its status, the steps in
   force are its first steps, in order, by different people, dated in order;
2. per case, the audit hash chain is complete and intact and agrees with the case row (seq count,
   last hash, current stage);
3. every recorded step was done by a person holding the step's role over the case's region;
4. a refused action wrote nothing (checked around each call rather than as an @invariant);
5. (also a plain test below) nobody reaches `exited` without a completed exit procedure whose
   county_approval was approved by someone of a county-level role;
6. no step in force of an open procedure relies on an evidence item since replaced.

Run: /tmp/venv/bin/python -m pytest -q tests/test_state_machine.py   (about 10-20 s)
"""
from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

from hypothesis import HealthCheck, event, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from sqlalchemy import func, select

from engine.adapters import tables as t
from engine.adapters.app import App
from engine.services.case_actions import attach_evidence, file_objection, resolve_objection
from engine.domain.errors import JingzhunError
from engine.domain.cases import StepInput
from engine.services.procedures import perform_step
from engine.domain.regions import covers
from tests.world import ROLES, World, scan_file
from tests.helpers.household_rules import (PROCEDURES, WORKFLOW, check_audit_chain,
                                           check_exits_county_approved, check_open_steps_rely_on_current_evidence,
                                           check_procedure_steps, check_stage_history, check_step_roles,
                                           fresh_world, snapshot)


PROC_NAMES = tuple(PROCEDURES)


PERSONS = tuple(sorted(ROLES))
LINE_2018, LINE_2019 = 3535, 3747          # config/policy.yaml, province 36
START = date(2019, 12, 2)                  # the clock when the random rules begin


# --- reading the database ------------------------------------------------------------------------

def fingerprint(app: App) -> dict:
    """What a refused action must leave unchanged: the brief's pair, plus every other table's count."""
    with app.transaction() as conn:
        count = lambda table, *where: conn.execute(  # noqa: E731
            select(func.count()).select_from(table).where(*where)).scalar()
        return {
            "audit_events": count(t.audit_events),
            "sum_case_versions": conn.execute(select(func.coalesce(func.sum(t.cases.c.version), 0))).scalar(),
            "cases": tuple(conn.execute(select(t.cases.c.id, t.cases.c.stage, t.cases.c.open_procedure_id,
                                               t.cases.c.last_event_hash).order_by(t.cases.c.id)).all()),
            "procedures": tuple(conn.execute(select(t.procedures.c.id, t.procedures.c.status)
                                             .order_by(t.procedures.c.id)).all()),
            "steps": count(t.steps), "voided_steps": count(t.steps, t.steps.c.voided_at.is_not(None)),
            "notices": count(t.notices), "notice_cases": count(t.notice_cases),
            "evidence": count(t.evidence),
            "superseded_evidence": count(t.evidence, t.evidence.c.superseded_by.is_not(None)),
            "objections": count(t.objections),
            "resolved_objections": count(t.objections, t.objections.c.resolution.is_not(None)),
            "pairings": count(t.pairings), "open_pairings": count(t.pairings, t.pairings.c.end_date.is_(None)),
            "measures": count(t.measures),
        }


# --- inputs ----------------------------------------------------------------------------------

DATE_SET = (START - timedelta(days=40), START - timedelta(days=8), START - timedelta(days=1), START,
            START + timedelta(days=3), START + timedelta(days=7), START + timedelta(days=8),
            START + timedelta(days=15), START + timedelta(days=40))
MEASURE_CHOICES = ((), (("industry", "种植脐橙"),), (("employment", "外出务工"), ("health", "大病保险")),
                   (("bogus", "x"),), (("industry", "  "),))
CADRES = (None, "pc1", "pc2", "pc3", "vs", "nobody")

random_inputs = st.builds(
    StepInput,
    date=st.one_of(st.none(), st.sampled_from(DATE_SET)),
    decision=st.sampled_from([None, "approve", "reject", "maybe"]),
    reason=st.sampled_from([None, "", "核实不符"]),
    attendance=st.one_of(st.none(), st.integers(0, 60)),
    votes_for=st.one_of(st.none(), st.integers(0, 60)),
    votes_against=st.one_of(st.none(), st.integers(0, 20)),
    verifiers=st.lists(st.sampled_from(PERSONS + ("nobody",)), max_size=4).map(tuple),
    days=st.one_of(st.none(), st.integers(5, 9)),
    first_cadre=st.sampled_from(CADRES),
    second_cadre=st.sampled_from(CADRES),
    measures=st.sampled_from(MEASURE_CHOICES),
)

EVIDENCE_SAMPLES = {
    "application": [{"applicant": "户主", "applied_on": "2019-01-10"}],
    "income_check": [{"year": 2018, "net_income": v} for v in (1000, 6000, 30000)],
    "income_assessment": [{"year": y, "net_income": v} for y, v in ((2019, 2000), (2019, 9000), (2019, 40000),
                                                                    (2021, 40000))],
    "two_assurances": [{"food": True, "clothing": True}, {"food": False, "clothing": True}],
    "housing_safety": [{"grade": "A"}, {"grade": "D"}, {"grade": "D", "renovated_accepted": True}],
    "drinking_water": [{"safe": True}, {"safe": False}],
    "household_confirmation": [{"signed_on": "2019-11-20"}, {"signed_on": "2019-12-05"}],
    "appraisal_minutes": [{}],
    "monitoring_clue": [{"source": "other", "source_note": "hotline", "clue_date": "2019-11-01", "monitoring_type": "sudden_hardship"},
                        {"source": "visit", "clue_date": "2019-12-01", "monitoring_type": "unstable"}],
    "removal_finding": [{"reason": "错评: 收入不实"}],
    "natural_change_proof": [{"reason": "全户死亡"}],
    "wrong_exit_finding": [{"source": "assessment", "reason": "收入不实"}],
}
FILE_TYPES = {name for name, d in WORKFLOW["evidence_types"].items() if d.get("file")}

def _spec(income_2018, income_2019, confirm, grade, target):
    return st.fixed_dictionaries({
        "members": st.integers(1, 4),
        "income_2018": income_2018,     # x LINE_2018 x members: under 1 is poor in 2018
        "income_2019": income_2019,     # x LINE_2019 x members: over 1 may exit
        "confirm": confirm,             # household_confirmation attached up front
        "grade": grade,                 # housing safety grade
        "target": target,               # how far setup walks it along the main path (if it can)
        "side_evidence": st.booleans(),  # also the evidence the side procedures start from
    })


SETUP_PATH = ("candidate", "identified", "assisted", "exit_noticed", "exit_reviewed", "exited", "consolidated")
# The main path as tests/world.py walks it: (day, person, procedure, step, inputs).
IDENTIFY_WALK = (
    (date(2019, 3, 1), "vs", "identification", "application", {}),
    (date(2019, 3, 1), "vd", "identification", "appraisal", dict(attendance=40, votes_for=35, votes_against=2)),
    (date(2019, 3, 1), "tl", "identification", "village_verification", dict(decision="approve", verifiers=("tm",))),
    (date(2019, 3, 1), "fs", "identification", "first_notice", {}),
    (date(2019, 3, 8), "ts1", "identification", "township_review", dict(decision="approve")),
    (date(2019, 3, 8), "ts2", "identification", "second_notice", {}),
    (date(2019, 3, 15), "cd", "identification", "county_approval", dict(decision="approve")),
    (date(2019, 3, 15), "cs", "identification", "announcement", {}),
)
_EXIT_WALK = tuple((day, who, "exit", step, inputs) for day, who, step, inputs in World.EXIT_STEPS)
_REVIEW = [w[3] for w in _EXIT_WALK].index("township_review") + 1
EXIT_TO_REVIEW, EXIT_REST = _EXIT_WALK[:_REVIEW], _EXIT_WALK[_REVIEW:]   # open at county_approval; the rest
_NOTICE = [w[3] for w in _EXIT_WALK].index("village_notice") + 1
EXIT_TO_NOTICE_NOW = tuple((START, *w[1:]) for w in _EXIT_WALK[:_NOTICE])   # its notice runs as the rules start
CONSOLIDATE = (
    (date(2019, 11, 28), "ts2", "consolidation", "enrolment", {}),
    (date(2019, 11, 28), "cs", "consolidation", "county_filing", dict(decision="approve")),
)

# The first household's figures allow identification and exit; the others' are anything.
case_specs = st.tuples(
    _spec(st.sampled_from([0.5, 0.9]), st.sampled_from([1.05, 2.5]), st.just(True), st.sampled_from(["A", "B"]),
          st.sampled_from(["exited", "exit_reviewed", "exit_noticed", "consolidated", "assisted", "identified",
                           "candidate"])),
    st.lists(_spec(st.sampled_from([0.5, 0.9, 1.0, 1.3]), st.sampled_from([0.8, 1.0, 1.05, 2.5]),
                   st.booleans(), st.sampled_from(["A", "B", "D"]),
                   st.sampled_from(["assisted", "identified", "exit_noticed", "exit_reviewed", "exited",
                                    "candidate"])),
             min_size=1, max_size=3),
).map(lambda pair: [pair[0], *pair[1]])


# --- the machine -------------------------------------------------------------------------------

class HouseholdMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.world, self.tmp = fresh_world()
        self.app = self.world.app
        self.cases: list[int] = []
        self.files = 0
        self._snap: dict | None = None      # the database as the invariants read it; None: re-read

    def teardown(self):
        self.app.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # Every engine call goes through here: success or a JingzhunError refusal that wrote nothing.
    def _call(self, label: str, fn, *args, **kwargs):
        self._snap = None
        before = fingerprint(self.app)
        try:
            result = fn(*args, **kwargs)
        except JingzhunError as exc:
            after = fingerprint(self.app)
            note(f"{label}: refused {exc.code} {exc.params}")
            event(f"refused {exc.code}")
            changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
            assert (after["audit_events"], after["sum_case_versions"]) == \
                   (before["audit_events"], before["sum_case_versions"]), \
                f"{label}: refused with {exc.code} {exc.params} but wrote: {changed}"
            assert not changed, f"{label}: refused with {exc.code} {exc.params} but changed {changed}"
            return None
        note(f"{label}: ok")
        return result

    def _case(self, index: int) -> int:
        return self.cases[index % len(self.cases)]

    def _scan(self, etype: str, variant: int) -> Path:
        self.files += 1
        return scan_file(self.tmp / f"{etype}-{self.files}.pdf", f"scan of {etype}, variant {variant}")

    def _step(self, who: str, procedure: str, step: str, case_ids: list[int], inputs: StepInput):
        outcome = self._call(f"{procedure}.{step} by {who} on {case_ids} at {self.world.today()} {inputs}",
                             perform_step, self.app, self.world[who], procedure, step, case_ids, inputs)
        if outcome:
            event(f"ok {procedure}.{step}" + (" (list)" if len(outcome) > 1 else ""))
            for o in outcome:
                if o.to_stage != o.from_stage:
                    event(f"reached {o.to_stage}")

    def _attach(self, who: str, case_id: int, etype: str, fields: dict, file: Path | None, **options):
        self._call(f"evidence {etype} {fields} file={file is not None} {options} on {case_id} by {who}",
                   attach_evidence, self.app, self.world[who], case_id, etype, fields, file, **options)

    def _where(self, case_id: int) -> tuple:
        """Where a case stands, as the database says: (stage, region, open kind, live steps)."""
        with self.app.transaction() as conn:
            row = conn.execute(select(t.cases).where(t.cases.c.id == case_id)).one()
            open_kind, live = None, []
            if row.open_procedure_id is not None:
                open_kind = conn.execute(select(t.procedures.c.kind).where(
                    t.procedures.c.id == row.open_procedure_id)).scalar()
                live = conn.execute(select(t.steps.c.person_id, t.steps.c.data).where(
                    t.steps.c.procedure_id == row.open_procedure_id, t.steps.c.voided_at.is_(None))).all()
        return row.stage, row.region_code, open_kind, live

    # -- setup: a few households, some walked along the main path with the world's helpers ----
    def _walk(self, walk, cases: list[int]) -> list[int]:
        """Walk `cases` as ONE list through `walk` (a village's list: one meeting, one notice). A case
        the engine names in a refusal leaves the list and stays where it is; returns the survivors."""
        group = list(cases)
        for day, who, procedure, step, inputs in walk:
            self.world.on(day)
            while group:
                try:
                    self.world.step(who, procedure, step, group, **inputs)
                    break
                except JingzhunError as exc:
                    note(f"setup {procedure}.{step} on {group}: {exc.code} {exc.params}")
                    group = [c for c in group if c != exc.params.get("case")] if exc.params.get("case") in group \
                        else []
        return group

    @initialize(specs=case_specs)
    def setup_cases(self, specs):
        w = self.world
        for spec in specs:
            m = spec["members"]
            self.cases.append(w.household(members=m, income_2018=spec["income_2018"] * LINE_2018 * m))
        depth = {case: SETUP_PATH.index(spec["target"]) for case, spec in zip(self.cases, specs)}
        deeper = lambda n, group: [c for c in group if depth[c] >= n]  # noqa: E731
        identified = self._walk(IDENTIFY_WALK, deeper(1, self.cases))
        for case, cadre in zip(deeper(2, identified), ["pc1", "pc2", "pc3"]):
            try:
                w.assist(case, first=cadre, second=None)
            except JingzhunError as exc:
                note(f"setup assistance of case {case}: {exc.code} {exc.params}")
        w.on(date(2019, 11, 20))
        for case, spec in zip(self.cases, specs):
            m = spec["members"]
            attach_evidence(w.app, w["vs"], case, "income_assessment",
                            {"year": 2019, "net_income": spec["income_2019"] * LINE_2019 * m})
            attach_evidence(w.app, w["vs"], case, "two_assurances", {"food": True, "clothing": True})
            attach_evidence(w.app, w["vs"], case, "housing_safety", {"grade": spec["grade"]})
            attach_evidence(w.app, w["vs"], case, "drinking_water", {"safe": True})
            if spec["confirm"]:
                attach_evidence(w.app, w["pc1"], case, "household_confirmation", {"signed_on": "2019-11-20"},
                                self._scan("household_confirmation", case))
            if spec["side_evidence"]:
                for etype in ("removal_finding", "wrong_exit_finding", "monitoring_clue", "natural_change_proof"):
                    attach_evidence(w.app, w["vs"], case, etype, EVIDENCE_SAMPLES[etype][0],
                                    self._scan(etype, case) if etype in FILE_TYPES else None)
        reviewed = self._walk(EXIT_TO_REVIEW, deeper(4, identified))
        exited = self._walk(EXIT_REST, deeper(5, reviewed))
        self._walk(CONSOLIDATE, deeper(6, exited))
        self._walk(EXIT_TO_NOTICE_NOW, [c for c in identified if depth[c] == 3])
        w.on(START)
        self._snap = None
        with self.app.transaction() as conn:
            note(f"after setup: {conn.execute(select(t.cases.c.id, t.cases.c.stage)).all()}")

    # -- rules ---------------------------------------------------------------------------------
    @rule(case=st.integers(0, 3), batch=st.lists(st.integers(0, 3), max_size=2),
          procedure=st.sampled_from(PROC_NAMES), step_index=st.integers(0, 7),
          who=st.sampled_from(PERSONS), inputs=random_inputs)
    def random_step(self, case, batch, procedure, step_index, who, inputs):
        """Anything at all: any procedure, step, person and inputs, on one case or a list."""
        steps = PROCEDURES[procedure]["steps"]
        step = steps[step_index % len(steps)]["key"]
        self._step(who, procedure, step, [self._case(i) for i in [case, *batch]], inputs)

    @rule(case=st.integers(0, 3), data=st.data())
    def guided_step(self, case, data):
        """The step the case's open procedure is at (or the first step of a procedure its stage
        allows), by a person mostly of the right role, with mostly plausible inputs."""
        self._guided(case, data, with_others=False)

    @rule(case=st.integers(0, 3), data=st.data())
    def guided_list_step(self, case, data):
        """A guided step done for a list: the case and others that stand where it stands (if any)."""
        self._guided(case, data, with_others=True)

    @rule(case=st.integers(0, 3), data=st.data())
    def guided_list_step_again(self, case, data):
        """The same as guided_list_step (a second rule, so that guided steps are picked more often)."""
        self._guided(case, data, with_others=True)

    def _guided(self, case, data, with_others: bool):
        case_id = self._case(case)
        stage, region, open_kind, live = self._where(case_id)
        if open_kind is not None:
            procedure = open_kind
        else:
            allowed = [p for p in PROC_NAMES if stage in PROCEDURES[p]["from"]] or list(PROC_NAMES)
            main = WORKFLOW["main_path"].get(stage)
            procedure = data.draw(st.sampled_from(allowed + [main] * len(allowed) if main else allowed),
                                  label="procedure")
        steps = PROCEDURES[procedure]["steps"]
        # Mostly the next step; sometimes another one (the last one most of those times).
        which = data.draw(st.integers(0, 9), label="which step")
        sdef = (steps[min(len(live), len(steps) - 1)] if which < 7 else steps[-1] if which < 9
                else data.draw(st.sampled_from(steps), label="other step"))
        case_ids = [case_id]
        if with_others:
            where = {c: self._where(c) for c in self.cases if c != case_id}
            others = [c for c, w in where.items() if (w[0], w[2], len(w[3])) == (stage, open_kind, len(live))]
            case_ids += data.draw(st.lists(st.sampled_from(others), unique=True, min_size=min(1, len(others)))
                                  if others else st.just([]), label="others")
            live = live + [s for c in case_ids[1:] for s in where[c][3]]
        # Who already took part: mostly pick someone else (steering only; the engine decides).
        seen = {s.person_id for s in live} | {v for s in live for v in s.data.get("verifier_ids", [])}
        fresh = lambda codes: [c for c in codes if self.world[c].person_id not in seen  # noqa: E731
                               and covers(ROLES[c][1], region)] or codes
        eligible = [c for c in PERSONS if ROLES[c][0] in sdef["roles"]] or list(PERSONS)
        pick = data.draw(st.integers(0, 9), label="role pick")      # 0-6 fresh, 7-8 of the role, 9 anyone
        who = data.draw(st.sampled_from(fresh(eligible) if pick < 7 else eligible if pick < 9 else PERSONS),
                        label="who")
        today = self.world.today()
        when = data.draw(st.sampled_from([None, None, None, None, today, today - timedelta(days=1),
                                           today - timedelta(days=8)]), label="date")
        kinds = dict(date=when)
        if sdef["type"] == "appraisal":
            kinds.update(attendance=40, votes_for=data.draw(st.sampled_from([35, 30, 20, 21]), label="for"),
                         votes_against=data.draw(st.sampled_from([0, 2]), label="against"))
        elif sdef["type"] == "verification":
            pool = [c for c in PERSONS if ROLES[c][0] in sdef.get("verifier_roles", [])]
            pool = fresh(pool) if pick < 7 else pool
            size = min(len(pool), data.draw(st.sampled_from([3, 2, 4, 1, 0]), label="team size"))
            kinds.update(verifiers=tuple(data.draw(st.lists(st.sampled_from(pool), min_size=size, max_size=size,
                                                            unique=True), label="verifiers")),
                         decision=data.draw(st.sampled_from([None, "approve", "approve", "reject"]), label="decision"))
        elif sdef["type"] == "notice":
            kinds.update(days=data.draw(st.sampled_from([None, None, 5, 6, 7, 8, 9]), label="days"))
        elif sdef["type"] == "signoff":
            kinds.update(decision=data.draw(st.sampled_from(["approve", "approve", "approve", "reject", None]),
                                            label="decision"))
        elif sdef["type"] == "pairing":
            kinds.update(first_cadre=data.draw(st.sampled_from(["pc1", "pc2", "pc3"]), label="first"),
                         second_cadre=data.draw(st.sampled_from([None, "pc1", "pc2", "pc3"]), label="second"))
        elif sdef["type"] == "plan":
            kinds.update(measures=data.draw(st.sampled_from(MEASURE_CHOICES[1:3] * 3 + MEASURE_CHOICES),
                                            label="measures"))
        if kinds.get("decision") == "reject":
            kinds["reason"] = "核实不符"
        self._step(who, procedure, sdef["key"], case_ids, StepInput(**kinds))

    @rule(days=st.sampled_from([1, 2, 3, 5, 7, 8, 10, 30]))
    def advance_clock(self, days):
        self.world.clock.advance(days=days)
        note(f"clock now {self.world.today()}")

    @rule(case=st.integers(0, 3), data=st.data())
    def evidence(self, case, data):
        """Mostly: replace one of the case's current items (mostly voiding what relied on it) or add a
        missing one. Sometimes: any item, new or replacing, any flags, by anyone."""
        case_id = self._case(case)
        if data.draw(st.integers(0, 3), label="anything") == 0:
            etype = data.draw(st.sampled_from(sorted(EVIDENCE_SAMPLES)), label="type")
            fields = data.draw(st.sampled_from(EVIDENCE_SAMPLES[etype]), label="fields")
            with_file = data.draw(st.integers(0, 9), label="file")
            file = self._scan(etype, with_file) if (etype in FILE_TYPES and with_file) or with_file == 9 else None
            self._attach(data.draw(st.sampled_from(PERSONS), label="who"), case_id, etype, fields, file,
                         replace=data.draw(st.booleans(), label="replace"),
                         void_signoffs=data.draw(st.booleans(), label="void"),
                         reason=data.draw(st.sampled_from([None, "更正"]), label="reason"))
            return
        with self.app.transaction() as conn:
            present = sorted(set(conn.execute(select(t.evidence.c.type).where(
                t.evidence.c.case_id == case_id, t.evidence.c.superseded_by.is_(None))).scalars()))
        missing = [e for e in sorted(EVIDENCE_SAMPLES) if e not in present]
        replace = bool(present) and (not missing or data.draw(st.integers(0, 2), label="replace") > 0)
        etype = data.draw(st.sampled_from(present if replace else missing), label="type")
        fields = data.draw(st.sampled_from(EVIDENCE_SAMPLES[etype]), label="fields")
        who = data.draw(st.sampled_from(["vs", "vd", "fs", "tl", "ts1", "ts2", "pc1", "cs"]), label="who")
        file = self._scan(etype, len(present)) if etype in FILE_TYPES else None
        options = dict(replace=True, reason="更正", void_signoffs=data.draw(st.sampled_from([True, True, False]),
                                                                           label="void")) if replace else {}
        self._attach(who, case_id, etype, fields, file, **options)

    def _notices(self) -> tuple[list, list]:
        """(notice, case, start, end) of every notice listing a case, latest first; and of those the
        ones that are the current step of the case's open procedure."""
        with self.app.transaction() as conn:
            links = conn.execute(select(t.notice_cases.c.notice_id, t.notice_cases.c.case_id, t.notices.c.start_date,
                                        t.notices.c.end_date)
                                 .join(t.notices, t.notices.c.id == t.notice_cases.c.notice_id)
                                 .order_by(t.notice_cases.c.notice_id.desc(), t.notice_cases.c.case_id)).all()
            last = {}
            for s in conn.execute(select(t.steps.c.case_id, t.steps.c.notice_id)
                                  .join(t.cases, t.cases.c.open_procedure_id == t.steps.c.procedure_id)
                                  .where(t.steps.c.voided_at.is_(None)).order_by(t.steps.c.id)):
                last[s.case_id] = s.notice_id
        return links, [link for link in links if last.get(link.case_id) == link.notice_id]

    def _objections(self) -> list[int]:
        """Objection ids, the unresolved ones first, latest first."""
        with self.app.transaction() as conn:
            return conn.execute(select(t.objections.c.id).order_by(
                t.objections.c.resolution.is_not(None), t.objections.c.id.desc())).scalars().all()

    @precondition(lambda self: bool(self._notices()[0]))
    @rule(current=st.integers(0, 3), pick=st.integers(0, 20), other_case=st.one_of(st.none(), st.integers(0, 3)),
          when=st.sampled_from(["today", "start", "start+3", "end-1", "end", "end+1", "today-9"]),
          who=st.sampled_from(("vs", "fs", "tm", "ts1") + PERSONS))
    def object_to_notice(self, current, pick, other_case, when, who):
        """An objection to a notice (mostly a current one), dated in or around its run, by anyone."""
        links, running = self._notices()
        links = running if running and current else links
        notice_id, case_id, start, end = links[pick % len(links)]
        if other_case is not None:
            case_id = self._case(other_case)
        today = self.world.today()
        filed_on = {"today": None, "start": start, "start+3": start + timedelta(days=3),
                    "end-1": end - timedelta(days=1), "end": end, "end+1": end + timedelta(days=1),
                    "today-9": today - timedelta(days=9)}[when]
        self._call(f"objection to notice {notice_id} ({start}..{end}) on case {case_id} filed {filed_on} by {who}",
                   file_objection, self.app, self.world[who], notice_id, case_id, "村民甲", "收入有隐瞒", filed_on)

    @precondition(lambda self: bool(self._objections()))
    @rule(pick=st.integers(0, 20), upheld=st.booleans(), who=st.sampled_from(("th", "ts2", "cs", "cd") + PERSONS),
          reason=st.sampled_from(["经核实", "经核实", ""]))
    def resolve(self, pick, upheld, who, reason):
        """Dismiss or uphold an objection (the latest ones first)."""
        ids = self._objections()
        oid = ids[pick % len(ids)]
        self._call(f"resolve objection {oid} upheld={upheld} by {who}",
                   resolve_objection, self.app, self.world[who], oid, upheld, reason)

    # -- invariants (read the database after every rule) ----------------------------------------
    def _db(self) -> dict:
        if self._snap is None:
            self._snap = snapshot(self.app)
        return self._snap

    @invariant()
    def stages_follow_the_workflow(self):
        check_stage_history(self._db())

    @invariant()
    def procedures_run_in_order(self):
        check_procedure_steps(self._db())

    @invariant()
    def audit_log_accounts_for_everything(self):
        check_audit_chain(self._db())

    @invariant()
    def steps_done_by_role_holders(self):
        check_step_roles(self._db())

    @invariant()
    def exits_approved_at_county_level(self):
        check_exits_county_approved(self._db())

    @invariant()
    def open_steps_rely_on_current_evidence(self):
        check_open_steps_rely_on_current_evidence(self._db())


TestHouseholdMachine = HouseholdMachine.TestCase
TestHouseholdMachine.settings = settings(max_examples=25, stateful_step_count=30, deadline=None,
                                         suppress_health_check=[HealthCheck.too_slow])
