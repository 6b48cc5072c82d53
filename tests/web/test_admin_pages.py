"""The administrator's pages: people (searched, a page at a time), one person (posts, a new
first-sign-in code shown once, channels, four-eyes proposals), adding a person, the region tree and
adding a region. Every write goes through the service its CLI command calls (checked in the database
and the activity log); a refusal is the service's, in the reader's language, with what was typed kept."""
from __future__ import annotations

import re
from urllib.parse import parse_qs

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from engine.adapters import tables as t
from engine.services import accounts, org
from engine.services.org import load_actor
from tests.web.conftest import csrf_of, pre_token

VILLAGE = "360730100201"          # 洋塘村, the cadre's village
TOWNSHIP = "360730100000"         # 梅江镇
COUNTY = "360730000000"           # 宁都县


def _actor(core, code: str):
    with core.engine.connect() as conn:
        return load_actor(conn, conn.execute(select(t.persons).where(t.persons.c.code == code)).first())


def _posts(core, code: str, held: bool = True) -> set[tuple[str, str]]:
    ra = t.role_assignments.c
    with core.engine.connect() as conn:
        q = select(ra.role, ra.region_code).join(t.persons, t.persons.c.id == ra.person_id).where(
            t.persons.c.code == code)
        return {tuple(r) for r in conn.execute(q.where(ra.revoked_at.is_(None) if held else ra.revoked_at.isnot(None)))}


def _events(core, action: str, person: str) -> list[dict]:
    with core.engine.connect() as conn:
        rows = conn.execute(select(t.audit_events.c.detail).where(t.audit_events.c.action == action)
                            .order_by(t.audit_events.c.seq)).scalars().all()
    return [d for d in rows if (d or {}).get("person") == person or person in str((d or {}).get("roles"))]


def _add(client, code: str, name: str, role: str = "pairing_cadre", region: str = VILLAGE, **more):
    return client.post("/admin/people/new", data={"csrf": client.csrf, "code": code, "name": name, "role": role,
                                                  "region": region, **more})


def test_the_administrator_lands_on_people_and_the_header_names_administration(signed_in):
    admin = signed_in("admin")
    assert admin.get("/home").headers["location"] == "/admin/people"
    page = admin.get("/admin/people")
    assert page.status_code == 200 and 'href="/admin/people" aria-current="page"' in page.text
    cadre = signed_in("cadre")
    assert cadre.get("/home").headers["location"] == "/work"
    assert 'href="/admin/people"' not in cadre.get("/work").text


@pytest.mark.parametrize("kind", ["cadre", "township", "county", "inspector"])
def test_no_one_but_an_administrator_opens_or_writes_them(signed_in, core, kind):
    client = signed_in(kind)
    for path in ("/admin/people", "/admin/people/new", "/admin/people/v01_secretary", "/admin/regions"):
        assert client.get(path).status_code == 403, path
    before = _posts(core, "v01_director")
    answer = client.post("/admin/people/v01_director/grant",
                         data={"csrf": client.csrf, "role": "pairing_cadre", "region": VILLAGE})
    assert answer.status_code == 403 and _posts(core, "v01_director") == before


def test_people_are_listed_with_posts_by_label_and_region_by_name_a_page_at_a_time(signed_in, core):
    admin = signed_in("admin")
    first = admin.get("/admin/people")
    with core.engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(t.persons)).scalar()
    assert f"共 {total:,} 人" in first.text
    rows = re.findall(r'<tr data-person="([^"]+)">', first.text)
    assert len(rows) == 50 and rows == sorted(rows)
    row = first.text.split('<tr data-person="county_director">')[1].split("</tr>")[0]
    assert "县扶贫办主任 · 宁都县" in row and "已首次登录" in row and "有登录令牌" in row
    more = re.search(r'href="/admin/people\?([^"]+)" rel="next"', first.text).group(1)
    assert parse_qs(more.replace("&amp;", "&"))["after"] == [rows[-1]]
    second = admin.get("/admin/people?" + more.replace("&amp;", "&"))
    later = re.findall(r'<tr data-person="([^"]+)">', second.text)
    assert later and min(later) > rows[-1] and "回到第一页" in second.text


def test_people_are_found_by_part_of_a_name_or_a_code(signed_in):
    admin = signed_in("admin")
    by_name = admin.get("/admin/people", params={"q": "刘志强"})
    assert re.findall(r'<tr data-person="([^"]+)">', by_name.text) == ["county_secretary"]
    by_code = admin.get("/admin/people", params={"q": "V01_SEC"})
    assert re.findall(r'<tr data-person="([^"]+)">', by_code.text) == ["v01_secretary"]
    assert "没有找到人员" in admin.get("/admin/people", params={"q": "%_"}).text    # no wildcard reads everyone


def test_a_person_s_page_shows_posts_history_account_and_channels(signed_in):
    page = signed_in("admin").get("/admin/people/v01_secretary")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    text = page.text
    assert "洋塘村支书" in text and "村党支部书记" in text and "洋塘村" in text
    assert 'id="grant-form"' in text and 'id="enrol-form"' in text and 'id="channel-form"' in text
    assert 'name="csrf"' in text and "岗位履历" in text
    assert signed_in("admin").get("/admin/people/nobody_here").status_code == 404


def test_a_removal_decided_and_not_carried_out_is_said_above_the_posts_still_held(signed_in, core):
    """The demo's village secretary is to be removed (免职) within a month of 10 July: his page listed
    his post as held, with nothing saying a removal was decided, due, and overdue."""
    ao = t.accountability_outcomes.c
    with core.engine.connect() as conn:
        removal = conn.execute(select(ao.id, ao.decided_on, ao.due_on, t.persons.c.code).join(
            t.persons, t.persons.c.id == ao.person_id).where(ao.outcome == "removal")).one()
    page = signed_in("admin").get(f"/admin/people/{removal.code}").text
    posts = page[page.index('id="posts"'):page.index('id="grant-form"')]
    said = re.sub(r"<[^>]+>", "", re.search(rf'id="outcome-{removal.id}">(.*?)</p>', posts, re.S).group(1))
    assert f"{removal.decided_on} 已决定对其免职" in said and f"应于 {removal.due_on} 前执行" in said
    assert "下列岗位仍在任" in said and "已逾期" in said and "岗位随之免去" in said
    assert posts.index(f'id="outcome-{removal.id}"') < posts.index("data-post=")
    assert 'id="outcome-' not in signed_in("admin").get("/admin/people/v01_secretary").text


def test_adding_a_person_with_a_post_and_a_paper_code_shows_the_code_once(signed_in, core, web):
    admin = signed_in("admin")
    added = _add(admin, "adm_pc_one", "测试帮扶干部甲", enrol="yes")
    assert added.status_code == 200 and added.headers["cache-control"] == "no-store"
    code = re.search(r'id="enrolment-code">([A-Z0-9-]+)<', added.text).group(1)
    assert "已新增此人" in added.text and "只显示这一次" in added.text
    assert _posts(core, "adm_pc_one") == {("pairing_cadre", VILLAGE)}
    assert _events(core, "person_added", "adm_pc_one")
    again = admin.get("/admin/people/adm_pc_one")
    assert code not in again.text and "首次登录码待使用" in again.text
    # The person spends it on the first sign-in page (never in the administrator's browser).
    person = TestClient(web, follow_redirects=False)
    spent = person.post("/enrol", data={"person": "adm_pc_one", "code": code, "password": "帮扶干部的密码2020",
                                        "again": "帮扶干部的密码2020", "pre": pre_token(person, "/enrol")})
    assert spent.status_code == 303
    assert "已首次登录" in admin.get("/admin/people/adm_pc_one").text


def test_adding_without_a_code_goes_to_the_person_s_page_which_offers_one(signed_in, core):
    admin = signed_in("admin")
    added = _add(admin, "adm_pc_two", "测试帮扶干部乙")
    assert added.status_code == 303 and added.headers["location"] == "/admin/people/adm_pc_two?done=added"
    page = admin.get(added.headers["location"])
    assert "已新增此人" in page.text and "尚未首次登录" in page.text and 'id="enrol-form"' in page.text


def test_a_refused_new_person_keeps_what_was_typed_in_the_reader_s_language(signed_in, core):
    admin = signed_in("admin")
    taken = _add(admin, "v01_secretary", "重名的人", region="360730100299")
    assert taken.status_code == 400 and "v01_secretary" in taken.text and "已存在" in taken.text
    assert 'value="重名的人"' in taken.text and 'value="360730100299"' in taken.text
    admin.cookies.set("lang", "en")
    wrong = _add(admin, "adm_pc_three", "A person", role="village_secretary", region=TOWNSHIP)
    assert wrong.status_code == 400 and 'value="adm_pc_three"' in wrong.text and 'value="A person"' in wrong.text
    refusal = re.search(r'id="refusal">([^<]+)<', wrong.text).group(1)
    assert "village" in refusal.lower() and not re.search(r"[\u4e00-\u9fff]{3}", refusal.replace("梅江镇", ""))
    with core.engine.connect() as conn:
        assert conn.execute(select(t.persons.c.id).where(t.persons.c.code == "adm_pc_three")).first() is None


def test_granting_and_revoking_a_post_write_through_the_service(signed_in, core):
    admin = signed_in("admin")
    _add(admin, "adm_grant", "测试授岗")
    granted = admin.post("/admin/people/adm_grant/grant",
                         data={"csrf": admin.csrf, "role": "resident_team_member", "region": VILLAGE})
    assert granted.status_code == 303 and granted.headers["location"].endswith("?done=granted")
    assert ("resident_team_member", VILLAGE) in _posts(core, "adm_grant")
    assert any(e.get("granted_role") == "resident_team_member" for e in _events(core, "role_granted", "adm_grant"))
    assert "岗位已授予" in admin.get(granted.headers["location"]).text
    revoked = admin.post("/admin/people/adm_grant/revoke",
                         data={"csrf": admin.csrf, "role": "resident_team_member", "region": VILLAGE})
    assert revoked.status_code == 303
    assert ("resident_team_member", VILLAGE) in _posts(core, "adm_grant", held=False)
    assert _events(core, "role_revoked", "adm_grant")
    history = admin.get("/admin/people/adm_grant").text.split('id="history"')[1]
    assert "驻村工作队员" in history


def test_deactivating_a_person_ends_their_session_and_token_and_reactivating_gives_nothing_back(signed_in, core, web):
    """The audit's case: a cadre who leaves, whose posts the administrator ended one by one, still
    signed in and took a new API token. Deactivated from their page, nothing of theirs works."""
    admin = signed_in("admin")
    added = _add(admin, "adm_leave", "测试调离干部", enrol="yes")
    code = re.search(r'id="enrolment-code">([A-Z0-9-]+)<', added.text).group(1)
    person = TestClient(web, follow_redirects=False)
    assert person.post("/enrol", data={"person": "adm_leave", "code": code, "password": "调离干部的密码2020",
                                       "again": "调离干部的密码2020", "pre": pre_token(person, "/enrol")}).status_code == 303
    assert person.get("/work").status_code == 200
    token = accounts.renew_token(core, _actor(core, "adm_leave"))
    api = TestClient(web, headers={"X-Jingzhun-Person": "adm_leave", "Authorization": f"Bearer {token}"})
    assert api.get("/api/v1/me").status_code == 200
    page = admin.get("/admin/people/adm_leave").text
    assert 'action="/admin/people/adm_leave/deactivate"' in page and "停用 测试调离干部" in page

    no_reason = admin.post("/admin/people/adm_leave/deactivate", data={"csrf": admin.csrf, "reason": " "})
    assert no_reason.status_code == 400 and "须说明理由" in no_reason.text
    assert _posts(core, "adm_leave") == {("pairing_cadre", VILLAGE)}
    no_csrf = admin.post("/admin/people/adm_leave/deactivate", data={"reason": "调离"})
    assert no_csrf.status_code == 403 and _posts(core, "adm_leave")

    done = admin.post("/admin/people/adm_leave/deactivate", data={"csrf": admin.csrf, "reason": "调任县农业农村局"})
    assert done.status_code == 303 and done.headers["location"].endswith("?done=deactivated")
    after = admin.get(done.headers["location"]).text
    assert "已停用：其岗位已撤销" in after and 'id="reactivate"' in after and 'id="grant-form"' not in after
    assert _posts(core, "adm_leave") == set() and _events(core, "person_deactivated", "adm_leave")
    assert person.get("/work").status_code in (302, 303, 401)
    again = TestClient(web, follow_redirects=False)
    refused = again.post("/signin", data={"person": "adm_leave", "password": "调离干部的密码2020",
                                          "pre": pre_token(again), "next": "/"})
    assert refused.status_code == 401
    assert api.get("/api/v1/me").status_code == 401

    back = admin.post("/admin/people/adm_leave/reactivate", data={"csrf": admin.csrf})
    assert back.status_code == 303 and back.headers["location"].endswith("?done=reactivated")
    assert "请授予岗位并发放首次登录码" in admin.get(back.headers["location"]).text
    assert _posts(core, "adm_leave") == set() and api.get("/api/v1/me").status_code == 401


def test_the_add_form_sent_again_by_a_reload_says_the_person_was_added_and_adds_nobody(signed_in, core):
    admin = signed_in("admin")
    first = _add(admin, "adm_reload", "测试刷新", enrol="yes")
    assert first.status_code == 200 and 'id="enrolment-code"' in first.text
    again = _add(admin, "adm_reload", "测试刷新", enrol="yes")          # the browser's reload posts it again
    assert again.status_code == 303 and again.headers["location"] == "/admin/people/adm_reload?done=readded"
    assert "此人已经新增，这次没有重复新增" in admin.get(again.headers["location"]).text
    other = _add(admin, "adm_reload", "另一个人")                        # a code taken by somebody else: refused
    assert other.status_code == 400 and "已存在" in other.text
    assert _events(core, "person_added", "adm_reload") and len(_events(core, "person_added", "adm_reload")) == 1


@pytest.mark.parametrize("code", ["ux t9!", "张三", "_lead", "a/b"])
def test_a_person_code_that_cannot_travel_in_a_url_or_header_is_refused(signed_in, core, code):
    refused = _add(signed_in("admin"), code, "测试编号")
    assert refused.status_code == 400 and "只能用英文字母、数字和 _ . -" in refused.text
    with core.engine.connect() as conn:
        assert conn.execute(select(t.persons.c.id).where(t.persons.c.code == code)).first() is None


def test_adding_with_a_region_but_no_post_asks_for_the_post(signed_in):
    refused = _add(signed_in("admin"), "adm_norole", "测试无岗", role="")
    assert refused.status_code == 400 and "请选择岗位" in refused.text and "未知角色" not in refused.text


def test_a_refused_grant_keeps_the_typed_region_and_writes_nothing(signed_in, core):
    admin = signed_in("admin")
    before = _posts(core, "v01_director")
    refused = admin.post("/admin/people/v01_director/grant",
                         data={"csrf": admin.csrf, "role": "village_secretary", "region": TOWNSHIP})
    assert refused.status_code == 400 and 'id="refusal"' in refused.text
    form = refused.text.split('id="grant-form"')[1].split("</form>")[0]
    assert f'value="{TOWNSHIP}"' in form and '<option value="village_secretary" selected>' in form
    assert _posts(core, "v01_director") == before
    unknown_post = admin.post("/admin/people/v01_director/revoke",
                              data={"csrf": admin.csrf, "role": "county_head", "region": VILLAGE})
    assert unknown_post.status_code == 404 and 'id="refusal"' in unknown_post.text


def test_a_new_code_over_the_person_s_channel_or_on_paper(signed_in, core):
    admin = signed_in("admin")
    _add(admin, "adm_reach", "测试渠道")
    none = admin.post("/admin/people/adm_reach/enrol", data={"csrf": admin.csrf})
    assert none.status_code == 400 and "发放方式" in none.text
    added = admin.post("/admin/people/adm_reach/channels",
                       data={"csrf": admin.csrf, "kind": "email", "address": "reach@example.cn", "lang": "zh"})
    assert added.status_code == 303
    with core.engine.connect() as conn:
        kept = conn.execute(select(t.person_channels.c.channel, t.person_channels.c.address).join(
            t.persons, t.persons.c.id == t.person_channels.c.person_id).where(
            t.persons.c.code == "adm_reach", t.person_channels.c.active.is_(True))).all()
    assert [tuple(k) for k in kept] == [("email", "reach@example.cn")]
    assert _events(core, "channels_changed", "adm_reach")
    sent = admin.post("/admin/people/adm_reach/enrol", data={"csrf": admin.csrf, "delivery": "channel"})
    assert sent.status_code == 303 and sent.headers["location"].endswith("?done=sent")
    page = admin.get(sent.headers["location"]).text
    assert "已通过本人的提醒渠道发送" in page and "电子邮件" in page and 'id="enrolment-code"' not in page
    paper = admin.post("/admin/people/adm_reach/enrol", data={"csrf": admin.csrf, "delivery": "paper"})
    assert paper.status_code == 200 and paper.headers["cache-control"] == "no-store"
    assert re.search(r'id="enrolment-code">[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}<', paper.text)
    assert [e["delivery"] for e in _events(core, "enrolment_issued", "adm_reach")][-2:] == ["email", "paper"]
    bad = admin.post("/admin/people/adm_reach/channels",
                     data={"csrf": admin.csrf, "kind": "email", "address": "not an address", "lang": "zh"})
    assert bad.status_code == 400 and 'value="not an address"' in bad.text
    ended = admin.post("/admin/people/adm_reach/channels", data={"csrf": admin.csrf, "remove": "email:reach@example.cn"})
    assert ended.status_code == 303 and "提醒渠道已更新" in admin.get(ended.headers["location"]).text
    assert "reach@example.cn" not in admin.get("/admin/people/adm_reach").text


def test_an_approving_post_waits_for_a_second_administrator_who_confirms_it(signed_in, core, web):
    admin = signed_in("admin")
    first = _actor(core, "admin")
    org.add_persons(core, first, [org.NewPerson("adm_second", "第二位管理员", (("admin", COUNTY),), False)])
    try:
        made = accounts.issue_enrolment(core, first, "adm_second", paper=True)
        accounts.redeem_enrolment(core, "adm_second", made.code, "第二位管理员的密码")
        _add(admin, "adm_head", "测试乡镇长", role="", region="")
        proposed = admin.post("/admin/people/adm_head/grant",
                              data={"csrf": admin.csrf, "role": "township_head", "region": TOWNSHIP})
        assert proposed.headers["location"].endswith("?done=proposed")
        assert _posts(core, "adm_head") == set()
        mine = admin.get("/admin/people/adm_head").text.split('id="proposals"')[1].split("</section>")[0]
        assert "确认此岗位" not in mine and "撤回提议" in mine        # one's own proposal: withdrawn, not confirmed
        assert "1 项岗位待第二位管理员确认" in admin.get("/admin/people").text
        second = TestClient(web, follow_redirects=False)
        second.post("/signin", data={"person": "adm_second", "password": "第二位管理员的密码",
                                     "pre": pre_token(second), "next": "/"})
        theirs = second.get("/admin/people/adm_head").text
        assert "确认此岗位" in theirs
        proposal = re.search(r'name="proposal" value="(\d+)"', theirs).group(1)
        no_reason = second.post("/admin/people/adm_head/proposals",
                                data={"csrf": csrf_of(theirs), "proposal": proposal, "decision": "refuse"})
        assert no_reason.status_code == 400 and "理由" in no_reason.text
        confirmed = second.post("/admin/people/adm_head/proposals",
                                data={"csrf": csrf_of(theirs), "proposal": proposal, "decision": "confirm"})
        assert confirmed.status_code == 303, confirmed.text
        assert _posts(core, "adm_head") == {("township_head", TOWNSHIP)}
        assert _events(core, "roles_confirmed", "adm_head")
        assert "第二位管理员" not in admin.get("/admin/people").text.split('id="people"')[0]   # nothing waits
    finally:       # the demo goes on with a single administrator (its grants take effect at once)
        org.revoke_role(core, first, "adm_second", "admin", COUNTY)


def test_the_region_tree_and_adding_a_region(signed_in, core):
    admin = signed_in("admin")
    tree = admin.get("/admin/regions").text
    assert "宁都县" in tree and "梅江镇" in tree and "洋塘村" in tree and 'href="/imports"' in tree
    township = tree.split(f'data-region="{TOWNSHIP}"')[1].split("</details>")[0]
    with core.engine.connect() as conn:
        households = conn.execute(select(func.count()).select_from(t.cases).where(
            t.cases.c.kind == "household", t.cases.c.region_code.startswith(TOWNSHIP[:9]))).scalar()
    assert f"{households} 户" in township
    assert "洋塘村" in admin.get(f"/admin/regions?under={TOWNSHIP}").text
    assert admin.get("/admin/regions?under=110000000000").status_code == 404
    refused = admin.post("/admin/regions", data={"csrf": admin.csrf, "code": "36073110000", "name": "少一位县",
                                                "under": "360700000000"})
    assert refused.status_code == 400 and 'value="36073110000"' in refused.text and 'value="少一位县"' in refused.text
    added = admin.post("/admin/regions", data={"csrf": admin.csrf, "code": "360731000000", "name": "测试县",
                                              "under": "360700000000"})
    assert added.status_code == 303
    shown = admin.get(added.headers["location"]).text
    assert "已增加区划 360731000000" in shown and "测试县" in shown
    with core.engine.connect() as conn:
        assert conn.execute(select(t.regions.c.name).where(t.regions.c.code == "360731000000")).scalar() == "测试县"
        detail = conn.execute(select(t.audit_events.c.detail).where(t.audit_events.c.action == "regions_added")
                              .order_by(t.audit_events.c.seq.desc()).limit(1)).scalar()
    assert detail["codes"] == ["360731000000"]


# --- a post's region by its name on the forms (as `person add --role`, `grant`, `revoke` read it) ----

def test_a_post_s_region_is_given_by_its_name_its_code_or_the_suggestion_offered(world, world_clients):
    """The region field takes what the CLI's REGION takes: a name (洋塘村, 梅江镇), a name after its
    township's or county's (梅江镇洋塘村, 宁都县梅江镇) or a code; the suggestions offered are the
    regions the administrator may name, each as "name (code)", and such a suggestion is taken as
    its region (洋塘村 had been refused as a region code that is no 12 digits)."""
    from tests.world import TOWNSHIP as W_TOWNSHIP, VILLAGE as W_VILLAGE, VILLAGE2 as W_VILLAGE2
    page, _api = world_clients
    admin = page("admin")
    form = admin.get("/admin/people/new").text
    assert f'<option value="洋塘村 ({W_VILLAGE})">' in form and f'<option value="梅江镇 ({W_TOWNSHIP})">' in form
    assert 'inputmode="numeric"' not in form.split('name="region"')[1].split(">")[0]    # a phone types a name
    added = _add(admin, "nm1", "甲", region="洋塘村")
    assert added.status_code == 303, added.text
    assert _posts(world.app, "nm1") == {("pairing_cadre", W_VILLAGE)}
    for role, given in (("township_staff", "宁都县梅江镇"), ("village_secretary", f"洋塘村 ({W_VILLAGE})"),
                        ("resident_team_member", "梅江镇 洋塘村"), ("village_director", W_VILLAGE2)):
        granted = admin.post("/admin/people/nm1/grant", data={"csrf": admin.csrf, "role": role, "region": given})
        assert granted.status_code == 303 and granted.headers["location"].endswith("?done=granted"), granted.text
    assert _posts(world.app, "nm1") == {("pairing_cadre", W_VILLAGE), ("township_staff", W_TOWNSHIP),
                                        ("village_secretary", W_VILLAGE), ("resident_team_member", W_VILLAGE),
                                        ("village_director", W_VILLAGE2)}
    revoked = admin.post("/admin/people/nm1/revoke", data={"csrf": admin.csrf, "role": "village_director",
                                                           "region": "石上村"})
    assert revoked.status_code == 303, revoked.text
    assert ("village_director", W_VILLAGE2) in _posts(world.app, "nm1", held=False)


def test_a_post_s_region_name_none_or_two_have_is_refused_listing_them_and_nothing_is_written(world, world_clients):
    """A name no region of the administrator's has, or a suggestion whose name and code are not one
    region's, is refused as `person grant` refuses it, 400 in the reader's language, what was typed
    kept; a name two share is refused naming both with their codes and townships, to pick one (and
    the township's name before it picks it). No person, post or event is written."""
    from engine.services.org import add_regions
    from tests.helpers.refusals import snapshot
    add_regions(world.app, world["admin"], [("360730100202", "同名村"), ("360730101202", "同名村")])
    page, _api = world_clients
    admin = page("admin")
    before = snapshot(world)
    unknown = _add(admin, "nm2", "乙", region="黄石村")
    assert unknown.status_code == 400 and 'value="黄石村"' in unknown.text and 'value="nm2"' in unknown.text
    assert "您的辖区内没有名为「黄石村」的地区" in re.search(r'id="refusal">([^<]+)<', unknown.text).group(1)
    mismatched = admin.post("/admin/people/vs/grant", data={"csrf": admin.csrf, "role": "pairing_cadre",
                                                            "region": "洋塘村 (360730101201)"})
    assert mismatched.status_code == 400 and "没有名为「洋塘村 (360730101201)」的地区" in mismatched.text
    twice = admin.post("/admin/people/vs/grant", data={"csrf": admin.csrf, "role": "pairing_cadre", "region": "同名村"})
    refusal = re.search(r'id="refusal">([^<]+)<', twice.text).group(1)
    assert twice.status_code == 400 and "不止一个地区名为「同名村」" in refusal
    assert "360730100202 梅江镇" in refusal and "360730101202 青塘镇" in refusal
    assert 'value="同名村"' in twice.text.split('id="grant-form"')[1].split("</form>")[0]
    admin.cookies.set("lang", "en")
    english = admin.post("/admin/people/vs/revoke", data={"csrf": admin.csrf, "role": "village_secretary",
                                                          "region": "黄石村"})
    assert english.status_code == 400 and "No region named “黄石村” in your jurisdiction" in english.text
    assert snapshot(world) == before
    picked = admin.post("/admin/people/vs/grant", data={"csrf": admin.csrf, "role": "pairing_cadre",
                                                        "region": "青塘镇同名村"})
    assert picked.status_code == 303, picked.text
    assert ("pairing_cadre", "360730101202") in _posts(world.app, "vs")
