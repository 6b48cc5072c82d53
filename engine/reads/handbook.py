"""A household's handbook (扶贫手册), generated from the record: nothing in it is typed again.

The national handbook has six parts (docs/domain-research.md): the family's situation, the causes
of its poverty, its pairing cadres, its assistance plan, the measures taken and their results, the
results signed by the household. Cadres filled it by hand, page after page, and copied every fact
already in the system (DOMAIN §11, "精准填表"). Here it is one read of the case (`case_detail`, so a
record altered in the database is said on the handbook too) shaped into those parts, and a village's
handbooks are the same read for each of its registered households, one at a time (never all the
village's records in memory at once).

ID numbers are shown as on the case page (部分隐去): the handbook is kept in the household's home.
"""
from __future__ import annotations

import re
from typing import Any, Iterable, Iterator

from sqlalchemy import select

from engine.adapters import tables as t
from engine.adapters.app import App
from engine.adapters.repository import SqlCaseRepository
from engine.domain.auth import Actor
from engine.domain.cases import StepInput
from engine.domain.deadline_rules import wall_clock
from engine.domain.errors import BadInput, translator
from engine.domain.members import age_from_id
from engine.domain.regions import province_of
from engine.reads.case_record import case_detail
from engine.reads.trace import page_environment
from engine.reads.queries import render_violation
from engine.reads.village_lists import village_of
from engine.services.context import StepContext
from engine.services.guards import policy_checks_by_name

# The stages of a registered (建档立卡) household: an applicant not identified, or a household removed
# as a wrong inclusion, has no handbook.
REGISTERED = ("identified", "assisted", "exited", "consolidated")
INCOME_TYPES = ("income_check", "income_assessment")
# The checks of 两不愁三保障 and safe water kept as evidence: the latest of each is shown.
CHECK_TYPES = ("two_assurances", "housing_safety", "drinking_water")


def handbook(app: App, actor: Actor, case_id: int, lang: str = "zh", places: str | None = None) -> dict[str, Any]:
    """One household's handbook; a case that is no household is refused in words. `places`: its county,
    township and village named (read here when not given: a village's handbooks read them once)."""
    case = case_detail(app, actor, case_id, lang=lang)
    if case["kind"] != "household":
        raise BadInput("handbook.not_household", case=case_id)
    if case["stage"] not in REGISTERED:     # an applicant not (yet) identified, a household removed
        raise BadInput("handbook.not_registered", case=case_id, stage=case["stage"])
    return shaped(app, case, places)


# The procedures that put an exited household back under assistance (a wrong exit, a return to poverty):
# what was judged at its exit no longer stands for it
REOPENINGS = ("reopen_wrong_exit", "reopen_return_to_poverty")


def shaped(app: App, case: dict[str, Any], places: str | None = None) -> dict[str, Any]:
    """The six parts of the handbook from a household's `case_detail` (`places`: as for `handbook`)."""
    attrs = case["attrs"]
    members = [m for m in case["members"] if m["active"]]
    current = [e for e in case["evidence"] if not e.get("superseded_by")]
    reopened = [{"on": _decided_on(p), "kind": p["kind"]} for p in case["procedures"]
                if p["kind"] in REOPENINGS and p["status"] == "completed"]
    return {
        "id": case["id"], "title": case["title"], "region": case["region"], "region_name": case["region_name"],
        "places": places or _places(app, case["region"]), "printed_on": app.clock.today().isoformat(),
        "stage": case["standing"], "integrity": case.get("integrity"),
        "basics": {
            "household_type": attrs.get("household_type"), "size": len(members), "members": members,
            "identified_on": _completed_on(case, "identification"), "assisted_since": attrs.get("assisted_since"),
            "exited_on": attrs.get("exited_on"), "exit_year": attrs.get("exit_year"),
            "transition_until": (case.get("monitoring") or {}).get("transition_until"),
            "monitoring": (case.get("monitoring") or {}).get("current"),
        },
        "causes": list(attrs.get("causes") or ()),
        "pairings": case["pairings"],
        "plans": _plans(case),
        "measures": case["measures"],
        "results": {
            "incomes": _incomes(app, case, len(members), reopened[-1]["on"] if reopened else None),
            "checks": _checks(app, current),
            "exits": [{"on": _decided_on(p), "status": p["status"]}
                      for p in case["procedures"] if p["kind"] == "exit" and p["status"] == "completed"],
            "reopened": reopened,
            # the work record (帮扶工作记录): each visit in force, newest first, with the measure it concerns
            "visits": [v for v in reversed(case.get("visits") or ()) if v["in_force"]],
        },
    }


def _places(app: App, village: str) -> str:
    """The village with its township and county, as paper names them (宁都县梅江镇洋塘村)."""
    from engine.domain.regions import ancestors_of
    from engine.reads.case_lists import region_names
    wanted = list(reversed(ancestors_of(village)))[-3:]       # the county, the township, the village
    names = region_names(app, wanted)
    return "".join(names.get(c, "") for c in wanted)


def village_handbooks(app: App, actor: Actor, village: str, lang: str = "zh") -> tuple[dict[str, Any], Iterator[dict[str, Any]]]:
    """The village (code, name, how many registered households) and its households' handbooks in case
    order, each read when its turn comes (the ids alone are held: a village has hundreds of households).
    The village and the reader's jurisdiction over it are checked here, before any is read: a page or a
    file refuses before it begins."""
    found = village_of(app, actor, village)
    with app.engine.connect() as conn:
        ids = conn.execute(select(t.cases.c.id).where(
            t.cases.c.kind == "household", t.cases.c.stage.in_(REGISTERED),
            t.cases.c.region_code == found["code"]).order_by(t.cases.c.id)).scalars().all()
    places = _places(app, found["code"])
    return {**found, "households": len(ids)}, (handbook(app, actor, case_id, lang, places) for case_id in ids)


def _completed_on(case: dict[str, Any], kind: str) -> str | None:
    done = [p for p in case["procedures"] if p["kind"] == kind and p["status"] == "completed"]
    return _decided_on(done[-1]) if done else None


def _decided_on(procedure: dict[str, Any]) -> str | None:
    """The day a procedure was decided: its last step's date (as the step was dated, not the moment it was
    typed in: a decision of 03-21 recorded on the 27th, or at 07:30 Beijing time, is of the 21st)."""
    steps = [s for s in procedure["steps"] if not s.get("voided")]
    return steps[-1]["date"] if steps else None


def _plans(case: dict[str, Any]) -> list[dict[str, Any]]:
    """Each assistance plan the household had: the procedure that made it (the first plan, or a revision),
    when it was approved and by whom, and how many of its measures it planned."""
    planned: dict[int, int] = {}
    for m in case["measures"]:
        planned[m["procedure"]] = planned.get(m["procedure"], 0) + 1
    plans = []
    for p in case["procedures"]:
        if p["id"] not in planned:
            continue
        done = [s for s in p["steps"] if not s.get("voided")]
        completed = p["status"] == "completed" and done
        plans.append({"procedure": p["kind"], "status": p["status"], "started": done[0]["date"] if done else None,
                      "approved_on": done[-1]["date"] if completed else None,
                      "approved_by": done[-1]["person_name"] if completed else None,
                      "measures": planned[p["id"]]})
    return plans


# What an identification or exit decision recorded of the income it judged (workflows: per head, line)
JUDGED = ("income_check", "exit_check")


def _incomes(app: App, case: dict[str, Any], size: int, reopened_on: str | None = None) -> list[dict[str, Any]]:
    """The household's income of each year assessed (the latest item of that year, whether or not a later
    year's assessment has replaced it since: last year's stays last year's), per head against
    that year's line: as the decision that relied on it judged it (the household's size then), else over
    the members now (`members_now`: said on the page, for a household that grew or shrank since)."""
    judged: dict[int, dict[str, Any]] = {}
    for p in case["procedures"]:
        for s in p["steps"]:
            found = next((s["data"][k] for k in JUDGED if isinstance((s.get("data") or {}).get(k), dict)), None)
            if found is not None and not s.get("voided"):
                for ref in s.get("evidence") or ():
                    if isinstance(ref, dict) and ref.get("type") in INCOME_TYPES:
                        judged[ref.get("id")] = found
    # a year's income: the item in force (a correction wins), else, replaced by a later year's assessment, the
    # one a decision judged (what the exit rested on), else the latest of that year
    by_year: dict[int, dict[str, Any]] = {}
    for e in sorted(case["evidence"], key=lambda e: e["id"]):
        if e["type"] not in INCOME_TYPES:
            continue
        try:
            year, net = int(e["fields"]["year"]), float(e["fields"]["net_income"])
        except (KeyError, TypeError, ValueError):
            continue
        rank = (not e.get("superseded_by"), e["id"] in judged, e["id"])
        if year in by_year and by_year[year]["rank"] > rank:
            continue
        by_year[year] = {"year": year, "net_income": net, "type": e["type"], "recorded_by": e["attached_by_name"],
                         "judged": judged.get(e["id"]), "rank": rank,
                         # assessed before the household was put back under assistance: what its exit rested on
                         "before_reopening": bool(reopened_on and wall_clock(app.config, e["attached_at"])[:10]
                                                  <= reopened_on)}
    rows = []
    for year in sorted(by_year):
        row = by_year[year]
        then = row.pop("judged")
        row.pop("rank")
        if then is not None and then.get("per_capita") is not None:
            per_head, line, now = float(then["per_capita"]), then.get("line"), False
        else:
            found = app.config.policy.income_line(province_of(case["region"]), year)
            per_head, line, now = (row["net_income"] / size if size else None), (found[0] if found else None), True
        rows.append({**row, "per_head": per_head, "line": line, "members_now": size if now else None,
                     "above": None if per_head is None or line is None else per_head > line})
    return rows


def _checks(app: App, current: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The latest of each check, with the day it was recorded on the office's clock."""
    latest: dict[str, dict[str, Any]] = {}
    for e in current:
        if e["type"] in CHECK_TYPES:
            latest[e["type"]] = {"type": e["type"], "fields": e["fields"],
                                 "on": wall_clock(app.config, e["attached_at"])[:10]}
    return [latest[k] for k in CHECK_TYPES if k in latest]


def render_handbooks(app: App, books: Iterable[dict[str, Any]], lang: str = "zh",
                     village: dict[str, Any] | None = None, bar: tuple[str, str] | None = None) -> Iterator[str]:
    """The printable page of `books` (one household's handbook, or a village's: `village` says which),
    written a piece at a time as the books are read; `bar`: markup for the page's head and above it (the
    web's print button and way back), already escaped."""
    books = iter(books)
    if village is None:     # one household: its name is the page's title
        single = next(books)
        books, shown = iter((single,)), single
    else:
        shown = None
    template = page_environment(app, lang).get_template("handbook.html")
    head, above = _bar(bar)
    return template.generate(books=books, village=village, single=shown, bar_head=head, bar=above,
                             page_number=page_number(app, lang, village), book_page=book_page,
                             book_foot=lambda case: page_number(app, lang, village, case))


def page_number(app: App, lang: str, village: dict[str, Any] | None = None, case: int | None = None) -> Any:
    """What each printed sheet says at its foot (a CSS `content` value): its number and the sheets in all,
    for a household's handbook printed alone. A village's handbooks printed in one go are filed per
    household, so each household's sheets are numbered on their own (`case`: the household whose sheets
    these are, counted by a counter of its own named page, see `book_page`), with the village's name and
    the case number; the sheets in all is the whole print's, not the household's, and is not said (CSS
    has no count of a named page's sheets)."""
    from markupsafe import Markup
    t = translator(app.config, lang)
    marks = {"page": "\x00", "pages": "\x01"}
    if village and case is not None:
        words = t("print51.village_book_page", village=village["name"], case=case, page="\x00")
    else:
        words = (t("handbook50.village_page_of", village=village["name"], **marks) if village
                 else t("handbook50.page_of", **marks))
    page = f"counter({book_page(case)})" if village and case is not None else "counter(page)"
    out = []
    for piece in re.split("([\x00\x01])", words):
        if piece in ("\x00", "\x01"):
            out.append(page if piece == "\x00" else "counter(pages)")
        elif piece:
            out.append(css_string(piece))
    return Markup(" ".join(out))


def book_page(case: int) -> str:
    """The name of the page (and of its sheet counter) a household's handbook is printed on in a village's
    print: Chromium counts a counter incremented in a named page's rule on that name's sheets alone."""
    return f"book-{int(case)}"


def css_string(text: str) -> str:
    """`text` as a CSS string, every character but letters, digits and spaces escaped (a village's name is
    as an administrator typed it: it must not close the string or the style element)."""
    return '"' + "".join(c if c.isalnum() or c == " " else f"\\{ord(c):06x}" for c in text) + '"'


def exit_confirmation(app: App, actor: Actor, case_id: int, lang: str = "zh") -> dict[str, Any]:
    """The household's exit confirmation (脱贫确认书) to print, read to the household and sign, then attach
    as its `household_confirmation`: its handbook's facts a household is asked to confirm (the latest year's
    income per head against its line, food and clothing, schooling, insurance, housing, water), each as the
    record holds it, a fact not recorded said so. A household being assisted only (an exit starts there)."""
    book = handbook(app, actor, case_id, lang)
    if book["stage"] != "assisted":
        raise BadInput("handbook.confirmation_not_assisted", case=case_id, stage=book["stage"])
    members = book["basics"]["members"]
    reopened = book["results"]["reopened"]
    since = reopened[-1]["on"] if reopened else ""
    checks = {c["type"]: c["fields"] for c in book["results"]["checks"] if c["on"] > since}
    # an income assessed before a reopening (the wrong exit's, the one before a return to poverty) is not
    # asked again: the household is asked to confirm only what was assessed since
    incomes = [i for i in book["results"]["incomes"] if not i["before_reopening"]]
    dated = {c["type"]: c["on"] for c in book["results"]["checks"] if c["on"] > since}
    book = {**book, "confirmation": {
        "income": incomes[-1] if incomes else None,
        "checked_on": dated,     # each check's day, said with its facts (the household signs what was seen when)
        "food": checks.get("two_assurances", {}).get("food"), "clothing": checks.get("two_assurances", {}).get("clothing"),
        "dropped_out": sum(1 for m in members if m["school_enrolment"] == "dropped_out"),
        "school_unknown": _school_unknown(app, case_id, book["region"]),
        "uninsured": sum(1 for m in members if m["insured_basic"] is False or m["insured_critical"] is False),
        "insurance_unknown": sum(1 for m in members if m["insured_basic"] is None or m["insured_critical"] is None),
        "housing_grade": checks.get("housing_safety", {}).get("grade"),
        "housing": {k: v for k, v in checks.get("housing_safety", {}).items() if k != "grade" and v is not None},
        "water": checks.get("drinking_water", {}).get("safe"),
        "pairing": [p["person_name"] for p in book["pairings"] if p["kind"] == "first" and not p["end"]],
    }}
    c = book["confirmation"]
    # what the exit standard refuses today, judged by its own rules (the plan's renovation not accepted, a
    # check too old…): the sheet and the standard never disagree (a6 finding 7)
    c["refused"] = exit_refusals(app, actor, case_id, lang)
    # what the household must not be asked to sign over (DOMAIN §11: "数字脱贫"): an income under the line
    # or none, a need not met, a fact not recorded, anything the exit standard refuses.
    c["short"] = bool(c["refused"]) or (c["income"] is None or c["income"]["above"] is not True
                  or any(v is not True for v in (c["food"], c["clothing"], c["water"]))
                  or bool(c["dropped_out"] or c["school_unknown"] or c["uninsured"] or c["insurance_unknown"])
                  or not c["housing_grade"])
    return book


def exit_refusals(app: App, actor: Actor, case_id: int, lang: str = "zh") -> list[str]:
    """What the checks of the household's exit (its first step's: the exit standard, a new plan asked
    for…) refuse today, in words, one line a failure: the workflow's own rules run on the record as a
    proposal made today would run them (no second copy of them here)."""
    with app.engine.connect() as conn:
        repo = SqlCaseRepository(conn)
        case = repo.cases([case_id])[case_id]
        workflow = app.config.workflows[case.kind]
        name = workflow.main_path.get(case.stage)
        if name is None:
            return []
        proc_def = workflow.procedures[name]
        step = proc_def.steps[0]
        evidence = repo.current_evidence([case_id], proc_def.evidence_types(),
                                        kept=workflow.per_procedure_types())[case_id]
        ctx = StepContext(app, conn, actor, case, name, step, app.clock.today(), StepInput(), evidence)
        who = app.rules[case.kind].who_checks       # who may take the step: not the household's to sign over
        found = [v for check, violations in policy_checks_by_name(app, ctx) if check not in who for v in violations]
    return [line for v in found for line in render_violation(app, v, lang)]


def _school_unknown(app: App, case_id: int, region: str) -> int:
    """How many members of compulsory-education age (the exit standard's, today) have their schooling
    not recorded: the exit standard asks for it, so the household is not asked to sign over it (their
    ages from their ID numbers, which the handbook shows masked)."""
    today = app.clock.today()
    low, high = app.config.policy.params(province_of(region), today.year)["education_ages"]
    m = t.household_members.c
    with app.engine.connect() as conn:
        numbers = conn.execute(select(m.id_number).where(m.case_id == case_id, m.active.is_(True),
                                                         m.school_enrolment.is_(None))).scalars().all()
    ages = (age_from_id(number, today) for number in numbers)
    return sum(1 for age in ages if age is not None and low <= age <= high)


def render_confirmation(app: App, confirmation: dict[str, Any], lang: str = "zh",
                        bar: tuple[str, str] | None = None) -> str:
    """The exit confirmation as a page to print (`bar` as for `render_handbooks`)."""
    head, above = _bar(bar)
    return page_environment(app, lang).get_template("exit_confirmation.html").render(
        b=confirmation, bar_head=head, bar=above)


def render_sheet(app: App, sheet: dict[str, Any], region: str, lang: str = "zh",
                 bar: tuple[str, str] | None = None) -> str:
    """A sample check's sheet for the visits as a page to print (`bar` as for `render_handbooks`)."""
    head, above = _bar(bar)
    sep = "、" if lang == "zh" else ", "
    verdicts = sep.join(app.config.label(f"sample_finding.{f}", lang) for f in sheet["finding_codes"]
                        if f not in OPINIONS)
    opinions = sep.join(app.config.label(f"sample_finding.{f}", lang) for f in OPINIONS)
    return page_environment(app, lang).get_template("sample_sheet.html").render(
        d=sheet, region=region, verdicts=verdicts, opinions=opinions, bar_head=head, bar=above)


# A sample check's survey answer (the household's opinion of its exit), recorded apart from the verdict
OPINIONS = ("approving", "not_approving")


def _bar(bar: tuple[str, str] | None) -> tuple[Any, Any]:
    """The web's markup for a printable page's head and above it (already escaped), or nothing."""
    from markupsafe import Markup
    return (Markup(bar[0]), Markup(bar[1])) if bar else ("", "")
