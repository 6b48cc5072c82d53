"""A case the township rejected is handed back to the village: the village reads why where it works
(its list of work and the top of the case's next step), and the township's head, whose office
rejected it, finds it on their own list until somebody takes it up again. Against the list tests'
own demo county (tests/web/bulk_world.py)."""
from __future__ import annotations

import re
from sqlalchemy import select

from engine.adapters import tables as t
from engine.domain.cases import StepInput
from engine.services.case_actions import resolve_objection
from engine.services.procedures import perform_step
from tests.web.bulk_world import actor, core, demo_home, township_list, web  # noqa: F401

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


def test_an_objection_the_township_upheld_is_on_the_townships_list_with_its_ruling(signed_in, core):
    case, objection = _upheld_by(core, "t1_staff1", "经乡镇入户核实，该户在县城有商品房")
    returned = _returned(signed_in("supervisor").get("/work").text)
    assert f'data-case="{case}"' in returned, "handed back by the township's ruling: the township chases it"
    item = _text(re.search(rf'<li data-case="{case}">(.*?)</li>', returned, re.S).group(1))
    assert f"异议 #{objection} 成立：经乡镇入户核实，该户在县城有商品房" in item, item
    assert "梅江镇干部1（乡镇干部）" in item and "「村内第一次公示」" in item and "贫困识别 · 农户申请" in item, item
    assert f'data-case="{case}"' not in _returned(signed_in("county").get("/work").text), "not the county's doing"
    # the village reads the same on its own list: who ruled, in which post
    assert "梅江镇干部1（乡镇干部）" in _item(signed_in("cadre").get("/work").text, case)


def test_an_objection_the_county_office_upheld_is_on_the_countys_list_not_the_townships(signed_in, core, demo_home):
    case, objection = _upheld_by(core, demo_home[1]["county"][0], "县扶贫办复核：该户有财政供养人员")
    county = _returned(signed_in("county").get("/work").text)
    assert f'data-case="{case}"' in county
    assert f"异议 #{objection} 成立：县扶贫办复核：该户有财政供养人员" in _text(county)
    assert f'data-case="{case}"' not in _returned(signed_in("supervisor").get("/work").text)
