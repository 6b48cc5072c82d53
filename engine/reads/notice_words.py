"""A notice's lines in words (engine/services/notices.py renders them): a fund project's facts as the
record held them when the notice was posted, and what the notice's step names beside each case.

A project's notice (a step with `wording: project`) says what the public may object to: the project,
its place, category, responsible unit and leader, its money by source with the fund documents (the
allocation in force when posted, else the budget), when it is to be done, its beneficiaries and
performance targets; never a household column (a project has no household size).
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from engine.adapters import tables as t
from engine.domain.errors import render_text
from engine.reads.money_words import yuan
from config import Policy
from engine.reads.words import data_words, figure, value_words

# A project's lines, in this order: (label key, fact).
PROJECT_LINES = ("place", "category", "unit", "leader", "funds", "total", "documents", "allocated_on",
                 "complete_by", "beneficiaries", "targets")


def project_facts(conn: Connection, rows: list, posted_at: Any) -> dict[int, dict[str, Any]]:
    """{case: facts} of the fund projects among `rows` (cases with `id`, `kind`, `region`), as
    recorded when the notice was posted: each kind of fund line (budget, allocated) as last recorded by
    then (a plan change or a new allocation records a whole set at once), beneficiaries as now."""
    ids = [r.id for r in rows if r.kind == "project"]
    if not ids:
        return {}
    pf = t.project_funds
    lines: dict[tuple[int, str], list] = {}
    for f in conn.execute(select(pf.c.case_id, pf.c.kind, pf.c.source, pf.c.amount, pf.c.document, pf.c.on_date,
                                 pf.c.recorded_at).where(pf.c.case_id.in_(ids), pf.c.recorded_at <= posted_at)
                          .order_by(pf.c.id)):
        kept = lines.setdefault((f.case_id, f.kind), [])
        if kept and kept[-1].recorded_at != f.recorded_at:      # a later set replaces the earlier one
            kept.clear()
        kept.append(f)
    attributes = dict(conn.execute(select(t.cases.c.id, t.cases.c.attrs).where(t.cases.c.id.in_(ids))).all())
    pb = t.project_beneficiaries
    counts = dict(conn.execute(select(pb.c.project_id, func.count()).where(pb.c.project_id.in_(ids))
                               .group_by(pb.c.project_id)).all())
    facts = {}
    for r in rows:
        if r.kind != "project":
            continue
        attrs = attributes.get(r.id) or {}
        kind = "allocated" if lines.get((r.id, "allocated")) else "budget"
        funds = lines.get((r.id, kind), [])
        facts[r.id] = {
            "place": r.region, "category": attrs.get("category"), "unit": attrs.get("responsible_unit"),
            "leader": attrs.get("leader_name"), "funds_kind": kind,
            "funds": [{"source": f.source, "amount": Decimal(f.amount), "document": f.document} for f in funds],
            "total": sum((Decimal(f.amount) for f in funds), Decimal("0.00")) if funds else None,
            "allocated_on": funds[0].on_date if kind == "allocated" and funds else None,
            "complete_by": attrs.get("complete_by"), "beneficiaries": counts.get(r.id),
            "targets": list(attrs.get("targets") or [])}
    return facts


def notice_words(config, view: dict[str, Any], lang: str = "zh") -> dict[str, Any]:
    """The notice's view with, for each case, its `lines` ([label, value] in `lang`: a project's facts,
    then what the step names beside it) and, for the notice, its opening (`intro`, a catalogue key, said
    with the notice's `year`) and the labels of what its step names beside the cases (`labels`: a
    household list's extra columns: an exit's income per head and its year)."""
    wording = view.get("wording") if view.get("wording") in ("project", "village") else "household"
    project = wording == "project"
    # a household procedure's own opening where it has one (an exit's names the year of the exit)
    intro = f"notice.intro.{view['procedure']}" if f"notice.intro.{view['procedure']}" in config.labels else "notice.intro"
    if wording != "household":          # a project's or a poor village's own opening, its step's if it has one
        own = (f"{wording}_notice.intro.{view['procedure']}.{view['step']}", f"{wording}_notice.intro.{view['step']}")
        intro = next((key for key in own if key in config.labels), f"{wording}_notice.intro")
    if view.get("announcement"):        # 公告: the result published, worded for its procedure if it has its own
        own = f"announcement.intro.{view['procedure']}"
        intro = own if own in config.labels else "announcement.intro"
    cases, labels = [], []
    for case in view["cases"]:
        shown = [[_head(label, lang), value] for item in case.get("shown") or []
                 for label, value in _shown_words(config, item, lang)]
        lines = (_project_lines(config, case["project"], lang) if project and case.get("project") else []) + shown
        labels += [label for label, _ in shown if label not in labels]
        cases.append({**case, "lines": lines, "shown_pairs": dict(shown)})
    # the year the notice was posted in: an exit's year, as its opening says it
    return {**view, "wording": wording, "cases": cases, "intro": intro, "labels": labels,
            "year": int(str(view["start"])[:4])}


def _head(label: str, lang: str) -> str:
    """A label heading a line of its own or a column: "Contractor", not the inline "contractor"."""
    return label[:1].upper() + label[1:] if lang == "en" else label


def _shown_words(config, item: dict[str, Any], lang: str) -> list[list[str]]:
    if item["kind"] == "data" and (income := income_per_head(config, item["value"], lang)) is not None:
        return [[config.label("notice_field.income_per_head", lang), income]]
    if item["kind"] == "data":           # what an earlier step recorded: as the trace says it
        return data_words(config, {item["field"]: item["value"]}, lang, item["source"])
    name = next((k for k in (f"notice_field.{item['field']}", f"field.{item['field']}") if k in config.labels),
                item["field"])
    # money with its unit (52,000.00 元), as every other page says it (money_words.EVIDENCE_MONEY)
    return [[config.label(name, lang), value_words(config, item["field"], item["value"], lang)]]


def income_per_head(config, check: Any, lang: str) -> str | None:
    """An income check a decision recorded (per head against the line, `line_source` naming the income's
    year) as a villager reads it on the board: "2020 年 8,223 元（当年标准线 4,000 元）"; None for anything
    else. Never a member's data: the household's income per head only."""
    if not (isinstance(check, dict) and {"per_capita", "line"} <= check.keys()):
        return None
    params = Policy.line_source(str(check.get("line_source") or ""))[1]
    year = params.get("year")
    return render_text(config, "notice.income_per_head" if year else "notice.income_per_head_no_year",
                       {"year": year, "per_capita": figure(check["per_capita"]), "line": figure(check["line"])},
                       lang) or ""


def _project_lines(config, facts: dict[str, Any], lang: str) -> list[list[str]]:
    said = {
        "place": facts["place"],
        "category": config.label(f"category.{facts['category']}", lang) if facts.get("category") else None,
        "unit": facts.get("unit"), "leader": facts.get("leader"),
        "funds": ("；" if lang == "zh" else "; ").join(
            f"{config.label('fund_source.' + f['source'], lang)} {yuan(config, f['amount'], lang)}"
            for f in facts["funds"]) or None,
        "total": yuan(config, facts["total"], lang) if facts.get("total") is not None else None,
        "documents": ("、" if lang == "zh" else ", ").join(
            dict.fromkeys(f["document"] for f in facts["funds"] if f.get("document"))) or None,
        "allocated_on": facts.get("allocated_on"), "complete_by": facts.get("complete_by"),
        "beneficiaries": render_text(config, "project_notice.households" + ("_one" if facts.get("beneficiaries") == 1 else ""),
                                     {"n": facts["beneficiaries"]}, lang) if facts.get("beneficiaries") else None,
        "targets": ("；" if lang == "zh" else "; ").join(facts.get("targets") or []) or None}
    labels = {"funds": "project_notice." + facts["funds_kind"]}
    return [[config.label(labels.get(key, f"project_notice.{key}"), lang), str(said[key])]
            for key in PROJECT_LINES if said[key] not in (None, "")]
