"""Creating or upgrading a data home: schema migrations, the root region, the first administrator."""
from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import func, select

from config import Config
from engine.adapters import tables as t
from config import load_config
from engine.adapters.app import App, Clock, home_config, record_keys_held
from engine.adapters.db import (Settings, hidden, make_engine, refuse_newer_schema, schema_revision, secure_home,
                                sqlite_file)
from engine.domain.auth import Actor
from engine.domain.errors import BadInput, Msg
from engine.services.accounts import renew_token
from engine.services.org import NewPerson, add_persons, ensure_root, load_actor, person_by_code
from engine.domain.regions import ROOT
from engine.services.plugins import Plugins


def initialize(settings: Settings, plugins: Plugins, config: Config | None = None, admin_code: str = "admin",
               admin_name: str = "系统管理员", clock: Clock | None = None,
               repaired: list[Msg] | None = None) -> tuple[App, str | None]:
    """Run the migrations; on an empty database create the first administrator.

    Returns the app and the administrator's token (None when people already existed). `repaired`
    gains what was put right on the way (an interrupted upgrade's leftovers, PostgreSQL's revoked
    privileges given back), for the caller to say.
    """
    import migrations
    repaired = [] if repaired is None else repaired
    _refuse_second_record(settings)               # before an empty SQLite file is made
    engine = make_engine(settings, create=True)
    revision = schema_revision(engine)
    refuse_newer_schema(revision)                 # a later version's schema: no migration of ours applies
    if revision is None:
        _refuse_second_record(settings, engine)
    _refuse_keyless_home(engine, settings)       # before anything is migrated or made
    secure_home(settings)                        # 0700 / 0600 whatever the umask; an older home tightened
    rules = config or load_config(home_config(settings))    # a migration may reckon by them (0024)
    leftovers = migrations.upgrade(engine, rules.policy)
    if leftovers:
        repaired.append(Msg("cli.init_leftovers_dropped", {"tables": ", ".join(leftovers)}))
    regranted = _revoke_log_changes(engine)
    if regranted:
        repaired.append(Msg("cli.init_privileges_revoked", {"tables": ", ".join(regranted)}))
    app = App(settings, plugins, config=config, clock=clock, engine=engine, check_schema=False)
    ensure_record_key(app)
    with app.transaction() as conn:
        ensure_root(conn)
        from engine.services.deadlines import (cancel_waits_of_limited, correct_awaited_steps, open_objection_waits,
                                               open_sample_waits, open_stage_waits, open_step_waits)
        if app.record_rules(conn):     # rules new to this home (a release's packaged ones): their transition ends,
            from engine.services.transition_ends import reckon_transition_ends    # and the wrong exits waiting already
            reckon_transition_ends(conn, app.config.policy)
            open_sample_waits(conn, app.config, app.clock.today(), app.clock.now())
            open_step_waits(conn, app.config, app.clock.now())      # and the cases waiting at a step already
            open_stage_waits(conn, app.config, app.clock.now())     # or at a stage a new rule dates
            open_objection_waits(conn, app.config, app.clock.now())    # and the objections open already
        correct_awaited_steps(conn, app.config)     # deadlines written naming another step than they wait for
        cancel_waits_of_limited(conn, app.config, app.clock.now())   # a step its procedure's own limit dates alone
        has_people = conn.execute(select(func.count()).select_from(t.persons)).scalar()
    if has_people:
        return app, None
    add_persons(app, None, [NewPerson(admin_code, admin_name, (("admin", ROOT),), enrol=False)])
    with app.engine.connect() as conn:          # whoever installs is the first administrator: their own token
        admin = load_actor(conn, person_by_code(conn, admin_code), app.keyring)
    return app, renew_token(app, admin)


# Who records the record's first key at init, before any person exists (no person: person_id NULL).
KEYKEEPER = Actor(person_id=None, code="system", name="system")


def _refuse_keyless_home(engine, settings: Settings) -> None:
    """A database whose record has keys, opened with a data home holding no key file where every key
    check looks for it (keyring.key_path: JINGZHUN_KEY_FILE, else keys/record.key in the home; `init` run
    from another folder, or a restore whose key file is not back yet): refused, since a new key would be
    recorded and the record would never verify again."""
    from sqlalchemy import inspect
    from engine.adapters.keyring import key_path
    if key_path(settings.home).exists() or not inspect(engine).has_table("record_keys"):
        return
    with engine.connect() as conn:
        keys = record_keys_held(conn)
    if keys:
        raise _keyless(settings, keys)


def _keyless(settings: Settings, keys: int) -> BadInput:
    """The refusal of a home without the key file of a database with `keys` keys: where the file was
    looked for (JINGZHUN_KEY_FILE when set, else the data home's keys/record.key)."""
    import os
    if os.environ.get("JINGZHUN_KEY_FILE"):
        return BadInput("keys.missing_for_database_file", file=os.environ["JINGZHUN_KEY_FILE"], count=keys)
    return BadInput("keys.missing_for_database", home=str(settings.home), count=keys)


def _refuse_second_record(settings: Settings, engine=None) -> None:
    """A data home that holds a record already (its key file, recorded in the database `init` made it
    with; evidence files) over an empty database (`engine`, or a SQLite file not made yet): a new
    schema would start a second record beside the first, its cases and audit log missing, its evidence
    files named by no row. Refused, naming `move-database` (the way to carry the record over) and a new
    data home (the way to start afresh)."""
    from engine.adapters.keyring import key_path
    if engine is None:
        path = sqlite_file(settings)
        if path is None or path.exists():
            return                                # asked again once the database is open
    else:
        from engine.adapters.move import tables_held
        with engine.connect() as conn:            # (one that does not answer is said as such)
            if tables_held(conn):
                return
    held = [str(p) for p in (key_path(settings.home),) if p.is_file()]
    if settings.evidence_dir.is_dir() and any(p.is_file() for p in settings.evidence_dir.rglob("*")):
        held.append(str(settings.evidence_dir))
    if held:
        raise BadInput("init.home_has_record", home=str(settings.home), held=", ".join(held),
                       url=hidden(settings.db_url))


def _revoke_log_changes(engine) -> list[str]:
    """On PostgreSQL, migration 0004's REVOKE of UPDATE, DELETE and TRUNCATE on the audit tables, applied
    again (idempotent): a restore with `pg_restore --no-owner --no-privileges` gives the new owner them
    back. Returns the tables where some role held them before and no role does now."""
    if engine.dialect.name != "postgresql":
        return []
    with engine.begin() as conn:
        return revoke_log_changes(conn)


def revoke_log_changes(conn) -> list[str]:
    """_revoke_log_changes inside a transaction already open on a PostgreSQL connection."""
    from sqlalchemy import text
    from engine.reads.audit_projections import PRIVILEGES_QUERY, REVOKED
    held = {table for table, _privileges in conn.execute(text(PRIVILEGES_QUERY))}
    for table in REVOKED:
        conn.execute(text(f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM PUBLIC"))
        conn.execute(text(f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM CURRENT_USER"))
    still = {table for table, _privileges in conn.execute(text(PRIVILEGES_QUERY))}
    return sorted(held - still)


def ensure_record_key(app: App) -> None:
    """A data home has its record key from init on (an older home gets it at its upgrade): the key
    file is made if missing, and the key in use is recorded in the log if it is not yet."""
    from engine.adapters.keyring import new_key
    if app.keyring is None:
        with app.engine.connect() as conn:
            keys = record_keys_held(conn)
        if keys:     # a database with keys, a home without: never a new key (the record would not verify)
            raise _keyless(app.settings, keys)
        app.keyring = new_key(app.settings.home)
    if not app.recorded(t.record_keys.c.key_id, app.keyring.key_id):
        _record_key(app, KEYKEEPER)


def new_record_key(app: App, actor) -> str:
    """Make the record's next key: the key file gains it, and an organisation event, MACed with it,
    records its public key for anyone to check heads with. Returns the public key, to publish."""
    from engine.adapters.keyring import new_key
    app.keyring = new_key(app.settings.home)
    return _record_key(app, actor)


def _record_key(app: App, actor) -> str:
    key = app.keyring.checked().current
    with app.unit_of_work() as uow:
        event = uow.append_org_event(actor, "record_key_created", None, None, key_id=key.key_id,
                                     public_key=key.public_key)
        seq = uow.conn.execute(select(t.audit_events.c.seq).where(t.audit_events.c.hash == event["hash"])).scalar_one()
        uow.conn.execute(t.record_keys.insert().values(key_id=key.key_id, public_key=key.public_key,
                                                       created_at=event["at"], event_seq=seq))
    return key.public_key


def rotate_record_key(app: App, actor) -> str:
    """An administrator over the whole installation replaces the key in use (the old ones stay in the
    key file, so what they MACed still verifies)."""
    from engine.services.org import require_admin
    require_admin(app, actor, ROOT, "audit rotate-key")
    app.require_keys()           # no key file to add to: a new one alone would orphan the record's keys
    return new_record_key(app, actor)


class Installed(NamedTuple):
    version: str                      # the rules version now in force
    previous: str                     # the one before
    changes: list                     # config.changes.Change: what differs from the rules before
    config: Config                    # the rules now in force
    transition_ends_moved: int = 0    # households whose transition end the new rules moved


def install_config(app: App, actor, directory, drop_missing: bool = False) -> Installed:
    """Put a validated configuration in force in this data home; returns its rules version and what
    changed.

    Only an administrator over the whole installation may; the full text of the new rules is
    recorded and the change is an audit event, so every later decision can be traced to it. A
    configuration lacking anything the rules in force have (a province, a year's income line, a
    section: what a file cut short in a copy loses) is refused, naming each, unless `drop_missing`:
    then what it drops is recorded in the event.
    """
    import shutil
    import time
    from pathlib import Path

    from config import load_config
    from config.changes import changes
    from engine.services.org import require_admin
    source = Path(directory)
    new = load_config(source)
    app.plugins.check_references(new)
    assignment = require_admin(app, actor, ROOT, "config install")
    found = changes(app.config, new)
    dropped = [c for c in found if c.kind == "dropped"]
    if dropped and not drop_missing:
        raise BadInput("config.drops", directory=str(source), count=len(dropped), parts=[c.part for c in dropped])
    target = app.settings.home / "config"
    staging = app.settings.home / f"config.new-{int(time.time())}"
    shutil.copytree(source, staging, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    from engine.adapters.private_files import private_tree
    private_tree(staging)         # inside the 0700 home, as the home's other folders: 0700, files 0600
    try:
        with app.unit_of_work() as uow:
            app.record_rules(uow.conn, new)
            from engine.services.deadlines import open_sample_waits, reschedule
            reschedule(uow.conn, new, app.clock.now())   # open deadlines move to the new rules (one UPDATE)
            from engine.services.transition_ends import reckon_transition_ends
            moved = reckon_transition_ends(uow.conn, new.policy)   # a new transition period's length
            open_sample_waits(uow.conn, new, app.clock.today(), app.clock.now())   # wrong exits waiting already
            from engine.services.deadlines import correct_awaited_steps, open_stage_waits, open_step_waits
            open_step_waits(uow.conn, new, app.clock.now())     # cases waiting at a step a new rule dates
            open_stage_waits(uow.conn, new, app.clock.now())    # or at a stage (a problem item's verification)
            from engine.services.deadlines import open_objection_waits
            open_objection_waits(uow.conn, new, app.clock.now())     # objections open before a new rule
            correct_awaited_steps(uow.conn, new)
            from engine.services.deadlines import cancel_waits_of_limited
            cancel_waits_of_limited(uow.conn, new, app.clock.now())    # a step its procedure's limit dates alone
            dropped_detail = {"dropped": [c.where for c in dropped]} if dropped else {}
            moved_detail = {"transition_ends_moved": moved} if moved else {}
            uow.append_org_event(actor, "config_installed", assignment.role, ROOT,
                                 version=new.version, previous=app.policy_version, source=str(source),
                                 **dropped_detail, **moved_detail)
            if target.exists():            # kept beside it: a name no install in the same second took
                replaced = app.settings.home / f"config.replaced-{int(time.time())}"
                replaced = next(p for n in range(1000) if not (p := replaced.with_name(
                    replaced.name + (f"-{n}" if n else ""))).exists())
                target.rename(replaced)
            staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Installed(new.version, app.policy_version, found, new, moved)
