"""What the page crawl of stop 46 found in the pages' words: a printed notice titled in the reader's words,
a link from the inspector's activity to a dossier that could not be opened, a 404 that called a person
beyond the reader's jurisdiction nonexistent, a case page telling a reader who holds the step's post that
they "cannot do it" without why, a village's evidence called "this household's"."""
from __future__ import annotations

import re

from sqlalchemy import select

from engine.adapters import tables as t


def _first(core, *where):
    with core.engine.connect() as conn:
        return conn.execute(select(t.cases.c.id).where(*where).order_by(t.cases.c.id)).scalars().first()


def test_a_printed_notice_is_titled_in_the_readers_words(signed_in, core):
    with core.engine.connect() as conn:       # an identification notice of the county (the county reads it)
        notice = conn.execute(select(t.notices.c.id).where(t.notices.c.procedure_kind == "identification")
                              .order_by(t.notices.c.id)).scalars().first()
    client = signed_in("county")
    chinese = client.get(f"/notices/{notice}/print").text
    title = re.search(r"<title>(.*?)</title>", chinese).group(1)
    assert title.endswith("公示") and " · " not in title, title
    client.cookies.set("lang", "en")
    english = client.get(f"/notices/{notice}/print").text
    title = re.search(r"<title>(.*?)</title>", english).group(1)
    # the default file name of "save as PDF": words apart, not "洋塘村identificationPublic notice"
    assert title.startswith("Public notice · ") and title.endswith(" · identification"), title
    assert "letter-spacing" not in english.split("html:lang(zh) h1")[0], "only Chinese headings are spaced out"


def test_the_administrators_acts_lead_to_their_activity_not_to_a_dossier_that_cannot_open(signed_in):
    inspector = signed_in("inspector")
    page = inspector.get("/inspect/activity", params={"person": "admin"})
    assert page.status_code == 200
    assert 'href="/inspect/activity?person=admin"' in page.text
    assert 'href="/inspect/trace/person/admin"' not in page.text
    for link in sorted(set(re.findall(r'href="(/inspect/trace/person/[^"]+)"', inspector.get("/inspect/activity").text))):
        assert inspector.get(link).status_code == 200, link


def test_a_person_beyond_the_readers_jurisdiction_is_not_called_nonexistent(signed_in):
    inspector = signed_in("inspector")
    for code in ("city_staff", "no_such_person"):        # the same words for both: nothing is told apart
        answer = inspector.get(f"/inspect/trace/person/{code}")
        assert answer.status_code == 404
        assert "管辖范围内没有人员" in answer.text and "人员不存在" not in answer.text


def test_a_reader_holding_the_steps_post_is_told_why_they_cannot_do_it(signed_in, core):
    """A problem item assigned to a named person: the county director holds the step's post, yet only the
    person named may report; the page says so, not "you cannot do it" under a list naming their own post."""
    problem = _first(core, t.cases.c.kind == "problem", t.cases.c.stage == "assigned")
    assert problem, "the demo has an assigned problem item"
    page = signed_in("county").get(f"/cases/{problem}").text
    said = re.search(r'<p class="hint" id="step-not-yours">(.*?)</p>', page, re.S).group(1)
    assert "只能由上面列出的可办理人办理" in said and "您不能办理" not in said, said


def test_a_villages_evidence_is_not_called_the_households(signed_in, core):
    village = _first(core, t.cases.c.kind == "village")
    with core.engine.connect() as conn:
        held = conn.execute(select(t.evidence.c.id).where(t.evidence.c.case_id == village,
                                                          t.evidence.c.superseded_by.is_(None))).first()
    assert held, "the demo's village holds evidence"
    page = signed_in("township").get(f"/cases/{village}").text
    assert "此案件已有这项材料" in page and "本户已有这项材料" not in page


def test_a_persons_group_of_one_case_says_one_case(signed_in):
    inspector = signed_in("inspector")
    inspector.cookies.set("lang", "en")
    page = inspector.get("/inspect/trace/person/county_director").text
    assert "1 case: " in page and "1 cases" not in page


def test_a_sample_draw_names_who_drew_it(signed_in, core):
    with core.engine.connect() as conn:
        draw = conn.execute(select(t.sample_draws.c.id, t.persons.c.name, t.persons.c.code)
                            .join(t.persons, t.persons.c.id == t.sample_draws.c.drawn_by)
                            .order_by(t.sample_draws.c.id)).first()
    assert draw, "the demo draws a sample"
    page = signed_in("inspector").get(f"/inspect/samples/{draw.id}").text
    assert f"抽取人 {draw.name}" in page and f"抽取人 {draw.code}" not in page


def test_a_rejected_applicant_is_named_alike_on_my_work_and_on_its_page(web, core):
    """/work tagged a household whose application was rejected 申请中 (applying), its own page 未通过识别."""
    from fastapi.testclient import TestClient
    from engine.reads.standing import case_standing
    from engine.services.accounts import open_session
    from engine.services.org import load_actor
    with core.engine.connect() as conn:
        case, region = conn.execute(select(t.cases.c.id, t.cases.c.region_code).where(
            case_standing() == "not_identified").order_by(t.cases.c.id)).first()
        secretary = conn.execute(select(t.persons).join(t.role_assignments, t.role_assignments.c.person_id == t.persons.c.id)
                                 .where(t.role_assignments.c.role == "village_secretary",
                                        t.role_assignments.c.region_code == region)).first()
        actor = load_actor(conn, secretary)
    cadre = TestClient(web, follow_redirects=False)
    cadre.cookies.set("jz_session", open_session(core, actor)[0])
    work = cadre.get("/work").text
    # not included (stop 52): no work left to do, on nobody's list; named so on its page
    assert f'data-case="{case}"' not in work, "a household turned down is no work to redo"
    own = re.search(r'id="stage">([^<]+)<', cadre.get(f"/cases/{case}").text).group(1)
    assert own == "未通过识别", own
    cadre.close()
