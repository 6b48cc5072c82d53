"""The step types: one class each, registered by name. This registry is the one list of step types:
`check_config` refuses a configuration naming any other (workflow steps, the policy's
inspection.signing_step_types, the deadline rules' `waiting`).

A step type declares which `StepInput` fields it accepts (`inputs`), its rules (`rules`: the unmet
conditions, used by `can_proceed`), what must hold whatever its inputs (`preconditions`: shown by
`case next` too) and its effect (`effect`: the decision and data recorded). A new step type is one
class here (or in any module imported before the configuration is checked), its `type:` value in a
workflow YAML and the texts of the messages its rules raise (msgid msg.<code> in
config/locale/{zh_CN,en}/LC_MESSAGES/*.po). docs/extending.md walks through it.
Workflow-specific work (a pairing's cadres, a project's funds) stays in the workflow's `handlers`.

    @step_type("inspection")
    class Inspection(StepType):
        # 现场查看: a decision, with notes (the reason field)
        inputs = ("decision",)

        def effect(self, ctx, taken):
            if not ctx.inputs.reason:
                raise BadInput("step.reason_required")       # its text: msgid msg.step.reason_required
            return StepEffect(_decision(ctx.inputs, ctx.step.key), {"notes": ctx.inputs.reason})
"""
from __future__ import annotations

from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, ClassVar

from config.base import ConfigError
from engine.domain.cases import StepInput
from engine.domain.errors import BadInput, Msg, RuleViolation, stored
from engine.domain.guards import Violation, collect
from engine.services.context import StepContext
from engine.services.org import persons_holding


@dataclass
class StepEffect:
    """What a step records: its decision, its data, and for a notice the days it runs."""
    decision: str = "done"
    data: dict[str, Any] = field(default_factory=dict)
    notice_days: int | None = None


class StepType:
    """A plain step (evidence, acknowledgement, record...): no inputs of its own, always done."""
    name: ClassVar[str] = ""
    inputs: ClassVar[tuple[str, ...]] = ()
    may_reject: ClassVar[bool] = False      # its effect may be a rejection (a failed vote, a decision to reject)

    def effect(self, ctx: StepContext, taken: dict[int, str]) -> StepEffect:
        """The decision and data of the step; refuses (raises) when its inputs break a rule."""
        return StepEffect()

    def rules(self, ctx: StepContext, taken: dict[int, str]) -> tuple[StepEffect | None, list[Violation]]:
        """The effect, or the unmet conditions that prevent it."""
        return collect(self.effect, ctx, taken)

    def preconditions(self, ctx: StepContext, taken: dict[int, str]) -> list[Violation]:
        """What must hold whatever the inputs (the case, its evidence): checked by the step and shown
        by `case next`, which gives no inputs; `effect` runs only once they hold. None by default."""
        return []


REGISTRY: dict[str, StepType] = {}


def step_type(*names: str):
    """Class decorator: register one instance of the class under each of `names`."""
    def register(cls: type[StepType]) -> type[StepType]:
        for name in names:
            REGISTRY[name] = cls()
        cls.name = names[0]
        return cls
    return register


def get(name: str) -> StepType:
    return REGISTRY[name]


def check_config(config: Any) -> None:
    """Every step type a configuration names is registered; else ConfigError naming the file, the
    key and the known step types."""
    for path, key, name in named_step_types(config):
        if name not in REGISTRY:
            raise ConfigError(path, key, "unknown_step_type", name=name, known=", ".join(sorted(REGISTRY)))
    for kind, wf in config.workflows.items():      # a workflow with an appraisal keeps its minutes, a file
        minutes = wf.evidence_types.get(MINUTES)
        appraises = any(s.type == "appraisal" for p in wf.procedures.values() for s in p.steps)
        if appraises and not (minutes and minutes.file):
            raise ConfigError(config.directory / "workflows" / f"{kind}.yaml", f"evidence_types.{MINUTES}",
                              "minutes_type", type=MINUTES)


def named_step_types(config: Any):
    """(file, key path, step type) for every step type the configuration names."""
    for kind, wf in config.workflows.items():
        path = config.directory / "workflows" / f"{kind}.yaml"
        for proc_name, proc in wf.procedures.items():
            for i, step in enumerate(proc.steps):
                yield path, f"procedures.{proc_name}.steps.{i}.type", step.type
    for i, name in enumerate(config.policy.data.inspection.signing_step_types):
        yield config.directory / "policy.yaml", f"inspection.signing_step_types.{i}", name
    for rule_name, rule in (config.deadlines.rules if config.deadlines else {}).items():
        for j, trigger in enumerate(rule.when):
            for name in [n for n in trigger.waiting or () if n != "any"]:
                yield config.directory / "deadlines.yaml", f"rules.{rule_name}.when.{j}.waiting", name


def refuse_foreign_inputs(step: Any, inputs: Any) -> None:
    """Inputs that belong to another step type are a mistake worth saying so."""
    names, values, unset = _foreign(get(step.type))
    given = values(inputs)
    if given == unset:         # (the common case: none of them given, as a StepInput() leaves them)
        return
    for name, value in zip(names, given):
        if value not in _NOT_GIVEN:      # (StepInput.given)
            raise BadInput("step.input_not_for_step", input=name, step=step.key, step_type=step.type)


_NOT_GIVEN = (None, (), {})
_FOREIGN: dict[StepType, tuple] = {}


def _foreign(kind: StepType) -> tuple[tuple[str, ...], Any, tuple]:
    """The inputs a step type does not take, in the order they are refused, a getter of their values
    as a tuple, and their values when none is given (found once per type)."""
    found = _FOREIGN.get(kind)
    if found is None:
        names = tuple(n for n in _ALL_INPUTS if n not in kind.inputs)
        values = attrgetter(*names) if len(names) > 1 else lambda inputs: tuple(getattr(inputs, n) for n in names)
        unset = values(StepInput())       # (None, () or {}: not given)
        found = _FOREIGN[kind] = (names, values, unset)
    return found


def _require_int(value: int | None, name: str) -> int:
    if value is None or value < 0:
        raise BadInput("step.need_number", field=name)
    return int(value)


def _decision(inputs: Any, step: str) -> str:
    """The decision given, approve or reject (with a reason): none given is refused, never taken as
    同意 (a signature nobody meant)."""
    if inputs.decision is None:
        raise BadInput("step.decision_required", step=step)
    if inputs.decision not in ("approve", "reject"):
        raise BadInput("step.bad_decision", decision=inputs.decision)
    if inputs.decision == "reject" and not (inputs.reason and inputs.reason.strip()):
        raise BadInput("step.reason_required")
    return "approved" if inputs.decision == "approve" else "rejected"


step_type("evidence", "acknowledgement", "record", "announcement")(StepType)


# The evidence type of an appraisal's minutes: the step brings an item of it to each case it is done on.
MINUTES = "appraisal_minutes"


@step_type("appraisal")
class Appraisal(StepType):
    """民主评议: a village meeting votes; more than the quorum's share of those present must be for. Its
    minutes (会议记录, signed: what an inspector asks to see) come with it, whatever the vote: one file
    for every household the meeting decided (engine.services.procedures brings it to each as evidence)."""
    inputs = ("attendance", "votes_for", "votes_against", "votes", "minutes")
    may_reject = True

    def effect(self, ctx: StepContext, taken: dict[int, str]) -> StepEffect:
        inputs = ctx.inputs
        attendance = _require_int(inputs.attendance, "attendance")
        # a list's meeting votes on each household (`votes`: case -> for, against); else the one vote given
        each_for, each_against = inputs.votes.get(ctx.case.id, (inputs.votes_for, inputs.votes_against))
        votes_for = _require_int(each_for, "votes_for")
        votes_against = _require_int(each_against, "votes_against")
        if attendance == 0 or votes_for + votes_against > attendance:
            raise BadInput("appraisal.bad_votes", attendance=attendance, votes_for=votes_for,
                           votes_against=votes_against)
        if inputs.minutes is None:
            raise BadInput("appraisal.minutes_required", step=ctx.step.key)
        quorum = float(ctx.params["appraisal_quorum"])
        data = {"attendance": attendance, "votes_for": votes_for, "votes_against": votes_against, "quorum": quorum}
        if votes_for <= quorum * attendance:
            data["outcome"] = stored(Msg("outcome_reason.appraisal_vote_failed",      # said in the reader's
                                         {"votes_for": votes_for, "attendance": attendance}))    # language
            return StepEffect("rejected", data)
        return StepEffect("approved", data)


@step_type("verification")
class Verification(StepType):
    """入户核实: at least N people holding a verifier role, none of whom took part before."""
    inputs = ("decision", "verifiers")
    may_reject = True

    def effect(self, ctx: StepContext, taken: dict[int, str]) -> StepEffect:
        step = ctx.step
        decision = _decision(ctx.inputs, step.key)
        minimum = int(ctx.params["verifiers_min"][step.verifiers])
        codes = list(dict.fromkeys(ctx.inputs.verifiers))
        ids = _verifier_ids(ctx, codes, taken)
        # Who counts towards the minimum: the listed verifiers, and the leader if they hold a verifier role.
        if ctx.actor.first_role(step.verifier_roles, ctx.case.region_code) is not None:
            ids.add(ctx.actor.person_id)
        ids = sorted(ids)
        if len(ids) < minimum:
            raise RuleViolation("verification.too_few", case=ctx.case.id, count=len(ids), minimum=minimum)
        return StepEffect(decision, {"verifiers": codes,
                                     "verifier_ids": [i for i in ids if i != ctx.actor.person_id]})


def _verifier_ids(ctx: StepContext, codes: list[str], taken: dict[int, str]) -> set[int]:
    """The listed verifiers' person ids, refusing one without a verifier role or already in the procedure."""
    if not codes:
        return set()
    key = ("verifiers", tuple(codes), ctx.case.region_code)
    if key not in ctx.batch:   # once for a whole list
        ctx.batch[key] = persons_holding(ctx.conn, codes, ctx.step.verifier_roles, ctx.case.region_code)
    ok = ctx.batch[key]
    lacking = [c for c in codes if c not in ok]
    if lacking:
        raise RuleViolation("verification.verifier_role", case=ctx.case.id, persons=", ".join(lacking),
                            roles=", ".join(ctx.step.verifier_roles))
    for c in codes:
        if ok[c] in taken:
            raise RuleViolation("duty.same_person", case=ctx.case.id, person=c, step=taken[ok[c]])
    return set(ok.values())


@step_type("notice")
class Notice(StepType):
    """公示: posted for at least the days the policy requires for its kind."""
    inputs = ("days",)

    def effect(self, ctx: StepContext, taken: dict[int, str]) -> StepEffect:
        step = ctx.step
        required = int(ctx.params["notice_days"][step.days])
        days = required if ctx.inputs.days is None else int(ctx.inputs.days)
        if days < required:
            raise RuleViolation("notice.short", case=ctx.case.id, days=days, required=required, rule=step.days)
        return StepEffect("done", {"days": days, "days_required": required, "scope": step.scope}, days)


@step_type("signoff")
class Signoff(StepType):
    """审核 / 审批: a decision, approve or reject (with a reason). A monitoring's type may be corrected
    with an approval (`monitoring_type`, ruled by the workflow's signoff handler), never with a rejection:
    a rejected identification decides no type."""
    inputs = ("decision", "monitoring_type")
    may_reject = True

    def effect(self, ctx: StepContext, taken: dict[int, str]) -> StepEffect:
        decision = _decision(ctx.inputs, ctx.step.key)
        if decision == "rejected" and ctx.inputs.monitoring_type is not None:
            raise BadInput("step.type_with_reject", step=ctx.step.key)
        return StepEffect(decision)


def _plain(name: str, *inputs: str) -> None:
    """A step type whose work is the workflow's handler: it only declares its inputs."""
    step_type(name)(type(name.capitalize(), (StepType,), {"inputs": inputs, "__doc__": f"{name} step"}))


_plain("pairing", "first_cadre", "second_cadre", "pairings")
_plain("plan", "measures")
_plain("assign", "assignee", "lead_unit", "responsible_unit", "due")
_plain("allocate", "funds")
_plain("schedule", "milestones")
_plain("milestone", "milestone")
_plain("handover", "assets")
_plain("change", "funds", "completion", "add_beneficiaries", "remove_beneficiaries")

_ALL_INPUTS = tuple(dict.fromkeys(name for t in REGISTRY.values() for name in t.inputs))
