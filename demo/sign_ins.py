"""Sign-ins to the demo's server, one per kind of user, and the other cadres of the first village and
township (so that a household's whole procedure, with its second village signer and its township
verifiers, can be walked on the web): the demo issues each person an enrolment code and, acting as
that person, spends it on a random password (the same two services a real administrator and person
use). The passwords go to a 0600 file in the demo home; the kinds' on screen too."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from sqlalchemy import and_, or_, select

from engine.adapters import tables as t
from engine.adapters.db import Settings
from engine.services.accounts import issue_enrolment, redeem_enrolment
from engine.services.org import load_actor
from entrypoints.bootstrap import make_app

ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"   # easy to read off a screen and type
# (who, role): the first holder of each role, in the order they are printed
KINDS = (("cadre", "village_secretary"), ("pairing", "pairing_cadre"), ("township", "township_staff"),
         ("supervisor", "township_head"),
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
            chosen += [("colleague", code, name) for code, name in _colleagues(conn, chosen)]
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


# Above the township, the posts a household's procedures need beside the county office director: who announces
# (county office staff) and approves exits (the county head), and the city's sample checks (city office staff).
COUNTY_DECIDING = ("county_office_staff", "county_head")
CITY_DECIDING = ("city_office_staff",)


def _colleagues(conn, chosen: list[tuple[str, str, str]]) -> list[tuple[str, str]]:
    """The other holders of posts in the first village cadre's village and its township (one of its
    pairing cadres), and the county's and city's posts of COUNTY_DECIDING and CITY_DECIDING."""
    ra = t.role_assignments.c
    cadre = next((code for kind, code, _ in chosen if kind == "cadre"), None)
    village = conn.execute(select(ra.region_code).join(t.persons, t.persons.c.id == ra.person_id).where(
        t.persons.c.code == cadre, ra.revoked_at.is_(None)).limit(1)).scalar() if cadre else None
    if village is None:
        return []
    taken = {code for _, code, _ in chosen}
    rows = conn.execute(select(t.persons.c.code, t.persons.c.name, ra.role).join(
        t.role_assignments, ra.person_id == t.persons.c.id).where(
        or_(ra.region_code.in_([village, village[:9] + "000"]),
            and_(ra.region_code == village[:6] + "000000", ra.role.in_(COUNTY_DECIDING)),
            and_(ra.region_code == village[:4] + "00000000", ra.role.in_(CITY_DECIDING))),
        ra.revoked_at.is_(None), t.persons.c.active.is_(True)).order_by(t.persons.c.id)).all()
    # the village's pairing cadres are many (one per few households): the first of them stands for all
    first_pairing = next((r.code for r in rows if r.role == "pairing_cadre"), None)
    return list(dict.fromkeys((r.code, r.name) for r in rows
                              if r.code not in taken and (r.role != "pairing_cadre" or r.code == first_pairing)))


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
        if kind != "colleague":
            say("demo.serve.sign_in", kind=config.label(f"demo.serve.kind.{kind}", lang), code=code, name=name,
                password=password)
    say("demo.serve.file", file=file)
    colleagues = [code for kind, code, _n, _p in sign_ins if kind == "colleague"]
    if colleagues:
        say("demo.serve.colleagues", n=len(colleagues), codes=", ".join(colleagues))
    if head:                     # the enrolments above are events: the head to publish moved on
        say("demo.serve.head", head=head)
