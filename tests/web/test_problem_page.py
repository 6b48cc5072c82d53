"""Registering a problem item on a page (`problem add` on the web): a poverty office or township leader
opens the form from the supervise menu (or from a sample check's wrong exit waiting for them, prefilled),
registers what was found with the households it names, and lands on the item's own page; bad input is
refused in words at the form, nothing written; a post that does not register problems is told so."""
from __future__ import annotations

from sqlalchemy import func, select

from engine.adapters import tables as t
from tests.test_accountability import exited
from tests.world import COUNTY

HX = {"HX-Request": "true"}


def _problems(world) -> int:
    with world.app.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(t.cases).where(t.cases.c.kind == "problem")).scalar()


def test_the_county_office_registers_a_wrong_exit_on_a_page_and_lands_on_the_item(world, world_clients):
    page, _api = world_clients
    case = exited(world)
    director = page("cd")
    menu = director.get("/supervise").text
    assert 'href="/problems/new"' in menu and "登记问题" in menu
    form = director.get(f"/problems/new?finding=wrong_exit&cases={case}&description=抽查发现")
    assert form.status_code == 200
    assert f'value="{case}"' in form.text and '<option value="wrong_exit" selected>' in form.text
    assert f'<option value="{COUNTY}"' in form.text and "抽查发现</textarea>" in form.text
    sent = director.post("/problems/new", headers=HX, data={
        "csrf": director.csrf, "region": COUNTY, "source": "supervision", "finding": "wrong_exit",
        "cases": f"#{case}", "found_on": world.app.clock.today().isoformat(),
        "description": "督查发现该户人均纯收入低于标准线"})
    assert sent.status_code == 200, sent.text
    where = sent.headers["hx-redirect"]
    problem_id = int(where.rsplit("/", 1)[1])
    with world.app.engine.connect() as conn:
        kind, = conn.execute(select(t.cases.c.kind).where(t.cases.c.id == problem_id)).one()
        stage, = conn.execute(select(t.cases.c.stage).where(t.cases.c.id == case)).one()
    assert kind == "problem" and stage == "assisted"         # the household back under assistance
    assert "督查发现该户人均纯收入低于标准线" in director.get(where).text
    # without its script the form posts as a plain form: the item's page by a redirect
    plain = director.post("/problems/new", data={"csrf": director.csrf, "region": COUNTY, "source": "audit",
                                                 "description": "审计发现资金台账不全"})
    assert plain.status_code == 303 and plain.headers["location"].startswith("/cases/")


def test_bad_input_is_refused_at_the_form_and_nothing_is_registered(world, world_clients):
    page, _api = world_clients
    director = page("cd")
    before = _problems(world)
    for data, said in (({"cases": "12a"}, "案件编号「12a」无法识别"),
                       ({"found_on": "2020-13-40"}, "2020-13-40&#39; 不是日历上有的日子"),
                       ({"source": "rumour"}, "rumour")):
        sent = director.post("/problems/new", headers=HX, data={
            "csrf": director.csrf, "region": COUNTY, "source": "supervision", "description": "某问题", **data})
        assert sent.status_code == 400 and said in sent.text, sent.text
        assert "Traceback" not in sent.text
    assert _problems(world) == before


def test_a_post_that_does_not_register_problems_is_told_so_and_refused(world, world_clients):
    page, _api = world_clients
    before = _problems(world)
    for code in ("vs", "insp"):
        reader = page(code)
        shown = reader.get("/problems/new")
        assert shown.status_code == 403 and "登记问题整改事项的人员" in shown.text
        assert 'id="problem-form"' not in shown.text
        sent = reader.post("/problems/new", headers=HX, data={"csrf": reader.csrf, "region": COUNTY,
                                                             "source": "supervision", "description": "某问题"})
        assert sent.status_code == 403, sent.text
    assert _problems(world) == before
