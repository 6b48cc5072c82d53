"""Household and village cases: register, members, relatives, visits, the work team; coverage figures."""
from __future__ import annotations

import os
import re
from collections import Counter
from contextlib import contextmanager
from typing import Iterator

import click

from engine.domain.errors import BadInput, Codes

from . import parsing
from .context import Ctx, cli_text, pass_ctx
from .options import BesideOption, case_arg, csv_file, date_option, json_option, member_change
from .printing import dash, emit, err, say, tsv, visible
from .sheet_rows import not_read


@click.group()
def household():
    """Household cases (贫困户): register, members' relatives, visits."""


@household.command("add")
@click.option("--village", required=True, help="12-digit village code.")
@click.option("--member", "members", multiple=True, required=True, callback=parsing.callback(parsing.member),
              help="NAME,ID[,RELATION,LABOUR,HEALTH,SCHOOL,BASIC,CRITICAL,PHONE,BANK]; the head first. Repeatable. "
                   "An empty field takes its default; BASIC and CRITICAL (insured: 是/否) left out are not recorded, "
                   "and the exit standard asks for them.")
@click.option("--cause", "causes", multiple=True, required=True, help="Cause of poverty (code or 因病…).")
@click.option("--type", "household_type", default="general", show_default=True)
@pass_ctx
def household_add(ctx: Ctx, village, members, causes, household_type):
    """Register a household (stage: applicant); prints its case number."""
    from workflows.household import HouseholdInput, register_households
    warnings: list = []
    case_id = register_households(ctx.app(), ctx.actor(), village, [HouseholdInput(list(members), causes,
                                                                                   household_type)], warnings)[0]
    say(ctx.text("case_registered", case=case_id))
    _warn(ctx, warnings)
    click.echo(case_id)


def _warn(ctx: Ctx, warnings: list) -> None:
    """What the cadre should confirm, on stderr (the case was registered all the same)."""
    from engine.domain.errors import render_text
    for w in warnings:
        err.print(render_text(ctx.config, w.key, w.params, ctx.lang) or w.key)


@household.command("import")
@csv_file
@click.option("--village", help="12-digit village code, for a file without a village column (村编码).")
@click.option("--skip-bad", "skip_bad", type=click.Path(dir_okay=False),
              help="Import the households whose rows are all good; write the others' rows with their "
                   "reasons to this file: a CSV, or a workbook when it ends in .xlsx (keeps ID numbers whole in Excel).")
@click.option("--to-confirm", "to_confirm", type=click.Path(dir_okay=False), cls=BesideOption, beside="file",
              suffix="to-confirm.xlsx",
              help="Where to write what to confirm (ID numbers whose county code did not exist in the year of "
                   "birth…) when there are more than 20 to list; default: beside FILE, as NAME.to-confirm.xlsx "
                   "(a workbook keeps ID numbers whole in Excel; a name ending in .csv writes a CSV).")
@pass_ctx
def household_import(ctx: Ctx, file, village, skip_bad, to_confirm):
    """Register a county's or a village's households from one CSV or Excel file, all or none.

    Columns, by these keys or the national system's Chinese headers (户编号, 姓名, 身份证号, 与户主关系,
    劳动能力, 健康状况, 在校生状况, 联系电话, 银行账号, 致贫原因, 贫困户属性, 村编码, 户状态…):
    household_code (户编号, kept: unique) or household (a key grouping members; a household's rows
    next to each other), village, name, id_number, relation, labour_ability, health,
    school_enrolment, insured_basic, insured_critical, phone, bank_account (optional; never shown on
    a notice), causes (on any row of the household, separated by ;), household_type, stage (a
    registry moving from another system: the stage its cases start in; county or city office only;
    a household removed, 已剔除/销户, is not imported),
    active (在户: a member no longer in the household, 否, is not imported). A file of `export members`
    imports as it is, in either language (its 案件编号 groups a household's rows). A village's list
    uploaded again with households added imports those: a household registered already just as the
    file gives it is passed over (and counted); one that differs from its case is a bad row. Every bad
    row is reported at once; the file is read as it streams, whatever its size.
    """
    from workflows.household_import import import_households
    from .bad_rows import BadRows
    from .rows import Sheet
    actor = ctx.actor()                           # who asks, before anything about the registry is told
    source = {"file": os.path.basename(file), "sha256": parsing.file_sha256(file)}
    left_out = Counter()
    with Sheet(file, ["name", "id_number", "relation"], import_headers(ctx)) as sheet, \
            BadRows(ctx, sheet.headers, sheet.columns, skip_bad, to_confirm) as bad, \
            _progress(ctx, sheet) as advance:
        _grouping_column(sheet, village)
        not_read(ctx, "import.ignored_columns", sheet.ignored)
        shown: list = []
        try:
            result = import_households(
                ctx.app(), actor, listed_households(sheet, village, left_out), keep_good=bool(skip_bad), source=source,
                on_problem=bad.problem, on_warning=bad.warning, on_skipped=lambda h: bad.skipped(h.rows),
                on_written=lambda h, case: len(shown) <= SHOWN and shown.append((h.key, case)), on_batch=advance)
        except BadInput as refused:
            if refused.code == "import.no_rows" and left_out["members"]:     # rows there were: all members who left
                raise BadInput("import.only_left", file=source["file"], members=left_out["members"]) from None
            raise
        bad.keep()
    _imported(ctx, result, shown, skip_bad, source["file"])
    if left_out["members"]:
        err.print(visible(ctx.text("import.left_out", count=left_out["members"])))
    not_read(ctx, "import.sheets_passed_over", sheet.passed_over)
    bad.tell_warnings()


CAUSE_SEPARATORS = re.compile("[;；、,，]")
# The columns `export members` writes that `household import` reads, known by the export's headers in
# either language: a registry exported here imports again as it is.
EXPORTED = ("village", "household_code", "stage", "name", "id_number", "relation", "labour_ability", "health",
            "school_enrolment", "insured_basic", "insured_critical", "phone", "bank_account", "causes",
            "household_type", "active")


def import_headers(ctx: Ctx) -> dict[str, str]:
    """The household list's headers we read, as our keys: the national system's Chinese names, and an
    export's headers in zh and en (its case number a key grouping the household's rows)."""
    from workflows.household_codes import HOUSEHOLD_HEADERS
    aliases = dict(HOUSEHOLD_HEADERS)
    for lang in ("zh", "en"):
        aliases.setdefault(ctx.config.label("field.case_id", lang), "household")
        for told in ("line", "reason"):      # a file of bad rows (--skip-bad), corrected: its own columns
            aliases.setdefault(cli_text(f"cli.import.{told}", lang, ctx.config), f"skipped_{told}")
        for key in EXPORTED:
            aliases.setdefault(ctx.config.label(f"field.{key}", lang), key)
    return aliases


HOUSEHOLD_WIDE = ("village", "stage", "household_type")
SHOWN = 100         # households listed one by one (a village's list); a larger file gets its summary


def _grouping_column(sheet, village: str | None) -> None:
    if village and "village" in sheet.columns:     # which one would hold? neither, silently
        raise BadInput("import.village_twice", file=sheet.file, header=sheet.headers[sheet.columns.index("village")])
    missing = [c for c, ok in (("household", {"household", "household_code"} & set(sheet.columns)),
                               ("village", village or "village" in sheet.columns)) if not ok]
    if missing == ["village"]:
        raise BadInput("import.no_village_column", file=sheet.file)
    if missing:
        raise BadInput("csv.columns", file=sheet.file, missing=Codes("field", tuple(missing)))


def _imported(ctx: Ctx, result, shown: list, skip_bad: str | None, file: str) -> None:
    if not result.households:       # all registered as the file gives them (anything else is refused)
        say(ctx.text("import.all_registered", file=file, households=result.unchanged, members=result.rows))
        if result.removed:
            err.print(visible(ctx.text("import.removed_left_out", count=result.removed)))
        return
    if len(shown) <= SHOWN:
        for key, case_id in shown:
            say(ctx.text("household_imported", key=key, case=case_id))
    say(ctx.text("import.done" if result.first_case != result.last_case else "import.done_one",
                 households=result.households, members=result.members, first=result.first_case, last=result.last_case))
    for stage, count in result.stages.items():
        if stage != "candidate":
            say(ctx.text("import.started_in", count=count, stage=ctx.code_label("stage", stage)))
    if result.unchanged:
        say(ctx.text("import.unchanged", households=result.unchanged))
    if skip_bad and result.skipped:
        say(ctx.text("import.skipped", households=result.skipped, file=skip_bad))
    if result.removed:
        err.print(visible(ctx.text("import.removed_left_out", count=result.removed)))


@contextmanager
def _progress(ctx: Ctx, sheet):
    """A progress bar over the file's bytes on a terminal (stderr), or on the client's for a command
    run on the server; nothing otherwise."""
    from .printing import err
    text = ctx.text("import.progress", file=os.path.basename(sheet.file))
    if ctx.progress is not None:
        yield lambda rows: ctx.progress(text, sheet.position(), sheet.size)
        return
    if not err.is_terminal:
        yield lambda rows: None
        return
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn
    with Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeRemainingColumn(),
                  console=err, transient=True) as bar:
        task = bar.add_task(text, total=sheet.size)
        yield lambda rows: bar.update(task, completed=sheet.position())


def listed_households(sheet, village: str | None, left_out: Counter | None = None) -> Iterator:
    """The file's rows grouped into households: a household's rows are next to each other. A member
    whose `active` cell says no (an export's 在户: 否, one who left) is not listed, but counted in
    `left_out["members"]`."""
    from workflows.household_import import ListedHousehold
    current, given, columns = None, {}, frozenset(sheet.columns)
    for line, r in sheet:
        if parsing.cell(r, "active").lower() in parsing.NO:
            if left_out is not None:
                left_out["members"] += 1
            continue
        key = parsing.cell(r, "household") or parsing.cell(r, "household_code")
        if current is None or key != current.key:
            if current is not None:
                yield current
            current, given = ListedHousehold(key, parsing.cell(r, "village") or village or "", [],
                                             code=parsing.cell(r, "household_code") or None,
                                             stage=parsing.cell(r, "stage") or None, given=columns), {}
        for column in HOUSEHOLD_WIDE:       # said once for the household: on its first row, or the same on each
            value = parsing.cell(r, column)
            if value and given.setdefault(column, value) != value:
                current.disagree.append((line, column))
        current.members.append((line, member_row(r)))
        current.rows.append((line, r))
        current.causes.extend(c for c in CAUSE_SEPARATORS.split(r.get("causes") or "") if c.strip())
        current.household_type = given.get("household_type", current.household_type)
    if current is not None:
        yield current


def member_row(r: dict[str, str]):
    from workflows.household import MemberInput
    # insurance as the list says it (checked at registration); a blank cell or no column: not recorded
    return MemberInput(r["name"], r["id_number"].strip(), r["relation"], parsing.cell(r, "labour_ability", "normal"),
                       parsing.cell(r, "health", "healthy"), parsing.cell(r, "school_enrolment", "none"),
                       parsing.cell(r, "insured_basic") or None, parsing.cell(r, "insured_critical") or None,
                       parsing.cell(r, "phone") or None,
                       parsing.cell(r, "bank_account") or None)


@household.command("member-add")
@member_change("Birth, marriage, return…")
@click.argument("member", callback=parsing.callback(parsing.member))
@pass_ctx
def household_member_add(ctx: Ctx, case_id, reason, void_signoffs, member):
    """Add a member: NAME,ID[,RELATION,LABOUR,HEALTH,SCHOOL,BASIC,CRITICAL] (insurance left out: not recorded)."""
    from workflows.household import add_member
    add_member(ctx.app(), ctx.actor(), case_id, member, reason, void_signoffs)
    say(ctx.text("member_added", case=case_id))


@household.command("member-update")
@member_change("Why the record changes.")
@click.argument("id_number")
@click.option("--set", "changes", multiple=True, required=True, help="FIELD=VALUE, repeatable.")
@pass_ctx
def household_member_update(ctx: Ctx, case_id, reason, void_signoffs, id_number, changes):
    """Update a member's record (the old values stay in the audit log)."""
    from workflows.household import update_member
    update_member(ctx.app(), ctx.actor(), case_id, id_number, parsing.fields(changes), reason, void_signoffs)
    say(ctx.text("member_updated", case=case_id))


@household.command("member-leave")
@member_change("Death, marriage out, moved away…")
@click.argument("id_number")
@pass_ctx
def household_member_leave(ctx: Ctx, case_id, reason, void_signoffs, id_number):
    """A member leaves the household (kept on record, no longer counted)."""
    from workflows.household import member_leaves
    member_leaves(ctx.app(), ctx.actor(), case_id, id_number, reason, void_signoffs)
    say(ctx.text("member_left", case=case_id))


@household.command("relative")
@case_arg
@click.argument("person_code")
@click.argument("relation")
@click.option("--reason", required=True, help="How it is known (declared by the cadre, found on a visit…).")
@pass_ctx
def household_relative(ctx: Ctx, case_id, person_code, relation, reason):
    """Record that a cadre is a relative of the household (they may not sign it off)."""
    from engine.services.case_actions import record_relative
    record_relative(ctx.app(), ctx.actor(), case_id, person_code, relation, reason)
    say(ctx.text("relative_recorded", case=case_id, person=person_code, relation=relation))


@household.command("relative-remove")
@case_arg
@click.argument("person_code")
@click.option("--reason", required=True, help="Why the record was wrong or no longer holds.")
@pass_ctx
def household_relative_remove(ctx: Ctx, case_id, person_code, reason):
    """Take back a relative's record (recorded in error, or the relation ended): they may sign again."""
    from engine.services.case_actions import remove_relative
    remove_relative(ctx.app(), ctx.actor(), case_id, person_code, reason)
    say(ctx.text("relative_removed", case=case_id, person=person_code))


@household.command("visit")
@case_arg
@date_option("--date", "visit_date", "Visit date (default today).")
@click.option("--findings", required=True)
@click.option("--risk", is_flag=True, help="The visit found a risk of returning to poverty.")
@pass_ctx
def household_visit(ctx: Ctx, case_id, visit_date, findings, risk):
    """Record a visit by a pairing cadre or village cadre."""
    from engine.services.case_actions import record_visit
    app = ctx.app()
    vid = record_visit(app, ctx.actor(), case_id, visit_date or app.clock.today(), findings, risk)
    say(ctx.text("visit_recorded", visit=vid, case=case_id))


@click.group()
def village():
    """Poor village cases (贫困村): register, population, resident work team. Their procedures are done
    with `step`; `case next` shows the incidence and the households keeping the village from exiting."""


population = click.option("--population", type=int, required=True, help="Rural registered population (户籍人口).")
year = click.option("--year", type=int, help="Year of the figure (default this year).")


@village.command("add")
@click.option("--village", "village_code", required=True, help="12-digit village code.")
@population
@year
@pass_ctx
def village_add(ctx: Ctx, village_code, population, year):
    """Register a poor-village case (stage: applicant); prints its case number."""
    from workflows.village import register_village
    case_id = register_village(ctx.app(), ctx.actor(), village_code, population, year)
    say(ctx.text("village_registered", case=case_id))
    click.echo(case_id)


@village.command("population")
@case_arg
@population
@year
@click.option("--reason", required=True, help="Why it changed (census, correction…); the old value is kept.")
@pass_ctx
def village_population(ctx: Ctx, case_id, population, year, reason):
    """Update the village's registered population (the old value stays in the audit log)."""
    from workflows.village import update_population
    update_population(ctx.app(), ctx.actor(), case_id, population, reason, year)
    say(ctx.text("population_set", case=case_id, population=population))


@village.command("team")
@case_arg
@click.option("--member", "members", multiple=True, required=True, callback=parsing.callback(parsing.team_member),
              help="CODE:ROLE:UNIT (ROLE first_secretary, leader or member; UNIT the dispatching unit), "
                   "the whole team, repeatable.")
@date_option("--start", "start", "Date the new members start (and others leave).", required=True)
@date_option("--end", "end", "End of the new members' term.", required=True)
@click.option("--reason", help="Why (first dispatch, recall, replacement…).")
@pass_ctx
def village_team(ctx: Ctx, case_id, members, start, end, reason):
    """Put the resident work team (驻村工作队) in place or rotate it: at least 3 people, one first
    secretary, terms of at least 2 years (policy). Members not listed leave on --start."""
    from workflows.village import set_team
    done = set_team(ctx.app(), ctx.actor(), case_id, list(members), start, end, reason)
    role = lambda r: ctx.label("team_role." + r)  # noqa: E731
    for code, r, unit, _, until in done["joined"]:
        say(ctx.text("team_joins", case=case_id, person=code, role=role(r), unit=unit, until=until))
    for code, r, on in done["left"]:
        say(ctx.text("team_leaves", case=case_id, person=code, role=role(r), on=on))


@click.group()
def report():
    """Figures across cases for a region (read-only)."""


@report.command("coverage")
@click.option("--region", "region_code", help="Region (default: my jurisdiction).")
@click.option("--year", type=int, help="Target year (default this year).")
@json_option
@pass_ctx
def report_coverage(ctx: Ctx, region_code, year, as_json):
    """Industry coverage (产业带动率) of registered poor households per village and county, against the
    configured target: households with an industry measure or in a funded industry project."""
    from engine.reads.indicators import coverage_report
    rows = coverage_report(ctx.app(), ctx.actor(), region_code, year)
    emit(rows, as_json, lambda: print_coverage(ctx, rows))


def print_coverage(ctx: Ctx, rows: list[dict]) -> None:
    """Tab-separated, one line a row (like `case list`): readable at any width."""
    tsv(*ctx.text("coverage_header").split("\t"))
    for r in rows:
        target = dash(r["target_pct"]) + (f" ({r['target_year']})" if r["target_year"] else "")
        tsv(r["region"], r["name"] or "-", ctx.code_label("level", r["level"]), r["households"], r["covered"],
            dash(r["coverage_pct"]), target, dash(r["gap_points"]), dash(r["households_short"]))


COMMANDS = (household, village, report)
