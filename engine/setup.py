"""Creating or upgrading a data home: schema migrations, the root region, the first administrator."""
from __future__ import annotations

from sqlalchemy import func, select

from config import Config
from . import tables as t
from .app import App, Clock
from .db import Settings, make_engine
from .org import NewPerson, add_persons, ensure_root
from .regions import ROOT


def initialize(settings: Settings, config: Config | None = None, admin_code: str = "admin",
               admin_name: str = "系统管理员", clock: Clock | None = None) -> tuple[App, str | None]:
    """Run the migrations; on an empty database create the first administrator.

    Returns the app and the administrator's token (None when people already existed).
    """
    import migrations
    engine = make_engine(settings)
    settings.evidence_dir.mkdir(parents=True, exist_ok=True)
    migrations.upgrade(engine)
    app = App(settings, config=config, clock=clock, engine=engine)
    with app.transaction() as conn:
        ensure_root(conn)
        has_people = conn.execute(select(func.count()).select_from(t.persons)).scalar()
    if has_people:
        return app, None
    tokens = add_persons(app, None, [NewPerson(admin_code, admin_name, (("admin", ROOT),))])
    return app, tokens[admin_code]
