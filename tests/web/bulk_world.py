"""A demo county of the list tests' own (they write: signing a village's list off must not change
what the other page tests see), and households prepared up to a township sign-off through the
same services the cadres use, some of them not ready."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select
from stdnum.cn import ric

from engine.adapters import tables as t
from engine.adapters.app import App, ShiftedClock
from engine.adapters.db import Settings
from engine.domain.auth import Actor
from engine.domain.cases import StepInput
from engine.services.case_actions import EvidenceItem, attach_evidence_many, file_objection
from engine.services.org import load_actor
from engine.services.procedures import perform_step
from demo.people import each_vote
from tests.world import scan_file
from workflows.household import HouseholdInput, MemberInput, register_households

VILLAGE, OTHER_TOWNSHIP_VILLAGE = "360730100201", "360730101201"
_serial = iter(range(1, 1000))


def demo_app(settings: Settings) -> App:
    from entrypoints.bootstrap import make_app
    return make_app(settings, clock=ShiftedClock(datetime.fromisoformat((settings.home / "demo-clock").read_text())))


def actor(app: App, code: str) -> Actor:
    with app.engine.connect() as conn:
        return load_actor(conn, conn.execute(select(t.persons).where(t.persons.c.code == code)).first())


def _members(serial: int) -> list[MemberInput]:
    ids = []
    for i in range(2):
        body = f"3621311958{(serial % 12) + 1:02d}{(i % 28) + 1:02d}{(serial * 3 + i) % 1000:03d}"
        ids.append(body + ric.calc_check_digit(body + "0"))
    return [MemberInput(f"测试户{serial}", ids[0], "head"), MemberInput(f"测试户{serial}之妻", ids[1], "spouse")]


def new_households(app: App, count: int, name: str, born: str, first: int) -> list[int]:
    """`count` one-member households registered in VILLAGE by its secretary, heads named `name`0, `name`1…,
    their ID numbers `born` (region and birth year: a test's own) then a month, day and serial from `first`."""
    members = []
    for serial in range(count):
        body = f"{born}{(serial % 9) + 1}{(serial % 28) + 1:02d}{(first + serial) % 1000:03d}"
        members.append([MemberInput(f"{name}{serial}", body + ric.calc_check_digit(body + "0"), "head")])
    return register_households(app, actor(app, "v01_secretary"), VILLAGE,
                               [HouseholdInput(m, ["illness"]) for m in members])


@dataclass
class TownshipList:
    ready: list[int]
    objected: int | None          # an objection raised on its notice is still open
    running: int | None           # its notice was posted later and has not run its days


def township_list(app: App, count: int, village: str = VILLAGE, not_ready: bool = True) -> TownshipList:
    """`count` new households of `village` whose next step is the identification's township review:
    the last two not ready (an open objection; a notice still running) when `not_ready`."""
    v = lambda role: actor(app, f"v{int(village[-2:]):02d}_{role}")   # noqa: E731
    today = app.clock.today()
    start = today - timedelta(days=20)
    cases = register_households(app, v("secretary"), village,
                                [HouseholdInput(_members(next(_serial) + 100 * int(village[-1])), ["illness"])
                                 for _ in range(count)])
    attach_evidence_many(app, v("secretary"), [item for c in cases for item in (
        EvidenceItem(c, "application", {"applicant": "户主", "applied_on": start.isoformat()}),
        EvidenceItem(c, "income_check", {"year": 2019, "net_income": 3000}))])
    _step(app, v("secretary"), "application", cases, date=start)
    _step(app, v("director"), "appraisal", cases, date=start + timedelta(days=1), attendance=40,
          votes=each_vote(cases, 35, 2), minutes=scan_file(app.settings.home / f"minutes-{next(_serial)}.pdf", "会议记录"))
    _step(app, v("leader"), "village_verification", cases, date=start + timedelta(days=2),
          decision="approve", verifiers=(v("member").code,))
    late = cases[-1:] if not_ready else []
    _step(app, v("first"), "first_notice", cases[:len(cases) - len(late)], date=start + timedelta(days=3))
    if late:
        _step(app, v("first"), "first_notice", late, date=today - timedelta(days=1))
    objected = cases[-2] if not_ready else None
    if objected:
        _object(app, v("secretary"), objected, start + timedelta(days=4))
    ready = [c for c in cases if c not in (objected, *late)]
    return TownshipList(ready, objected, late[0] if late else None)


def _step(app: App, who: Actor, step: str, cases: list[int], **inputs) -> None:
    perform_step(app, who, "identification", step, cases, StepInput(**inputs))


def _object(app: App, who: Actor, case: int, on: date) -> int:
    with app.engine.connect() as conn:
        notice = conn.execute(select(t.notice_cases.c.notice_id).where(t.notice_cases.c.case_id == case)
                              .order_by(t.notice_cases.c.notice_id.desc())).scalar()
    return file_objection(app, who, notice, case, "村民代表 李某", "该户有家庭成员在外务工收入未计入", on)


# --- fixtures: the list tests' own demo county (imported by their modules) ---------------------

@pytest.fixture(scope="module")
def demo_home(demo_template, tmp_path_factory):
    """A copy of the session's demo template, this module's own."""
    from tests.web.conftest import demo_copy
    return demo_copy(demo_template, tmp_path_factory.mktemp("bulk") / "jingzhun-demo")


@pytest.fixture(scope="module")
def core(demo_home):
    app = demo_app(demo_home[0])
    yield app
    app.close()


@pytest.fixture(scope="module")
def web(core):
    from entrypoints.web.app import create_app
    return create_app(core)


@pytest.fixture(scope="module")
def live_server(web):
    """This module's application served by uvicorn on a loopback port; yields its base URL."""
    from tests.web.conftest import serving
    with serving(web) as url:
        yield url
