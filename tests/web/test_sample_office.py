"""The county office draws samples and records findings: it reads its draws' pages (they answered it 403,
an inspector's reading permission), records there, finds them from its own menu, and sees on its list of
work the waiting wrong exits it is due to register; an inspector still only reads them."""
from __future__ import annotations

import html
import re
from datetime import date

from engine.services.sampling import Finding, draw, record_finding
from tests.test_accountability import cli, exited
from tests.test_household_life import village_chain
from tests.test_sample_problems import monitoring_under_way
from tests.world import COUNTY


def test_the_county_office_reads_and_records_on_its_draws_pages_and_an_inspector_only_reads(world, world_clients):
    page, _api = world_clients
    case = exited(world)
    world.on(date(2019, 12, 10))
    drawn = draw(world.app, world["cd"], COUNTY, 1, "2019-县", 2019)
    office = page("cd")
    listed = office.get("/inspect/samples")
    assert listed.status_code == 200 and f'href="/inspect/samples/{drawn["id"]}"' in listed.text
    assert 'id="nav-samples"' in office.get("/supervise").text           # found from the office's own menu
    shown = office.get(f"/inspect/samples/{drawn['id']}")
    assert shown.status_code == 200 and f'action="/inspect/samples/{drawn["id"]}/{case}"' in shown.text
    assert 'href="/inspect/flags"' not in shown.text                       # no inspector's menu it may not open
    assert f'href="/cases/{case}"' in shown.text and "/inspect/trace/" not in shown.text    # its case page, not a trace
    assert office.get(f"/inspect/samples/{drawn['id']}/sheet").status_code == 200
    sent = office.post(f"/inspect/samples/{drawn['id']}/{case}", data={"csrf": office.csrf, "finding": "confirmed"})
    assert sent.status_code == 303, sent.text
    assert "核实无误" in office.get(sent.headers["location"]).text
    # an inspector reads the draw, and is offered no form to record on it
    read = page("insp").get(f"/inspect/samples/{drawn['id']}")
    assert read.status_code == 200 and "核实无误" in read.text and 'action="/inspect/samples/' not in read.text
    assert f'href="/inspect/trace/case/{case}"' in read.text
    # a village or township post still may not open them; another county's office reads no draw of this one
    assert page("ts1").get(f"/inspect/samples/{drawn['id']}").status_code == 403
    from engine.services.accounts import activate_all
    from engine.services.org import NewPerson, add_persons, add_regions, authenticate
    add_regions(world.app, world["admin"], [("360731000000", "石城县")])
    tokens = activate_all(world.app, add_persons(world.app, world["admin"], [NewPerson(
        "cd2", "石城县扶贫办主任", (("county_office_director", "360731000000"),))]))
    world.actors["cd2"] = authenticate(world.app, "cd2", tokens["cd2"])
    other = page("cd2")
    assert other.get(f"/inspect/samples/{drawn['id']}").status_code == 404
    assert other.get(f"/inspect/samples/{drawn['id']}/sheet").status_code == 404
    assert f'/inspect/samples/{drawn["id"]}"' not in other.get("/inspect/samples").text


def test_the_office_sees_on_its_work_the_wrong_exits_it_is_due_to_register(world, world_clients):
    page, _api = world_clients
    case, drawn = monitoring_under_way(world, "cd")
    record_finding(world.app, world["cd"], Finding(drawn["id"], case, "wrong_exit", "收入不实"))
    assert 'id="sample-waits"' not in page("cd").get("/work").text        # the monitoring runs: nothing to do yet
    village_chain(world, "monitoring", case, date(2020, 3, 9), "county_decision")
    work = page("cd").get("/work").text
    assert 'id="sample-waits"' in work and f'href="/inspect/samples/{drawn["id"]}#case-{case}"' in work
    assert "抽查错退待登记问题：2020-03-16 到期" in work
    assert "待县扶贫办登记问题整改事项（2020-03-16 前）" in page("cd").get(f"/inspect/samples/{drawn['id']}").text
    said = cli(world, "cd", "sample", "show", drawn["id"])
    assert "待县扶贫办登记问题整改事项（2020-03-16" in said.out.replace(" ", ""), said.out     # wrapped in its cell
    assert '"due_on": "2020-03-16"' in cli(world, "cd", "sample", "show", drawn["id"], "--json").out
    world.on(date(2020, 3, 20))
    overdue = page("cd").get("/supervise/overdue").text
    assert "抽查错退待登记问题" in overdue
    # registered from my work's link, on the page it opens prefilled (the household, the finding)
    director = page("cd")
    link = html.unescape(re.search(r'href="(/problems/new\?finding=wrong_exit[^"]+)"', director.get("/work").text)[1])
    form = director.get(link).text
    assert f'name="cases" value="{case}"' in form and '<option value="wrong_exit" selected>' in form
    sent = director.post("/problems/new", headers={"HX-Request": "true"}, data={
        "csrf": director.csrf, "region": COUNTY, "source": "assessment", "finding": "wrong_exit",
        "cases": str(case), "description": "抽查发现错退"})
    assert sent.status_code == 200 and sent.headers["hx-redirect"].startswith("/cases/"), sent.text
    assert 'id="sample-waits"' not in page("cd").get("/work").text
