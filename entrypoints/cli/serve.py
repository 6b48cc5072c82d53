"""`jingzhun serve`: the server, the one process that holds the database and the data home."""
from __future__ import annotations

import os

import click

from .context import Ctx, pass_ctx

# Seconds an idle keep-alive connection stays open: longer than a person pauses between pages, as
# nginx's default, so a browser or client rarely sends on a connection the server is just closing.
KEEP_ALIVE = 75
from .printing import say
from .helptext import command


def serve_settings(settings, host: str, port: int, workers: int, scheduler: bool, forwarded: str | None) -> None:
    """Run uvicorn with `workers` processes over the settings' data home; blocks until stopped."""
    import uvicorn
    from engine.adapters.db import make_engine, require_current_schema
    engine = make_engine(settings)          # refuse a missing or outdated database before binding the port
    try:
        require_current_schema(engine)
    finally:
        engine.dispose()
    os.environ["JINGZHUN_HOME"] = str(settings.home)
    os.environ["JINGZHUN_DB"] = settings.db_url   # the workers' environment only; never in argv
    os.environ["JINGZHUN_SCHEDULER"] = "1" if scheduler else "0"
    options = {"proxy_headers": True, "forwarded_allow_ips": forwarded} if forwarded else {"proxy_headers": False}
    uvicorn.run("entrypoints.web.app:from_env", factory=True, host=host, port=port, workers=workers,
                log_level="info", access_log=False, server_header=False, timeout_keep_alive=KEEP_ALIVE, **options)


def serve_options(f):
    for option in reversed((
        click.option("--host", default="127.0.0.1", show_default=True),
        click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535)),
        click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64)),
        click.option("--no-scheduler", "no_scheduler", is_flag=True),
        click.option("--forwarded-allow-ips", "forwarded", default=None),
    )):
        f = option(f)
    return f


@command()
@serve_options
@pass_ctx
def serve(ctx: Ctx, host, port, workers, no_scheduler, forwarded):
    settings = ctx.settings()
    say(ctx.text("serve_url", url=f"http://{host}:{port}/"))
    serve_settings(settings, host, port, workers_for(ctx, settings, workers), not no_scheduler, forwarded)


def workers_for(ctx: Ctx, settings, workers: int) -> int:
    """The worker processes asked for; one on SQLite (its writes are one at a time), said so."""
    if workers > 1 and settings.db_url.startswith("sqlite"):
        say(ctx.text("serve_sqlite_workers"))
        return 1
    return workers


COMMANDS = (serve,)
