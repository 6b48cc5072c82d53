"""A step that ends its procedure rejected tells, over their channels and in the step's transaction,
everyone who did an earlier step of that procedure and the household's pairing cadres: each once,
never the person who rejected it, in their language, with the reason and the case's page."""
from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import event, select

from engine.adapters import tables as t
from notifications.channels import NotifySettings
from notifications.contacts import set_channels
from notifications.dispatcher import dispatch
from tests.helpers.deadlines import cst
from tests.helpers.notifications import smtp, smtp_settings  # noqa: F401 (pytest fixtures)
from tests.test_inspection import up_to_county_approval
from tests.world import member_ids

REASON = "收入测算未计入务工收入，请补充证明后重新办理"


def rejections(world) -> list:
    with world.app.engine.connect() as conn:
        return conn.execute(select(t.outbox).where(t.outbox.c.kind == "rejection").order_by(t.outbox.c.id)).all()


def reach(world, *codes: str, lang: str = "zh") -> None:
    for code in codes:
        set_channels(world.app, world["admin"], code, [("file", f"{code}-inbox", lang)])


def ready_for_township_review(world, case: int | list[int]) -> None:
    """Identified, assisted and the exit's village steps done, each by someone else: the village
    secretary proposes, the team leader verifies with three township staff, the household's first
    pairing cadre (a resident team member for a list) takes its acknowledgement and the first
    secretary posts the notice. Pairings, one household per first cadre: pc1+pc2, pc2+pc3, pc3+pc1."""
    cases = case if isinstance(case, list) else [case]
    world.identify(cases)
    for c, (first, second) in zip(cases, (("pc1", "pc2"), ("pc2", "pc3"), ("pc3", "pc1"))):
        world.assist(c, first=first, second=second)
        world.exit_evidence(c)
    world.on(date(2019, 11, 20))
    world.step("vs", "exit", "proposal", cases, attendance=38, votes_for=33, votes_against=1)
    world.step("tl", "exit", "verification", cases, verifiers=("ts2", "ts3", "ts4"), decision="approve")
    world.step("pc1" if len(cases) == 1 else "tm", "exit", "acknowledgement", cases)
    world.step("fs", "exit", "village_notice", cases)
    world.on(date(2019, 11, 28))


def test_an_exit_rejected_at_township_review_tells_who_did_its_steps_and_the_pairing_cadres(world):
    reach(world, "vs", "vd", "tl", "ts2", "ts3", "ts4", "fs", "pc1", "ts1", "cd", "th")
    set_channels(world.app, world["admin"], "pc2", [("email", "pc2@example.cn", "en"), ("wecom", "pc2-robot", "zh")])
    case = world.household()
    ready_for_township_review(world, case)
    assert rejections(world) == []              # identification and assistance went through: nobody told
    world.step("ts1", "exit", "township_review", case, decision="reject", reason=REASON)
    sent = rejections(world)
    # The proposer, the verification's leader and its verifiers, the acknowledgement's pairing cadre
    # (paired too: told once), the notice's poster and the second pairing cadre; not the rejecter ts1,
    # nor vd and cd (who did steps of other procedures only), nor th (no step of it).
    assert sorted(r.address for r in sent) == sorted(["vs-inbox", "tl-inbox", "ts2-inbox", "ts3-inbox", "ts4-inbox",
                                                      "pc1-inbox", "fs-inbox", "pc2@example.cn", "pc2-robot"])
    assert len({r.dedupe_key for r in sent}) == len(sent)
    by = {r.address: r for r in sent}
    zh, en, robot = by["vs-inbox"], by["pc2@example.cn"], by["pc2-robot"]
    assert zh.lang == "zh" and zh.subject.startswith("未通过") and "脱贫退出" in zh.subject and f"案件 {case}" in zh.subject
    for said in (REASON, "乡镇审核", "脱贫退出", "township_staff-ts1", "乡镇干部", "2019-11-28", "梅江镇洋塘村",
                 f"/cases/{case}"):
        assert said in zh.body, said
    assert en.lang == "en" and en.subject.startswith("Rejected: the exit of")
    for said in (REASON, "township review", "township_staff-ts1", "Township staff", "2019-11-28", f"/cases/{case}"):
        assert said in en.body, said
    assert REASON not in robot.body and "理由见案件页面" in robot.body and f"/cases/{case}" in robot.body
    # what to do next, as an exit rejected asks: the household stays assisted, make good what fell short
    assert "您办理过此程序前面的步骤" in zh.body and "继续帮扶" in zh.body and "达标后再提出退出" in zh.body
    assert "stays assisted" in en.body and "propose the exit again" in en.body
    ids = member_ids(2, 1)                      # the household's members' ID numbers appear nowhere
    assert not any(i in r.body or i in r.subject for r in sent for i in ids)
    with world.app.engine.connect() as conn:
        status = conn.execute(select(t.procedures.c.status).where(t.procedures.c.case_id == case,
                                                                  t.procedures.c.kind == "exit")).scalar_one()
    assert status == "rejected"


def test_an_approved_procedure_tells_nobody_and_a_county_rejection_tells_the_identification_chain(world):
    reach(world, "vs", "vd", "tl", "tm", "fs", "ts1", "ts2", "cd", "cs", "ch", "pc1", "pc2")
    refused = up_to_county_approval(world)
    done = world.household()
    world.identify(done)                        # approved and completed: no rejection told
    assert rejections(world) == []
    world.step("cd", "identification", "county_approval", refused, decision="reject", reason="家庭有经营性收入未申报")
    sent = rejections(world)
    assert Counter(r.address for r in sent) == Counter(
        f"{c}-inbox" for c in ("vs", "vd", "tl", "tm", "fs", "ts1", "ts2"))     # the verifier tm too; not cd
    assert all(f"案件 {refused}" in r.subject and "家庭有经营性收入未申报" in r.body and "县级审批" in r.body
               and f"/cases/{refused}" in r.body for r in sent), sent[0].body
    assert all("未识别为贫困户" in r.body and "可重新申请" in r.body and "防返贫监测" in r.body for r in sent)
    world.assist(done)
    world.exit_evidence(done)
    world.exit(done)                            # every procedure completed: nothing more told
    assert rejections(world) == sent


def test_a_list_step_rejecting_several_cases_tells_each_person_once_per_case_in_one_read(world):
    reach(world, "vs", "tl", "ts2", "ts3", "ts4", "tm", "fs", "pc1", "pc2", "pc3", "ts1")
    cases = [world.household() for _ in range(3)]
    ready_for_township_review(world, cases)
    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)
    event.listen(world.app.engine, "before_cursor_execute", seen)
    try:
        world.step("ts1", "exit", "township_review", cases, decision="reject", reason=REASON)
    finally:
        event.remove(world.app.engine, "before_cursor_execute", seen)
    sent = rejections(world)
    everyone = ("vs", "tl", "ts2", "ts3", "ts4", "tm", "fs")
    assert Counter(r.address for r in sent) == Counter(
        {**{f"{c}-inbox": 3 for c in everyone}, "pc1-inbox": 2, "pc2-inbox": 2, "pc3-inbox": 2})
    for case, paired in zip(cases, (("pc1", "pc2"), ("pc2", "pc3"), ("pc3", "pc1"))):   # each its own message
        mine = [r for r in sent if f"/cases/{case}" in r.body]
        assert sorted(r.address for r in mine) == sorted(f"{c}-inbox" for c in everyone + paired)
        assert all(f"案件 {case}" in r.subject for r in mine)
    # one read of the cases' open pairings and one of everyone's channels, whatever the list's length
    assert sum(s.startswith("SELECT pairings.case_id, pairings.person_id") for s in statements) == 1, statements
    assert sum("FROM person_channels" in s for s in statements) == 1, statements


def test_a_rejection_is_delivered_to_the_mailbox_and_over_smtp(world, smtp):  # noqa: F811 (the fixture)
    home = Path(world.app.settings.home)
    case = world.household()
    ready_for_township_review(world, case)
    reach(world, "fs")           # reached from now on: only the rejection goes to them
    set_channels(world.app, world["admin"], "pc1", [("email", "pc1@example.cn", "en")])
    world.step("ts1", "exit", "township_review", case, decision="reject", reason=REASON)
    now = cst(2019, 11, 28, 10, 0)
    result = dispatch(world.app, smtp_settings(smtp.port, home), now=now)
    assert (result.delivered, result.failed) == (2, 0)
    [mail] = smtp.messages
    assert mail["To"] == "pc1@example.cn" and mail["Subject"].startswith("Rejected: the exit of")
    assert REASON in mail.get_content() and f"/cases/{case}" in mail.get_content()
    [letter] = list((home / "mailbox" / "fs-inbox").iterdir())
    text = letter.read_text(encoding="utf-8")
    assert "未通过" in text and REASON in text and "township_staff-ts1（乡镇干部）" in text
    assert {r.status for r in rejections(world)} == {"delivered"}
    again = dispatch(world.app, NotifySettings(mailbox=home / "mailbox"), now=now + timedelta(hours=1))
    assert again.delivered == 0


def test_an_objection_upheld_tells_who_did_the_procedures_steps(world):
    """An objection upheld during a notice ends its procedure rejected, as a rejecting step does: those
    who did its steps hear of it with the objection's finding (it was not a step, and nobody was told)."""
    from engine.services.case_actions import file_objection, resolve_objection
    from tests.test_notices import to_first_notice
    reach(world, "vs", "vd", "tl", "tm", "fs", "ts2", "vd")
    case = world.household()
    notice = to_first_notice(world, [case])
    world.on(date(2019, 3, 4))
    objection = file_objection(world.app, world["vs"], notice, case, "村民王某", "该户有经营性收入未申报",
                               date(2019, 3, 4))
    resolve_objection(world.app, world["ts2"], objection, True, "经核实，确有经营性收入未申报")
    sent = rejections(world)
    assert sorted(r.address for r in sent) == sorted(["vs-inbox", "vd-inbox", "tl-inbox", "tm-inbox", "fs-inbox"])
    body = sent[0].body
    assert "经核实，确有经营性收入未申报" in body and f"/cases/{case}" in body and "村内第一次公示" in body, body


def test_an_id_number_in_a_rejections_reason_is_masked_in_its_message(world):
    """The reason is a person's words: an ID number typed into it is masked, as pages mask it."""
    reach(world, "vs")
    case = world.household()
    ready_for_township_review(world, case)
    world.step("ts1", "exit", "township_review", case, decision="reject", reason="户主身份证号362131196001010012有误")
    body = next(r.body for r in rejections(world) if r.address == "vs-inbox")
    assert "362131196001010012" not in body and "362131********0012" in body and "有误" in body
