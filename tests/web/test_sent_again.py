"""A form sent again after its answer was lost (a phone on a weak signal) carries the same
`Idempotency-Key`: the server gives the first answer again and does nothing twice; a refusal is not
kept (sent again, it is judged again); a key is one person's, on one path. The API's clients the same."""
from __future__ import annotations

from sqlalchemy import func, select

from engine.adapters import tables as t
from tests.test_evidence_files import JPEG

HX = {"HX-Request": "true"}


def _evidence(world, case: int) -> int:
    """The case's evidence of the type these tests send (its registration brought others)."""
    with world.app.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(t.evidence).where(
            t.evidence.c.case_id == case, t.evidence.c.type == "appraisal_minutes")).scalar()


def test_a_page_form_sent_again_with_its_key_is_answered_again_and_saved_once(world, world_clients):
    page, _api = world_clients
    case = world.household()
    cadre = page("vs")
    form = {"csrf": cadre.csrf, "type": "appraisal_minutes"}
    photo = {"file": ("评议记录.jpg", JPEG, "image/jpeg")}
    sent = {**HX, "Idempotency-Key": "3f9c2a77e1d04b5e9a61c0d2b8e4f713"}
    first = cadre.post(f"/cases/{case}/evidence", headers=sent, data=form, files=photo)
    assert first.status_code == 200, first.text
    assert _evidence(world, case) == 1
    again = cadre.post(f"/cases/{case}/evidence", headers=sent, data=form, files=photo)
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
    assert again.text == first.text
    assert _evidence(world, case) == 1
    # without its key (or with a new one: a new act) the same form is judged afresh: the minutes are on
    # record already, to be replaced with a reason (what the phone's second sending got before)
    for headers in (HX, {**HX, "Idempotency-Key": "another-key-1"}):
        fresh = cadre.post(f"/cases/{case}/evidence", headers=headers, data=form, files=photo)
        assert fresh.status_code == 400 and "idempotent-replayed" not in fresh.headers
        assert 'data-code="evidence.exists"' in fresh.text
    assert _evidence(world, case) == 1


def test_a_refusal_is_not_kept_and_a_key_is_one_persons_on_one_path(world, world_clients):
    page, api = world_clients
    case = world.household()
    cadre = page("vs")
    key = {**HX, "Idempotency-Key": "k-refused-then-fixed"}
    refused = cadre.post(f"/cases/{case}/evidence", headers=key, data={"csrf": cadre.csrf, "type": "no_such_type"})
    assert refused.status_code >= 400 and _evidence(world, case) == 0
    # the form fixed and sent again with the same key (no answer had been lost): judged again, saved
    fixed = cadre.post(f"/cases/{case}/evidence", headers=key, data={"csrf": cadre.csrf, "type": "appraisal_minutes"},
                       files={"file": ("评议记录.jpg", JPEG, "image/jpeg")})
    assert fixed.status_code == 200 and "idempotent-replayed" not in fixed.headers
    assert _evidence(world, case) == 1
    # the same key from another sender (the API's token, another person's session) is another request:
    # judged, not given the page's answer
    other = api("vs").post(f"/api/v1/cases/{case}/evidence", headers={"Idempotency-Key": "k-refused-then-fixed"},
                           data={"type": "appraisal_minutes", "fields": "{}"},
                           files={"file": ("评议记录.jpg", JPEG, "image/jpeg")})
    assert other.status_code == 400 and other.json()["error"] == "evidence.exists"
    second = page("vs")
    again = second.post(f"/cases/{case}/evidence", headers=key, data={"csrf": second.csrf, "type": "appraisal_minutes"},
                        files={"file": ("评议记录.jpg", JPEG, "image/jpeg")})
    assert again.status_code == 400 and 'data-code="evidence.exists"' in again.text
    assert _evidence(world, case) == 1


def test_an_api_client_retrying_with_its_key_gets_the_first_answer(world, world_clients):
    _page, api = world_clients
    case = world.household()
    client = api("vs", "en")
    sent = dict(headers={"Idempotency-Key": "retry-7f3e"}, data={"type": "appraisal_minutes", "fields": "{}"},
                files={"file": ("评议记录.jpg", JPEG, "image/jpeg")})
    first = client.post(f"/api/v1/cases/{case}/evidence", **sent)
    again = client.post(f"/api/v1/cases/{case}/evidence", **sent)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert _evidence(world, case) == 1
    bad = client.post(f"/api/v1/cases/{case}/evidence", **{**sent, "headers": {"Idempotency-Key": "x" * 201}})
    assert bad.status_code == 400 and bad.json()["error"] == "request.key_invalid"
    assert "Idempotency-Key is not valid" in bad.json()["message"] and _evidence(world, case) == 1


def test_a_key_still_being_answered_is_said_so_not_done_twice(world, world_clients):
    from engine.services import replays
    _page, api = world_clients
    case = world.household()
    client = api("vs")
    credential = f"token\0{world['vs'].person_id}\0{world.tokens['vs']}"
    path = f"/api/v1/cases/{case}/evidence"
    assert replays.claim(world.app, replays.key_hash("slow-1", credential, "POST", path + "?")) is None   # the first, running
    answer = client.post(path, headers={"Idempotency-Key": "slow-1"}, data={"type": "appraisal_minutes", "fields": "{}"},
                         files={"file": ("评议记录.jpg", JPEG, "image/jpeg")})
    assert answer.status_code == 409 and answer.json()["error"] == "request.still_running"
    assert "还在办理中" in answer.json()["message"] and _evidence(world, case) == 0


def test_a_key_sent_again_with_another_body_is_refused_not_given_the_first_answer(world, world_clients):
    _page, api = world_clients
    case = world.household()
    client = api("vs", "en")
    key = {"Idempotency-Key": "same"}
    first = client.post(f"/api/v1/cases/{case}/evidence", headers=key, data={"type": "appraisal_minutes", "fields": "{}"},
                        files={"file": ("评议记录.jpg", JPEG, "image/jpeg")})
    assert first.status_code == 201
    other = client.post(f"/api/v1/cases/{case}/evidence", headers=key, data={"type": "no_such_type", "fields": "{}"},
                        files={"file": ("评议记录.jpg", JPEG, "image/jpeg")})
    assert other.status_code == 422 and other.json()["error"] == "request.key_reused"
    assert "different content" in other.json()["message"] and "idempotent-replayed" not in other.headers


def test_a_key_counts_only_for_someone_signed_in_and_never_where_an_answer_holds_a_secret(world, world_clients):
    from engine.services.accounts import issue_enrolment
    page, api = world_clients
    case = world.household()
    with world.app.engine.connect() as conn:
        before = conn.execute(select(func.count()).select_from(t.request_keys)).scalar()
    # a session that does not exist: sent to sign in, no key kept for it
    stranger = page("vs")
    stranger.cookies.set("jz_session", "not-a-session")
    for n in range(3):
        answer = stranger.post(f"/cases/{case}/evidence", headers={**HX, "Idempotency-Key": f"anon-{n}"},
                               data={"csrf": "x", "type": "appraisal_minutes"})
        assert answer.status_code == 401
    # an enrolment code answered a token: sent again with the same key and a wrong code, refused as wrong
    code = issue_enrolment(world.app, world["admin"], "vs", paper=True).code
    anyone = api("vs")
    anyone.headers.pop("Authorization")
    got = anyone.post("/api/v1/activate", headers={"Idempotency-Key": "a1"}, json={"person": "vs", "code": code})
    assert got.status_code == 200 and got.json()["token"]
    again = anyone.post("/api/v1/activate", headers={"Idempotency-Key": "a1"},
                        json={"person": "vs", "code": "wrong-code-123"})
    assert again.status_code in (400, 401) and "token" not in again.json()
    with world.app.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.request_keys)).scalar() == before


def test_a_body_digests_the_same_whatever_its_multipart_boundary_and_chunks():
    from hypothesis import given, settings, strategies as st
    from engine.services.replays import BodyDigest

    def digest(body: bytes, boundary: str, cuts: list[int]) -> str:
        d = BodyDigest(f"multipart/form-data; boundary={boundary}")
        points = sorted({c % (len(body) + 1) for c in cuts}) + [len(body)]
        at = 0
        for n, point in enumerate(points):
            d.update(body[at:point], more=n < len(points) - 1)
            at = point
        return d.hexdigest()

    part = st.binary(max_size=60).filter(lambda b: b"--" not in b)

    @settings(max_examples=200, deadline=None)
    @given(parts=st.lists(part, min_size=1, max_size=4), cuts=st.lists(st.integers(0, 400), max_size=6),
           other_cuts=st.lists(st.integers(0, 400), max_size=6))
    def same(parts, cuts, other_cuts):
        def body(boundary: str) -> bytes:
            marker = b"--" + boundary.encode()
            return b"".join(marker + b"\r\n" + p + b"\r\n" for p in parts) + marker + b"--\r\n"
        first = digest(body("----WebKitFormBoundaryAbC123"), "----WebKitFormBoundaryAbC123", cuts)
        assert first == digest(body("----WebKitFormBoundaryZz9"), "----WebKitFormBoundaryZz9", other_cuts)
        changed = [parts[0] + b"x", *parts[1:]]
        marker = b"--b1"
        other = b"".join(marker + b"\r\n" + p + b"\r\n" for p in changed) + marker + b"--\r\n"
        assert digest(other, "b1", cuts) != first
    same()
    unfinished = BodyDigest("application/x-www-form-urlencoded")
    unfinished.update(b"a=1", more=True)
    assert unfinished.hexdigest() is None


def test_a_wrong_token_with_a_key_counts_once_towards_its_lock(world, world_clients, monkeypatch):
    from engine.services import accounts
    monkeypatch.setattr(accounts, "THROTTLE_TOKENS", 3)
    accounts.forget_tokens()
    _page, api = world_clients
    case = world.household()
    wrong = api("vs")
    wrong.headers["Authorization"] = "Bearer wrong-wrong"
    said = [wrong.post(f"/api/v1/cases/{case}/evidence", headers={"Idempotency-Key": f"w{n}"},
                       data={"type": "appraisal_minutes", "fields": "{}"}).status_code for n in range(4)]
    assert said == [401, 401, 401, 429]


def test_a_key_whose_request_runs_longer_than_ten_minutes_is_still_said_running(world, monkeypatch):
    """A keyed command running past PENDING_FOR (a city's export through the CLI) is marked alive while it
    runs: its client sending the key again is told it still runs, never has it run a second time beside
    it; a key whose server stopped mid-request (nobody marks it) is claimed again after ten minutes."""
    import time
    from datetime import timedelta

    from engine.services import replays
    monkeypatch.setattr(replays, "BEAT_EVERY", 0.05)
    monkeypatch.setattr(replays, "running", replays.RunningKeys())
    long, dead = replays.key_hash("export-1", "c", "POST", "/x?"), replays.key_hash("export-2", "c", "POST", "/x?")
    assert replays.claim(world.app, long) is None and replays.claim(world.app, dead) is None
    replays.running.discard(dead)                   # its server stopped: nobody marks it any more
    world.clock.at += timedelta(minutes=11)
    time.sleep(0.5)                                 # beats of the running one
    assert replays.claim(world.app, long) == replays.Earlier(pending=True)
    assert replays.claim(world.app, dead) is None   # claimed again: it runs anew
    replays.keep(world.app, long, 200, [], b"{}")
    world.clock.at += timedelta(minutes=11)
    time.sleep(0.2)
    assert replays.claim(world.app, long).status == 200     # kept, given again: no longer marked nor pending
    replays.release(world.app, dead)
