"""A county's or city's registry in one file: households streamed in batches into one transaction.

The rows come grouped by household (a household's rows next to each other), each household naming
its village; every row is checked — fields and codes, the village (exists, is a village, within the
importer's reach), an ID number or household code already registered or given twice in the file —
and every problem is told to `on_problem` with its line and column as soon as it is found. Good
households are written batch by batch in the same transaction, so later rows are checked against
earlier ones by the database's indexes (memory stays flat however long the file is). At the end the
transaction commits when the file was clean, or when `keep_good` asked for the good households only;
otherwise it rolls back and nothing is written. An import interrupted before its commit rolls back the same way.

A registry moving from another system may give each household's stage (`stage`): such cases start
there (a county or city office's decision, stated in each case's first event and in the import's).
A household exited already may say the year it exited (已脱贫（2017年）, 2017年已脱贫, or a 脱贫年度 column):
kept on its case (`exit_year`, engine/domain/exit_years.py) and stated in its first event, so that it
counts among that year's exits; a year that is no year, before 2013 or after this one, or given for a
household not exited, is the row's problem.
"""
from __future__ import annotations

import re
from array import array
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass, field, replace
from itertools import islice
from operator import itemgetter
from typing import Callable, Iterable, Iterator

from sqlalchemy import exc as sa_exc
from sqlalchemy import or_, select

from engine.adapters import tables as t
from engine.adapters.app import App
from engine.adapters.bulk import analyse, insert_rows, lookup, next_ids, rows_with
from engine.adapters.uow import CaseEvent, opened
from engine.domain.auth import Actor
from engine.domain.cases import CaseRow
from engine.domain.members import age_at, members_digest
from engine.domain.monitoring import period_years, transition_end
from engine.domain.record_digests import attrs_digest
from engine.adapters.repository import load_cases
from engine.reads.imports import refuse_imported_before
from engine.reads.standing import APPLYING, NOT_IDENTIFIED
from engine.domain.errors import AuthError, BadInput, Codes, JingzhunError, Msg, RuleViolation, stored
from engine.domain.exit_years import (EXITED_STAGES, FIRST_EXIT_YEAR, IMPORTED_YEAR, PLANNED_EXIT_YEAR,
                                      known_exit_year)
from engine.domain.regions import common_ancestor, covers, highest, level_of, prefix, province_of
from engine.services.org import refuse_read_only, require_role
from engine.services.procedures import pending_for_stage

from .exit_year import MIGRATION_ROLES, write_exit_year
from .household import (REGISTRAR_ROLES, MemberInput, cause_codes, registered_ids, already_registered, household_field_problems,
                        household_type_code, checked_member)
from .import_pairings import PAIRED_STAGES, Pairings
from .household_codes import (NOT_A_STAGE, STAGE_WORDS, STAGE_WORDS_COVER, WORKING_LABOUR, birth_date,
                             EDUCATION_WORDS, compact_id, county_code_current, noted_years, stage_word, year_of)

IMPORT_ROLES = (*REGISTRAR_ROLES, "county_office_staff", "county_office_director", "city_office_staff")
BATCH = 500              # households checked and written together
PLANNED_AHEAD = 10       # a planned exit year (计划脱贫年度) at most this many years after the import's
_BRACKETED = re.compile(r"[(（][^)）]*[)）]")     # a label's explanation in brackets
# What a name holds where a character was lost in an encoding conversion (a rare character of a GBK
# file read as another encoding, or saved where it has no code): ? ？ or the replacement character.
LOST_CHARACTER = re.compile("[?？\ufffd]")

Problem = Callable[[object, str, JingzhunError], None]
# (line, column, what to confirm, whom: the household's code or key, the member's name and ID number)
Warning = Callable[[object, str, BadInput, dict], None]


@dataclass
class ListedHousehold:
    """One household's rows of a list file: `members` as (line, member), in the file's order."""
    key: str
    village: str
    members: list[tuple[object, MemberInput]]
    causes: list[str] = field(default_factory=list)
    household_type: str = "general"
    code: str | None = None          # 户编号 in the system the list comes from: kept, unique
    stage: str | None = None         # the stage it starts in (a registry moving from another system)
    rows: list = field(default_factory=list)     # the rows as the file gives them, for the caller
    disagree: list = field(default_factory=list)  # (line, column) of a row whose village, stage or type
                                                  # differs from the household's first one
    given: frozenset = frozenset()   # the columns the file has (our keys): a registered household is
                                     # compared with its case on these
    cell_problems: list = field(default_factory=list)   # (line, column, error) of a cell the reader
                                                        # could not read (an unknown 在户 word)
    township: str | None = None      # the township's name or code the file gives (a village by name)
    village_names: list = field(default_factory=list)   # (line, name) of its rows naming the village beside
                                                        # its code (the national system's 行政村): checked
    code_elsewhere: set = field(default_factory=set)    # the lines of those whose own code cell is empty
                                                        # (the code is the household's other rows')
    left: list = field(default_factory=list)     # (line, row) of its rows whose 在户 says they left: not
                                                  # imported, but told where the case still has them
    exit_year: str | None = None     # its exit-year cell (脱贫年度) as the file gives it
    planned_exit_year: str | None = None     # the year its exit was planned for (计划脱贫年度), as given
    chosen: str | None = None        # the village the importer chose for the whole file (its code): a
                                     # village the file's own column names must be that one
    pairing_cadre: str | None = None     # its 帮扶责任人 by name, and 帮扶责任人联系电话 (workflows/import_pairings.py)
    pairing_phone: str | None = None

    @property
    def first_line(self):
        return self.members[0][0]


@dataclass
class ImportResult:
    households: int = 0
    members: int = 0
    skipped: int = 0
    removed: int = 0                 # households the file says were removed: left out
    removed_members: int = 0         # of those, the members the file says left (an export's, 在户 否)
    rejected_applying: int = 0       # households the file says were rejected (未通过识别): registered as applying anew
    rows: int = 0                    # member rows read (the removed households' aside)
    unchanged: int = 0               # households registered already just as the file gives them: passed over
    problems: int = 0
    stages: dict[str, int] = field(default_factory=dict)
    exit_years: dict[str, int] = field(default_factory=dict)   # households started exited, by the year noted
    no_exit_year: int = 0            # households started exited (or consolidated) with no year noted
    noted_exit_years: dict[str, int] = field(default_factory=dict)   # registered households given the exit
                                     # year they lacked (workflows/exit_year.py), by the year noted
    ids_confirmed_in_file: int = 0   # members whose ID number the file says was checked against the card
    ids_own_county: int = 0          # members whose ID number's county code, younger than they are, is their
                                     # household's county's current code: not to confirm (own_county_code)
    # members the file gives no labour ability (set by age: labour_by_age), no health (健康, as the national
    # form defaults) or no schooling (not recorded): said in the summary, for the cadres to check
    labour_by_age: int = 0
    health_by_default: int = 0
    school_not_recorded: int = 0
    first_case: int | None = None
    last_case: int | None = None
    paired: int = 0                  # households registered with the first pairing cadre the file names
    unpaired: int = 0                # households registered assisted or later with none (to pair by hand)


def import_households(app: App, actor: Actor, households: Iterable[ListedHousehold], *, keep_good: bool,
                      source: dict, on_problem: Problem, on_skipped: Callable[[ListedHousehold], None],
                      on_warning: Warning = lambda line, column, w, whom: None,
                      on_written: Callable[[ListedHousehold, int], object] = lambda h, case: None,
                      on_batch: Callable[[int], None] = lambda n: None,
                      on_commit: Callable[[], None] = lambda: None) -> ImportResult:
    """Register every household of a list file in one transaction; see the module's description.
    `on_warning` hears what the importer should confirm but does not stop a row (an ID number whose
    county code is younger than its holder); `on_commit`, that every check passed and the transaction
    commits now (a command holds a Ctrl-C from there: the import is saved, entrypoints/cli/interrupts.py)."""
    refuse_read_only(app, actor, "household import")
    if not any(a.role in IMPORT_ROLES for a in actor.assignments):
        # no post that imports anywhere: said once, before the file is read (it had been said per household)
        raise AuthError("import.no_post", person=actor.code, roles=", ".join(IMPORT_ROLES))
    try:
        return _import(app, actor, households, keep_good=keep_good, source=source, on_problem=on_problem,
                       on_skipped=on_skipped, on_warning=on_warning, on_written=on_written, on_batch=on_batch,
                       on_commit=on_commit)
    except sa_exc.IntegrityError:
        # another import (or a cadre's registration) wrote one of these households' ID numbers or codes
        # between this import's check and its write: rolled back, nothing written; again, they are compared
        raise RuleViolation("import.concurrent") from None


def _import(app: App, actor: Actor, households: Iterable[ListedHousehold], *, keep_good: bool, source: dict,
            on_problem: Problem, on_skipped: Callable[[ListedHousehold], None], on_warning: Warning,
            on_written: Callable[[ListedHousehold, int], object], on_batch: Callable[[int], None],
            on_commit: Callable[[], None]) -> ImportResult:
    with app.unit_of_work() as uow:
        _refuse_imported_before(app, uow.conn, source)
        run = _Import(app, actor, uow, on_problem, on_warning, on_written)
        for batch in _batches(households):
            kept = [h for h in batch if not run.removed(h)]    # removed where the file comes from: not again
            run.result.removed += len(batch) - len(kept)
            run.result.removed_members += sum(len(h.left) for h in batch if run.removed(h))
            kept = [h for h in kept if h.members]    # none present (all died, moved away): their rows told as left
            batch = kept
            run.result.rows += sum(len(h.members) for h in batch)
            good = run.checked(batch)
            for h in batch:
                if id(h) not in good and id(h) not in run.unchanged:
                    run.result.skipped += 1
                    on_skipped(h)
            run.write([(h, good[id(h)]) for h in batch if id(h) in good])
            run.note_exit_years(source)
            on_batch(sum(len(h.members) for h in batch))
        _finish(run, keep_good, source)
        on_commit()
    try:        # committed: an interrupt now must not read as an import that did not happen
        analyse(app.engine, (t.cases, t.household_members, t.audit_events), run.result.households)
    except KeyboardInterrupt:
        pass    # the planner's statistics only: autovacuum gathers them in its own time
    return run.result


YOUNGEST_HEAD = 16      # years: a head of household or a working member younger is a row to check


# The words that say 其他 themselves (a relation read as other from any other word is told, for the
# cadre to know the word was not kept).
OTHER_WORDS = frozenset({"other", "Other", "OTHER", "其他", "其它", "之其他"})


def labour_by_age(m: MemberInput, today) -> MemberInput:
    """A member whose labour ability the list leaves blank (or has no column for): a child under 16
    has none (无劳动力), anyone else is an ordinary labourer (普通劳动力), as the national system's
    form defaults; a child had been taken for a worker and then warned of as one."""
    if m.labour_ability:
        return m
    try:
        born = birth_date(compact_id(m.id_number))
    except (ValueError, TypeError):
        born = None             # an ID number with no date: told as such; the labour is not guessed from it
    young = born is not None and age_at(born, today) < YOUNGEST_HEAD
    return replace(m, labour_ability="none" if young else "normal")


def health_by_default(m: MemberInput) -> MemberInput:
    """A member whose health the list leaves blank (or has no column for): 健康, as the national system's
    form defaults (no standard is judged on it; the import's summary counts them)."""
    return m if m.health else replace(m, health="healthy")


def _not_given(m: MemberInput) -> dict[str, bool]:
    """Which of a member's facts the list did not give (counted in the summary; not stored)."""
    return {"labour_by_age": not m.labour_ability, "health_by_default": not m.health,
            "school_not_recorded": not (m.school_enrolment or "").strip()}


def _age_warnings(member: dict, today, school_ages: tuple[int, int] = (3, 30)) -> list[tuple[str, BadInput]]:
    """What a member's age makes unlikely, for the importer to confirm (registered all the same): a head
    of household under 16, a child under 16 listed as working labour (a birth year mistyped in the ID
    number, or the rows of two people crossed), someone in school at an age outside `school_ages`."""
    age = age_at(birth_date(member["id_number"]), today)
    found = []
    low, high = school_ages
    if member.get("school_enrolment") == "enrolled" and not low <= age <= high:
        found.append(("school_enrolment", BadInput("import.school_age", age=max(age, 0), low=low, high=high)))
    if age >= YOUNGEST_HEAD:
        return found
    if member.get("relation") == "head":
        found.append(("relation", BadInput("import.young_head", age=max(age, 0))))
    if member.get("labour_ability") in WORKING_LABOUR:
        found.append(("labour_ability", BadInput("import.young_labour", age=max(age, 0))))
    return found


ID_WARNINGS = {"later": "import.id_to_confirm", "abolished": "import.id_to_confirm_abolished",
               "in_file": "import.id_to_confirm_in_file"}


def _said_in_file(row: dict, confirmed: bool | None) -> dict:
    """What the list says of a member's ID number, over what its county code asks (MemberInput.id_confirmed)."""
    if confirmed is True and row["id_check"]:
        return {"id_check": None, "id_confirmed_in_file": True}
    if confirmed is False:
        return {"id_check": row["id_check"] or IN_FILE, "id_to_confirm_in_file": True}
    return {}


IN_FILE = "in_file"      # id_check: the list's own system had the number still to confirm (身份证号待核实: 是)


def own_county_code(member: dict, village: str) -> dict:
    """A member's row, not marked to confirm where their ID number's county code is younger than they
    are but is their household's own county's current code (宁都县's 360730, since 1999, on someone born
    in 1969): exactly what a person first issued a card after the code changed holds, most of a county's
    people (marking them made a list no one reads). A code that did not exist in the birth year and is
    not the household's county (another county's, or one since abolished) is still marked."""
    if member.get("id_check") != "later" or member["id_number"][:6] != village[:6] \
            or not county_code_current(village[:6]):
        return member
    if member.get("id_to_confirm_in_file"):     # the list's own question stands: for it, not for the code
        return {**member, "id_check": IN_FILE}
    return {**member, "id_check": None, "id_own_county": True}


def village_code(app: App, actor: Actor, value: str, township: str | None = None) -> str:
    """The region code of a village given by its code or its name (`--village 黄陂村`); a name
    matching no village within the actor's reach, or several, refused."""
    if _is_code(value):
        return value
    with app.engine.connect() as conn:
        found = VillageNames(conn, actor).code(value, township)
    if isinstance(found, JingzhunError):
        raise found
    return found


def _is_code(value: str) -> bool:
    """Whether a village cell is meant as a code (ASCII: a code mistyped is told as such), not a name."""
    return value.isascii()


class VillageNames:
    """The villages within the actor's jurisdiction by name, read once (a county holds a few hundred,
    a city some thousands): a village column may name its village (黄陂村, 梅江镇黄陂村), with or without
    a township column."""

    def __init__(self, conn, actor: Actor):
        r = t.regions.c
        tops = highest(a.region_code for a in actor.assignments)
        rows = conn.execute(select(r.code, r.name, r.level).where(
            r.level.in_(("village", "township")), or_(*(r.code.like(prefix(top) + "%") for top in tops)))).all() \
            if tops else []
        self.townships = {row.code: row.name for row in rows if row.level == "township"}
        self.villages: dict[str, list[str]] = defaultdict(list)      # name -> codes
        self.names: dict[str, str] = {}                                # code -> name
        for row in rows:
            if row.level == "village":
                self.villages[_bare(row.name)].append(row.code)
                self.names[row.code] = _bare(row.name)

    def _township_of(self, village: str) -> str:
        return self.townships.get(village[:9] + "000", "")

    def names_it(self, code: str, value: str) -> bool:
        """Whether a village cell beside the code names that village: its name (黄陂村), after its
        township's (梅江镇黄陂村, 宁都县梅江镇黄陂村), or the code itself."""
        name, own = _bare(value), self.names.get(code)
        if _is_code(name):
            return name == code
        if own is None:                  # not within reach: told as such (never named to this reader)
            return True
        return name == own or name.endswith(own) and _same_place(name[:-len(own)], self._township_of(code), suffix=True)

    def township_has(self, code: str, value: str) -> bool:
        """Whether a township cell (乡（镇）) beside a village's code names the village's township: by
        its name (梅江镇, 梅江, 宁都县梅江镇) or its code."""
        name, own = _bare(value), self._township_of(code)
        if _is_code(name):
            return name[:9] == code[:9]
        return not own or _same_place(name, own, suffix=True)

    def place(self, code: str) -> str:
        """The village as a reader knows it: its township's name and its own (梅江镇黄陂村)."""
        return self._township_of(code) + self.names.get(code, code)

    def code(self, value: str, township: str | None = None) -> "str | JingzhunError":
        """The code of the village named, or the refusal (none such, or several: which townships)."""
        name = _bare(value)
        found = []
        for i in range(len(name)):            # 黄陂村, or 梅江镇黄陂村 (the township's name before it)
            before = name[:i]
            for code in self.villages.get(name[i:], ()):
                if not before or _same_place(before, self._township_of(code), suffix=True):
                    found.append(code)
        named = found
        if township and not _is_code(township.strip()):
            found = [c for c in found if _same_place(_bare(township), self._township_of(c))]
        elif township and township.strip().isdigit():     # the township by its code
            found = [c for c in found if c[:9] == township.strip()[:9]]
        if named and not found:          # the village is there, in another township than the row says
            return BadInput("import.village_other_township", name=value, township=township,
                            townships="、".join(sorted({self._township_of(c) or c[:9] for c in named})))
        if len(found) == 1:
            return found[0]
        if found:
            return BadInput("import.village_ambiguous", name=value, count=len(found),
                            townships="、".join(sorted({self._township_of(c) or c[:9] for c in found})))
        from difflib import get_close_matches
        close = get_close_matches(name, list(self.villages), n=3, cutoff=0.5)
        if close:
            return BadInput("import.village_not_found_close", name=value, close="、".join(close))
        return BadInput("import.village_not_found", name=value)


def _bare(name: str) -> str:
    return "".join((name or "").split())


_TOWNSHIP_ENDS = ("街道办事处", "街道", "镇", "乡")


def _same_place(given: str, township: str, suffix: bool = False) -> bool:
    """Whether a township as the file writes it names this one (梅江镇, 梅江; after a county's name
    when `suffix`: 宁都县梅江镇)."""
    if not township:
        return False
    short = next((township[:-len(e)] for e in _TOWNSHIP_ENDS if township.endswith(e) and len(township) > len(e)), township)
    if suffix:
        return given.endswith(township) or given.endswith(short)
    return given in (township, short)


def _refuse_imported_before(app: App, conn, source: dict) -> None:
    """The very same file (by its SHA-256) imported whole already: its households are registered, and
    importing it again would only list each of them as registered already (engine/reads/imports.py)."""
    refuse_imported_before(app.config, conn, "households_imported", source, "import.imported_before")


def _finish(run: "_Import", keep_good: bool, source: dict) -> None:
    """Refuse (rolling everything back) unless the file was clean or only the good households were
    asked for; then one organisation event names the file and what it made."""
    result = run.result
    noted = sum(result.noted_exit_years.values())
    if result.unchanged and not (result.households or result.problems or result.skipped or noted):
        return      # every household registered just as the file gives it (a list checked again): nothing to write
    if result.problems and not keep_good:
        raise BadInput("import.bad_households", file=source["file"], households=result.skipped, problems=result.problems)
    if not result.households and result.removed and not result.skipped:
        raise BadInput("import.only_removed", file=source["file"], households=result.removed)
    if not result.households and result.unchanged and not noted:
        raise BadInput("import.nothing_new", file=source["file"], unchanged=result.unchanged, skipped=result.skipped)
    if not result.households and not noted:
        raise BadInput("import.nothing_good" if result.skipped else "import.no_rows", file=source["file"])
    left_out = {"removed_households": result.removed} if result.removed else {}
    if result.rejected_applying:
        left_out["rejected_applying"] = result.rejected_applying
    if result.unchanged:
        left_out["unchanged_households"] = result.unchanged
    if result.exit_years or result.no_exit_year:
        left_out.update(exit_years=result.exit_years, without_exit_year=result.no_exit_year)
    if noted:
        left_out["noted_exit_years"] = result.noted_exit_years
    if result.ids_confirmed_in_file:
        left_out["ids_confirmed_in_file"] = result.ids_confirmed_in_file
    if result.ids_own_county:
        left_out["ids_own_county"] = result.ids_own_county
    # filed at the lowest region covering the villages written (its inspectors read it), not at the
    # importer's post: a city officer's import of one county's villages is that county's
    where = common_ancestor(run.written) if run.written else run.region
    run.uow.append_org_event(run.actor, "households_imported", run.role, where, **source,
                             households=result.households, members=result.members, skipped_households=result.skipped,
                             stages=result.stages, first_case=result.first_case, last_case=result.last_case, **left_out)


def _batches(households: Iterable[ListedHousehold]) -> Iterator[list[ListedHousehold]]:
    it = iter(households)
    while batch := list(islice(it, BATCH)):
        yield batch


CASE_COLUMNS = ("id", "kind", "region_code", "title", "stage", "version", "workflow_version", "external_code", "attrs",
                "created_at", "updated_at", "event_count", "last_event_hash", "open_procedure_id", "pending_procedure",
                "pending_step", "transition_until")
MEMBER_COLUMNS = ("case_id", "name", "id_number", "relation", "labour_ability", "health", "school_enrolment",
                  "insured_basic", "insured_critical", "phone", "bank_account", "active", "id_check")
# What a file may say of a registered member, compared when the file has the column (name and relation always).
MEMBER_COMPARED = ("name", "relation", "labour_ability", "health", "school_enrolment", "insured_basic",
                   "insured_critical", "phone", "bank_account")


_CASE_VALUES, _MEMBER_VALUES = itemgetter(*CASE_COLUMNS), itemgetter(*MEMBER_COLUMNS[1:])     # a row's, in order
MEMBERS_READ = 10_000    # a case's members read at most (a LIMIT that keeps each case on its index)


def registered_cases(conn, ids: Iterable[int]) -> tuple[dict, dict]:
    """Households registered already, to compare a file's with: the cases (id -> row) and their
    members in the household (case id -> ID number -> row) of these ids, each read by its index."""
    c, m = t.cases.c, t.household_members.c
    cases = {r.id: r for r in rows_with(conn, c.id, (c.id, c.region_code, c.external_code, c.stage, c.attrs), ids,
                                        per_key=1)}
    members: dict[int, dict] = defaultdict(dict)
    for r in rows_with(conn, m.case_id, [m.case_id, *(m[k] for k in MEMBER_COLUMNS[1:])], ids, m.active.is_(True),
                       per_key=MEMBERS_READ):
        members[r.case_id][r.id_number] = r
    return cases, members


def _same_household(h: ListedHousehold, case, members: dict, sound: list) -> bool:
    """Whether a listed household whose head is registered in `case` is that case (a village's list
    kept and uploaded again), to be compared with it: its household code is the case's, or, where
    either has none, its head is the case's head. A new household whose head's ID number a member
    of another household holds (a number mistyped, a person listed in two households) is not:
    comparing it had said each of its cells differed from that case and asked to record the case's
    members as gone."""
    if h.code and case.external_code:
        return h.code == case.external_code
    head = next((r["id_number"] for _line, r in sound if r["relation"] == "head"), None)
    stored = members.get(head)
    return stored is not None and stored.relation == "head"


# A member's texts kept as given, in columns of limited length (a head's name is its case's title too):
# one longer is its row's problem, its column and limit said (a name of 201 characters had stopped the
# whole import at its write, naming no line, as a "title" too long); and a household code (户编号).
MEMBER_TEXTS = ("name", "phone")
CODE_LENGTH = t.cases.c.external_code.type.length


def _too_long(m: MemberInput) -> Iterator[tuple[str, BadInput]]:
    for column in MEMBER_TEXTS:
        value, most = (getattr(m, column) or "").strip(), t.household_members.c[column].type.length
        if len(value) > most:
            yield column, BadInput("sheets.too_long", most=most, length=len(value))


HEADS = ("import.heads", "import.no_head")      # a household's heads not one: told once its codes are checked


def _heads(count: int) -> BadInput:
    """A household with no head or several: two problems, told apart (a summary by kind names one of each)."""
    return BadInput("import.no_head") if count == 0 else BadInput("import.heads", count=count)


def _id_numbers(h: ListedHousehold) -> frozenset:
    return frozenset(compact_id(m.id_number) for _line, m in h.members)


def _row_number(line) -> int:
    """A line's row number (a workbook's later sheet names it before: 青塘!5)."""
    return int(str(line).rpartition("!")[2])


def _grouping(h: ListedHousehold) -> str:
    """The column that groups the household's rows (what is said of the household as a whole)."""
    return "household" if "household" in h.given or "household_code" not in h.given else "household_code"


def _same(column: str, listed, stored) -> bool:
    """A member's cell as the file gives it and as registered: a phone by its digits (+86 or not)."""
    if column == "phone" and listed and stored:
        return _phone_digits(listed) == _phone_digits(stored)
    return listed == stored


def _phone_digits(phone: str) -> str:
    digits = "".join(c for c in phone if c.isdigit())
    return digits[2:] if digits.startswith("86") and len(digits) > 11 else digits


class _Import:
    """The state of one import: villages already checked, the cases made so far (their ids and first
    lines, to tell a duplicate within the file by its line), the counts."""

    def __init__(self, app: App, actor: Actor, uow, on_problem: Problem, on_warning: Warning, on_written):
        self.app, self.actor, self.uow = app, actor, uow
        self.case_regions: dict[int, str] = {}     # of cases an ID number of the file is registered in
        self.on_problem, self.on_warning, self.on_written = on_problem, on_warning, on_written
        self.workflow = app.config.workflows["household"]
        self.villages: dict[tuple[str, bool], JingzhunError | str] = {}     # a problem, or the role used there
        self.names: VillageNames | None = None      # the villages within reach by name, read when first needed
        self.village_names: dict[tuple[str, str], JingzhunError | str] = {}  # a name's code, or its refusal
        self.name_agrees: dict[tuple[str, str], bool] = {}   # (code, a name beside it): whether it names it
        self.case_ids, self.case_lines = array("q"), []
        self.result = ImportResult()
        self.role: str | None = None
        self.region: str | None = None
        self.written: set[str] = set()      # the villages households were registered in
        self.now = app.clock.now()
        self.today = app.clock.today()
        self.pairings = Pairings(uow.conn, lambda village: app.config.policy.params(province_of(village), self.today.year),
                                 actor.person_id, self.today, frozenset(self.workflow.procedures["pairing_change"].sources))
        self.latest_exit_year = self.today.year      # an exit year after the import's is no year yet
        self.school_bounds: dict = {}                # a province's school_ages, read once
        self.stage_labels: dict[str, str] | None = None
        self.rejected_labels: set[str] = set()    # the words of 未通过识别 (made with stage_labels)
        self.found: list[tuple] = []          # a batch's problems, told in the file's order once it is checked
        self.sound: dict[int, list] = {}      # a batch's households' members whose own rows are sound: (line, row)
        self.misplaced: set[int] = set()      # a batch's households outside the importer's reach
        self.unchanged: set[int] = set()      # a batch's households registered already as the file gives them
        self.compared: dict[int, int] = {}    # a batch's households compared with their registered case: that case
        self.stage_refused: dict[int, AuthError] = {}   # a batch's households whose stage the importer may not
                                                        # start a case in (unless registered already)
        self.with_registered: set[int] = set()  # a batch's households with a member registered already
        self.compared_cases = bytearray()       # the registered cases compared so far: a bit each
        self.heads: dict[int, tuple] = {}       # a batch's households with no head or several, told after
        self.code_refused: set[int] = set()     # the codes' check, unless their code is refused (a stray row)
        self.listed: dict[tuple, ListedHousehold] = {}   # the batch's households by 户编号 (or grouping cell),
                                                # for a household listed again (this batch's and the one before's
                                                # are held: memory stays flat)

    def problem(self, h: ListedHousehold, line, column: str, error: JingzhunError, bad: set) -> None:
        self.result.problems += 1
        bad.add(id(h))
        self.found.append((line, column, error))

    # --- checks -------------------------------------------------------------------------------
    def checked(self, batch: list[ListedHousehold]) -> dict[int, list[dict]]:
        """The households of a batch with no problem, by id(), with their member rows as stored (every
        problem told on the way)."""
        bad: set[int] = set()
        self.found, self.sound, self.misplaced, self.unchanged, self.compared = [], {}, set(), set(), {}
        self.exit_years: dict[int, tuple] = {}       # id(h) -> _exit_year's answer, read once a household
        self.stage_refused, self.with_registered = {}, set()
        self.heads, self.code_refused = {}, set()
        self.to_note: dict[int, tuple[int, int]] = {}     # id(h) -> (case, the exit year it lacks), written
        whole = batch
        repeats = self._repeats(batch, bad)
        batch = [h for h in batch if id(h) not in repeats]
        rows = {id(h): self._fields(h, bad) for h in batch}
        for h in batch:
            self._place(h, bad)
        self._ids(batch, bad)
        self._codes(batch, bad)
        for h, line, column, exc in self.heads.values():
            if id(h) not in self.code_refused or exc.params.get("count"):
                self.problem(h, line, column, exc, bad)
        for h in batch:          # a household registered already is about its case, not a stage to start in
            if id(h) in self.stage_refused and id(h) not in self.with_registered:
                self.problem(h, h.first_line, "stage", self.stage_refused[id(h)], bad)
        self.unchanged -= bad
        # the cadre the file pairs each with, last: a household bad for another reason takes no cadre's place
        self.pairings.check([h for h in batch if id(h) not in bad and id(h) not in self.unchanged],
                            lambda h: self._stage(h.stage) if h.stage else self.workflow.initial,
                            lambda h, error: self.problem(h, h.first_line, "pairing_cadre", error, bad))
        self.to_note = {i: noting for i, noting in self.to_note.items() if i in self.unchanged}
        self.result.unchanged += len(self.unchanged) - len(self.to_note)
        order = {line: i for i, line in enumerate(line for h in whole for line, _m in h.members)}
        for line, column, error in sorted(self.found, key=lambda f: order.get(f[0], len(order))):
            self.on_problem(line, column, error)       # told in the file's order, each check's alike
        return {id(h): rows[id(h)] for h in batch if id(h) not in bad and id(h) not in self.unchanged}

    def _repeats(self, batch: list[ListedHousehold], bad: set) -> set[int]:
        """Households listed twice: rows that list again a household listed earlier (in this batch or
        the one before: the same 户编号, or the same grouping cell where there is none) with no member it
        lacks (their ID numbers all among its) are one problem on their first line, naming the rows to
        delete; nothing else of them is told (sorting would not help: they are that household again)."""
        found: set[int] = set()
        before, self.listed = self.listed, {}
        for h in batch:
            garbled = any(column in ("household_code", "household", "id_number") for _l, column, _e in h.cell_problems)
            key = None if garbled else ("code", h.code) if h.code else ("key", h.key) if h.key else None
            if key is None:
                continue
            earlier = self.listed.get(key) or before.get(key)
            if earlier is not None and _id_numbers(h) <= _id_numbers(earlier):
                found.add(id(h))
                self._listed_twice(h, earlier.first_line, bad)
            else:
                self.listed.setdefault(key, h)
        return found

    def _listed_twice(self, h: ListedHousehold, first_line, bad: set) -> None:
        """The household is one listed from `first_line` again: one problem, naming its rows to delete."""
        lines = sorted(_row_number(line) for line in [*(line for line, _m in h.members), *(line for line, _r in h.left)])
        self.problem(h, h.first_line, "household_code" if h.code else _grouping(h), BadInput(
            "import.listed_twice", line=first_line, count=len(lines),
            lines=f"{lines[0]}–{lines[-1]}" if len(lines) > 1 else str(lines[0])), bad)

    def _fields(self, h: ListedHousehold, bad: set) -> list[dict] | None:
        """Each member's fields, the household's head, causes and type; the rows as stored, or None."""
        checked = [(line, checked_member(labour_by_age(health_by_default(m), self.today), n))
                   for n, (line, m) in enumerate(h.members, start=1)]
        too_long = [(line, column, exc) for line, m in h.members for column, exc in _too_long(m)]
        # members whose own fields are sound: their ID numbers are checked against the others' even when
        # their household is bad for another reason (every bad row told at once, not one fix at a time)
        self.sound[id(h)] = [(line, row) for line, (row, found) in checked if not found]
        # a cell the reader already found unreadable (a long number's digits lost) is told once, as such
        told = {(line, column) for line, column, _e in h.cell_problems}
        problems = [(line, column, exc) for line, (_row, found) in checked for column, exc in found
                    if (line, column) not in told]
        problems += too_long + self._household_problems(h) + self._school_words(h, checked)
        for line, column, exc in problems:
            if isinstance(exc, BadInput) and exc.code in HEADS:
                bad.add(id(h))           # told once the codes are checked: a stray row of a household
                self.heads[id(h)] = (h, line, column, exc)      # listed earlier has none, and is told so,
                continue                 # and a registered household listed without its head as that
            self.problem(h, line, column, exc, bad)
        if problems:
            return None
        # an ID number whose county code asks for a check, that the list says was checked against the card
        # in the system it comes from (an export's 身份证号待核实: 否): not marked again, counted as such
        # (身份证号待核实: 否), and one the list says is still to confirm there (是: the other system's open
        # question, kept whatever its number, id_check "in_file" where the number itself asks for no check)
        return [{**row, **_not_given(m), **_said_in_file(row, m.id_confirmed)}
                for (_line, (row, _found)), (_l, m) in zip(checked, h.members)]

    def school_ages(self, village: str) -> tuple[int, int]:
        """The ages a member may be in school at, by the village's province's policy (school_ages)."""
        province = province_of(village) if _is_code(village) else None
        if province not in self.school_bounds:
            try:
                low, high = self.app.config.policy.params(province, self.today.year).get("school_ages") or (3, 30)
            except JingzhunError:
                low, high = 3, 30
            self.school_bounds[province] = (low, high)
        return self.school_bounds[province]

    def _school_words(self, h: ListedHousehold, checked: list) -> list[tuple]:
        """A 在校生状况 cell holding a 文化程度 word (小学, 初中…) on someone past school age: the national
        form's education column pasted into the schooling one, every adult "in school" (a11 #6)."""
        found = []
        for line, (row, _found) in checked:
            word = "".join(str(getattr(dict(h.members).get(line), "school_enrolment", "") or "").split())
            if row is None or row.get("school_enrolment") != "enrolled" or word not in EDUCATION_WORDS:
                continue
            try:
                age = age_at(birth_date(row["id_number"]), self.today)
            except (ValueError, TypeError, JingzhunError):
                continue
            low, high = self.school_ages(h.village or "")
            if not low <= age <= high:
                found.append((line, "school_enrolment", BadInput("import.school_education_word", value=word, age=age,
                                                                 low=low, high=high)))
        return found

    def _household_problems(self, h: ListedHousehold) -> list[tuple]:
        if not h.key:       # rows naming no household (a merged cell left blank): that is told, not what
            # follows from it (no village, no causes, no head: the rows of a household listed above)
            return [(h.first_line, "household", BadInput("import.no_key")), *h.cell_problems]
        found = list(h.cell_problems)
        if h.code and len(h.code) > CODE_LENGTH:
            found.append((h.first_line, "household_code", BadInput("sheets.too_long", most=CODE_LENGTH, length=len(h.code))))
        found += [(line, column, BadInput("import.household_disagrees", field=column, first=h.first_line))
                  for line, column in h.disagree]
        # rows grouped by a code Excel made 3.6073E+17 are several households as one: their heads not counted
        garbled = any(column in ("household_code", "household") for _line, column, _e in h.cell_problems)
        found += [(h.first_line, column, exc) for column, exc in household_field_problems(
            [m for _line, m in h.members], h.causes, h.household_type,
            _heads) if not (garbled and column == "relation")]
        if h.stage is not None and stage_word(h.stage) in NOT_A_STAGE:
            found.append((h.first_line, "stage", BadInput("import.not_a_stage", value=h.stage)))
        elif h.stage is not None and self._stage(h.stage) is None:
            found.append((h.first_line, "stage", BadInput("import.bad_stage", value=h.stage,
                                                           known=Codes("stage", self._stages()))))
        return found + self._exit_year(h)[1] + self._planned_exit_year(h)[1]

    def _planned_exit_year(self, h: ListedHousehold) -> tuple[int | None, list[tuple]]:
        """The year the file plans the household's exit for (计划脱贫年度: 2020, 2020年…), and its problem: a
        cell read as no year, or a year before 2013 or more than PLANNED_AHEAD years after this one."""
        text = (h.planned_exit_year or "").strip()
        if not text:
            return None, []
        year = year_of(text)
        if year is None:
            return None, [(h.first_line, "planned_exit_year", BadInput("import.bad_exit_year", value=text))]
        if not FIRST_EXIT_YEAR <= year <= self.today.year + PLANNED_AHEAD:
            return None, [(h.first_line, "planned_exit_year", BadInput(
                "import.exit_year_out_of_range", year=year, first=FIRST_EXIT_YEAR, last=self.today.year + PLANNED_AHEAD))]
        return year, []

    def _exit_year(self, h: ListedHousehold) -> tuple[int | None, list[tuple]]:
        """The exit year the file gives the household, and its problems (_read_exit_year), read once: its
        checks, its comparison with a registered case and its case row all ask."""
        if id(h) not in self.exit_years:
            self.exit_years[id(h)] = self._read_exit_year(h)
        return self.exit_years[id(h)]

    def _read_exit_year(self, h: ListedHousehold) -> tuple[int | None, list[tuple]]:
        """The year the file says the household exited (a note in its stage cell, 已脱贫（2017年）,
        2017年已脱贫, or its exit-year column), and what is wrong with it, each (line, column, problem):
        a year not read as one, one before 2013 or after this year, two that differ, or a year given
        for a household that does not start exited (or consolidated)."""
        said = [("stage", text) for text in noted_years(h.stage)] if h.stage else []
        said += [("exit_year", h.exit_year.strip())] if h.exit_year and h.exit_year.strip() else []
        line, found, years = h.first_line, [], {}
        for column, text in said:
            year, latest = year_of(text), self.latest_exit_year
            if year is None:
                found.append((line, column, BadInput("import.bad_exit_year", value=text)))
            elif not FIRST_EXIT_YEAR <= year <= latest:
                found.append((line, column, BadInput("import.exit_year_out_of_range", year=year, first=FIRST_EXIT_YEAR,
                                                      last=latest)))
            elif years and year not in years:
                found.append((line, column, BadInput("import.exit_years_differ", first=next(iter(years)), second=year)))
            else:
                years.setdefault(year, column)
        if not years or found:
            return None, found
        (year, column), = years.items()
        stage = self._stage(h.stage) if h.stage else self.workflow.initial
        if stage is not None and stage not in EXITED_STAGES:      # an unknown stage is told as such already
            return None, [(line, column, BadInput("import.exit_year_not_exited", year=year, stage=stage))]
        return year, []

    def _stages(self) -> tuple[str, ...]:
        return tuple(s for s in self.workflow.stages if s != "removed")

    def _stage(self, value: str) -> str | None:
        """The stage a household may start in, by its code or label (None: no such stage, or removed)."""
        stage = self._named(value)
        return None if stage == "removed" else stage

    def removed(self, h: ListedHousehold) -> bool:
        """The file says the household was removed (已剔除/销户: an export of a registry holds them)."""
        return h.stage is not None and self._named(h.stage) == "removed"

    def rejected(self, h: ListedHousehold) -> bool:
        """The file says the household's identification was rejected (未通过识别): it applies anew."""
        value = (h.stage or "").strip().lower()
        self._named(value)                  # the labels made
        return value in self.rejected_labels

    def _named(self, value: str) -> str | None:
        value = value.strip()
        if stage_word(value) in STAGE_WORDS:        # the national system's words (household_codes)
            return STAGE_WORDS[stage_word(value)]
        if self.stage_labels is None:       # made once: a registry's every household may give its stage
            self.stage_labels = {}
            for s in self.workflow.stages:
                for lang in ("zh", "en"):
                    label = self.app.config.label(f"stage.{s}", lang).lower()
                    self.stage_labels[label] = self.stage_labels[_BRACKETED.sub("", label).strip()] = s   # 巩固期 too
            self.stage_labels[NOT_IDENTIFIED] = APPLYING   # an export's rejected applicant (未通过识别): applies anew
            self.rejected_labels = {NOT_IDENTIFIED}
            for lang in ("zh", "en"):
                label = self.app.config.label(f"stage.{NOT_IDENTIFIED}", lang).lower()
                self.stage_labels[label] = self.stage_labels[_BRACKETED.sub("", label).strip()] = APPLYING
                self.rejected_labels |= {label, _BRACKETED.sub("", label).strip()}
        found = value if value in self.workflow.stages else self.stage_labels.get(value.lower())
        if found is None and noted_years(value):        # a stage or its label with its exit year: 巩固期（2017年）
            found = self._named(stage_word(value))
        return found

    def _place(self, h: ListedHousehold, bad: set) -> None:
        """The village exists, is a village, and the importer may register there (and start cases in a
        later stage there, if the file says so). A village given by its name becomes its code here."""
        if not h.key or any(column == "village" for _line, column, _e in h.cell_problems):
            self.misplaced.add(id(h))        # a village code the file lost (3.6073E+11): told as such; rows
                                             # naming no household: told so (_household_problems)
            bad.add(id(h))
            return
        given = h.village
        if h.village and not _is_code(h.village.strip()):
            named = self._named_village(h.village, h.township)
            if isinstance(named, JingzhunError):
                self.problem(h, h.first_line, "village", named, bad)
                self.misplaced.add(id(h))
                return
            h.village = named
        if h.chosen and h.village.strip() != h.chosen:      # the file's column names another village
            self.problem(h, h.first_line, "village", BadInput("import.not_chosen_village", value=given.strip(),
                                                              village=self._names().place(h.chosen)), bad)
            self.misplaced.add(id(h))
            return
        later = self._starts_later(h)
        refused = self._place_role(h.village, later)
        if not isinstance(refused, JingzhunError):
            self._names_agree(h, bad)
            return
        at_all = self._place_role(h.village, False) if later else refused
        if later and isinstance(refused, AuthError) and not isinstance(at_all, JingzhunError):
            # a later stage refused in a village within reach: said of the stage, unless the household is
            # registered already (its stage is then compared with its case's: a village's own export
            # uploaded again), told in `checked`
            self.stage_refused[id(h)] = self._stage_not_yours(h, refused)
            self._names_agree(h, bad)
            return
        # a village beyond reach (or none such) is said of the village, whatever stage the file gives
        self.problem(h, h.first_line, "village", at_all if isinstance(at_all, JingzhunError) else refused, bad)
        self.misplaced.add(id(h))

    def _stage_not_yours(self, h: ListedHousehold, refused: AuthError) -> AuthError:
        """A later stage refused in a village within reach, told on the stage's cell (its line and
        the column as the file names it, 户状态 or 阶段) with the word the file gives and the village
        by its name: who may start a household there, and that a village's start as applicants."""
        if refused.code != "auth.wrong_role":
            return refused
        return AuthError("import.stage_not_yours", value=(h.stage or "").strip(), roles=refused.params["roles"],
                         person=refused.params["person"], place=self._names().place(h.village), region=h.village)

    def _named_village(self, name: str, township: str | None) -> "str | JingzhunError":
        """A village's code by its name (and township), each name looked up once."""
        key = (name, township or "")
        if key not in self.village_names:
            self.village_names[key] = self._names().code(name, township)
        return self.village_names[key]

    def _names(self) -> VillageNames:
        if self.names is None:
            self.names = VillageNames(self.uow.conn, self.actor)
        return self.names

    def _names_agree(self, h: ListedHousehold, bad: set) -> None:
        """The village's name beside its code (the national system's 行政村) on each row names the
        village of the code: a row whose name is another's is told on its line, the village named."""
        for line, name in h.village_names:
            key = (h.village, name)
            if key not in self.name_agrees:
                self.name_agrees[key] = self._names().names_it(h.village, name)
            if not self.name_agrees[key]:       # a row with no code of its own: the code is its household's
                self.problem(h, line, "village_name", BadInput(
                    "import.village_name_other_rows" if line in h.code_elsewhere else "import.village_name_other",
                    name=name, code=h.village, place=self._names().place(h.village)), bad)
        if h.township and h.township.strip():         # the township beside the code: the code's township
            key = (h.village, "\0" + h.township)
            if key not in self.name_agrees:
                self.name_agrees[key] = self._names().township_has(h.village, h.township)
            if not self.name_agrees[key]:
                self.problem(h, h.first_line, "township", BadInput(
                    "import.township_other", name=h.township.strip(), code=h.village,
                    place=self._names().place(h.village)), bad)

    def _place_role(self, village: str, later: bool) -> JingzhunError | str:
        if (village, later) not in self.villages:
            self.villages[village, later] = self._village_role(village, later)
        return self.villages[village, later]

    def _starts_later(self, h: ListedHousehold) -> bool:
        stage = self._stage(h.stage) if h.stage else None
        return stage is not None and stage != self.workflow.initial

    def _village_role(self, village: str, later: bool) -> JingzhunError | str:
        if not village:
            return BadInput("import.no_village")
        if not (len(village) == 12 and village.isascii() and village.isdigit()) or level_of(village) != "village":
            return BadInput("household.not_village", region=village)
        if self.uow.conn.execute(select(t.regions.c.code).where(t.regions.c.code == village)).first() is None:
            return BadInput("region.unknown", code=village)
        try:
            roles = MIGRATION_ROLES if later else IMPORT_ROLES
            assignment = require_role(self.app, self.actor, roles, village,
                                      "household import --stage" if later else "household import")
        except AuthError as exc:
            return exc
        self.role = self.role or assignment.role
        self.region = self.region or assignment.region_code
        return assignment.role

    def _ids(self, batch: list[ListedHousehold], bad: set) -> None:
        """ID numbers given twice in the batch, or registered already (earlier in this file included:
        its households are in the database by now, in this transaction).

        The households refused already (a bad row) are left out of the good ones' judgement, as if
        they were not in the file: what is written does not depend on them, nor on where they stand.
        Their sound members are checked too, and what those collide with is told on their own lines,
        so that the cadre hears every problem in one run. A household outside the importer's reach is
        not looked into at all."""
        refused = set(bad)                            # a bad row or place, before this check
        seen: dict[str, int] = {}                     # number -> its first line in the batch
        good_first: dict[str, int] = {}               # number -> its first line in a household not refused
        waiting: dict[str, list] = defaultdict(list)  # number -> refused households' lines, if a good one gives it
        where: dict[str, tuple] = {}                  # number -> where "registered already" is told
        for h in batch:
            if id(h) in self.misplaced:
                continue
            for line, r in self.sound[id(h)]:
                number = r["id_number"]
                if id(h) in refused:
                    if number in seen:
                        self.problem(h, line, "id_number", BadInput("import.same_id", line=seen[number]), bad)
                    else:
                        waiting[number].append((h, line))
                    where.setdefault(number, (h, line))
                elif number in good_first:
                    self.problem(h, line, "id_number", BadInput("import.same_id", line=good_first[number]), bad)
                else:
                    good_first[number] = line
                    for other, other_line in waiting.pop(number, ()):
                        self.problem(other, other_line, "id_number", BadInput("import.same_id", line=line), bad)
                    where[number] = (h, line)
                seen.setdefault(number, line)
        registered = dict(registered_ids(self.uow.conn, where))
        self._compare_registered(batch, bad, registered)
        for number, case_id in registered.items():
            h, line = where[number]
            if id(h) not in self.compared:
                self.problem(h, line, "id_number", self._taken("id", case_id, number), bad)

    # --- households registered already ------------------------------------------------------------
    def _compare_registered(self, batch: list[ListedHousehold], bad: set, registered: dict[str, int]) -> None:
        """A village's list kept and uploaded again, new households added: a household with nothing
        wrong so far whose head is registered in a case registered before this import, and whose other
        registered members are too, is compared with that case, not refused member by member. Just as
        registered (its members, and what the file's columns say of them and of the household): passed
        over, counted as unchanged. Otherwise each difference is a problem on its line and column (the
        case is changed in the case, not by a list). The households compared go to `self.compared`, with their case.
        A case outside the importer's jurisdiction is never compared: each member is told registered already."""
        candidates: dict[int, tuple[ListedHousehold, int]] = {}
        repeated: dict[int, tuple[ListedHousehold, int]] = {}
        refused: dict[int, tuple[ListedHousehold, int]] = {}     # registered, refused for a cell of its own
        for h in batch if registered else ():
            cases = {registered[r["id_number"]] for _line, r in self.sound[id(h)] if r["id_number"] in registered}
            if cases:
                self.with_registered.add(id(h))
            if (case := self._headless(h, cases, registered)) is not None:
                candidates[id(h)] = (h, case)
                continue
            if id(h) in bad or id(h) in self.misplaced:
                # a registered household whose row has a bad cell (a list checked again, one column spoilt):
                # told that cell, not each of its members and its code as registered already
                if id(h) not in self.misplaced and len(cases) == 1 and \
                        not self._in_this_file(case := next(iter(cases))) and self._all_registered_in(h, case, registered):
                    refused[id(h)] = (h, case)
                continue
            if len(cases) == 1 and self._in_this_file(case := next(iter(cases))) and \
                    self._all_registered_in(h, case, registered):
                repeated[id(h)] = (h, case)       # a household listed again far from its first listing
                continue
            head = next((r["id_number"] for _line, r in self.sound[id(h)] if r["relation"] == "head"), None)
            # the same household: its head is registered, and every member registered is, in one case
            if len(cases) == 1 and registered.get(head) in cases and not self._in_this_file(registered[head]):
                candidates[id(h)] = (h, registered[head])
        if not candidates and not repeated and not refused:
            self.compared = {}
            return
        cases, members = registered_cases(self.uow.conn, {case for _h, case in [*candidates.values(),
                                                                                 *repeated.values(), *refused.values()]})
        # a repeat under the 户编号 it was written with (under another, told as each ID number again)
        repeated = {i: (h, case) for i, (h, case) in repeated.items() if h.code == cases[case].external_code}
        self.compared = {i: case for i, (_h, case) in [*candidates.items(), *repeated.items()]}
        for h, case in repeated.values():
            self._listed_twice(h, self.case_lines[bisect_left(self.case_ids, case)], bad)
        reach = [a.region_code for a in self.actor.assignments]
        for h, case in refused.values():     # within reach, and the same household as its case's code says
            if any(covers(region, cases[case].region_code) for region in reach) and h.code == cases[case].external_code:
                self.compared[id(h)] = case
        for h, case in candidates.values():
            if not any(covers(region, cases[case].region_code) for region in reach):
                del self.compared[id(h)]     # a case outside the importer's jurisdiction: nothing of it is
                continue                     # told (its members, its fields), only that each ID is registered
            if id(h) in self.heads:          # listed without its head (_headless), unless it is another household
                code = cases[case].external_code
                if h.code and code and h.code != code:
                    del self.compared[id(h)]
                    continue
                del self.heads[id(h)]
                self.problem(h, h.first_line, _grouping(h), BadInput("import.head_not_listed", case=case), bad)
                continue
            if not _same_household(h, cases[case], members.get(case, {}), self.sound[id(h)]):
                del self.compared[id(h)]     # another household whose head's ID number is registered there:
                continue                     # each registered member told as such, the case left alone
            if self._listed_before(case):        # another household of the file is this case already
                self.problem(h, h.first_line, _grouping(h), BadInput("import.same_household", case=case), bad)
                continue
            found = self._differences(h, cases[case], members.get(case, {}))
            for line, column, error in found:
                self.problem(h, line, column, error, bad)
            if not found:
                self.unchanged.add(id(h))

    def _headless(self, h: ListedHousehold, cases: set[int], registered: dict[str, int]) -> int | None:
        """The case a household listed with no head is, when every member of it is registered in that
        one case (a village's list kept and uploaded again, the head's row deleted), to be told so
        (_compare_registered) rather than each member and its code as registered already; or None."""
        exc = self.heads.get(id(h), (None,) * 4)[3]
        if exc is None or exc.params.get("count") or len(cases) != 1 or id(h) in self.misplaced:
            return None
        case = next(iter(cases))
        if self._in_this_file(case) or len(self.sound[id(h)]) != len(h.members) or \
                not self._all_registered_in(h, case, registered):
            return None
        return case

    def _all_registered_in(self, h: ListedHousehold, case: int, registered: dict[str, int]) -> bool:
        """Every member of the household whose row is sound is registered in `case`."""
        return all(registered.get(r["id_number"]) == case for _line, r in self.sound[id(h)])

    def _listed_before(self, case_id: int) -> bool:
        """Whether the registered case was compared already in this file (one bit a case: flat memory)."""
        byte, bit = divmod(case_id, 8)
        if byte >= len(self.compared_cases):
            self.compared_cases.extend(bytes(byte + 1 - len(self.compared_cases)))
        seen = self.compared_cases[byte] >> bit & 1
        self.compared_cases[byte] |= 1 << bit
        return bool(seen)

    def _in_this_file(self, case_id: int) -> bool:
        i = bisect_left(self.case_ids, case_id)
        return i < len(self.case_ids) and self.case_ids[i] == case_id

    def _differences(self, h: ListedHousehold, case, members: dict) -> list[tuple]:
        """Where the household differs from its registered case: (line, column, problem) each. A
        blank cell says nothing (a list without phones does not clear them); what a list cannot
        change (village, code, stage, causes, type) is told apart from what the case's page changes."""
        differs = BadInput("import.differs_registered", case=case.id)
        fixed = BadInput("import.differs_fixed", case=case.id)
        found = []
        attrs = case.attrs or {}
        raw = [r for _line, r in h.rows] or [{} for _m in h.members]      # the cells as the file gives them
        said = lambda column: any((r.get(column) or "").strip() for r in raw) or not h.rows  # noqa: E731
        for column, given, registered in (
                ("village", h.village, case.region_code),
                ("household_code", h.code, case.external_code),
                ("stage", h.stage and self._stages_said(h.stage), {case.stage}),
                ("causes", set(cause_codes(h.causes)), set(attrs.get("causes") or ())),
                ("household_type", "household_type" in h.given and said("household_type")
                 and household_type_code(h.household_type), attrs.get("household_type"))):
            if given and (not given & registered if column == "stage" else given != registered):
                found.append((h.first_line, column, fixed))
        # the year it exited, by its column or its stage cell's note, against the case's own (its exit
        # procedure's, or the year noted when it was imported)
        year, said = self._exit_year(h)[0], "exit_year" if (h.exit_year or "").strip() else "stage"
        if year is not None and known_exit_year(attrs) is None and case.stage in EXITED_STAGES:
            # the year the case lacks (imported exited without one): noted, by those who may
            refused = self._place_role(case.region_code, True)
            if isinstance(refused, JingzhunError):
                found.append((h.first_line, said, BadInput("import.exit_year_by_office", case=case.id, year=year)))
            else:
                self.to_note[id(h)] = (case.id, year)
        elif year is not None and year != known_exit_year(attrs) and (h.first_line, said, fixed) not in found:
            found.append((h.first_line, said, fixed))
        compared = [k for k in MEMBER_COMPARED if k in h.given]
        listed = set()
        for (line, row), cells in zip(self.sound[id(h)], raw):
            listed.add(row["id_number"])
            stored = members.get(row["id_number"])
            if stored is None:
                reason = self._left_reason(case.id, row["id_number"])
                found.append((line, "id_number", BadInput("import.not_in_registered", case=case.id) if reason is None
                              else BadInput("import.left_registered", case=case.id, reason=reason)))
                continue
            for k in compared:
                if ((cells.get(k) or "").strip() or not h.rows) and not _same(k, row[k], getattr(stored, k)):
                    found.append((line, k, differs))
        for line, cells in h.left:        # 在户 says they left, but the case still has them in the household
            number = compact_id(cells.get("id_number") or "")
            if number in members:
                listed.add(number)
                found.append((line, "active", BadInput("import.left_still_registered", case=case.id,
                                                       value=(cells.get("active") or "").strip())))
        if missing := len(set(members) - listed):
            found.append((h.first_line, _grouping(h), BadInput("import.missing_registered", case=case.id, count=missing)))
        return found

    def _left_reason(self, case_id: int, number: str) -> str | None:
        """Why a member of the case with this ID number left it (as recorded), or None if none did."""
        m = t.household_members.c
        found = self.uow.conn.execute(select(m.left_reason).where(
            m.case_id == case_id, m.id_number == number, m.active.is_(False)).order_by(m.id.desc()).limit(1)).first()
        return None if found is None else (found.left_reason or "-")

    def _stages_said(self, value: str) -> set[str] | None:
        """The stages a stage cell may mean: the national system's 未脱贫 / 已脱贫 cover several."""
        return set(STAGE_WORDS_COVER[stage_word(value)]) if stage_word(value) in STAGE_WORDS_COVER else \
            ({stage} if (stage := self._stage(value)) else None)

    def _codes(self, batch: list[ListedHousehold], bad: set) -> None:
        """Household codes given twice in the batch or registered already."""
        first: dict[str, ListedHousehold] = {}
        for h in batch:
            if any(column == "household_code" for _line, column, _e in h.cell_problems):
                continue                 # a code the file lost (3.6073E+17): told as such, not as a duplicate
            if h.code and h.code in first:
                other = first[h.code]
                # the same 户编号 in a file that groups its rows by another column (an export's 案件编号):
                # told as that column left blank (the key fell back to the code) or different, not as
                # rows to sort (they may be sorted)
                said = "import.same_code" if "household" not in h.given or h.key == other.key else \
                    "import.same_code_blank_group" if h.key in ("", h.code) else "import.same_code_other_group"
                if h.village != other.village:       # two villages' households: no sorting joins them
                    said = "import.same_code_other_village"
                self.problem(h, h.first_line, "household_code", BadInput(said, line=other.first_line,
                                                                         village=h.village, other=other.village), bad)
                self.code_refused.add(id(h))
            elif h.code:
                first[h.code] = h
        for code, case_id in list(lookup(self.uow.conn, t.cases.c.external_code, t.cases.c.id, first,
                                         t.cases.c.kind == "household")):
            h = first[code]
            if id(h) not in self.compared:      # compared with its case, its code with it
                self.problem(h, h.first_line, "household_code", self._taken("code", case_id, code), bad)
                self.code_refused.add(id(h))

    def _taken(self, what: str, case_id: int, value: str) -> JingzhunError:
        """Registered already: earlier in this file (named by its line), or in an existing case."""
        if self._in_this_file(case_id):     # a household of an earlier batch: its first line (its members' own
            # lines are not kept, memory staying flat; the number is one of that household's rows)
            return BadInput(f"import.same_{what}" if what == "code" else "import.same_id_household",
                            line=self.case_lines[bisect_left(self.case_ids, case_id)])
        refusal = already_registered(self.uow.conn, self.actor, value, case_id, self.case_regions)
        if what == "code":         # the case named only to a reader whose jurisdiction holds it
            return RuleViolation("import.code_registered", code=value, case=case_id) \
                if refusal.code == "member.already_registered" else RuleViolation("import.code_elsewhere", code=value)
        return refusal

    # --- writing ------------------------------------------------------------------------------
    def write(self, checked: list[tuple[ListedHousehold, list[dict]]]) -> None:
        """The batch's good households: cases, members and first events, one statement per table."""
        if not checked:
            return
        good, rows = [h for h, _r in checked], [[own_county_code(m, h.village) for m in r] for h, r in checked]
        ids = next_ids(self.uow.conn, t.cases, len(good))
        cases = [self._case(case_id, h, r) for case_id, h, r in zip(ids, good, rows)]
        self.uow.open_cases(self.actor, [self._event(h, c, r) for h, c, r in zip(good, cases, rows)],
                            lambda events: self._insert(cases, events, ids, rows), self.now)
        self.result.unpaired += sum(1 for h, c in zip(good, cases)
                                    if c["stage"] in PAIRED_STAGES and self.pairings.of(h) is None)
        self.result.paired += self.pairings.write(list(zip(good, ids)))
        self._count(good, cases, ids, rows)
        for h, case_id in zip(good, ids):
            self.on_written(h, case_id)

    def note_exit_years(self, source: dict) -> None:
        """The batch's registered households given the exit year their case lacks: noted on each case,
        one audit event each, its reason naming the file (workflows/exit_year.py)."""
        if not self.to_note:
            return
        cases = load_cases(self.uow.conn, sorted(case for case, _year in self.to_note.values()))
        reason = stored(Msg("exit_year_reason.list", {"file": source["file"]}))
        for case_id, year in self.to_note.values():
            write_exit_year(self.app, self.uow.conn, self.actor, cases[case_id], year,
                            self._place_role(cases[case_id].region_code, True), reason, sha256=source.get("sha256"))
            self.result.noted_exit_years[str(year)] = self.result.noted_exit_years.get(str(year), 0) + 1
        self.to_note = {}

    def _insert(self, cases: list[dict], events: list[dict], ids: list[int], rows: list[list[dict]]) -> None:
        """The cases as their first events leave them, then their members."""
        insert_rows(self.uow.conn, t.cases, CASE_COLUMNS,
                    [_CASE_VALUES({**c, **opened(e)}) for c, e in zip(cases, events)])
        insert_rows(self.uow.conn, t.household_members, MEMBER_COLUMNS,
                    [(case_id, *_MEMBER_VALUES(m)) for case_id, members in zip(ids, rows) for m in members])

    def _case(self, case_id: int, h: ListedHousehold, members: list[dict]) -> dict:
        stage = self._stage(h.stage) if h.stage else self.workflow.initial
        pending = pending_for_stage(self.workflow, stage)
        head = next(r for r in members if r["relation"] == "head")
        attrs = {"causes": cause_codes(h.causes), "household_type": household_type_code(h.household_type)}
        if (exit_year := self._exit_year(h)[0]) is not None:
            attrs[IMPORTED_YEAR] = exit_year
        if (planned := self._planned_exit_year(h)[0]) is not None:     # its exit due from that year
            attrs[PLANNED_EXIT_YEAR] = planned
        return {"id": case_id, "kind": "household", "region_code": h.village, "title": head["name"], "stage": stage, "version": 1,
                "workflow_version": self.workflow.version, "external_code": h.code, "attrs": attrs,
                "created_at": self.now, "updated_at": self.now, "event_count": 0, "last_event_hash": None,
                "open_procedure_id": None, "pending_procedure": pending[0], "pending_step": pending[1],
                # exited in a year the file notes: its transition period reckoned from that year (过渡期)
                "transition_until": transition_end(stage, attrs, period_years(self.app.config.policy,
                                                                              province_of(h.village)))}

    def _event(self, h: ListedHousehold, case: dict, members: list[dict]) -> CaseEvent:
        row = CaseRow(case["id"], "household", h.village, case["title"], case["stage"], 1, case["attrs"], 0, None)
        detail = {"members": len(members), "members_digest": members_digest(members),
                  "causes": case["attrs"]["causes"],
                  "household_type": case["attrs"]["household_type"], "imported": True,
                  "attrs_digest": attrs_digest(case["attrs"])}
        if h.code:
            detail["household_code"] = h.code
        if (cadre := self.pairings.of(h)) is not None:       # its first pairing cadre, from the import's day
            detail["pairing"], detail["pairing_from"] = {"first": cadre[1]}, self.today.isoformat()
        event = {"action": "case_registered", "role": None, "detail": detail}
        if case["stage"] != self.workflow.initial:
            # to_stage (hash-covered) is what audit verify and a case's trace project the stage from
            detail["stage_from_file"] = event["to_stage"] = case["stage"]
        if IMPORTED_YEAR in case["attrs"]:       # the year it exited, as the file noted it
            detail["exit_year"] = case["attrs"][IMPORTED_YEAR]
        if PLANNED_EXIT_YEAR in case["attrs"]:
            detail["planned_exit_year"] = case["attrs"][PLANNED_EXIT_YEAR]
        issues = {i: r["id_check"] for i, r in enumerate(members, start=1) if r["id_check"]}
        if issues:
            detail["ids_to_confirm"] = list(issues)
        if confirmed := [i for i, r in enumerate(members, start=1) if r.get("id_confirmed_in_file")]:
            detail["ids_confirmed_in_file"] = confirmed
        for i, issue in issues.items():
            member = members[i - 1]
            self.on_warning(h.members[i - 1][0], "id_number", BadInput(
                ID_WARNINGS[issue],
                code=member["id_number"][:6]),
                {"household": h.code or h.key, "name": member["name"], "id_number": member["id_number"]})
        today = self.app.clock.today()
        for i, member in enumerate(members):
            whom = {"household": h.code or h.key, "name": member["name"], "id_number": member["id_number"]}
            if LOST_CHARACTER.search(member["name"]):      # a rare character lost converting GBK: 张?华
                self.on_warning(h.members[i][0], "name", BadInput("import.name_lost_character"), whom)
            for column, warning in _age_warnings(member, today, self.school_ages(h.village)):
                self.on_warning(h.members[i][0], column, warning, whom)
            said = str(getattr(h.members[i][1], "relation", "") or "").strip()
            if member.get("relation") == "other" and said not in OTHER_WORDS:   # 之岳母, 女婿: no code of theirs
                self.on_warning(h.members[i][0], "relation", BadInput("import.relation_as_other", word=said), whom)
        event["role"] = self.villages[(h.village, self._starts_later(h))]
        return CaseEvent(row, event)

    def _count(self, good: list[ListedHousehold], cases: list[dict], ids: list[int], rows: list) -> None:
        result = self.result
        self.case_ids.extend(ids)
        self.case_lines.extend(h.first_line for h in good)
        result.households += len(ids)
        result.members += sum(len(r) for r in rows)
        result.ids_confirmed_in_file += sum(1 for r in rows for m in r if m.get("id_confirmed_in_file"))
        result.ids_own_county += sum(1 for r in rows for m in r if m.get("id_own_county"))
        for given in ("labour_by_age", "health_by_default", "school_not_recorded"):
            setattr(result, given, getattr(result, given) + sum(1 for r in rows for m in r if m.get(given)))
        self.written.update(h.village for h in good)
        result.rejected_applying += sum(1 for h in good if h.stage and self.rejected(h))
        for c in cases:
            result.stages[c["stage"]] = result.stages.get(c["stage"], 0) + 1
            if c["stage"] in EXITED_STAGES and IMPORTED_YEAR in c["attrs"]:
                year = str(c["attrs"][IMPORTED_YEAR])
                result.exit_years[year] = result.exit_years.get(year, 0) + 1
            elif c["stage"] in EXITED_STAGES:
                result.no_exit_year += 1
        result.first_case = result.first_case or ids[0]
        result.last_case = ids[-1]

