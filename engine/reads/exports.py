"""Tables to export (issue 12): cases, household members, steps, deadlines and evidence items in the
reader's jurisdiction, streamed in id order a batch at a time, never all in memory; and its regions
and persons (a post a row), the lists `region import` and `person import` read in another home. Each
table is (columns, rows).

Deadlines may be limited to the open ones (overdue too) or the overdue ones (`status`), and those to
what the supervisor's overdue page lists with its filters (`overdue`): then oldest due first, as
that page lists them, read through the deadlines' (status, due time) index.

Evidence is every case kind's (a household's incomes and checks, a project's acceptance report, a
village's exit checklist), read through its case's region as the other tables are: the items in force
unless `replaced` (those replaced too, each saying by which item and why); of one type only
(`evidence_type`), each of the type's fields in a column of its own (`fields.<name>`) in place of
`fields`, the item's fields as recorded (a dict)."""
from __future__ import annotations

import re
from datetime import date
from functools import partial
from typing import Any, Iterator

from sqlalchemy import String, and_, bindparam, case, cast, func, null, or_, select, true

from engine.adapters import tables as t
from engine.adapters.app import App
from engine.domain.auth import Actor
from engine.domain.deadline_rules import aware, reached, whom
from engine.domain.errors import BadInput, Codes
from engine.domain.regions import ROOT, ancestors_of, check_code
from engine.reads.dashboard import OverdueFilter, overdue_matching
from engine.domain.exit_years import PLANNED_EXIT_YEAR
from engine.reads.exits import KNOWN_YEAR
from engine.reads.case_lists import within
from engine.reads.standing import case_standing
from engine.services.org import require_reader

BATCH = 2000
TABLES = ("cases", "members", "steps", "deadlines", "evidence", "regions", "persons", "responsibilities")
PERSONAL = ("steps", "responsibilities")    # tables that may be one person's (`person`): what their trace lists
STATUSES = ("all", "open", "overdue")       # of the deadlines: every one, the open ones (overdue too), overdue


def _within(actor: Actor, region: str | None, column) -> Any:
    if region:
        check_code(region)
    return within([region] if region else [a.region_code for a in actor.assignments], column)


def _columns(table, cols, taken: dict | None = None) -> list:
    """`cols` of `table`, those named in `taken` from elsewhere (a joined table's column, labelled)."""
    taken = taken or {}
    return [taken[c].label(c) if c in taken else table.c[c] for c in cols]


_OPEN = t.deadlines.c.status == "open"
_DUE = t.deadlines.c.due_at <= bindparam("now")
_DEADLINES = ("case_id", "case_title", "township_code", "township_title", "region_title", "procedure_id", "step_key", "subject", "rule", "type", "owner",
              "owner_name", "owner_role", "start_on", "due_on", "overdue_days", "status", "alerted_to", "next_alert_at",
              "next_alert_to", "closed_at", "closed_reason")
# The highest alert written about a deadline: its ladder's level by key (read as whom it went to below)
_REACHED = (select(t.alerts.c.rung).where(t.alerts.c.deadline_id == t.deadlines.c.id, t.alerts.c.level >= 0)
            .order_by(t.alerts.c.level.desc()).limit(1).scalar_subquery())
_REACHED_AT, _AT, _TO = (_DEADLINES.index(c) for c in ("alerted_to", "next_alert_at", "next_alert_to"))
_DUE_ON, _LATE, _STATUS = (_DEADLINES.index(c) for c in ("due_on", "overdue_days", "status"))
_PERSON = {"person_code": t.persons.c.code, "person_name": t.persons.c.name,
           "owner": t.persons.c.code, "owner_name": t.persons.c.name}
_REGION_NAME = t.regions.c.name            # a case's region by its name (its village's, for a household)
# A case's township (乡镇) by code and name, beside its village: villages of one name in two townships
# (three 洋塘村 in a county) told apart in a pivot table. A region's township is its code's first nine
# digits (engine/domain/regions.py); none for a case of a county's or a city's region. Read by its key.
_TOWN = t.regions.alias("township")
_TOWN_OF = case((func.substr(t.cases.c.region_code, 7, 3) != "000",
                 func.substr(t.cases.c.region_code, 1, 9, type_=String) + "000"))
_TOWNSHIP = {"township_code": _TOWN.c.code, "township_title": _TOWN.c.name}
_TOWNSHIP_COLUMNS = tuple(_TOWNSHIP)


def _in_township(query):
    return query.outerjoin(_TOWN, _TOWN.c.code == _TOWN_OF)


_EV = t.evidence.c
_M = t.household_members.c
# A household's head's ID number (none for another kind of case): its active member registered as head
_HEAD_ID = (select(_M.id_number).where(_M.case_id == t.cases.c.id, _M.relation == "head", _M.active == true())
            .limit(1).scalar_subquery())
# A step done in a village's list as one act: the batch id its event records, and the list's size
# (the step's own event: its case's, procedure's and step's, written with it; read through the case's events)
_AE = t.audit_events.c
_STEP_EVENT = (_AE.case_id == t.steps.c.case_id, _AE.procedure_id == t.steps.c.procedure_id,
               _AE.step_key == t.steps.c.step_key, _AE.at == t.steps.c.recorded_at, _AE.action == "step")
# Both read by one subquery, as "BATCH:SIZE" (split by _batch_of): two read the case's events twice a step.
_BATCH = {"batch": select(_AE.detail["batch"].as_string() + ":" + func.coalesce(
              cast(_AE.detail["batch_size"].as_integer(), String), "")).where(*_STEP_EVENT).limit(1).scalar_subquery(),
          "batch_size": null()}
# The people a step is named responsible for, as the trace names them (the responsibilities its
# procedure named when it completed: engine/services/responsibility.py): its signer's ("step:KEY", the
# step's own person) and its verifiers' ("verified:KEY"), none for a step voided. Each row's values
# joined by _UNIT, the rows by _RECORD, in one subquery a step, read through the responsibilities'
# procedure index; ordered by their id when read (_step_of), as the trace lists them.
_R, _S = t.responsibilities.c, t.steps.c
_UNIT, _RECORD = "\x1f", "\x1e"
_NAMED = ("id", "type", "person", "name", "role", "basis")
_RESPONSIBLE = (select(func.aggregate_strings(
    cast(_R.id, String) + _UNIT + _R.type + _UNIT + _R.person_code + _UNIT + _R.person_name + _UNIT
    + func.coalesce(_R.role, "") + _UNIT + _R.basis, _RECORD))
    .where(_R.procedure_id == _S.procedure_id, _S.voided_at.is_(None),
           or_(and_(_R.basis == "step:" + _S.step_key, _R.person_id == _S.person_id),
               _R.basis == "verified:" + _S.step_key))
    .scalar_subquery())
# A person's alert channels in force, KIND:ADDRESS joined by ";" (as `person import` reads them), and
# the language of the first (person import takes one a person)
_RA, _PC = t.role_assignments, t.person_channels.c
_CHANNELS = (select(func.aggregate_strings(_PC.channel + ":" + _PC.address, ";"))
             .where(_PC.person_id == t.persons.c.id, _PC.active.is_(True)).scalar_subquery())
# A household's first pairing cadre in force (帮扶责任人) by name, and their alert channels' addresses
# (read for a phone number by _phone_of): the columns `household import` pairs a household by in another
# home (workflows/import_pairings.py), read through the pairings' case index.
_PR = t.pairings.c
_IN_FORCE = (_PR.case_id == t.cases.c.id, _PR.kind == "first", _PR.end_date.is_(None))
_CADRE_NAME = (select(t.persons.c.name).join(t.pairings, _PR.person_id == t.persons.c.id).where(*_IN_FORCE)
               .order_by(_PR.id.desc()).limit(1).scalar_subquery())
_CADRE_ADDRESSES = (select(func.aggregate_strings(_PC.address, ";")).join(t.pairings, _PR.person_id == _PC.person_id)
                    .where(*_IN_FORCE, _PC.active.is_(True)).scalar_subquery())
_ALERT_LANG = (select(_PC.lang).where(_PC.person_id == t.persons.c.id, _PC.active.is_(True))
               .order_by(_PC.id).limit(1).scalar_subquery())
# How the case's latest procedure to end ended (the ended procedure of the highest id: one is open at a
# time): its kind, its status (completed, rejected), its day and its reason (a failed vote, an upheld
# objection), read through the procedures' (case_id, status) index: an applicant 未通过识别 says why.
_ENDED = t.procedures.alias("ended")
_LAST_ENDED = (select(func.max(t.procedures.c.id))
               .where(t.procedures.c.case_id == t.cases.c.id, t.procedures.c.status != "open")
               .correlate(t.cases).scalar_subquery())
_LAST = {"last_procedure": _ENDED.c.kind, "last_outcome": _ENDED.c.status, "last_ended_at": _ENDED.c.ended_at,
         "last_outcome_reason": _ENDED.c.outcome_reason}
# Each table: its columns, its query of them, the order of its rows, the column its region is read from
_QUERIES = {
    # An exited household's exit year beside its stage (its exit procedure's, or the year its registry
    # noted when it was imported: engine/reads/exits.py), in cases and members alike. A case's stage
    # is its standing, as the figures count it (engine/reads/standing.py: a household whose
    # identification was rejected, with nothing open, is not identified, not applying).
    "cases": (("id", "kind", *_TOWNSHIP_COLUMNS, "region_code", "region_title", "external_code", "title", "stage", "exit_year",
               "version", "pending_procedure", "pending_step", *_LAST, "created_at", "updated_at"),
              lambda cols: _in_township(select(*_columns(t.cases, cols, {
                  "region_title": t.regions.c.name, "stage": case_standing(), "exit_year": KNOWN_YEAR, **_LAST,
                  **_TOWNSHIP}))
              .outerjoin(t.regions, t.regions.c.code == t.cases.c.region_code))
              .outerjoin(_ENDED, _ENDED.c.id == _LAST_ENDED), (t.cases.c.id,),
              t.cases.c.region_code),
    # A household's members together (case, then member), each row with its household's village (its
    # code, and its name beside it, as the cases' region), code, standing (as the cases'), causes, type
    # and exit year, and whether the member's ID number is still to confirm: a file `household import`
    # reads again as it is (a registry moving on, its exits' years and its ID numbers checked against the
    # card with it; the village read by its code; a rejected applicant, 未通过识别, an applicant again).
    "members": (("case_id", *_TOWNSHIP_COLUMNS, "village", "region_title", "household_code", "stage", "name", "id_number", "relation",
                 "labour_ability", "health", "school_enrolment", "insured_basic", "insured_critical", "phone",
                 "bank_account", "causes", "household_type", "exit_year", "id_to_confirm", "active",
                 "planned_exit_year", "pairing_cadre", "pairing_cadre_phone"),
                lambda cols: _in_township(select(t.household_members.c.id, *_columns(t.household_members, cols, {
                    **_TOWNSHIP, "id_to_confirm": t.household_members.c.id_check.is_not(None),
                    "village": t.cases.c.region_code, "region_title": _REGION_NAME,
                    "household_code": t.cases.c.external_code,
                    "stage": case_standing(), "causes": t.cases.c.attrs["causes"],
                    "household_type": t.cases.c.attrs["household_type"].as_string(), "exit_year": KNOWN_YEAR,
                    "planned_exit_year": t.cases.c.attrs[PLANNED_EXIT_YEAR].as_integer(),
                    "pairing_cadre": _CADRE_NAME, "pairing_cadre_phone": _CADRE_ADDRESSES}))
                .join(t.cases, t.cases.c.id == t.household_members.c.case_id)
                .outerjoin(t.regions, t.regions.c.code == t.cases.c.region_code)),
                (t.household_members.c.case_id, t.household_members.c.id), t.cases.c.region_code),
    # A step with its procedure (identification, exit…), who did it (code and name), the verifiers it
    # names (codes, as its data records them), the people it is named responsible for (_RESPONSIBLE),
    # the evidence items it relied on (id, type and hash, as recorded with it), and, done in a
    # village's list, the list's batch id and size: an exit's chain read from the file.
    # Beside each step, how its procedure stands or ended (open, completed, rejected) and why it ended:
    # the steps of a procedure an upheld objection ended read all agreed, and the procedure rejected.
    "steps": (("case_id", *_TOWNSHIP_COLUMNS, "region_code", "region_title", "procedure_id", "procedure", "procedure_status", "procedure_outcome_reason", "step_key",
               "step_type", "person_code", "person_name", "role",
               "verifiers", "responsible", "decision", "reason", "evidence", "effective_date", "recorded_at",
               "policy_version", "batch", "batch_size"),
              lambda cols: _in_township(select(t.steps.c.id, *_columns(t.steps, cols, {
                  **_PERSON, **_BATCH, **_TOWNSHIP, "region_code": t.cases.c.region_code, "region_title": _REGION_NAME, "procedure": t.procedures.c.kind, "verifiers": _S.data["verifiers"],
                  "procedure_status": t.procedures.c.status, "procedure_outcome_reason": t.procedures.c.outcome_reason,
                  "responsible": _RESPONSIBLE, "evidence": _S.evidence_hashes}))
              .join(t.cases, t.cases.c.id == t.steps.c.case_id)
              .join(t.procedures, t.procedures.c.id == t.steps.c.procedure_id)
              .outerjoin(t.regions, t.regions.c.code == t.cases.c.region_code)
              .outerjoin(t.persons, t.persons.c.id == t.steps.c.person_id)), (t.steps.c.id,), t.cases.c.region_code),
    # A deadline's case by its title (a household's by its head) and its region's name (its village's)
    # beside its number: a township's clerk presses the work by them. Its subject only where it names
    # something no other column does (a project milestone's name; a step's deadline is named by its
    # procedure and step, a measure's by its rule); an open one past its due time as overdue, as `deadline list` says it,
    # with the whole days it is overdue beside its due date (as the overdue page counts them); its next alert (when,
    # to whom) only while
    # it is open, and whom its alerts reached (an inspector's question of a deadline done late too): the
    # ladder's level number says nothing to a reader.
    "deadlines": (_DEADLINES,
                  lambda cols: _in_township(select(t.deadlines.c.id, *_columns(t.deadlines, cols, {
                      **_PERSON, **_TOWNSHIP, "case_title": t.cases.c.title, "region_title": _REGION_NAME,
                      "subject": case((t.deadlines.c.type == "step", t.deadlines.c.subject)),
                      "status": case((and_(_OPEN, _DUE), "overdue"),
                                     else_=t.deadlines.c.status), "overdue_days": null(),
                      "alerted_to": _REACHED, "next_alert_at": case((_OPEN, t.deadlines.c.next_alert_at)),
                      "next_alert_to": null()}), t.deadlines.c.ladder, t.deadlines.c.next_level)
                  .join(t.cases, t.cases.c.id == t.deadlines.c.case_id)
                  .outerjoin(t.regions, t.regions.c.code == t.cases.c.region_code)
                  .outerjoin(t.persons, t.persons.c.id == t.deadlines.c.owner_id)), (t.deadlines.c.id,),
                  t.cases.c.region_code),
    # An evidence item with its case's region (code and name), household code and title (a household's
    # head) and its head's ID number (as the members table writes it: `evidence import` in another home
    # checks the row's household by it, where two heads may share a name), its type and fields, its file by name and SHA-256 (not the file), who attached it (code and
    # name) and when, and whether it is in force or which item replaced it and why. Found through the
    # cases' region index and its (case, type) index, then sorted (`id + 0` keeps SQLite from walking
    # every item in id order instead, as it does for one type: case_lists._stream).
    "evidence": (("evidence_id", "case_id", "region_code", "region_title", "household_code", "case_title",
                  "head_id_number", "evidence_type", "fields", "file_name", "file_sha256", "attached_by", "attached_by_name",
                  "attached_at", "in_force", "superseded_by", "supersede_reason"),
                 lambda cols: select(*_columns(t.evidence, cols, {
                     "evidence_id": _EV.id, "region_code": t.cases.c.region_code, "region_title": _REGION_NAME,
                     "household_code": case((t.cases.c.kind == "household", t.cases.c.external_code)),
                     "case_title": t.cases.c.title, "head_id_number": _HEAD_ID, "evidence_type": _EV.type, "attached_by": t.persons.c.code,
                     "attached_by_name": t.persons.c.name, "in_force": _EV.superseded_by.is_(None)}))
                 .join(t.cases, t.cases.c.id == _EV.case_id)
                 .outerjoin(t.regions, t.regions.c.code == t.cases.c.region_code)
                 .outerjoin(t.persons, t.persons.c.id == _EV.attached_by), (_EV.id + 0,), t.cases.c.region_code),
    # A responsibility a person carries for a completed transition (DOMAIN §5), as their trace lists it:
    # its case (number, title, region by code and name), procedure, type, the person (code, name, post),
    # why (its basis), the date of the step that completed the transition and when it was named. One
    # person's (`person`) read through the responsibilities' (person, id) index.
    "responsibilities": (("case_id", "case_title", "region_code", "region_title", "procedure_id", "procedure",
                          "responsibility", "person_code", "person_name", "role", "basis", "effective_date",
                          "assigned_at", "policy_version"),
                         lambda cols: select(*_columns(t.responsibilities, cols, {
                             "case_title": t.cases.c.title, "region_code": t.cases.c.region_code,
                             "region_title": _REGION_NAME, "procedure": _R.procedure_kind, "responsibility": _R.type}))
                         .join(t.cases, t.cases.c.id == _R.case_id)
                         .outerjoin(t.regions, t.regions.c.code == t.cases.c.region_code), (_R.id,),
                         t.cases.c.region_code),
    # A region (code and name) within the jurisdiction, and those above it: the list `region import`
    # reads, which needs each region's parent (a county's regions go to a new home with its city); not
    # the country, which every home has from `init`.
    "regions": (("division_code", "region_name"),
                lambda cols: select(*_columns(t.regions, cols, {"division_code": t.regions.c.code,
                                                                "region_name": t.regions.c.name}))
                .where(t.regions.c.code != ROOT),
                (t.regions.c.code,), t.regions.c.code),
    # A person's post within the jurisdiction a row (a person of two posts, two rows), with their alert
    # channels and language: the list `person import` reads. Nothing secret (no token, no code); a post
    # revoked and a person deactivated are left out.
    "persons": (("person_code", "name", "role", "region", "channels", "alert_lang"),
                lambda cols: select(_RA.c.id, *_columns(t.persons, cols, {
                    "person_code": t.persons.c.code, "role": _RA.c.role, "region": _RA.c.region_code,
                    "channels": _CHANNELS, "alert_lang": _ALERT_LANG}))
                .join(_RA, _RA.c.person_id == t.persons.c.id)
                .where(_RA.c.revoked_at.is_(None), t.persons.c.active.is_(True)),
                (t.persons.c.code, _RA.c.id), _RA.c.region_code),
}
_KEYED = ("cases", "evidence", "regions", "responsibilities")        # tables whose first column is their key (the others' key read apart)


def export_table(app: App, actor: Actor, table: str, region: str | None = None, status: str = "all",
                 overdue: OverdueFilter | None = None, evidence_type: str | None = None,
                 replaced: bool = False, person: str | None = None) -> tuple[tuple[str, ...], Iterator[tuple]]:
    """The columns of `table` and its rows in the reader's jurisdiction (or `region` within it); of
    the deadlines, those of `status` only, or those the overdue page lists with the filter `overdue`;
    of the evidence, the items in force (`replaced`: every item), of `evidence_type` only; of the
    steps and responsibilities, one `person`'s (by code), as their trace lists them (a person with no
    post within the reader's jurisdiction refused as their trace is), oldest first."""
    if table not in _QUERIES:
        raise BadInput("export.unknown_table", table=table, known=", ".join(TABLES))
    status = "overdue" if overdue is not None else status
    if status not in STATUSES:
        raise BadInput("export.bad_status", status=str(status)[:20], known=Codes("web.export.status", tuple(STATUSES)))
    if status != "all" and table != "deadlines":
        raise BadInput("export.status_deadlines_only", table=Codes("web.export.table", (table,)))
    if (evidence_type or replaced) and table != "evidence":
        raise BadInput("export.evidence_only", table=Codes("web.export.table", (table,)))
    if person is not None and table not in PERSONAL:
        raise BadInput("export.person_only", table=Codes("web.export.table", (table,)))
    fields = _type_fields(app, evidence_type) if evidence_type else None
    if overdue is not None:
        overdue.check(app, actor)
    if region:
        check_code(region)                       # an ill-formed or unknown code is said as such, not as no jurisdiction
        with app.engine.connect() as conn:
            if conn.execute(select(t.regions.c.code).where(t.regions.c.code == region)).first() is None:
                raise BadInput("region.unknown", code=region)
        require_reader(app, actor, region)
    person_id = None
    if person is not None:
        from engine.reads.trace import person_in_reach
        with app.engine.connect() as conn:
            person_id = person_in_reach(conn, app, actor, person).id
    columns, build, key, where = _QUERIES[table]
    if fields is not None:
        at = columns.index("fields")
        columns = (*columns[:at], *(f"fields.{f}" for f in fields), *columns[at + 1:])
    if not actor.assignments:
        return columns, iter(())
    query = build(_QUERIES[table][0])
    if table == "evidence":
        query = query.where(*([] if replaced else [_EV.superseded_by.is_(None)]),
                            *([_EV.type == evidence_type] if evidence_type else []))
    if person_id is not None:
        query = query.where(t.steps.c.person_id == person_id if table == "steps" else _R.person_id == person_id)
    if status != "all":        # oldest due first, as the overdue page; in the deadlines' own region, as it reads them
        query, key, where = query.where(_OPEN, *([_DUE] if status == "overdue" else [])), \
            (t.deadlines.c.due_at, t.deadlines.c.id), t.deadlines.c.region_code
    if overdue is not None:
        query = overdue_matching(query, overdue)
    if table == "deadlines":
        query = query.params(now=aware(app.clock.now()))
    condition = _within(actor, region, where)
    if table == "regions":      # and the regions above the jurisdiction's: each region's parent is there
        condition = or_(condition, t.regions.c.code.in_(
            {c for r in ([region] if region else [a.region_code for a in actor.assignments]) for c in ancestors_of(r)}))
    rows = _stream(app, query, key, condition, table not in _KEYED)
    if fields is not None:
        return columns, (_spread(row, at, fields) for row in rows)
    return columns, (map(partial(_alerts_of, today=app.clock.today()), rows) if table == "deadlines"
                     else map(_step_of, rows) if table == "steps" else map(_phone_of, rows) if table == "members"
                     else rows)


_MOBILE = re.compile(r"(?<!\d)1\d{10}(?!\d)")


def _phone_of(row: tuple) -> tuple:
    """A member's row with its household's pairing cadre's phone: the first mobile number (11 digits,
    1…) in their channels' addresses (a WeCom or DingTalk account often is one), or none."""
    addresses = row[-1]
    found = _MOBILE.search(addresses) if addresses else None
    return (*row[:-1], found.group(0) if found else None)


_STEP_COLUMNS = _QUERIES["steps"][0]
_VERIFIERS, _NAMED_AT, _EVIDENCE = (_STEP_COLUMNS.index(c) for c in ("verifiers", "responsible", "evidence"))


def _step_of(row: tuple) -> tuple:
    """A step's row with its verifiers (codes), the people named responsible for it ([{type, person,
    name, role, basis}], by responsibility), the evidence it relied on ([{id, type, hash…}]), each None
    for none, and its list's batch id and size, read together as "BATCH:SIZE" (or None: done alone)."""
    *row, batch, _size = row
    row[_VERIFIERS] = row[_VERIFIERS] or None
    row[_EVIDENCE] = row[_EVIDENCE] or None
    if row[_NAMED_AT]:
        named = sorted((r.split(_UNIT) for r in row[_NAMED_AT].split(_RECORD)), key=lambda r: int(r[0]))
        row[_NAMED_AT] = [{k: v or None for k, v in zip(_NAMED[1:], r[1:])} for r in named]
    if batch is None:
        return (*row, None, None)
    batch, size = batch.rsplit(":", 1)
    return (*row, batch, int(size) if size else None)


def _type_fields(app: App, evidence_type: str) -> tuple[str, ...]:
    """The fields of an evidence type of any kind of case, in their workflow's order; an unknown type
    refused, naming those there are."""
    types = {e: d for wf in app.config.workflows.values() for e, d in wf.evidence_types.items()}
    if evidence_type not in types:
        raise BadInput("evidence.unknown_type", type=str(evidence_type)[:40], known=", ".join(types))
    return tuple(types[evidence_type].fields)


def _spread(row: tuple, at: int, fields: tuple[str, ...]) -> tuple:
    """An evidence item's row with its fields (a dict, at `at`) spread over a column each."""
    values = row[at] or {}
    return (*row[:at], *(values.get(f) for f in fields), *row[at + 1:])


def _alerts_of(row: tuple, today: date) -> tuple:
    """A deadline's row with whom its alerts reached and whom its next alert goes to, each "owner" or
    its roles joined by "+", read from its ladder (the row's last two values, dropped): the reached
    level by its key (a level may have a key of its own), the next by the level it is at; and, overdue,
    the whole days it is, today less its due date (the overdue page's count)."""
    *row, ladder, level = row
    if row[_STATUS] == "overdue" and row[_DUE_ON] is not None:
        row[_LATE] = (today - row[_DUE_ON]).days
    ladder = ladder or ()
    if row[_REACHED_AT] is not None:
        row[_REACHED_AT] = reached(ladder, row[_REACHED_AT])
    if row[_AT] is not None:
        row[_TO] = next((whom(e) for e in ladder if e["level"] == level), None)
    return tuple(row)


def _stream(app: App, query, key: tuple, condition, skip_key: bool) -> Iterator[tuple]:
    """The rows in key order from one query, fetched a batch at a time (a server-side cursor on
    PostgreSQL). One query, not a page per batch: a page `key > last ... ORDER BY key LIMIT n` of
    rows filtered through their case's region was planned as the region's every row sorted again
    for each page — an export of a million households took 630 s where one sort takes seconds."""
    with app.engine.connect() as conn:
        result = conn.execution_options(yield_per=BATCH).execute(query.where(condition).order_by(*key))
        for r in result:
            yield tuple(r[1:]) if skip_key else tuple(r)
