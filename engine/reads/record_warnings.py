"""What a reader of inspection leads or of a person's trace is told first when the record they are built
on was altered in the database: the leads and the person's steps are read from the tables, and a row
changed behind the engine (a step's signer moved to someone else) makes a false lead against an
innocent person, or takes one away, without a word.

Two sources, neither re-verifying the whole log on a request: the outcome of the last `audit verify`
(CLI or /inspect's 立即核验, kept in the home as LAST_VERIFY, with the cases its damage names), and a
check of the cases the reader is shown: their steps, those named responsible, pairings, objections and
deadlines closed against their events (what the leads and a person's rows are read from), in one query a
table for STEPS_CHUNK cases at a time, up to STEPS_CHECKED_MAX cases (a page of leads whose bursts list
thousands); for leads, the first CHECKED_NOW_MAX of their cases also by the whole per-case check every
view of a case makes (engine.reads.audit_verify.verify_case: its hash chain, evidence, members), the
reader told how many were checked, and how, when there were more (checked_words).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable

from engine.adapters.app import App
from engine.adapters.private_files import write_private
from engine.domain.auth import Actor
from engine.domain.deadline_rules import wall_clock
from engine.domain.errors import joined, render_text
from engine.reads.audit_records import removal_procedures
from engine.reads.audit_steps import check_case_steps
from engine.reads import audit_verify

LAST_VERIFY = "last-verify.json"    # in the home: the last whole verify's outcome
CASES_KEPT = 200                    # damaged cases it names (by number); their count beyond
CHECKED_NOW_MAX = 50                # cases whose whole record is checked one by one on a request (5–20 ms each)
STEPS_CHECKED_MAX = 2000            # cases whose steps are checked on a request (about 0.9 ms each)
STEPS_CHUNK = 500                   # cases whose steps are checked together, one query a table


def verify_remembered(app: App, actor: Actor, against: tuple[int, str] | None = None) -> audit_verify.Report:
    """`audit verify` (engine.reads.audit_verify.verify), its outcome kept for the leads' readers:
    when, by whom, intact or not, how many findings and the cases they name."""
    report = audit_verify.verify(app, against)
    cases = sorted({c for d in report.damage or [] if isinstance(c := dict(d.params).get("case"), int)})
    kept = {"at": app.clock.now().isoformat(), "by": actor.code, "by_name": actor.name, "intact": report.intact,
            "damage": len(report.damage or []), "cases": cases[:CASES_KEPT], "cases_more": max(len(cases) - CASES_KEPT, 0)}
    write_private(_path(app), json.dumps(kept, ensure_ascii=False))
    return report


def last_verify(app: App) -> dict[str, Any] | None:
    """The last whole verify's outcome, or None when none was kept (or its file cannot be read)."""
    try:
        kept = json.loads(_path(app).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return kept if isinstance(kept, dict) and "intact" in kept else None


def record_altered(app: App, case_ids: Iterable[int | None], lang: str = "zh",
                   steps_only: bool = False) -> dict[str, Any] | None:
    """What the reader of leads (or of a person's record) naming `case_ids` must be told before acting
    on them, or None when nothing is known to be altered: the damaged cases (those the last verify
    named, and those of `case_ids` found damaged now: the first CHECKED_NOW_MAX as every view of a case
    checks it, but with `steps_only` (a person's trace, read from the steps' tables), and the others, up to
    STEPS_CHECKED_MAX in all, by their steps and what the steps recorded, STEPS_CHUNK cases a query a
    table), which of `case_ids` they are, and the warning's lines in `lang`."""
    last = last_verify(app)
    known = set(last["cases"]) if last and not last["intact"] else set()
    shown = list(dict.fromkeys(c for c in case_ids if c is not None))
    unknown = [c for c in shown if c not in known]
    with app.engine.connect() as conn:
        whole = [] if steps_only else unknown[:CHECKED_NOW_MAX]        # their steps are part of the whole check
        found = {c for c in whole if audit_verify.verify_case(app, conn, c)[0]}
        by_steps = unknown[len(whole):STEPS_CHECKED_MAX]
        found |= {dict(d.params).get("case") for start in range(0, len(by_steps), STEPS_CHUNK)
                  for d in check_case_steps(conn, by_steps[start:start + STEPS_CHUNK], removal_procedures(app.config))}
    now = [c for c in unknown if c in found]
    if not now and not (last and not last["intact"]):
        return None
    cases = sorted(known | set(now))
    listed = lambda ids: joined((f"#{c}" for c in ids), lang)  # noqa: E731
    lines = [render_text(app.config, "record.altered.heading", {}, lang)]
    if last and not last["intact"]:
        lines.append(render_text(app.config, "record.altered.verified" if known else "record.altered.verified_no_case", {
            "at": wall_clock(app.config, last["at"]), "by": last.get("by_name") or last["by"], "n": last["damage"],
            "cases": listed(last["cases"]) + (" …" if last.get("cases_more") else "")}, lang))
    if now:
        lines.append(render_text(app.config, "record.altered.checked_now", {"cases": listed(now)}, lang))
    lines.append(render_text(app.config, "record.altered.advice", {}, lang))
    return {"cases": cases, "shown": [c for c in shown if c in set(cases)], "checked_now": now,
            "last_verify": last, "lines": lines}


def checked_partly(flags: list) -> tuple[int, int, int] | None:
    """How much of the record under `flags` a request checks (record_altered) when not all of it whole:
    (how many cases; how many of them by their steps; how many whole); None: all of them whole."""
    cases = len(dict.fromkeys(c for f in flags for c in lead_cases(f)))
    return (cases, min(cases, STEPS_CHECKED_MAX), CHECKED_NOW_MAX) if cases > CHECKED_NOW_MAX else None


def checked_words(app: App, flags: list, lang: str = "zh") -> str | None:
    """checked_partly said to the reader of `flags` in `lang`, with how to check everything; or None."""
    partly = checked_partly(flags)
    if partly is None:
        return None
    n, steps, whole = partly
    return render_text(app.config, "record.checked.partly" if steps == n else "record.checked.some",
                       {"n": n, "steps": steps, "whole": whole}, lang)


def lead_cases(flag) -> list[int]:
    """The cases an inspection lead (engine.reads.inspection.Flag) rests on: its own and those it lists."""
    listed = flag.detail.get("cases") if isinstance(flag.detail, dict) else None
    return [c for c in [flag.case_id, *(listed if isinstance(listed, list) else [])] if isinstance(c, int)]


def leads_shown(app: App, flags: list, lang: str = "zh") -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The leads as their readers get them (Flag.to_dict), each saying whether a case it rests on was
    found altered (`record_altered`), and the warning to say above them (record_altered), if any."""
    altered = record_altered(app, (c for f in flags for c in lead_cases(f)), lang)
    damaged = set(altered["cases"]) if altered else set()
    return [{**f.to_dict(app.config, lang), "record_altered": bool(damaged & set(lead_cases(f)))}
            for f in flags], altered


def _path(app: App) -> Path:
    return Path(app.settings.home) / LAST_VERIFY
