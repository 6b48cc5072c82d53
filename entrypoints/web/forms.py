"""The form of a step, generated from the workflow definition: the step's type names the inputs it
accepts (engine/services/steptypes.py, `inputs`), and each input has one field kind here. A new
step type needs no template: its inputs are already fields.

`step_input` reads a posted form into the same StepInput the CLI builds, with the same parsers
(engine/domain/inputs.py); a value that cannot be read is a BadInput naming the field.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from engine.domain import inputs
from engine.domain.cases import StepInput
from engine.domain.errors import BadInput, Codes, Msg
from engine.services import steptypes

COMMON = ("date",)          # every step is dated (default: today)
LAST = ("reason",)          # and may carry a reason (a rejection must)


@dataclass(frozen=True)
class FieldKind:
    widget: str                             # date | number | choice | text | person | persons | lines | cases | file
    parse: Callable[[str], Any]
    choices: tuple[str, ...] = ()
    many: bool = False                      # one value per line (or comma) -> a tuple


def _int(text: str) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise BadInput("input.number", value=text[:20]) from None
    if not 0 <= value <= 100000:
        raise BadInput("input.number", value=text[:20])
    return value


def _text(text: str) -> str:
    return text.strip()


def _case_id(text: str) -> int:
    value = _int(text)
    if value < 1:
        raise BadInput("input.number", value=text[:20])
    return value


FIELDS: dict[str, FieldKind] = {
    "date": FieldKind("date", inputs.parse_date),
    "decision": FieldKind("choice", _text, choices=("approve", "reject")),
    "reason": FieldKind("text", _text),
    "attendance": FieldKind("number", _int),
    "votes_for": FieldKind("number", _int),
    "votes_against": FieldKind("number", _int),
    "minutes": FieldKind("file", Path),     # a file: saved by the route, given to step_input as `files`
    "verifiers": FieldKind("persons", _text, many=True),
    "days": FieldKind("number", _int),
    "first_cadre": FieldKind("person", _text),
    "second_cadre": FieldKind("person", _text),
    "pairings": FieldKind("lines", inputs.pairing, many=True),
    "measures": FieldKind("lines", inputs.measure, many=True),
    "assignee": FieldKind("person", _text),
    "lead_unit": FieldKind("text", _text),
    "responsible_unit": FieldKind("text", _text),
    "due": FieldKind("date", inputs.parse_date),
    "funds": FieldKind("lines", inputs.fund_line, many=True),
    "milestones": FieldKind("lines", inputs.milestone_spec, many=True),
    "milestone": FieldKind("text", _text),
    "assets": FieldKind("lines", inputs.asset_spec, many=True),
    "completion": FieldKind("date", inputs.parse_date),
    "add_beneficiaries": FieldKind("cases", _case_id, many=True),
    "remove_beneficiaries": FieldKind("cases", _case_id, many=True),
    "monitoring_type": FieldKind("monitoring_type", _text),   # a monitoring's sign-off: its type corrected
}


def field_names(step_type: str, many_cases: bool = False) -> list[str]:
    """The fields of a step of `step_type`, in order; on a list of cases a pairing takes one line
    per case, a single case its two cadres."""
    own = [n for n in steptypes.get(step_type).inputs if n != "votes"]
    if step_type == "pairing":
        own = ["pairings"] if many_cases else ["first_cadre", "second_cadre"]
    if step_type == "appraisal" and many_cases:      # each household's votes: a column of the list (VOTE_FIELDS)
        own = [n for n in own if n not in ("votes_for", "votes_against")]
    return [*COMMON, *own, *LAST]


PER_HOUSEHOLD = ("appraisal", "pairing")      # a list's step whose record differs household by household


def one_record_for_all(step_type: str) -> bool:
    """A list's form records one thing for every household (a decision, verifiers, a notice): it may be
    sent for every household waiting at once; an appraisal's votes and a pairing's cadres are each
    household's own, typed on the page beside it."""
    return step_type not in PER_HOUSEHOLD


def _values(raw: Any, many: bool) -> list[str]:
    items = raw if isinstance(raw, list) else [raw]
    texts = [str(v) for v in items if isinstance(v, str)]
    if many:
        return [part.strip() for text in texts for line in text.splitlines() for part in
                (line.split(",") if "," in line and ":" not in line else [line]) if part.strip()]
    return [t.strip() for t in texts if t.strip()][:1]


FILE_FIELDS = tuple(name for name, kind in FIELDS.items() if kind.widget == "file")


def step_input(step_type: str, form: dict[str, Any], many_cases: bool = False,
               files: dict[str, Path] | None = None) -> StepInput:
    """The StepInput of a posted step form; fields the step type does not take are ignored. A file
    field's value is the file the route saved for the call (`files`: field name -> path)."""
    given: dict[str, Any] = {}
    for name in field_names(step_type, many_cases):
        kind = FIELDS[name]
        if kind.widget == "file":
            if (files or {}).get(name) is not None:
                given[name] = files[name]
            continue
        values = _values(form.get(name), kind.many)
        if not values:
            continue
        try:
            parsed = [kind.parse(v) for v in values]
        except BadInput as exc:
            exc.params.setdefault("field", Msg(f"web.field.{name}"))      # 到会人数, not attendance
            raise
        if kind.choices and parsed[0] not in kind.choices:
            raise BadInput("input.choice", field=Msg(f"web.field.{name}"), value=parsed[0][:20],
                           known=Codes("web.choice", kind.choices))       # 决定 只能是：同意、不同意
        given[name] = (dict(parsed) if name == "pairings" else tuple(parsed)) if kind.many else parsed[0]
    if step_type == "appraisal" and many_cases:
        given["votes"] = list_votes(form)
    return StepInput(**given)


# A list's appraisal: each household's votes in its row, for and against (nothing typed: none, refused).
VOTE_FIELDS = {"votes_for": "vf", "votes_against": "va"}


def list_votes(form: dict[str, Any]) -> dict[int, tuple[int, int]]:
    """{case: (for, against)} from a list's rows (inputs vf_<case>, va_<case>); a household whose two
    counts are not both typed has none (its appraisal refused, saying which count is missing)."""
    typed: dict[int, dict[str, int]] = {}
    for name, prefix in VOTE_FIELDS.items():
        for key, value in form.items():
            case = key[len(prefix) + 1:]
            if not (key.startswith(prefix + "_") and case.isascii() and case.isdigit() and len(case) <= 12
                    and isinstance(value, str) and value.strip()):
                continue
            try:
                typed.setdefault(int(case), {})[name] = _int(value)
            except BadInput as exc:
                exc.params.setdefault("field", Msg(f"web.field.{name}"))
                raise
    return {case: (got.get("votes_for"), got.get("votes_against")) for case, got in typed.items()}


def describe(step_type: str, many_cases: bool = False, procedure: Any = None, step: str | None = None,
             stage: str | None = None) -> list[dict[str, Any]]:
    """What a template needs to draw the fields: name, widget, choices; a decision's, what a rejection
    does in this procedure (`procedure`: its definition; `step`: the step's key), as the engine runs it.
    A monitoring identification's sign-off of one household offers to correct its type, among those
    the household at `stage` may be; no other sign-off shows it."""
    from workflows.household_steps import types_for_stage
    corrects = not many_cases and procedure is not None and "monitoring_clue" in procedure.evidence_types()
    return [{"name": n, "widget": FIELDS[n].widget,
             "choices": types_for_stage(stage or "") if n == "monitoring_type" else FIELDS[n].choices,
             "on_reject": on_reject(procedure, step) if n == "decision" and procedure is not None else None}
            for n in field_names(step_type, many_cases) if n != "monitoring_type" or corrects]


def on_reject(procedure: Any, step: str | None = None) -> dict[str, str]:
    """What a rejection does (engine.services.procedures._move): recorded and sent up to the last sign-off
    where the step's rejection does not end the procedure (`goes_up`), back to `reject_to`'s stage, or else
    the procedure ends without effect, the case's stage unchanged, to be started again at its first step."""
    if step is not None and not procedure.step(step).reject_ends:
        return {"goes_up": [s.key for s in procedure.steps if s.type == "signoff"][-1]}
    if procedure.reject_to is not None:
        return {"back_to": procedure.reject_to}
    return {"first": procedure.steps[0].key}


# Who a step's person fields may name, offered as choices (a phone has no room to type person codes):
# the verifiers a verification needs (holders of its verifier roles), the pairing cadres of a pairing.
PAIRING_ROLES = ("pairing_cadre",)


def candidates(core: Any, actor: Any, region: str, step: Any, exclude: Any = (),
               case_id: int | None = None) -> dict[str, list[dict]]:
    """{field name: [{person, name, role}]} for the step's person fields over `region`, without the
    people in `exclude` (those who took part already may not verify). A pairing of one case counts
    each cadre's households but that one (a cadre paired with it already stays so)."""
    from engine.reads.queries import people_holding
    if step.type == "verification" and step.verifier_roles:
        return {"verifiers": [p for p in people_holding(core, actor, region, step.verifier_roles)
                              if p["person"] not in exclude]}
    if step.type == "pairing":      # each cadre with the households they hold in the slot, a full one marked
        from engine.reads.queries import pairing_loads
        cadres = people_holding(core, actor, region, PAIRING_ROLES)
        loads = pairing_loads(core, region, [c["person"] for c in cadres], core.clock.today(), case_id)
        # those with room first (a village's 242 cadres, 191 of them full: the choosable ones on top)
        return {f"{slot}_cadre": sorted(
            [{**c, "held": loads[c["person"]][slot], "most": loads[c["person"]][f"{slot}_max"],
              "full": loads[c["person"]][f"{slot}_full"]} for c in cadres], key=lambda c: c["full"])
                for slot in ("first", "second")}
    return {}


def prefilled(case: dict[str, Any], n: dict[str, Any], lang: str) -> dict[str, str]:
    """A step's inputs as the case holds them now: a plan's revision starts from the measures in force,
    one a line as the form reads them (类别：内容), to be changed rather than typed again; a change of
    pairing cadres from those paired now (a cadre left out of the form is no longer paired)."""
    if n.get("type") == "pairing":
        return {f"{p['kind']}_cadre": p["person"] for p in case.get("pairings") or () if not p.get("end")}
    if n.get("type") != "plan":
        return {}
    from workflows.household_codes import MEASURES
    kept = [m for m in case.get("measures") or () if m.get("status") == "in_force"]
    return {"measures": "\n".join(f"{MEASURES.get(m['category'], m['category']) if lang == 'zh' else m['category']}"
                                   f"{'：' if lang == 'zh' else ': '}{m['description']}" for m in kept)} if kept else {}


def plan_lines(measures: list[dict[str, Any]]) -> list[tuple[dict[str, Any], str | None]]:
    """The household's plan as its page lists it, each measure with its tag: the plan in force, then
    one proposed and awaiting approval (proposed). A revision is the whole new plan: a measure in force
    it does not hold is marked to end (ending), one it keeps is listed once; ended and rejected
    measures are in the record."""
    said = lambda m: (m["category"], m["description"])  # noqa: E731
    in_force = [m for m in measures if m.get("status") == "in_force"]
    kept = {said(m) for m in in_force}
    return [(m, "ending" if m.get("ends_on_approval") else None) for m in in_force] + \
        [(m, "proposed") for m in measures if m.get("status") == "proposed" and said(m) not in kept]


def evidence_choices(definitions: Iterable[Any], stage: str | None = None) -> dict[str, tuple[tuple[str, ...], str | None]]:
    """Evidence fields whose value is one of a few, tapped rather than typed: field -> (the values, the
    label prefix they are shown by, or None to show them as they are): a code field of the evidence
    types `definitions` (a housing grade is one of four, a monitoring type one of three) by its
    codes' labels. A household at `stage` ordinary (never registered poor) is offered only the
    monitoring types it may be (not 脱贫不稳定户)."""
    from workflows.household_steps import types_for_stage
    return {name: (tuple(c for c in codes if c in types_for_stage(stage))
                   if stage is not None and name == "monitoring_type" else codes, f"field.{name}")
            for d in definitions for name, codes in d.codes.items()}


def evidence_prefill(case: dict[str, Any], n: dict[str, Any], lang: str) -> dict[str, dict[str, str]]:
    """Evidence fields the case has told already, by type: a monitoring's risk clue from the latest
    visit that found the risk (its day and findings, said once on the visit, not typed again)."""
    if "monitoring_clue" not in (n.get("evidence") or ()):
        return {}
    risky = [v for v in case.get("visits") or () if v.get("risk") and v.get("in_force", True)]
    if not risky:
        return {}
    visit = risky[-1]                   # visits come by their date: the latest risk found
    return {"monitoring_clue": {"source": "visit", "clue_date": visit["date"],     # its channel: a cadre's visit
                                "description": visit["findings"]}}
