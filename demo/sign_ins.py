"""Sign-ins to the demo's server, one per kind of user: the demo issues each person an enrolment
code and, acting as that person, spends it on a random password (the same two services a real
administrator and person use). The passwords go to a 0600 file in the demo home and on screen."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from sqlalchemy import select

from engine.adapters import tables as t
from engine.adapters.db import Settings
from engine.services.accounts import issue_enrolment, redeem_enrolment
from engine.services.org import load_actor
from entrypoints.bootstrap import make_app

ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"   # easy to read off a screen and type
# (who, role): the first holder of each role, in the order they are printed
KINDS = (("cadre", "village_secretary"), ("township", "township_staff"), ("supervisor", "township_head"),
         ("county", "county_office_director"), ("inspector", "inspector"), ("admin", "admin"))


def demo_sign_ins(settings: Settings) -> tuple[list[tuple[str, str, str, str]], str | None]:
    """[(kind, person code, name, password)] for one person per kind, and the head of the log sealed
    after their enrolments (which are events too)."""
    from datetime import datetime
    from engine.adapters.app import ShiftedClock
    app = make_app(settings, clock=ShiftedClock(datetime.fromisoformat(
        (settings.home / "demo-clock").read_text().strip())))
    try:
        with app.engine.connect() as conn:
            admin_row = conn.execute(select(t.persons).where(t.persons.c.code == "admin")).first()
            admin = load_actor(conn, admin_row)
            chosen = []
            for kind, role in KINDS:
                row = conn.execute(select(t.persons).join(t.role_assignments, t.role_assignments.c.person_id
                                                          == t.persons.c.id).where(t.role_assignments.c.role == role)
                                   .order_by(t.persons.c.id).limit(1)).first()
                if row is not None:
                    chosen.append((kind, row.code, row.name))
        found = []
        for kind, code, name in chosen:
            password = "".join(secrets.choice(ALPHABET) for _ in range(12))
            code_text = issue_enrolment(app, admin, code, paper=True).code
            redeem_enrolment(app, code, code_text, password)
            found.append((kind, code, name, password))
        from demo.county import final_head
        return found, final_head(app, admin)
    finally:
        app.close()


def print_sign_ins(console, config, lang: str, sign_ins, url: str, file: Path, head: str | None = None,
                   serve_later: str | None = None) -> None:
    """The sign-ins on screen and in `file` (0600); `serve_later`: the command that serves the demo,
    when it is not served now (said first)."""
    fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write("".join(f"{code},{password}\n" for _k, code, _n, password in sign_ins))
    say = lambda key, **p: console.print(config.label(key, lang).format(**p))  # noqa: E731
    say("demo.serve.url", url=url) if serve_later is None else say("demo.serve.later", command=serve_later, url=url)
    for kind, code, name, password in sign_ins:
        say("demo.serve.sign_in", kind=config.label(f"demo.serve.kind.{kind}", lang), code=code, name=name,
            password=password)
    say("demo.serve.file", file=file)
    if head:                     # the enrolments above are events: the head to publish moved on
        say("demo.serve.head", head=head)
