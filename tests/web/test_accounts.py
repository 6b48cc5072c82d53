"""Enrolment codes, the sign-in throttle, sessions (fixation, sign-out, expiry) and CSRF."""
from __future__ import annotations



import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from engine.adapters import tables as t
from engine.adapters.app import FixedClock
from engine.domain.errors import AuthError
from engine.services import accounts
from engine.services.org import load_actor
from tests.web.conftest import pre_token


def _admin(core):
    with core.engine.connect() as conn:
        return load_actor(conn, conn.execute(select(t.persons).where(t.persons.c.code == "admin")).first())


def _enrol(client, person, code, password, again=None):
    return client.post("/enrol", data={"person": person, "code": code, "password": password,
                                       "again": again or password, "pre": pre_token(client, "/enrol")})


def test_an_enrolment_code_is_spent_on_first_use(web, core):
    made = accounts.issue_enrolment(core, _admin(core), "v02_director", paper=True)
    assert made.code and made.delivery == "paper"
    client = TestClient(web)
    assert _enrol(client, "v02_director", made.code.lower(), "村里的新密码2020").url.path == "/work"
    again = _enrol(TestClient(web), "v02_director", made.code, "另一个密码2020")
    assert again.status_code == 401 and "已使用" in again.text
    with core.engine.connect() as conn:
        stored = conn.execute(select(t.enrolment_codes.c.code_hash)).scalars().all()
    assert made.code not in " ".join(stored)           # only its SHA-256 is kept


def test_a_newer_code_withdraws_the_older_one_and_a_person_with_a_channel_gets_it_there(web, core):
    admin = _admin(core)
    first = accounts.issue_enrolment(core, admin, "v02_first", paper=True)
    accounts.issue_enrolment(core, admin, "v02_first", paper=True)
    assert _enrol(TestClient(web), "v02_first", first.code, "第一书记的登录密码").status_code == 401
    sent = accounts.issue_enrolment(core, admin, "v02_leader")       # the demo gave everyone a file channel
    assert sent.code is None and sent.delivery == "file"
    with core.engine.connect() as conn:
        body = conn.execute(select(t.outbox.c.body).where(t.outbox.c.kind == "enrolment")
                            .order_by(t.outbox.c.id.desc())).scalar()
    assert "首次登录码" in body


def test_an_administrators_browser_cannot_spend_a_code(web, core, signed_in):
    made = accounts.issue_enrolment(core, _admin(core), "v02_member", paper=True)
    admin_browser = signed_in("admin")
    answer = _enrol(admin_browser, "v02_member", made.code, "管理员想要冒用的密码")
    assert answer.status_code == 401 and "管理员" in answer.text
    assert _enrol(TestClient(web), "v02_member", made.code, "本人自己设置的密码").url.path == "/work"


def test_a_short_or_mismatched_password_is_refused_and_the_code_stays_usable(web, core):
    made = accounts.issue_enrolment(core, _admin(core), "v02_secretary", paper=True)
    client = TestClient(web)
    assert "至少需要 8 个字符" in _enrol(client, "v02_secretary", made.code, "short").text
    assert "不一致" in _enrol(client, "v02_secretary", made.code, "abcdefgh1", "abcdefgh2").text
    assert _enrol(client, "v02_secretary", made.code, "支书的好密码99").url.path == "/work"


def test_failed_sign_ins_lock_the_person_code_for_a_while(web, core):
    made = accounts.issue_enrolment(core, _admin(core), "t2_staff1", paper=True)
    accounts.redeem_enrolment(core, "t2_staff1", made.code, "正确的密码123")
    client = TestClient(web)
    for _ in range(accounts.THROTTLE_PERSON):
        client.post("/signin", data={"person": "t2_staff1", "password": "wrong", "pre": pre_token(client)})
    locked = client.post("/signin", data={"person": "t2_staff1", "password": "正确的密码123",
                                          "pre": pre_token(client)})
    assert locked.status_code == 429 and "分钟后再试" in locked.text


def test_a_session_id_planted_before_sign_in_is_never_promoted(web, demo_home):
    _, sign_ins = demo_home
    client = TestClient(web, follow_redirects=False)
    client.cookies.set("jz_session", "planted-by-an-attacker")
    client.post("/signin", data={"person": sign_ins["cadre"][0], "password": sign_ins["cadre"][1],
                                 "pre": pre_token(client)})
    given = [c.value for c in client.cookies.jar if c.name == "jz_session" and c.domain.startswith("testserver")]
    assert given and "planted-by-an-attacker" not in given
    attacker = TestClient(web, follow_redirects=False)
    attacker.cookies.set("jz_session", "planted-by-an-attacker")
    assert attacker.get("/work").status_code == 303


def test_signing_out_ends_the_session_on_the_server(signed_in):
    client = signed_in("cadre")
    secret = client.cookies.get("jz_session")
    assert client.post("/signout", data={"csrf": client.csrf}).status_code == 303
    replay = TestClient(client.app, follow_redirects=False)
    replay.cookies.set("jz_session", secret)
    assert replay.get("/work").status_code == 303


def test_a_form_without_its_csrf_token_is_refused(signed_in):
    client = signed_in("cadre")
    answer = client.post("/cases/1/step", data={"procedure": "identification", "step": "application"})
    assert answer.status_code == 403 and "刷新页面" in answer.text
    assert client.post("/signout", data={"csrf": "forged"}).status_code == 403


def test_sign_in_forms_need_their_own_token(web, demo_home):
    _, sign_ins = demo_home
    client = TestClient(web)
    answer = client.post("/signin", data={"person": sign_ins["cadre"][0], "password": sign_ins["cadre"][1]})
    assert answer.status_code == 403


def test_an_idle_session_expires(core, demo_home):
    clock = FixedClock(core.clock.now())
    saved, core.clock = core.clock, clock
    try:
        _, sign_ins = demo_home
        actor = accounts.sign_in(core, *sign_ins["cadre"])
        secret, _ = accounts.open_session(core, actor)
        clock.advance(minutes=90)
        assert accounts.session_of(core, secret) is not None
        clock.advance(hours=2, minutes=1)
        assert accounts.session_of(core, secret) is None
        fresh, _ = accounts.open_session(core, actor)
        for _ in range(13):
            clock.advance(hours=1)
            accounts.session_of(core, fresh)
        assert accounts.session_of(core, fresh) is None      # 12 hours at most, however busy
    finally:
        core.clock = saved


def test_an_api_token_is_checked_again_once_its_holder_renews_it(core, demo_home):
    settings, _ = demo_home
    tokens = dict(line.split(",") for line in (settings.home / "demo-tokens.csv").read_text().split())
    code = next(c for c in tokens if c.endswith("_staff2"))
    assert accounts.api_actor(core, code, tokens[code]).code == code
    new = accounts.renew_token(core, accounts.api_actor(core, code, tokens[code]))
    with pytest.raises(AuthError):
        accounts.api_actor(core, code, tokens[code])
    assert accounts.api_actor(core, code, new).code == code


def test_a_script_in_a_members_name_is_shown_as_text(signed_in, core, demo_home):
    from tests.world import id_number
    from workflows.household import MemberInput, register_household
    from engine.services.org import authenticate
    settings, _ = demo_home
    tokens = dict(line.split(",") for line in (settings.home / "demo-tokens.csv").read_text().split())
    actor = authenticate(core, "v01_secretary", tokens["v01_secretary"])
    village = actor.assignments[0].region_code
    evil = "<script>alert(1)</script>"
    case_id = register_household(core, actor, village, [MemberInput(evil, id_number("11010119700101123"))],
                                 ["illness"], "general")
    client = signed_in("cadre")
    for path in (f"/cases/{case_id}", "/work"):
        html = client.get(path).text
        assert evil not in html
    assert "&lt;script&gt;" in client.get(f"/cases/{case_id}").text


def test_person_enrol_on_the_command_line(demo_home, core, capsys, monkeypatch):
    from entrypoints.cli.main import main
    settings, _ = demo_home
    tokens = dict(line.split(",") for line in (settings.home / "demo-tokens.csv").read_text().split())
    monkeypatch.setenv("JINGZHUN_TOKEN", tokens["admin"])
    home = ["--home", str(settings.home), "--as", "admin"]
    assert main([*home, "person", "enrol", "v03_director"]) == 0
    sent = capsys.readouterr().out
    assert "发送到其通知渠道" in sent and "您不会看到登录码" in sent
    assert main([*home, "person", "enrol", "v03_director", "--paper"]) == 0
    paper = capsys.readouterr().out.strip().splitlines()
    assert "当面交给本人" in paper[0] and len(paper[-1]) == 14        # XXXX-XXXX-XXXX
    monkeypatch.setenv("JINGZHUN_TOKEN", tokens["v01_secretary"])
    assert main(["--home", str(settings.home), "--as", "v01_secretary", "person", "enrol", "v03_first"]) == 1
    assert "管理员" in capsys.readouterr().err


def test_a_mistyped_password_keeps_the_code_typed_from_the_slip_and_a_wrong_code_is_not_echoed(web, core):
    """On a phone the one-time code is typed from a paper slip: a second password that differs wiped
    it. A code refused is never shown back."""
    made = accounts.issue_enrolment(core, _admin(core), "v02_secretary", paper=True)
    client = TestClient(web)
    differ = _enrol(client, "v02_secretary", made.code, "村里的新密码2020", again="村里的新密码2021")
    assert differ.status_code == 400 and f'value="{made.code}"' in differ.text
    assert differ.headers["cache-control"] == "no-store"
    wrong = _enrol(client, "v02_secretary", "WRNG-CODE-XXXX", "村里的新密码2020")
    assert wrong.status_code == 401 and "WRNG-CODE-XXXX" not in wrong.text


def test_a_page_that_does_not_exist_keeps_the_signed_in_header(signed_in):
    """A mistyped address dropped the menu and the person's name: the way back was the browser's."""
    client = signed_in("cadre")
    missing = client.get("/no-such-page")
    assert missing.status_code == 404 and 'class="who"' in missing.text and 'action="/signout"' in missing.text


def test_a_monitor_reads_the_servers_health_without_signing_in(web, core, monkeypatch):
    """There was no health endpoint: a monitor could not tell a server whose database is down (its
    sign-in page still answered 200)."""
    client = TestClient(web)
    healthy = client.get("/healthz")
    assert healthy.status_code == 200 and healthy.json() == {"ok": True, "database": True}

    class Down:
        def connect(self):
            raise OSError("connection refused")
    monkeypatch.setattr(core, "engine", Down())
    down = client.get("/healthz")
    assert down.status_code == 503 and down.json()["ok"] is False
