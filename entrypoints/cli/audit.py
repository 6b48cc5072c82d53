"""Accountability and proof: inspection flags, the audit log, tracing, problem items and outcomes."""
from __future__ import annotations

from pathlib import Path

import click

from engine.domain.inputs import published_head

from . import parsing, trace_views
from .context import CASE_ID, Ctx, pass_ctx
from .options import date_option, json_option
from .printing import emit, footer, say, stream_json, tsv
from .helptext import command, group


@group("inspect")
def inspect_group():
    pass


@inspect_group.command("flags")
@click.option("--region", "region_code", callback=parsing.region_named())
@click.option("--kind", "kinds", multiple=True)
@click.option("--case", "case_id", type=click.IntRange(min=1))
@click.option("--person", "person_code")
@json_option
@pass_ctx
def inspect_flags(ctx: Ctx, region_code, kinds, case_id, person_code, as_json):
    from engine.reads.inspection import ranked
    from engine.reads.record_warnings import checked_words, leads_shown
    from .printing import err
    actor = ctx.actor()
    found = ranked(ctx.app(), actor, region_code, kinds, case_id, person_code)
    shown, altered = leads_shown(ctx.app(), found, ctx.lang)    # the record they rest on altered: said first
    checked = checked_words(ctx.app(), found, ctx.lang)          # and how much of it was checked whole
    for line in (altered or {}).get("lines", []) + ([checked] if checked else []):
        (err.print if as_json else click.echo)(line)
    if as_json:
        return stream_json(shown)
    from engine.domain.errors import joined
    from engine.reads.case_lists import region_namer
    scopes = [region_code] if region_code else sorted({a.region_code for a in actor.assignments})
    region = region_namer(ctx.app())
    click.echo(ctx.label("flag.heading").format(region=joined([region(c) for c in scopes], ctx.lang) or "-")
               + (ctx.label("flag.heading_case").format(case=case_id) if case_id else "")
               + (ctx.label("flag.heading_person").format(person=person_code) if person_code else ""))
    count = 0
    for f, said in zip(found, shown):
        click.echo(("⚠ " + ctx.label("record.altered.lead") + " — " if said["record_altered"] else "")
                   + flag_line(ctx, f, region(f.region)))
        count += 1
    if not count:       # said whether piped or not: a heading alone reads as if the leads were cut off
        click.echo(ctx.label("flag.none"))
    else:
        footer(ctx.label("flag.count" if count > 1 else "flag.count_one").format(count=count))


@inspect_group.command("activity")
@click.option("--action")
@click.option("--person", "person_code")
@click.option("--before", type=click.IntRange(min=1))
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@json_option
@pass_ctx
def inspect_activity(ctx: Ctx, action, person_code, before, limit, as_json):
    from engine.reads.oversight import activity
    found = activity(ctx.app(), ctx.actor(), action=action, person=person_code, before=before, limit=limit)
    if as_json:
        return emit(found, True)
    for e in found["events"]:
        click.echo(activity_line(ctx, e))
    if found["older"]:
        footer(ctx.text("activity.older", before=found["older"]))
    elif not found["events"]:
        footer(ctx.text("activity.none"))


def activity_line(ctx: Ctx, e: dict) -> str:
    def posts(v) -> str:          # [role, region] pairs: a post's roles, the posts a deactivation ended
        return ", ".join(f"{ctx.role(r)}/{g}" for r, g in v) if isinstance(v, list) else str(v)
    shown = {"table": lambda v: ctx.label(f"web.export.table.{v}"), "status": lambda v: ctx.label(f"web.export.status.{v}"),
             "granted_role": ctx.role, "revoked_role": ctx.role, "owner_role": ctx.role,
             "rung": lambda v: ctx.label("supervise.rung.none") if v == "-1"
             else ctx.label("supervise.rung.level").format(level=v),
             "rule": lambda v: ctx.code_label("rule", v), "step": lambda v: ctx.code_label("step", v),
             "procedure": lambda v: ctx.code_label("procedure", v),
             "type": lambda v: ctx.code_label("evidence", v), "mode": lambda v: ctx.label(f"activity.mode.{v}"),
             "delivery": lambda v: ", ".join(ctx.code_label("channel.kind", c) for c in v.split(",")),
             "roles": posts, "posts": posts,
             "stages": lambda v: ", ".join(f"{ctx.code_label('stage', s)} {n}" for s, n in v)}
    detail = " · ".join(ctx.label("activity.pair").format(what=ctx.label(f"activity.key.{k}"),
                                                          value=shown.get(k, str)(v)) for k, v in e["detail"])
    at = parsing.local_time(ctx, e["at"]) if e["at"] else "-"
    who = f"{ctx.label('activity.system')} ({e['person']})" if e.get("system") else \
        f"{e['person_name']} ({e['person']}, {ctx.role(e['role'])})"
    return (f"#{e['case_seq']}  {at}  {who}  "
            f"{ctx.code_label('event', e['action'])}  {e['region_name'] or e['region'] or '-'}"
            + (f"  {detail}" if detail else ""))


def flag_line(ctx: Ctx, f, region: str | None = None) -> str:
    L = ctx.label
    where = f"{L('flag.case')} {f.case_id} {f.case_title} ({region or f.region}) — " if f.case_id else ""
    who = f"{L('flag.person')} {f.person[0]} {f.person[1]}: " if f.person else ""
    events = ", ".join(str(s) for s in f.events[:20]) + (f" … (+{len(f.events) - 20})" if len(f.events) > 20 else "")
    return f"[{L('flag.' + f.kind)}] {where}{who}{f.text(ctx.config, ctx.lang)} — {L('flag.events')} {events}"


@group()
def audit():
    pass


@audit.command("verify")
@click.option("--against", callback=parsing.callback(published_head))
@click.option("--witnesses", "witness_list", is_flag=False, flag_value="", default=None)
@json_option
@pass_ctx
def audit_verify(ctx: Ctx, against, witness_list, as_json):
    from engine.reads.audit_seal import check_witnesses, witnesses
    from engine.reads.audit_verify import stray_files
    from engine.reads.record_warnings import verify_remembered
    require_auditor(ctx)
    report = verify_remembered(ctx.app(), ctx.actor(), against)     # kept for the leads' readers
    if witness_list is not None:
        targets = [w.strip() for w in witness_list.split(",") if w.strip()] or witnesses()
        if not targets:
            from engine.domain.errors import BadInput
            raise BadInput("audit.no_witness")
        report.damage.extend(check_witnesses(ctx.app(), targets))
    strays = stray_files(ctx.app())
    from engine.reads.audit_damage import by_cause
    cause = {c: root.where for root, caused in by_cause(report.damage) for c in caused}   # what it follows from
    data = {"intact": report.intact, "events": report.events, "cases": report.cases, "evidence": report.evidence,
            "damage": [{"kind": d.kind, "where": d.where, "detail": d.render_detail(ctx.config.labels, ctx.lang),
                        **({"caused_by": cause[d]} if d in cause else {})} for d in report.damage],
            "stray_files": strays, "macs_checked": report.macs_checked}
    if against is not None:
        data["published_head"] = {"seq": against[0], "matched": report.after_head is not None,
                                  "events_after": report.after_head}
    emit(data, as_json, lambda: print_verified(ctx, report, strays, against))
    if not report.intact:
        raise click.exceptions.Exit(1)


def require_auditor(ctx: Ctx) -> None:
    """Only read-only roles (inspectors) and administrators verify the whole log."""
    from engine.domain.errors import AuthError
    actor = ctx.actor()
    allowed = [name for name, r in ctx.config.roles.items() if r.read_only or r.admin]
    if not any(a.role in allowed for a in actor.assignments):
        raise AuthError("auth.wrong_role", person=actor.code, action="audit verify", roles=", ".join(allowed),
                        region="-")


def print_verified(ctx: Ctx, report, strays: list[str], against: tuple[int, str] | None = None) -> None:
    from engine.reads.audit_damage import by_cause
    say(ctx.text("verify_counts", events=report.events, cases=report.cases, evidence=report.evidence))
    if report.after_head is not None:
        say(ctx.text("head_matched", seq=against[0]))
    if not report.macs_checked:     # hashes alone: whoever holds the database can recompute them
        from engine.adapters.keyring import key_path
        file = str(key_path(ctx.app().settings.home))
        if against is None:
            say(ctx.text("verify_no_key", file=file))
        elif report.after_head is None:         # the head disagrees: said below among the damage
            say(ctx.text("verify_no_key_head_differs", file=file))
        elif report.after_head:                 # the events after the head: hashes alone
            say(ctx.text("verify_no_key_after_head", file=file, seq=against[0], n=report.after_head))
        else:                                   # every event lies within the head, which proves them
            say(ctx.text("verify_no_key_head_covers", file=file, seq=against[0]))
    causes = by_cause(report.damage)
    for d, caused in causes:        # a root cause, and what follows from it below it (not findings of their own)
        say(ctx.text("damage", what=d.render(ctx.config.labels, ctx.lang)))
        if caused:
            say(ctx.text("damage_caused", n=len(caused)))
        for c in caused:
            say(ctx.text("damage_caused_line", what=c.render(ctx.config.labels, ctx.lang)))
    if strays:                      # files nobody's evidence names: with damage found, perhaps a deleted record's
        say(ctx.text("stray_files" if report.intact else "stray_files_damaged", n=len(strays), files=", ".join(strays[:20]) + (" …" if len(strays) > 20 else "")))
    intact = ctx.text("intact") if report.macs_checked else ctx.text("intact_unsigned")
    roots, caused = len(causes), len(report.damage) - len(causes)
    say(intact if report.intact else ctx.text("damage_found_one" if roots == 1 else "damage_found", n=roots)
        + (ctx.text("damage_found_caused", n=caused) if caused else ""))


@audit.command("seal")
@pass_ctx
def audit_seal(ctx: Ctx):
    from engine.reads.audit_verify import seal
    row = seal(ctx.app(), ctx.actor())
    say(ctx.text("nothing_to_seal") if row is None else
        ctx.text("sealed", events=row["events"], seq=row["upto_seq"], hash=row["hash"]))


@audit.command("rotate-key")
@pass_ctx
def audit_rotate_key(ctx: Ctx):
    from engine.services.setup import rotate_record_key
    public_key = rotate_record_key(ctx.app(), ctx.actor())
    say(ctx.text("key_rotated", key=public_key))
    say(ctx.text("key_server_takes"))


@audit.command("head")
@json_option
@pass_ctx
def audit_head(ctx: Ctx, as_json):
    from engine.reads.audit_seal import signed_head
    from engine.domain.errors import RuleViolation
    ctx.actor()
    found = signed_head(ctx.app())
    if found is None:
        raise RuleViolation("audit.no_checkpoint")
    emit(found, as_json, lambda: _print_head(ctx, found))


def _print_head(ctx: Ctx, found: dict) -> None:
    """SEQ:HASH alone on stdout (scripts pass it to --against); its signature on stderr."""
    from .printing import err
    click.echo(f"{found['seq']}:{found['hash']}")
    if found["signature"]:
        err.print(ctx.text("head_signed", key=found["public_key"], signature=found["signature"]))


@command()
@click.argument("case_id", type=CASE_ID, required=False)
@click.option("--person", "person_code")
@click.option("--before", type=click.IntRange(1, None), default=None)
@click.option("--act", "action", default=None)
@click.option("--steps-before", type=click.IntRange(1, None), default=None)
@click.option("--steps", "step_group", default=None)
@click.option("--responsibilities-before", type=click.IntRange(1, None), default=None)
@click.option("--responsibilities", "responsibility_group", default=None)
@click.option("--html", "html_file", type=click.Path(dir_okay=False, writable=True))
@json_option
@pass_ctx
def trace(ctx: Ctx, case_id, person_code, before, action, steps_before, step_group, responsibilities_before,
          responsibility_group, html_file, as_json):
    from engine.domain.errors import BadInput
    from engine.adapters.private_files import write_private
    from engine.reads.trace import Page, case_trace, person_trace, render_html
    if (case_id is None) == (person_code is None):
        raise BadInput("trace.case_or_person")
    app = ctx.app()
    data = (case_trace(app, ctx.actor(), case_id, ctx.lang) if case_id
            else person_trace(app, ctx.actor(), person_code, ctx.lang, before=before, action=action,
                              steps=Page(steps_before, step_group),
                              responsibilities=Page(responsibilities_before, responsibility_group)))
    if html_file:
        page = render_html(app, data, ctx.lang, "trace_case.html" if case_id else "trace_person.html")
        write_private(html_file, page)      # mode 0600: personal data
        say(ctx.label("cli.written").format(file=html_file))
    else:
        printer = trace_views.print_case_trace if case_id else trace_views.print_person_trace
        emit(data, as_json, lambda: printer(ctx, data))
    if case_id and not data["integrity"]["intact"]:
        raise click.exceptions.Exit(1)      # damage found: a script or an inspector's checklist must see it


@group()
def problem():
    pass


@problem.command("add")
@click.option("--region", required=True, callback=parsing.region_named())
@click.option("--source", required=True)
@click.option("--description", required=True)
@date_option("--found-on", "found_on")
@click.option("--finding",
              callback=parsing.coded("finding"))
@click.option("--case", "cases", multiple=True, type=CASE_ID)
@click.option("--file", type=click.Path(exists=True, dir_okay=False))
@pass_ctx
def problem_add(ctx: Ctx, region, source, description, found_on, finding, cases, file):
    from workflows.problem import ProblemInput, register_problem
    app = ctx.app()
    problem_id = register_problem(app, ctx.actor(), ProblemInput(
        region, source, description, found_on or app.clock.today(), finding, cases, Path(file) if file else None))
    say(ctx.label("cli.problem_recorded").format(id=problem_id))
    if finding == "wrong_exit" and cases:
        say(ctx.label("cli.wrong_exit_reopened").format(cases=", ".join(map(str, cases)), id=problem_id))


@problem.command("refer-overdue")
@click.option("--region", required=True, callback=parsing.region_named())
@pass_ctx
def problem_refer_overdue(ctx: Ctx, region):
    from workflows.problem import refer_overdue
    referred = refer_overdue(ctx.app(), ctx.actor(), region)
    say(ctx.label("cli.referred").format(count=len(referred), ids=", ".join(map(str, referred)) or "-"))


@group()
def accountability():
    pass


@accountability.command("record")
@click.option("--person")
@click.option("--organisation")
@click.option("--region", callback=parsing.region_named())
@click.option("--outcome", required=True)
@click.option("--reason", required=True)
@date_option("--decided-on", "decided_on")
@click.option("--problem", "problem_id", type=CASE_ID)
@pass_ctx
def accountability_record(ctx: Ctx, person, organisation, region, outcome, reason, decided_on, problem_id):
    from engine.services.accountability import OutcomeInput, record_outcome
    app = ctx.app()
    oid = record_outcome(app, ctx.actor(), OutcomeInput(outcome, reason, decided_on or app.clock.today(), person,
                                                        organisation, region, problem_id))
    say(ctx.label("cli.outcome_recorded").format(id=oid))


@accountability.command("done")
@click.argument("outcome_id", type=CASE_ID)
@date_option("--on", "done_on")
@pass_ctx
def accountability_done(ctx: Ctx, outcome_id, done_on):
    from engine.services.accountability import outcome_done
    app = ctx.app()
    outcome_done(app, ctx.actor(), outcome_id, done_on or app.clock.today())
    say(ctx.label("cli.outcome_done").format(id=outcome_id))


@accountability.command("list")
@click.option("--pending", is_flag=True)
@json_option
@pass_ctx
def accountability_list(ctx: Ctx, pending, as_json):
    from engine.reads.oversight import outcomes
    app = ctx.app()
    found = [o for o in outcomes(app, ctx.actor()) if not (pending and o["done_on"])]
    if as_json:
        return emit(found, True)
    tsv(*ctx.text("outcome_list_header").split("\t"))
    for o in found:
        who = ctx.text("outcome_person", name=o["person_name"], code=o["person"]) if o["person"] else o["organisation"]
        state = o["done_on"] or ctx.text("outcome_overdue" if o["overdue_days"] else "outcome_pending")
        tsv(o["id"], o["decided_on"], ctx.code_label("outcome", o["outcome"]), who,
            o["region_name"] or o["region"], o["problem_id"] or "-", o["due_on"] or "-", state)
    footer(ctx.text("outcome_count", count=len(found)))


COMMANDS = (inspect_group, audit, trace, problem, accountability)
