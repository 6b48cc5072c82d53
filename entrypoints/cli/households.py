"""Household and village cases: register, members, relatives, visits, the work team; coverage figures."""
from __future__ import annotations

import os
from collections import Counter, deque
from contextlib import contextmanager
from typing import Iterator

import click

from engine.domain.errors import BadInput, Msg, joined

from . import parsing
from .context import CASE_ID, Ctx, cli_text, pass_ctx
from .options import BesideOption, case_arg, csv_file, date_option, json_option, member_change
from .printing import dash, emit, err, footer, progress, say, stream_json, tsv, visible
from .sheet_rows import not_read
from .helptext import group


@group()
def household():
    pass


@household.command("add")
@click.option("--village", required=True)
@click.option("--member", "members", multiple=True, required=True, callback=parsing.callback(parsing.member))
@click.option("--cause", "causes", multiple=True)
@click.option("--type", "household_type", default="general", show_default=True)
@click.option("--ordinary", is_flag=True)
@pass_ctx
def household_add(ctx: Ctx, village, members, causes, household_type, ordinary):
    from workflows.household import HouseholdInput, register_households
    warnings: list = []
    case_id = register_households(ctx.app(), ctx.actor(), village, [HouseholdInput(list(members), causes,
                                                                                   household_type, ordinary)], warnings)[0]
    say(ctx.text("case_registered", case=case_id))
    _warn(ctx, warnings, case_id)
    click.echo(case_id)


def _warn(ctx: Ctx, warnings: list, case_id: int | str = "CASE") -> None:
    """What the cadre should confirm, on stderr (the case was registered all the same), and how to
    record the check once done."""
    from engine.domain.errors import render_text
    for w in warnings:
        err.print(render_text(ctx.config, w.key, w.params, ctx.lang) or w.key)
    if warnings:
        err.print(ctx.text("id_confirm_hint", case=case_id))


@household.command("import")
@csv_file
@click.option("--village")
@click.option("--skip-bad", "skip_bad", type=click.Path(dir_okay=False))
@click.option("--to-confirm", "to_confirm", type=click.Path(dir_okay=False), cls=BesideOption, beside="file",
              suffix="to-confirm.xlsx")
@pass_ctx
def household_import(ctx: Ctx, file, village, skip_bad, to_confirm):
    from workflows.household_import import import_households
    from .bad_rows import BadRows, saved_without, side_files_kept
    from .interrupts import AfterCommit
    from .rows import Sheet
    actor = ctx.actor()                           # who asks, before anything about the registry is told
    source = {"file": os.path.basename(file), "sha256": parsing.file_sha256(file)}
    left_out = Counter()
    if village:                                   # a village by name: its code, or one refusal (not one a row)
        from workflows.household_import import village_code
        village = village_code(ctx.app(), actor, village)
    with AfterCommit(ctx.text("import.interrupt_held"), ctx.client) as guard, _told_if_interrupted(ctx) as saved:
        with Sheet(file, ["name", "id_number", "relation"], import_headers(ctx), skip_totals=True,
                   row_problems=True, stand_ins=STAND_INS, codes=CODES) as sheet, \
                BadRows(ctx, sheet.headers, sheet.columns, skip_bad, to_confirm, BesideOption.named("to_confirm", ctx.for_client)) as bad, \
                _progress(ctx, sheet) as advance:
            _grouping_column(sheet, village)
            not_read(ctx, "import.ignored_columns", sheet.ignored)
            shown: list = []
            try:
                result = import_households(
                    ctx.app(), actor, listed_households(sheet, village, left_out, bad.warning), keep_good=bool(skip_bad), source=source,
                    on_problem=bad.problem, on_warning=bad.warning, on_skipped=lambda h: bad.skipped(sorted(h.rows + h.left, key=lambda lr: lr[0])),
                    on_written=lambda h, case: len(shown) <= SHOWN and shown.append((h.key, case)),
                    on_batch=lambda rows: (guard.going_on(), advance(rows)),
                    on_commit=lambda: (bad.ready(), guard.committing()))
            except BadInput as refused:
                if refused.code == "import.no_rows" and left_out["members"]:     # rows there were: all members who left
                    raise BadInput("import.only_left", file=source["file"], members=left_out["members"]) from None
                if skip_bad and (refused.code == "import.nothing_good" or
                                 refused.code == "import.nothing_new" and refused.params.get("skipped")):
                    bad.keep()       # nothing imported, but the rows to correct are written, as another sheet's are
                    raise BadInput(refused.code + "_kept", **refused.params, written=skip_bad) from None
                raise
            saved.update(result=result, bad=bad)
            guard.committed()
            lost = side_files_kept(bad)
        _imported(ctx, result, shown, skip_bad if skip_bad not in bad.lost else None, source["file"])
        bad.advise_workbook()
        if left_out["members"] > result.removed_members:    # those of households removed: told as those
            err.print(visible(ctx.text("import.left_out", count=left_out["members"] - result.removed_members)))
        not_read(ctx, "import.sheets_passed_over", sheet.passed_over)
        not_read(ctx, "import.sheets_hidden", sheet.hidden)
        not_read(ctx, "import.totals_skipped", [str(line) for line in sheet.totals])
        not_read(ctx, "import.header_repeated", [str(line) for line in sheet.repeated])
        bad.tell_warnings()
        if lost is not None:
            raise saved_without(bad, lost, Msg("cli.import.saved_households", {"households": result.households}),
                                result.skipped)


@household.command("pair")
@csv_file
@click.option("--skip-bad", "skip_bad", type=click.Path(dir_okay=False))
@date_option("--date", "day")
@pass_ctx
def household_pair(ctx: Ctx, file, skip_bad, day):
    # registered households paired from a list (户编号, 帮扶责任人, 帮扶责任人联系电话): workflows/import_pairings.py
    from workflows.import_pairings import PairingRow, pair_households
    from .bad_rows import BadRows, saved_without, side_files_kept
    from .rows import Sheet
    actor = ctx.actor()
    source = {"file": os.path.basename(file), "sha256": parsing.file_sha256(file)}
    with Sheet(file, ["household_code", "pairing_cadre"], pair_headers(ctx), skip_totals=True,
               codes=("household_code", "pairing_cadre_phone")) as sheet, \
            BadRows(ctx, sheet.headers, sheet.columns, skip_bad) as bad:
        not_read(ctx, "pair_list.ignored_columns", sheet.ignored)
        rows = [PairingRow(line, (c := stripped(r)).get("household_code", ""), c.get("pairing_cadre", ""),
                           c.get("pairing_cadre_phone"), r) for line, r in sheet]

        def problem(line, column, error):
            if isinstance(error, tuple):        # the pairing step's reasons for the household's case
                told, case_id = error
                error = "；".join(told.reasons(ctx.app(), case_id, ctx.lang)) if ctx.lang == "zh" else \
                    "; ".join(told.reasons(ctx.app(), case_id, ctx.lang))
            bad.problem(line, column, error)

        try:
            result = pair_households(ctx.app(), actor, rows, keep_good=bool(skip_bad), source=source,
                                     on_problem=problem, on_skipped=lambda r: bad.skipped([(r.line, r.cells)]), day=day)
        except BadInput as refused:
            if skip_bad and refused.code == "pair_list.nothing_paired" and refused.params.get("skipped"):
                bad.keep()
                raise BadInput("pair_list.nothing_paired_kept", **refused.params, written=skip_bad) from None
            raise
        lost = side_files_kept(bad)
    say(ctx.text("pair_list.done", count=len(result.paired), file=source["file"]))
    if result.unchanged:
        say(ctx.text("pair_list.unchanged", count=result.unchanged))
    if skip_bad and result.skipped:
        say(ctx.text("pair_list.skipped", households=result.skipped, file=skip_bad))
    if lost is not None:
        raise saved_without(bad, lost, Msg("cli.pair_list.saved", {"count": len(result.paired)}), result.skipped)


def pair_headers(ctx: Ctx) -> dict[str, str]:
    """A pairing list's headers: the national system's (户编号, 帮扶责任人, 帮扶责任人联系电话) and an
    export's in zh and en."""
    from workflows.household_codes import HOUSEHOLD_HEADERS
    keys = ("household_code", "pairing_cadre", "pairing_cadre_phone")
    aliases = {name: key for name, key in HOUSEHOLD_HEADERS.items() if key in keys}
    for lang in ("zh", "en"):
        for key in keys:
            aliases.setdefault(ctx.config.label(f"field.{key}", lang), key)
    return aliases


# The columns `export members` writes that `household import` reads, known by the export's headers in
# either language: a registry exported here imports again as it is.
EXPORTED = ("village", "household_code", "stage", "name", "id_number", "relation", "labour_ability", "health",
            "school_enrolment", "insured_basic", "insured_critical", "phone", "bank_account", "causes",
            "household_type", "active", "exit_year", "id_to_confirm", "pairing_cadre", "pairing_cadre_phone",
            "planned_exit_year")
# Columns `export members` writes for its reader, read as another key: the village's name beside its
# code (区域名称), checked against the code as the national system's 行政村 is (a row moved to another
# village by its name alone is told, not registered in the village its code says).
# Its township (乡镇) by name is checked as the national system's 乡（镇） is; by code, read and passed over
# (the village's code says it already).
EXPORTED_AS = {"region_title": "village_name", "township_title": "township", "township_code": "township_code"}


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
        for key, read in EXPORTED_AS.items():
            aliases.setdefault(ctx.config.label(f"field.{key}", lang), read)
    return aliases


# A village's name (the national system's 行政村) stands in for its code where the file gives none; beside
# the code, the code is read and the name checked against it.
STAND_INS = {"village_name": "village"}
HOUSEHOLD_WIDE = ("village", "township", "stage", "household_type", "exit_year", "planned_exit_year", "pairing_cadre",
                  "pairing_cadre_phone")
SHOWN = 100         # households listed one by one (a village's list); a larger file gets its summary


def _grouping_column(sheet, village: str | None) -> None:
    missing = [c for c, ok in (("household", {"household", "household_code"} & set(sheet.columns)),
                               ("village", village or "village" in sheet.columns)) if not ok]
    if missing == ["village"]:
        raise BadInput("import.no_village_column", file=sheet.file)
    if missing:
        raise sheet.missing_columns(missing)


@contextmanager
def _told_if_interrupted(ctx: Ctx) -> Iterator[dict]:
    """A Ctrl-C that stops the import once it has committed (the command fills the dict with its
    `result` and its `bad` rows there) says what was saved and which files were not written, never
    "aborted" (exit 0 when nothing was left undone, else 2); before the commit it stops the command."""
    saved: dict = {}
    try:
        yield saved
    except KeyboardInterrupt:
        if not saved:
            raise                # rolled back: "aborted" is true
        _said_done(ctx, saved["result"])
        err.print(visible(ctx.text("import.interrupted_saved")))
        unfinished = saved["bad"].unfinished
        if unfinished:
            err.print(visible(ctx.text("import.files_not_written", files=joined(unfinished, ctx.lang))))
        raise click.exceptions.Exit(2 if unfinished else 0) from None


def _said_done(ctx: Ctx, result) -> None:
    if result.households:
        say(ctx.text("import.done" if result.first_case != result.last_case else "import.done_one",
                     households=result.households, members=result.members, first=result.first_case,
                     last=result.last_case))


def _imported(ctx: Ctx, result, shown: list, skip_bad: str | None, file: str) -> None:
    if not result.households and not result.noted_exit_years:
        # all registered as the file gives them (anything else is refused)
        say(ctx.text("import.all_registered", file=file, households=result.unchanged, members=result.rows))
        if result.removed:
            err.print(visible(ctx.text("import.removed_left_out", count=result.removed)))
        return
    if len(shown) <= SHOWN:
        for key, case_id in shown:
            say(ctx.text("household_imported", key=key, case=case_id))
    _said_done(ctx, result)
    for year, count in sorted(result.noted_exit_years.items()):     # registered, their exit year noted now
        say(ctx.text("import.exit_year_noted", count=count, year=year))
    for stage, count in result.stages.items():
        if stage != "candidate":
            say(ctx.text("import.started_in", count=count, stage=ctx.code_label("stage", stage)))
    if result.rejected_applying:        # 未通过识别 in the file: not a stage a case starts in
        say(ctx.text("roundtrip.rejected_applying", count=result.rejected_applying,
                     rejected=ctx.code_label("stage", "not_identified"), stage=ctx.code_label("stage", "candidate")))
    if result.paired:      # 帮扶责任人: paired from today, as 调整帮扶责任人 would pair them
        say(ctx.text("import.paired", count=result.paired))
    if result.unpaired:    # assisted or later with no 帮扶责任人 in the file: to pair by hand
        err.print(visible(ctx.text("import.unpaired", count=result.unpaired)))
    for year, count in sorted(result.exit_years.items()):
        say(ctx.text("import.exit_year", count=count, year=year))
    if result.no_exit_year:         # counted in no year's exits, nor drawn for any year's sample check
        err.print(visible(ctx.text("import.no_exit_year", count=result.no_exit_year)))
        err.print(visible(ctx.text("import.no_transition", count=result.no_exit_year)))     # nor a transition end
    if result.unchanged:
        say(ctx.text("import.unchanged", households=result.unchanged))
    if result.ids_confirmed_in_file:
        say(ctx.text("import.ids_confirmed_in_file", count=result.ids_confirmed_in_file))
    if result.ids_own_county:       # their county's code, given after it changed: nothing to confirm
        say(ctx.text("import.ids_own_county", count=result.ids_own_county))
    if result.school_not_recorded:      # asked for by the exit standard for a school-age child
        say(ctx.text("import.school_not_recorded", count=result.school_not_recorded))
    if result.labour_by_age or result.health_by_default:
        say(ctx.text("import.facts_by_default", labour=result.labour_by_age, health=result.health_by_default))
    if skip_bad and result.skipped:
        say(ctx.text("import.skipped", households=result.skipped, file=skip_bad))
    if result.removed:
        err.print(visible(ctx.text("import.removed_left_out", count=result.removed)))


@contextmanager
def _progress(ctx: Ctx, sheet):
    """A progress bar over the file's bytes on a terminal (stderr), or on the client's for a command
    run on the server; nothing otherwise."""
    with progress(ctx, ctx.text("import.progress", file=os.path.basename(sheet.file)), sheet.size) as advance:
        yield lambda rows: advance(sheet.position())


def listed_households(sheet, village: str | None, left_out: Counter | None = None, warn=None) -> Iterator:
    """The file's rows grouped into households: a household's rows are next to each other, except
    that a row whose 户编号 (or, in an export, 案件编号) is that of one of the last LOOK_BACK households
    (a newborn added at the bottom of a village's list) belongs to that household. A member whose `active` cell says they
    left (an export's 在户: 否; the national system's 死亡, 迁出, 已减员…) is not listed, but counted in
    `left_out["members"]`; a word saying neither is the row's problem. A code (户编号, phone, bank
    account) the workbook holds as a number is `warn`ed of (line, column, error, whom): registered as
    it reads, but a spreadsheet's 转换为数字 drops a leading 0 (00001 is 1) no one can restore.

    Memory stays flat: at most LOOK_BACK households are held back before they are yielded (in the
    order they first appear). A row of a household further back cannot join it without keeping every
    code of the file (a city's million households) or reading the file twice; it is told as the same
    code as that household's line, with what to do: sort the sheet by 户编号."""
    from workflows.household_codes import (LEFT_WORDS, PRESENT_WORDS, RELATIONS, cause_words, code_of,
                                           excel_scientific, member_present)
    from workflows.household_import import ListedHousehold
    current, given, columns = None, {}, frozenset(sheet.columns)
    named = "village_name" in columns      # the village's name beside its code: each row's is checked
    held: deque = deque()                  # (household, its `given`), not yet yielded, oldest first
    by_code: dict[str, tuple] = {}         # 户编号 -> (household, given) of those held
    by_case: dict[str, tuple] = {}         # an export's case number (the grouping key, all digits) -> the same
    waiting_left: dict[str, list] = {}     # left rows before their household's first present row
    problems_of = getattr(sheet, "problems_of", lambda line: [])
    numbers_of = getattr(sheet, "numbers_of", lambda line: [])
    for line, r in sheet:
        found = problems_of(line)         # a cell the reader could not read exactly (a long number)
        cells = stripped(r)
        if warn is not None:
            for column in numbers_of(line):
                if not (column == "phone" and _mobile(cells.get("phone", ""))):     # no 0 a mobile could lose
                    warn(line, column, BadInput(f"roundtrip.{column}_as_number"),
                         {"household": cells.get("household") or cells.get("household_code"),
                          "name": cells.get("name"), "id_number": cells.get("id_number")})
        present = member_present(cells.get("active"))
        key = cells.get("household") or cells.get("household_code") or ""
        if present is False:
            if left_out is not None:
                left_out["members"] += 1
            if current is not None and key == current.key:
                current.left.append((line, r))      # told if the household's case still has them
            elif key.isdigit() and key in by_case:
                by_case[key][0].left.append((line, r))      # an earlier household's, by its case number
            else:
                waiting_left.setdefault(key, []).append((line, r))   # its household's rows follow (a dead head first)
            continue
        code = cells.get("household_code") or ""
        if current is None or key != current.key:
            # a member of a household listed earlier (not its head: a head with that code is another
            # household whose code is wrong, told as the same code); by an export's case number too
            earlier = by_code.get(code) if code and not excel_scientific(code) else None
            if earlier is None or earlier[0].key != key:
                earlier = by_case.get(key) if key.isdigit() else None
            if earlier is not None and code_of(cells.get("relation") or "", RELATIONS) != "head":
                current, given = earlier
            else:
                place = cells.get("village") or named and cells.get("village_name") or village
                current, given = ListedHousehold(key, place or "", [],
                                                 code=code or None, stage=cells.get("stage") or None,
                                                 given=columns, township=cells.get("township") or None,
                                                 chosen=village), {}
                current.left.extend(waiting_left.pop(key, ()))
                yield from _gone(waiting_left, columns, village)     # rows of a household that never came
                held.append((current, given))
                if code and code not in by_code and not excel_scientific(code):
                    by_code[code] = (current, given)
                if key.isdigit() and key not in by_case:
                    by_case[key] = (current, given)
                if len(held) > LOOK_BACK:
                    yield _released(held, by_code, by_case)
        for column in HOUSEHOLD_WIDE:       # said once for the household: on its first row, or the same on each
            value = cells.get(column)
            if value and given.setdefault(column, value) != value:
                current.disagree.append((line, column))
        if named and (name := cells.get("village_name")):
            current.village_names.append((line, name))
            if "village" in columns and not cells.get("village"):     # its code cell empty: the household's
                current.code_elsewhere.add(line)
        told: tuple | set = ()
        if found:
            current.cell_problems.extend((line, column, error) for column, error in found)
            told = {column for column, _error in found}
        for column in LONG_NUMBERS:         # Excel's 3.6073E+17: the number's last digits are gone (a
            # workbook's number cell is told once, by the reader, as the number it is: not also as text)
            if column not in told and excel_scientific(cells.get(column)):
                current.cell_problems.append((line, column, BadInput("import.scientific") if column in PERSONAL_NUMBERS
                                              else BadInput("import.scientific_value", value=cells[column])))
        if present is None:
            current.cell_problems.append((line, "active", BadInput(
                "import.bad_present", value=cells["active"], present=" / ".join(PRESENT_WORDS),
                left=" / ".join(LEFT_WORDS))))
        current.members.append((line, member_row(r, cells)))
        current.rows.append((line, r))
        if cells.get("causes"):
            current.causes.extend(cause_words(r["causes"]))
        current.household_type = given.get("household_type", current.household_type)
        current.exit_year, current.planned_exit_year = given.get("exit_year"), given.get("planned_exit_year")
        current.pairing_cadre, current.pairing_phone = given.get("pairing_cadre"), given.get("pairing_cadre_phone")
    while held:
        yield _released(held, by_code, by_case)
    yield from _gone(waiting_left, columns, village)


def _gone(waiting_left: dict, columns: frozenset, village: str | None) -> Iterator:
    """The households none of whose rows is of a member present (cleared): each whose rows give its
    stage, with no members and those rows as left, for the importer to count if the stage says the
    household was removed (an export's 已剔除/销户, its members 在户 否); the others' rows are counted
    as members who left, not kept."""
    from workflows.household_import import ListedHousehold
    for key, rows in waiting_left.items():
        cells = stripped(rows[0][1])
        if cells.get("stage"):
            yield ListedHousehold(key, cells.get("village") or village or "", [], code=cells.get("household_code"),
                                  stage=cells["stage"], given=columns, left=list(rows), chosen=village)
    waiting_left.clear()


def _mobile(phone: str) -> bool:
    """A mobile number (11 digits, 1…): a number cell holding one has lost no leading 0."""
    return len(phone) == 11 and phone.isdigit() and phone.startswith("1")


# Columns of codes written as digits that a leading 0 may begin (a landline's 0797…, 户编号 00001)
CODES = ("household_code", "phone", "bank_account")
LOOK_BACK = 500      # households held back for a later row of theirs (a newborn at the bottom of the list)


def _released(held: deque, by_code: dict, by_case: dict):
    household, _given = held.popleft()
    if household.code and by_code.get(household.code, (None,))[0] is household:
        del by_code[household.code]
    if by_case.get(household.key, (None,))[0] is household:
        del by_case[household.key]
    return household


# Columns of long numbers a spreadsheet turns into 3.6073E+17 (General format shows 11 digits at most);
# a personal one's value is never shown in a message.
LONG_NUMBERS = ("household_code", "village", "id_number", "bank_account")
PERSONAL_NUMBERS = ("id_number", "bank_account")


def stripped(r: dict[str, str]) -> dict[str, str]:
    """A row's cells that are not blank, stripped (parsing.cell's values, each stripped once: a registry's
    row is asked for some twenty cells)."""
    return {k: v.strip() for k, v in r.items() if v and not v.isspace()}


def member_row(r: dict[str, str], cells: dict[str, str]):
    """A member as the row gives it (`cells`: the row's cells `stripped`)."""
    from workflows.household import MemberInput
    from workflows.household_codes import NO_WORDS, YES_WORDS
    get = cells.get
    # insurance and schooling as the list says them (checked at registration); a blank cell or no column:
    # not recorded; labour ability and health left blank: by the member's age and 健康, when registered
    # (household_import.labour_by_age, health_by_default), the import's summary counting them
    return MemberInput(r["name"], get("id_number") or "", r["relation"], get("labour_ability") or "",
                       get("health") or "", get("school_enrolment"),
                       get("insured_basic"), get("insured_critical"), get("phone"), get("bank_account"),
                       _said(get("id_to_confirm"), NO_WORDS, YES_WORDS))    # an export's: checked there, or still to


def _said(cell: str | None, no: tuple, yes: tuple) -> bool | None:
    """An export's 身份证号待核实 as MemberInput.id_confirmed: 否, checked (True); 是, still to confirm there
    (False); blank or another word, not said (None)."""
    word = (cell or "").lower()
    return True if word in no else False if word in yes else None


@household.command("member-add")
@member_change
@click.argument("member", callback=parsing.callback(parsing.member))
@pass_ctx
def household_member_add(ctx: Ctx, case_id, reason, void_signoffs, member):
    from workflows.household import add_member
    warning = add_member(ctx.app(), ctx.actor(), case_id, member, reason, void_signoffs)
    say(ctx.text("member_added", case=case_id))
    _warn(ctx, [warning] if warning else [], case_id)


@household.command("member-update")
@member_change
@click.argument("id_number")
@click.option("--set", "changes", multiple=True, required=True)
@pass_ctx
def household_member_update(ctx: Ctx, case_id, reason, void_signoffs, id_number, changes):
    from workflows.household import update_member
    warning = update_member(ctx.app(), ctx.actor(), case_id, id_number, parsing.fields(changes), reason, void_signoffs)
    say(ctx.text("member_updated", case=case_id))
    _warn(ctx, [warning] if warning else [], case_id)


@household.command("id-confirm")
@case_arg
@click.argument("id_number", required=False)
@click.option("--all", "every", is_flag=True)
@pass_ctx
def household_id_confirm(ctx: Ctx, case_id, id_number, every):
    from workflows.household import confirm_member_id, confirm_member_ids
    if every == bool(id_number):            # one member's number, or --all of the household's: one of them
        raise BadInput("member.id_confirm_which", case=case_id)
    if every:
        names = confirm_member_ids(ctx.app(), ctx.actor(), case_id)
        say(ctx.text("member_ids_confirmed", case=case_id, count=len(names), names=joined(names, ctx.lang)))
        return
    name = confirm_member_id(ctx.app(), ctx.actor(), case_id, id_number)
    say(ctx.text("member_id_confirmed", case=case_id, name=name))


@household.command("member-leave")
@member_change
@click.argument("id_number")
@pass_ctx
def household_member_leave(ctx: Ctx, case_id, reason, void_signoffs, id_number):
    from workflows.household import member_leaves
    member_leaves(ctx.app(), ctx.actor(), case_id, id_number, reason, void_signoffs)
    say(ctx.text("member_left", case=case_id))


@household.command("head")
@member_change
@click.argument("id_number")
@click.option("--former", "former_relation")
@click.option("--former-left", is_flag=True)
@click.option("--relation", "relations", multiple=True)
@pass_ctx
def household_head(ctx: Ctx, case_id, reason, void_signoffs, id_number, former_relation, former_left, relations):
    from workflows.household import change_head
    name = change_head(ctx.app(), ctx.actor(), case_id, id_number, reason, former_relation=former_relation,
                       former_leaves=former_left, relations=parsing.fields(relations), void_signoffs=void_signoffs)
    say(ctx.text("head_changed", case=case_id, name=name))


@household.command("exit-year")
@case_arg
@click.argument("year")
@click.option("--reason", required=True)
@pass_ctx
def household_exit_year(ctx: Ctx, case_id, year, reason):
    from workflows.exit_year import note_exit_year
    noted, before = note_exit_year(ctx.app(), ctx.actor(), case_id, year, reason)
    say(ctx.text("exit_year_noted" if before is None else "exit_year_corrected", case=case_id, before=before,
                 year=noted))


@household.command("causes")
@case_arg
@click.option("--cause", "causes", multiple=True)
@click.option("--type", "household_type")
@click.option("--reason", required=True)
@pass_ctx
def household_causes(ctx: Ctx, case_id, causes, household_type, reason):
    # the causes of poverty (each --cause, all of them: they replace those registered) and the type corrected
    from workflows.poverty_causes import correct_causes, corrected_words
    done = correct_causes(ctx.app(), ctx.actor(), case_id, list(causes) or None, household_type, reason)
    say(corrected_words(ctx.config, case_id, done, ctx.lang))


@household.command("handbook")
@click.argument("case_id", type=CASE_ID, required=False)
@click.option("--village", callback=parsing.region_named(("village",)))
@click.option("--html", "html_file", type=click.Path(dir_okay=False, writable=True), required=True)
@pass_ctx
def household_handbook(ctx: Ctx, case_id, village, html_file):
    # a household's handbook (扶贫手册), or every registered household's of a village, as a page to print
    from engine.adapters.private_files import replacing
    from engine.reads.handbook import handbook, render_handbooks, village_handbooks
    if (case_id is None) == (village is None):
        raise BadInput("handbook.case_or_village")
    app, actor = ctx.app(), ctx.actor()
    recorded = None
    if case_id is not None:
        count, pieces = 1, render_handbooks(app, [handbook(app, actor, case_id, ctx.lang)], ctx.lang)
    else:
        from engine.services.exports import record_handbooks
        shown, books = village_handbooks(app, actor, village, ctx.lang)
        count, pieces = shown["households"], render_handbooks(app, books, ctx.lang, village=shown)
        recorded = lambda: record_handbooks(app, actor, shown["code"], "html")  # noqa: E731  (a village's leave recorded)
    with replacing(html_file, then=recorded) as (out, _):      # mode 0600 (personal data), whole or not at all
        for piece in pieces:
            out.write(piece)
    say(ctx.text("handbook_written", file=html_file, n=count))


@household.command("exit-confirmation")
@case_arg
@click.option("--html", "html_file", type=click.Path(dir_okay=False, writable=True), required=True)
@pass_ctx
def household_exit_confirmation(ctx: Ctx, case_id, html_file):
    # the exit confirmation (脱贫确认书) filled in from the record, to print and have the household sign
    from engine.adapters.private_files import write_private
    from engine.reads.handbook import exit_confirmation, render_confirmation
    app = ctx.app()
    write_private(html_file, render_confirmation(app, exit_confirmation(app, ctx.actor(), case_id, ctx.lang), ctx.lang))
    say(ctx.label("cli.written").format(file=html_file))


def _paper_command(name: str, kind: str):
    """`household NAME CASE --html FILE`: the case's paper of `kind` (engine.reads.paperwork.PAPERS)."""
    @household.command(name)
    @case_arg
    @click.option("--html", "html_file", type=click.Path(dir_okay=False, writable=True), required=True)
    @pass_ctx
    def print_paper(ctx: Ctx, case_id, html_file):
        _paper(ctx, case_id, html_file, kind)
    return print_paper


# the application form (贫困户申请书) filled in from the record, to print and have the applicant sign; the
# result of the village meeting that appraised the household (民主评议结果), to print and sign
household_application_form = _paper_command("application-form", "application_form")
household_appraisal_result = _paper_command("appraisal-result", "appraisal_result")


def _paper(ctx: Ctx, case_id: int, html_file: str, kind: str) -> None:
    """A paper of `kind` (engine.reads.paperwork.PAPERS) written as a page to print (mode 0600)."""
    from engine.adapters.private_files import write_private
    from engine.reads.paperwork import printed_paper
    write_private(html_file, printed_paper(ctx.app(), ctx.actor(), kind, case_id, ctx.lang))
    say(ctx.label("cli.written").format(file=html_file))


@household.command("relative")
@case_arg
@click.argument("person_code")
@click.argument("relation")
@click.option("--reason", required=True)
@pass_ctx
def household_relative(ctx: Ctx, case_id, person_code, relation, reason):
    from engine.services.case_actions import record_relative
    kin = record_relative(ctx.app(), ctx.actor(), case_id, person_code, relation, reason)
    say(ctx.text("relative_recorded", case=case_id, person=person_code, relation=kin))


@household.command("relative-remove")
@case_arg
@click.argument("person_code")
@click.option("--reason", required=True)
@pass_ctx
def household_relative_remove(ctx: Ctx, case_id, person_code, reason):
    from engine.services.case_actions import remove_relative
    remove_relative(ctx.app(), ctx.actor(), case_id, person_code, reason)
    say(ctx.text("relative_removed", case=case_id, person=person_code))


@household.command("visit")
@case_arg
@date_option("--date", "visit_date")
@click.option("--findings", required=True)
@click.option("--risk", is_flag=True)
@click.option("--measure", "measure_id", type=int)
@click.option("--result")
@pass_ctx
def household_visit(ctx: Ctx, case_id, visit_date, findings, risk, measure_id, result):
    from engine.services.case_actions import VisitInput, visit_recorded
    app = ctx.app()
    done = visit_recorded(app, ctx.actor(), case_id,
                          VisitInput(visit_date or app.clock.today(), findings, risk, measure_id, result))
    _visit_said(ctx, done)


@household.command("visit-correct")
@click.argument("visit_id", type=int)
@click.option("--reason", required=True)
@date_option("--date", "visit_date")
@click.option("--findings")
@click.option("--measure", "measure_id", type=int)
@click.option("--no-measure", is_flag=True)
@click.option("--result")
@pass_ctx
def household_visit_correct(ctx: Ctx, visit_id, reason, visit_date, findings, measure_id, no_measure, result):
    from engine.services.case_actions import correct_visit
    done = correct_visit(ctx.app(), ctx.actor(), visit_id, reason, visit_date, findings, measure_id, result,
                         keep_measure=not no_measure)
    say(ctx.text("visit_corrected", visit=done.id, old=visit_id, case=done.case_id))


@household.command("visit-withdraw")
@click.argument("visit_id", type=int)
@click.option("--reason", required=True)
@pass_ctx
def household_visit_withdraw(ctx: Ctx, visit_id, reason):
    from engine.services.case_actions import withdraw_visit
    case_id = withdraw_visit(ctx.app(), ctx.actor(), visit_id, reason)
    say(ctx.text("visit_withdrawn", visit=visit_id, case=case_id))


def _visit_said(ctx: Ctx, done) -> None:
    """A visit's confirmation: recorded, or on record already (sent twice); and, recorded by a cadre
    who is not the household's pairing cadre, said so."""
    say(ctx.text("visit_again" if done.again else "visit_recorded", visit=done.id, case=done.case_id))
    if not done.paired:
        say(ctx.text("visit_not_paired", case=done.case_id))


@household.command("visits")
@click.option("--region", "region_code", callback=parsing.region_named())
@click.option("--overdue", is_flag=True)
@json_option
@pass_ctx
def household_visits(ctx: Ctx, region_code, overdue, as_json):
    from engine.reads.visits import VisitFilter, visit_rows
    actor = ctx.actor()
    rows = visit_rows(ctx.app(), actor, VisitFilter.asked(actor, region_code, overdue), ctx.lang)
    if as_json:
        return stream_json(rows)
    tsv(*ctx.text("visits_header").split("\t"))
    count = 0
    for r in rows:      # printed row by row, read a batch at a time
        tsv(r["cadre_name"], ctx.code_label("cli.pairing_kind", r["kind"]), r["case"], r["title"],
            r["last_visit"] or "-", r["visitor_name"] or "-", r["days"],
            ctx.text("visits_overdue") if r["overdue"] else "")
        count += 1
    footer(ctx.text("visits_count", n=count))


@group()
def village():
    pass


population = click.option("--population", type=int, required=True)
year = click.option("--year", type=int)


@village.command("add")
@click.option("--village", "village_code", required=True)
@population
@year
@pass_ctx
def village_add(ctx: Ctx, village_code, population, year):
    from workflows.village import register_village
    case_id = register_village(ctx.app(), ctx.actor(), village_code, population, year)
    say(ctx.text("village_registered", case=case_id))
    click.echo(case_id)


@village.command("population")
@case_arg
@population
@year
@click.option("--reason", required=True)
@pass_ctx
def village_population(ctx: Ctx, case_id, population, year, reason):
    from workflows.village import update_population
    update_population(ctx.app(), ctx.actor(), case_id, population, reason, year)
    say(ctx.text("population_set", case=case_id, population=population))


@village.command("team")
@case_arg
@click.option("--member", "members", multiple=True, required=True, callback=parsing.callback(parsing.team_member))
@date_option("--start", "start", required=True)
@date_option("--end", "end", required=True)
@click.option("--reason")
@pass_ctx
def village_team(ctx: Ctx, case_id, members, start, end, reason):
    from dataclasses import replace
    from engine.domain.inputs import codes_with_prefix, to_code
    from workflows.village import set_team
    posts = codes_with_prefix(ctx.config.labels, "team_role")        # a post by its name too (第一书记)
    members = [replace(m, role=to_code(m.role, posts)) for m in members]
    done = set_team(ctx.app(), ctx.actor(), case_id, members, start, end, reason)
    role = lambda r: ctx.label("team_role." + r)  # noqa: E731
    for code, r, unit, _, until in done["joined"]:
        say(ctx.text("team_joins", case=case_id, person=code, role=role(r), unit=unit, until=until))
    for code, r, on in done["left"]:
        say(ctx.text("team_leaves", case=case_id, person=code, role=role(r), on=on))


@group()
def report():
    pass


@report.command("coverage")
@click.option("--region", "region_code", callback=parsing.region_named())
@click.option("--year", type=int)
@json_option
@pass_ctx
def report_coverage(ctx: Ctx, region_code, year, as_json):
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
