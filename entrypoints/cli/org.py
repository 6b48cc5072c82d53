"""Setting up: init, the rules in force, regions, people and their roles, tokens and channels; the demo."""
from __future__ import annotations

import os

import click

from config import load_config
from engine.domain.errors import BadInput

from . import parsing
from .context import Ctx, cli_text, pass_ctx
from .options import alert_lang, csv_file, json_option, role_over_region
from .printing import emit, err, progress, say, table
from .serve import serve_options, serve_settings, workers_for
from . import sheet_rows
from .sheet_rows import skip_bad_option
from .helptext import command, group


@command()
@click.option("--admin-code", default="admin", show_default=True)
@click.option("--admin-name", default="系统管理员", show_default=True)
@pass_ctx
def init(ctx: Ctx, admin_code, admin_name):
    from sqlalchemy import make_url
    from engine.adapters.db import make_engine, schema_revision
    from entrypoints.bootstrap import init_home
    from migrations import HEAD_REVISION
    from config import add_required_params
    settings = ctx.settings()
    before = _revision_before(settings, make_engine, schema_revision)
    repaired: list = []
    # an installed policy lacking a parameter this version requires: added with its packaged value, before
    # the rules are read (they would be refused, naming it), said below and recorded as the new rules
    added = add_required_params(settings.home / "config") if (settings.home / "config" / "policy.yaml").is_file() else []
    if added:
        from engine.domain.errors import Msg
        repaired.append(Msg("cli.init_params_added", {"params": ", ".join(f"{k} = {v}" for k, v in added),
                                                        "file": str(settings.home / "config" / "policy.yaml")}))
    ctx._app, token = init_home(settings, config=ctx.config, admin_code=admin_code, admin_name=admin_name,
                                repaired=repaired)
    url = make_url(settings.db_url).render_as_string(hide_password=True)
    for done in repaired:              # what an interrupted upgrade or a restore had left wrong
        say(cli_text(done.key, ctx.lang, ctx.config, **done.params))
    if before is None:
        say(ctx.text("schema_created", url=url, revision=HEAD_REVISION))
    elif before != HEAD_REVISION:     # an upgrade: what else to do after it
        say(ctx.text("schema_upgraded", url=url, before=before, revision=HEAD_REVISION))
    else:
        say(ctx.text("schema_ready", url=url))
    if token:
        say(ctx.text("admin_created", code=admin_code))
        click.echo(token)


@command("move-database")
@click.option("--to", "to_url")
@click.option("--to-file", "to_file", type=click.Path(exists=True, dir_okay=False))
@pass_ctx
def move_database(ctx: Ctx, to_url, to_file):
    from engine.adapters.db import has_password, sqlite_file, url_from_file
    from engine.services.moving import move_database as move
    if bool(to_url) == bool(to_file):
        raise BadInput("move.target_missing")
    if to_url and has_password(to_url):
        raise BadInput("move.password_in_argv")
    url, app, actor = to_url or url_from_file(to_file), ctx.app(), ctx.actor()
    with progress(ctx, ctx.text("move.schema")) as advance:       # on a terminal: how far
        moved = move(app, actor, url,
                     lambda rows, name: advance(rows, ctx.text("move.progress", table=name, rows=rows)))
    table([ctx.text("move.col.table"), ctx.text("move.col.rows")], moved.rows.items())
    say(ctx.text("move.done", url=moved.target, tables=len(moved.rows), rows=sum(moved.rows.values()),
                 events=moved.rows["audit_events"]))
    setting = f"JINGZHUN_DB_FILE={os.path.abspath(to_file)}" if to_file else f"JINGZHUN_DB={moved.target}"
    say(ctx.text("move.next", setting=setting, source=sqlite_file(ctx.settings())))


def _revision_before(settings, make_engine, schema_revision) -> str | None:
    """The schema's revision before `init` runs (None: no database, or an empty one)."""
    try:
        engine = make_engine(settings)
    except Exception:        # no database yet (SQLite's file not made): init makes it
        return None
    try:
        return schema_revision(engine)
    finally:
        engine.dispose()


@group("config")
def config_group():
    pass


config_dir = click.option("--dir", "directory", type=click.Path(file_okay=False))


@config_group.command("check")
@config_dir
@pass_ctx
def config_check(ctx: Ctx, directory):
    from entrypoints.bootstrap import check_references
    cfg = load_config(directory) if directory else ctx.config
    check_references(cfg)
    wf = ", ".join(f"{k} v{v.version}" for k, v in cfg.workflows.items())
    say(ctx.text("config_ok", directory=cfg.directory, roles=len(cfg.roles), workflows=wf, version=cfg.version))
    if directory:          # what installing it would change here, before it does
        from config.changes import changes
        found = changes(ctx.config, cfg)
        change_summary(ctx, found, "config_changes_would", ctx.config.version)
        if any(c.kind == "dropped" for c in found):
            err.print(ctx.text("warning", text=ctx.text("config_drops_warning")))
    income_line_warnings(ctx, cfg)
    lacking_line_warnings(ctx, cfg)
    monitoring_line_warnings(ctx, cfg)
    deadline_warnings(ctx, cfg)


def lacking_line_warnings(ctx: Ctx, cfg) -> None:
    """A warning for each province of this installation's regions that has no income line at all for
    this year (or, in its last quarter, the next): its exits would be refused. Nothing without a
    database to look at."""
    from engine.domain.errors import render_text
    from engine.reads.administration import provinces_in_use
    try:
        provinces = provinces_in_use(ctx.app())
    except Exception:
        return
    for province, name, year in cfg.policy.lines_lacking(provinces, ctx.today()):
        text = render_text(cfg, "config_warning.income_line_lacking", {"province": province, "name": name,
                                                                        "year": year}, ctx.lang)
        err.print(ctx.text("warning", text=text))


def monitoring_line_warnings(ctx: Ctx, cfg) -> None:
    """A warning for this year (or, in its last quarter, the next) when the monitoring line has no value
    of its own for it: the latest line stands in (said with its year), or with none the risk
    eliminations of that year are refused. The administrator is told here; a cadre only that it waits."""
    from engine.domain.errors import render_text
    lines = cfg.policy.data.monitoring_line
    for year, used in cfg.policy.monitoring_lines_lacking(ctx.today()):
        key = "config_warning.monitoring_line_missing" if used else "config_warning.monitoring_line_lacking"
        params = {"year": year, "used": used, "line": f"{lines[used]:,.0f}" if used else "-"}
        err.print(ctx.text("warning", text=render_text(cfg, key, params, ctx.lang)))


def income_line_warnings(ctx: Ctx, cfg, only: tuple[str, int] | None = None) -> None:
    """A warning for each provincial income line the policy lacks for a year the national table has
    (the national line stands in for it: the office is to add it), or for `only` (province, year)."""
    from engine.domain.errors import render_text
    for province, name, year in cfg.policy.missing_income_lines():
        if only in (None, (province, year)):
            params = {"province": province, "name": name, "year": year,
                      "line": f"{cfg.policy.data.national_income_line[year]:,.0f}"}
            text = render_text(cfg, "config_warning.income_line_missing", params, ctx.lang)
            err.print(ctx.text("warning", text=text))


def deadline_warnings(ctx: Ctx, cfg) -> None:
    from engine.domain.errors import render_stored
    from engine.reads.deadlines import calendar_warnings, provisional_open
    for note in cfg.notes:
        err.print(ctx.text("note", text=render_stored(cfg, note, ctx.lang)))
    for warning in calendar_warnings(cfg, ctx.today(), ctx.lang):
        err.print(ctx.text("warning", text=warning))
    try:   # provisional deadlines already in the database, when there is one to look at
        n = provisional_open(ctx.app())
    except Exception:
        return
    if n:
        err.print(ctx.label("deadline.provisional_warning").format(n=n))


@config_group.command("install")
@click.argument("directory", type=click.Path(exists=True, file_okay=False))
@click.option("--drop-missing", is_flag=True)
@pass_ctx
def config_install(ctx: Ctx, directory, drop_missing):
    from engine.services.setup import install_config
    installed = install_config(ctx.app(), ctx.actor(), directory, drop_missing=drop_missing)
    say(ctx.text("rules_in_force", version=installed.version, home=ctx.settings().home))
    change_summary(ctx, installed.changes, "config_changes_installed", installed.previous)
    if installed.transition_ends_moved:     # a new transition period's length, every household's end moved
        say(ctx.text("transition_ends_moved", n=installed.transition_ends_moved))
    say(ctx.text("rules_server_takes"))
    lacking_line_warnings(ctx, installed.config)
    monitoring_line_warnings(ctx, installed.config)


SUMMARY_LINES = 30      # a summary longer than this says how many more


def change_summary(ctx: Ctx, found: list, heading: str, previous: str) -> None:
    """What a configuration changes against the rules in force (config/changes.py), a line each."""
    from engine.domain.errors import render_text
    from .context import packaged_config
    if not found:
        say(ctx.text("config_unchanged", previous=previous))
        return
    say(ctx.text(heading, previous=previous, n=len(found)))
    for change in found[:SUMMARY_LINES]:
        msg = change.msg()
        say("  " + render_text(packaged_config(), msg.key, msg.params, ctx.lang))
    if len(found) > SUMMARY_LINES:
        say("  " + ctx.text("config_changes_more", n=len(found) - SUMMARY_LINES))


@config_group.command("show")
@config_dir
@click.option("--province")
@click.option("--year", type=click.IntRange(1900, 2100))
@json_option
@pass_ctx
def config_show(ctx: Ctx, directory, province, year, as_json):
    if year and not province:
        raise BadInput("input.needs", option="--year", needed="--province")
    cfg = load_config(directory) if directory else ctx.config
    shown = province_params(cfg, province, year or ctx.today().year) if province else cfg.to_dict()
    emit(shown, as_json, lambda: click.echo(as_yaml(shown)))
    if province:
        income_line_warnings(ctx, cfg, (province, shown["year"]))


def as_yaml(data) -> str:
    """The configuration as its files are written (YAML, Chinese as it is); JSON with --json."""
    import json
    import yaml
    from .printing import to_json
    return yaml.safe_dump(json.loads(to_json(data)), allow_unicode=True, sort_keys=False, width=100).rstrip()


def province_params(cfg, province: str, year: int) -> dict:
    line = cfg.policy.income_line(province, year)
    return {"province": province, "year": year, "rules_version": cfg.version,
            "income_line": line[0] if line else None, "income_line_source": line[1] if line else None,
            "params": cfg.policy.params(province, year)}


@group()
def region():
    pass


@region.command("add")
@click.argument("code")
@click.argument("name")
@pass_ctx
def region_add(ctx: Ctx, code, name):
    from engine.services.org import add_regions
    add_regions(ctx.app(), ctx.actor(), [(code, name)])
    say(ctx.text("region_added", code=code, name=name))


# The national statistics bureau's division table (统计用区划代码, 城乡分类代码, 名称) reads as it is.
REGION_HEADERS = {"区划代码": "code", "代码": "code", "编码": "code", "统计用区划代码": "code", "行政区划代码": "code",
                  "区划编码": "code", "名称": "name", "区划名称": "name", "单位名称": "name", "地区名称": "name"}
REGION_LABELS = {"code": "division_code", "name": "region_name"}   # the columns' labels: field.<label>


@region.command("import")
@csv_file
@skip_bad_option
@pass_ctx
def region_import(ctx: Ctx, file, skip_bad):
    from engine.services.org import add_regions, region_problems, require_some_admin
    from workflows.household_codes import compact_id, excel_scientific
    require_some_admin(ctx.app(), ctx.actor(), "region import")      # once, before the file is read
    sheet = sheet_rows.read(ctx, file, ["code", "name"], {**REGION_HEADERS, **sheet_rows.labelled(ctx, REGION_LABELS)},
                            labels=REGION_LABELS)
    if not sheet.rows:      # a header alone (the wrong file, or one cut after it): refused as a household list is
        raise BadInput("import.no_region_rows", file=os.path.basename(file))
    # a code as an ID number is read: full-width digits (typed with a Chinese input method) and spaces
    pairs = lambda rows: [(compact_id(r["code"]), r["name"]) for r in rows]  # noqa: E731
    mangled = [(line, "code", BadInput("import.scientific_value", value=r["code"].strip()))
               for line, r in sheet.rows if excel_scientific(r["code"])]      # a spreadsheet's 3.60731E+11
    unchanged: set[str] = set()        # registered already under the same name: passed over, counted
    found = sheet_rows.untold(mangled, region_problems(ctx.app(), ctx.actor(), pairs(r for _l, r in sheet.rows),
                                                       sheet.lines, unchanged))
    with sheet_rows.good_rows(ctx, sheet, found, skip_bad, REGION_LABELS) as good:
        new = [(code, name) for code, name in pairs(good) if code not in unchanged]
        if new:
            source = {**sheet.source(len(good)), **({"unchanged_regions": len(unchanged)} if unchanged else {})}
            say(ctx.text("regions_imported", n=add_regions(ctx.app(), ctx.actor(), new, source=source,
                                                           before_commit=good.ready)))
        if unchanged:
            say(ctx.text("regions_unchanged" if new else "regions_none_new", n=len(unchanged),
                         file=os.path.basename(file)))


@region.command("list")
@click.option("--under")
@json_option
@pass_ctx
def region_list(ctx: Ctx, under, as_json):
    from engine.reads.listings import region_rows
    rows = region_rows(ctx.app(), ctx.actor(), under)
    emit(rows, as_json, lambda: table(_headers(ctx, "code", "name", "level"),
                                      [(r["code"], r["name"], ctx.code_label("level", r["level"])) for r in rows]))


def _headers(ctx: Ctx, *names: str) -> list[str]:
    return [ctx.text("col." + n) for n in names]


@group()
def person():
    pass


@person.command("add")
@click.argument("code")
@click.argument("name")
@click.option("--role", "roles", multiple=True, callback=parsing.role_specs)
@click.option("--no-code", "no_code", is_flag=True)
@click.option("--channel", "channels", multiple=True)
@click.option("--unit")
@alert_lang
@pass_ctx
def person_add(ctx: Ctx, code, name, roles, no_code, channels, unit, alert_lang):
    from engine.services.org import NewPerson, add_persons
    from notifications.contacts import parse_channel
    from .people import role_code
    reach = tuple(parse_channel(c, alert_lang) for c in channels)
    roles = tuple((role_code(ctx, role, region), region) for role, region in roles)   # by its name too (县扶贫办干部)
    made = add_persons(ctx.app(), ctx.actor(), [NewPerson(code, name, roles, not no_code, reach, unit)])
    say(ctx.text("person_added", code=code, name=name))
    waiting_said(ctx, [code])
    unheard_said(ctx, code)
    if code in made:
        enrolment_said(ctx, made[code])


def waiting_said(ctx: Ctx, codes: list[str]) -> None:
    """The roles of `codes` that wait for a second administrator (four eyes), if any."""
    from engine.services.role_proposals import pending
    waiting = pending(ctx.app(), ctx.actor(), codes)
    if waiting:
        say(ctx.text("roles_waiting", n=len(waiting), ids=" ".join(str(w["id"]) for w in waiting)))


def unheard_said(ctx: Ctx, code: str) -> None:
    """Work handed over to `code`, who has no channel to be told of it on (a13 #4), said to who appointed them."""
    from engine.reads.handed import handed_unheard
    found = handed_unheard(ctx.app(), ctx.actor(), code)
    if found:
        say(ctx.label("q2.unheard").format(**found))


def enrolment_said(ctx: Ctx, made) -> None:
    """Where an enrolment code went, or the paper code itself, printed last (once)."""
    expires = parsing.local_time(ctx, made.expires_at)       # the office's clock, not the server's
    if made.code is None:
        say(ctx.text("enrolment_sent", person=made.person, channels=made.delivery, expires=expires))
    else:
        said = "enrolment_paper_group" if getattr(made, "group_only", False) else "enrolment_paper"
        say(ctx.text(said, person=made.person, expires=expires))
        click.echo(made.code)


@person.command("import")
@csv_file
@click.option("--codes-file", "codes_file", type=click.Path(dir_okay=False))
@click.option("--no-code", "no_code", is_flag=True)
@skip_bad_option
@pass_ctx
def person_import(ctx: Ctx, file, codes_file, no_code, skip_bad):
    from engine.services.org import require_some_admin
    from .people import PERSON_EXPORTED, PERSON_HEADERS, PERSON_LABELS, import_people
    require_some_admin(ctx.app(), ctx.actor(), "person import")      # once, before the file is read
    sheet = sheet_rows.read(ctx, file, ["code", "name", "role", "region"],
                            {**PERSON_HEADERS, **sheet_rows.labelled(ctx, PERSON_EXPORTED)}, labels=PERSON_LABELS,
                            skip_totals=True)
    if not sheet.rows:      # nobody created, and no codes file of slips to print
        raise BadInput("import.no_person_rows", file=os.path.basename(file))
    people, made = import_people(ctx, sheet, codes_file, no_code, skip_bad)
    say(ctx.text("persons_imported", n=len(people)))
    waiting_said(ctx, list(people))
    sent = sum(1 for e in made.values() if e.code is None)
    if sent:
        say(ctx.text("enrolments_sent", n=sent))
    if codes_file:
        say(ctx.text("codes_written", file=codes_file))
    for c, e in ({} if codes_file else made).items():
        if e.code:
            click.echo(f"{c},{e.code}")


def role_command(name: str, action: str, done: str):
    """`person grant` and `person revoke`: CODE ROLE REGION, one service call, one line."""
    @role_over_region
    @pass_ctx
    def command(ctx: Ctx, code, role, region_code):
        from engine.services import org as service
        proposal = getattr(service, action)(ctx.app(), ctx.actor(), code, role, region_code)
        if proposal is not None:        # an approving role: a second administrator confirms it
            say(ctx.text("role_proposed", code=code, role=ctx.role(role), region=region_code, id=proposal))
        else:
            say(ctx.text(done, code=code, role=ctx.role(role), region=region_code))
            if action == "grant_role":
                unheard_said(ctx, code)
    return person.command(name)(command)


person_grant = role_command("grant", "grant_role", "role_granted")
person_revoke = role_command("revoke", "revoke_role", "role_revoked")


@person.command("deactivate")
@click.argument("code")
@click.option("--reason")
@click.option("--check", is_flag=True)
@pass_ctx
def person_deactivate(ctx: Ctx, code, reason, check):
    from engine.domain.errors import joined, noted
    if check:       # what leaving would leave, nothing changed
        from engine.reads.administration import person_record
        record = person_record(ctx.app(), ctx.actor(), code)
        active = record["person"]["active"]     # one who left already: what their leaving left
        lines = _leaves_lines(ctx, record["leaves"], active=active)
        said = ("leaver.check", "leaver.nothing") if active else ("leaver.check_left", "leaver.nothing_left")
        say(ctx.text(said[0] if lines else said[1], code=code))
        for line in lines:
            say(line)
        return
    if reason is None:
        here = click.get_current_context()     # --reason is required unless --check only asks
        raise click.MissingParameter(ctx=here, param=next(p for p in here.command.params if p.name == "reason"))
    from engine.services.accounts import leave
    left = leave(ctx.app(), ctx.actor(), code, reason)
    ended = joined([noted(ctx.role(role), region, ctx.lang) for role, region in left.posts], ctx.lang)
    say(ctx.text("person_left", code=code, posts=ended or ctx.text("no_posts")))
    if left.handed:
        to: dict = {}
        for h in left.handed:
            to[h["to"]] = to.get(h["to"], 0) + 1
        say(ctx.text("leaver.handed", n=len(left.handed), to=joined(
            [ctx.text("leaver.handed_to", person=p, n=n) if p else ctx.text("leaver.handed_nobody", n=n)
             for p, n in to.items()], ctx.lang)))
    for line in _leaves_lines(ctx, left.leaves, active=False):
        say(line)


def _leaves_lines(ctx: Ctx, leaves: dict, active: bool) -> list[str]:
    """What a person leaves (engine.reads.leaving.left_behind), a line each."""
    from engine.domain.errors import joined
    cases = lambda rows, n: joined([f"#{r['case']} {r['title']}" for r in rows], ctx.lang) + (  # noqa: E731
        " …" if n > len(rows) else "")
    lines = []
    if active and leaves["waiting_count"]:
        lines.append(ctx.text("leaver.waiting", n=leaves["waiting_count"],
                              cases=cases(leaves["waiting"], leaves["waiting_count"])))
    if active and leaves["deadlines"]:
        lines.append(ctx.text("leaver.deadlines", n=leaves["deadlines"], overdue=leaves["overdue"]))
    if leaves["paired_count"]:
        lines.append(ctx.text("leaver.paired_active" if active else "leaver.paired_left", n=leaves["paired_count"],
                              cases=cases(leaves["paired"], leaves["paired_count"])))
    for s in leaves["sole"]:
        lines.append(ctx.text("leaver.sole_active" if active else "leaver.sole_left", role=ctx.role(s["role"]),
                              region=s["region_name"], unowned=s["unowned"]))
    return lines


@person.command("reactivate")
@click.argument("code")
@pass_ctx
def person_reactivate(ctx: Ctx, code):
    from engine.services.accounts import reactivate
    reactivate(ctx.app(), ctx.actor(), code)
    say(ctx.text("person_reactivated", code=code))


@person.command("unit")
@click.argument("code")
@click.argument("unit")
@pass_ctx
def person_unit(ctx: Ctx, code, unit):
    from engine.services.accounts import set_unit
    set_unit(ctx.app(), ctx.actor(), code, unit)
    say(ctx.text("s56q1_unit_set", code=code, unit=unit.strip()))


@person.command("token")
@click.argument("code", required=False)
@pass_ctx
def person_token(ctx: Ctx, code):
    from engine.domain.errors import AuthError
    from engine.services.accounts import renew_token
    actor = ctx.actor()
    if code and code != actor.code:
        raise AuthError("token.not_yours", person=code)
    say(ctx.text("token_once"))
    click.echo(renew_token(ctx.app(), actor))


@person.command("enrol")
@click.argument("code")
@click.option("--paper", is_flag=True)
@pass_ctx
def person_enrol(ctx: Ctx, code, paper):
    from engine.services.accounts import issue_enrolment
    enrolment_said(ctx, issue_enrolment(ctx.app(), ctx.actor(), code, paper=paper))


@person.command("pending")
@json_option
@pass_ctx
def person_pending(ctx: Ctx, as_json):
    from engine.services.role_proposals import pending
    rows = pending(ctx.app(), ctx.actor())
    emit(rows, as_json, lambda: table(_headers(ctx, "proposal", "code", "person_name", "role", "region", "proposed_by",
                                               "proposed_at"),
                                      [(r["id"], r["person"], r["name"], ctx.role(r["role"]), r["region"],
                                        r["proposed_by"], r["proposed_at"]) for r in rows])
         if rows else say(ctx.text("none_pending")))


@person.command("confirm")
@click.argument("proposals", nargs=-1, type=int, required=True)
@pass_ctx
def person_confirm(ctx: Ctx, proposals):
    from engine.services.role_proposals import confirm
    say(ctx.text("roles_confirmed", n=confirm(ctx.app(), ctx.actor(), proposals)))


@person.command("refuse")
@click.argument("proposals", nargs=-1, type=int, required=True)
@click.option("--reason", required=True)
@pass_ctx
def person_refuse(ctx: Ctx, proposals, reason):
    from engine.services.role_proposals import refuse
    say(ctx.text("roles_refused", n=refuse(ctx.app(), ctx.actor(), proposals, reason.strip())))


@person.command("list")
@click.option("--region", "region_code", callback=parsing.region_named())
@json_option
@pass_ctx
def person_list(ctx: Ctx, region_code, as_json):
    from engine.reads.listings import people_rows
    data = people_rows(ctx.app(), ctx.actor(), region_code)
    emit(data, as_json, lambda: table(_headers(ctx, "code", "person_name", "roles"), [(p["code"], p["name"], "; ".join(
        f"{ctx.role(x['role'])}@{x['region']}" for x in p["roles"])) for p in data]))


@person.command("channel")
@click.argument("code")
@click.option("--add", "added", multiple=True)
@click.option("--remove", "removed", multiple=True)
@click.option("--clear", is_flag=True)
@click.option("--alert-lang", type=click.Choice(["zh", "en"]), default=None)    # the person's: all their channels
@json_option
@pass_ctx
def person_channel(ctx: Ctx, code, added, removed, clear, alert_lang, as_json):
    from notifications.contacts import parse_channel, set_channels
    adds = [parse_channel(c)[:2] + (None,) for c in added]      # in the person's language
    removes = [parse_channel(c)[:2] for c in removed]
    rows = set_channels(ctx.app(), ctx.actor(), code, adds, removes, clear, lang=alert_lang, refuse_unchanged=True)
    emit(rows, as_json, lambda: [say(f"{r['channel']}:{r['address']} ({r['lang']})") for r in rows]
         or say(ctx.text("no_channel")))


@command()
@click.option("--households", default=2000, show_default=True)
@click.option("--seed", default=2019, show_default=True)
@click.option("--serve", "and_serve", is_flag=True)
@serve_options
@pass_ctx
def demo(ctx: Ctx, households, seed, and_serve, host, port, workers, no_scheduler, forwarded):
    from demo.county import run_demo
    from .printing import out
    if and_serve:                       # a port taken is said before the demo is built (a minute and more)
        from .serve import port_free
        port_free(host, port)
    from .serve import browse_url, public_url_for
    with public_url_for(host, port):        # its messages link to the server it is built for
        settings = run_demo(ctx.settings(), ctx.config, households=households, seed=seed, lang=ctx.lang,
                            console=out)["settings"]
    # Sign-ins either way: a demo built now and served later (`jingzhun --home DIR serve`) has them too.
    from demo.sign_ins import demo_sign_ins, print_sign_ins
    sign_ins, head = demo_sign_ins(settings)
    import shlex
    later = None if and_serve else shlex.join(["jingzhun", "--home", str(settings.home), "serve",   # pasted as it is
                                               *(["--host", host] if host != "127.0.0.1" else []),
                                               *(["--port", str(port)] if port != 8000 else [])])
    print_sign_ins(out, ctx.config, ctx.lang, sign_ins, browse_url(host, port) + "/",
                   settings.home / "demo-passwords.csv", head, later)
    if and_serve:
        import os
        os.environ["JINGZHUN_REPLAY_FROM"] = (settings.home / "demo-clock").read_text().strip()
        serve_settings(settings, host, port, workers_for(ctx, settings, workers), not no_scheduler, forwarded)


COMMANDS = (init, move_database, config_group, region, person, demo)
