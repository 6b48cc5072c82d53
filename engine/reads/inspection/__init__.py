"""Inspection flags (DOMAIN.md §9, §11): patterns in the record that an inspector should look at.

A flag is not a finding: it points at steps, notices and evidence worth a second look, each with
the audit event seqs behind it so the inspector can read them (`case show`, the audit log).
Thresholds live in config/policy.yaml `inspection:`.

Each kind is found by one or two SQL statements over the whole region (joins, GROUP BY, window
functions), read as a stream: nothing is looked up case by case, and memory holds one flag's rows
at a time. Times are judged in the configured time zone (inspection.timezone); what differs between
SQLite and PostgreSQL (local time, epoch seconds, JSON arrays) is in Query (query.py).
"""
from __future__ import annotations

from dataclasses import replace
from typing import Callable, Iterator, Sequence

from engine.adapters.app import App
from engine.domain.auth import Actor
from engine.domain.errors import BadInput, Codes
from engine.domain.inputs import to_code
from engine.services.org import require_inspector, require_reader
from engine.domain.regions import check_code, covers, highest
from .flag import KINDS, Flag, weight_of
from .entries import backdated_decisions, relatives_signed
from .query import Query
from .evidence import evidence_after
from .income import figures_changed, members_added, near_line
from .conditions import facts_changed
from .notices import relied_early, short_or_late_notices
from .overrides import repeated_signers, voider_signs
from .projects import payments_entered_late, targets_missed
from .contracts import settled_over_contract
from .signoffs import bursts, off_hours


def flags(app: App, actor: Actor, region: str | None = None,
          kinds: Sequence[str] | None = None, case: int | None = None, person: str | None = None) -> Iterator[Flag]:
    """The flags over `region` (default: the actor's jurisdiction), streamed kind by kind; `case`: only
    those naming that case, each kind computed for its steps alone (a burst from its signers' acts
    across the region, kept when it covers the case), not the region's (a case beyond the reader's
    reach, or none such: case.unknown); `person` (a code): only those about that person (who signed,
    posted, proposed or changed what the lead points at), each kind read from that person's rows by
    their index, not computed for the region and filtered (none such: person.unknown).

    Only those who read as inspectors (inspectors, auditors, evaluators, discipline and organisation
    officers) may run it, over what they may read: a lead is about cadres, who must not read the leads
    about themselves. The reader, region and kinds are checked, and refused, at the call, before the first flag.
    """
    require_inspector(app, actor)
    wanted = list(dict.fromkeys(_kind(app, k) for k in kinds)) if kinds else list(KINDS)
    unknown = [k for k in wanted if k not in KINDS]
    if unknown:
        raise BadInput("flag.unknown_kind", kind=", ".join(unknown), known=Codes("flag", KINDS))
    if region:
        check_code(region)
        require_reader(app, actor, region)
        scopes = [region]
    else:
        scopes = highest(a.region_code for a in actor.assignments)
    if case is not None:
        _case_within(app, scopes, case)
    person_id = _person_id(app, person) if person is not None else None
    if not scopes:
        return iter(())
    return _stream(app, scopes, set(wanted), case, (person_id, person))


def _person_id(app: App, code: str) -> int:
    from sqlalchemy import select
    from engine.adapters import tables as t
    from engine.domain.errors import NotFound
    with app.engine.connect() as conn:
        found = conn.execute(select(t.persons.c.id).where(t.persons.c.code == code)).scalar()
    if found is None:
        raise NotFound("person.unknown", code=code)
    return found


def _case_within(app: App, scopes: list[str], case: int) -> None:
    """Refuse a case that is not within `scopes` as unknown (none such and beyond reach alike)."""
    from sqlalchemy import select
    from engine.adapters import tables as t
    from engine.domain.errors import NotFound
    with app.engine.connect() as conn:
        region = conn.execute(select(t.cases.c.region_code).where(t.cases.c.id == case)).scalar()
    if region is None or not any(covers(scope, region) for scope in scopes):
        raise NotFound("case.unknown", case=case)


def _kind(app: App, given: str) -> str:
    """A kind by its code or by its name as the flags show it, in either language (为亲属户签字)."""
    return to_code(given, {k: [app.config.label(f"flag.{k}", lang) for lang in ("zh", "en")] for k in KINDS})


def ranked(app: App, actor: Actor, region: str | None = None,
           kinds: Sequence[str] | None = None, case: int | None = None, person: str | None = None) -> list[Flag]:
    """The flags, the weightiest first (policy inspection.weights), in KINDS order within a weight."""
    order = {k: i for i, k in enumerate(KINDS)}
    return sorted(flags(app, actor, region, kinds, case, person), key=lambda f: (-f.weight, order[f.kind]))


def names_case(flag: Flag, case: int) -> bool:
    """Whether the flag is about `case`: its own, or one of a burst's cases."""
    return flag.case_id == case or case in (flag.detail.get("cases") or ())


def about(flag: Flag, person: str) -> bool:
    """Whether the flag is about the person of code `person`."""
    return flag.person is not None and flag.person[0] == person


def _stream(app: App, scopes: list[str], wanted: set[str], case: int | None = None,
            person: tuple[int | None, str | None] = (None, None)) -> Iterator[Flag]:
    weights = app.config.policy.data.inspection.weights
    with app.engine.connect() as conn:
        x = Query(app, conn, scopes, case, person[0])
        for produces, producer in _PRODUCERS:
            if wanted & set(produces):
                for flag in producer(x):
                    if flag.kind in wanted and (case is None or names_case(flag, case)) \
                            and (person[1] is None or about(flag, person[1])):
                        yield replace(flag, weight=weight_of(weights, flag))


_PRODUCERS: tuple[tuple[tuple[str, ...], Callable[[Query], Iterator[Flag]]], ...] = (
    (("signoff_off_hours",), off_hours),
    (("signoff_burst",), bursts),
    (("short_notice", "notice_backdated"), short_or_late_notices),
    (("short_notice",), relied_early),
    (("evidence_after_signoff",), evidence_after),
    (("override_chain",), repeated_signers),
    (("override_chain",), voider_signs),
    (("exit_near_line",), near_line),
    (("figure_changed_before_decision",), figures_changed),
    (("figure_changed_before_decision",), members_added),
    (("fact_changed_before_exit",), facts_changed),
    (("decision_backdated",), backdated_decisions),
    (("relative_signed",), relatives_signed),
    (("project_target_missed",), targets_missed),
    (("payment_entered_late",), payments_entered_late),
    (("final_cost_over_contract",), settled_over_contract),
)
