"""A household's causes of poverty (致贫原因) and type (贫困户属性), corrected after its registration.

They are given once, when the household is registered (a roster's columns, `household add --cause`), and
the plan (一户一策) answers them: a cause found wrong at the first visit, or one that came since (an
illness), is corrected on the case by whoever may register households in its village (REGISTRAR_ROLES),
with a reason. Each correction is one audit event with the causes and type before and after, shown in the
case's trace (engine/reads/words.py). Nothing else changes: the steps signed stay signed.
"""
from __future__ import annotations

from typing import Sequence

from sqlalchemy import update

from engine.adapters import tables as t
from engine.adapters.app import App
from engine.adapters.repository import load_cases
from engine.domain.auth import Actor
from engine.domain.errors import BadInput, NotFound, RuleViolation, joined, own_words
from engine.services.case_actions import append_case_event
from engine.services.org import require_role

from .household import REGISTRAR_ROLES, cause_codes, household_type_code

ACTION = "causes_corrected"


def may_correct(kind: str, holds) -> bool:
    """Whether a page offers the correction: a household, to a reader who `holds` a registrar's role."""
    return kind == "household" and holds(REGISTRAR_ROLES)


def correct_causes(app: App, actor: Actor, case_id: int, causes: Sequence[str] | None, household_type: str | None,
                   reason: str) -> dict:
    """The household's causes (None: unchanged; codes or words: 因病, illness) and type (None: unchanged)
    corrected with a reason: {causes, household_type, before_causes, before_type}; refused when nothing
    would change."""
    own_words(reason, "causes.reason_required")
    wanted = cause_codes(list(causes)) if causes is not None else None
    kind = household_type_code(household_type) if household_type not in (None, "") else None
    with app.transaction() as conn:
        case = load_cases(conn, [case_id]).get(case_id)
        if case is None:
            raise NotFound("case.unknown", case=case_id)
        if case.kind != "household":
            raise BadInput("household.not_household", case=case_id)
        assignment = require_role(app, actor, REGISTRAR_ROLES, case.region_code, "household causes")
        before_causes = list(case.attrs.get("causes") or ())
        before_type = case.attrs.get("household_type")
        after_causes = wanted if wanted is not None else before_causes
        after_type = kind or before_type
        if set(after_causes) == set(before_causes) and after_type == before_type:
            raise RuleViolation("causes.unchanged", case=case_id)
        case.attrs["causes"], case.attrs["household_type"] = after_causes, after_type
        conn.execute(update(t.cases).where(t.cases.c.id == case.id).values(attrs=case.attrs))
        append_case_event(app, conn, actor, case, ACTION, assignment.role, reason=reason.strip(),
                          causes=after_causes, household_type=after_type, before_causes=before_causes,
                          before_type=before_type)
    return {"causes": after_causes, "household_type": after_type, "before_causes": before_causes,
            "before_type": before_type}


def corrected_words(config, case_id: int, done: dict, lang: str = "zh") -> str:
    """What a correction changed, in words: 案件 5：已更正 致贫原因 因残 → 因病、缺技术."""
    words = lambda prefix, codes: joined((config.label(f"{prefix}.{c}", lang) for c in codes if c), lang)  # noqa: E731
    changes = [config.label("cli.causes_change", lang).format(field=config.label(f"field.{field}", lang),
                                                               before=words(prefix, before) or "-", after=words(prefix, after))
               for field, prefix, before, after in (
                   ("causes", "cause", done["before_causes"], done["causes"]),
                   ("household_type", "household_type", [done["before_type"]], [done["household_type"]]))
               if before != after]
    return config.label("cli.causes_corrected", lang).format(case=case_id, changes=config.label(
        "h3.causes.sep", lang).join(changes))
