"""The exit year of a household that came in exited (DOMAIN §8), noted after it was imported.

A registry moved in from another system may give a household as exited without the year it exited
(the national system's export lost the note, or a column was left out): such a household counts in no
year's exits and is drawn for no year's sample check (engine/reads/exits.py). A county or city office
(who may start a case exited at all: household_import.MIGRATION_ROLES) notes the year later, on the case
(`household exit-year`, the case page) or for a whole list at once (the registry uploaded again with the
year: household_import notes it where the case has none). A year noted wrongly is corrected the same
way, with its reason. A household that exited through the exit procedure has its procedure's year,
which nothing here changes. Each noting is one audit event with the year before and after. The
household's transition period is reckoned from the year noted (engine/domain/monitoring.py).
"""
from __future__ import annotations

from sqlalchemy import update

from engine.adapters import tables as t
from engine.adapters.app import App
from engine.adapters.repository import load_cases
from engine.domain.auth import Actor
from engine.domain.cases import CaseRow
from engine.domain.errors import BadInput, JingzhunError, RuleViolation, own_words
from engine.domain.exit_years import EXITED_STAGES, FIRST_EXIT_YEAR, IMPORTED_YEAR
from engine.domain.monitoring import period_years, transition_end
from engine.services.case_actions import append_case_event
from engine.services.org import require_role

from .household_codes import year_of

# Who may start a household in a later stage than the first (a registry moving in from another system,
# household_import) and note the year a household exited.
MIGRATION_ROLES = ("county_office_staff", "county_office_director", "city_office_staff")


def read_exit_year(app: App, value: str | int) -> int:
    """A year as a cadre writes it (2017, 2017年, ２０１７), between 2013 and this year, or refused."""
    year = value if isinstance(value, int) else year_of(str(value))
    if year is None:
        raise BadInput("exit_year.bad", value=str(value))
    latest = app.clock.today().year
    if not FIRST_EXIT_YEAR <= year <= latest:
        raise BadInput("exit_year.out_of_range", year=year, first=FIRST_EXIT_YEAR, last=latest)
    return year


def refusal_to_note(case: CaseRow, year: int) -> JingzhunError | None:
    """Why the year cannot be noted on this household, or None: it is not exited (or consolidated), it
    exited through the exit procedure (its year is that procedure's), or the year noted is this one
    already."""
    if case.stage not in EXITED_STAGES:
        return RuleViolation("exit_year.not_exited", case=case.id, stage=case.stage)
    if case.attrs.get("exited_on"):
        return RuleViolation("exit_year.by_procedure", case=case.id, year=str(case.attrs["exited_on"])[:4])
    if case.attrs.get(IMPORTED_YEAR) == year:
        return RuleViolation("exit_year.same", case=case.id, year=year)
    return None


def may_note(kind: str, stage: str, attrs: dict | None, holds) -> bool:
    """Whether a page offers to note the household's exit year: exited or consolidated, not through
    the exit procedure, to a reader who `holds` (a roles -> bool over the case's region) an office's role."""
    return kind == "household" and stage in EXITED_STAGES and not (attrs or {}).get("exited_on") \
        and holds(MIGRATION_ROLES)


def note_exit_year(app: App, actor: Actor, case_id: int, year: str | int, reason: str) -> tuple[int, int | None]:
    """Note (or correct) the year the household exited: the year noted, and the one before (None)."""
    own_words(reason, "exit_year.reason_required")
    year = read_exit_year(app, year)
    with app.transaction() as conn:
        case = load_cases(conn, [case_id])[case_id]
        if case.kind != "household":
            raise BadInput("household.not_household", case=case_id)
        assignment = require_role(app, actor, MIGRATION_ROLES, case.region_code, "household exit-year")
        if (refusal := refusal_to_note(case, year)) is not None:
            raise refusal
        before = write_exit_year(app, conn, actor, case, year, assignment.role, reason.strip())
    return year, before


def write_exit_year(app: App, conn, actor: Actor, case: CaseRow, year: int, role: str, reason: str,
                    **detail) -> int | None:
    """The year on the case and its audit event (the year before, if one was noted), in `conn`'s
    transaction; `detail`: what else the event says (the file a list came in). Returns the year before."""
    before = case.attrs.get(IMPORTED_YEAR)
    case.attrs[IMPORTED_YEAR] = year
    # its transition period (过渡期) is reckoned from the year: in the lists and figures from now on
    until = transition_end(case.stage, case.attrs, period_years(app.config.policy, case.province))
    conn.execute(update(t.cases).where(t.cases.c.id == case.id).values(attrs=case.attrs, transition_until=until))
    append_case_event(app, conn, actor, case, "exit_year_noted", role, reason=reason, year=year, before=before,
                      **detail)
    return before
