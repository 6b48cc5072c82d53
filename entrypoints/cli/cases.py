"""Work on cases: evidence, steps, notices and objections; reading cases (show, list, next)."""
from __future__ import annotations

import inspect
from pathlib import Path

import click

from engine.domain import inputs
from engine.domain.errors import JingzhunError

from . import parsing, views
from .context import CASE_ID, Ctx, pass_ctx
from .options import case_arg, date_option, expect_version, json_option, project_step_options, stack, void_signoffs
from .printing import emit, err, footer, say, stream_json, tsv, visible


@click.group()
def evidence():
    """Evidence: typed fields and files kept by their SHA-256."""


@evidence.command("add")
@case_arg
@click.argument("etype", callback=parsing.coded("evidence"))
@click.option("--field", "fields", multiple=True, callback=parsing.callback(inputs.field), help="NAME=VALUE, repeatable.")
@click.option("--file", "file", type=click.Path(exists=True, dir_okay=False))
@click.option("--replace", is_flag=True, help="Correct the current item of this type (keeps the old one).")
@click.option("--reason", help="Why the item is replaced.")
@void_signoffs
@expect_version
@pass_ctx
def evidence_add(ctx: Ctx, case_id, etype, fields, file, replace, reason, void_signoffs, expect_version):
    """Attach evidence to a case."""
    from engine.services.case_actions import attach_evidence
    eid = attach_evidence(ctx.app(), ctx.actor(), case_id, etype, dict(fields), Path(file) if file else None,
                          replace=replace, void_signoffs=void_signoffs, reason=reason, expect_version=expect_version)
    say(ctx.text("evidence_attached", id=eid, type=ctx.label("evidence." + etype), case=case_id))


votes = click.IntRange(0, 100000)
step_options = stack(
    click.argument("procedure", callback=parsing.coded("procedure")),
    click.argument("step_key", metavar="STEP", callback=parsing.coded("step")),
    click.argument("case_ids", nargs=-1, type=CASE_ID, required=True),
    date_option("--date", "date", "Date the step took place (default today)."),
    click.option("--approve", "decision", flag_value="approve", help="Sign-off or verification: approve."),
    click.option("--reject", "decision", flag_value="reject", help="Sign-off or verification: reject (needs --reason)."),
    click.option("--reason"),
    click.option("--attendance", type=votes, help="Appraisal: people present."),
    click.option("--for", "votes_for", type=votes, help="Appraisal: votes for."),
    click.option("--against", "votes_against", type=votes, help="Appraisal: votes against."),
    click.option("--verifier", "verifiers", multiple=True, help="Verification: person code, repeatable."),
    click.option("--days", type=click.IntRange(1, 3650), help="Notice: days it runs (at least the rule's)."),
    click.option("--first-cadre", help="Pairing: first pairing cadre's code."),
    click.option("--second-cadre", help="Pairing: second pairing cadre's code."),
    click.option("--pair", "pairings", multiple=True, callback=lambda c, p, v: parsing.pairings(v),
                 help="Pairing for a list: CASE:FIRST[:SECOND], one per case, repeatable."),
    click.option("--measure", "measures", multiple=True, callback=parsing.callback(inputs.measure),
                 help="Plan: CATEGORY:DESCRIPTION, repeatable."),
    click.option("--assignee", help="Problem assignment: the responsible person's code."),
    click.option("--lead-unit", help="Problem assignment: the lead unit (牵头单位)."),
    click.option("--responsible-unit", help="Problem assignment: the responsible unit (责任单位)."),
    date_option("--due", "due", "Problem assignment: rectification deadline."),
    project_step_options,
    expect_version,
)


@click.command()
@step_options
@click.option("--each", is_flag=True, help="A list: do the ready cases in one act and report every refused case "
                                           "with its rules (exit 1 if any was refused), instead of all or none.")
@pass_ctx
def step(ctx: Ctx, procedure, step_key, case_ids, each, **given):
    """Do STEP of PROCEDURE on one case or a village's list of cases (all or none, or --each)."""
    from engine.domain.cases import StepInput
    from engine.services.procedures import perform_step
    inputs = StepInput(**{k: tuple(v) if isinstance(v, list) else v for k, v in given.items()})
    if each:
        return _step_each(ctx, procedure, step_key, list(case_ids), inputs)
    try:
        done = perform_step(ctx.app(), ctx.actor(), procedure, step_key, list(case_ids), inputs)
    except JingzhunError as exc:
        _refused_too(ctx, exc)
        raise
    for r in done:
        say(views.step_done(ctx, procedure, step_key, r))


def _refused_too(ctx: Ctx, exc: JingzhunError) -> None:
    """All or none, refused: the list's other refused cases, each with its rules (the error names the first)."""
    refused = getattr(exc, "refused_cases", None) or {}
    if len(refused) < 2:
        return
    from engine.services.list_steps import ListResult
    result = ListResult(refused=refused)
    for case_id in list(refused)[1:]:
        _say_refused(ctx, result, case_id)
    err.print(visible(ctx.text("step_list_refused", refused=len(refused))))


def _say_refused(ctx: Ctx, result, case_id: int) -> None:
    """A refused case of a list, with its rules and their codes."""
    err.print(visible(ctx.text("step_refused_case", case=case_id,
                               reasons="；".join(result.reasons(ctx.app(), case_id, ctx.lang, coded=True)))))


def _step_each(ctx: Ctx, procedure: str, step_key: str, case_ids: list[int], inputs) -> int:
    from engine.services.list_steps import perform_list_step
    result = perform_list_step(ctx.app(), ctx.actor(), procedure, step_key, case_ids, inputs)
    for case_id in dict.fromkeys(case_ids):
        if case_id in result.done:
            say(views.step_done(ctx, procedure, step_key, result.done[case_id]))
        else:
            _say_refused(ctx, result, case_id)
    say(ctx.text("step_each_summary", done=len(result.done), refused=len(result.refused)))
    return 1 if result.refused else 0


@click.group()
def notice():
    """Public notices (公示) and objections raised during them."""


notice_arg = click.argument("notice_id", type=CASE_ID)


@notice.command("show")
@notice_arg
@json_option
@pass_ctx
def notice_show(ctx: Ctx, notice_id, as_json):
    """Show a notice, the cases it lists and its objections."""
    from engine.reads.listings import notice_detail
    data = notice_detail(ctx.app(), ctx.actor(), notice_id)
    emit(data, as_json, lambda: views.print_notice(ctx, data))


@notice.command("render")
@notice_arg
@click.option("--html", "html_file", type=click.Path(dir_okay=False, writable=True),
              help="Write the printable notice for the board (HTML) to this file.")
@pass_ctx
def notice_render(ctx: Ctx, notice_id, html_file):
    """The notice as posted on the board (text kept since posting), or printable HTML. It never shows
    an ID number, phone number, bank account or health detail."""
    from engine.adapters.private_files import write_private
    from engine.services.notices import notice_for_reader, render
    app = ctx.app()
    view, posted = notice_for_reader(app, ctx.actor(), notice_id)
    if html_file:
        write_private(html_file, render(app, view, ctx.lang, html=True))      # mode 0600: personal data
        return say(ctx.label("cli.written").format(file=html_file))
    say(posted if posted and ctx.lang == "zh" else render(app, view, ctx.lang))


@notice.command("object")
@notice_arg
@case_arg
@click.option("--objector", required=True, help="Who raised it (a villager's name).")
@click.option("--content", required=True)
@date_option("--date", "filed_on", "Date it was raised (default today).")
@pass_ctx
def notice_object(ctx: Ctx, notice_id, case_id, objector, content, filed_on):
    """Record an objection to a case on a notice; it blocks the procedure until resolved."""
    from engine.services.case_actions import file_objection
    oid = file_objection(ctx.app(), ctx.actor(), notice_id, case_id, objector, content, filed_on)
    say(ctx.text("objection_recorded", id=oid))


@notice.command("resolve")
@click.argument("objection_id", type=CASE_ID)
@click.option("--uphold", "upheld", flag_value=True, default=None, help="The objection is right: reject the procedure.")
@click.option("--dismiss", "upheld", flag_value=False, help="The objection is unfounded: the procedure goes on.")
@click.option("--reason", required=True)
@pass_ctx
def notice_resolve(ctx: Ctx, objection_id, upheld, reason):
    """Resolve an objection."""
    from engine.services.case_actions import resolve_objection
    if upheld is None:
        raise click.UsageError(ctx.text("uphold_or_dismiss"))
    outcome = resolve_objection(ctx.app(), ctx.actor(), objection_id, upheld, reason)
    say(ctx.text("objection_resolved", id=objection_id, outcome=ctx.code_label("resolution", outcome)))


@click.group()
def case():
    """Cases: register one of any kind, show one, list many, what a case needs next."""


@case.command("add")
@click.argument("kind", callback=parsing.coded("kind", parsing.kinds_of, strict=True),
                shell_complete=parsing.completion(parsing.kinds_of))
@click.option("--region", "region_code", required=True, help="Code of the region the case belongs to.")
@click.option("--title", required=True, help="What the case is called (a name, a place).")
@click.option("--attr", "attrs", multiple=True, callback=parsing.callback(inputs.field), help="KEY=VALUE, repeatable.")
@pass_ctx
def case_add(ctx: Ctx, kind, region_code, title, attrs):
    """Register a case of any kind (households, villages and projects have richer commands)."""
    from engine.services.registration import register_case
    case_id = register_case(ctx.app(), ctx.actor(), kind, region_code, title, dict(attrs or ()))
    stage = ctx.config.workflows[kind].initial
    say(ctx.text("case_added", case=case_id, kind=ctx.label("kind." + kind), stage=ctx.label("stage." + stage)))


@case.command("show")
@case_arg
@click.option("--full-ids", is_flag=True, help="Show whole ID numbers (otherwise masked).")
@json_option
@pass_ctx
def case_show(ctx: Ctx, case_id, full_ids, as_json):
    """Show a case: members, procedures with every step, evidence, pairings, plan."""
    from engine.reads.case_record import case_detail
    data = case_detail(ctx.app(), ctx.actor(), case_id, full_ids, ctx.lang)
    emit(data, as_json, lambda: views.print_case(ctx, data))


@case.command("list")
@click.option("--kind", callback=parsing.coded("kind", parsing.kinds_of, strict=True), help="Code or label (贫困户).",
              shell_complete=parsing.completion(parsing.kinds_of))
@click.option("--stage", callback=parsing.coded("stage", parsing.stages_of, strict=True), help="Code or label (巩固期).",
              shell_complete=parsing.completion(parsing.stages_of))
@click.option("--region", "region_code")
@click.option("--waiting", is_flag=True, help="Only cases waiting for a step I may do.")
@click.option("--limit", type=click.IntRange(0, None), default=None)
@json_option
@pass_ctx
def case_list(ctx: Ctx, kind, stage, region_code, waiting, limit, as_json):
    """List cases in my jurisdiction."""
    from engine.reads.queries import list_cases
    rows = list_cases(ctx.app(), ctx.actor(), kind, stage, region_code, waiting, limit)
    if as_json:
        return stream_json(rows)
    tsv(*ctx.text("case_list_header").split("\t"))
    count = 0
    for r in rows:   # printed row by row (a table would be built in memory first)
        tsv(r["id"], r["title"], r["region"], ctx.label("stage." + r["stage"]), views.waiting_for(ctx, r))
        count += 1
    footer(ctx.text("case_count", n=count))


@case.command("next")
@case_arg
@date_option("--as-of", "as_of", "What it needs as of this date (default: today).")
@json_option
@pass_ctx
def case_next(ctx: Ctx, case_id, as_of, as_json):
    """What the case still needs, and who may do it."""
    from engine.reads.queries import next_for
    dated = {"as_of": as_of} if as_of and "as_of" in inspect.signature(next_for).parameters else {}
    if as_of and not dated:
        from engine.domain.errors import BadInput
        raise BadInput("input.as_of_unsupported")   # TODO: drop once next_for takes as_of= (issue 9)
    data = next_for(ctx.app(), ctx.actor(), case_id, ctx.lang, **dated)
    emit(data, as_json, lambda: views.print_next(ctx, data))


COMMANDS = (evidence, step, notice, case)
