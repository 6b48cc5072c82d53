"""Creating or upgrading a data home: schema migrations, the root region, the first administrator."""
from __future__ import annotations

from sqlalchemy import func, select

from config import Config
from engine.adapters import tables as t
from engine.adapters.app import App, Clock
from engine.adapters.db import Settings, make_engine, secure_home
from engine.services.org import NewPerson, add_persons, ensure_root
from engine.domain.regions import ROOT
from engine.services.plugins import Plugins


def initialize(settings: Settings, plugins: Plugins, config: Config | None = None, admin_code: str = "admin",
               admin_name: str = "系统管理员", clock: Clock | None = None) -> tuple[App, str | None]:
    """Run the migrations; on an empty database create the first administrator.

    Returns the app and the administrator's token (None when people already existed).
    """
    import migrations
    engine = make_engine(settings, create=True)
    secure_home(settings)                        # 0700 / 0600 whatever the umask; an older home tightened
    migrations.upgrade(engine)
    app = App(settings, plugins, config=config, clock=clock, engine=engine, check_schema=False)
    with app.transaction() as conn:
        ensure_root(conn)
        app.record_rules(conn)
        has_people = conn.execute(select(func.count()).select_from(t.persons)).scalar()
    if has_people:
        return app, None
    tokens = add_persons(app, None, [NewPerson(admin_code, admin_name, (("admin", ROOT),))])
    return app, tokens[admin_code]


def install_config(app: App, actor, directory) -> str:
    """Put a validated configuration in force in this data home; returns its rules version.

    Only an administrator over the whole installation may; the full text of the new rules is
    recorded and the change is an audit event, so every later decision can be traced to it.
    """
    import shutil
    import time
    from pathlib import Path

    from config import load_config
    from engine.services.org import require_admin
    source = Path(directory)
    new = load_config(source)
    app.plugins.check_references(new)
    assignment = require_admin(app, actor, ROOT, "config install")
    target = app.settings.home / "config"
    staging = app.settings.home / f"config.new-{int(time.time())}"
    shutil.copytree(source, staging, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    try:
        with app.unit_of_work() as uow:
            app.record_rules(uow.conn, new)
            from engine.services.deadlines import reschedule
            reschedule(uow.conn, new, app.clock.now())   # open deadlines move to the new rules (one UPDATE)
            uow.append_org_event(actor, "config_installed", assignment.role, ROOT,
                                 version=new.version, previous=app.policy_version, source=str(source))
            if target.exists():
                target.rename(app.settings.home / f"config.replaced-{int(time.time())}")
            staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return new.version
