"""A village's list in one action with a result per case (issue 12; the web's village list and
`step --each` call it): the ready cases are done in one transaction (one meeting, one notice, one
batch id on every event); the others are refused with every rule they do not meet — the rules
`check_step` and `case next` show, judged once, in the transaction that writes (`perform_each`)."""
from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from typing import Any, Sequence

from engine.adapters.app import App
from engine.domain.auth import Actor
from engine.domain.cases import StepInput
from engine.domain.errors import CaseChanged, JingzhunError, NotFound
from engine.reads.queries import render_violation
from engine.services.org import require_reader
from engine.services.procedures import StepOutcome, out_of_reach, perform_each


@dataclass
class ListResult:
    done: dict[int, StepOutcome] = field(default_factory=dict)
    refused: dict[int, list[Any]] = field(default_factory=dict)    # case -> [Violation or JingzhunError]
    # the region and person names its refusals named, looked up once for them all (queries.with_names)
    names: dict = field(default_factory=dict, repr=False, compare=False)

    def reasons(self, app: App, case_id: int, lang: str = "zh", coded: bool = False) -> list[str]:
        """Why the case was refused, in the reader's language; `coded`: each rule's texts after its
        code, `[code] text`, as a refused step shows it."""
        texts = []
        for code, said in self.explained(app, case_id, lang):
            texts += [f"[{code}] " + "；".join(said)] if coded else said
        return texts

    def explained(self, app: App, case_id: int, lang: str = "zh", elided: bool = False) -> list[tuple[str, list[str]]]:
        """Each reason the case was refused: its code and its texts in the reader's language; `elided`:
        the case's own number in them said as … (the reason as it reads for every case it refused)."""
        return [(why.code, [_named(app, why, lang, self.names)] if isinstance(why, JingzhunError) else
                 render_violation(app, why, lang, self.names))
                for why in (_elide(w, case_id) if elided else w for w in self.refused.get(case_id, []))]

    def grouped(self, app: App, case_ids: Sequence[int] | None = None, lang: str = "zh") -> list[RefusalGroup]:
        """The refused cases by what refused them, as the page, `step --each` and the API say it: the
        cases refused for the very same reasons in the very same words together, each case in one group
        (in the list's order, `case_ids`, else as refused), the largest group first, then as they came:
        a village refused for one rule is that rule once with its cases, not a line a case. Cases whose
        reasons differ only by naming each its own number are together too, the number said as …
        (缺少材料：案件 … 的步骤…); a case alone keeps its words."""
        ids = [c for c in dict.fromkeys(case_ids if case_ids is not None else self.refused) if c in self.refused]
        exact = _gathered(ids, lambda c: self.explained(app, c, lang))
        alone = [g.cases[0] for g in exact if len(g.cases) == 1]
        elided = _gathered(alone, lambda c: self.explained(app, c, lang, elided=True))
        together = [g for g in exact if len(g.cases) > 1] + [g for g in elided if len(g.cases) > 1]
        placed = {c for g in together for c in g.cases}
        shown = together + [g for g in exact if g.cases[0] not in placed]
        order = {c: i for i, c in enumerate(ids)}
        return sorted(shown, key=lambda group: (-len(group.cases), order[group.cases[0]]))


def _gathered(case_ids: list[int], said: Any) -> list[RefusalGroup]:
    """The cases by what `said(case)` says of each (a list of (code, texts)), in their order."""
    groups: dict[tuple, RefusalGroup] = {}
    for case_id in case_ids:
        reasons = said(case_id)
        key = tuple((code, tuple(texts)) for code, texts in reasons)
        groups.setdefault(key, RefusalGroup(reasons, [])).cases.append(case_id)
    return list(groups.values())


@dataclass
class RefusalGroup:
    """Cases of a list refused alike: each reason's code and texts (in the reader's language), and the cases."""
    reasons: list[tuple[str, list[str]]]
    cases: list[int]

    def texts(self, coded: bool = False) -> list[str]:
        """The reasons in words; `coded`: each rule's texts after its code, `[code] text`."""
        return [f"[{code}] " + "；".join(said) for code, said in self.reasons] if coded else \
            [text for _code, said in self.reasons for text in said]


def _elide(why: Any, case_id: int) -> Any:
    """The refusal (a Violation or a JingzhunError) with the case it refused said as …: a copy, or
    `why` itself when it does not name that case."""
    if why.params.get("case") != case_id:
        return why
    params = {**why.params, "case": "…"}
    if not isinstance(why, JingzhunError):
        return replace(why, params=params)          # a Violation (frozen)
    elided = copy.copy(why)
    elided.params = params
    return elided


def _named(app: App, why: JingzhunError, lang: str, names: dict | None = None) -> str:
    """A refusal in words, its region and person codes with their names (洋塘村（360730100202）)."""
    from engine.reads.queries import named_error
    return named_error(app, why, lang, names).render(app.config, lang)


def unknown_out_of_reach(result: ListResult) -> ListResult:
    """The result as a client of the server is told it: a case refused for want of jurisdiction is
    refused as unknown (its refusal named its village), as a single case out of reach is a 404."""
    for case_id, reasons in result.refused.items():
        if out_of_reach(reasons):
            result.refused[case_id] = [NotFound("case.unknown", case=case_id)]
    return result


def told_unknown(exc: JingzhunError) -> JingzhunError:
    """A list's refusal, all or none, as a client of the server is told it: each case of it out of reach
    refused as unknown (`unknown_out_of_reach`), and the refusal itself when it was such a case's, so
    that a case of another village and one that does not exist read alike."""
    refused = getattr(exc, "refused_cases", None)
    if not refused:
        return exc
    told = unknown_out_of_reach(ListResult(refused=dict(refused))).refused
    first = next(iter(refused))
    # only a case refused for want of reach (an AuthError, `readable`'s) is told as unknown; a rule's
    # refusal of a case the reader may see (a role held in another region: a Violation) stays itself
    shown = told[first][0] if out_of_reach(refused[first]) else exc
    shown.refused_cases = told
    return shown


def perform_list_step(app: App, actor: Actor, procedure: str, step_key: str, case_ids: Sequence[int],
                      inputs: StepInput | None = None) -> ListResult:
    """The step on every case of the list that meets its rules; every other case refused with its
    reasons, a case unknown or outside the reader's jurisdiction too (with what `check_step` raises
    for it). An unknown procedure or step is raised for the whole list."""
    ids = list(dict.fromkeys(case_ids))
    try:
        done, refused = perform_each(app, actor, procedure, step_key, ids, inputs,
                                     readable=lambda case: require_reader(app, actor, case.region_code,
                                                                         f"{procedure}.{step_key}"))
    except CaseChanged as exc:      # a case moved on under the list (another writer): nothing was written
        return ListResult(refused={c: [exc] for c in ids})
    return ListResult({o.case_id: o for o in done}, refused)


def list_of_region(app: App, actor: Actor, region: str, procedure: str, step_key: str,
                   case_ids: Sequence[int] = ()) -> list[int]:
    """The list `step --region` and the API's `region` take: `case_ids`, then every case of the village,
    township or county `region` (its 12-digit code, or its name as a cadre says it: the one region of
    that name in the reader's jurisdiction) waiting at the step. A region outside the reader's
    jurisdiction is refused for that (auth.jurisdiction, naming the region given), as `step --region`
    refuses it."""
    from engine.reads.oversight import region_codes_of
    from engine.reads.village_lists import LIST_LEVELS, waiting_ids
    code = region_codes_of(app, actor, [region], LIST_LEVELS).get(region) or region.strip()
    if isinstance(code, JingzhunError):
        raise code
    return list(dict.fromkeys([*case_ids, *waiting_ids(app, actor, code, procedure, step_key)]))
