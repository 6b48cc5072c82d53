"""Signing in: passwords, enrolment codes, sessions, throttling and the CSRF token of forms."""
from __future__ import annotations

from fastapi.testclient import TestClient

from tests.web.conftest import pre_token


def test_a_person_signs_in_and_lands_on_their_work(web, demo_home):
    _, sign_ins = demo_home
    code, password = sign_ins["cadre"]
    client = TestClient(web)
    answer = client.post("/signin", data={"person": code, "password": password, "pre": pre_token(client)})
    assert answer.url.path == "/work"
    assert "我的工作" in answer.text
    cookie = next(c for c in client.cookies.jar if c.name == "jz_session")
    assert cookie.has_nonstandard_attr("HttpOnly")


def test_a_person_code_typed_with_a_capital_letter_signs_in(web, demo_home):
    """A phone's keyboard capitalises the first letter: V01_secretary is v01_secretary."""
    _, sign_ins = demo_home
    code, password = sign_ins["cadre"]
    client = TestClient(web)
    answer = client.post("/signin", data={"person": code[0].upper() + code[1:], "password": password,
                                          "pre": pre_token(client)})
    assert answer.url.path == "/work" and "我的工作" in answer.text


def test_a_wrong_password_is_refused_without_saying_whether_the_person_exists(web, demo_home):
    _, sign_ins = demo_home
    client = TestClient(web)
    wrong = client.post("/signin", data={"person": sign_ins["cadre"][0], "password": "nope-nope",
                                         "pre": pre_token(client)})
    nobody = client.post("/signin", data={"person": "no_such_person", "password": "nope-nope",
                                          "pre": pre_token(client)})
    assert wrong.status_code == nobody.status_code == 401
    assert "人员编号或密码不正确" in wrong.text and "人员编号或密码不正确" in nobody.text


def test_pages_need_a_session(web):
    client = TestClient(web, follow_redirects=False)
    answer = client.get("/work")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/signin")


def test_a_page_asked_for_after_the_session_ended_says_so_and_returns_to_it_once_signed_in(web, signed_in, core,
                                                                                          demo_home):
    """A bookmark or a reload after 2 idle hours: the sign-in page says the session ended, and signing in
    goes back to the page asked for. Somebody who never signed in here is not told of a session."""
    from engine.services.accounts import close_session
    client = signed_in("cadre")
    close_session(core, client.cookies.get("jz_session"))        # idle too long, or ended elsewhere
    answer = client.get("/cases/1?procedure=monitoring")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/signin?next=/cases/1%3Fprocedure%3Dmonitoring&ended=1"
    told = client.get(answer.headers["location"])
    assert "登录已失效" in told.text and "请重新登录" in told.text and 'value="/cases/1?procedure=monitoring"' in told.text
    code, password = demo_home[1]["cadre"]
    back = client.post("/signin", data={"person": code, "password": password, "pre": pre_token(client),
                                        "next": "/cases/1?procedure=monitoring"})
    assert back.status_code == 303 and back.headers["location"] == "/cases/1?procedure=monitoring"
    assert client.get("/work").status_code == 200

    close_session(core, client.cookies.get("jz_session"))
    client.cookies.set("lang", "en")
    english = client.get(client.get("/work").headers["location"]).text
    assert "Your session has ended" in english and 'value="/work"' in english

    never = TestClient(web, follow_redirects=False)
    first = never.get("/cases/1")
    assert first.headers["location"] == "/signin?next=/cases/1", "no session cookie: nothing ended"
    assert "登录已失效" not in never.get(first.headers["location"]).text


def test_a_case_outside_the_jurisdiction_is_not_found(signed_in, core):
    from sqlalchemy import select
    from engine.adapters import tables as t
    client = signed_in("cadre")
    with core.engine.connect() as conn:
        village = conn.execute(select(t.role_assignments.c.region_code).join(
            t.persons, t.persons.c.id == t.role_assignments.c.person_id).where(
            t.persons.c.code == "v01_secretary")).scalar()
        other = conn.execute(select(t.cases.c.id).where(t.cases.c.region_code != village).limit(1)).scalar()
        own = conn.execute(select(t.cases.c.id).where(t.cases.c.region_code == village).limit(1)).scalar()
    assert client.get(f"/cases/{own}").status_code == 200
    assert client.get(f"/cases/{other}").status_code == 404
    assert client.get("/cases/99999999").status_code == 404


def test_a_form_posted_without_a_session_returns_to_its_page_after_signing_in(web):
    from fastapi.testclient import TestClient
    client = TestClient(web, follow_redirects=False)
    answer = client.post("/villages/360730100201/evidence", data={"type": "x"},
                         headers={"Referer": "http://testserver/villages/360730100201/evidence?type=income_check"})
    assert answer.status_code == 303
    assert answer.headers["location"] == \
        "/signin?next=/villages/360730100201/evidence%3Ftype%3Dincome_check&ended=unsaved"
    elsewhere = client.post("/villages/360730100201/evidence", data={}, headers={"Referer": "https://evil.example/x"})
    assert elsewhere.headers["location"] == "/signin?next=/&ended=unsaved"


def test_an_htmx_form_sent_without_a_session_returns_to_its_page_told_that_nothing_was_saved(web):
    """HTMX sends the page it was on (HX-Current-URL): the sign-in page it is sent to goes back there
    and says the session ended and what was sent was not saved; another site's page is not gone back to."""
    from fastapi.testclient import TestClient
    client = TestClient(web, follow_redirects=False)
    answer = client.post("/cases/12/visits", data={"findings": "x"}, headers={
        "HX-Request": "true", "HX-Current-URL": "http://testserver/cases/12?procedure=monitoring"})
    assert answer.status_code == 401
    assert answer.headers["HX-Redirect"] == "/signin?next=/cases/12%3Fprocedure%3Dmonitoring&ended=unsaved"
    elsewhere = client.post("/cases/12/visits", headers={"HX-Request": "true", "HX-Current-URL": "https://evil.example/"})
    assert elsewhere.headers["HX-Redirect"] == "/signin?next=/&ended=unsaved"
    loading = client.get("/work/12/needs", headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/work"})
    assert loading.headers["HX-Redirect"] == "/signin?next=/work&ended=1"
    told = client.get("/signin?next=/cases/12&ended=unsaved")
    assert "登录已失效" in told.text and "刚才提交的内容没有保存" in told.text and 'value="/cases/12"' in told.text
    assert "登录已失效" not in client.get("/signin?next=/cases/12").text
    assert "登录已失效" not in client.get("/signin?ended=%3Cscript%3E").text


def test_a_page_asked_for_after_the_session_s_twelve_hours_says_the_session_ended(web, core, demo_home):
    """The session ends after 12 hours whatever happens; the browser keeps its cookie a week longer, so
    who comes back to a page the next morning is told the session ended (a cookie dropped with the
    session left them the plain sign-in page)."""
    from datetime import timedelta

    from sqlalchemy import select, update

    from engine.adapters import tables as t
    from engine.services.accounts import SESSION_MAX
    client = TestClient(web, follow_redirects=False)
    code, password = demo_home[1]["cadre"]
    client.get("/signin")
    signed = client.post("/signin", data={"person": code, "password": password, "pre": pre_token(client),
                                          "next": "/work"})
    cookie = next(c for c in signed.headers.get_list("set-cookie") if c.startswith("jz_session="))
    kept = int(next(p for p in cookie.split("; ") if p.lower().startswith("max-age=")).split("=")[1])
    assert kept >= (SESSION_MAX + timedelta(days=1)).total_seconds()
    with core.engine.begin() as conn:        # the working day is over: the session's 12 hours have passed
        person = select(t.persons.c.id).where(t.persons.c.code == code).scalar_subquery()
        conn.execute(update(t.web_sessions).where(t.web_sessions.c.person_id == person)
                     .values(expires_at=core.clock.now() - timedelta(minutes=1)))
    answer = client.get("/work")
    assert answer.status_code == 303 and answer.headers["location"] == "/signin?next=/work&ended=1"
    assert "登录已失效" in client.get(answer.headers["location"]).text
