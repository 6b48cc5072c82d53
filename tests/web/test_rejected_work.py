"""A case the township rejected is handed back to the village: the village reads why where it works
(its list of work and the top of the case's next step), and the township's head, whose office
rejected it, finds it on their own list until somebody takes it up again. Against the list tests'
own demo county (tests/web/bulk_world.py)."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select
from stdnum.cn import ric

from engine.adapters import tables as t
from engine.domain.cases import StepInput
from engine.services.case_actions import EvidenceItem, attach_evidence_many, resolve_objection
from engine.services.procedures import perform_step
from tests.web.bulk_world import VILLAGE, actor, core, demo_home, township_list, web  # noqa: F401
from tests.world import scan_file
from workflows.household import HouseholdInput, MemberInput, register_households

REASON = "收入核查表缺少户主签字，请补签后重新申报"


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def _item(html: str, case: int) -> str:
    """The words of a case's item on my work (its <li>), '' when it is not listed."""
    found = re.search(rf'<li class="card" data-case="{case}">(.*?)</li>', html, re.S)
    return _text(found.group(1)) if found else ""


def _returned(html: str) -> str:
    found = re.search(r'<section id="returned">(.*?)</section>', html, re.S)
    return found.group(1) if found else ""


def _rejected_by_township(core) -> tuple[int, int]:
    """Two households of the village at the identification's township review: the first rejected there
    by a township cadre with a reason, the second waiting still."""
    rejected, waiting = township_list(core, 2, not_ready=False).ready
    perform_step(core, actor(core, "t1_staff1"), "identification", "township_review", [rejected],
                 StepInput(decision="reject", reason=REASON))
    return rejected, waiting


def test_the_village_reads_on_its_work_and_the_case_page_who_rejected_it_when_and_why(signed_in, core):
    rejected, _ = _rejected_by_township(core)
    client = signed_in("cadre")
    work = client.get("/work").text
    said = _item(work, rejected)
    assert said, "the case handed back waits for the village's application again"
    assert "未通过" in said and "梅江镇干部1（乡镇干部）" in said and "「乡镇审核」" in said and REASON in said, said
    assert str(core.clock.today()) in said
    assert f'href="/cases/{rejected}#rejected"' in work

    page = client.get(f"/cases/{rejected}").text
    box = re.search(r'<div class="refusal" id="rejected">(.*?)</div>', page, re.S)
    assert box, "the rejection is said in the next step's box"
    words = _text(box.group(1))
    assert "上一次贫困识别未通过" in words and f"理由：{REASON}" in words and "梅江镇干部1（乡镇干部）" in words
    assert "补正后可重新申请" in words              # what to do next, as the cadres' notice says
    next_box = page.index('<section class="card" id="next">')
    # applied again, on a new signed form: the rejected procedure's stays its record (audit a7 #1)
    assert next_box < page.index('id="rejected"') < page.index("这次办理须有它自己的一份贫困户申请书")
    _new_application(core, rejected)
    page = client.get(f"/cases/{rejected}").text
    next_box = page.index('<section class="card" id="next">')
    assert next_box < page.index('id="rejected"') < page.index('id="step-form"'), "at the top of the next step"


def _new_application(core, case: int) -> None:
    """The household's new signed application, for its identification done again."""
    from engine.services.case_actions import attach_evidence
    attach_evidence(core, actor(core, "v01_secretary"), case, "application",
                    {"applicant": "户主", "applied_on": core.clock.today().isoformat()})


def test_the_township_head_finds_the_cases_the_township_rejected_until_the_village_takes_them_up(signed_in, core):
    rejected, waiting = _rejected_by_township(core)
    head = signed_in("supervisor")
    returned = _returned(head.get("/work").text)
    assert f'data-case="{rejected}"' in returned and f'data-case="{waiting}"' not in returned
    words = _text(returned)
    assert REASON in words and "梅江镇干部1（乡镇干部）" in words and "贫困识别 · 农户申请" in words, words

    # the village applies again: the case is on its way, no longer one the township must chase
    _new_application(core, rejected)
    perform_step(core, actor(core, "v01_secretary"), "identification", "application", [rejected],
                 StepInput(date=core.clock.today()))
    assert f'data-case="{rejected}"' not in _returned(head.get("/work").text)
    # its page still says why the last one was rejected, to whoever reads the new one
    assert REASON in _text(head.get(f"/cases/{rejected}").text)


def _upheld_by(core, resolver: str, ruling: str) -> tuple[int, int]:
    """A household of the village whose first notice drew an objection that `resolver` upheld: (case,
    objection); its identification ended rejected, back to the village's application."""
    case = township_list(core, 3).objected
    with core.engine.connect() as conn:
        objection = conn.execute(select(t.objections.c.id).where(t.objections.c.case_id == case)).scalar()
    resolve_objection(core, actor(core, resolver), objection, True, ruling)
    return case, objection


def _work_has(client, case: int) -> bool:
    return f'data-case="{case}"' in client.get("/work").text


def test_an_applicant_an_upheld_objection_turned_down_is_not_included_and_on_nobodys_work(signed_in, core):
    """Turned down on the facts (a house in the county town): not included, an outcome of the
    identification, not work to redo. It leaves the village's and the township's /work, the case list
    and its page say 未通过识别, and its page still offers a new application (a later round)."""
    case, objection = _upheld_by(core, "t1_staff1", "经乡镇入户核实，该户在县城有商品房")
    assert not _work_has(signed_in("cadre"), case), "not the village's work: nothing to put right"
    head = signed_in("supervisor").get("/work").text
    assert f'data-case="{case}"' not in _returned(head), "not work the township must chase"
    assert f'data-case="{case}"' not in _returned(signed_in("county").get("/work").text)
    page = signed_in("cadre").get(f"/cases/{case}").text
    assert re.search(r'id="stage">未通过识别<', page), "its standing on its page"
    words = _text(re.search(r'<div class="refusal" id="rejected">(.*?)</div>', page, re.S).group(1))
    assert f"异议 #{objection} 成立：经乡镇入户核实，该户在县城有商品房" in words and "梅江镇干部1（乡镇干部）" in words
    assert "重新申请" in words, "how it may apply again"
    # a new application, from its page: with a form of its own, signed for this round (the earlier is that one's)
    assert "农户申请" in page and "须有它自己的一份贫困户申请书" in page, "a new application may be made from its page"


def test_an_applicant_voted_down_leaves_the_villages_work_and_may_apply_again(signed_in, core):
    """A failed vote is an outcome too: the household waits for nothing; a new application (a later
    round) puts it back on its way."""
    v = lambda role: actor(core, f"v01_{role}")   # noqa: E731
    case = township_list(core, 1, not_ready=False).ready[0]
    start = core.clock.today() - timedelta(days=20)
    fresh, = register_households(core, v("secretary"), VILLAGE, [HouseholdInput(
        [MemberInput("投票户", ric_id(case)), MemberInput("投票户之妻", ric_id(case + 1), "spouse")], ["illness"])])
    attach_evidence_many(core, v("secretary"), [
        EvidenceItem(fresh, "application", {"applicant": "户主", "applied_on": start.isoformat()}),
        EvidenceItem(fresh, "income_check", {"year": 2019, "net_income": 3000})])
    perform_step(core, v("secretary"), "identification", "application", [fresh], StepInput(date=start))
    perform_step(core, v("director"), "identification", "appraisal", [fresh], StepInput(
        date=start + timedelta(days=1), attendance=40, votes_for=3, votes_against=35,
        minutes=scan_file(core.settings.home / "minutes-voted-down.pdf", "会议记录")))
    assert not _work_has(signed_in("cadre"), fresh)
    assert re.search(r'id="stage">未通过识别<', signed_in("cadre").get(f"/cases/{fresh}").text)
    attach_evidence_many(core, v("secretary"), [      # a new round's own signed application
        EvidenceItem(fresh, "application", {"applicant": "户主", "applied_on": core.clock.today().isoformat()})])
    perform_step(core, v("secretary"), "identification", "application", [fresh], StepInput(date=core.clock.today()))
    with core.engine.connect() as conn:      # on its way again: the village's appraisal is its next work
        assert conn.execute(select(t.cases.c.pending_procedure, t.cases.c.pending_step)
                            .where(t.cases.c.id == fresh)).one() == ("identification", "appraisal")


def ric_id(serial: int) -> str:
    body = f"36213119600{(serial % 9) + 1}{(serial % 28) + 1:02d}{(serial * 7) % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def test_migration_0035_takes_the_applicants_turned_down_before_off_the_lists(core):
    """A home where those turned down still waited for a new application: the upgrade sets them waiting
    for nothing; one the township's review sent back waits for the village still."""
    import migrations
    from tests.helpers.schema import downgrade
    upheld, _ = _upheld_by(core, "t1_staff1", "经核实该户有小轿车")
    returned, _ = _rejected_by_township(core)
    cases = t.cases.c
    downgrade(core.engine, "0033", then=lambda conn: conn.execute(       # as the engine before wrote them
        t.cases.update().where(cases.id.in_([upheld, returned])).values(
            pending_procedure="identification", pending_step="application")))
    migrations.upgrade(core.engine)
    with core.engine.connect() as conn:
        pending = {r.id: (r.pending_procedure, r.pending_step) for r in conn.execute(
            select(cases.id, cases.pending_procedure, cases.pending_step).where(cases.id.in_([upheld, returned])))}
    assert pending == {upheld: (None, None), returned: ("identification", "application")}
