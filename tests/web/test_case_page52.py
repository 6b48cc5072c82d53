"""The case page after a user audit (a7 #2 and #10, a8 #6): a household's causes of poverty shown to every
reader and corrected by a registrar with a reason (page, API, CLI, trace); an action done on the page answers
with the page as the action left it (the pairing made, the number confirmed), and a second sending records
nothing; the case's deadlines, how late, how high they went and who pressed them, with the 督办 button for a
supervisor, the press seen by the village on the case page and in its work."""
from __future__ import annotations

import html
import re

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from engine.adapters import tables as t
from engine.services.accounts import open_session
from tests.web.bulk_world import VILLAGE, actor, core, demo_home, web  # noqa: F401
from tests.web.test_cli_client import tokens
from tests.world import id_number
from workflows.household import HouseholdInput, MemberInput, register_households

HX = {"HX-Request": "true"}


def words(page: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def part(page: str, ident: str) -> str:
    found = re.search(rf'<(section|div|dd|p)[^>]*id="{ident}"[^>]*>(.*?)</\1>', page, re.S)
    return words(found.group(2)) if found else ""


def household(core, body17: str, name: str, causes=("illness", "lack_skills")) -> int:  # noqa: F811
    return register_households(core, actor(core, "v01_secretary"), VILLAGE,
                               [HouseholdInput([MemberInput(name, id_number(body17), "head")], list(causes))])[0]


def as_person(web, core, code: str) -> TestClient:  # noqa: F811
    secret, csrf = open_session(core, actor(core, code))
    client = TestClient(web, follow_redirects=False)
    client.cookies.set("jz_session", secret)
    client.csrf = csrf
    return client


def events(core, case: int, action: str) -> list:  # noqa: F811
    with core.engine.connect() as conn:
        return conn.execute(select(t.audit_events.c.person_code, t.audit_events.c.reason, t.audit_events.c.detail)
                            .where(t.audit_events.c.case_id == case, t.audit_events.c.action == action)
                            .order_by(t.audit_events.c.seq)).all()


# --- a7 #2: the causes of poverty ---------------------------------------------------------------------------

def test_the_causes_are_shown_to_every_reader_and_corrected_by_a_registrar_with_a_reason(web, core):  # noqa: F811
    case = household(core, "36213119580303771", "因病户主")
    inspector = as_person(web, core, "inspector")
    page = inspector.get(f"/cases/{case}").text
    assert part(page, "causes-words") == "因病、缺技术" and part(page, "household-type-words") == "一般贫困户"
    assert 'id="causes-form"' not in page                    # read-only: shown, never a form
    cadre = as_person(web, core, "v01_secretary")
    page = cadre.get(f"/cases/{case}").text
    assert 'id="causes-form"' in page and 'name="cause" value="illness" checked' in page
    form = {"csrf": cadre.csrf, "cause": ["illness", "lack_capital"], "household_type": "dibao_poor",
            "reason": "入户核实：缺资金发展产业"}
    done = cadre.post(f"/cases/{case}/causes", data=form, headers=HX)
    assert done.status_code == 200, done.text
    assert part(done.text, "causes-words") == "因病、缺资金" and part(done.text, "household-type-words") == "低保贫困户"
    assert "已更正 致贫原因 因病、缺技术 → 因病、缺资金；贫困户属性 一般贫困户 → 低保贫困户" in part(done.text, "done")
    again = cadre.post(f"/cases/{case}/causes", data=form, headers=HX)          # nothing to change: said so
    assert again.status_code == 409 and "没有改动" in words(again.text)
    unreasoned = cadre.post(f"/cases/{case}/causes", data={**form, "cause": "disability", "reason": " "}, headers=HX)
    assert unreasoned.status_code == 400 and "依据" in words(unreasoned.text)
    head = as_person(web, core, "t1_head")                  # a township head registers no household: refused in words
    refused = head.post(f"/cases/{case}/causes", data={**form, "csrf": head.csrf, "cause": "disability"}, headers=HX)
    assert refused.status_code == 403 and "更正致贫原因或贫困户属性" in words(refused.text), refused.text
    read_only = inspector.post(f"/cases/{case}/causes", data={**form, "csrf": inspector.csrf}, headers=HX)
    assert read_only.status_code == 403 and "只读" in words(read_only.text)
    recorded = events(core, case, "causes_corrected")
    assert [(e.person_code, e.reason, e.detail["before_causes"], e.detail["causes"], e.detail["before_type"],
             e.detail["household_type"]) for e in recorded] == [
        ("v01_secretary", "入户核实：缺资金发展产业", ["illness", "lack_skills"], ["illness", "lack_capital"],
         "general", "dibao_poor")]
    trace = words(inspector.get(f"/inspect/trace/case/{case}").text)
    assert "更正致贫原因" in trace and "致贫原因：因病、缺技术 → 因病、缺资金" in trace, trace[-3000:]


def test_the_api_and_the_cli_show_and_correct_the_causes(web, core, demo_home, monkeypatch, capsys):  # noqa: F811
    case = household(core, "36213119580303772", "缺水户主", causes=("lack_water",))
    settings, _ = demo_home
    known = tokens(settings)
    api = TestClient(web, headers={"X-Jingzhun-Person": "v01_secretary", "Authorization": f"Bearer {known['v01_secretary']}",
                                   "Accept-Language": "en"})
    shown = api.get(f"/api/v1/cases/{case}").json()["poverty"]
    assert shown == {"causes": ["lack_water"], "causes_words": ["lack of water"], "household_type": "general",
                     "household_type_words": "general poor household"}, shown
    done = api.post(f"/api/v1/cases/{case}/causes", json={"causes": ["缺水", "因灾"], "reason": "洪水冲毁农田"})
    assert done.status_code == 200, done.text
    assert {k: done.json()[k] for k in ("causes", "before_causes", "household_type")} == {
        "causes": ["lack_water", "disaster"], "before_causes": ["lack_water"], "household_type": "general"}
    assert api.post(f"/api/v1/cases/{case}/causes", json={"causes": ["disaster"]}).status_code == 422   # no reason
    from entrypoints.cli.main import main

    def run(code: str, *argv: str) -> tuple[int, str]:
        for name, value in (("JINGZHUN_HOME", str(settings.home)), ("JINGZHUN_AS", code), ("JINGZHUN_TOKEN", known[code])):
            monkeypatch.setenv(name, value)
        status = main(list(argv))
        said = capsys.readouterr()
        return status, said.out + said.err
    status, shown = run("v01_secretary", "case", "show", str(case))
    assert status == 0 and "致贫原因：缺水、因灾；贫困户属性：一般贫困户" in shown, shown
    status, fixed = run("v01_secretary", "household", "causes", str(case), "--type", "五保户", "--reason", "核实为五保")
    assert status == 0 and f"案件 {case}：已更正 贫困户属性 一般贫困户 → 五保户" in fixed, fixed
    status, refused = run("inspector", "household", "causes", str(case), "--cause", "因病", "--reason", "x")
    assert status != 0 and "更正致贫原因或贫困户属性" in refused and "Traceback" not in refused, refused


# --- a7 #10: the page after an action -------------------------------------------------------------------------

def _assisted(core) -> int:  # noqa: F811
    """A household of the first township in assistance with nothing open (the last: the plan page's tests
    take the first of theirs)."""
    with core.engine.connect() as conn:
        return conn.execute(select(t.cases.c.id).where(
            t.cases.c.kind == "household", t.cases.c.region_code.like("360730100%"), t.cases.c.stage == "assisted",
            t.cases.c.open_procedure_id.is_(None)).order_by(t.cases.c.id.desc())).scalars().first()


def test_a_pairing_answers_with_the_page_as_it_left_the_case_and_a_second_sending_records_nothing(web, core):  # noqa: F811
    case = _assisted(core)
    clerk = as_person(web, core, "t1_staff1")
    page = clerk.get(f"/cases/{case}?procedure=pairing_change").text
    assert 'name="first_cadre"' in page, (case, words(page.partition("<main>")[2])[:1500])
    assert "致贫原因：" in part(page, "plan-causes")        # what the pairing and the plan answer, at their form
    free = [p for p in re.findall(r'<select name="first_cadre"[^>]*>(.*?)</select>', page, re.S)[0].split("<option")
            if 'value="' in p and "disabled" not in p and 'value=""' not in p]
    cadre = re.search(r'value="([^"]+)"', free[-1]).group(1)
    name = re.search(r">([^<·]+?)(?: ·|<|（|\()", free[-1]).group(1).strip()
    version = re.search(r'name="version" value="(\d+)" id="step-version"', page).group(1)     # as the page sends it
    form = {"csrf": clerk.csrf, "procedure": "pairing_change", "step": "pairing", "first_cadre": cadre, "version": version}
    done = clerk.post(f"/cases/{case}/step", data=form, headers=HX)
    assert done.status_code == 200, words(done.text)[:2000]
    # the page as the pairing left it: swapped in for the page's main part, saying what was done at its top
    assert done.headers["HX-Retarget"] == "main" and done.headers["HX-Reselect"] == "main"
    assert done.headers["HX-Replace-Url"] == f"/cases/{case}"      # no longer ?procedure=, refused once started
    assert re.search(r'id="done"[^>]*data-outcome="done"', done.text) and "已办理" in part(done.text, "done")
    assert name in part(done.text, "assistance") and 'name="first_cadre"' not in done.text
    again = clerk.post(f"/cases/{case}/step", data=form, headers=HX)          # the old form sent again
    # said as what it is: the reader's own step, done already (it was "changed by somebody else")
    assert again.status_code == 409 and "您已于" in words(again.text) and "未重复办理" in words(again.text) \
        and "他人" not in words(again.text), words(again.text)
    with core.engine.connect() as conn:
        steps = conn.execute(select(func.count()).select_from(t.steps).join(
            t.procedures, t.procedures.c.id == t.steps.c.procedure_id).where(
            t.procedures.c.case_id == case, t.procedures.c.kind == "pairing_change")).scalar()
    assert steps == 1


def test_a_number_confirmed_is_no_longer_marked_on_the_page_that_answers(web, core):  # noqa: F811
    case = household(core, "36073019700303774", "待核户主")          # 360730 in 1970: a code not set up then
    cadre = as_person(web, core, "v01_secretary")
    page = cadre.get(f"/cases/{case}").text
    assert "身份证号待核实" in page
    member = re.search(rf'hx-post="/cases/{case}/members/(\d+)/id-confirm"', page).group(1)
    done = cadre.post(f"/cases/{case}/members/{member}/id-confirm", data={"csrf": cadre.csrf}, headers=HX)
    assert done.status_code == 200 and "待核户主 的身份证号核实无误" in part(done.text, "done")
    assert "身份证号待核实" not in done.text and 'id="ids-to-confirm"' not in done.text


# --- a8 #6: deadlines, escalation and 督办 on the case page --------------------------------------------------

def _escalated(core) -> tuple[int, int, str]:  # noqa: F811
    """(case, deadline, owner code) of an open deadline of the village, overdue, escalated, owned."""
    d = t.deadlines.c
    with core.engine.connect() as conn:
        row = conn.execute(select(d.case_id, d.id, t.persons.c.code).join(t.persons, t.persons.c.id == d.owner_id)
                           .join(t.alerts, t.alerts.c.deadline_id == d.id)
                           .where(d.status == "open", d.region_code == VILLAGE, t.alerts.c.level >= 1,
                                  d.due_at < core.clock.now()).order_by(d.id.desc())).first()
    assert row is not None
    return row


def test_the_case_page_shows_its_deadlines_and_a_supervisor_presses_there(web, core):  # noqa: F811
    case, deadline, owner = _escalated(core)
    village = as_person(web, core, owner)
    page = village.get(f"/cases/{case}").text
    said = part(page, "deadlines")
    assert "到期" in said and "起逾期" in said and re.search(r"逾期提醒： 第 [1-9] 级", said), said
    assert f'/deadlines/{deadline}/press"' not in page                # the village does not press
    head = as_person(web, core, "t1_head")
    page = head.get(f"/cases/{case}").text
    assert f'hx-post="/cases/{case}/deadlines/{deadline}/press"' in page
    done = head.post(f"/cases/{case}/deadlines/{deadline}/press", data={"csrf": head.csrf, "note": "请本周内办结"},
                     headers=HX)
    assert done.status_code == 200 and "已督办" in part(done.text, "done")
    said = part(done.text, "deadlines")
    assert "已督办 1 次" in said and "请本周内办结" in said and "您今天已督办此项" in said
    assert f'/deadlines/{deadline}/press"' not in done.text.partition("<main>")[2]    # once a day: no button to be refused by
    assert "请本周内办结" in part(village.get(f"/cases/{case}").text, "deadlines")     # the village sees it
    work = village.get("/work").text
    row = re.search(rf'<li class="card" data-case="{case}">.*?</li>', work, re.S)
    assert row and "已被督办 1 次" in words(row.group(0)) and "请本周内办结" in words(row.group(0))
    assert village.post(f"/cases/{case}/deadlines/{deadline}/press", data={"csrf": village.csrf},
                        headers=HX).status_code == 403
    inspector = as_person(web, core, "inspector")
    assert "请本周内办结" in part(inspector.get(f"/cases/{case}").text, "deadlines")
    assert inspector.post(f"/cases/{case}/deadlines/{deadline}/press", data={"csrf": inspector.csrf},
                          headers=HX).status_code == 403
    other = case + 1 if case > 1 else case + 2                     # a deadline pressed from another case's page
    assert head.post(f"/cases/{other}/deadlines/{deadline}/press", data={"csrf": head.csrf},
                     headers=HX).status_code == 404
