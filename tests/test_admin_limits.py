"""What an administrator cannot do alone (issue 13). Four eyes on approving roles: while a second
administrator covers a region, no single administrator can make somebody an approver; the grant is a
proposal until the other one confirms, the log names both, a refusal or a withdrawal ends it, and a
sole administrator's grant says so. And no administrator holds another person's credential: the
enrolment code goes to the person's channel, and the person hears of every credential change."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.adapters import tables as t
from engine.domain.errors import AuthError, NotFound, RuleViolation
from engine.domain.regions import ROOT
from engine.reads.audit_verify import verify
from engine.services import role_proposals as four_eyes
from engine.services.accounts import activate_all
from engine.services.org import NewPerson, add_persons, authenticate, grant_role
from tests.world import COUNTY, TOWNSHIP, VILLAGE


def _second_admin(world) -> None:
    made = add_persons(world.app, world["admin"], [NewPerson("admin2", "第二管理员", (("admin", ROOT),))])
    world.tokens.update(activate_all(world.app, made))
    world.actors["admin2"] = authenticate(world.app, "admin2", world.tokens["admin2"])


def _last(world, action: str):
    with world.app.engine.connect() as conn:
        return conn.execute(select(t.audit_events.c.person_code, t.audit_events.c.detail).where(
            t.audit_events.c.action == action).order_by(t.audit_events.c.seq.desc())).first()


def _roles(world, code: str) -> set[tuple[str, str]]:
    return {(a.role, a.region_code) for a in authenticate(world.app, code, world.tokens[code]).assignments} \
        if code in world.tokens else set()


def test_the_sole_administrators_grant_takes_effect_and_its_event_says_so(world):
    assert grant_role(world.app, world["admin"], "ts1", "township_head", TOWNSHIP) is None
    assert ("township_head", TOWNSHIP) in _roles(world, "ts1")
    who, detail = _last(world, "role_granted")
    assert who == "admin" and detail["four_eyes"] == "sole_administrator"


def test_an_approving_role_waits_for_a_second_administrator_and_the_log_names_both(world):
    _second_admin(world)
    proposal = grant_role(world.app, world["admin"], "ts1", "township_head", TOWNSHIP)
    assert isinstance(proposal, int)
    assert ("township_head", TOWNSHIP) not in _roles(world, "ts1")            # not in force yet
    assert [p["id"] for p in four_eyes.pending(world.app, world["admin2"])] == [proposal]
    with pytest.raises(RuleViolation) as refused:
        four_eyes.confirm(world.app, world["admin"], [proposal])
    assert refused.value.code == "four_eyes.same_admin"
    assert four_eyes.confirm(world.app, world["admin2"], [proposal]) == 1
    assert ("township_head", TOWNSHIP) in _roles(world, "ts1")
    who, detail = _last(world, "roles_confirmed")
    assert who == "admin2" and detail["proposed_by"] == ["admin"] and detail["roles"] == [["ts1", "township_head", TOWNSHIP]]
    assert verify(world.app).intact
    with pytest.raises(NotFound):
        four_eyes.confirm(world.app, world["admin2"], [proposal])


def test_a_role_that_approves_nothing_is_granted_at_once_even_with_two_administrators(world):
    _second_admin(world)
    assert grant_role(world.app, world["admin"], "ts1", "pairing_cadre", VILLAGE) is None
    assert ("pairing_cadre", VILLAGE) in _roles(world, "ts1")
    assert "four_eyes" not in _last(world, "role_granted")[1]


def test_a_new_person_gets_the_plain_roles_now_and_the_approving_ones_on_confirmation(world):
    _second_admin(world)
    made = add_persons(world.app, world["admin"], [NewPerson("newhead", "新镇长", (
        ("pairing_cadre", VILLAGE), ("township_head", TOWNSHIP)))])
    world.tokens["newhead"] = activate_all(world.app, made)["newhead"]
    assert _roles(world, "newhead") == {("pairing_cadre", VILLAGE)}
    waiting = four_eyes.pending(world.app, world["admin2"], ["newhead"])
    assert [(w["role"], w["proposed_by"]) for w in waiting] == [("township_head", "admin")]
    four_eyes.confirm(world.app, world["admin2"], [waiting[0]["id"]])
    assert _roles(world, "newhead") == {("pairing_cadre", VILLAGE), ("township_head", TOWNSHIP)}
    assert verify(world.app).intact


def test_a_refused_or_withdrawn_proposal_grants_nothing(world):
    _second_admin(world)
    first = grant_role(world.app, world["admin"], "ts1", "township_head", TOWNSHIP)
    second = grant_role(world.app, world["admin"], "ts2", "county_office_staff", COUNTY)
    assert four_eyes.refuse(world.app, world["admin2"], [first], "未经党委研究") == 1
    assert four_eyes.refuse(world.app, world["admin"], [second], "填错了人") == 1     # the proposer withdraws
    assert four_eyes.pending(world.app, world["admin2"]) == []
    assert ("township_head", TOWNSHIP) not in _roles(world, "ts1")
    assert ("county_office_staff", COUNTY) not in _roles(world, "ts2")
    who, detail = _last(world, "roles_refused")
    assert who == "admin" and detail["reason"] == "填错了人"
    with pytest.raises(NotFound):
        four_eyes.confirm(world.app, world["admin2"], [first])


def test_only_an_administrator_over_the_region_confirms(world):
    _second_admin(world)
    proposal = grant_role(world.app, world["admin"], "ts1", "township_head", TOWNSHIP)
    with pytest.raises(AuthError):
        four_eyes.confirm(world.app, world["th"], [proposal])
    with pytest.raises(AuthError):
        four_eyes.pending(world.app, world["insp"])


def test_a_proposal_marked_confirmed_in_the_database_grants_nothing(world):
    from tests.test_audit_verify import raw
    _second_admin(world)
    proposal = grant_role(world.app, world["admin"], "ts1", "township_head", TOWNSHIP)
    raw(world, f"UPDATE role_proposals SET status = 'confirmed' WHERE id = {proposal}")
    raw(world, "INSERT INTO role_assignments (person_id, role, region_code, granted_at, event_seq, event_hash) "
               "SELECT person_id, role, region_code, proposed_at, proposal_seq, "        # the proposal's own event
               f"(SELECT hash FROM audit_events WHERE seq = proposal_seq) FROM role_proposals WHERE id = {proposal}")
    assert ("township_head", TOWNSHIP) not in _roles(world, "ts1")
    assert any(d.kind == "post_unrecorded" for d in verify(world.app).damage)


def test_the_command_line_proposes_lists_and_confirms(world):
    from tests.helpers.notifications import cli
    _second_admin(world)
    granted = cli(world, "admin", "person", "grant", "ts1", "township_head", TOWNSHIP)
    assert granted.code == 0 and "另一名管理员确认" in granted.out, granted.err
    listed = cli(world, "admin2", "person", "pending")
    assert listed.code == 0 and "ts1" in listed.out and "admin" in listed.out, listed.err
    from zoneinfo import ZoneInfo
    from engine.domain.deadline_rules import aware
    with world.app.engine.connect() as conn:       # proposed now, by the command: told on the office's clock
        proposed = aware(conn.execute(select(t.role_proposals.c.proposed_at)).scalar_one())
    assert proposed.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%H:%M") in listed.out
    assert proposed.strftime("%H:%M") not in listed.out
    own = cli(world, "admin", "person", "confirm", "1")
    assert own.code == 1 and "[four_eyes.same_admin]" in own.err
    confirmed = cli(world, "admin2", "person", "confirm", "1")
    assert confirmed.code == 0 and "已确认 1 项岗位" in confirmed.out, confirmed.err
    assert "没有待确认的岗位" in cli(world, "admin2", "person", "pending").out


def test_a_person_with_a_channel_gets_their_code_there_and_hears_of_every_credential_change(world):
    """The administrator never sees the code of a person with a channel; the person is told when their
    login is activated, their token renewed and their password changed (if not them, they know)."""
    from engine.services.accounts import activate, renew_token, set_password
    from tests.helpers.notifications import cli
    added = cli(world, "admin", "person", "add", "pc9", "帮扶干部 九", "--role", f"帮扶责任人:{VILLAGE}",
                "--channel", "file:pc9")        # a role by its name, as the refusal lists them
    assert added.code == 0 and "发送到其通知渠道（file）" in added.out, added.err
    with world.app.engine.connect() as conn:
        (body,) = conn.execute(select(t.outbox.c.body).where(t.outbox.c.kind == "enrolment")).one()
    code = next(w for w in body.split() if w.count("-") == 2 and len(w) == 14)
    assert code not in added.out
    actor, _token = activate(world.app, "pc9", code)
    renew_token(world.app, actor)
    set_password(world.app, actor, "qingshan-2019")
    with world.app.engine.connect() as conn:
        told = conn.execute(select(t.outbox.c.subject, t.outbox.c.body).where(
            t.outbox.c.kind == "credential").order_by(t.outbox.c.id)).all()
    assert len(told) == 3 and all("凭据已变更" in s and "纪委" in b for s, b in told)
    assert ["启用" in told[0][1], "新的登录令牌" in told[1][1], "密码" in told[2][1]] == [True, True, True]


def test_a_proposal_decided_by_two_administrators_at_once_is_decided_once(world):
    """The second administrator confirms while the proposer withdraws, each tapping twice: one decision
    is recorded, each other is refused as no longer pending, never a database error."""
    from tests.helpers.at_once import at_once
    _second_admin(world)
    proposal = grant_role(world.app, world["admin"], "ts1", "township_head", TOWNSHIP)

    def decide(who: str, how: str) -> str:
        if how == "confirm":
            four_eyes.confirm(world.app, world[who], [proposal])
        else:
            four_eyes.refuse(world.app, world[who], [proposal], "撤回")
        return how

    moves = [("admin2", "confirm"), ("admin", "refuse"), ("admin2", "confirm"), ("admin", "refuse")]
    seen = at_once(world.app, [lambda move=move: decide(*move) for move in moves])
    decided = [s for s in seen if s in ("confirm", "refuse")]
    assert len(decided) == 1 and seen.count("proposal.not_pending") == 3, seen
    with world.app.engine.connect() as conn:
        events = conn.execute(select(t.audit_events.c.action).where(
            t.audit_events.c.action.in_(["roles_confirmed", "roles_refused"]))).scalars().all()
    assert len(events) == 1
    assert (("township_head", TOWNSHIP) in _roles(world, "ts1")) == (decided == ["confirm"])
    assert verify(world.app).intact
