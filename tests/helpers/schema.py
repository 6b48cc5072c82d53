"""The schema taken back to an earlier revision, as a home made before a migration has it: what the
tests of a migration start from (the migration then runs by `migrations.upgrade` or `jingzhun init`)."""
from __future__ import annotations

from typing import Callable

from sqlalchemy.engine import Connection, Engine


def downgrade(engine: Engine, revision: str, then: Callable[[Connection], None] | None = None) -> None:
    """Alembic's downgrade to `revision` on `engine`, in one transaction; `then`: what else a home of that
    revision held, written in the same transaction (rows as the engine before the migration wrote them)."""
    from alembic import command

    import migrations
    cfg = migrations.alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)
        if then is not None:
            then(conn)
