"""Public notices as objects (issue 4): one notice for a village's list, its text kept as posted,
printable for the board, and never an ID number, phone number, bank account or health detail."""
from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select, update

from engine.adapters import tables as t
from engine.services.case_actions import file_objection, resolve_objection
from engine.domain.errors import BadInput, RuleViolation
from engine.services.notices import notice_for_reader, notice_view, render
from tests.test_refusals import snapshot
from tests.world import VILLAGE, World, id_number
from workflows.household import MemberInput, register_household

PHONES = ["13907971234", "0797-6821234"]
ACCOUNTS = ["6217995550001234567", "6228480078123456789"]
HEALTH_WORDS = ["患有大病", "长期慢性病", "残疾", "serious", "chronic", "disabled", "因病", "因残", "illness", "disability"]


def private_households(world: World) -> tuple[list[int], list[str]]:
    """Two households whose members have everything a notice must not show."""
    ids = [id_number(f"36213119650{m}0{d}12{m}") for m, d in ((1, 2), (2, 3), (3, 4), (4, 5))]
    cases = []
    for n, (first, second) in enumerate(((0, 1), (2, 3))):
        case = register_household(world.app, world["vs"], VILLAGE, [
            MemberInput(f"户主{n}", ids[first], "head", "normal", "serious", "none", True, True, PHONES[n], ACCOUNTS[n]),
            MemberInput(f"配偶{n}", ids[second], "spouse", "lost", "disabled", "none", True, True, None, None),
        ], ["illness", "disability"])
        from engine.services.case_actions import attach_evidence
        attach_evidence(world.app, world["vs"], case, "application", {"applicant": f"户主{n}", "applied_on": "2019-01-10"})
        attach_evidence(world.app, world["vs"], case, "income_check", {"year": 2018, "net_income": 3000})
        cases.append(case)
    return cases, ids


def to_first_notice(world: World, cases: list[int]) -> int:
    world.on(date(2019, 3, 1))
    world.step("vs", "identification", "application", cases)
    world.step("vd", "identification", "appraisal", cases, attendance=40, votes_for=35, votes_against=2)
    world.step("tl", "identification", "village_verification", cases, decision="approve", verifiers=("tm",))
    return world.step("fs", "identification", "first_notice", cases)[0].notice_id


def test_a_village_list_is_one_notice_and_never_shows_private_details(world):
    cases, ids = private_households(world)
    notice = to_first_notice(world, cases)
    with world.app.engine.connect() as conn:
        posted = conn.execute(select(t.notices.c.rendered).where(t.notices.c.id == notice)).scalar_one()
        view = notice_view(world.app, conn, notice)
        members = conn.execute(select(t.household_members)).all()
    assert [c["id"] for c in view["cases"]] == cases
    pages = [posted, render(world.app, view, "en"), render(world.app, view, html=True),
             render(world.app, view, "en", html=True)]
    secrets = ids + PHONES + ACCOUNTS + [m.id_number[:6] + "********" + m.id_number[-4:] for m in members]
    for page in pages:
        assert "户主0" in page and "户主1" in page            # the list itself is there
        for secret in secrets + HEALTH_WORDS:
            assert secret not in page
        assert not re.search(r"\d{15,}", page)                  # nothing like an ID or account number
    assert "洋塘村" in posted and "2人" in posted
    # its last day, as a villager counts (an objection dated 03-08, the day after the 7 days, is out)
    assert "2019-03-01 — 2019-03-07（7天）" in posted and "2019-03-08" not in posted
    # The member records do keep the contact details, for the cadres.
    assert {m.phone for m in members} >= set(PHONES) and {m.bank_account for m in members} >= set(ACCOUNTS)


def test_a_bad_phone_number_is_refused_and_nothing_is_written(world):
    before = snapshot(world)
    with pytest.raises(BadInput) as bad:
        register_household(world.app, world["vs"], VILLAGE, [
            MemberInput("甲", id_number("36213119650101123"), phone="call me")], ["illness"])
    assert bad.value.code == "member.bad_phone"
    assert snapshot(world) == before


def test_an_objection_blocks_the_list_until_resolved(world):
    cases, _ = private_households(world)
    notice = to_first_notice(world, cases)
    world.on(date(2019, 3, 4))
    objection = file_objection(world.app, world["vs"], notice, cases[0], "村民王某", "该户有经营性收入未申报",
                               date(2019, 3, 4))
    world.on(date(2019, 3, 8))
    before = snapshot(world, tuple(cases))
    with pytest.raises(RuleViolation) as blocked:
        world.step("ts1", "identification", "township_review", cases, decision="approve")
    assert blocked.value.code == "notice.objection"
    assert snapshot(world, tuple(cases)) == before
    resolve_objection(world.app, world["ts2"], objection, False, "经核实，经营性收入已计入")
    world.step("ts1", "identification", "township_review", cases, decision="approve")


def test_a_short_notice_is_refused_and_one_that_ran_short_cannot_be_relied_on(world):
    cases, _ = private_households(world)
    world.on(date(2019, 3, 1))
    world.step("vs", "identification", "application", cases)
    world.step("vd", "identification", "appraisal", cases, attendance=40, votes_for=35, votes_against=2)
    world.step("tl", "identification", "village_verification", cases, decision="approve", verifiers=("tm",))
    with pytest.raises(RuleViolation) as short:
        world.step("fs", "identification", "first_notice", cases, days=5)
    assert short.value.code == "notice.short"
    notice = world.step("fs", "identification", "first_notice", cases)[0].notice_id
    # Someone with database access shortens the notice behind the engine's back.
    with world.app.engine.begin() as conn:
        conn.execute(update(t.notices).where(t.notices.c.id == notice).values(end_date=date(2019, 3, 4)))
    world.on(date(2019, 3, 8))
    with pytest.raises(RuleViolation) as ran_short:
        world.step("ts1", "identification", "township_review", cases, decision="approve")
    assert ran_short.value.code == "notice.ran_short"


def test_notice_render_command_writes_the_board_html(world, tmp_path):
    from tests.test_accountability import cli
    cases, ids = private_households(world)
    notice = to_first_notice(world, cases)
    text = cli(world, "insp", "notice", "render", notice)
    assert text.code == 0, text.err
    assert "户主0" in text.out and ids[0] not in text.out
    board = tmp_path / "board.html"
    assert cli(world, "fs", "notice", "render", notice, "--html", board).code == 0
    page = board.read_text(encoding="utf-8")
    assert "<table>" in page and "户主1" in page and PHONES[0] not in page
    english = cli(world, "insp", "notice", "render", notice, lang="en")
    assert "Public notice" in english.out
    assert cli(world, "vs2", "notice", "render", notice).code == 1            # another village's cadre
    assert notice_for_reader(world.app, world["insp"], notice)[1].startswith("洋塘村")


def test_a_notice_whose_rule_counts_working_days_ends_after_the_holiday(world):
    """The 2019 National Day week: a 7-working-day notice posted on Monday 30 September runs to
    Tuesday 15 October (1-7 October are holidays; Saturday 12 October is a make-up working day)."""
    import dataclasses
    from config import Policy
    config = world.app.config
    data = config.policy.data
    defaults = {**data.defaults, "notice_working_days": ["household_identification"]}
    world.app.config = dataclasses.replace(config, policy=Policy(data.model_copy(update={"defaults": defaults})))
    cases, _ = private_households(world)
    world.on(date(2019, 9, 30))
    world.step("vs", "identification", "application", cases)
    world.step("vd", "identification", "appraisal", cases, attendance=40, votes_for=35, votes_against=2)
    world.step("tl", "identification", "village_verification", cases, decision="approve", verifiers=("tm",))
    notice = world.step("fs", "identification", "first_notice", cases)[0].notice_id
    with world.app.engine.connect() as conn:
        row = conn.execute(select(t.notices).where(t.notices.c.id == notice)).one()
        view = notice_view(world.app, conn, notice)
    assert (row.start_date, row.end_date, row.working_days) == (date(2019, 9, 30), date(2019, 10, 15), True)
    assert view["days"] == 7                         # 10-08 … 10-12 (a make-up Saturday), 10-14, 10-15
    assert "2019-09-30 — 2019-10-14（7个工作日）" in render(world.app, view)
    assert "(7 working days)" in render(world.app, view, "en")
    with world.app.engine.connect() as conn:
        expiry = conn.execute(select(t.deadlines.c.start_on, t.deadlines.c.due_on)
                              .where(t.deadlines.c.rule == "notice_expiry")).all()
    # the next step is due 3 working days after the notice has run, not after 7 calendar days
    assert set(expiry) == {(date(2019, 10, 15), date(2019, 10, 18))}
    world.on(date(2019, 10, 14))
    with pytest.raises(RuleViolation) as running:
        world.step("ts1", "identification", "township_review", cases, decision="approve")
    assert running.value.code == "notice.running"
    world.on(date(2019, 10, 15))
    world.step("ts1", "identification", "township_review", cases, decision="approve")


def test_the_townships_resolvers_hear_of_an_objection_at_once(world):
    """An objection raised during a notice reaches the township's posts over the household over their
    channels, with what it says and the case's page; a group robot hears only that there is one; the
    cadre who recorded it and the county's posts are not told."""
    from notifications.contacts import set_channels
    set_channels(world.app, world["admin"], "ts1", [("file", "ts1-inbox", "zh")])
    set_channels(world.app, world["admin"], "th", [("wecom", "th-robot", "zh")])
    set_channels(world.app, world["admin"], "cd", [("file", "cd-inbox", "zh")])
    set_channels(world.app, world["admin"], "vs", [("file", "vs-inbox", "zh")])
    cases, ids = private_households(world)
    notice = to_first_notice(world, cases)
    world.on(date(2019, 3, 4))
    objection = file_objection(world.app, world["vs"], notice, cases[0], "村民王某", "该户有经营性收入未申报",
                               date(2019, 3, 4))
    with world.app.engine.connect() as conn:
        sent = {r.address: r for r in conn.execute(select(t.outbox).where(t.outbox.c.kind == "objection"))}
    assert set(sent) == {"ts1-inbox", "th-robot"}
    told = sent["ts1-inbox"]
    assert told.subject.startswith("公示异议") and f"案件 {cases[0]}" in told.subject
    assert "该户有经营性收入未申报" in told.body and f"/cases/{cases[0]}" in told.body and f"异议 {objection}" in told.body
    assert "该户有经营性收入未申报" not in sent["th-robot"].body and f"/cases/{cases[0]}" in sent["th-robot"].body
    assert not any(i in r.body for r in sent.values() for i in ids)         # no ID number


def test_a_cadre_hears_of_the_household_they_are_paired_with(world):
    """A pairing made: each cadre paired is told their new household, their slot, who paired them and
    since when, and the case's page (a cadre had learnt of it only by finding the household)."""
    from notifications.contacts import set_channels
    set_channels(world.app, world["admin"], "pc1", [("file", "pc1-inbox", "zh")])
    set_channels(world.app, world["admin"], "pc2", [("email", "pc2@example.cn", "en")])
    case = world.household()
    world.identify(case)
    world.assist(case, first="pc1", second="pc2")
    with world.app.engine.connect() as conn:
        sent = {r.address: r for r in conn.execute(select(t.outbox).where(t.outbox.c.kind == "pairing"))}
    assert set(sent) == {"pc1-inbox", "pc2@example.cn"}
    first, second = sent["pc1-inbox"], sent["pc2@example.cn"]
    assert first.subject.startswith("结对帮扶") and "第一帮扶责任人" in first.body and "2019-03-20" in first.body
    assert f"/cases/{case}" in first.body and "梅江镇洋塘村" in first.body
    assert second.subject.startswith("Pairing") and "second" in second.body.lower()


@pytest.mark.parametrize("html", [False, True])
def test_a_notice_counts_persons_and_days_in_the_reader_s_words(html):
    """English had said "1 persons" and "(1 days)"; the Chinese period was in ASCII brackets "(7天)"."""
    from types import SimpleNamespace
    from config import load_config
    app = SimpleNamespace(config=load_config())
    view = {"region": "洋塘村", "procedure": "exit", "step": "village_notice", "start": date(2020, 11, 20),
            "last": date(2020, 11, 26), "days": 7, "working_days": False,
            "cases": [{"no": 1, "name": "陈文", "village": "洋塘村", "size": 1},
                      {"no": 2, "name": "唐英军", "village": "洋塘村", "size": 3}]}
    zh, en = render(app, view, "zh", html), render(app, view, "en", html)
    assert "2020-11-26（7天）" in zh and "(7" not in zh
    assert "1 persons" not in en and "2020-11-26 (7 days)" in en and "（" not in en
    if not html:                    # the text names each household's persons (the board: a column of numbers)
        assert "1 person\n" in en and "3 persons" in en and "1人" in zh and "3人" in zh
    one = render(app, {**view, "days": 1, "working_days": True}, "en", html)
    assert "(1 working day)" in one
    assert "（1个工作日）" in render(app, {**view, "days": 1, "working_days": True}, "zh", html)
