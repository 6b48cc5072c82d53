"""What the deadline tests share: office times, a world whose people all have a channel,
the deadlines and alerts written."""
from __future__ import annotations

import shutil
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy import func, select

from config import CONFIG_DIR
from engine.adapters import tables as t
from notifications.contacts import set_channels


CST = ZoneInfo("Asia/Shanghai")
PEOPLE = ("fs", "vs", "th", "tsec", "cd", "cs", "ch", "csec", "insp", "ts1", "ts2", "pc1")


def cst(*args) -> datetime:
    return datetime(*args, tzinfo=CST).astimezone(timezone.utc)


def reach_everyone(world) -> None:
    for code in PEOPLE:
        set_channels(world.app, world["admin"], code, [("file", code, "zh")])


def deadlines_of(world, case=None, **where) -> list:
    q = select(t.deadlines).order_by(t.deadlines.c.id)
    if case is not None:
        q = q.where(t.deadlines.c.case_id == case)
    for k, v in where.items():
        q = q.where(getattr(t.deadlines.c, k) == v)
    with world.app.engine.connect() as conn:
        return conn.execute(q).all()


def alerts_of(world) -> list[tuple]:
    with world.app.engine.connect() as conn:
        return [(r.deadline_id, r.level, tuple(sorted(p[1] for p in r.recipients)))
                for r in conn.execute(select(t.alerts).order_by(t.alerts.c.id))]


def count(world, table) -> int:
    with world.app.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar()


def identified(world, n: int = 1) -> list[int]:
    cases = [world.household() for _ in range(n)]
    world.identify(cases)          # announced 2019-03-15: the plan is due 30 calendar days later
    return cases


def awaiting_plan(world, n: int = 1) -> list[int]:
    """Households identified and paired by the township (2019-03-20): the plan deadline (due 2019-04-14)
    waits for the village's plan, owned by its first secretary (fs), the first of the plan step's posts
    (`owner: step_roles`; before the pairing the township's staff own it). At most three (pc1-pc3)."""
    cases = identified(world, n)
    world.on(date(2019, 3, 20))
    assert n <= 3, "three pairing cadres in the world (pc1-pc3), each first cadre of one household"
    for case, cadre in zip(cases, ("pc1", "pc2", "pc3")):
        world.step("ts1", "assistance", "pairing", case, first_cadre=cadre, second_cadre=None)
    return cases


# --- rules in configuration: a change moves open due times, a year can be added ----------------

def config_copy(tmp_path, edit_policy=None, edit_deadlines=None):
    folder = tmp_path / "config-new"
    shutil.copytree(CONFIG_DIR, folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    for name, edit in (("policy.yaml", edit_policy), ("deadlines.yaml", edit_deadlines)):
        if edit:
            path = folder / name
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            edit(data)
            path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return folder
