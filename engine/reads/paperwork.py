"""Identification paperwork printed from the record, for the archive box (a7 #5): a household's application
form (贫困户申请书) to sign, and a village meeting's appraisal result (民主评议结果) with its lines to sign.

Nothing on them is typed again: the form is the household as registered (its members, causes and the income
checked) with the application as recorded (its day, the step that took it in); the result is what the
appraisal step recorded for each household the meeting decided (its attendance, votes and outcome). ID
numbers are shown as on the case page (部分隐去), as on the handbook.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select, true

from engine.adapters import tables as t
from engine.adapters.app import App
from engine.domain.auth import Actor
from engine.domain.errors import BadInput
from engine.reads.case_record import case_detail
from engine.reads.handbook import shaped
from engine.reads.trace import page_environment


def _household(app: App, actor: Actor, case_id: int, lang: str) -> dict[str, Any]:
    case = case_detail(app, actor, case_id, lang=lang)
    if case["kind"] != "household":
        raise BadInput("paperwork.not_household", case=case_id)
    return case


def application_form(app: App, actor: Actor, case_id: int, lang: str = "zh") -> dict[str, Any]:
    """A household's application form (贫困户申请书) filled in from the record, for the applicant to sign:
    the household and its members, its causes of poverty, the latest income checked (per head against that
    year's line) and the application as recorded: the form attached (its applicant and day) and the
    application step of its latest identification (its day, who took it in). A household of any stage (an
    applicant prints it to sign; a registered one's is printed again for the archive)."""
    case = _household(app, actor, case_id, lang)
    book = shaped(app, case)
    forms = [e for e in case["evidence"] if e["type"] == "application" and not e.get("superseded_by")]
    identifications = [p for p in case["procedures"] if p["kind"] == "identification"]
    latest = identifications[-1] if identifications else None
    step = next((s for s in (latest or {}).get("steps", ()) if s["step"] == "application" and not s.get("voided")),
                None)
    checks = [i for i in book["results"]["incomes"] if i["type"] == "income_check"]
    return {**book, "form": (forms[-1]["fields"] if forms else {}),
            "applied": {"date": step["date"], "by": step["person_name"], "role": step["role"]} if step else None,
            "income": checks[-1] if checks else None}


def appraisal_result(app: App, actor: Actor, case_id: int, lang: str = "zh") -> dict[str, Any]:
    """The result of the village meeting (民主评议) that appraised the household last: the meeting's day,
    procedure and step, who recorded it, and every household of the village that meeting decided (the same
    step of the same procedure on the same day, with the same minutes), each with its attendance, votes and
    outcome as its step recorded them, and its size. A household never appraised is refused in words."""
    case = _household(app, actor, case_id, lang)
    done = [(p, s) for p in case["procedures"] for s in p["steps"] if s["type"] == "appraisal" and not s.get("voided")]
    if not done:
        raise BadInput("paperwork.not_appraised", case=case_id)
    procedure, step = done[-1]
    minutes = _minutes_of(step)
    s, c, p, m = t.steps.c, t.cases.c, t.procedures.c, t.household_members.c
    sizes = (select(m.case_id, func.count().label("size")).where(m.active == true()).group_by(m.case_id).subquery())
    with app.engine.connect() as conn:       # the village's cases (ix_cases_region), their steps by case
        rows = conn.execute(
            select(s.case_id, s.decision, s.data, s.evidence_hashes, c.title, sizes.c.size)
            .join(t.cases, c.id == s.case_id).join(t.procedures, p.id == s.procedure_id)
            .outerjoin(sizes, sizes.c.case_id == s.case_id)
            .where(c.region_code == case["region"], c.kind == "household", s.step_key == step["step"],
                   s.effective_date == date.fromisoformat(step["date"]), s.voided_at.is_(None), p.kind == procedure["kind"])
            .order_by(s.case_id)).all()
    households = [{"id": r.case_id, "head": r.title, "size": r.size or 0, "decision": r.decision,
                   "attendance": (r.data or {}).get("attendance"), "votes_for": (r.data or {}).get("votes_for"),
                   "votes_against": (r.data or {}).get("votes_against")}
                  for r in rows if _minutes_of({"evidence": r.evidence_hashes}) == minutes]
    counts = {(h["attendance"], h["votes_for"], h["votes_against"]) for h in households}
    return {"id": case["id"], "region_name": case["region_name"], "places": shaped(app, case)["places"],
            "printed_on": app.clock.today().isoformat(), "procedure": procedure["kind"], "step": step["step"],
            "date": step["date"], "recorded_by": step["person_name"], "role": step["role"],
            "quorum": (step.get("data") or {}).get("quorum"),
            "one_vote": counts.pop() if len(counts) == 1 else None,    # one count for the whole list, said once
            "households": households, "minutes": minutes}


def _minutes_of(step: dict[str, Any]) -> str | None:
    """The file (SHA-256) of the minutes an appraisal step came with: the meeting it was decided at."""
    return next((ref.get("file") for ref in step.get("evidence") or () if isinstance(ref, dict)
                 and ref.get("type") == "appraisal_minutes"), None)


PAPERS = {"application_form": application_form, "appraisal_result": appraisal_result}


def printed_paper(app: App, actor: Actor, kind: str, case_id: int, lang: str = "zh",
                  bar: tuple[str, str] | None = None) -> str:
    """The paper of `kind` (PAPERS) of the case as a page to print, as the web and the CLI give it."""
    return render_paper(app, f"{kind}.html", PAPERS[kind](app, actor, case_id, lang), lang, bar)


def render_paper(app: App, template: str, paper: dict[str, Any], lang: str = "zh",
                 bar: tuple[str, str] | None = None) -> str:
    """An application form (`application_form.html`) or an appraisal result (`appraisal_result.html`) as a
    page to print (`bar`: the web's print bar, as for the handbook)."""
    from markupsafe import Markup
    head, above = (Markup(bar[0]), Markup(bar[1])) if bar else ("", "")
    return page_environment(app, lang).get_template(template).render(b=paper, bar_head=head, bar=above)
