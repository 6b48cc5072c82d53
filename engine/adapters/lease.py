"""A named lease in the database: of many processes (uvicorn workers, server instances on one
PostgreSQL) only the holder does the work it guards, e.g. running the scheduler. Taking and
renewing are one conditional UPDATE (or the first INSERT), so two processes never both hold it."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, delete, insert, or_, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine

from engine.adapters import tables as t

SCHEDULER = "scheduler"      # the lease of the process that runs the scheduler (a server, or `scheduler run`)


def take(engine: Engine, name: str, holder: str, now: datetime, seconds: float) -> bool:
    """Take or renew the lease `name` for `holder` until now + seconds; False if another holds it."""
    until = now + timedelta(seconds=seconds)
    leases = t.scheduler_leases
    try:
        with engine.begin() as conn:
            done = conn.execute(update(leases).where(and_(leases.c.name == name, or_(
                leases.c.holder == holder, leases.c.expires_at < now))).values(holder=holder, expires_at=until))
            if done.rowcount:
                return True
            conn.execute(insert(leases).values(name=name, holder=holder, expires_at=until))
            return True
    except sa_exc.IntegrityError:      # somebody else holds it (or took it first just now)
        return False


def release(engine: Engine, name: str, holder: str) -> None:
    leases = t.scheduler_leases
    with engine.begin() as conn:
        conn.execute(delete(leases).where(leases.c.name == name, leases.c.holder == holder))


def holder_of(engine: Engine, name: str, now: datetime) -> str | None:
    from sqlalchemy import select
    leases = t.scheduler_leases
    with engine.connect() as conn:
        row = conn.execute(select(leases.c.holder, leases.c.expires_at).where(leases.c.name == name)).first()
    if row is None:
        return None
    expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=now.tzinfo)
    return row.holder if expires >= now else None
