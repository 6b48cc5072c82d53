"""What the notification tests share: a real SMTP server on loopback, group robots, the
outbox read back, people reached by e-mail or by file."""
from __future__ import annotations

import asyncio
import email
import email.policy
import io
import socket
import sys
import threading
import traceback
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from engine.adapters import tables as t
from notifications.channels import NotifySettings
from notifications.contacts import set_channels
from tests.helpers.deadlines import cst
from tests.helpers.db_option import db_option


SUPERVISORS = ("fs", "th", "tsec", "cd", "insp")   # owner and the three levels above of assistance_plan
OVERDUE = cst(2019, 5, 1, 9, 0)                      # every level of a plan due 2019-04-14 has fallen due


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """An aiosmtpd handler that keeps what it accepts; it can refuse, or hold the Nth message."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.hold_at: int | None = None
        self.held = threading.Event()
        self.release = threading.Event()
        self.seen = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("nobody@"):
            return "550 5.1.1 no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.seen += 1
        if self.hold_at == self.seen:
            self.held.set()
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 60)
            # The client is gone: the message was never accepted (no 250), so it is not kept.
            return "451 4.3.0 transaction aborted"
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted for delivery"

    def ids(self) -> list[str]:
        return [m["X-Jingzhun-Outbox"] for m in self.messages]


@pytest.fixture
def smtp():
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    inbox.port = port
    yield inbox
    inbox.release.set()
    controller.stop()


def smtp_settings(port: int, home: Path) -> NotifySettings:
    return NotifySettings(smtp_host="127.0.0.1", smtp_port=port, smtp_from="jingzhun@example.cn",
                          mailbox=home / "mailbox", timeout=10)


def by_email(world, codes=SUPERVISORS, lang="zh") -> None:
    for code in codes:
        set_channels(world.app, world["admin"], code, [("email", f"{code}@example.cn", lang)])


def outbox(world) -> list:
    with world.app.engine.connect() as conn:
        return conn.execute(select(t.outbox).order_by(t.outbox.c.id)).all()


def attempts(world) -> list:
    with world.app.engine.connect() as conn:
        return conn.execute(select(t.outbox_attempts).order_by(t.outbox_attempts.c.id)).all()


# --- people's channels: part of their record, no secret -----------------------------------------

def cli(world, who, *args):
    import cli as cli_module
    argv = ["--home", str(world.app.settings.home)]
    if world.app.settings.db_url.startswith("postgresql"):
        argv += db_option(world.app.settings.db_url)
    if args and args[0] == "--lang":
        argv += list(args[:2])
        args = args[2:]
    argv += (["--as", who] if who else []) + list(args)
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JINGZHUN_TOKEN", world.tokens.get(who, "")) if who else mp.delenv("JINGZHUN_TOKEN", raising=False)
        mp.setattr(sys, "stdin", io.StringIO())
        with redirect_stdout(out), redirect_stderr(err):
            try:
                code = cli_module.main([str(a) for a in argv])
            except Exception:
                code = None
                traceback.print_exc(file=err)

    class R:
        pass
    r = R()
    r.code, r.out, r.err = code, out.getvalue(), err.getvalue()
    return r
