"""A record's values in words: what a step's data, an evidence item's fields, a member change and an
act on a case say, labelled from the catalogue, in one place for every reader (the case page, the web
trace, the text trace, the printed dossier and the events behind a flag). A decision is only as good
as what it was based on; an inspector must read that on paper as on the screen, not dig it out of
`--json`.
"""
from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from config import Policy
from engine.adapters import tables as t
from engine.domain.errors import Msg, joined, render_stored, render_text
from engine.domain.evidence import compared, content_hash
from engine.domain.kin import kin_said
from engine.domain.members import mask_id, member_changes
from engine.reads.money_words import EVIDENCE_MONEY, disbursement_lines, project_data_words, yuan

# Evidence fields whose value is a share (0-1, shown as a percentage) or a code of a labelled list
# (shown by its label), by field name.
SHARE_FIELDS = frozenset({"provincial_incidence", "electricity", "quorum"})
CODED_FIELDS = {"source": "problem_source", "quality": "quality"}
# A member change's coded fields, by the label list their codes are in.
MEMBER_CODED = {"relation": "relation", "labour_ability": "labour", "health": "health", "school_enrolment": "school"}
_ID_NUMBER = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")
# Step data a reader never needs in words: row ids and names recorded beside the codes shown.
_UNSHOWN = frozenset({"verifier_ids", "assignee_id", "assignee_name", "scope"})
# Where a step data key's label is looked for (after its step's own, `trace.data.STEP.KEY`): an
# evidence field's, then a step form input's.
_LABELS = ("field", "step_input", "trace")


def figure(value: Any) -> Any:
    """A number as a page shows money and counts: 12,000 (not 12000.0), 3,379.5; anything else as it is
    (a year is shown as it is by its field, not through this)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{int(value):,}"


def percent(value: Any) -> Any:
    """A share (0-1) as a percentage: 0.03 -> 3%, 1 -> 100%, 0.025 -> 2.5%; anything else as it is."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    return f"{value * 100:.2f}".rstrip("0").rstrip(".") + "%"


def _label(config, prefix: str, code: Any, lang: str) -> str:
    key = f"{prefix}.{code}"
    return config.label(key, lang) if key in config.labels else str(code)


def as_code(config, prefix: str, value: Any) -> Any:
    """A coded field's value as its code: the code itself, or one of its labels in either language,
    kept as typed where the field is text (an acceptance report's quality 合格, read as pass by the
    acceptance step): shown in the reader's language (said, not rewritten); anything else as given."""
    if not isinstance(value, str) or f"{prefix}.{value}" in config.labels:
        return value
    return _codes_by_label(config.labels, prefix).get(compared(value), value)


_BY_LABEL: dict[tuple[int, str], tuple[Any, dict[str, str]]] = {}


def _codes_by_label(labels, prefix: str) -> dict[str, str]:
    """A labelled list's codes by their labels in every language, as compared; built once per list and
    catalogue."""
    cached = _BY_LABEL.get((id(labels), prefix))
    if cached is None or cached[0] is not labels:
        start = prefix + "."
        found = {compared(text): key[len(start):] for key, texts in labels.items() if key.startswith(start)
                 for text in texts.values() if text}
        cached = _BY_LABEL[(id(labels), prefix)] = (labels, found)
    return cached[1]


def code_labels(key: str, value: Any = None, labels: Any = None) -> str:
    """The label list a field's code is said from: a finding's source (problem_source.third_party_evaluation:
    第三方评估), a project's quality, else the field's own codes (field.grade.B); a code of the field's own
    (`value`, found in `labels`) from those (a monitoring clue's channel, field.source.department)."""
    if labels is not None and isinstance(value, str) and f"field.{key}.{value}" in labels:
        return f"field.{key}"
    return CODED_FIELDS.get(key, f"field.{key}")


def ids_masked(text: str) -> str:
    """`text` with every ID number in it masked as the members' are (360730********1234): a person's
    words (a reason, a note) said again on a page or in a message."""
    return _ID_NUMBER.sub(lambda m: mask_id(m.group(0)), text)


def value_words(config, key: str, value: Any, lang: str = "zh") -> str:
    """One field's value as a reader sees it: yes/no, a code by its label, a share as a percentage,
    a year as it is, a number with thousands separators; nothing: '-'."""
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return config.label("web.yes" if value else "web.no", lang)
    if isinstance(value, str) and f"field.{key}.{value}" in config.labels:     # a code field's code (grade B;
        return config.label(f"field.{key}.{value}", lang)       # a monitoring clue's channel, 部门筛查预警)
    if key in CODED_FIELDS:
        return _label(config, CODED_FIELDS[key], as_code(config, CODED_FIELDS[key], value), lang)
    if key in SHARE_FIELDS:
        return str(percent(value))
    if key in EVIDENCE_MONEY:           # an amount typed as text (a project's final cost): 260,000.00 元
        return yuan(config, value, lang)
    if isinstance(value, list):
        return joined((value_words(config, key, v, lang) for v in value), lang)
    if isinstance(value, str):          # an ID number typed into a text is masked as the members' are;
        return ids_masked(render_stored(config, value, lang) or value)   # the engine's words (问题 #3：…) said
    return str(value) if "year" in key else str(figure(value))


def field_words(config, fields: dict | None, lang: str = "zh") -> list[list[str]]:
    """An evidence item's fields as [label, value] pairs, in the order they were recorded."""
    return [[_label(config, "field", k, lang), value_words(config, k, v, lang)] for k, v in (fields or {}).items()]


def replaced_words(config, old: dict | None, new: dict | None, etype: str, lang: str = "zh") -> list[str]:
    """What a replacement changed, field by field ("收入核算明细表：家庭纯收入 18,000 → 27,661.57")."""
    old, new = old or {}, new or {}
    what = _label(config, "evidence", etype, lang)
    return [render_text(config, "trace.change", {"member": what, "field": _label(config, "field", k, lang),
                                                 "old": value_words(config, k, old.get(k), lang),
                                                 "new": value_words(config, k, new.get(k), lang)}, lang) or ""
            for k in dict.fromkeys([*old, *new]) if old.get(k) != new.get(k)]


def data_words(config, data: dict | None, lang: str = "zh", step: str | None = None) -> list[list[str]]:
    """A step's recorded data as [label, value] pairs: the vote, the income standard checked (per
    capita against the line, with its year and province), the verifiers, the cadres paired, the
    measures planned… A key the catalogue has no label for is left to `--json`; a key `step` (the
    step's key) names in its own words is said so (a milestone's `name`: 名称, not 姓名)."""
    shown: list[list[str]] = []
    for key, value in (data or {}).items():
        if key in _UNSHOWN or value is None or value == [] or value == {}:
            continue
        if (project := project_data_words(config, data, key, value, lang)) is not None:   # a fund project's
            shown += project
        elif isinstance(value, dict) and {"per_capita", "line"} <= value.keys():
            shown.append([_label(config, "trace.check", key, lang), _income_line(config, value, lang)])
        elif key == "exit_facts" and isinstance(value, dict):
            shown += exit_fact_words(config, value, lang)
        elif key in ("incidence_check", "identification_check") and isinstance(value, dict) \
                and "incidence_pct" in value and ("threshold_pct" in value or "required_pct" in value):
            # a poor village's incidence as its exit or identification judged it, against the standard
            said = "village_words.incidence_exit" if key == "incidence_check" else "village_words.incidence_identification"
            shown.append([config.label("village_words.incidence", lang), render_text(config, said, {
                "pct": value["incidence_pct"], "standard": value.get("threshold_pct", value.get("required_pct")),
                "persons": value.get("poor_persons", "-"), "population": value.get("population", "-")}, lang) or ""])
        elif key == "cadres" and isinstance(value, dict):
            shown += [[_label(config, "pairing_slot", slot, lang), str(code)] for slot, code in value.items() if code]
        elif key == "measures" and isinstance(value, list):
            shown.append([config.label("step_input.measures", lang), "; ".join(
                render_text(config, "pair", {"name": _label(config, "measure", m[0], lang), "value": m[1]}, lang) or ""
                for m in value if isinstance(m, list) and len(m) == 2)])
        elif key == "outcome" and isinstance(value, dict) and "key" in value:   # why the step did not pass
            shown.append([config.label("trace.check.outcome", lang),
                          render_text(config, value["key"], value.get("params") or {}, lang) or value["key"]])
        elif key == "outcome" and isinstance(value, str):      # the same, stored as a message's text
            shown.append([config.label("trace.check.outcome", lang), render_stored(config, value, lang) or value])
        elif _scalars(value) and (name := next((k for k in (f"trace.data.{step}.{key}", *(f"{p}.{key}" for p in _LABELS))
                                                if k in config.labels), None)):
            shown.append([config.label(name, lang), value_words(config, key, value, lang)])
    return shown


def exit_fact_words(config, facts: dict, lang: str = "zh") -> list[list[str]]:
    """What an exit decision read besides the income (workflows/household_steps.exit_facts), as
    [label, value] pairs: the school-age members' enrolment, the members' insurance, the housing
    grade, safe water, food and clothing; a fact it did not read (no such item) is left out."""
    text = lambda key, **params: render_text(config, key, params, lang) or ""  # noqa: E731
    listed = lambda items: ("；" if lang == "zh" else "; ").join(items)  # noqa: E731
    said = lambda v: config.label("trace.fact.unknown", lang) if v is None else value_words(config, "", v, lang)  # noqa: E731
    low, high = facts.get("education_ages") or (0, -1)
    members = [m for m in facts.get("members") or [] if isinstance(m, list) and len(m) == 5]
    school = [text("trace.fact.school_member", name=name, age=age,
                   school=_member_value(config, "school_enrolment", code, lang))
              for name, age, code, _, _ in members if low <= age <= high]
    shown = [[config.label("trace.fact.education", lang),
              listed(school) or text("trace.fact.no_school_age", low=low, high=high)]]
    insured = [[name, basic, critical] for name, _, _, basic, critical in members]
    shown.append([config.label("trace.fact.medical", lang), text("trace.fact.all_insured", n=len(members))
                  if all(b is True and c is True for _, b, c in insured) else
                  listed([text("trace.fact.insured_member", name=n, basic=said(b), critical=said(c)) for n, b, c in insured])])
    housing = facts.get("housing")
    if isinstance(housing, dict):
        shown.append([config.label("trace.fact.housing", lang), joined(
            [value_words(config, "grade", housing.get("grade"), lang)]
            + [config.label(f"field.{k}", lang) for k in ("renovated_accepted", "relocated_keys_handed") if housing.get(k)],
            lang)])
    shown += [[config.label(f"field.{key}", lang), said(facts[name])]
              for name, key in (("water", "safe"), ("food", "food"), ("clothing", "clothing")) if name in facts]
    return shown


def _income_line(config, check: dict, lang: str) -> str:
    source = check.get("line_source")
    return render_text(config, "trace.income_line", {
        "per_capita": figure(check["per_capita"]), "line": figure(check["line"]),
        "source": Msg(*Policy.line_source(source)) if source else "-"}, lang) or ""


def _scalars(value: Any) -> bool:
    plain = (str, int, float, bool)
    return isinstance(value, plain) or (isinstance(value, list) and all(isinstance(v, plain) for v in value))


def change_words(config, changes: list[dict[str, Any]], lang: str = "zh") -> list[str]:
    """Each member change (engine.domain.members.member_changes) as a line: "王芳：健康状况 健康 → 大病"."""
    lines = []
    for c in changes:
        if c["field"] == "active":
            lines.append(render_text(config, "trace.change.left", {"member": c["member"]}, lang) or "")
            continue
        old, new = (_member_value(config, c["field"], v, lang) for v in (c["old"], c["new"]))
        lines.append(render_text(config, "trace.change", {"member": c["member"], "field": _label(config, "field", c["field"], lang),
                                                          "old": old, "new": new}, lang) or "")
    return lines


def _member_value(config, field: str, value: Any, lang: str) -> str:
    if field in ("school_enrolment", "insured_basic", "insured_critical") and value is None:
        # a list's blank, or insurance a registration did not give: 在校情况 未登记 → 在校生, 基本医疗保险 未登记 → 是
        return config.label("trace.fact.unknown", lang)
    if field in MEMBER_CODED and value is not None:
        return _label(config, MEMBER_CODED[field], value, lang)
    return value_words(config, field, value, lang)


def event_lines(conn, config, events: list, lang: str) -> list[list[str]]:
    """Each case event of `events` (rows with action, detail, evidence_hashes) in words, as
    `_act_lines` says it: the evidence items and visits they name are read at once, not event by event."""
    wanted = {ref.get("id") for r in events for ref in (r.evidence_hashes or []) if isinstance(ref, dict)}
    wanted |= {(r.detail or {}).get("replaced") for r in events}
    seen = {(r.detail or {}).get("visit") for r in events}
    items = {e.id: e for e in conn.execute(select(t.evidence.c.id, t.evidence.c.type, t.evidence.c.fields,
                                                  t.evidence.c.file_sha256, t.evidence.c.content_hash).where(
        t.evidence.c.id.in_(sorted(i for i in wanted if isinstance(i, int)))))} if wanted - {None} else {}
    visits = {v.id: v for v in conn.execute(select(t.monitoring_visits).where(
        t.monitoring_visits.c.id.in_(sorted(i for i in seen if isinstance(i, int)))))} if seen - {None} else {}
    from engine.reads.imports import imported_from
    files = imported_from(conn, events)
    return [registration_lines(config, r.detail or {}, files.get(r.seq), lang) if r.action == "case_registered"
            else _act_lines(config, r, items, visits, lang) for r in events]


def registration_lines(config, detail: dict, source: dict | None, lang: str) -> list[str]:
    """What a case's registration recorded beyond who did it: the stage and the list file a registry
    moved it in from (`source`: file, sha256, when found), the year it exited, the members whose ID
    numbers were left for the cadre to confirm."""
    said = lambda key, **params: render_text(config, key, params, lang) or ""  # noqa: E731
    stage = detail.get("stage_from_file")
    lines = []
    if source:
        lines.append(said("trace.registered_from_file" if stage else "trace.imported_from_file",
                          file=source.get("file") or "-", sha256=(source.get("sha256") or "-")[:16],
                          stage=_label(config, "stage", stage, lang)))
    elif stage:
        lines.append(said("trace.registered_stage", stage=_label(config, "stage", stage, lang)))
    if detail.get("exit_year"):
        lines.append(said("pair", name=config.label("trace.exit_year", lang), value=str(detail["exit_year"])))
    if detail.get("ids_to_confirm"):
        lines.append(said("trace.ids_to_confirm", members=joined((str(i) for i in detail["ids_to_confirm"]), lang)))
    return lines


def sample_finding_lines(config, detail: dict, lang: str) -> list[str]:
    """What a sample check found on a household (engine/services/sampling._write_finding): the draw and
    the finding (核实无误, 错退, 漏评 and how many persons, 认可…), the problem item a wrong exit opened and
    the evaluator's evidence file; who recorded it is the event's person."""
    said = lambda key, **params: render_text(config, key, params, lang) or ""  # noqa: E731
    finding = detail.get("finding") or "-"
    lines = [said("trace.sample_missed" if finding == "missed" else "trace.sample_finding",
                  draw=detail.get("draw_id"), sample_finding=finding, persons=detail.get("persons"))]
    if detail.get("problem_id"):
        lines.append(said("trace.sample_problem", problem=detail["problem_id"]))
    if detail.get("file_sha256"):
        lines.append(said("trace.sample_file", sha256=detail["file_sha256"][:16]))
    return lines


def altered(etype: str, fields: dict | None, file_sha256: str | None, recorded: str | None) -> bool:
    """An evidence item's values are not what was recorded: its row was edited behind the engine (its
    content hash no longer matches), so a figure shown from it must not be read as its person's."""
    return content_hash(etype, fields, file_sha256) != recorded


def _altered(config, item, lang: str) -> str:
    """The warning after an altered item's values (`altered`), else nothing."""
    if not altered(item.type, item.fields, item.file_sha256, item.content_hash):
        return ""
    return (" " if lang == "en" else "") + config.label("trace.evidence_altered", lang)


def _act_lines(config, event, items: dict, visits: dict, lang: str) -> list[str]:
    """What one act recorded, in words: the evidence added and its values, a replacement's old and
    new values, a member's changes, a visit's findings."""
    detail = event.detail or {}
    pair = lambda name, value: render_text(config, "pair", {"name": name, "value": value}, lang) or ""  # noqa: E731
    evidence = lambda e: pair(f"{config.label(f'evidence.{e.type}', lang)} #{e.id}",  # noqa: E731
                              " · ".join(f"{k} {v}" for k, v in field_words(config, e.fields, lang)) or "-") + \
        _altered(config, e, lang)
    new = [items[ref["id"]] for ref in event.evidence_hashes or [] if isinstance(ref, dict) and ref.get("id") in items]
    # an income far past the poverty line, attached as its person confirmed it (case_actions.implausible_income)
    notes = [config.label("trace.figure_confirmed", lang)] if detail.get("figure_confirmed") else []
    sheet = detail.get("sheet")      # an evidence sheet's row (case_actions._from_sheet)
    if isinstance(sheet, dict):
        notes.append(render_text(config, "trace.from_sheet" if sheet.get("line") else "trace.from_sheet_no_line", {
            "file": sheet.get("file") or "-", "sha256": (sheet.get("sha256") or "-")[:16], "line": sheet.get("line")},
            lang) or "")
    if event.action == "evidence_replaced" and detail.get("replaced") in items:
        old = items[detail["replaced"]]
        return [f"#{old.id} → " + ", ".join(f"#{e.id}" for e in new)] + [
            line for e in new for line in replaced_words(config, old.fields, e.fields, e.type, lang)] + notes
    if new:
        return [evidence(e) for e in new] + notes
    if event.action in ("visit_recorded", "visit_corrected", "visit_withdrawn") and detail.get("visit") in visits:
        visit = visits[detail["visit"]]
        risk = [config.label("web.case.visit_risk", lang)] if visit.risk else []
        replaced = [render_text(config, "visit.replaces", {"visit": detail["replaces"]}, lang) or ""] \
            if detail.get("replaces") else []
        return replaced + [pair(visit.visit_date.isoformat(), visit.findings)] + risk + \
            ([pair(config.label("visit.result", lang), visit.result)] if visit.result else [])
    if event.action == "sample_finding":
        return sample_finding_lines(config, detail, lang)
    if event.action == "disbursement_recorded":
        return disbursement_lines(config, detail, lang)
    if event.action in ("relative_recorded", "relative_removed"):     # the cadre and their kinship, as the reader says it
        return [render_text(config, "trace.relative", {"person": detail.get("person"),
                                                       "kin": kin_said(config, detail.get("relation") or "-", lang)},
                            lang) or ""]
    if event.action == "member_id_confirmed":
        return [render_text(config, "trace.id_confirmed", {"member": detail.get("member"), "id": detail.get("id")},
                            lang) or ""]
    if event.action == "causes_corrected":      # workflows/poverty_causes.py: causes and type, before -> after
        said = lambda prefix, codes: joined([_label(config, prefix, c, lang) for c in codes or ()], lang)  # noqa: E731
        return [pair(config.label(f"field.{name}", lang), f"{before} → {after}") for name, before, after in (
            ("causes", said("cause", detail.get("before_causes")), said("cause", detail.get("causes"))),
            ("household_type", said("household_type", [detail.get("before_type")] if detail.get("before_type") else []),
             said("household_type", [detail.get("household_type")])))
            if before != after]
    if event.action == "exit_year_noted":       # workflows/exit_year.py: the year before, if one was noted
        before = detail.get("before")
        return [pair(config.label("trace.exit_year", lang), f"{before} → {detail.get('year')}" if before
                     else str(detail.get("year")))]
    to_confirm = [render_text(config, "trace.id_to_confirm", {"member": detail.get("member"), "why": _label(
        config, "id_check", detail["id_to_confirm"], lang)}, lang) or ""] if detail.get("id_to_confirm") else []
    return change_words(config, member_changes(event.action, detail), lang) + to_confirm
