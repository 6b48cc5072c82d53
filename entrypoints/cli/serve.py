"""`jingzhun serve`: the server, the one process that holds the database and the data home."""
from __future__ import annotations

import contextlib
import os
from typing import Iterator

import click

from .context import Ctx, pass_ctx

# Seconds an idle keep-alive connection stays open: longer than a person pauses between pages, as
# nginx's default, so a browser or client rarely sends on a connection the server is just closing.
KEEP_ALIVE = 75
from .printing import say
from .helptext import command


def port_free(host: str, port: int) -> None:
    """Refuse a port another process holds, before anything is built or said to have started (uvicorn
    would exit 3 after the server was announced, `demo --serve` after building the demo)."""
    import socket
    from engine.domain.errors import BadInput
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            raise BadInput("serve.port_taken", host=host, port=port) from None


def preflight(settings) -> None:
    """The application built once, as each worker will build it, before the port is bound: a database
    missing, unreachable or not migrated, a data home or key file the server cannot read, the key file
    of a database that has keys missing, a data home or database others may read, a
    configuration that does not load are said once, in words, with exit 2 (with several workers
    uvicorn restarted each failing worker for ever, its parent up and holding the port)."""
    from entrypoints.bootstrap import check_references, make_app
    app = make_app(settings)
    try:
        app.require_keys()                  # a server without the record's key file would sign nothing
        check_references(app.config)        # at once: a worker checks it as it imports the case kinds
        from engine.services.backup_rotation import backup_plan
        backup_plan(home=settings.home)     # the nightly backup's settings (JINGZHUN_BACKUP_*)
        from notifications.channels import NotifySettings
        NotifySettings.from_env(settings.home).check()    # JINGZHUN_SMTP_*, JINGZHUN_ROBOT_*, JINGZHUN_PUBLIC_URL
    finally:
        app.close()


def serve_settings(settings, host: str, port: int, workers: int, scheduler: bool, forwarded: str | None,
                   ready=None) -> None:
    """Run uvicorn with `workers` processes over the settings' data home; blocks until stopped.
    `ready`: called once the server's socket listens (to say where it answers): a browser opened on
    the words is answered, not refused."""
    port_free(host, port)
    preflight(settings)
    # the links in messages (a case's page, the overdue page): this server's address unless the
    # public one (behind a proxy, a domain name) is given; kept in the data home for the messages
    # commands on this home queue (a cron sweep, a press from the command line: context.link_base)
    remember_link_base(settings.home, os.environ.get("JINGZHUN_PUBLIC_URL") or browse_url(host, port))
    os.environ["JINGZHUN_HOME"] = str(settings.home)
    os.environ["JINGZHUN_DB"] = settings.db_url   # the workers' environment only; never in argv
    os.environ.setdefault("JINGZHUN_PUBLIC_URL", browse_url(host, port))
    os.environ["JINGZHUN_SCHEDULER"] = "1" if scheduler else "0"
    options = {"proxy_headers": True, "forwarded_allow_ips": forwarded} if forwarded else {"proxy_headers": False}
    run_uvicorn(ready or (lambda: None), host=host, port=port, workers=workers, log_level="info",
                access_log=False, server_header=False, timeout_keep_alive=KEEP_ALIVE,
                log_config=log_config(), **options)


def run_uvicorn(ready, **options) -> None:
    """uvicorn.run, with `ready` called once the socket listens: in the one process after the
    application started (uvicorn's own "running on" line), or with several workers once the parent's
    socket listens (a connection then waits in its backlog for the first worker, never refused)."""
    import sys
    import uvicorn
    from uvicorn.supervisors import Multiprocess
    config = uvicorn.Config("entrypoints.web.app:from_env", factory=True, **options)

    class Announcing(uvicorn.Server):
        async def startup(self, sockets=None) -> None:
            await super().startup(sockets)
            if self.started and not self.should_exit:
                ready()

    if config.workers > 1:
        sock = config.bind_socket()
        sock.listen(config.backlog)
        ready()
        with contextlib.suppress(KeyboardInterrupt):
            Multiprocess(config, sockets=[sock]).run()
        return
    server = Announcing(config)
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    if not server.started:
        sys.exit(3)         # as uvicorn: the application did not start (its error is logged above)


SERVED_URL = "served-url"      # in the data home: the link base of the server last started on it


def remember_link_base(home, url: str) -> None:
    from pathlib import Path
    from engine.adapters.private_files import open_private
    try:
        with open_private(Path(home) / SERVED_URL) as fh:
            fh.write(url.rstrip("/") + "\n")
    except OSError:
        pass        # links then fall back as before; the server starts all the same


def link_base_lines(ctx: Ctx, host: str, port: int, forwarded: str | None) -> list[str]:
    """What `serve` says of the links its messages carry: where they begin, and a warning when that is
    this machine's loopback while phones reach the server elsewhere (all interfaces, behind a proxy)."""
    import urllib.parse
    from notifications.channels import is_loopback
    given = os.environ.get("JINGZHUN_PUBLIC_URL")
    url = (given or browse_url(host, port)).rstrip("/")
    lines = [ctx.text("serve_links", url=url)]
    loopback = is_loopback(urllib.parse.urlsplit(url).hostname or "")
    if loopback and (given or not is_loopback(host) or forwarded):
        lines.append(ctx.text("serve_links_loopback", url=url))
    elif not given and loopback:
        lines.append(ctx.text("serve_links_unset"))
    return lines


def browse_url(host: str, port: int) -> str:
    """Where a browser on this machine reaches a server bound to `host`:`port` (all interfaces:
    loopback), without a trailing slash."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


@contextlib.contextmanager
def public_url_for(host: str, port: int) -> Iterator[None]:
    """A context in which the links messages carry point at this server (unless JINGZHUN_PUBLIC_URL
    is set): for messages written before it starts, e.g. by the demo built for it."""
    given = os.environ.get("JINGZHUN_PUBLIC_URL")
    if given is None:
        os.environ["JINGZHUN_PUBLIC_URL"] = browse_url(host, port)
    try:
        yield
    finally:
        if given is None:
            os.environ.pop("JINGZHUN_PUBLIC_URL", None)


def log_config() -> dict:
    """uvicorn's logging with the time on each line (an error page asks people to say when it
    happened), and the server's own lines (the scheduler's sweeps, deliveries and seals) at INFO.
    No access log: a URL can hold a name searched for."""
    import copy
    from uvicorn.config import LOGGING_CONFIG
    config = copy.deepcopy(LOGGING_CONFIG)
    for formatter in config["formatters"].values():
        formatter["fmt"] = "%(asctime)s " + formatter["fmt"]
        formatter["datefmt"] = "%Y-%m-%d %H:%M:%S"
    config["loggers"]["jingzhun"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config


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
    serve_settings(settings, host, port, workers_for(ctx, settings, workers), not no_scheduler, forwarded,
                   ready=lambda: [say(line) for line in [ctx.text("serve_url", url=browse_url(host, port) + "/"),
                                                          *link_base_lines(ctx, host, port, forwarded)]])


def workers_for(ctx: Ctx, settings, workers: int) -> int:
    """The worker processes asked for; one on SQLite (its writes are one at a time), said so."""
    if workers > 1 and settings.db_url.startswith("sqlite"):
        say(ctx.text("serve_sqlite_workers"))
        return 1
    return workers


COMMANDS = (serve,)
