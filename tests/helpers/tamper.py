"""What the tamper tests share: an attacker's raw SQL with the append-only triggers dropped, and the homes
they tamper with (tests/test_audit_verify.py, tests/test_tamper_corpus.py)."""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text

from engine.reads.audit_verify import verify

AUDIT_TABLES = ("audit_events", "audit_checkpoints", "responsibilities")
# Every table an append-only trigger guards (engine.reads.audit_projections.GUARDS).
GUARDED_TABLES = AUDIT_TABLES + ("problem_links", "accountability_outcomes", "discipline_referrals")
# PostgreSQL: the tables whose UPDATE and DELETE migration 0004 took from the application's role.
REVOKED = ("audit_events", "audit_checkpoints")


@pytest.fixture
def lived(world, tmp_path):
    """Two households through identification and assistance; one also exits, with a signed file."""
    a, b = world.household(), world.household()
    world.identify([a, b])
    world.assist(a, first="pc1", second=None)
    world.assist(b, first="pc2", second=None)
    world.exit_evidence(a, tmp=tmp_path)
    world.exit(a)
    return world, a, b


def raw(world, *statements: str, restore: bool = True, tables: tuple[str, ...] = AUDIT_TABLES) -> None:
    """An attacker with the database file: drops the triggers of `tables`, edits rows behind the engine,
    and puts the triggers (and on PostgreSQL the privileges) back as they were (unless `restore` is False)."""
    url = world.app.engine.url
    if url.get_backend_name() == "sqlite":
        with sqlite3.connect(url.database) as db:
            listed = ", ".join(f"'{name}'" for name in tables)
            kept = db.execute(f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ({listed})"
                              ).fetchall()
            for name, _sql in kept:
                db.execute(f"DROP TRIGGER IF EXISTS {name}")
            for s in statements:
                db.execute(s)
            for _name, sql in kept if restore else ():
                db.execute(sql)
    else:
        _raw_postgresql(world, statements, restore, tables)


def _raw_postgresql(world, statements, restore: bool, tables: tuple[str, ...]) -> None:
    listed = ", ".join(f"'{name}'" for name in tables)
    with world.app.engine.begin() as conn:
        kept = conn.execute(text("SELECT tgname, tgrelid::regclass::text, pg_get_triggerdef(oid) FROM pg_trigger "
                                 f"WHERE NOT tgisinternal AND tgrelid::regclass::text IN ({listed})")).all()
        for name, table, _sql in kept:
            conn.execute(text(f"DROP TRIGGER IF EXISTS {name} ON {table}"))
        # The application's role had these privileges revoked (migration 0004): the owner takes them back.
        conn.execute(text(f"GRANT UPDATE, DELETE ON {', '.join(tables)} TO CURRENT_USER"))
        for s in statements:
            conn.execute(text(s))
        for _name, _table, sql in kept if restore else ():
            conn.execute(text(sql))
        revoked = [name for name in tables if name in REVOKED]
        if restore and revoked:      # and the privileges taken away again, as migration 0004 left them
            conn.execute(text(f"REVOKE UPDATE, DELETE ON {', '.join(revoked)} FROM CURRENT_USER"))


def kinds(world) -> set[tuple[str, str]]:
    return {(d.kind, d.where) for d in verify(world.app).damage}


def one(world, sql: str):
    """The one row a query gives (a lookup of ids and seqs for a tamper and what it should be found at)."""
    with world.app.engine.connect() as conn:
        return conn.execute(text(sql)).one()


def rewrite_case(world, case: int) -> None:
    """Someone with the database rewrites a reason of the case's second event, re-computes every later
    hash of the case and the case head, and drops the checkpoints (to be rebuilt by the next seal)."""
    from sqlalchemy import select

    from engine.adapters import tables as t
    from engine.domain.audit import event_hash
    with world.app.engine.connect() as conn:
        events = conn.execute(select(t.audit_events).where(t.audit_events.c.case_id == case)
                              .order_by(t.audit_events.c.case_seq)).all()
    statements, previous = ["DELETE FROM audit_checkpoints"], None
    for e in events:
        row = e._asdict()
        row["prev_hash"] = previous
        if e.case_seq == 2:
            row["reason"] = "rewritten"
        new = event_hash(row)
        reason = "'rewritten'" if e.case_seq == 2 else ("NULL" if e.reason is None else f"'{e.reason}'")
        prev = "NULL" if previous is None else f"'{previous}'"
        statements.append(f"UPDATE audit_events SET reason = {reason}, prev_hash = {prev}, hash = '{new}' "
                          f"WHERE seq = {e.seq}")
        previous = new
    statements.append(f"UPDATE cases SET last_event_hash = '{previous}' WHERE id = {case}")
    raw(world, *statements)


# --- a home with every projection in it: the tamper corpus's -----------------------------------------

@dataclass
class Home:
    world: object
    witness: Path
    ids: dict = field(default_factory=dict)      # a, b, c, notice, objection, problem, outcome, org_outcome


def rich_home(world, tmp_path: Path, monkeypatch) -> Home:
    """Three households identified on one list, a and b paired, a exited (an objection to its village
    notice filed and dismissed) and then found wrongly exited by a problem item, with an outcome recorded
    and carried out and one against an organisation; sealed, its head held by a witness file."""
    from engine.reads.audit_seal import seal
    from engine.services.accountability import OutcomeInput, outcome_done, record_outcome
    from engine.services.case_actions import file_objection, resolve_objection
    from tests.world import TOWNSHIP
    from workflows.problem import ProblemInput, register_problem
    home = Home(world, tmp_path / "witness.jsonl")
    monkeypatch.setenv("JINGZHUN_WITNESS", str(home.witness))
    a, b, c = world.household(), world.household(), world.household()
    home.ids.update(a=a, b=b, c=c)
    world.identify([a, b, c])
    world.assist(a, first="pc1", second=None)
    world.assist(b, first="pc2", second=None)
    world.exit_evidence(a, tmp=tmp_path)
    world.exit(a, through="village_notice")
    home.ids["notice"] = one(world, "SELECT max(id) FROM notices")[0]
    world.on(date(2019, 11, 21))
    home.ids["objection"] = file_objection(world.app, world["vs"], home.ids["notice"], a, "村民王某",
                                           "该户有经营性收入未申报", date(2019, 11, 21))
    resolve_objection(world.app, world["ts2"], home.ids["objection"], False, "经核实，经营性收入已计入")
    for day, who, step, inputs in world.EXIT_STEPS[4:]:       # the rest of the exit, after the notice
        world.on(day)
        world.step(who, "exit", step, a, **inputs)
    world.on(date(2020, 6, 1))
    home.ids["problem"] = register_problem(world.app, world["cd"], ProblemInput(
        TOWNSHIP, "third_party_evaluation", "第三方评估发现该户收入核算有误，错退", date(2020, 5, 28), "wrong_exit", [a]))
    world.on(date(2020, 6, 10))
    home.ids["outcome"] = record_outcome(world.app, world["do"], OutcomeInput(
        "免职", "对错退负有主要领导责任", date(2020, 6, 10), person="tsec", problem_id=home.ids["problem"]))
    home.ids["org_outcome"] = record_outcome(world.app, world["do"], OutcomeInput(
        "通报", "组织核查不力", date(2020, 6, 10), organisation="梅江镇人民政府", region=TOWNSHIP))
    world.on(date(2020, 7, 15))
    outcome_done(world.app, world["do"], home.ids["outcome"], date(2020, 7, 15))
    seal(world.app, world["admin"])
    return home
