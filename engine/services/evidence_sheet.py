"""A village's evidence sheet (issue 12, evidence in bulk): each row names a household — by case
number, a member's ID number or the household code (户编号) another system knows it by — and gives
one evidence item's fields and file. Every row is checked before anything is written."""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from sqlalchemy import func, select, true

from engine.adapters import tables as t
from engine.adapters.app import App
from engine.adapters.bulk import lookup
from engine.adapters.repository import held_evidence, load_cases, load_open_procedures
from engine.domain.auth import Actor
from engine.domain.deadline_rules import wall_clock
from engine.domain.errors import AuthError, BadInput, JingzhunError, Msg, RuleViolation, own_words, stored
from engine.domain.evidence import coerce_fields, field_problems, next_year, year_of
from engine.domain.regions import ascii_digits, covers, province_of
from engine.domain.members import mask_id
from engine.reads.imports import imported_before
from engine.reads.stale_checks import stale_for_next_step
from engine.services.case_actions import (EvidenceItem, attach_evidence_many, dated_out_of_order, follows_a_step,
                                          implausible_income, income_type, later_year_refused,
                                          step_relying_on)
from engine.services.context import workflow_roles
from engine.services.org import (BATCH, Problem, is_read_only, refuse_read_only, require_role,
                                 require_some_role)


@dataclass(frozen=True)
class SheetRow:
    """A row as typed: how it names its household, the item's fields, its file (found, or None). A
    row may name it more than one way; then every way must name the same household. `head_id_number`:
    the ID number of the household's head (an evidence export's 户主身份证号), naming it by its head alone.
    `head_name`: the head's name the row gives (the national forms' 户主姓名), checked against the
    household it names."""
    case: str = ""
    id_number: str = ""
    household_code: str = ""
    fields: dict[str, Any] = field(default_factory=dict)
    file: Path | None = None
    head_name: str = ""
    head_id_number: str = ""


@dataclass(frozen=True)
class _Case:
    id: int
    kind: str
    region_code: str
    open_procedure_id: int | None = None
    pending_procedure: str | None = None
    title: str = ""              # a household's: its head's name


# the columns a row may name its household by (a member's ID number, its head's: an evidence export's)
NAMING = ("case", "id_number", "head_id_number", "household_code")


def sheet_items(app: App, actor: Actor, etype: str, rows: Sequence[SheetRow], lines: Sequence[Any] | None = None,
                replace: str | None = None, naming: Sequence[str] = NAMING, confirm_figures: bool = False
                ) -> tuple[list[EvidenceItem | None], list[Problem]]:
    """One evidence item per good row (None for a bad one), and every problem on its line (`lines`,
    else counted from 1) and column: a household that is unknown or out of the actor's reach, named
    twice, already holding this evidence or of a kind without it; a field that does not coerce;
    a file the type needs but the row lacks; a case number, ID number and household code that do not
    all name the same household, or a head's name that is not the head of the household they name (a
    mistyped case number would put one household's figures on another). A household's problem is told in the column the row named it by
    (the sheet's first of `naming` for a row naming it none): the reader's file may have no 案件编号.

    `replace`: the reason (the person's own words) for which each row's item takes the place of the
    household's current one of the type, as `evidence add --replace` does on one household (a
    village's yearly re-check); a household holding none is then refused, as there. Without it a
    sheet adds, but for a type kept year by year, where a later year's item takes the held one's place,
    and for a check its household's next step finds older than it accepts (an exit's food and clothing
    check of last year-end: `stale_for_next_step`), which a new visit's item replaces, its reason said so.
    Either way an item a step of the open procedure relied on (a proposal, a sign-off) is not replaced
    by a sheet: that voids the step and those after it, done on the household's page.

    An income far past the poverty line a head is refused, as `evidence add` refuses it, unless
    `confirm_figures` says the sheet's flagged figures were each checked (then each is recorded so)."""
    refuse_read_only(app, actor, "evidence import")
    if replace is not None:
        own_words(replace, "evidence.reason_required")
    with app.engine.connect() as conn:
        cases = _cases_named(conn, rows)
        current = _holding(conn, etype, [c.id for c in cases.values()],
                           _any_definition(app, etype, cases, lambda d: d.per_procedure))
        # a check without a year recorded before the earliest day the household's next step accepts (an
        # exit's 两不愁 check of last year-end): a new visit's check takes its place, as a replacement
        old = {} if replace is not None else stale_for_next_step(
            app, conn, actor, etype, [case for case, held in current.items() if "year" not in held.fields])
        frozen = _relied_on(conn, rows, cases, current, replace is not None, old)
        following = _following(app, conn, etype, cases)
        members = _members(conn, [c.id for c in cases.values()]) \
            if not confirm_figures and _any_definition(app, etype, cases, income_type) else {}
    items: list[EvidenceItem | None] = []
    found: list[Problem] = []
    first: dict[int, Any] = {}
    first_row: dict[int, tuple[int, str]] = {}      # case -> its first row's index and column
    lines = list(lines or range(1, len(rows) + 1))
    for line, row in zip(lines, rows):
        keys = _keys(row) or [(naming[0], "")]
        column = keys[0][0]
        case = cases.get(keys[0])
        problems = _household(app, actor, etype, keys, cases, case, first)
        if not problems and row.head_name.strip() and _name(row.head_name) != _name(case.title):
            problems.append(("head_name", BadInput(          # a village's or a project's: its title, no head
                "sheets.other_head" if case.kind == "household" else "sheets.other_title",
                named=Msg(f"field.{column}"), value=_shown(column, keys[0][1]), name=row.head_name.strip())))
        if case is not None and case.id in first and case.id in first_row:
            # named again: which row holds is the reader's to say, so neither is attached (the first had
            # been, and a corrected bad-rows file then refused as holding the year already)
            index, first_column = first_row.pop(case.id)
            found.append((first[case.id], first_column, BadInput("sheets.case_again", case=case.id, line=line)))
            items[index] = None
        replaced, reason = None, None
        if not problems:
            held = current.get(case.id)
            replaced, reason, refused = _in_place_of(etype, case, held, row.fields, replace, old.get(case.id))
            refused = _clue_of_open(app, etype, case, held, row.fields) or refused if refused is not None else None
            problems += [(column, refused)] if refused is not None else []
            if replaced is not None and case.id in frozen:
                problems.append((column, _frozen(etype, case.id, frozen[case.id], held, row.fields, replace,
                                                 case.kind)))
        problems += _content(app, etype, row, case)
        if not problems and case.id in following:
            problems += _out_of_order(app, etype, row, case, following[case.id])
        if not problems and not confirm_figures:
            problems += _implausible(app, etype, row, case, members.get(case.id, 0))
        found += [(line, c, exc) for c, exc in problems]
        if case is not None and case.id not in first:
            first[case.id] = line
            first_row[case.id] = (len(items), column)
        items.append(None if problems else EvidenceItem(
            case.id, etype, row.fields, row.file, replace=replaced is not None, reason=reason,
            confirm_figure=confirm_figures, line=line if isinstance(line, int) else None,
            judged=True, in_place_of=held.id if held is not None else None))
    order = {line: i for i, line in enumerate(lines)}
    return items, sorted(found, key=lambda problem: order.get(problem[0], 0))     # in the sheet's order


def sheet_kind(app: App, etype: str) -> str | None:
    """The kind of case whose evidence `etype` is (a household's income check, a village's profile, a
    project's final accounts), if a sheet can bring it (it has fields or a file); None for any other."""
    return next((kind for kind, wf in app.config.workflows.items()
                 if (d := wf.evidence_types.get(etype)) is not None and (d.fields or d.file)), None)


def sheet_types(app: App, actor: Actor) -> list[tuple[str, list[str]]]:
    """The evidence types a sheet of the actor's may bring, by kind of case, in the workflows' order:
    those of each kind whose cases a post of theirs attaches evidence to (none to a read-only person),
    as `refuse_before_reading` lets an import of the type through."""
    if is_read_only(app, actor):
        return []
    held = {a.role for a in actor.assignments}
    return [(kind, types) for kind, wf in app.config.workflows.items()
            if held & set(workflow_roles(app, kind))
            and (types := [e for e, d in wf.evidence_types.items() if sheet_kind(app, e) == kind])]


def refuse_before_reading(app: App, actor: Actor, etype: str) -> None:
    """An evidence sheet of `etype` refused once, before its file is read (nothing in it told), to a
    person who may attach it to no case: read-only (an inspector), with no role, or with no post that
    attaches evidence to a kind of case having the type; a household beyond their reach is still
    told on its own row."""
    kinds = [kind for kind, wf in app.config.workflows.items() if etype in wf.evidence_types]
    require_some_role(app, actor, sorted({r for kind in kinds for r in workflow_roles(app, kind)}), "evidence import",
                      "auth.no_evidence_post")


# What makes a sheet's import the same as one on record, besides the sheet (its sha256): what it recorded
# is of this evidence type, with these files (their digest), added or replacing. A national form holds
# several types' columns, imported once a type; a sheet imported again with corrected scans, or to
# replace what it added, records something else.
SAME_WAY = ("type", "files", "mode")


def refuse_sheet_imported_before(app: App, actor: Actor, source: dict) -> None:
    """The very same sheet imported the very same way (`source`'s SAME_WAY) already, whole (a double
    submit on a slow link, a file sent twice): told in one line naming when, by whom and what that
    import recorded (its type, for how many households), not as each row's household holding it.
    Told only to a reader who may attach evidence where that import did: a read-only reader is
    refused first, and one of another village learns nothing of it (their rows are told as theirs)."""
    refuse_read_only(app, actor, "evidence import")
    roles = {r for kind, wf in app.config.workflows.items() if source["type"] in wf.evidence_types
             for r in workflow_roles(app, kind)}

    def same(event) -> bool:
        detail = event.detail or {}
        return all(detail.get(k) == source.get(k) for k in SAME_WAY) and \
            actor.first_role(tuple(roles), event.region_code) is not None

    with app.engine.connect() as conn:
        before = imported_before(conn, "evidence_imported", source, same)
    if before is not None:
        said = "sheets.replaced_before" if source["mode"] == "replace" else "sheets.imported_before"
        raise BadInput(_worded(said, sheet_kind(app, source["type"]) or "household"),
                       file=source["file"], seq=before.seq, place=before.case_seq, person=before.person_code,
                       at=wall_clock(app.config, before.at), type=source["type"],
                       count=(before.detail or {}).get("items", 0))


# What a sheet's import meets when another writer changed its households between its reading and its writing
MEANWHILE = ("case.changed_meanwhile", "case.changed_meanwhile_by", "sheets.held_meanwhile",
             "sheets.held_meanwhile_case")


def attach_sheet(app: App, actor: Actor, items: Sequence[EvidenceItem], source: dict,
                 before_commit: Callable[[], None] | None = None) -> list[int]:
    """A sheet's items attached (attach_evidence_many, `source` naming the sheet), told as a repeat when
    the households changed under it because the very same sheet was imported meanwhile (two cadres
    sending it at once): when, by whom, as `refuse_sheet_imported_before` tells it, not a household's change."""
    try:
        return attach_evidence_many(app, actor, items, source=source, before_commit=before_commit)
    except JingzhunError as exc:
        if exc.code in MEANWHILE:
            refuse_sheet_imported_before(app, actor, source)
        raise


def _in_place_of(etype: str, case: "_Case", held: "_Held | None", fields: dict[str, Any], replace: str | None,
                 old: dict[str, Any] | None = None) -> tuple["_Held | None", str | None, JingzhunError | None]:
    """(the item the row's takes the place of, and why; or why the row is refused): with `replace`,
    the held one (none held: nothing to replace); else a held one of an earlier year (see next_year), or
    one older than the household's next step accepts (`old`: its day and the earliest day accepted), the
    reason a new visit's (重新入户核实)."""
    if replace is not None:
        if held is None:
            return None, None, BadInput("sheets.nothing_to_replace", case=case.id, type=etype)
        return held, replace, None
    if held is None:
        return None, None, None
    if old is not None:
        return held, stored(Msg("sheets.revisit_reason", {"date": old["date"], "since": old["since"]})), None
    later = next_year(fields, held.fields)
    if later:
        return held, stored(Msg("evidence.next_year", {"year": later, "before": held.fields["year"]})), None
    if "year" not in held.fields:
        return None, None, BadInput(_worded("sheets.has_evidence", case), case=case.id, type=etype)
    if year_of(fields) is None:          # a year that is no year: told as such (the field's), not as held
        return None, None, None
    return None, None, BadInput(_worded("sheets.has_year", case), case=case.id, type=etype, year=held.fields["year"])


def _clue_of_open(app: App, etype: str, case: "_Case", held: "_Held | None", fields: dict) -> JingzhunError | None:
    """A first clue's row (a department's list) on a household whose identification is open, holding its
    clue: told as such, its days running already from that clue (not as an item to replace, which would
    void the steps done on it). A row dated before that clue is told so, with what to do with its date:
    the identification under way is held to the 15 days from the clue it was started on (research §5.3,
    Qin'an: from the risk clue to completed identification); its days are not moved earlier, which would
    hold its owner to days before the department's list reached anyone, and the earlier date is for the
    township's review to weigh (its reason records it)."""
    from engine.domain.deadline_rules import as_date
    from engine.services.deadlines import clue_fields
    lead = clue_fields(app).get(etype)
    if lead is None or held is None or case.pending_procedure != lead[1]:
        return None
    running, given = as_date(held.fields.get(lead[0])), as_date(fields.get(lead[0]))
    if running is not None and given is not None and given < running:
        return BadInput("s56_p4.clue_earlier", case=case.id, procedure=Msg(f"procedure.{lead[1]}"),
                        date=running.isoformat(), earlier=given.isoformat())
    return BadInput("s55_m2.clue_open", case=case.id, procedure=Msg(f"procedure.{lead[1]}"),
                    date=str(held.fields.get(lead[0]) or "-"))


def _frozen(etype: str, case: int, proc, held: "_Held", fields: dict[str, Any], replace: str | None,
            kind: str = "household") -> JingzhunError:
    """A row refused as its item would take the place of one a step of the open procedure `proc` relied
    on: a later year's record told as `evidence add` tells it; a replacement as a sheet's."""
    if replace is None and "year" in held.fields:
        return later_year_refused(case, etype, proc, held.id, held.fields["year"], next_year(fields, held.fields))
    step = step_relying_on(proc, held.id)
    if "year" in held.fields:
        return BadInput(_worded("sheets.frozen", kind), case=case, type=etype, step=step, year=held.fields["year"])
    return BadInput(_worded("sheets.relied_on", kind), case=case, type=etype, step=step)


def _worded(key: str, case: "_Case | str") -> str:
    """A sheet's refusal of one case's row in a household's words ("on the household's page"), or for a
    village's or a project's case (its kind or the case) in a case's (KEY_case)."""
    return key if getattr(case, "kind", case) == "household" else f"{key}_case"


def _relied_on(conn, rows: Sequence[SheetRow], cases: dict, current: dict, replace: bool,
               old: dict[int, Any]) -> dict[int, Any]:
    """The households whose held item a row would replace (every held one with `replace`, else one of
    an earlier year or one too old for their next step, `old`) but a step of their open procedure relied
    on: case -> that procedure (replacing it voids that step and those after it: the household's page)."""
    later = {c.id: c for r in rows if (c := cases.get((_keys(r) or [("case", "")])[0])) is not None
             and c.id in current and (replace or c.id in old or next_year(r.fields, current[c.id].fields))
             and c.open_procedure_id is not None}
    if not later:
        return {}
    procedures = load_open_procedures(conn, list(later.values()))
    return {case: proc for case, proc in procedures.items() if step_relying_on(proc, current[case].id) is not None}


def _keys(row: SheetRow) -> list[tuple[str, str]]:
    """Every way the row names its household, in this order: case number, a member's ID number, the
    head's, household code."""
    found = []
    for column in NAMING:
        value = getattr(row, column).strip()
        if value:
            found.append((column, value.upper() if column in _IDS else value.lstrip("#")))
    return found


def _household(app: App, actor: Actor, etype: str, keys: list[tuple[str, str]], cases: dict[tuple[str, str], _Case],
               case: _Case | None, first: dict[int, Any]) -> list[tuple[str, JingzhunError]]:
    column = keys[0][0]                      # the household the row names, in the column naming it
    if case is None or not any(covers(a.region_code, case.region_code) for a in actor.assignments):
        # what the reader may not see does not exist; a village's or a project's sheet names cases, not households
        return [(column, BadInput("sheets.no_household" if sheet_kind(app, etype) in (None, "household")
                                  else "sheets.no_case"))]
    try:
        require_role(app, actor, workflow_roles(app, case.kind), case.region_code, "evidence add")
    except AuthError as exc:
        return [(column, exc)]
    disagreeing = _disagreeing(keys, cases, case)
    if disagreeing:
        return disagreeing
    if case.id in first:
        return [(column, BadInput(_worded("sheets.case_twice", case), case=case.id, line=first[case.id]))]
    if etype not in app.config.workflows[case.kind].evidence_types:
        return [(column, BadInput("evidence.unknown_type", type=etype,
                                  known=", ".join(app.config.workflows[case.kind].evidence_types)))]
    return []


def _disagreeing(keys: list[tuple[str, str]], cases: dict[tuple[str, str], _Case],
                 case: _Case) -> list[tuple[str, JingzhunError]]:
    """The row's other namings that do not find `case`, the household its first one finds: another
    household, or none (one out of the reader's reach is not told apart from none); an ID number given as
    the head's that is not its head's (two heads of one name under swapped case numbers: an export from
    another home). An ID number is shown masked."""
    (column, value), others = keys[0], keys[1:]
    return [(other, BadInput("sheets.other_head_id", named=Msg(f"field.{column}"), value=_shown(column, value),
                             id=_shown(other, given)) if other == "head_id_number" else
             BadInput("sheets.other_household", named=Msg(f"field.{column}"), value=_shown(column, value),
                      other=Msg(f"field.{other}"), other_value=_shown(other, given)))
            for other, given in others if getattr(cases.get((other, given)), "id", None) != case.id]


def _name(name: str) -> str:
    """A name as compared: full-width letters as ASCII ones, without spaces (张  三, padded to line up)."""
    return "".join(unicodedata.normalize("NFKC", name or "").split())


def _shown(column: str, value: str) -> str:
    return mask_id(value) if column in _IDS else value


_IDS = ("id_number", "head_id_number")        # the columns of ID numbers: compared in capitals, shown masked


def _content(app: App, etype: str, row: SheetRow, case: _Case | None) -> list[tuple[str, JingzhunError]]:
    """The fields, coerced as the type defines them, and the file when the type needs one."""
    kinds = [case.kind] if case is not None else list(app.config.workflows)
    definition = next((app.config.workflows[k].evidence_types[etype] for k in kinds
                       if etype in app.config.workflows[k].evidence_types), None)
    if definition is None:
        return []
    found: list[tuple[str, JingzhunError]] = []
    found += [(str(exc.params.get("field", "-")), exc)
              for exc in field_problems(etype, definition, row.fields, app.clock.today(), app.config.labels)]
    if definition.file and row.file is None:
        found.append(("file", RuleViolation("sheets.file_required", type=etype)))
    return found


def _following(app: App, conn, etype: str, cases: dict) -> dict[int, Any]:
    """The open procedures of the households, when a step bringing this type follows an earlier one
    (a household's confirmation follows the proposal): case -> its open procedure."""
    named = {c.id: c for c in cases.values() if c.open_procedure_id is not None
             and etype in app.config.workflows[c.kind].evidence_types
             and follows_a_step(app.config.workflows[c.kind], etype)}
    return load_open_procedures(conn, list(named.values())) if named else {}


def _out_of_order(app: App, etype: str, row: SheetRow, case: _Case, open_proc) -> list[tuple[str, JingzhunError]]:
    """The row's dates before the step its item follows, as `evidence add` refuses them (its fields are good)."""
    definition = app.config.workflows[case.kind].evidence_types[etype]
    values = coerce_fields(etype, definition, row.fields, app.clock.today(), app.config.labels)
    return [(v.params["field"], v.error()) for v in dated_out_of_order(app, case.kind, case.id, open_proc, etype, values)]


def _implausible(app: App, etype: str, row: SheetRow, case: _Case, members: int) -> list[tuple[str, JingzhunError]]:
    """The row's income, if it is far past the poverty line a head, as `evidence add` refuses it (its fields are good)."""
    definition = app.config.workflows[case.kind].evidence_types[etype]
    if not income_type(definition):
        return []
    values = coerce_fields(etype, definition, row.fields, app.clock.today(), app.config.labels)
    found = implausible_income(app, definition, etype, values, province_of(case.region_code), members)
    return [] if found is None else [("net_income", BadInput("sheets.income_implausible", case=case.id, **found.params))]


def _members(conn, case_ids: list[int]) -> dict[int, int]:
    """How many active members each of the households has (an income's per head divides by them)."""
    m = t.household_members.c
    return dict(_rows(conn, select(m.case_id, func.count()).where(m.active == true()).group_by(m.case_id),
                      m.case_id, case_ids))


def _cases_named(conn, rows: Sequence[SheetRow]) -> dict[tuple[str, str], _Case]:
    """The case each row's naming finds: by number, by an active member's ID number (its head's, given
    as the head's), by household code."""
    keys = [k for r in rows for k in _keys(r)]
    numbers = {v for c, v in keys if c == "case" and ascii_digits(v) and len(v) <= 12}
    m = t.household_members.c
    by_id = _lookup(conn, m.id_number, m.case_id, {v for c, v in keys if c == "id_number"}, m.active == true())
    by_head = _lookup(conn, m.id_number, m.case_id, {v for c, v in keys if c == "head_id_number"},
                      m.active == true(), m.relation == "head")
    by_code = _lookup(conn, t.cases.c.external_code, t.cases.c.id, {v for c, v in keys if c == "household_code"},
                      t.cases.c.kind == "household")
    ids = {int(v) for v in numbers} | set(by_id.values()) | set(by_head.values()) | set(by_code.values())
    c = t.cases.c
    cases = {r.id: _Case(*r) for r in _rows(conn, select(
        c.id, c.kind, c.region_code, c.open_procedure_id, c.pending_procedure, c.title).where(c.stage != "removed"), c.id, ids)}
    named = {("case", v): cases.get(int(v)) for v in numbers}
    named.update({("id_number", k): cases.get(v) for k, v in by_id.items()})
    named.update({("head_id_number", k): cases.get(v) for k, v in by_head.items()})
    named.update({("household_code", k): cases.get(v) for k, v in by_code.items()})
    return {k: v for k, v in named.items() if v is not None}


def _lookup(conn, key, value, wanted: set, *where) -> dict:
    return dict(lookup(conn, key, value, wanted, *where))


def _rows(conn, query, column, wanted) -> list:
    """`query` for the `wanted` values of `column`, asked in batches (SQLite's parameter limit)."""
    wanted = list(wanted)
    return [r for i in range(0, len(wanted), BATCH) for r in conn.execute(query.where(column.in_(wanted[i:i + BATCH])))]


def _holding(conn, etype: str, case_ids: list[int], per_procedure: bool) -> dict[int, "_Held"]:
    """Those of the cases already holding evidence of this type, with its fields (a sheet adds; it
    replaces only an item of an earlier year, see `next_year`): an earlier procedure's item of a type
    kept per procedure is not held (a fresh exit's confirmations are items of their own)."""
    held = {}
    for i in range(0, len(case_ids), BATCH):
        held.update(held_evidence(conn, etype, case_ids[i:i + BATCH], per_procedure))
    return {c: _Held(r.id, r.fields or {}) for c, r in held.items()}


def _any_definition(app: App, etype: str, cases: dict, test) -> bool:
    """Whether the sheet's type meets `test` (kept per procedure, an income) in its households' workflow."""
    return any(test(d) for k in {c.kind for c in cases.values()}
               if (d := app.config.workflows[k].evidence_types.get(etype)))


@dataclass(frozen=True)
class _Held:
    id: int
    fields: dict


def template_rows(app: App, actor: Actor, place: str, etype: str) -> tuple[Any, list[tuple[int, str, str]]]:
    """A sheet of `etype` for a village's cadres to fill (`evidence template`, the import page's
    download): the type's definition, and one row per case of its kind (`sheet_kind`) in the village
    that is not removed, in case order: its case number, household code (a household's; else empty)
    and title (a household's head, the village's name, the project's), which the import reads back.
    `place` is a village, or a township for a kind of case sited at a township too (a fund project
    built for the township: no village's sheet lists it, see `sheet_place`). A place out of the
    reader's jurisdiction is one that does not exist."""
    kind = sheet_kind(app, etype)
    sheet_place(app, actor, place, kind)
    if kind is None:
        raise BadInput("evidence.unknown_type", type=etype, known=", ".join(
            e for wf in app.config.workflows.values() for e in wf.evidence_types if sheet_kind(app, e)))
    definition = app.config.workflows[kind].evidence_types[etype]
    c = t.cases.c
    with app.engine.connect() as conn:
        rows = conn.execute(select(c.id, c.external_code, c.title).where(
            c.region_code == place, c.kind == kind, c.stage != "removed").order_by(c.id)).all()
    return definition, [(r.id, r.external_code or "", r.title) for r in rows]


# The kinds of case only a village holds (a household, the village's own case); a case of any other kind
# (a fund project) may be sited at a township (DOMAIN: a project's site is a village or a township)
AT_VILLAGES_ONLY = ("household", "village")


def sheet_place(app: App, actor: Actor, code: str, kind: str | None) -> dict[str, Any]:
    """The village, or (for a kind of case a township may hold) the township, whose cases a blank sheet
    lists, once the reader covers it (a NotFound for any other region, or one out of reach)."""
    from engine.reads.village_lists import region_at
    at_township = kind is not None and kind not in AT_VILLAGES_ONLY
    return region_at(app, actor, code, ("village", "township") if at_township else ("village",))


def clues_not_started(app: App, items: Sequence[EvidenceItem]) -> list[tuple[int, int, str, str]]:
    """Of a sheet's first clues (a department's list of households at risk), those whose household starts
    no days to identify, each told on its row, not a second clock: (index in `items`, case, why, procedure), `why`
    "monitored" (monitored already), "open" (its identification is open: its days run already) or
    "stage" (a stage the procedure does not start from)."""
    from engine.services.deadlines import clue_fields
    leads = clue_fields(app)
    clues = [(n, i) for n, i in enumerate(items) if i.type in leads]
    if not clues:
        return []
    with app.engine.connect() as conn:
        cases = load_cases(conn, sorted({i.case_id for _n, i in clues}))
    found = []
    for index, item in clues:
        case, procedure = cases[item.case_id], leads[item.type][1]
        workflow = app.config.workflows[case.kind]
        offered = app.rules[case.kind].offered if case.kind in app.rules else None
        if case.open_procedure_id is not None and case.pending_procedure == procedure:
            why = "open"
        elif (case.attrs or {}).get("monitoring"):
            why = "monitored"
        elif case.stage not in workflow.procedures[procedure].sources or \
                (offered is not None and not offered(case, procedure)):
            why = "stage"
        else:
            continue
        found.append((index, case.id, why, procedure))
    return found
