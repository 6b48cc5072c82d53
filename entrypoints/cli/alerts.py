"""Deadlines, alerts and the scheduler (DOMAIN §6)."""
from __future__ import annotations

import os
from typing import Iterable

import click

from . import parsing
from .context import CASE_ID, Ctx, days_unit, pass_ctx
from .options import json_option, limit_option, now_option
from .printing import emit, footer, say, stream_json, tsv
from .helptext import group


def administrator(ctx: Ctx, action: str) -> None:
    """The jobs the scheduler runs by itself (sweep, digest, delivery) are run by hand, or by cron,
    only by an authenticated administrator: they write alerts and send messages in everyone's name."""
    from engine.domain.regions import ROOT
    from engine.services.org import require_admin
    require_admin(ctx.app(), ctx.actor(), ROOT, action)


def mark(ctx: Ctx, row: dict) -> str:
    return ctx.label("deadline.provisional_mark") if row.get("provisional") else ""


def what(ctx: Ctx, r: dict) -> str:
    return ctx.label("rule." + r["rule"]) + (f" / {ctx.label('step.' + r['step'])}" if r["step"] else "")


@group()
def deadline():
    pass


@deadline.command("list")
@click.option("--mine", is_flag=True)
@click.option("--overdue", is_flag=True)
@click.option("--status", type=click.Choice(["open", "done", "cancelled", "any"]), default="open", show_default=True)
@click.option("--region", "region_code", callback=parsing.region_named())
@click.option("--rule", callback=parsing.coded("rule", parsing.deadline_rules_of, strict=True))      # by its code or the name the list shows
@click.option("--case", "case_id", type=CASE_ID)
@limit_option
@json_option
@pass_ctx
def deadline_list(ctx: Ctx, mine, overdue, status, region_code, rule, case_id, limit, as_json):
    from engine.reads.deadlines import deadlines_streamed
    rows = deadlines_streamed(ctx.app(), ctx.actor(), mine=mine, status=None if status == "any" else status,
                              overdue=overdue, region=region_code, rule=rule, case_id=case_id, limit=limit)
    if as_json:
        return stream_json(rows)
    print_deadlines(ctx, rows)


def lapsed(ctx: Ctx, r: dict) -> str | None:
    """A deadline closed after it lapsed, said as a lapse (met late, or ended overdue), not 已办结/已撤销."""
    return lapse_words(ctx, r, r["lapsed_owner_name"]) if r.get("late_by") else None


def lapse_words(ctx: Ctx, d: dict, owner: str | None) -> str:
    """A lapse in words: closed when (or still open: whose now, if handed over since), how many of its own
    days late, who held it then (`owner`)."""
    if d["status"] == "open":
        return ctx.label("q2.late.open_handed" if d.get("handed_on") else "q2.late.open").format(
            days=d["late_by"], unit=days_unit(ctx, d["late_by"], d["counting"]), day=d.get("handed_on"),
            owner=owner or ctx.label("m3.late.nobody"), now=d.get("owner_name") or ctx.label("m3.late.nobody"))
    return ctx.label("m3.late." + ("done" if d["status"] == "done" else "cancelled")).format(
        closed_on=d.get("met_on") or d["closed_on"], days=d["late_by"], unit=days_unit(ctx, d["late_by"], d["counting"]),
        owner=owner or ctx.label("m3.late.nobody"))


def handed_words(ctx: Ctx, r: dict) -> str:
    """A deadline handed to its owner now (a leaver's, a vacant post's): on which day, from whom, and who
    held it when it lapsed, after the owner's code (a13 #4); "" for one they held from the start."""
    if not r.get("handed_on"):
        return ""
    nobody = ctx.label("m3.late.nobody")
    return ctx.label("q2.handed.lapsed" if r["handed_lapsed"] else "q2.handed").format(
        day=r["handed_on"], person=r["handed_from"] or nobody, lapsed=r["lapsed_under"] or nobody)


def print_deadlines(ctx: Ctx, rows: Iterable[dict]) -> None:
    """Printed row by row as they are read (a city's overdue list is 150,000 rows)."""
    click.echo(ctx.label("deadline.list_header"))
    count = 0
    for r in rows:
        state = ctx.label("deadline.overdue") if r["overdue"] else lapsed(ctx, r) or ctx.label("deadline.status." + r["status"])
        tsv(r["id"], r["case"], ctx.stored(r["title"]), what(ctx, r), f"{r['due_on']}{mark(ctx, r)}",
            (r["owner"] or "-") + handed_words(ctx, r), state)
        count += 1
    footer(ctx.label("deadline.list_count").format(n=count))


@deadline.command("reschedule")
@pass_ctx
def deadline_reschedule(ctx: Ctx):
    from engine.domain.regions import ROOT
    from engine.services.deadlines import reschedule
    from engine.services.org import require_admin
    app = ctx.app()
    require_admin(app, ctx.actor(), ROOT, "deadline reschedule")
    with app.transaction() as conn:
        moved = reschedule(conn, app.config, app.clock.now())
    say(ctx.label("deadline.rescheduled").format(**moved))


@deadline.command("press")
@click.argument("deadline_id", metavar="ID", type=CASE_ID)
@click.option("--note")
@json_option
@pass_ctx
def deadline_press(ctx: Ctx, deadline_id, note, as_json):
    from engine.services.press import press_deadline
    result = press_deadline(ctx.app(), ctx.actor(), deadline_id, note)
    emit(result, as_json, lambda: say(pressed_text(ctx, result)))


def pressed_text(ctx: Ctx, result: dict) -> str:
    """What a press answers: whom it pressed, over how many channels (or that nobody was reached)."""
    key = "deadline.pressed" if result["channels"] else "deadline.pressed_unreached"
    handed = ctx.label("supervise.press.handed").format(person=result["handed_from"], owner=result["owner_name"]) \
        if result.get("handed_from") else ""
    return handed + ctx.label(key).format(owner=result["owner_name"], code=result["owner"], n=result["channels"],
                                 days=result["days_overdue"], deadline=result["deadline"],
                                 unit=days_unit(ctx, result["days_overdue"], result["counting"]))


@group()
def alerts():
    pass


@alerts.command("sweep")
@now_option
@click.option("--mode", type=click.Choice(["all", "overdue", "reminders"]), default="all", show_default=True)
@json_option
@pass_ctx
def alerts_sweep(ctx: Ctx, now, mode, as_json):
    from engine.services.sweep import sweep
    administrator(ctx, "alerts sweep")
    result = sweep(ctx.app(), now=now, mode=mode).as_dict()
    levels = ", ".join(f"{k}: {v}" for k, v in result["by_level"].items()) or "-"
    emit(result, as_json, lambda: say(ctx.label("alerts.swept").format(**{**result, "by_level": levels})))


@alerts.command("dispatch")
@now_option
@click.option("--batch", type=click.IntRange(1, 10000), default=50, show_default=True)
@json_option
@pass_ctx
def alerts_dispatch(ctx: Ctx, now, batch, as_json):
    from notifications.channels import NotifySettings
    from notifications.dispatcher import dispatch
    administrator(ctx, "alerts dispatch")
    settings = NotifySettings.from_env(ctx.app().settings.home).check()     # a setting that cannot be meant: said
    result = dispatch(ctx.app(), settings, now=now, batch=batch).as_dict()
    emit(result, as_json, lambda: say(ctx.label("alerts.dispatched").format(**result) + (
        ctx.label("alerts.dispatched_not_needed").format(**result) if result["not_needed"] else "")))
    tried = result["delivered"] + result["retried"] + result["failed"] + result["deferred"]
    if result["failed"] or (tried and not result["delivered"]):
        raise click.exceptions.Exit(1)          # for cron and monitoring: messages are not getting through


@alerts.command("resend")
@click.argument("message_id", metavar="MESSAGE", type=CASE_ID)
@json_option
@pass_ctx
def alerts_resend(ctx: Ctx, message_id, as_json):
    # a message that failed for good, queued again (its number: `alerts list --failed`)
    from engine.services.resend import resend_message
    result = resend_message(ctx.app(), ctx.actor(), message_id)
    emit(result, as_json, lambda: say(ctx.text("resent", message=result["message"], person=result["person"],
                                               what=ctx.label("outbox.kind." + result["kind"]),
                                               channel=ctx.label("channel.kind." + result["channel"]))))


@alerts.command("digest")
@now_option
@json_option
@pass_ctx
def alerts_digest(ctx: Ctx, now, as_json):
    from engine.services.sweep import digest
    administrator(ctx, "alerts digest")
    result = digest(ctx.app(), now=now)
    unreachable = ctx.label("alerts.digest_unreachable").format(codes=", ".join(result["unreachable"]))
    emit(result, as_json, lambda: say(ctx.label("alerts.digested").format(**result)
                                      + (unreachable if result["unreachable"] else "")))


@alerts.command("list")
@click.option("--mine", is_flag=True)
@click.option("--level", type=click.IntRange(-1, 20))
@click.option("--status", type=click.Choice(["pending", "delivered", "failed", "not_needed"]))
@click.option("--failed", is_flag=True)
@click.option("--region", "region_code", callback=parsing.region_named())
@limit_option
@json_option
@pass_ctx
def alerts_list(ctx: Ctx, mine, level, status, failed, region_code, limit, as_json):
    from engine.reads.deadlines import alert_rows
    rows = alert_rows(ctx.app(), ctx.actor(), mine=mine, level=level, status="failed" if failed else status,
                      region=region_code, limit=limit, lang=ctx.lang)
    emit(rows, as_json, lambda: print_alerts(ctx, rows))


def print_alerts(ctx: Ctx, rows: list[dict]) -> None:
    click.echo(ctx.label("alerts.list_header"))
    for r in rows:
        click.echo(message_line(ctx, r) if r.get("id") is None else alert_line(ctx, r))
    footer(ctx.label("alerts.list_count").format(n=len(rows)))


def message_line(ctx: Ctx, r: dict) -> str:
    """A message of no alert (a digest, a first sign-in code, a 督办…): its kind, never its text; why it
    failed and what to do."""
    errors = "; ".join(m["error"] for m in r["messages"] if m["error"])
    return (f"-\t{r['what']}\t-\t-\t-\t{', '.join(r['recipients'])}\t{ctx.label('alerts.status.' + r['status'])}"
            + (f": {errors}" if errors else "") + (f" — {r['advice']}" if r.get("advice") else ""))


def alert_line(ctx: Ctx, r: dict) -> str:
    problems = [f"{m['channel']} #{m['outbox']}: {m['error']}" for m in r["messages"] if m["status"] == "failed"]
    if r["unreachable"]:
        problems.append(ctx.label("alerts.unreachable") + " " + ", ".join(r["unreachable"]))
    return (f"{r['id']}\t{r['level']}\t{r['case']} {r['title']}\t{what(ctx, r)}\t{r['due_on']}{mark(ctx, r)}\t"
            f"{', '.join(r['recipients']) or '-'}\t{ctx.label('alerts.status.' + r['status'])}"
            + (f" ({'; '.join(problems)})" if problems else ""))


@group()
def scheduler():
    pass


@scheduler.command("run")
@click.option("--sweep-minutes", type=click.IntRange(1, 60), default=5, show_default=True)
@click.option("--dispatch-seconds", type=click.IntRange(5, 3600), default=60, show_default=True)
@pass_ctx
def scheduler_run(ctx: Ctx, sweep_minutes, dispatch_seconds):
    from entrypoints.scheduler import run
    from .printing import out
    actor = ctx.actor() if ctx.as_code else None
    app = ctx.app()           # (with JINGZHUN_PUBLIC_URL, or the link base of the server last started here)
    from notifications.outbox import case_url
    say(ctx.text("serve_links", url=case_url(0).rsplit("/cases/", 1)[0]))
    if not os.environ.get("JINGZHUN_PUBLIC_URL"):
        say(ctx.text("serve_links_unset"))
    run(app, actor, sweep_minutes=sweep_minutes, dispatch_seconds=dispatch_seconds, console=out,
        lang=ctx.lang)


@scheduler.command("jobs")
@json_option
@pass_ctx
def scheduler_jobs(ctx: Ctx, as_json):
    from entrypoints.scheduler import stored_jobs
    ctx.actor()
    rows = stored_jobs(ctx.app())
    emit(rows, as_json, lambda: [tsv(r["id"], r["next_run"], r["trigger"]) for r in rows] if rows
         else footer(ctx.text("no_jobs")))          # (it printed nothing at all)


COMMANDS = (deadline, alerts, scheduler)
