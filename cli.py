"""The `jingzhun` command: parse, authenticate, call one service function, print.

Exit codes: 0 done; 1 refused by a rule (the rule is named); 2 bad usage or input.
"""
from __future__ import annotations

import csv
import json
import os
import sys
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Callable

import click
from rich.console import Console
from sqlalchemy import exc as sa_exc
from rich.table import Table

from config import ConfigError, load_config
from engine.domain.errors import JingzhunError

# Output is plain text: rich markup is off so that user data like "[A]" is printed as it is.
out = Console(highlight=False, soft_wrap=True, markup=False)
err = Console(stderr=True, highlight=False, soft_wrap=True, markup=False)
_chosen_lang: list[str] = []   # set once the options are parsed, so errors speak the same language
_opened: list[Ctx] = []        # the command's context, so main() can close its database connections


@dataclass
class Ctx:
    home: str | None
    db: str | None
    lang: str
    as_code: str | None
    _app: Any = None
    _actor: Any = None
    _config: Any = field(default=None)

    @property
    def config(self):
        if self._config is None:
            from engine.adapters.app import home_config
            self._config = self._app.config if self._app else load_config(home_config(self.settings()))
        return self._config

    def settings(self):
        from engine.adapters.db import Settings
        return Settings.from_env(self.home, self.db)

    def app(self):
        if self._app is None:
            from engine.adapters.app import App
            from entrypoints.bootstrap import make_app
            self._app = make_app(self.settings(), config=self.config)
        return self._app

    def actor(self):
        if self._actor is None:
            from engine.domain.errors import AuthError
            from engine.services.org import authenticate
            if not self.as_code:
                raise AuthError("auth.no_person")
            token = os.environ.get("JINGZHUN_TOKEN")
            if not token and sys.stdin.isatty():
                token = click.prompt(f"token for {self.as_code}", hide_input=True, default="", show_default=False)
            self._actor = authenticate(self.app(), self.as_code, token)
        return self._actor

    def label(self, key: str) -> str:
        return self.config.label(key, self.lang)


pass_ctx = click.make_pass_decorator(Ctx)
CASE_ID = click.IntRange(1, 2 ** 63 - 1)   # ids beyond what the database can hold are bad input, not a crash


def emit(ctx: Ctx, data: Any, as_json: bool, human: Callable[[], None] | None = None) -> None:
    if as_json or human is None:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        human()


def json_option(f):
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(f)


def parse_date(_c, _p, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2019-03-01") from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--home", envvar="JINGZHUN_HOME", help="Data home (default ./jingzhun-data).")
@click.option("--db", envvar="JINGZHUN_DB", help="SQLAlchemy database URL instead of the SQLite file.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", envvar="JINGZHUN_LANG",
              show_default=True, help="Language of labels and messages.")
@click.option("--as", "as_code", envvar="JINGZHUN_AS", help="Act as this person (token in JINGZHUN_TOKEN).")
@click.pass_context
def cli(click_ctx, home, db, lang, as_code):
    """Jingzhun (精准): workflow and accountability engine for precise poverty alleviation.

    The rules in force are the data home's config/ (see `config install`), else the packaged ones.
    """
    click_ctx.obj = Ctx(home, db, lang, as_code)
    _chosen_lang[:] = [lang]
    _opened[:] = [click_ctx.obj]


# --- init, config -----------------------------------------------------------------------------

@cli.command()
@click.option("--admin-code", default="admin", show_default=True)
@click.option("--admin-name", default="系统管理员", show_default=True)
@pass_ctx
def init(ctx: Ctx, admin_code, admin_name):
    """Create or upgrade the database; on a new one, create the first administrator."""
    from entrypoints.bootstrap import init_home
    settings = ctx.settings()
    app, token = init_home(settings, config=ctx.config, admin_code=admin_code, admin_name=admin_name)
    ctx._app = app
    from sqlalchemy import make_url
    out.print(f"schema up to date: {make_url(settings.db_url).render_as_string(hide_password=True)}")
    if token:
        out.print(f"administrator {admin_code} created. Its token, shown once:")
        click.echo(token)


@cli.group("config")
def config_group():
    """Check or show the configuration (roles, workflows, policy parameters)."""


@config_group.command("check")
@click.option("--dir", "directory", type=click.Path(file_okay=False),
              help="Configuration folder to check (default: the rules in force).")
@pass_ctx
def config_check(ctx: Ctx, directory):
    """Validate every configuration file."""
    from workflows import check_references
    cfg = load_config(directory) if directory else ctx.config
    check_references(cfg)
    wf = ", ".join(f"{k} v{v.version}" for k, v in cfg.workflows.items())
    out.print(f"configuration OK ({cfg.directory}): {len(cfg.roles)} roles; workflows {wf}; rules {cfg.version}")
    _deadline_warnings(ctx, cfg)


@config_group.command("install")
@click.argument("directory", type=click.Path(exists=True, file_okay=False))
@pass_ctx
def config_install(ctx: Ctx, directory):
    """Put a checked configuration folder in force in this data home (administrators only)."""
    from engine.services.setup import install_config
    version = install_config(ctx.app(), ctx.actor(), directory)
    out.print(f"rules {version} are in force in {ctx.settings().home}")


@config_group.command("show")
@click.option("--dir", "directory", type=click.Path(file_okay=False))
@click.option("--province", help="Show resolved parameters for this 2-digit province code.")
@click.option("--year", type=click.IntRange(1900, 2100), help="With --province: the year.")
@json_option
@pass_ctx
def config_show(ctx: Ctx, directory, province, year, as_json):
    """Print the loaded configuration, or the parameters in force for a province and year."""
    cfg = load_config(directory) if directory else ctx.config
    if province:
        year = year or date.today().year
        line = cfg.policy.income_line(province, year)
        data = {"province": province, "year": year, "rules_version": cfg.version,
                "income_line": line[0] if line else None, "income_line_source": line[1] if line else None,
                "params": cfg.policy.params(province, year)}
    else:
        data = cfg.to_dict()
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


# --- regions ----------------------------------------------------------------------------------

@cli.group()
def region():
    """Regions: province > city > county > township > village, 12-digit codes."""


@region.command("add")
@click.argument("code")
@click.argument("name")
@pass_ctx
def region_add(ctx: Ctx, code, name):
    """Add one region (its parent must exist)."""
    from engine.services.org import add_regions
    add_regions(ctx.app(), ctx.actor(), [(code, name)])
    out.print(f"region {code} {name} added")


@region.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@pass_ctx
def region_import(ctx: Ctx, file):
    """Import regions from a CSV file with columns code,name (parents first); all or nothing."""
    from engine.services.org import add_regions
    rows = _read_csv(file, ["code", "name"])
    n = add_regions(ctx.app(), ctx.actor(), [(r["code"].strip(), r["name"]) for r in rows])
    out.print(f"{n} regions imported")


@region.command("list")
@click.option("--under", help="Only regions under this code.")
@json_option
@pass_ctx
def region_list(ctx: Ctx, under, as_json):
    """List regions."""
    from sqlalchemy import select
    from engine.adapters import tables as t
    from engine.domain.regions import prefix
    ctx.actor()
    with ctx.app().engine.connect() as conn:
        q = select(t.regions).order_by(t.regions.c.code)
        if under:
            q = q.where(t.regions.c.code.like(prefix(under) + "%"))
        rows = [{"code": r.code, "name": r.name, "level": r.level} for r in conn.execute(q)]

    def human():
        table = Table("code", "name", "level")
        for r in rows:
            table.add_row(r["code"], r["name"], r["level"])
        out.print(table)
    emit(ctx, rows, as_json, human)


def _read_csv(file: str, required: list[str]) -> list[dict[str, str]]:
    from engine.domain.errors import BadInput
    try:
        with open(file, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in required if c not in (reader.fieldnames or [])]
            if missing:
                raise BadInput("csv.columns", file=file, missing=", ".join(missing))
            rows = list(reader)
    except UnicodeDecodeError:
        raise BadInput("csv.encoding", file=file) from None
    for i, r in enumerate(rows, start=2):
        for c in required:
            if r.get(c) is None:
                raise BadInput("csv.short_row", file=file, line=i)
    return rows


# --- persons ----------------------------------------------------------------------------------

def _role_spec(value: str) -> tuple[str, str]:
    if ":" not in value:
        raise click.BadParameter(f"{value!r}: give ROLE:REGION, e.g. village_secretary:360730100201")
    role, region_code = value.split(":", 1)
    return role.strip(), region_code.strip()


@cli.group()
def person():
    """People, their role assignments and login tokens."""


@person.command("add")
@click.argument("code")
@click.argument("name")
@click.option("--role", "roles", multiple=True, help="ROLE:REGION, repeatable.")
@click.option("--no-token", is_flag=True, help="Create without a login (issue one later with `person token`).")
@click.option("--channel", "channels", multiple=True,
              help="How alerts reach them: KIND:ADDRESS (email:…, wecom:ROBOT[/MOBILE], dingtalk:…, file:NAME, "
                   "console), repeatable.")
@click.option("--alert-lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="Language of their alerts.")
@pass_ctx
def person_add(ctx: Ctx, code, name, roles, no_token, channels, alert_lang):
    """Add a person with role assignments; prints the login token once."""
    from engine.services.org import NewPerson, add_persons
    from notifications.contacts import parse_channel
    specs = tuple(_role_spec(r) for r in roles)
    reach = tuple(parse_channel(c, alert_lang) for c in channels)
    tokens = add_persons(ctx.app(), ctx.actor(), [NewPerson(code, name, specs, not no_token, reach)])
    out.print(f"person {code} {name} added")
    if code in tokens:
        out.print("token, shown once:")
        click.echo(tokens[code])


@person.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--tokens-file", type=click.Path(dir_okay=False),
              help="Write the new tokens here (mode 600) instead of printing them.")
@click.option("--no-token", is_flag=True)
@pass_ctx
def person_import(ctx: Ctx, file, tokens_file, no_token):
    """Import people from CSV (code,name,role,region; one row per role); all or nothing.

    Optional columns: channels (KIND:ADDRESS separated by ;, on any row of the person) and
    alert_lang (zh or en): how their alerts reach them.
    """
    from engine.services.org import NewPerson, add_persons
    from notifications.contacts import parse_channel
    rows = _read_csv(file, ["code", "name", "role", "region"])
    people: dict[str, dict] = {}
    for r in rows:
        p = people.setdefault(r["code"].strip(), {"name": r["name"], "roles": []})
        if r["role"].strip():
            p["roles"].append((r["role"].strip(), r["region"].strip()))
        p["lang"] = (r.get("alert_lang") or "").strip() or p.get("lang", "zh")
        p.setdefault("channels", []).extend(c.strip() for c in (r.get("channels") or "").split(";") if c.strip())
    for p in people.values():
        p["reach"] = tuple(parse_channel(c, p["lang"]) for c in p["channels"])
    sink = _private_file(tokens_file) if tokens_file else None   # fail before anyone is created
    try:
        tokens = add_persons(ctx.app(), ctx.actor(), [NewPerson(c, p["name"], tuple(p["roles"]), not no_token,
                                                                p["reach"]) for c, p in people.items()])
    except BaseException:
        if sink:
            sink[0].close()
            os.unlink(sink[1])
        raise
    out.print(f"{len(people)} persons imported")
    if sink:
        with sink[0] as fh:
            fh.writelines(f"{c},{tok}\n" for c, tok in tokens.items())
        os.replace(sink[1], tokens_file)   # an existing file is replaced only once all went well
        out.print(f"tokens written to {tokens_file}")
    elif tokens:
        for c, tok in tokens.items():
            click.echo(f"{c},{tok}")


def _private_file(path: str):
    """A new file only its owner can read, beside `path`; returns (file, its path)."""
    import tempfile
    from engine.domain.errors import BadInput
    target = Path(path).resolve()
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    except OSError as exc:
        raise BadInput("file.cannot_write", path=path, problem=exc.strerror) from None
    os.fchmod(fd, 0o600)
    return os.fdopen(fd, "w", encoding="utf-8"), tmp


@person.command("grant")
@click.argument("code")
@click.argument("role")
@click.argument("region_code")
@pass_ctx
def person_grant(ctx: Ctx, code, role, region_code):
    """Give a person a role over a region."""
    from engine.services.org import grant_role
    grant_role(ctx.app(), ctx.actor(), code, role, region_code)
    out.print(f"{code}: {role} over {region_code} granted")


@person.command("revoke")
@click.argument("code")
@click.argument("role")
@click.argument("region_code")
@pass_ctx
def person_revoke(ctx: Ctx, code, role, region_code):
    """End a person's role over a region (kept in history)."""
    from engine.services.org import revoke_role
    revoke_role(ctx.app(), ctx.actor(), code, role, region_code)
    out.print(f"{code}: {role} over {region_code} revoked")


@person.command("token")
@click.argument("code")
@pass_ctx
def person_token(ctx: Ctx, code):
    """Issue a new login token for a person (the old one stops working); shown once."""
    from engine.services.org import reset_token
    click.echo(reset_token(ctx.app(), ctx.actor(), code))


@person.command("list")
@click.option("--region", "region_code", help="Only people with a role at or under this region.")
@json_option
@pass_ctx
def person_list(ctx: Ctx, region_code, as_json):
    """List people and their roles."""
    from sqlalchemy import select
    from engine.adapters import tables as t
    from engine.domain.regions import prefix
    actor = ctx.actor()
    with ctx.app().engine.connect() as conn:
        q = (select(t.persons.c.code, t.persons.c.name, t.role_assignments.c.role, t.role_assignments.c.region_code)
             .outerjoin(t.role_assignments, (t.role_assignments.c.person_id == t.persons.c.id)
                        & t.role_assignments.c.revoked_at.is_(None)).order_by(t.persons.c.code))
        if region_code:
            q = q.where(t.role_assignments.c.region_code.like(prefix(region_code) + "%"))
        rows = conn.execute(q).all()
    # Only people whose posts lie within the reader's jurisdiction (their own included).
    from engine.domain.regions import covers
    mine = {r.code for r in rows if r.region_code and any(covers(a.region_code, r.region_code)
                                                          for a in actor.assignments)} | {actor.code}
    rows = [r for r in rows if r.code in mine]
    people: dict[str, dict] = {}
    for r in rows:
        p = people.setdefault(r.code, {"code": r.code, "name": r.name, "roles": []})
        if r.role:
            p["roles"].append({"role": r.role, "region": r.region_code})
    data = list(people.values())

    def human():
        table = Table("code", "name", "roles")
        for p in data:
            table.add_row(p["code"], p["name"], "; ".join(
                f"{ctx.config.role_label(x['role'], ctx.lang)}@{x['region']}" for x in p["roles"]))
        out.print(table)
    emit(ctx, data, as_json, human)


# --- households -------------------------------------------------------------------------------

MEMBER_FIELDS = ["name", "id_number", "relation", "labour_ability", "health", "school_enrolment",
                 "insured_basic", "insured_critical", "phone", "bank_account"]


def _member(value: str):
    from workflows.household import MemberInput
    parts = [p.strip() for p in value.split(",")]
    if len(parts) < 2 or len(parts) > len(MEMBER_FIELDS):
        raise click.BadParameter(f"{value!r}: give NAME,ID[,RELATION,LABOUR,HEALTH,SCHOOL,BASIC,CRITICAL,PHONE,BANK]")
    values: dict[str, Any] = dict(zip(MEMBER_FIELDS, parts))
    for flag in ("insured_basic", "insured_critical"):
        if flag in values:
            values[flag] = values[flag].lower() in ("yes", "true", "1", "y", "是")
    return MemberInput(**values)


@cli.group()
def household():
    """Household cases (贫困户): register, members' relatives, visits."""


@household.command("add")
@click.option("--village", required=True, help="12-digit village code.")
@click.option("--member", "members", multiple=True, required=True,
              help="NAME,ID[,RELATION,LABOUR,HEALTH,SCHOOL,BASIC,CRITICAL,PHONE,BANK]; the head first. Repeatable.")
@click.option("--cause", "causes", multiple=True, required=True, help="Cause of poverty (code or 因病…).")
@click.option("--type", "household_type", default="general", show_default=True)
@pass_ctx
def household_add(ctx: Ctx, village, members, causes, household_type):
    """Register a household (stage: applicant); prints its case number."""
    from workflows.household import register_household
    case_id = register_household(ctx.app(), ctx.actor(), village, [_member(m) for m in members], causes,
                                 household_type)
    out.print(f"case {case_id} registered")
    click.echo(case_id)


@household.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--village", required=True, help="12-digit village code: the file is one village's list.")
@pass_ctx
def household_import(ctx: Ctx, file, village):
    """Register a village's households from CSV, all or none.

    Columns: household (a key grouping members), name, id_number, relation, labour_ability, health,
    school_enrolment, insured_basic, insured_critical, phone, bank_account (optional; never shown on a
    notice), causes (on any row of the household, separated by ;), household_type (optional).
    """
    from workflows.household import HouseholdInput, MemberInput, register_households
    rows = _read_csv(file, ["household", "name", "id_number", "relation"])
    grouped: dict[str, dict] = {}
    for r in rows:
        h = grouped.setdefault(r["household"].strip(), {"members": [], "causes": [], "type": "general"})
        yes = lambda k: (r.get(k) or "yes").strip().lower() in ("yes", "true", "1", "y", "是")  # noqa: E731
        h["members"].append(MemberInput(r["name"], r["id_number"].strip(), r["relation"],
                                        (r.get("labour_ability") or "normal").strip(),
                                        (r.get("health") or "healthy").strip(),
                                        (r.get("school_enrolment") or "none").strip(),
                                        yes("insured_basic"), yes("insured_critical"),
                                        (r.get("phone") or "").strip() or None, (r.get("bank_account") or "").strip() or None))
        h["causes"] += [c for c in (r.get("causes") or "").split(";") if c.strip()]
        h["type"] = (r.get("household_type") or h["type"]).strip() or "general"
    ids = register_households(ctx.app(), ctx.actor(), village,
                              [HouseholdInput(h["members"], h["causes"], h["type"]) for h in grouped.values()])
    for key, case_id in zip(grouped, ids):
        out.print(f"household {key}: case {case_id}")


@household.command("member-add")
@click.argument("case_id", type=CASE_ID)
@click.argument("member")
@click.option("--reason", required=True, help="Birth, marriage, return…")
@click.option("--void-signoffs", is_flag=True, help="Accept that sign-offs of the open procedure are voided.")
@pass_ctx
def household_member_add(ctx: Ctx, case_id, member, reason, void_signoffs):
    """Add a member: NAME,ID[,RELATION,LABOUR,HEALTH,SCHOOL,BASIC,CRITICAL]."""
    from workflows.household import add_member
    add_member(ctx.app(), ctx.actor(), case_id, _member(member), reason, void_signoffs)
    out.print(f"case {case_id}: member added")


@household.command("member-update")
@click.argument("case_id", type=CASE_ID)
@click.argument("id_number")
@click.option("--set", "changes", multiple=True, required=True, help="FIELD=VALUE, repeatable.")
@click.option("--reason", required=True)
@click.option("--void-signoffs", is_flag=True, help="Accept that sign-offs of the open procedure are voided.")
@pass_ctx
def household_member_update(ctx: Ctx, case_id, id_number, changes, reason, void_signoffs):
    """Update a member's record (the old values stay in the audit log)."""
    from workflows.household import update_member
    update_member(ctx.app(), ctx.actor(), case_id, id_number, _fields(changes), reason, void_signoffs)
    out.print(f"case {case_id}: member updated")


@household.command("member-leave")
@click.argument("case_id", type=CASE_ID)
@click.argument("id_number")
@click.option("--reason", required=True, help="Death, marriage out, moved away…")
@click.option("--void-signoffs", is_flag=True, help="Accept that sign-offs of the open procedure are voided.")
@pass_ctx
def household_member_leave(ctx: Ctx, case_id, id_number, reason, void_signoffs):
    """A member leaves the household (kept on record, no longer counted)."""
    from workflows.household import member_leaves
    member_leaves(ctx.app(), ctx.actor(), case_id, id_number, reason, void_signoffs)
    out.print(f"case {case_id}: member left")


@household.command("relative")
@click.argument("case_id", type=CASE_ID)
@click.argument("person_code")
@click.argument("relation")
@pass_ctx
def household_relative(ctx: Ctx, case_id, person_code, relation):
    """Record that a cadre is a relative of the household (they may not sign it off)."""
    from engine.services.case_actions import record_relative
    record_relative(ctx.app(), ctx.actor(), case_id, person_code, relation)
    out.print(f"case {case_id}: {person_code} recorded as {relation}")


@household.command("visit")
@click.argument("case_id", type=CASE_ID)
@click.option("--date", "visit_date", callback=parse_date, help="Visit date (default today).")
@click.option("--findings", required=True)
@click.option("--risk", is_flag=True, help="The visit found a risk of returning to poverty.")
@pass_ctx
def household_visit(ctx: Ctx, case_id, visit_date, findings, risk):
    """Record a visit by a pairing cadre or village cadre."""
    from engine.services.case_actions import record_visit
    app = ctx.app()
    vid = record_visit(app, ctx.actor(), case_id, visit_date or app.clock.today(), findings, risk)
    out.print(f"visit {vid} recorded on case {case_id}")


# --- villages and cross-case figures -----------------------------------------------------------

@cli.group()
def village():
    """Poor village cases (贫困村): register, population, resident work team. Their procedures are done
    with `step`; `case next` shows the incidence and the households keeping the village from exiting."""


@village.command("add")
@click.option("--village", "village_code", required=True, help="12-digit village code.")
@click.option("--population", type=int, required=True, help="Rural registered population (户籍人口).")
@click.option("--year", type=int, help="Year of the population figure (default this year).")
@pass_ctx
def village_add(ctx: Ctx, village_code, population, year):
    """Register a poor-village case (stage: applicant); prints its case number."""
    from workflows.village import register_village
    case_id = register_village(ctx.app(), ctx.actor(), village_code, population, year)
    out.print(f"village case {case_id} registered")
    click.echo(case_id)


@village.command("population")
@click.argument("case_id", type=CASE_ID)
@click.option("--population", type=int, required=True, help="Rural registered population (户籍人口).")
@click.option("--year", type=int, help="Year of the figure (default this year).")
@click.option("--reason", required=True, help="Why it changed (census, correction…); the old value is kept.")
@pass_ctx
def village_population(ctx: Ctx, case_id, population, year, reason):
    """Update the village's registered population (the old value stays in the audit log)."""
    from workflows.village import update_population
    update_population(ctx.app(), ctx.actor(), case_id, population, reason, year)
    out.print(f"case {case_id}: population {population}")


def _team_member(value: str):
    from workflows.village import TeamMemberInput
    parts = [p.strip() for p in value.split(":", 2)]
    if len(parts) < 2 or not parts[0] or not parts[1]:
        raise click.BadParameter(f"{value!r}: give CODE:ROLE[:UNIT], ROLE first_secretary, leader or member")
    return TeamMemberInput(parts[0], parts[1], parts[2] if len(parts) == 3 else "")


@village.command("team")
@click.argument("case_id", type=CASE_ID)
@click.option("--member", "members", multiple=True, required=True,
              help="CODE:ROLE:UNIT (ROLE first_secretary, leader or member; UNIT the dispatching unit), "
                   "the whole team, repeatable.")
@click.option("--start", callback=parse_date, required=True, help="Date the new members start (and others leave).")
@click.option("--end", callback=parse_date, required=True, help="End of the new members' term.")
@click.option("--reason", help="Why (first dispatch, recall, replacement…).")
@pass_ctx
def village_team(ctx: Ctx, case_id, members, start, end, reason):
    """Put the resident work team (驻村工作队) in place or rotate it: at least 3 people, one first
    secretary, terms of at least 2 years (policy). Members not listed leave on --start."""
    from workflows.village import set_team
    done = set_team(ctx.app(), ctx.actor(), case_id, [_team_member(m) for m in members], start, end, reason)
    role = lambda r: ctx.label("team_role." + r)  # noqa: E731
    for code, r, unit, _, until in done["joined"]:
        out.print(f"case {case_id}: {code} joins as {role(r)} ({unit}) until {until}")
    for code, r, on in done["left"]:
        out.print(f"case {case_id}: {code} ({role(r)}) leaves on {on}")


@cli.group()
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

    def human():   # tab-separated, one line a row (like `case list`): readable at any width
        dash = lambda v: "-" if v is None else str(v)  # noqa: E731
        click.echo("region\tname\tlevel\tpoor households\tcovered\tcoverage %\ttarget %\tgap (points)\t"
                   "households short")
        for r in rows:
            target = dash(r["target_pct"]) + (f" ({r['target_year']})" if r["target_year"] else "")
            click.echo(f"{r['region']}\t{r['name'] or '-'}\t{ctx.label('level.' + r['level'])}\t{r['households']}\t"
                       f"{r['covered']}\t{dash(r['coverage_pct'])}\t{target}\t{dash(r['gap_points'])}\t"
                       f"{dash(r['households_short'])}")
    emit(ctx, rows, as_json, human)


# --- evidence and steps -----------------------------------------------------------------------

def _fields(values) -> dict[str, str]:
    result = {}
    for v in values:
        if "=" not in v:
            raise click.BadParameter(f"{v!r}: give NAME=VALUE")
        k, val = v.split("=", 1)
        result[k.strip()] = val
    return result


@cli.group()
def evidence():
    """Evidence: typed fields and files kept by their SHA-256."""


@evidence.command("add")
@click.argument("case_id", type=CASE_ID)
@click.argument("etype")
@click.option("--field", "fields", multiple=True, help="NAME=VALUE, repeatable.")
@click.option("--file", "file", type=click.Path(exists=True, dir_okay=False))
@click.option("--replace", is_flag=True, help="Correct the current item of this type (keeps the old one).")
@click.option("--reason", help="Why the item is replaced.")
@click.option("--void-signoffs", is_flag=True, help="Accept that sign-offs relying on the old item are voided.")
@click.option("--expect-version", type=click.IntRange(1, 2 ** 31), help="Refuse if the case changed since you read this version.")
@pass_ctx
def evidence_add(ctx: Ctx, case_id, etype, fields, file, replace, reason, void_signoffs, expect_version):
    """Attach evidence to a case."""
    from engine.services.case_actions import attach_evidence
    eid = attach_evidence(ctx.app(), ctx.actor(), case_id, etype, _fields(fields), Path(file) if file else None,
                          replace=replace, void_signoffs=void_signoffs, reason=reason,
                          expect_version=expect_version)
    out.print(f"evidence {eid} ({ctx.label('evidence.' + etype)}) attached to case {case_id}")


def _pairings(values) -> dict[int, tuple[str, str | None]]:
    result = {}
    for v in values:
        parts = v.split(":")
        if len(parts) not in (2, 3) or not parts[0].isdigit() or not parts[1]:
            raise click.BadParameter(f"{v!r}: give CASE:FIRST[:SECOND], e.g. 12:pc001:pc2_01")
        result[int(parts[0])] = (parts[1], parts[2] if len(parts) == 3 and parts[2] else None)
    return result


def _measure(value: str) -> tuple[str, str]:
    if ":" not in value:
        raise click.BadParameter(f"{value!r}: give CATEGORY:DESCRIPTION, e.g. industry:养牛")
    cat, desc = value.split(":", 1)
    return cat.strip(), desc.strip()


def _fund_line(value: str) -> tuple[str, str, str | None]:
    parts = value.split(":", 2)
    if len(parts) < 2 or not parts[0].strip() or not parts[1].strip():
        raise click.BadParameter(f"{value!r}: give SOURCE:AMOUNT[:DOCUMENT], e.g. county:200000:宁财农〔2019〕12号")
    return parts[0].strip(), parts[1].strip(), (parts[2].strip() if len(parts) == 3 else None) or None


def _milestone_spec(value: str) -> tuple[str, str]:
    if ":" not in value:
        raise click.BadParameter(f"{value!r}: give NAME:DATE or NAME:-DAYS (days before completion), e.g. 主体完工:-30")
    name, when = value.rsplit(":", 1)
    return name.strip(), when.strip()


def _asset_spec(value: str) -> tuple[str, str, str, str, int | None]:
    parts = [p.strip() for p in value.split(":")]
    if len(parts) not in (4, 5) or (len(parts) == 5 and not parts[4].isdigit()):
        raise click.BadParameter(f"{value!r}: give CLASS:NAME:VALUE:OWNER[:CASE], e.g. household:能繁母牛2头:16000:张三:12")
    return parts[0], parts[1], parts[2], parts[3], int(parts[4]) if len(parts) == 5 else None


def _project_step_options(f):
    """Inputs of fund-project steps (config/workflows/project.yaml)."""
    for option in reversed([
        click.option("--fund", "funds", multiple=True, help="Project allocation, or a plan change's new budget: "
                                                            "SOURCE:AMOUNT[:DOCUMENT], repeatable."),
        click.option("--milestone", "milestones", multiple=True,
                     help="Project schedule: NAME:DATE or NAME:-DAYS before the completion date, in order, repeatable."),
        click.option("--reached", "milestone", help="Project milestone step: the milestone reached (name or number)."),
        click.option("--asset", "assets", multiple=True,
                     help="Project handover: CLASS:NAME:VALUE:OWNER[:CASE] (household assets name the household case)."),
        click.option("--complete-by", "completion", callback=parse_date, help="Project plan change: new completion date."),
        click.option("--add-beneficiary", "add_beneficiaries", multiple=True, type=CASE_ID,
                     help="Project plan change: a household case to add, repeatable."),
        click.option("--remove-beneficiary", "remove_beneficiaries", multiple=True, type=CASE_ID,
                     help="Project plan change: a household case to remove, repeatable."),
    ]):
        f = option(f)
    return f


def _project_inputs(options: dict[str, Any]) -> dict[str, Any]:
    return {"funds": tuple(_fund_line(v) for v in options["funds"]),
            "milestones": tuple(_milestone_spec(v) for v in options["milestones"]),
            "milestone": options["milestone"], "assets": tuple(_asset_spec(v) for v in options["assets"]),
            "completion": options["completion"], "add_beneficiaries": tuple(options["add_beneficiaries"]),
            "remove_beneficiaries": tuple(options["remove_beneficiaries"])}


@cli.command()
@click.argument("procedure")
@click.argument("step_key", metavar="STEP")
@click.argument("case_ids", nargs=-1, type=CASE_ID, required=True)
@click.option("--date", "effective", callback=parse_date, help="Date the step took place (default today).")
@click.option("--approve", "decision", flag_value="approve", help="Sign-off or verification: approve.")
@click.option("--reject", "decision", flag_value="reject", help="Sign-off or verification: reject (needs --reason).")
@click.option("--reason")
@click.option("--attendance", type=click.IntRange(0, 100000), help="Appraisal: people present.")
@click.option("--for", "votes_for", type=click.IntRange(0, 100000), help="Appraisal: votes for.")
@click.option("--against", "votes_against", type=click.IntRange(0, 100000), help="Appraisal: votes against.")
@click.option("--verifier", "verifiers", multiple=True, help="Verification: person code, repeatable.")
@click.option("--days", type=click.IntRange(1, 3650), help="Notice: days it runs (at least the rule's).")
@click.option("--first-cadre", help="Pairing: first pairing cadre's code.")
@click.option("--second-cadre", help="Pairing: second pairing cadre's code.")
@click.option("--pair", "pairs", multiple=True,
              help="Pairing for a list: CASE:FIRST[:SECOND], one per case, repeatable.")
@click.option("--measure", "measures", multiple=True, help="Plan: CATEGORY:DESCRIPTION, repeatable.")
@click.option("--assignee", help="Problem assignment: the responsible person's code.")
@click.option("--lead-unit", help="Problem assignment: the lead unit (牵头单位).")
@click.option("--responsible-unit", help="Problem assignment: the responsible unit (责任单位).")
@click.option("--due", callback=parse_date, help="Problem assignment: rectification deadline.")
@_project_step_options
@click.option("--expect-version", type=click.IntRange(1, 2 ** 31), help="Refuse if the case changed since you read this version.")
@pass_ctx
def step(ctx: Ctx, procedure, step_key, case_ids, effective, decision, reason, attendance, votes_for,
         votes_against, verifiers, days, first_cadre, second_cadre, pairs, measures, assignee, lead_unit,
         responsible_unit, due, expect_version, **project_options):
    """Do STEP of PROCEDURE on one case or a village's list of cases (all or none)."""
    from engine.services.procedures import StepInput, perform_step
    inputs = StepInput(date=effective, decision=decision, reason=reason, attendance=attendance,
                       votes_for=votes_for, votes_against=votes_against, verifiers=tuple(verifiers), days=days,
                       first_cadre=first_cadre, second_cadre=second_cadre, pairings=_pairings(pairs),
                       measures=tuple(_measure(m) for m in measures), assignee=assignee, lead_unit=lead_unit,
                       responsible_unit=responsible_unit, due=due, expect_version=expect_version,
                       **_project_inputs(project_options))
    results = perform_step(ctx.app(), ctx.actor(), procedure, step_key, list(case_ids), inputs)
    for r in results:
        moved = f" → {ctx.label('stage.' + r.to_stage)}" if r.to_stage != r.from_stage else ""
        notice = f", notice {r.notice_id}" if r.notice_id else ""
        out.print(f"case {r.case_id}: {ctx.label('procedure.' + procedure)} / {ctx.label('step.' + step_key)}: "
                  f"{ctx.label('decision.' + r.decision)}{notice} ({ctx.label('status.' + r.procedure_status)})"
                  f"{moved}")


# --- notices ----------------------------------------------------------------------------------

@cli.group()
def notice():
    """Public notices (公示) and objections raised during them."""


@notice.command("show")
@click.argument("notice_id", type=CASE_ID)
@json_option
@pass_ctx
def notice_show(ctx: Ctx, notice_id, as_json):
    """Show a notice, the cases it lists and its objections."""
    from sqlalchemy import select
    from engine.adapters import tables as t
    from engine.domain.errors import NotFound
    from engine.services.org import require_reader
    actor = ctx.actor()
    with ctx.app().engine.connect() as conn:
        n = conn.execute(select(t.notices).where(t.notices.c.id == notice_id)).first()
        if n is None:
            raise NotFound("notice.unknown", notice=notice_id)
        require_reader(ctx.app(), actor, n.region_code)
        cases = conn.execute(select(t.cases.c.id, t.cases.c.title).join(
            t.notice_cases, t.notice_cases.c.case_id == t.cases.c.id).where(
            t.notice_cases.c.notice_id == notice_id).order_by(t.cases.c.id)).all()
        objs = conn.execute(select(t.objections).where(t.objections.c.notice_id == notice_id)).all()
    data = {"id": n.id, "scope": n.scope, "region": n.region_code, "procedure": n.procedure_kind,
            "step": n.step_key, "start": n.start_date, "end": n.end_date, "days_required": n.days_required,
            "cases": [{"id": c.id, "title": c.title} for c in cases], "rendered": n.rendered,
            "objections": [{"id": o.id, "case": o.case_id, "objector": o.objector, "content": o.content,
                            "filed_on": o.filed_on, "resolution": o.resolution} for o in objs]}

    def human():
        out.print(f"notice {n.id}: {ctx.label('procedure.' + n.procedure_kind)} / {ctx.label('step.' + n.step_key)}"
                  f", {n.start_date} – {n.end_date} ({n.days_required} days required), {n.scope} {n.region_code}")
        for c in cases:
            out.print(f"  case {c.id} {c.title}")
        for o in objs:
            out.print(f"  objection {o.id} on case {o.case_id} by {o.objector}: {o.content} [{o.resolution or 'open'}]")
    emit(ctx, data, as_json, human)


@notice.command("render")
@click.argument("notice_id", type=CASE_ID)
@click.option("--html", "html_file", type=click.Path(dir_okay=False, writable=True),
              help="Write the printable notice for the board (HTML) to this file.")
@pass_ctx
def notice_render(ctx: Ctx, notice_id, html_file):
    """The notice as posted on the board (text kept since posting), or printable HTML. It never shows
    an ID number, phone number, bank account or health detail."""
    from engine.services.notices import notice_for_reader, render
    app = ctx.app()
    view, posted = notice_for_reader(app, ctx.actor(), notice_id)
    if html_file:
        Path(html_file).write_text(render(app, view, ctx.lang, html=True), encoding="utf-8")
        out.print(ctx.label("cli.written").format(file=html_file))
        return
    out.print(posted if posted and ctx.lang == "zh" else render(app, view, ctx.lang))


@notice.command("object")
@click.argument("notice_id", type=CASE_ID)
@click.argument("case_id", type=CASE_ID)
@click.option("--objector", required=True, help="Who raised it (a villager's name).")
@click.option("--content", required=True)
@click.option("--date", "filed_on", callback=parse_date)
@pass_ctx
def notice_object(ctx: Ctx, notice_id, case_id, objector, content, filed_on):
    """Record an objection to a case on a notice; it blocks the procedure until resolved."""
    from engine.services.case_actions import file_objection
    oid = file_objection(ctx.app(), ctx.actor(), notice_id, case_id, objector, content, filed_on)
    out.print(f"objection {oid} recorded")


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
        raise click.UsageError("give --uphold or --dismiss")
    out.print(f"objection {objection_id} {resolve_objection(ctx.app(), ctx.actor(), objection_id, upheld, reason)}")


# --- cases ------------------------------------------------------------------------------------

@cli.group()
def case():
    """Read cases: show one, list many, what a case needs next."""


@case.command("show")
@click.argument("case_id", type=CASE_ID)
@click.option("--full-ids", is_flag=True, help="Show whole ID numbers (otherwise masked).")
@json_option
@pass_ctx
def case_show(ctx: Ctx, case_id, full_ids, as_json):
    """Show a case: members, procedures with every step, evidence, pairings, plan."""
    from engine.reads.queries import case_detail
    data = case_detail(ctx.app(), ctx.actor(), case_id, full_ids)

    def human():
        L = ctx.label
        out.print(f"case {data['id']} {L('kind.' + data['kind'])} {data['title']} — "
                  f"{data['region_name']} ({data['region']}) — {L('stage.' + data['stage'])} (version {data['version']})")
        if data["members"]:
            table = Table("name", "relation", "labour", "health", "school", "insured")
            table.add_column("ID", no_wrap=True, min_width=18)
            for m in data["members"]:
                table.add_row(m["name"], m["relation"], m["labour_ability"], m["health"], m["school_enrolment"],
                              "yes" if m["insured_basic"] and m["insured_critical"] else "no", m["id_number"])
            out.print(table)
        for p in data["procedures"]:
            out.print(f"{L('procedure.' + p['kind'])} [{L('status.' + p['status'])}] {p['from']} → {p['to'] or '-'}"
                      + (f" — {p['outcome']}" if p["outcome"] else ""))
            for s in p["steps"]:
                void = f" [VOID: {s['voided']}]" if s["voided"] else ""
                reason = f" — {s['reason']}" if s["reason"] else ""
                out.print(f"  {s['date']} {L('step.' + s['step'])}: {L('decision.' + s['decision'])} by "
                          f"{s['person_name']} ({s['person']}, {ctx.config.role_label(s['role'], ctx.lang)}){reason}{void}")
        for e in data["evidence"]:
            old = f" (superseded by {e['superseded_by']}: {e['supersede_reason']})" if e["superseded_by"] else ""
            fields = ", ".join(f"{k}={v}" for k, v in e["fields"].items())
            file = f", file {e['file_name']} sha256 {e['file'][:12]}" if e["file"] else ""
            out.print(f"  evidence {e['id']} {L('evidence.' + e['type'])}: {fields}{file} — by {e['attached_by']} "
                      f"at {e['attached_at'][:16]}, hash {e['hash'][:12]}{old}")
        for n in data["notices"]:
            out.print(f"  notice {n['id']} {L('step.' + n['step'])}: {n['start']} to {n['end']} "
                      f"({n['days_required']} days required, {n['scope']})")
        for o in data["objections"]:
            out.print(f"  objection {o['id']} on notice {o['notice']} by {o['objector']} ({o['filed_on']}): {o['content']}"
                      f" — {o['resolution'] or 'open'}" + (f": {o['resolution_reason']}" if o["resolution_reason"] else ""))
        for p in data["pairings"]:
            out.print(f"  pairing {p['kind']}: {p['person']} from {p['start']}" + (f" to {p['end']}" if p["end"] else ""))
        for m in data["measures"]:
            out.print(f"  measure {L('measure.' + m['category'])}: {m['description']}")
    emit(ctx, data, as_json, human)


@case.command("list")
@click.option("--kind")
@click.option("--stage")
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
        click.echo("[")
        first = True
        for r in rows:  # streamed: memory does not grow with the number of cases
            click.echo(("" if first else ",") + json.dumps(r, ensure_ascii=False))
            first = False
        click.echo("]")
        return
    # Printed row by row (a table would be built in memory first): one line per case, tab-separated.
    click.echo("case\ttitle\tregion\tstage\twaiting for")
    count = 0
    for r in rows:
        waiting_for = (f"{ctx.label('procedure.' + r['pending_procedure'])} / {ctx.label('step.' + r['pending_step'])}"
                       if r["pending_procedure"] else "-")
        click.echo(f"{r['id']}\t{r['title']}\t{r['region']}\t{ctx.label('stage.' + r['stage'])}\t{waiting_for}")
        count += 1
    click.echo(f"({count} cases)")


@case.command("next")
@click.argument("case_id", type=CASE_ID)
@json_option
@pass_ctx
def case_next(ctx: Ctx, case_id, as_json):
    """What the case still needs, and who may do it."""
    from engine.reads.queries import next_for
    data = next_for(ctx.app(), ctx.actor(), case_id, ctx.lang)

    def human():
        L = ctx.label
        out.print(f"case {data['case']} {data['title']}: {L('stage.' + data['stage'])} (version {data['version']})")
        for line in data.get("figures", {}).get("lines", []):
            out.print("  " + line)
        nxt = data["next"]
        if nxt is None:
            out.print("nothing further on the main path; possible: " + (", ".join(data["procedures_available"]) or "-"))
            return
        state = "open" if nxt["procedure_open"] else "to start"
        out.print(f"next: {L('procedure.' + nxt['procedure'])} ({state}) / {L('step.' + nxt['step'])} ({nxt['type']})")
        out.print("  roles: " + ", ".join(ctx.config.role_label(r, ctx.lang) for r in nxt["roles"]))
        out.print("  who may do it: " + (", ".join(f"{e['person']} {e['name']}" for e in nxt["eligible"]) or "nobody yet"))
        if nxt["excluded"]:
            out.print("  excluded (already signed this procedure): " + ", ".join(nxt["excluded"]))
        if nxt["evidence"]:
            out.print("  evidence needed: " + ", ".join(L("evidence." + e) for e in nxt["evidence"]))
        for b in nxt["blockers"]:
            out.print(f"  blocked: {b}")
        out.print("  remaining steps: " + " → ".join(L("step." + s) for s in nxt["remaining"]))
    emit(ctx, data, as_json, human)


# --- inspection -------------------------------------------------------------------------------

@cli.group("inspect")
def inspect_group():
    """Inspection (read-only): patterns in the record worth an inspector's look."""


@inspect_group.command("flags")
@click.option("--region", "region_code", help="Region to inspect (default: my jurisdiction).")
@click.option("--kind", "kinds", multiple=True,
              help="Only this kind, repeatable: signoff_off_hours, signoff_burst, short_notice, notice_backdated, "
                   "evidence_after_signoff, override_chain, exit_near_line, figure_changed_before_decision.")
@json_option
@pass_ctx
def inspect_flags(ctx: Ctx, region_code, kinds, as_json):
    """Sign-offs out of hours or in bursts, short or backdated notices, evidence later than the sign-off
    relying on it, separation of duties dodged through a void, exits just above the income line, and
    income figures changed shortly before the decision they decided; each with its audit events.
    Thresholds: config/policy.yaml `inspection:`."""
    from engine.reads.inspection import flags
    actor = ctx.actor()
    found = flags(ctx.app(), actor, region_code, kinds)
    if as_json:
        click.echo("[")
        first = True
        for f in found:  # streamed: memory does not grow with the number of cases
            click.echo(("" if first else ",") + json.dumps(f.to_dict(ctx.config, ctx.lang), ensure_ascii=False,
                                                           default=str))
            first = False
        click.echo("]")
        return
    L = ctx.label
    scope = region_code or ", ".join(sorted({a.region_code for a in actor.assignments})) or "-"
    click.echo(L("flag.heading").format(region=scope))
    count = 0
    for f in found:
        where = f"{L('flag.case')} {f.case_id} {f.case_title} ({f.region}) — " if f.case_id else ""
        who = f"{L('flag.person')} {f.person[0]} {f.person[1]}: " if f.person else ""
        events = ", ".join(str(s) for s in f.events[:20]) + (f" … (+{len(f.events) - 20})" if len(f.events) > 20 else "")
        click.echo(f"[{L('flag.' + f.kind)}] {where}{who}{f.text(ctx.config, ctx.lang)} — {L('flag.events')} {events}")
        count += 1
    click.echo(L("flag.count").format(count=count))


# --- audit ------------------------------------------------------------------------------------

@cli.group()
def audit():
    """The audit log: prove it was not altered."""


def _published_head(_c, _p, value: str | None):
    if value is None:
        return None
    seq, _, digest = value.partition(":")
    if not seq.isdigit() or len(digest) != 64:
        raise click.BadParameter(f"{value!r}: give SEQ:HASH as printed by `jingzhun audit head`")
    return int(seq), digest


@audit.command("verify")
@click.option("--against", callback=_published_head, help="SEQ:HASH of a published head the log must extend.")
@json_option
@pass_ctx
def audit_verify(ctx: Ctx, against, as_json):
    """Re-compute every case's hash chain and check every evidence item and file.

    Exit 0 when intact; 1 with the position and kind of each damage otherwise.
    """
    from engine.reads.audit_verify import verify
    from engine.domain.errors import AuthError
    actor = ctx.actor()
    allowed = [name for name, r in ctx.config.roles.items() if r.read_only or r.admin]
    if not any(a.role in allowed for a in actor.assignments):
        raise AuthError("auth.wrong_role", person=actor.code, action="audit verify", roles=", ".join(allowed),
                        region="-")
    report = verify(ctx.app(), against)
    data = {"intact": report.intact, "events": report.events, "cases": report.cases, "evidence": report.evidence,
            "damage": [{"kind": d.kind, "where": d.where, "detail": d.detail} for d in report.damage]}

    def human():
        out.print(f"{report.events} events, {report.cases} cases, {report.evidence} evidence items checked")
        for d in report.damage:
            out.print(f"DAMAGE {d}")
        out.print("intact" if report.intact else f"{len(report.damage)} damage found")
    emit(ctx, data, as_json, human)
    if not report.intact:
        raise click.exceptions.Exit(1)


@audit.command("seal")
@pass_ctx
def audit_seal(ctx: Ctx):
    """Chain all new events, in global order, into a checkpoint (administrators)."""
    from engine.reads.audit_verify import seal
    row = seal(ctx.app(), ctx.actor())
    out.print("nothing new to seal" if row is None else
              f"sealed {row['events']} events up to seq {row['upto_seq']}: {row['hash']}")


@audit.command("head")
@json_option
@pass_ctx
def audit_head(ctx: Ctx, as_json):
    """Print the latest checkpoint as SEQ:HASH, for publishing (a notice, a sealed envelope)."""
    from engine.reads.audit_verify import head
    ctx.actor()
    found = head(ctx.app())
    if found is None:
        from engine.domain.errors import RuleViolation
        raise RuleViolation("audit.no_checkpoint")
    emit(ctx, {"seq": found[0], "hash": found[1]}, as_json, lambda: click.echo(f"{found[0]}:{found[1]}"))


# --- fund projects (扶贫项目) and their figures ------------------------------------------------------

@cli.group()
def project():
    """Fund projects (扶贫项目): register, pay out, milestones; their procedures are done with `jingzhun step`."""


@project.command("add")
@click.option("--site", required=True, help="12-digit code of the village or township where it is carried out.")
@click.option("--name", required=True)
@click.option("--category", required=True, help="industry, infrastructure, public_service, employment, education, "
                                                "health, housing, relocation, other (or 产业发展…).")
@click.option("--unit", "responsible_unit", required=True, help="The responsible unit (责任单位).")
@click.option("--unit-head", required=True, help="Code of the responsible unit's head (subject responsibility).")
@click.option("--leader", required=True, help="Code of the project leader (项目负责人).")
@click.option("--fund", "funds", multiple=True, required=True,
              help="Budget line SOURCE:AMOUNT[:DOCUMENT] (central, provincial, city, county, integrated, other), repeatable.")
@click.option("--beneficiary", "beneficiaries", multiple=True, type=CASE_ID,
              help="A beneficiary household case (registered poor, within the site), repeatable.")
@click.option("--target", "targets", multiple=True, help="Performance target (绩效目标), repeatable; without one the "
                                                         "project is refused.")
@click.option("--complete-by", required=True, callback=parse_date, help="Planned completion date.")
@click.option("--proposed-on", callback=parse_date, help="Date it was proposed (default today).")
@click.option("--description")
@pass_ctx
def project_add(ctx: Ctx, site, name, category, responsible_unit, unit_head, leader, funds, beneficiaries, targets,
                complete_by, proposed_on, description):
    """Register a proposed project (stage: proposed); prints its case number."""
    from workflows.project import ProjectInput, register_project
    case_id = register_project(ctx.app(), ctx.actor(), ProjectInput(
        name, category, site, responsible_unit, unit_head, leader, tuple(_fund_line(f) for f in funds),
        beneficiaries, targets, complete_by, proposed_on, description))
    out.print(f"project {case_id} registered ({ctx.label('stage.project.proposed')})")
    click.echo(case_id)


def _yuan(value) -> str:
    return "-" if value is None else f"{value:,.2f}"


def _share(value) -> str:
    return "-" if value is None else f"{value * 100:.2f}%"


@project.command("show")
@click.argument("case_id", type=CASE_ID)
@click.option("--as-of", callback=parse_date, help="Figures as of this date (default today).")
@json_option
@pass_ctx
def project_show(ctx: Ctx, case_id, as_of, as_json):
    """A project: budget and allocation, beneficiaries, milestones, payments, assets and its figures."""
    from workflows.project import project_detail
    data = project_detail(ctx.app(), ctx.actor(), case_id, as_of)

    def human():
        L = ctx.label
        out.print(f"project {data['id']} {data['title']} — {data['region_name']} ({data['region']}) — "
                  f"{L('stage.project.' + data['stage'])} (version {data['version']})")
        out.print(f"  {L('category.' + data['category'])}; {data['responsible_unit']} ({data['unit_head']}); "
                  f"leader {data['leader']}; complete by {data['complete_by']}"
                  + (f"; contractor {data['contractor']}" if data["contractor"] else ""))
        for target in data["targets"]:
            out.print(f"  target: {target}")
        for f in data["funds"]:
            old = f" (superseded {f['superseded_on']})" if f["superseded_on"] else ""
            out.print(f"  {L('funds.' + f['kind'])} {L('fund_source.' + f['source'])} {_yuan(f['amount'])} "
                      f"{f['document'] or '-'} {f['on']}{old}")
        out.print("  beneficiaries: " + ", ".join(f"{b['case']} {b['title']}" for b in data["beneficiaries"]))
        for m in data["milestones"]:
            state = f"done {m['done']}" if m["done"] else ("BEHIND" if m["behind"] else "open")
            out.print(f"  milestone {m['seq']} {m['name']}: due {m['due']} — {state}")
        for d in data["disbursements"]:
            out.print(f"  paid {d['paid_on']} {_yuan(d['amount'])} {L('payee_kind.' + d['payee_kind'])} {d['payee']}"
                      + (f" ({d['reference']})" if d["reference"] else ""))
        for a in data["assets"]:
            owner = f" (case {a['owner_case']})" if a["owner_case"] else ""
            out.print(f"  asset {L('asset_class.' + a['class'])} {a['name']} {_yuan(a['value'])} → {a['owner']}{owner} "
                      f"on {a['handed_over_on']}")
        f = data["figures"]
        if f:
            out.print(f"  as of {data['as_of']}: {L('funds.allocated')} {_yuan(f['allocated'])}, {L('funds.disbursed')} "
                      f"{_yuan(f['disbursed'])} ({_share(f['rate'])}), {L('funds.retention')} {_yuan(f['retention'])}, "
                      f"{L('funds.carry_over')} {_yuan(f['carry_over'])}, {L('funds.behind')} {f['milestones_behind']}")
    emit(ctx, data, as_json, human)


@project.command("pay")
@click.argument("case_id", type=CASE_ID)
@click.option("--amount", required=True, help="Yuan, e.g. 90000 or 12500.50.")
@click.option("--payee-kind", required=True, help="contractor, beneficiary (count as spent), retention (质保金, unspent), "
                                                 "other (transfers, unspent).")
@click.option("--payee", required=True, help="Who was paid.")
@click.option("--reference", help="Voucher number (凭证号).")
@click.option("--date", "paid_on", callback=parse_date, help="Date paid (default today).")
@click.option("--from-retention", is_flag=True, help="Release retention money held earlier to this payee.")
@pass_ctx
def project_pay(ctx: Ctx, case_id, amount, payee_kind, payee, reference, paid_on, from_retention):
    """Record a disbursement (never beyond the allocated funds); each is an audit event."""
    from workflows.project import PaymentInput, record_disbursement
    did = record_disbursement(ctx.app(), ctx.actor(), case_id,
                              PaymentInput(amount, payee_kind, payee, paid_on, reference, from_retention))
    out.print(f"disbursement {did} recorded on project {case_id}")


@project.command("milestone-done")
@click.argument("case_id", type=CASE_ID)
@click.argument("milestone")
@click.option("--date", "effective", callback=parse_date, help="Date it was reached (default today).")
@pass_ctx
def project_milestone_done(ctx: Ctx, case_id, milestone, effective):
    """A milestone (name or number) reached: the `milestone` step, done by the project leader."""
    from engine.services.procedures import StepInput, perform_step
    result = perform_step(ctx.app(), ctx.actor(), "milestone", "milestone", [case_id],
                          StepInput(date=effective, milestone=milestone))[0]
    out.print(f"project {case_id}: {ctx.label('step.milestone')} {milestone} ({ctx.label('status.' + result.procedure_status)})")


@cli.group()
def funds():
    """Fund figures of projects: allocated, disbursed, rate, carry-over (结转结余), milestones behind."""


@funds.command("report")
@click.option("--region", "region_code", help="County, township or village (default: my jurisdiction).")
@click.option("--as-of", callback=parse_date, help="Figures as of this date (default today).")
@json_option
@pass_ctx
def funds_report_command(ctx: Ctx, region_code, as_of, as_json):
    """Per project and rolled up per township and county. Only money paid to a contractor or a
    beneficiary counts as disbursed; retention money and transfers stay in the carry-over."""
    from engine.reads.funds import funds_report
    data = funds_report(ctx.app(), ctx.actor(), region_code, as_of)

    def human():
        L = ctx.label
        out.print(L("funds.heading").format(region=f"{data['region_name']} ({data['region']})", as_of=data["as_of"]))
        columns = (L("funds.allocated"), L("funds.disbursed"), L("funds.rate"), L("funds.retention"), L("funds.other"),
                   L("funds.carry_over"), L("funds.behind"))

        def figures(r: dict) -> list[str]:
            return [_yuan(r["allocated"]), _yuan(r["disbursed"]), _share(r["rate"]), _yuan(r["retention"]),
                    _yuan(r["other"]), _yuan(r["carry_over"])]
        # Tab-separated lines (as `case list`): wide figures stay whole at any terminal width.
        click.echo("\t".join(["case", L("funds.projects"), "region", "stage", *columns]))
        for p in data["projects"]:
            click.echo("\t".join([str(p["id"]), p["title"], p["region_name"] or p["region"],
                                  L("stage.project." + p["stage"]), *figures(p), str(p["milestones_behind"])]))
        for level in ("townships", "counties"):
            click.echo("")
            click.echo("\t".join([L("funds." + level), L("funds.count"), *columns[:-1], L("funds.projects_behind")]))
            for r in data[level]:
                click.echo("\t".join([f"{r['name'] or ''} {r['code']}", str(r["projects"]), *figures(r),
                                      str(r["projects_behind"])]))
        click.echo("")
        total = data["total"]
        out.print(f"{L('funds.total')}: {L('funds.count')} {total['projects']} — " + ", ".join(
            f"{c} {v}" for c, v in zip(columns[:-1] + (L("funds.projects_behind"),),
                                       figures(total) + [str(total["projects_behind"])])))
    emit(ctx, data, as_json, human)


# --- demo -------------------------------------------------------------------------------------

# --- accountability: problem items, outcomes, tracing ------------------------------------------

@cli.group()
def problem():
    """Problem items (问题整改): record a finding; its steps are done with `jingzhun step`."""


@problem.command("add")
@click.option("--region", required=True, help="Region the problem lies in (the cases it names must be within).")
@click.option("--source", required=True, help="assessment, supervision, inspection_tour, unannounced_visit, audit, "
                                              "third_party_evaluation, public_report (or 考核, 暗访…).")
@click.option("--description", required=True)
@click.option("--found-on", callback=parse_date, help="Date it was found (default today).")
@click.option("--finding", help="wrong_exit (错退), wrong_inclusion (错评), missed_inclusion (漏评), other.")
@click.option("--case", "cases", multiple=True, type=CASE_ID, help="A case the problem is about, repeatable.")
@click.option("--file", type=click.Path(exists=True, dir_okay=False), help="The finding document (scan, report).")
@pass_ctx
def problem_add(ctx: Ctx, region, source, description, found_on, finding, cases, file):
    """Record a problem item; a wrong-exit finding reopens the households it names at once."""
    from workflows.problem import ProblemInput, register_problem
    app = ctx.app()
    problem_id = register_problem(app, ctx.actor(), ProblemInput(
        region, source, description, found_on or app.clock.today(), finding, cases, Path(file) if file else None))
    out.print(ctx.label("cli.problem_recorded").format(id=problem_id))
    if finding == "wrong_exit" and cases:
        out.print(ctx.label("cli.wrong_exit_reopened").format(cases=", ".join(map(str, cases)), id=problem_id))


@problem.command("refer-overdue")
@click.option("--region", required=True, help="Refer overdue problem items under this region.")
@pass_ctx
def problem_refer_overdue(ctx: Ctx, region):
    """Refer every problem item whose rectification is past its deadline to the discipline commission."""
    from workflows.problem import refer_overdue
    referred = refer_overdue(ctx.app(), ctx.actor(), region)
    out.print(ctx.label("cli.referred").format(count=len(referred), ids=", ".join(map(str, referred)) or "-"))


@cli.group()
def accountability():
    """Accountability outcomes (问责) against persons and organisations."""


@accountability.command("record")
@click.option("--person", help="Code of the person held accountable.")
@click.option("--organisation", help="Name of the organisation held accountable (with --region).")
@click.option("--region", help="Region of the organisation (default: the problem's or the person's).")
@click.option("--outcome", required=True, help="circulated_criticism, admonition, reassignment, removal, party_warning, "
                                               "party_serious_warning, party_post_removal, party_probation, "
                                               "party_expulsion; organisations: self_examination, "
                                               "circulated_criticism, reorganisation (or 通报, 诫勉…).")
@click.option("--reason", required=True)
@click.option("--decided-on", callback=parse_date, help="Date of the decision (default today).")
@click.option("--problem", "problem_id", type=CASE_ID, help="The problem item it answers.")
@pass_ctx
def accountability_record(ctx: Ctx, person, organisation, region, outcome, reason, decided_on, problem_id):
    """Record an accountability decision; removal and reassignment are due within one month."""
    from engine.services.accountability import OutcomeInput, record_outcome
    app = ctx.app()
    oid = record_outcome(app, ctx.actor(), OutcomeInput(outcome, reason, decided_on or app.clock.today(), person,
                                                        organisation, region, problem_id))
    out.print(ctx.label("cli.outcome_recorded").format(id=oid))


@accountability.command("done")
@click.argument("outcome_id", type=CASE_ID)
@click.option("--on", "done_on", callback=parse_date, help="Date it was carried out (default today).")
@pass_ctx
def accountability_done(ctx: Ctx, outcome_id, done_on):
    """Record that a reassignment or removal was carried out."""
    from engine.services.accountability import outcome_done
    app = ctx.app()
    outcome_done(app, ctx.actor(), outcome_id, done_on or app.clock.today())
    out.print(ctx.label("cli.outcome_done").format(id=outcome_id))


@cli.command()
@click.argument("case_id", type=CASE_ID, required=False)
@click.option("--person", "person_code", help="Trace a person instead of a case.")
@click.option("--html", "html_file", type=click.Path(dir_okay=False, writable=True),
              help="Write a printable dossier (HTML) to this file.")
@json_option
@pass_ctx
def trace(ctx: Ctx, case_id, person_code, html_file, as_json):
    """A case's whole life with who did what under which rules, or (--person) all a person did and answers for."""
    from engine.domain.errors import BadInput
    from engine.reads.trace import case_trace, person_trace, render_html
    if (case_id is None) == (person_code is None):
        raise BadInput("trace.case_or_person")
    app = ctx.app()
    data = case_trace(app, ctx.actor(), case_id) if case_id else person_trace(app, ctx.actor(), person_code)
    if html_file:
        page = render_html(app, data, ctx.lang, "trace_case.html" if case_id else "trace_person.html")
        Path(html_file).write_text(page, encoding="utf-8")
        out.print(ctx.label("cli.written").format(file=html_file))
        return
    emit(ctx, data, as_json, lambda: (_print_case_trace if case_id else _print_person_trace)(ctx, data))


def _rlabel(ctx: Ctx, prefix: str, value) -> str:
    if value is None:
        return "-"
    key = f"{prefix}.{value}"
    return ctx.label(key) if key in ctx.config.labels else str(value)


def _basis(ctx: Ctx, basis: str) -> str:
    from engine.reads.trace import basis_text
    return basis_text(ctx.config, basis, ctx.lang)


def _print_case_trace(ctx: Ctx, t: dict) -> None:
    L, role = ctx.label, lambda r: ctx.config.role_label(r, ctx.lang) if r else "-"
    integrity = L("trace.intact") if t["integrity"]["intact"] else L("trace.damaged") + ": " + "; ".join(t["integrity"]["damage"])
    out.print(f"case {t['id']} {_rlabel(ctx, 'kind', t['kind'])} {t['title']} — {t['region_name']} ({t['region']}) — "
              f"{_rlabel(ctx, 'stage', t['stage'])}")
    out.print(f"{L('trace.integrity')}: {integrity} ({t['integrity']['events']} {L('trace.events')}, "
              f"head {str(t['integrity']['head'])[:16]})")
    out.print(f"{L('trace.rule_versions')}: {', '.join(t['rule_versions'])}")
    if "problem" in t:
        a = t["attrs"]
        out.print(f"{L('trace.source')}: {_rlabel(ctx, 'problem_source', a.get('source'))}; {L('trace.finding')}: "
                  f"{_rlabel(ctx, 'finding', a.get('finding'))}; {a.get('description')}")
        if a.get("assignee"):
            out.print(f"{L('trace.assignee')}: {a.get('assignee_name')} ({a['assignee']}), {a.get('responsible_unit')}"
                      f" / {a.get('lead_unit')}, {L('trace.due')} {a.get('due_on')}")
        for link in t["problem"]["links"]:
            out.print(f"{L('trace.named_case')} {link['case_id']} {link['title']} ({_rlabel(ctx, 'stage', link['stage'])})")
            for r in link["chain"]:
                out.print(f"  {_rlabel(ctx, 'responsibility', r['type'])}: {r['person_name']} ({r['person_code']}, "
                          f"{role(r['role'])}) — {_basis(ctx, r['basis'])}")
        for r in t["problem"]["referrals"]:
            out.print(f"{L('trace.referred')}: {_rlabel(ctx, 'referral', r['reason'])} ({r['referred_at'][:10]})")
        for o in t["problem"]["outcomes"]:
            out.print(f"{L('trace.outcome')}: {_rlabel(ctx, 'outcome', o['outcome'])} — {o['person_name'] or o['organisation']}"
                      f" ({o['decided_on']}{', due ' + o['due_on'] if o['due_on'] else ''}"
                      f"{', done ' + o['done_on'] if o['done_on'] else ''}): {o['reason']}")
    for p in t["named_by_problems"]:
        out.print(f"{L('trace.named_by_problems')}: {p['problem_id']} {p['title']} "
                  f"({_rlabel(ctx, 'finding', p['finding'])}, {_rlabel(ctx, 'stage', p['stage'])})")
    for p in t["procedures"]:
        out.print(f"{_rlabel(ctx, 'procedure', p['kind'])} [{_rlabel(ctx, 'status', p['status'])}] {p['from']} → "
                  f"{p['to'] or '-'} — {L('trace.rule_version')} {p['policy_version']}"
                  + (f" — {p['outcome']}" if p["outcome"] else ""))
        for s in p["steps"]:
            void = f" [{L('trace.voided')}: {s['voided']}]" if s["voided"] else ""
            reason = f" — {s['reason']}" if s["reason"] else ""
            out.print(f"  {s['date']} ({s['recorded_at'][:16]}) {_rlabel(ctx, 'step', s['step'])}: "
                      f"{_rlabel(ctx, 'decision', s['decision'])} — {s['person_name']} ({s['person']}, {role(s['role'])})"
                      f"{reason}{void}")
            for e in s["evidence"]:
                out.print(f"      {_rlabel(ctx, 'evidence', e['type'])} {e['hash'][:16]} — {e.get('attached_by')} "
                          f"{(e.get('attached_at') or '')[:16]}")
        for r in p["responsibility"]:
            out.print(f"  {_rlabel(ctx, 'responsibility', r['type'])}: {r['person_name']} ({r['person']}, "
                      f"{role(r['role'])}) — {_basis(ctx, r['basis'])}")
    for n in t["notices"]:
        out.print(f"notice {n['id']} {_rlabel(ctx, 'step', n['step'])}: {n['start']} – {n['end']} "
                  f"({n['days_required']} {L('trace.days_required')})")
        for o in n["objections"]:
            out.print(f"  objection {o['id']} {o['filed_on']} {o['objector']}: {o['content']} — "
                      f"{o['resolution'] or L('trace.open')}" + (f" ({o['resolution_reason']}, {o['resolved_by']})"
                                                                 if o["resolution_reason"] else ""))


def _print_person_trace(ctx: Ctx, t: dict) -> None:
    L, role = ctx.label, lambda r: ctx.config.role_label(r, ctx.lang) if r else "-"
    out.print(f"{t['person']['name']} ({t['person']['code']})")
    for p in t["posts"]:
        out.print(f"  {L('trace.posts')}: {role(p['role'])} {p['region']} {p['granted_at'][:10]} – "
                  f"{(p['revoked_at'] or '')[:10]}")
    for o in t["outcomes"]:
        out.print(f"{L('trace.outcome')}: {_rlabel(ctx, 'outcome', o['outcome'])} {o['decided_on']}"
                  f"{' problem ' + str(o['problem_id']) if o['problem_id'] else ''}"
                  f"{', due ' + o['due_on'] if o['due_on'] else ''}{', done ' + o['done_on'] if o['done_on'] else ''}"
                  f": {o['reason']}")
    for r in t["responsibilities"]:
        out.print(f"{_rlabel(ctx, 'responsibility', r['type'])}: case {r['case_id']} {r['title']} — "
                  f"{_rlabel(ctx, 'procedure', r['procedure'])} ({role(r['role'])}, {_basis(ctx, r['basis'])}, {r['date']})")
    for s in t["steps"]:
        void = f" [{L('trace.voided')}]" if s["voided"] else ""
        out.print(f"{s['date']} ({s['recorded_at'][:16]}) case {s['case_id']} {s['title']}: "
                  f"{_rlabel(ctx, 'procedure', s['procedure'])} / {_rlabel(ctx, 'step', s['step'])} — "
                  f"{_rlabel(ctx, 'decision', s['decision'])}{void}")


@cli.command()
@click.option("--households", default=2000, show_default=True)
@click.option("--seed", default=2019, show_default=True)
@pass_ctx
def demo(ctx: Ctx, households, seed):
    """Build a fresh demo home (one county) and walk ~2,000 households through their life."""
    from demo.county import run_demo
    run_demo(ctx.settings(), ctx.config, households=households, seed=seed, lang=ctx.lang, console=out)


# --- deadlines, alerts, notifications, the scheduler (DOMAIN §6) ------------------------------

def _office_zone(ctx: Ctx | None):
    """The configured office time zone (deadlines.yaml `timezone`), else Asia/Shanghai."""
    from zoneinfo import ZoneInfo
    deadlines = ctx.config.deadlines if ctx is not None else None
    return ZoneInfo(deadlines.timezone if deadlines is not None else "Asia/Shanghai")


def _parse_now(c, _p, value: str | None):
    """An ISO time; without a zone it is office time (the configured zone); a bare date means 08:30 then."""
    if value is None:
        return None
    from datetime import datetime as _dt, timezone as _tz
    try:
        found = _dt.fromisoformat(value if "T" in value or " " in value else value + "T08:30")
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a time like 2019-10-09T09:00 or 2019-10-09T09:00+08:00") from None
    if found.tzinfo is None:
        found = found.replace(tzinfo=_office_zone(c.find_object(Ctx) if c is not None else None))
    return found.astimezone(_tz.utc)


def _admin_for_now(ctx: Ctx, now, action: str) -> None:
    """Running a job as of another time (tests, catching up) is for administrators only."""
    if now is not None:
        from engine.services.org import require_admin
        from engine.domain.regions import ROOT
        require_admin(ctx.app(), ctx.actor(), ROOT, action)


def _deadline_warnings(ctx: Ctx, cfg) -> None:
    from engine.reads.deadlines import calendar_warnings
    for note in cfg.notes:
        err.print(f"note: {note}")
    for warning in calendar_warnings(cfg, date.today()):
        err.print(f"warning: {warning}")
    try:   # provisional deadlines already in the database, when there is one to look at
        from engine.reads.deadlines import provisional_open
        n = provisional_open(ctx.app())
    except Exception:
        return
    if n:
        err.print(ctx.label("deadline.provisional_warning").format(n=n))


def _mark(ctx: Ctx, row: dict) -> str:
    return ctx.label("deadline.provisional_mark") if row.get("provisional") else ""


@cli.group()
def deadline():
    """Deadlines: what is due, who owns it, when it escalates."""


@deadline.command("list")
@click.option("--mine", is_flag=True, help="Only deadlines I own.")
@click.option("--overdue", is_flag=True, help="Only those past their due time.")
@click.option("--status", type=click.Choice(["open", "done", "cancelled", "any"]), default="open", show_default=True)
@click.option("--region", "region_code")
@click.option("--rule")
@click.option("--case", "case_id", type=CASE_ID)
@click.option("--limit", type=click.IntRange(1, None))
@json_option
@pass_ctx
def deadline_list(ctx: Ctx, mine, overdue, status, region_code, rule, case_id, limit, as_json):
    """List deadlines in my jurisdiction, the oldest due first."""
    from engine.reads.deadlines import deadline_rows
    rows = deadline_rows(ctx.app(), ctx.actor(), mine=mine, status=None if status == "any" else status,
                         overdue=overdue, region=region_code, rule=rule, case_id=case_id, limit=limit)
    if as_json:
        emit(ctx, rows, True)
        return
    click.echo(ctx.label("deadline.list_header"))
    for r in rows:
        what = ctx.label("rule." + r["rule"]) + (f" / {ctx.label('step.' + r['step'])}" if r["step"] else "")
        state = ctx.label("deadline.overdue") if r["overdue"] else ctx.label("deadline.status." + r["status"])
        click.echo(f"{r['id']}\t{r['case']}\t{r['title']}\t{what}\t{r['due_on']}{_mark(ctx, r)}\t"
                   f"{r['owner'] or '-'}\t{state}")
    click.echo(ctx.label("deadline.list_count").format(n=len(rows)))


@deadline.command("reschedule")
@pass_ctx
def deadline_reschedule(ctx: Ctx):
    """Recompute open deadlines under the rules in force (e.g. after upgrading the holiday calendar)."""
    from engine.services.deadlines import reschedule
    from engine.services.org import require_admin
    from engine.domain.regions import ROOT
    app = ctx.app()
    require_admin(app, ctx.actor(), ROOT, "deadline reschedule")
    with app.transaction() as conn:
        moved = reschedule(conn, app.config, app.clock.now())
    out.print(ctx.label("deadline.rescheduled").format(**moved))


@cli.group()
def alerts():
    """Alerts on overdue work: sweep (once per ladder level), deliver, list."""


@alerts.command("sweep")
@click.option("--now", callback=_parse_now, help="Sweep as of this time (ISO; administrators only).")
@click.option("--mode", type=click.Choice(["all", "overdue", "reminders"]), default="all", show_default=True)
@json_option
@pass_ctx
def alerts_sweep(ctx: Ctx, now, mode, as_json):
    """Write an alert for every ladder level that has fallen due, once, with its messages (for cron)."""
    from engine.services.sweep import sweep
    _admin_for_now(ctx, now, "alerts sweep")
    result = sweep(ctx.app(), now=now, mode=mode).as_dict()
    levels = ", ".join(f"{k}: {v}" for k, v in result["by_level"].items()) or "-"
    emit(ctx, result, as_json, lambda: out.print(ctx.label("alerts.swept").format(**{**result, "by_level": levels})))


@alerts.command("dispatch")
@click.option("--now", callback=_parse_now, help="Deliver as of this time (ISO; administrators only).")
@click.option("--batch", type=click.IntRange(1, 10000), default=50, show_default=True)
@json_option
@pass_ctx
def alerts_dispatch(ctx: Ctx, now, batch, as_json):
    """Deliver the waiting messages (SMTP settings and robot URLs from the environment)."""
    from notifications.dispatcher import dispatch
    _admin_for_now(ctx, now, "alerts dispatch")
    result = dispatch(ctx.app(), now=now, batch=batch).as_dict()
    emit(ctx, result, as_json, lambda: out.print(ctx.label("alerts.dispatched").format(**result)))


@alerts.command("digest")
@click.option("--now", callback=_parse_now, help="As of this time (ISO; administrators only).")
@json_option
@pass_ctx
def alerts_digest(ctx: Ctx, now, as_json):
    """Queue today's digest for every supervisor with overdue work in their jurisdiction (once a day)."""
    from engine.services.sweep import digest
    _admin_for_now(ctx, now, "alerts digest")
    result = digest(ctx.app(), now=now)
    emit(ctx, result, as_json, lambda: out.print(
        ctx.label("alerts.digested").format(**result)
        + (ctx.label("alerts.digest_unreachable").format(codes=", ".join(result["unreachable"]))
           if result["unreachable"] else "")))


@alerts.command("list")
@click.option("--mine", is_flag=True, help="Alerts sent to me or about deadlines I own.")
@click.option("--level", type=click.IntRange(-1, 20), help="-1 reminder, 0 owner, 1.. escalation levels.")
@click.option("--status", type=click.Choice(["pending", "delivered", "failed"]))
@click.option("--failed", is_flag=True, help="Only alerts (and digests) whose delivery failed for good.")
@click.option("--region", "region_code")
@click.option("--limit", type=click.IntRange(1, None))
@json_option
@pass_ctx
def alerts_list(ctx: Ctx, mine, level, status, failed, region_code, limit, as_json):
    """List alerts in my jurisdiction, newest first, with how their delivery went."""
    from engine.reads.deadlines import alert_rows
    rows = alert_rows(ctx.app(), ctx.actor(), mine=mine, level=level, status="failed" if failed else status,
                      region=region_code, limit=limit)
    if as_json:
        emit(ctx, rows, True)
        return
    click.echo(ctx.label("alerts.list_header"))
    for r in rows:
        if r.get("kind") == "digest":
            errors = "; ".join(m["error"] or "-" for m in r["messages"])
            click.echo(f"-\t{ctx.label('alerts.digest')}\t-\t-\t-\t{', '.join(r['recipients'])}\t"
                       f"{ctx.label('alerts.status.' + r['status'])}: {errors}")
            continue
        what = ctx.label("rule." + r["rule"]) + (f" / {ctx.label('step.' + r['step'])}" if r["step"] else "")
        delivery = ctx.label("alerts.status." + r["status"])
        problems = [f"{m['channel']}: {m['error']}" for m in r["messages"] if m["status"] == "failed"]
        if r["unreachable"]:
            problems.append(ctx.label("alerts.unreachable") + " " + ", ".join(r["unreachable"]))
        click.echo(f"{r['id']}\t{r['level']}\t{r['case']} {r['title']}\t{what}\t{r['due_on']}{_mark(ctx, r)}\t"
                   f"{', '.join(r['recipients']) or '-'}\t{delivery}" + (f" ({'; '.join(problems)})" if problems else ""))
    click.echo(ctx.label("alerts.list_count").format(n=len(rows)))


@person.command("channel")
@click.argument("code")
@click.option("--add", "added", multiple=True, help="KIND:ADDRESS, repeatable.")
@click.option("--remove", "removed", multiple=True, help="KIND:ADDRESS, repeatable.")
@click.option("--clear", is_flag=True, help="End every channel first.")
@click.option("--alert-lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@json_option
@pass_ctx
def person_channel(ctx: Ctx, code, added, removed, clear, alert_lang, as_json):
    """Change how a person's alerts reach them (administrators); prints the channels in force."""
    from notifications.contacts import parse_channel, set_channels
    adds = [parse_channel(c, alert_lang) for c in added]
    removes = [parse_channel(c)[:2] for c in removed]
    rows = set_channels(ctx.app(), ctx.actor(), code, adds, removes, clear)
    emit(ctx, rows, as_json, lambda: [out.print(f"{r['channel']}:{r['address']} ({r['lang']})") for r in rows]
         or out.print("no channel"))


@cli.group()
def scheduler():
    """The scheduler process: sweeps, reminders, the daily digest, delivery, audit seals."""


@scheduler.command("run")
@click.option("--sweep-minutes", type=click.IntRange(1, 60), default=5, show_default=True)
@click.option("--dispatch-seconds", type=click.IntRange(5, 3600), default=60, show_default=True)
@pass_ctx
def scheduler_run(ctx: Ctx, sweep_minutes, dispatch_seconds):
    """Run the scheduler in the foreground (one per data home). With --as an administrator it also
    seals the audit log every night; without, it seals nothing."""
    from entrypoints.scheduler import run
    actor = ctx.actor() if ctx.as_code else None
    run(ctx.app(), actor, sweep_minutes=sweep_minutes, dispatch_seconds=dispatch_seconds, console=out,
        lang=ctx.lang)


@scheduler.command("jobs")
@json_option
@pass_ctx
def scheduler_jobs(ctx: Ctx, as_json):
    """The scheduler's jobs as stored in the database, with their next run."""
    from entrypoints.scheduler import stored_jobs
    ctx.actor()
    rows = stored_jobs(ctx.app())
    emit(ctx, rows, as_json, lambda: [out.print(f"{r['id']}\t{r['next_run']}\t{r['trigger']}") for r in rows])


def main(argv: list[str] | None = None) -> int:
    _chosen_lang.clear()
    try:
        return _run(argv)
    finally:
        for ctx in _opened:
            if ctx._app is not None:
                ctx._app.close()
        _opened.clear()


def _run(argv: list[str] | None) -> int:
    try:
        code = cli.main(args=argv, prog_name="jingzhun", standalone_mode=False)
        return code if isinstance(code, int) else 0   # a command's own Exit(n) comes back as n
    except click.exceptions.Abort:
        err.print("aborted")
        return 2
    except click.ClickException as exc:
        exc.show()
        return 2
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except ConfigError as exc:
        err.print(f"configuration error: {exc}")
        return 2
    except (sa_exc.ArgumentError, sa_exc.NoSuchModuleError, sa_exc.OperationalError, sa_exc.InterfaceError,
            ModuleNotFoundError) as exc:
        from sqlalchemy import make_url
        url = os.environ.get("JINGZHUN_DB") or next((a for a in (argv or sys.argv) if "://" in a), "-")
        try:
            url = make_url(url).render_as_string(hide_password=True)
        except Exception:
            pass
        lang = _chosen_lang[0] if _chosen_lang else os.environ.get("JINGZHUN_LANG", "zh")
        problem = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        err.print("error [db.unusable]: " + JingzhunError("db.unusable", url=url, problem=problem).render(load_config(), lang))
        return 2
    except JingzhunError as exc:
        lang = _chosen_lang[0] if _chosen_lang else os.environ.get("JINGZHUN_LANG", "zh")
        try:
            labels = load_config()
        except ConfigError:
            labels = None
        kind = "refused" if exc.exit_code == 1 else "error"
        err.print(f"{kind} [{exc.code}]: {exc.render(labels, lang)}", markup=False)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
