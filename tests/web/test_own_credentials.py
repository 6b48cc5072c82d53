"""A person's own credentials (issue 13): nobody, an administrator included, is handed another
person's working credential. The person spends their enrolment code for their own token (CLI, API),
renews it, and changes their password; every such event names the person who did it."""
from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from engine.adapters import tables as t
from engine.services import accounts
from engine.services.org import load_actor


def _admin(core):
    with core.engine.connect() as conn:
        return load_actor(conn, conn.execute(select(t.persons).where(t.persons.c.code == "admin")).first())


def _last_event(core, action):
    with core.engine.connect() as conn:
        return conn.execute(select(t.audit_events.c.person_code, t.audit_events.c.detail).where(
            t.audit_events.c.action == action).order_by(t.audit_events.c.seq.desc())).first()


def test_a_person_spends_their_code_over_the_api_for_their_own_token(web, core):
    made = accounts.issue_enrolment(core, _admin(core), "v03_director", paper=True)
    with TestClient(web) as client:
        wrong = client.post("/api/v1/activate", json={"person": "v03_director", "code": "AAAA-BBBB-CCCC"})
        assert wrong.status_code == 401 and wrong.json()["error"] == "enrol.bad_code"
        answer = client.post("/api/v1/activate", json={"person": "v03_director", "code": made.code.lower()})
        assert answer.status_code == 200, answer.text
        token = answer.json()["token"]
        again = client.post("/api/v1/activate", json={"person": "v03_director", "code": made.code})
        assert again.status_code == 401
        mine = client.get("/api/v1/cases", params={"limit": 1},
                          headers={"X-Jingzhun-Person": "v03_director", "Authorization": f"Bearer {token}"})
        assert mine.status_code == 200
    who, detail = _last_event(core, "enrolment_spent")
    assert who == "v03_director" and detail["person"] == "v03_director" and detail["credential"]


def keep_in_demo_tokens(demo_home, code: str, token: str) -> None:
    """The session's demo home lists its people's tokens: a test that renews one writes it back."""
    path = demo_home[0].home / "demo-tokens.csv"
    lines = [f"{code},{token}" if line.split(",")[0] == code else line for line in path.read_text().split()]
    path.write_text("\n".join(lines) + "\n")


def test_the_account_page_makes_a_new_token_for_oneself_only(signed_in, web, demo_home):
    client = signed_in("township")
    password = demo_home[1]["township"][1]
    page = client.get("/account")
    assert page.status_code == 200 and "我的账号" in page.text
    unconfirmed = client.post("/account/token", data={"csrf": client.csrf, "current": password})
    assert unconfirmed.status_code == 400 and "id=\"new-token\"" not in unconfirmed.text
    # A session left open on a shared computer cannot make itself a token that outlives it.
    unproven = client.post("/account/token", data={"csrf": client.csrf, "understood": "yes", "current": "guess-guess"})
    assert unproven.status_code == 400 and "当前密码不正确" in unproven.text and "id=\"new-token\"" not in unproven.text
    made = client.post("/account/token", data={"csrf": client.csrf, "understood": "yes", "current": password})
    assert made.status_code == 200 and made.headers["cache-control"] == "no-store"
    token = re.search(r'id="new-token">([^<]+)<', made.text).group(1)
    code = re.search(r"\((\w+)\)</p>", page.text).group(1)
    keep_in_demo_tokens(demo_home, code, token)
    with TestClient(web) as api:
        ok = api.get("/api/v1/cases", params={"limit": 1},
                     headers={"X-Jingzhun-Person": code, "Authorization": f"Bearer {token}"})
        assert ok.status_code == 200
    forged = client.post("/account/token", data={"csrf": "not-the-session's", "understood": "yes", "current": password})
    assert forged.status_code == 403 and "id=\"new-token\"" not in forged.text


def test_changing_the_password_needs_the_current_one_and_keeps_this_session(signed_in, demo_home, core):
    _, sign_ins = demo_home
    code, old = sign_ins["supervisor"]
    client, other = signed_in("supervisor"), signed_in("supervisor")
    wrong = client.post("/account/password", data={"csrf": client.csrf, "current": "guess-guess",
                                                   "password": "new-pass-2019", "again": "new-pass-2019"})
    assert wrong.status_code == 400 and "当前密码不正确" in wrong.text
    try:
        done = client.post("/account/password", data={"csrf": client.csrf, "current": old,
                                                      "password": "new-pass-2019", "again": "new-pass-2019"})
        assert done.status_code == 200 and "密码已修改" in done.text
        assert client.get("/account").status_code == 200                   # this browser stays signed in
        assert other.get("/account").status_code in (303, 401)               # the other one is signed out
        assert accounts.sign_in(core, code, "new-pass-2019").code == code
        who, detail = _last_event(core, "password_set")
        assert who == code and detail["password"]
    finally:
        accounts.set_password(core, accounts.sign_in(core, code, "new-pass-2019"), old)


def test_the_administrator_cannot_renew_someone_elses_token_from_the_command_line(demo_home, capsys, monkeypatch):
    from entrypoints.cli.main import main
    settings, _ = demo_home
    tokens = dict(line.split(",") for line in (settings.home / "demo-tokens.csv").read_text().split())
    monkeypatch.setenv("JINGZHUN_TOKEN", tokens["admin"])
    code = main(["--home", str(settings.home), "--as", "admin", "person", "token", "v01_secretary"])
    assert code == 1 and "[token.not_yours]" in capsys.readouterr().err
