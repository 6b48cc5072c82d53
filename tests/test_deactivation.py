"""A person who leaves (transferred, retired, removed from office) is deactivated: every post and
credential ends at once, they cannot sign in by any way, and the audit log says so, with its reason;
a state changed behind the engine's back is found by `audit verify`. Runs on SQLite and PostgreSQL."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.adapters import tables as t
from engine.domain.errors import AuthError, BadInput, JingzhunError, RuleViolation
from engine.reads.audit_verify import verify
from engine.services import accounts
from engine.services.org import NewPerson, add_persons, add_regions, authenticate, grant_role, revoke_role
from tests.helpers.tamper import raw
from tests.world import COUNTY, VILLAGE

FAR = "360731100201"          # a village of another county


def _row(world, code: str):
    with world.app.engine.connect() as conn:
        return conn.execute(select(t.persons).where(t.persons.c.code == code)).one()


def _held(world, code: str) -> set[tuple[str, str]]:
    ra = t.role_assignments.c
    with world.app.engine.connect() as conn:
        return {tuple(r) for r in conn.execute(select(ra.role, ra.region_code).join(
            t.persons, t.persons.c.id == ra.person_id).where(t.persons.c.code == code, ra.revoked_at.is_(None)))}


def _with_password(world, code: str, password: str = "村里的登录密码2019") -> str:
    made = accounts.issue_enrolment(world.app, world["admin"], code, paper=True)
    accounts.redeem_enrolment(world.app, code, made.code, password)
    return password


def test_a_deactivated_person_loses_every_post_and_credential_and_cannot_sign_in(world):
    password = _with_password(world, "vs")
    session, _csrf = accounts.open_session(world.app, accounts.sign_in(world.app, "vs", password))
    token = accounts.renew_token(world.app, authenticate(world.app, "vs", world.tokens["vs"]))
    waiting = accounts.issue_enrolment(world.app, world["admin"], "vs", paper=True)     # a code not yet spent
    assert accounts.session_of(world.app, session) is not None

    ended = accounts.deactivate(world.app, world["admin"], "vs", "调任县农业农村局")

    assert ended == [("village_secretary", VILLAGE)] and _held(world, "vs") == set()
    assert not _row(world, "vs").active
    assert accounts.session_of(world.app, session) is None
    for attempt in (lambda: accounts.sign_in(world.app, "vs", password),
                    lambda: authenticate(world.app, "vs", token),
                    lambda: accounts.api_actor(world.app, "vs", token),
                    lambda: accounts.redeem_enrolment(world.app, "vs", waiting.code, "另一个新密码2019")):
        with pytest.raises(AuthError):
            attempt()
    with world.app.engine.connect() as conn:
        event = conn.execute(select(t.audit_events.c.detail, t.audit_events.c.reason, t.audit_events.c.region_code)
                             .where(t.audit_events.c.action == "person_deactivated")).one()
    assert event.detail["person"] == "vs" and event.detail["posts"] == [["village_secretary", VILLAGE]]
    assert event.reason == "调任县农业农村局" and event.region_code == VILLAGE
    assert verify(world.app).intact


def test_reactivated_they_hold_nothing_until_granted_and_enrolled_again(world):
    accounts.deactivate(world.app, world["admin"], "vd", "借调")
    with pytest.raises(BadInput) as refused:
        grant_role(world.app, world["admin"], "vd", "village_director", VILLAGE)
    assert refused.value.code == "role.person_inactive"
    with pytest.raises(BadInput):
        accounts.issue_enrolment(world.app, world["admin"], "vd", paper=True)

    accounts.reactivate(world.app, world["admin"], "vd")
    assert _row(world, "vd").active and _row(world, "vd").token_hash is None and _held(world, "vd") == set()
    grant_role(world.app, world["admin"], "vd", "village_director", VILLAGE)
    password = _with_password(world, "vd")
    assert accounts.sign_in(world.app, "vd", password).assignments
    assert verify(world.app).intact


def test_refusals_write_nothing(world):
    admin = world["admin"]
    before = _held(world, "vs")
    for code, reason, actor, error, key in (
            ("vs", "  ", admin, BadInput, "person.leave_reason"),
            ("vs", "x" * 501, admin, BadInput, "person.leave_reason_long"),
            ("admin", "退休", admin, RuleViolation, "duty.self_deactivate"),
            ("nobody", "退休", admin, JingzhunError, "person.unknown"),
            ("vs", "退休", world["vs"], JingzhunError, None)):        # a village secretary administers no one
        with pytest.raises(error) as refused:
            accounts.deactivate(world.app, actor, code, reason)
        assert key is None or refused.value.code == key
    assert _held(world, "vs") == before and _row(world, "vs").active
    accounts.deactivate(world.app, admin, "vs", "退休")
    with pytest.raises(BadInput) as twice:
        accounts.deactivate(world.app, admin, "vs", "退休")
    assert twice.value.code == "person.inactive_already"
    with pytest.raises(BadInput) as active:
        accounts.reactivate(world.app, admin, "vd")
    assert active.value.code == "person.active_already"


def test_whose_posts_all_ended_is_their_last_posts_administrators_to_deactivate(world):
    """Who left a village is still its county's administrator's to deactivate, not only the whole
    country's; another county's administrator may not."""
    root = world["admin"]
    add_regions(world.app, root, [("360731000000", "于都县"), ("360731100000", "贡江镇"), (FAR, "长征村")])
    tokens = accounts.activate_all(world.app, add_persons(world.app, root, [
        NewPerson("cadm", "县管理员", (("admin", COUNTY),)), NewPerson("far", "外县支书", (("village_secretary", FAR),))]))
    county_admin = authenticate(world.app, "cadm", tokens["cadm"])
    revoke_role(world.app, root, "fs", "first_secretary", VILLAGE)
    revoke_role(world.app, root, "far", "village_secretary", FAR)
    assert _held(world, "fs") == set() == _held(world, "far")
    accounts.deactivate(world.app, county_admin, "fs", "驻村期满")
    assert not _row(world, "fs").active
    with pytest.raises(AuthError):
        accounts.deactivate(world.app, county_admin, "far", "退休")
    assert _row(world, "far").active


@pytest.mark.parametrize("tamper, kind", [
    ("UPDATE persons SET active = {true} WHERE code = 'vs'", "person_active"),
    ("UPDATE persons SET active = {false} WHERE code = 'cd'", "person_inactive"),
])
def test_a_person_s_state_changed_in_the_database_is_found(world, tamper, kind):
    accounts.deactivate(world.app, world["admin"], "vs", "调离")
    assert verify(world.app).intact
    pg = world.app.engine.dialect.name == "postgresql"
    raw(world, tamper.format(true="TRUE" if pg else "1", false="FALSE" if pg else "0"))
    found = verify(world.app).damage
    assert [(d.kind, d.where) for d in found] == [(kind, f"person {'vs' if kind == 'person_active' else 'cd'}")]


def test_the_commands_say_what_ended_and_what_to_do_next_in_the_reader_s_language(world):
    from tests.helpers.notifications import cli
    missing = cli(world, "admin", "person", "deactivate", "vs")
    assert missing.code == 2 and "--reason" in missing.err and _row(world, "vs").active
    done = cli(world, "admin", "person", "deactivate", "vs", "--reason", "退休")
    assert done.code == 0, done.err
    assert "vs：已停用" in done.out and f"村党支部书记（{VILLAGE}）" in done.out and "不能再登录" in done.out
    twice = cli(world, "admin", "--lang", "en", "person", "deactivate", "vs", "--reason", "退休")
    assert twice.code != 0 and "deactivated already" in twice.err and "Traceback" not in twice.err
    back = cli(world, "admin", "--lang", "en", "person", "reactivate", "vs")
    assert back.code == 0 and "person grant" in back.out and "person enrol" in back.out, back.err
    own = cli(world, "admin", "person", "deactivate", "admin", "--reason", "x")
    assert own.code != 0 and "另一名管理员" in own.err
