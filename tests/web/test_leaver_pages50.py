"""A cadre who leaves, on the pages and the API (w7, stop 50): the administrator's person page says what
the person leaves before deactivating (cases waiting on them, with links; posts only they hold) and what
their leaving left after it (the post vacant, their channels unused); the case page says why nobody may
do the step, and that the household's pairing cadre left. SQLite and PostgreSQL."""
from __future__ import annotations

import re
from datetime import date

from engine.services import accounts


def _waiting_on_tl(world) -> int:
    """A household waiting at village verification, which only tl may do once fs has left."""
    case = world.household()
    world.on(date(2019, 3, 1))
    world.step("vs", "identification", "application", case)
    world.step("vd", "identification", "appraisal", case, attendance=40, votes_for=35, votes_against=2)
    accounts.deactivate(world.app, world["admin"], "fs", "驻村期满")
    return case


def test_the_person_page_says_what_a_leaver_leaves_before_and_after(world, world_clients):
    page, _api = world_clients
    case = _waiting_on_tl(world)
    admin = page("admin")
    before = admin.get("/admin/people/tl")
    assert before.status_code == 200
    assert 'id="leaves"' in before.text and "停用前请注意：此人离任将留下" in before.text
    assert f'href="/cases/{case}"' in before.text and "等待其办理的案件 1 件" in before.text
    assert "驻村工作队长（洋塘村）只有此人在任" in before.text, before.text

    done = admin.post("/admin/people/tl/deactivate", data={"csrf": admin.csrf, "reason": "调任县农业农村局"})
    assert done.status_code == 303
    after = admin.get("/admin/people/tl").text
    assert "离任留下的工作" in after and "驻村工作队长（洋塘村）现无人在任" in after
    admin.cookies.set("lang", "en")
    en = admin.get("/admin/people/tl").text
    assert "Work left by their leaving" in en and "Nobody holds" in en

    shown = page("vs").get(f"/cases/{case}").text
    assert 'data-nobody="vacant"' in shown and "无人可办的原因" in shown and "驻村工作队长" in shown


def test_the_case_page_and_the_api_say_the_pairing_cadre_left(world, world_clients):
    page, api = world_clients
    case = world.household()
    world.identify(case)
    world.assist(case)
    accounts.deactivate(world.app, world["admin"], "pc1", "调离本乡镇")
    shown = page("vs").get(f"/cases/{case}").text
    assert "data-pairing-left" in shown and "请办理「调整帮扶责任人」" in shown
    read = api("vs").get(f"/api/v1/cases/{case}").json()
    first = [p for p in read["pairings"] if p["kind"] == "first"]
    assert [(p["person"], p["in_office"]) for p in first] == [("pc1", False)], read["pairings"]


def test_the_verifier_form_offers_only_who_may_verify_and_says_why_not_the_others(world, world_clients):
    """a5 finding 10: a verifier who is the last who may do a later step (here fs, the first notice's only
    doer once vs took part) was offered, and the step refused; now the box is disabled and says why."""
    page, _api = world_clients
    case = world.household()
    world.on(date(2019, 3, 1))
    world.step("vs", "identification", "application", case)
    world.step("vd", "identification", "appraisal", case, attendance=40, votes_for=35, votes_against=2)
    shown = page("tl").get(f"/cases/{case}").text
    boxes = dict(re.findall(r'<input type="checkbox" name="verifiers" value="([^"]+)"([^>]*)>', shown))
    assert "disabled" in boxes["fs"] and "disabled" not in boxes["tm"], boxes
    assert "须留待本程序后续步骤办理（是其唯一可办者），不能勾选" in shown
    assert "data-verifiers-later" in shown and "请为后续步骤（村内第一次公示、" in shown
