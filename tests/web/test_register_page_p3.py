"""A household registered from the village's page (登记农户), through the service `household add` and the API
call: its refusals beside their fields with nothing written, an applicant and an ordinary household registered
and their pages shown, who may (a registrar in the village; a township's staff; not a pairing cadre, an
inspector or another village's cadre); and, in Chromium on a 360 px phone, the sex and birth date read from
the ID number as it is typed, and the new household's page after."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from engine.adapters import tables as t
from tests.world import VILLAGE, VILLAGE2, id_number, member_ids

NEW = f"/villages/{VILLAGE}/households/new"


def _households(world) -> int:
    with world.app.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(t.cases).where(t.cases.c.kind == "household")).scalar()


def _form(client, *members, **more) -> dict:
    data = {"csrf": client.csrf, "rows": str(len(members))}
    for i, (name, number, relation) in enumerate(members):
        data.update({f"m{i}_name": name, f"m{i}_id_number": number, f"m{i}_relation": relation,
                     f"m{i}_labour_ability": "normal", f"m{i}_health": "healthy"})
    data.update(more)
    return data


def _refused_at(html: str, where: str) -> str:
    found = re.findall(rf'data-refused="{where}">([^<]*(?:<code>[^<]*</code>[^<]*)*)</p>', html)
    assert found, f"no refusal beside {where}"
    return " ".join(found)


def test_a_village_cadre_registers_households_on_the_page_and_is_refused_in_words(world, world_clients):
    page, _api = world_clients
    vs = page("vs")
    assert f'href="{NEW}"' in vs.get("/villages").text and 'id="register-household"' in vs.get(f"/villages/{VILLAGE}/list").text
    empty = vs.get(NEW)
    assert empty.status_code == 200 and 'name="m0_name"' in empty.text and 'name="m1_name"' in empty.text
    head, spouse, known = member_ids(3, 901)
    before = _households(world)
    # one more member's row: nothing written, the typed kept
    more = vs.post(NEW, data=_form(vs, ("李四", head, "head"), ("王芳", spouse, "spouse"), more="1"))
    assert more.status_code == 200 and 'name="m2_name"' in more.text and 'value="李四"' in more.text
    # a wrong ID number, no cause: each said beside its field, the head's sex and birth date read, nothing written
    bad = spouse[:-1] + ("0" if spouse[-1] != "0" else "1")
    refused = vs.post(NEW, data=_form(vs, ("李四", head, "head"), ("王芳", bad, "spouse"), ("", "", ""), ordinary="0"))
    assert refused.status_code == 400 and _households(world) == before
    assert "身份证号" in _refused_at(refused.text, "m1_id_number")
    assert "致贫原因" in _refused_at(refused.text, "causes")
    assert 'value="王芳"' in refused.text and "有 2 处需要改正" in refused.text
    born = f"{head[6:10]}-{head[10:12]}-{head[12:14]}"
    assert f"{'男' if int(head[16]) % 2 else '女'}，{born} 出生" in refused.text
    # an ordinary household takes no causes: said in the page's words, not the command line's
    ordinary = vs.post(NEW, data=_form(vs, ("李四", head, "head"), ordinary="1", cause="illness"))
    said = _refused_at(ordinary.text, "causes")
    assert ordinary.status_code == 400 and "不填致贫原因" in said and "--" not in said and _households(world) == before
    # an applicant registered: its page
    done = vs.post(NEW, data=_form(vs, ("李四", head, "head"), ("王芳", spouse, "spouse"), ("", "", ""),
                                   ordinary="0", cause=["illness", "lack_skills"], household_type="general"))
    assert done.status_code == 303, done.text
    case = int(done.headers["location"].rsplit("/", 1)[1])
    with world.app.engine.connect() as conn:
        row = conn.execute(select(t.cases).where(t.cases.c.id == case)).first()
        members = conn.execute(select(t.household_members.c.name, t.household_members.c.relation)
                               .where(t.household_members.c.case_id == case).order_by(t.household_members.c.id)).all()
    assert (row.stage, row.region_code, row.title, row.attrs["causes"]) == ("candidate", VILLAGE, "李四",
                                                                            ["illness", "lack_skills"])
    assert [tuple(m) for m in members] == [("李四", "head"), ("王芳", "spouse")]
    assert "李四" in vs.get(done.headers["location"]).text
    # the same head again: registered already, said beside the number, naming the case
    again = vs.post(NEW, data=_form(vs, ("李四", head, "head"), ordinary="0", cause="illness"))
    assert again.status_code == 400 and str(case) in _refused_at(again.text, "m0_id_number")
    # an ordinary household (低保户): at its stage, never an applicant
    plain = vs.post(NEW, data=_form(vs, ("赵六", known, "head"), ordinary="1", household_type="dibao"))
    assert plain.status_code == 303, plain.text
    with world.app.engine.connect() as conn:
        stage = conn.execute(select(t.cases.c.stage).where(t.cases.c.id == int(plain.headers["location"].rsplit("/", 1)[1]))).scalar()
    assert stage == "ordinary" and _households(world) == before + 2


def test_who_may_open_the_registration_page(world, world_clients):
    page, _api = world_clients
    before = _households(world)
    assert page("ts1").get(NEW).status_code == 200             # the township's staff registers in its villages
    assert page("vs2").get(NEW).status_code == 404             # another village's cadre: no such village for them
    assert page("vs2").get(f"/villages/{VILLAGE2}/households/new").status_code == 200
    pairing = page("pc1")
    assert pairing.get(NEW).status_code == 403                 # a pairing cadre registers no household
    assert f'href="{NEW}"' not in pairing.get("/villages").text
    inspector = page("insp")
    assert inspector.get(NEW).status_code == 403               # inspectors read, never register
    sent = inspector.post(NEW, data=_form(inspector, ("钱七", id_number("36213119700101001"), "head"), ordinary="1"))
    assert sent.status_code == 403 and _households(world) == before


def test_on_a_phone_the_id_number_says_sex_and_birth_date_and_the_household_is_registered(phone, core, demo_home):
    from playwright.sync_api import expect
    code, password = demo_home[1]["cadre"]
    page = phone.page
    phone.sign_in(code, password)
    page.click("#village-lists")
    page.click("a[data-register] >> nth=0")
    page.wait_for_selector("#household-form")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    head = id_number("36073019850715042")                        # 17th digit 2: a woman
    page.fill('input[name="m0_name"]', "孙丽")
    page.fill('input[name="m0_id_number"]', head[:10])
    expect(page.locator('[data-row="0"] .id-read')).to_have_text("")
    page.fill('input[name="m0_id_number"]', head)
    expect(page.locator('[data-row="0"] .id-read')).to_have_text("女，1985-07-15 出生（由身份证号读出）")
    page.check('input[name="ordinary"][value="1"]')
    phone.shot("register-household-phone")
    page.click("#register")
    page.wait_for_url(re.compile(r"/cases/\d+$"))
    expect(page.locator("h1")).to_contain_text("孙丽")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_a_village_post_sees_who_has_not_visited_its_village_on_the_page_the_api_and_the_cli(world, world_clients):
    """Who answers for the pairing cadres' visits in a village: its resident team and two committees. The
    page, `GET /api/v1/visits` and `household visits` all serve a village post its village (they differed:
    the page and the API refused it, 403), and all three refuse a region above it."""
    from tests.helpers.notifications import cli
    from tests.web.test_visits_page_z3 import two_paired
    from tests.world import TOWNSHIP
    cases = two_paired(world)
    (world.app.settings.home / "demo-clock").write_text(world.clock.at.isoformat())
    page, api = world_clients
    for who in ("fs", "vs"):
        shown = page(who).get("/supervise/visits")
        assert shown.status_code == 200, shown.text
        on_page = [int(c) for c in re.findall(r'<tr data-case="(\d+)"', shown.text)]
        assert 'id="nav-visits"' not in shown.text                  # no supervisor's tabs it may not open
        listed = api(who).get("/api/v1/visits")
        assert listed.status_code == 200, listed.text
        said = cli(world, who, "household", "visits")
        assert said.code == 0, said.err
        on_cli = [int(line.split("\t")[2]) for line in said.out.splitlines()[1:] if line.count("\t") >= 7]
        assert on_page == [r["case"] for r in listed.json()["rows"]] == on_cli == cases
        assert listed.json()["overdue"] == 1
        assert page(who).get(f"/supervise/visits?region={TOWNSHIP}").status_code == 404
        assert api(who).get("/api/v1/visits", params={"region": TOWNSHIP}).status_code == 404
        above = cli(world, who, "household", "visits", "--region", TOWNSHIP)
        assert above.code != 0 and above.out == "" and "Traceback" not in above.err
    assert 'href="/supervise/visits?region=' in page("vs").get(f"/villages/{VILLAGE}/list").text
    assert page("vs").get("/supervise/visits.csv").status_code == 200
