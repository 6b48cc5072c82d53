"""Work on cases: evidence, steps, notices and objections; reading cases (show, list, next)."""
from __future__ import annotations

from itertools import chain
from pathlib import Path
from typing import Iterator

import click

from engine.domain import inputs
from engine.domain.errors import JingzhunError

from . import parsing, views
from .context import CASE_ID, Ctx, pass_ctx
from .options import case_arg, date_option, either, expect_version, json_option, project_step_options, stack, void_signoffs
from .printing import emit, err, footer, say, stream_json, tsv, visible
from .helptext import command, group


@group()
def evidence():
    pass


@evidence.command("add")
@case_arg
@click.argument("etype", callback=parsing.coded("evidence"))
@click.option("--field", "fields", multiple=True, callback=parsing.callback(inputs.field))
@click.option("--file", "file", type=click.Path(exists=True, dir_okay=False))
@click.option("--replace", is_flag=True)
@click.option("--reason")
@void_signoffs
@click.option("--confirm-figure", is_flag=True)
@expect_version
@pass_ctx
def evidence_add(ctx: Ctx, case_id, etype, fields, file, replace, reason, void_signoffs, confirm_figure, expect_version):
    from engine.domain.inputs import codes_with_prefix, to_code
    from engine.services.case_actions import attach_evidence
    named = codes_with_prefix(ctx.config.labels, "field")      # a field by its name too (申请人), as a sheet's header
    fields = {to_code(name, named): value for name, value in fields}
    eid = attach_evidence(ctx.app(), ctx.actor(), case_id, etype, fields, Path(file) if file else None,
                          replace=replace, void_signoffs=void_signoffs, reason=reason, expect_version=expect_version,
                          confirm_figure=confirm_figure)
    say(ctx.text("evidence_attached", id=eid, type=ctx.label("evidence." + etype), case=case_id))
    from engine.domain.evidence import rates_read
    for said in rates_read(ctx.config, etype, fields, ctx.lang):     # 0.5 is 50%: said back
        say(said)


votes = click.IntRange(0, 100000)
step_options = stack(
    click.argument("procedure", callback=parsing.coded("procedure")),
    click.argument("step_key", metavar="STEP", callback=parsing.coded("step")),
    click.argument("case_ids", nargs=-1, type=CASE_ID),
    date_option("--date", "date"),
    either("decision", ("--approve", "approve"), ("--reject", "reject")),
    click.option("--reason"),
    click.option("--attendance", type=votes),
    click.option("--for", "votes_for", type=votes),
    click.option("--against", "votes_against", type=votes),
    click.option("--vote", "votes", multiple=True, callback=lambda c, p, v: parsing.votes(v)),
    click.option("--minutes", type=click.Path(exists=True, dir_okay=False, path_type=Path)),
    click.option("--verifier", "verifiers", multiple=True),
    click.option("--days", type=click.IntRange(1, 3650)),
    click.option("--first-cadre"),
    click.option("--second-cadre"),
    click.option("--pair", "pairings", multiple=True, callback=lambda c, p, v: parsing.pairings(v)),
    click.option("--measure", "measures", multiple=True, callback=parsing.callback(inputs.measure)),
    click.option("--assignee"),
    click.option("--lead-unit"),
    click.option("--responsible-unit"),
    date_option("--due", "due"),
    click.option("--type", "monitoring_type"),
    project_step_options,
    expect_version,
)


@command()
@step_options
@click.option("--each", is_flag=True)
@click.option("--region", "region_code", callback=parsing.region_named(("village", "township", "county")))
@pass_ctx
def step(ctx: Ctx, procedure, step_key, case_ids, each, region_code, **given):
    from engine.domain.cases import StepInput
    from engine.services.procedures import perform_step
    inputs = StepInput(**{k: tuple(v) if isinstance(v, list) else v for k, v in given.items()})
    if region_code:        # every case of a village, township or county waiting at the step: one list, each told
        from engine.services.list_steps import list_of_region
        listed = list_of_region(ctx.app(), ctx.actor(), region_code, procedure, step_key, case_ids)
        if not listed:
            say(ctx.text("step_region_none", region=region_code))
            return 0
        return _step_each(ctx, procedure, step_key, listed, inputs)
    if not case_ids:
        raise click.UsageError(ctx.text("step_no_cases"))
    if each:
        return _step_each(ctx, procedure, step_key, list(case_ids), inputs)
    try:
        done = perform_step(ctx.app(), ctx.actor(), procedure, step_key, list(case_ids), inputs)
    except JingzhunError as exc:
        if ctx.for_client:      # on the server: a case out of reach as unknown, as `--each` says it
            from engine.services.list_steps import told_unknown
            exc = told_unknown(exc)
        _refused_too(ctx, exc, len(case_ids))
        raise exc from None
    for r in done:
        say(views.step_done(ctx, procedure, step_key, r))


def _refused_too(ctx: Ctx, exc: JingzhunError, listed: int) -> None:
    """All or none, refused: every refused case of a list, each by its number with its rules, and that
    none of the list was done (the error after says the first case's rule again, as a refusal does)."""
    refused = getattr(exc, "refused_cases", None) or {}
    if not refused or listed < 2:
        return
    from engine.services.list_steps import ListResult
    _say_grouped(ctx, ListResult(refused=refused), list(refused))
    err.print(visible(ctx.text("step_list_refused", refused=len(refused))))


def _say_grouped(ctx: Ctx, result, case_ids: list[int]) -> None:
    """A list's refused cases, each reason once with how many cases and their numbers (a village refused
    for one rule: two lines); a case refused alone by its number with its rules and their codes."""
    for alike in result.grouped(ctx.app(), case_ids, ctx.lang):
        reasons = "；".join(alike.texts(coded=True))
        if len(alike.cases) == 1:
            err.print(visible(ctx.text("step_refused_case", case=alike.cases[0], reasons=reasons)))
            continue
        err.print(visible(ctx.text("step_refused_group", count=len(alike.cases), reasons=reasons)))
        err.print(visible(ctx.text("step_refused_group_cases", cases=" ".join(map(str, alike.cases)))))


def _step_each(ctx: Ctx, procedure: str, step_key: str, case_ids: list[int], inputs) -> int:
    from engine.services.list_steps import perform_list_step, unknown_out_of_reach
    result = perform_list_step(ctx.app(), ctx.actor(), procedure, step_key, case_ids, inputs)
    if ctx.for_client:       # on the server: a case out of reach as unknown, as the API's /steps/each says it
        result = unknown_out_of_reach(result)
    for case_id in dict.fromkeys(case_ids):
        if case_id in result.done:
            say(views.step_done(ctx, procedure, step_key, result.done[case_id]))
    _say_grouped(ctx, result, case_ids)
    say(ctx.text("step_each_summary", done=len(result.done), refused=len(result.refused)))
    return 1 if result.refused else 0


@group()
def notice():
    pass


notice_arg = click.argument("notice_id", type=CASE_ID)


@notice.command("show")
@notice_arg
@json_option
@pass_ctx
def notice_show(ctx: Ctx, notice_id, as_json):
    from engine.services.notices import notice_printed, notice_shown
    data = notice_shown(ctx.app(), ctx.actor(), notice_id, ctx.lang)
    # its facts, then the notice as `notice render` prints it (in the reader's language, and as posted)
    emit(data, as_json, lambda: views.print_notice(ctx, data, notice_printed(ctx.app(), ctx.actor(), notice_id, ctx.lang)))


@notice.command("render")
@notice_arg
@click.option("--html", "html_file", type=click.Path(dir_okay=False, writable=True))
@pass_ctx
def notice_render(ctx: Ctx, notice_id, html_file):
    from engine.adapters.private_files import write_private
    from engine.services.notices import notice_printed
    printed = notice_printed(ctx.app(), ctx.actor(), notice_id, ctx.lang, html=bool(html_file))
    if html_file:
        write_private(html_file, printed)      # mode 0600: personal data
        return say(ctx.label("cli.written").format(file=html_file))
    say(printed)


@notice.command("object")
@notice_arg
@case_arg
@click.option("--objector", required=True)
@click.option("--content", required=True)
@date_option("--date", "filed_on")
@pass_ctx
def notice_object(ctx: Ctx, notice_id, case_id, objector, content, filed_on):
    from engine.services.case_actions import file_objection
    oid = file_objection(ctx.app(), ctx.actor(), notice_id, case_id, objector, content, filed_on)
    say(ctx.text("objection_recorded", id=oid))


@notice.command("resolve")
@click.argument("objection_id", type=CASE_ID)
@either("upheld", ("--uphold", True), ("--dismiss", False))
@click.option("--reason", required=True)
@date_option("--date", "ruled_on")
@click.option("--verifier", "verifiers", multiple=True)
@click.option("--file", "file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_ctx
def notice_resolve(ctx: Ctx, objection_id, upheld, reason, ruled_on, verifiers, file):
    from engine.services.case_actions import resolve_objection
    if upheld is None:
        raise click.UsageError(ctx.text("uphold_or_dismiss"))
    outcome = resolve_objection(ctx.app(), ctx.actor(), objection_id, upheld, reason, ruled_on, verifiers, file)
    say(ctx.text("objection_resolved", id=objection_id, outcome=ctx.code_label("resolution", outcome)))


@group()
def case():
    pass


@case.command("add")
@click.argument("kind", callback=parsing.coded("kind", parsing.kinds_of, strict=True),
                shell_complete=parsing.completion(parsing.kinds_of))
@click.option("--region", "region_code", required=True, callback=parsing.region_named())
@click.option("--title", required=True)
@click.option("--attr", "attrs", multiple=True, callback=parsing.callback(inputs.field))
@pass_ctx
def case_add(ctx: Ctx, kind, region_code, title, attrs):
    from engine.services.registration import register_case
    case_id = register_case(ctx.app(), ctx.actor(), kind, region_code, title, dict(attrs or ()))
    stage = ctx.config.workflows[kind].initial
    say(ctx.text("case_added", case=case_id, kind=ctx.label("kind." + kind), stage=ctx.stage(stage, kind)))


@case.command("show")
@case_arg
@click.option("--full-ids", is_flag=True)
@json_option
@pass_ctx
def case_show(ctx: Ctx, case_id, full_ids, as_json):
    from engine.reads.case_record import case_detail
    data = case_detail(ctx.app(), ctx.actor(), case_id, full_ids, ctx.lang)
    emit(data, as_json, lambda: views.print_case(ctx, data))


@case.command("list")
@click.option("--kind", callback=parsing.coded("kind", parsing.kinds_of, strict=True),
              shell_complete=parsing.completion(parsing.kinds_of))
@click.option("--stage", callback=parsing.coded("stage", parsing.stages_of, strict=True),
              shell_complete=parsing.completion(parsing.stages_of))
@click.option("--region", "region_code", callback=parsing.region_named())
@click.option("--waiting", is_flag=True)
@click.option("--mine", is_flag=True)
@click.option("--id-to-confirm", "id_to_confirm", is_flag=True)
@click.option("--monitoring", callback=parsing.coded("monitoring", lambda config: monitoring_words(config)),
              metavar="TYPE|any")
@click.option("--transition-ends", "transition_ends", type=int, metavar="YEAR")
@click.option("--limit", type=click.IntRange(1, None), default=None)
@json_option
@pass_ctx
def case_list(ctx: Ctx, kind, stage, region_code, waiting, mine, id_to_confirm, monitoring, transition_ends, limit,
              as_json):
    from engine.reads.case_lists import list_cases
    rows = list_cases(ctx.app(), ctx.actor(), kind, stage, region_code, waiting, limit, id_to_confirm=id_to_confirm,
                      monitoring=monitoring, transition_ends=transition_ends, mine=mine)
    due = _registrations_due(ctx) if waiting and not (kind or stage or region_code or id_to_confirm or monitoring
                                                      or transition_ends or limit) else iter(())
    if as_json:     # why a household is not identified in the reader's words, as the API says it
        return stream_json(chain(({**r, "ended": {**r["ended"], "reason": ctx.stored(r["ended"]["reason"])}}
                                  if r.get("ended") else r for r in rows), due))
    from engine.reads.case_lists import region_namer
    tsv(*ctx.text("case_list_header").split("\t"))
    count, region = 0, region_namer(ctx.app())      # a village's name (--json keeps the codes)
    for r in chain(rows, due):   # printed row by row (a table would be built in memory first)
        tsv(r["id"], ctx.stored(r["title"]), region(r["region"]), _stage_said(ctx, r),
            views.registration_for(ctx, r["registration"]) if "registration" in r else views.waiting_for(ctx, r))
        count += 1
    footer(ctx.text("case_count", n=count))


def _stage_said(ctx: Ctx, r: dict) -> str:
    """A listed case's stage as the figures count it; a household not identified with how its last
    identification ended (未通过识别（民主评议未通过：到会 41 人，赞成 3 人）)."""
    stage = ctx.stage(r.get("standing") or r["stage"], r["kind"])
    ended = r.get("ended")
    if not ended:
        return stage
    return ctx.text("case_list_ended", stage=stage, reason=ctx.stored(ended.get("reason")) or "-")


def _registrations_due(ctx: Ctx) -> Iterator[dict]:
    """After the cases waiting for my steps, those waiting for my office to register a sample check's wrong
    exit as a problem item, whoever's deadline it is (the /work page's and the API's list): each a case row
    with its `registration` (due date, owner, draws)."""
    from engine.reads.sample_waits import registrations_due
    for r in registrations_due(ctx.app(), ctx.actor()):
        yield {"id": r["case"], "kind": r["kind"], "title": r["title"], "region": r["region"], "stage": r["stage"],
               "pending_procedure": None, "pending_step": None,
               "registration": {k: r[k] for k in ("rule", "due_on", "owner", "owner_name", "owner_role", "mine", "draws",
                                                   "counting", "overdue_days")}}


@case.command("find")
@click.argument("query")
@json_option
@pass_ctx
def case_find(ctx: Ctx, query, as_json):
    from engine.reads.find import find_cases
    found = find_cases(ctx.app(), ctx.actor(), query)
    if as_json:
        return emit(found, True, None)
    from .printing import table
    rows = [(r["id"], ctx.stored(r["title"]), r["region_name"], ctx.stage(r["standing"], r["kind"]),
             "；".join(ctx.text("find.member", name=m["name"], relation=ctx.label(f"relation.{m['relation']}"),
                                id_number=m["id_number"]) + ("" if m["active"] else ctx.text("find.left"))
                      for m in r["members"]) or "-") for r in found["cases"]]
    if rows:
        table(ctx.text("find.header").split("\t"), rows)
    say(ctx.text(f"find.by.{found['by']}", query=found["query"], n=len(rows)) +
        (ctx.text("find.more", most=len(rows)) if found["more"] else ""))


def monitoring_words(config) -> dict[str, list[str]]:
    """The monitoring types by their labels (边缘易致贫户: edge), and `any` by its own."""
    from engine.domain.monitoring import ANY, monitoring_types
    words = lambda key: list((config.labels.get(key) or {}).values())  # noqa: E731
    return {**{k: words(f"field.monitoring_type.{k}") for k in monitoring_types(config.workflows["household"])},
            ANY: words("monitoring.any")}


@case.command("next")
@case_arg
@date_option("--as-of", "as_of")
@click.option("--procedure", metavar="NAME")
@json_option
@pass_ctx
def case_next(ctx: Ctx, case_id, as_of, procedure, as_json):
    from engine.reads.queries import next_for
    data = next_for(ctx.app(), ctx.actor(), case_id, ctx.lang, as_of=as_of, procedure=procedure or None)
    emit(data, as_json, lambda: views.print_next(ctx, data))


COMMANDS = (evidence, step, notice, case)
