"""A village's list in one action with a result per case (issue 12; the web's village list and
`step --each` call it): the ready cases are done in one transaction (one meeting, one notice, one
batch id on every event); the others are refused with every rule they do not meet — the rules
`check_step` and `case next` show, judged once, in the transaction that writes (`perform_each`)."""
from __future__ import annotations

from dataclasses import dataclass, field
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

    def reasons(self, app: App, case_id: int, lang: str = "zh", coded: bool = False) -> list[str]:
        """Why the case was refused, in the reader's language; `coded`: each rule's texts after its
        code, `[code] text`, as a refused step shows it."""
        texts = []
        for code, said in self.explained(app, case_id, lang):
            texts += [f"[{code}] " + "；".join(said)] if coded else said
        return texts

    def explained(self, app: App, case_id: int, lang: str = "zh") -> list[tuple[str, list[str]]]:
        """Each reason the case was refused: its code and its texts in the reader's language."""
        return [(why.code, [_named(app, why, lang)] if isinstance(why, JingzhunError) else
                 render_violation(app, why, lang)) for why in self.refused.get(case_id, [])]


def _named(app: App, why: JingzhunError, lang: str) -> str:
    """A refusal in words, its region and person codes with their names (洋塘村（360730100202）)."""
    from engine.reads.queries import named_error
    return named_error(app, why, lang).render(app.config, lang)


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
