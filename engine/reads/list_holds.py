"""What holds a list's households back, said once for the list (a village's list for a step, on the web).

Each household's page and its line on the list say every condition it fails, in its own figures; a village
secretary with 25 households waiting for their exit proposal read the same three "check older than the
earliest day this exit accepts" conditions 25 times, and nowhere that one round of visits, entered on the
village's evidence sheet, clears them all. Here each condition is said once with the households it holds
(its figures that differ between them as …), the most common first, with the evidence sheet's link where
the condition is an item of evidence to enter again or at all."""
from __future__ import annotations

from typing import Any

from engine.adapters.app import App
from engine.domain.auth import Actor
from engine.domain.errors import render_known, render_stored
from engine.reads.queries import judged_at_step, with_names
from engine.reads.village_lists import list_region, step_def, waiting_ids

# At most this many waiting households are judged for the summary (a village has a few hundred; a county's
# list over its villages is said per village, each village's list its own)
HOLDS_MOST = 1000
# A condition's params that name the evidence type to enter (a stale check, a missing item)
_TYPE_PARAMS = ("type", "evidence_type", "etype")
# A condition's params that tell groups apart: the year an income is of (its line is that year's), so that
# 2019's incomes and 2020's are each a readable line, not one whose every figure is …
_APART_PARAMS = ("year",)


def list_holds(app: App, actor: Actor, code: str, kind: str, procedure: str, step_key: str,
               lang: str = "zh") -> dict[str, Any]:
    """The households of the list (`code`'s cases of `kind` waiting at `step_key` of `procedure`) judged as
    the step would judge them today for `actor`: how many are waiting and how many could be done now, and
    each condition that holds any back (`groups`, the most households first): its words with what differs
    between them as …, its households (id, title), and `sheet`, the evidence type to enter on the village's
    evidence sheet where the condition is one. The reader's own want of a role is left out (the list says it
    once). `more`: more households wait than were judged (HOLDS_MOST)."""
    region = list_region(app, actor, code)
    step_def(app, kind, procedure, step_key)          # an unknown step said with those known
    ids = waiting_ids(app, actor, code, procedure, step_key)
    more, ids = len(ids) > HOLDS_MOST, ids[:HOLDS_MOST]
    groups: dict[tuple, dict[str, Any]] = {}
    ready = 0
    with app.engine.connect() as conn:
        for case_id, facts, verdict in judged_at_step(app, conn, actor, kind, procedure, step_key, ids):
            held = [v for v in verdict.violations if not v.personal]
            if not held:
                ready += not verdict.violations
                continue
            title = render_stored(app.config, facts.case.title, lang)
            for key, params in _conditions(held):
                group = groups.setdefault(key, {"key": key[0], "params": dict(params), "cases": []})
                group["params"] = {k: v for k, v in group["params"].items() if params.get(k) == v}   # shared
                if not group["cases"] or group["cases"][-1]["id"] != case_id:
                    group["cases"].append({"id": case_id, "title": title})
    workflow = app.config.workflows[kind]
    shown = sorted(groups.values(), key=lambda g: -len(g["cases"]))
    village = region["level"] == "village"
    names: dict = {}
    for g in shown:         # its households by number, as a case is named elsewhere (never a bare 案件 …)
        g["params"]["case"] = _cases_named(app, [c["id"] for c in g["cases"]], lang)
    return {"waiting": len(ids), "ready": ready, "more": more, "groups": [{
        "text": (render_known(app.config, g["key"], g["params"], lang) or g["key"].split(".", 1)[-1])
        + _others(app, g, lang, names),
        "cases": g["cases"], "count": len(g["cases"]),
        "sheet": _sheet_type(g["params"], workflow) if village else None} for g in shown]}


def _conditions(violations) -> list[tuple[tuple, dict[str, Any]]]:
    """Each condition the violations say: a policy check's failures one by one (fail.<code>, its type apart:
    a stale food check and a stale water check are two), any other rule as itself (msg.<code>)."""
    found = []
    for v in violations:
        if v.code.startswith("check.") and v.params.get("failures"):
            found += [((f"fail.{code}", _type_of(params), *_apart(params)), params) for code, params in v.params["failures"]]
        else:
            found.append(((f"msg.{v.code}", _type_of(v.params), *_apart(v.params)), v.params))
    return found


# A condition's households named by their case numbers: this many, then how many more
CASES_NAMED = 3


def _cases_named(app: App, ids: list[int], lang: str) -> str:
    """A group's cases by number (9、12、15 等 1659 件), for the `case` its condition's words name."""
    first = render_known(app.config, "s55_n3.holds.case_sep", {}, lang).join(str(i) for i in ids[:CASES_NAMED])
    if len(ids) <= CASES_NAMED:
        return first
    return render_known(app.config, "s55_n3.holds.cases_more", {"first": first, "n": len(ids),
                                                                 "more": len(ids) - CASES_NAMED}, lang)


def _others(app: App, group: dict[str, Any], lang: str, names: dict) -> str:
    """A condition the reader cannot put right (`can`, put_right_by in the workflow): who must and what the
    reader can do, said with it, as each household's needs say it (the village's own advice is its sheet)."""
    params = group["params"]
    if not group["key"].startswith("fail.") or "can" not in params:
        return ""
    shown = with_names(app, dict(params), lang, names=names)       # what differs between them as …
    return next((text for key in (f"fail_others.{group['key'].split('.', 1)[1]}", "fail_others.any")
                 if (text := render_known(app.config, key, shown, lang)) is not None), "")


def _apart(params: dict[str, Any]) -> tuple:
    return tuple(str(params.get(k)) for k in _APART_PARAMS)


def _type_of(params: dict[str, Any]) -> Any:
    return next((params[k] for k in _TYPE_PARAMS if isinstance(params.get(k), str)), None)


def _sheet_type(params: dict[str, Any], workflow) -> str | None:
    """The evidence type the condition asks to enter, when the village's evidence sheet takes it."""
    definition = workflow.evidence_types.get(_type_of(params))
    return _type_of(params) if definition is not None and not definition.file and definition.fields else None
