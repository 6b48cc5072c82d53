"""The rules every step obeys (DOMAIN.md §4), as pure functions over a case's facts.

Each returns the unmet conditions as `Violation`s (rule code and parameters) rather than raising, so
that a step can refuse with the first one and `case next` can show them all.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable, Iterable

from engine.domain.auth import Actor
from engine.domain.cases import SIGNING_TYPES, next_step
from engine.domain.errors import AuthError, BadInput, JingzhunError, RuleViolation
from engine.domain.facts import CaseFacts

_ERRORS: dict[str, type[JingzhunError]] = {"rule": RuleViolation, "auth": AuthError, "input": BadInput}
# Rules about the person asking rather than the case: `case next` shows them apart (a project's
# leader-only steps and its plan change's approving post block no one else; who may is listed).
PERSONAL = ("auth.", "step.approver_level", "duty.", "verification.", "check.is_project_leader",
            "check.original_approver")


@dataclass(frozen=True)
class Violation:
    """One unmet condition: a rule code of the message catalogue, its parameters, and its error kind."""
    code: str
    params: dict[str, Any] = field(default_factory=dict)
    kind: str = "rule"            # rule | auth | input

    @classmethod
    def of(cls, error: JingzhunError) -> "Violation":
        kind = "auth" if isinstance(error, AuthError) else "input" if isinstance(error, BadInput) else "rule"
        return cls(error.code, dict(error.params), kind)

    def error(self) -> JingzhunError:
        return _ERRORS[self.kind](self.code, **self.params)

    @property
    def personal(self) -> bool:
        return self.code.startswith(PERSONAL)


def raise_first(violations: Iterable[Violation]) -> None:
    for v in violations:
        raise v.error()


def collect(rule: Callable[..., Any], *args: Any) -> tuple[Any, list[Violation]]:
    """Run a rule written to raise; its refusal becomes a violation."""
    try:
        return rule(*args), []
    except JingzhunError as exc:
        return None, [Violation.of(exc)]


def other_open(case_id: int, open_kind: str, waiting: Any, wanted: str) -> Violation:
    """Another procedure is open: which, the step it waits for and the posts that may do it (whose
    work it is to finish it, or to send it back), so that the refusal says what to do."""
    return Violation("procedure.other_open", {"case": case_id, "open": open_kind, "wanted": wanted,
                                              "step": waiting.key if waiting is not None else "-",
                                              "roles": ",".join(waiting.roles) if waiting is not None else "-"})


def order(facts: CaseFacts, procedure: str, proc_def: Any, step: Any, available: Iterable[str],
          open_def: Any = None) -> list[Violation]:
    """Which procedure may run on the case now, and which of its steps is next (`open_def`: the open
    procedure's definition, to say what it waits for)."""
    case, open_proc = facts.case, facts.open_proc
    if open_proc is not None and open_proc.kind != procedure:
        return [other_open(case.id, open_proc.kind, next_step(open_def, open_proc) if open_def else None, procedure)]
    if open_proc is None and procedure not in available:
        return [Violation("stage.not_allowed", {"case": case.id, "procedure": procedure, "stage": case.stage,
                                                        "stage_kind": case.kind})]
    expected = next_step(proc_def, open_proc)
    if expected is None or expected.key != step.key:
        return [Violation("step.order", {"case": case.id, "step": step.key,
                                         "expected": expected.key if expected else "-"})]
    return []


def duties(facts: CaseFacts, actor: Actor, step: Any, taken: dict[int, str]) -> list[Violation]:
    """Separation of duties: nobody twice in one procedure; no relative or pairing cadre signs."""
    case, out = facts.case, []
    if actor.person_id in taken:
        out.append(Violation("duty.same_person", {"case": case.id, "person": actor.code,
                                                  "step": taken[actor.person_id]}))
    if step.type in SIGNING_TYPES and facts.relation is not None:
        out.append(Violation("duty.relative", {"case": case.id, "person": actor.code, "relation": facts.relation}))
    if step.type in SIGNING_TYPES and facts.paired:
        out.append(Violation("duty.pairing_cadre", {"case": case.id, "person": actor.code}))
    return out


def dates(facts: CaseFacts, on: date, today: date) -> list[Violation]:
    """Dates in order (across procedures too), and a notice that has fully run with no open objection."""
    case, out = facts.case, []
    if case.last_step_on and on < case.last_step_on:
        out.append(Violation("date.order", {"case": case.id, "date": on, "step": case.attrs.get("last_step", "-"),
                                            "previous": case.attrs["last_step_on"]}))
    prev = facts.last_step
    if not out and prev is not None and on < prev.effective_date:   # else the case's last step said it
        out.append(Violation("date.order", {"case": case.id, "date": on, "step": prev.step_key,
                                            "previous": prev.effective_date}))
    if prev is not None and prev.step_type == "notice" and facts.notice is not None:
        out.extend(_notice(facts, on, today))
    return out


def _notice(facts: CaseFacts, on: date, today: date) -> list[Violation]:
    notice, case, out = facts.notice, facts.case, []
    ran = (notice.end_date - notice.start_date).days
    if ran < notice.days_required:
        out.append(Violation("notice.ran_short", {"case": case.id, "notice": notice.id, "days": ran,
                                                  "required": notice.days_required}))
    if on < notice.end_date or today < notice.end_date:
        out.append(Violation("notice.running", {"case": case.id, "notice": notice.id, "end": notice.end_date}))
    out.extend(Violation("notice.objection", {"case": case.id, "notice": notice.id, "objection": o.id})
               for o in facts.objections)
    return out


def relied_evidence(facts: CaseFacts, intact: Callable[[Any], bool]) -> list[Violation]:
    """Evidence that earlier sign-offs relied on must still be exactly what they signed."""
    if facts.open_proc is None:
        return []
    relied = {e["id"]: (s, e) for s in facts.open_proc.steps if s.step_type in SIGNING_TYPES
              for e in s.evidence_hashes}
    out = []
    for eid, (s, ref) in relied.items():
        row = facts.relied.get(eid)
        if row is None or row.superseded_by is not None or row.content_hash != ref["hash"] or not intact(row):
            out.append(Violation("evidence.tampered", {"case": facts.case.id, "evidence": eid, "type": ref["type"],
                                                       "step": s.step_key}))
    return out


def missing_evidence(facts: CaseFacts, step: Any) -> list[Violation]:
    """The step's evidence the case does not hold; an item an earlier procedure was done with, of a type
    each procedure needs its own of (an application, a signed confirmation), said so: a new one is due."""
    missing = [e for e in step.evidence if e not in facts.evidence]
    if not missing:
        return []
    earlier = [e for e in missing if e in facts.earlier]
    out = [Violation("evidence.earlier_procedure", {
        "case": facts.case.id, "step": step.key, "type": e, "code": e, "evidence": facts.earlier[e].id})
        for e in earlier]
    rest = [e for e in missing if e not in facts.earlier]
    if rest:
        out.append(Violation("evidence.missing", {"case": facts.case.id, "step": step.key, "types": ", ".join(rest)}))
    return out


def evidence_dated_after(facts: CaseFacts, step: Any, field_kinds: dict[str, dict[str, str]],
                         on: date) -> list[Violation]:
    """A step cannot rely on a document dated after it (an application signed after its appraisal)."""
    out = []
    for etype in step.evidence:
        row = facts.evidence.get(etype)
        if row is None:
            continue
        fields = row.fields
        for name, kind in field_kinds[etype].items():
            value = fields.get(name)
            if kind.rstrip("?") == "date" and value and date.fromisoformat(value) > on:
                out.append(Violation("date.evidence_after_step", {
                    "case": facts.case.id, "type": etype, "field": name, "value": value, "step": step.key,
                    "date": on}))
    return out


def evidence_dated_before(facts: CaseFacts, step: Any, field_kinds: dict[str, dict[str, str]]) -> list[Violation]:
    """A step's evidence records an act that follows an earlier step (`follows`: the household signs
    its confirmation of the village's proposal): none of its dates before that step's."""
    return [v for etype in step.evidence if (row := facts.evidence.get(etype)) is not None
            for v in dated_before_followed(facts.case.id, facts.open_proc, step, etype, row.fields, field_kinds[etype])]


def dated_before_followed(case_id: int, open_proc: Any, step: Any, etype: str, fields: dict[str, Any],
                          kinds: dict[str, str]) -> list[Violation]:
    """The date fields of an item of `etype` (its `fields`, of `kinds`) that are before the step that
    `step` follows, as the open procedure did it (none done: nothing to be out of order with)."""
    followed = next((s for s in open_proc.steps if s.step_key == step.follows), None) \
        if step.follows is not None and open_proc is not None else None
    if followed is None:
        return []
    return [Violation("date.evidence_before_step", {
                "case": case_id, "type": etype, "field": name, "value": value, "step": followed.step_key,
                "date": followed.effective_date})
            for name, kind in kinds.items()
            if kind.rstrip("?") == "date" and (value := fields.get(name))
            and date.fromisoformat(str(value)) < followed.effective_date]


def signed_evidence(facts: CaseFacts, step: Any, types: Iterable[str],
                    intact: Callable[[Any], bool]) -> list[Violation]:
    """A signer signs what is really there, not what the row claims."""
    if step.type not in SIGNING_TYPES:
        return []
    return [Violation("evidence.tampered", {"case": facts.case.id, "evidence": facts.evidence[e].id, "type": e,
                                            "step": step.key})
            for e in types if e in facts.evidence and not intact(facts.evidence[e])]


def future(on: date, today: date) -> list[Violation]:
    return [Violation("date.future", {"date": on, "today": today})] if on > today else []


def default_as_of(facts: CaseFacts, today: date) -> date:
    """The day a step would be judged on when none is given: today; but for a back-dated record (its
    latest step entered on a later day than the date it bears: a county entering its paper files)
    the earliest day its next step may bear (that step's date, or the end of the notice it posted)."""
    last = facts.case.last_step_on
    if last is None or facts.last_recorded_on is None or last >= facts.last_recorded_on or last >= today:
        return today
    if facts.notice is not None and facts.last_step is not None and facts.last_step.step_type == "notice":
        last = max(last, facts.notice.end_date)
    return min(last, today)
