"""A village's list in one action: a step signed for many households with a result per household
(done, or refused with the reason), the posted case ids checked against the village, and an
evidence sheet saved all or none. Against the list tests' own demo county (tests/web/bulk_world.py)."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from engine.adapters import tables as t
from engine.domain.errors import JingzhunError
from tests.world import scan_file
from tests.web.bulk_world import (OTHER_TOWNSHIP_VILLAGE, VILLAGE, core, demo_home, township_list,  # noqa: F401
                                  web)

LIST = "/villages/{}/list?kind=household&procedure=identification&step=township_review"


def _steps_signed(core, case_ids, step):
    with core.engine.connect() as conn:
        return set(conn.execute(select(t.procedures.c.case_id).join(
            t.steps, t.steps.c.procedure_id == t.procedures.c.id).where(
            t.procedures.c.case_id.in_(case_ids), t.steps.c.step_key == step,
            t.steps.c.voided_at.is_(None))).scalars())


def _post_list(client, village, case_ids, **fields):
    data = {"csrf": client.csrf, "kind": "household", "procedure": "identification", "step": "township_review",
            "case": [str(c) for c in case_ids], "decision": "approve", **fields}
    return client.post(f"/villages/{village}/list", data=data)


def _refusal_of(text: str, case: int) -> str:
    """The words of the refused group of a list's result that names the household (each reason once)."""
    return next(body for body in re.findall(r'<section class="list-group refused".*?</section>', text, re.S)
                if f'data-case="{case}" data-result="refused"' in body)


def test_the_village_chooser_counts_what_waits_at_each_step(signed_in, core):
    prepared = township_list(core, 3, not_ready=False)
    client = signed_in("township")
    assert 'href="/villages"' in client.get("/work").text
    assert f'/villages/{VILLAGE}/list' in client.get("/villages").text
    chooser = client.get(f"/villages/{VILLAGE}/list")
    assert chooser.status_code == 200
    row = re.search(r'data-procedure="identification" data-step="township_review">(.*?)</tr>', chooser.text, re.S)
    assert row and int(re.search(r'class="num">(\d+)<', row.group(1)).group(1)) >= len(prepared.ready)
    assert "您可办理" in row.group(1)


def test_a_list_step_signs_the_ready_households_and_refuses_the_others_with_reasons(signed_in, core):
    prepared = township_list(core, 5)
    everyone = [*prepared.ready, prepared.objected, prepared.running]
    client = signed_in("township")
    page = client.get(LIST.format(VILLAGE))
    assert page.status_code == 200 and 'data-select-all' in page.text
    assert all(f'name="case" value="{c}"' in page.text for c in everyone)
    answer = _post_list(client, VILLAGE, everyone, date=core.clock.today().isoformat())
    assert answer.status_code == 200, answer.text
    assert 'data-done="3" data-refused="2"' in answer.text
    assert "3 户已办理，2 户被拒绝" in answer.text
    results = dict(re.findall(r'<li data-case="(\d+)" data-result="(\w+)"', answer.text))
    assert results == {**{str(c): "done" for c in prepared.ready}, str(prepared.objected): "refused",
                       str(prepared.running): "refused"}
    refused_rows = {c: _refusal_of(answer.text, c) for c in (prepared.objected, prepared.running)}
    assert "未处理的异议" in refused_rows[prepared.objected]
    assert "公示期未满" in refused_rows[prepared.running]
    assert _steps_signed(core, everyone, "township_review") == set(prepared.ready)


def test_one_case_from_another_village_refuses_the_whole_post(signed_in, core):
    prepared = township_list(core, 2, not_ready=False)
    with core.engine.connect() as conn:
        neighbour = conn.execute(select(t.cases.c.id).where(t.cases.c.region_code == "360730100202")).scalar()
        far = conn.execute(select(t.cases.c.id).where(t.cases.c.region_code == OTHER_TOWNSHIP_VILLAGE)).scalar()
    client = signed_in("township")
    for intruder in (neighbour, far, 99999999):
        answer = _post_list(client, VILLAGE, [*prepared.ready, intruder])
        assert answer.status_code == 400 and f"案件 {intruder} 不在本村名单中" in answer.text
    assert _steps_signed(core, prepared.ready, "township_review") == set()
    assert _post_list(client, OTHER_TOWNSHIP_VILLAGE, [far]).status_code == 404
    assert _post_list(client, VILLAGE, []).status_code == 400


def test_an_inspector_reads_a_village_list_without_its_form(web, demo_home, core):
    from fastapi.testclient import TestClient
    from tests.web.conftest import pre_token
    prepared = township_list(core, 1, not_ready=False)
    code, password = demo_home[1]["inspector"]
    client = TestClient(web)
    client.post("/signin", data={"person": code, "password": password, "pre": pre_token(client)})
    page = client.get(LIST.format(VILLAGE))
    assert page.status_code == 200 and f'<li data-case="{prepared.ready[0]}">' in page.text
    assert 'id="bulk-form"' not in page.text
    hint = re.sub(r"<[^>]+>", "", re.search(r'id="list-hint">(.*?)</p>', page.text, re.S).group(1))
    assert "只读：您不能办理此步骤" in hint and "勾选" not in hint       # no ticking, no form to fill
    assert "您没有办理此步骤的角色" not in page.text


def test_the_reject_choice_says_what_a_rejection_does_in_this_procedure(signed_in, core):
    """不同意 on a step said nothing of its effect: beside it, from the procedure's definition, what the
    engine does (identification: the procedure ends, to be started again at its first step; a problem's
    verification: back to its stage to be rectified again)."""
    from entrypoints.web import forms
    from entrypoints.web.render import env, texts
    prepared = township_list(core, 1, not_ready=False)
    township = signed_in("township")
    identification = core.config.workflows["household"].procedures["identification"]
    first = core.config.label(f"step.{identification.steps[0].key}", "zh")
    said = f"不同意：本次程序到此结束、不生效，阶段不变；如需办理，须从「{first}」重新开始"
    for path in (LIST.format(VILLAGE), f"/cases/{prepared.ready[0]}"):
        page = township.get(path).text
        assert 'value="reject"' in page and said in page, path
    township.cookies.set("lang", "en")
    assert "Reject: this procedure ends here without effect" in township.get(LIST.format(VILLAGE)).text
    verification = core.config.workflows["problem"].procedures["verification"]
    decision = next(f for f in forms.describe("verification", procedure=verification) if f["name"] == "decision")
    drawn = env.get_template("_field.html").render(f=decision, **texts(core.config, "zh"))
    assert f"不同意：退回「{core.config.label('stage.assigned', 'zh')}」阶段，重新办理" in drawn


def test_a_lists_notice_step_starts_at_the_days_the_policy_asks(signed_in, core):
    """公示天数 on a village list's notice started empty with no word of the minimum (3 days refused every
    household): it starts at the configured minimum, which its hint names."""
    from engine.domain.regions import province_of
    prepared = township_list(core, 1, not_ready=False)
    township = signed_in("township")
    assert _post_list(township, VILLAGE, prepared.ready).status_code == 200
    least = core.config.policy.params(province_of(VILLAGE), core.clock.today().year)["notice_days"][
        "household_identification"]
    page = township.get(LIST.format(VILLAGE).replace("township_review", "second_notice")).text
    assert f'data-case="{prepared.ready[0]}"' in page
    assert re.search(rf'<input type="number"[^>]* name="days" value="{least}">', page)
    assert f"至少 {least} 天：本地政策规定的最短公示期" in page


def test_a_notice_the_policy_counts_in_working_days_says_working_days_on_its_form(signed_in, core, monkeypatch):
    """A province listing the notice under notice_working_days counts its days as working days: the
    form's hint says 个工作日, not 天 (it said 天 whatever the policy)."""
    from engine.domain.regions import province_of
    prepared = township_list(core, 1, not_ready=False)
    township = signed_in("township")
    assert _post_list(township, VILLAGE, prepared.ready).status_code == 200
    policy = type(core.config.policy)
    own = policy.params

    def working(self, province, year):
        return {**own(self, province, year), "notice_working_days": ["household_identification"]}
    monkeypatch.setattr(policy, "params", working)       # the policy is frozen: its class's method, for this test
    least = core.config.policy.params(province_of(VILLAGE), core.clock.today().year)["notice_days"][
        "household_identification"]
    page = township.get(LIST.format(VILLAGE).replace("township_review", "second_notice")).text
    assert f"至少 {least} 个工作日：本地政策规定的最短公示期，按工作日计" in page


def test_a_village_outside_the_jurisdiction_is_not_found(signed_in):
    cadre, township = signed_in("cadre"), signed_in("township")
    assert cadre.get(f"/villages/{VILLAGE}/list").status_code == 200
    assert cadre.get("/villages/360730100202/list").status_code == 404
    assert township.get(LIST.format(OTHER_TOWNSHIP_VILLAGE)).status_code == 404
    assert township.get(f"/villages/{OTHER_TOWNSHIP_VILLAGE}/evidence").status_code == 404
    for nowhere in ("360730100299", "360730101000", "12345", "abc"):     # another township's: not theirs
        assert township.get(f"/villages/{nowhere}/list").status_code == 404
    assert township.get("/villages/360730100000/list").status_code == 200     # their own: all its villages'
    assert cadre.get("/villages/360730100000/list").status_code == 404


def _current(core, case_ids, etype):
    with core.engine.connect() as conn:
        return {r.case_id: r.fields for r in conn.execute(select(t.evidence.c.case_id, t.evidence.c.fields).where(
            t.evidence.c.case_id.in_(case_ids), t.evidence.c.type == etype, t.evidence.c.superseded_by.is_(None)))}


def _sheet(client, rows, etype="income_assessment", village=VILLAGE):
    data = {"csrf": client.csrf, "kind": "household", "type": etype}
    for case, fields in rows.items():
        data.update({f"f_{case}_{name}": value for name, value in fields.items()})
    return client.post(f"/villages/{village}/evidence", data=data)


def _years_later(core, monkeypatch, years: int) -> None:
    """The server's clock moved on `years` (a later year's item is taken once that year has begun)."""
    monkeypatch.setattr(core.clock, "shift", core.clock.shift + timedelta(days=366 * years))


def test_an_evidence_sheet_saves_every_row_or_none(signed_in, core, monkeypatch):
    cases = township_list(core, 3, not_ready=False).ready
    client = signed_in("cadre")
    sheet = client.get(f"/villages/{VILLAGE}/evidence?kind=household&type=income_assessment")
    assert sheet.status_code == 200 and all(f'name="f_{c}_net_income"' in sheet.text for c in cases)
    rows = {c: {"year": "2020", "net_income": str(9000 + c)} for c in cases}
    wrong = {**rows, cases[1]: {"year": "2020", "net_income": "九千"}}
    answer = _sheet(client, wrong)
    assert answer.status_code == 409 and 'data-written="0" data-refused="1"' in answer.text
    assert re.search(rf'data-case="{cases[1]}" data-result="refused">.*?家庭纯收入', answer.text, re.S)
    assert _current(core, cases, "income_assessment") == {}
    answer = _sheet(client, rows)
    assert 'data-written="3" data-refused="0"' in answer.text
    assert {c: f["net_income"] for c, f in _current(core, cases, "income_assessment").items()} == \
        {c: 9000.0 + c for c in cases}
    again = _sheet(client, {cases[0]: rows[cases[0]]})
    assert 'data-written="0"' in again.text and _current(core, cases[:1], "income_assessment")[cases[0]]
    assert "已有 2020 年度的" in again.text and "更晚年度的，表格即作为新一年的记录导入" in again.text
    assert "在办程序的步骤已采信旧的，则须在该户页面提交" in again.text      # the hint true of every household
    assert "命令行" not in again.text and "--replace" not in again.text      # the page's words
    # the next year: the same sheet takes 2021's under each household's 2020 (which stays in the record)
    _years_later(core, monkeypatch, 1)
    client = signed_in("cadre")                              # a year on: signed in again (the whole village's
    sheet = client.get(f"/villages/{VILLAGE}/evidence?kind=household&type=income_assessment&all=1")    # sheet)
    assert all(f'name="f_{c}_net_income"' in sheet.text for c in cases) and 'id="sheet-yearly"' in sheet.text
    assert "在办程序的步骤已采信往年记录的户除外" in sheet.text
    later = _sheet(client, {cases[0]: {"year": "2021", "net_income": "12000"}})
    assert later.status_code == 200 and 'data-written="1" data-refused="0"' in later.text
    assert _current(core, cases[:1], "income_assessment")[cases[0]]["year"] == 2021
    with core.engine.connect() as conn:
        kept = conn.execute(select(t.evidence.c.fields, t.evidence.c.superseded_by).where(
            t.evidence.c.case_id == cases[0], t.evidence.c.type == "income_assessment")).all()
    assert sorted((f["year"], s is not None) for f, s in kept) == [(2020, True), (2021, False)]
    shown = client.get(f"/cases/{cases[0]}").text                   # the household's page says which is current
    assert re.search(r"已被 #\d+ 取代：2021 年度的新记录（取代 2020 年度的）", shown)


def test_a_type_with_no_sheet_names_the_types_that_have_one_in_words(signed_in):
    client = signed_in("cadre")
    refused = client.get(f"/villages/{VILLAGE}/evidence?kind=household&type=household_confirmation")
    assert refused.status_code == 400
    assert "收入核算明细表" in refused.text and "income_assessment" not in refused.text
    choose = client.get(f"/villages/{VILLAGE}/evidence")         # the types' list points to a sheet with its scans
    assert 'id="sheet-files" href="/imports"' in choose.text and "扫描件压缩包为全村一次导入" in choose.text


def test_a_members_id_number_can_be_typed_with_its_x_on_a_phone(signed_in, core):
    """About one ID number in eleven ends in X, which a phone's number pad lacks: the field asks for
    a keyboard with letters (capitals), not inputmode=numeric."""
    import re
    case = township_list(core, 1, not_ready=False).ready[0]
    page = signed_in("cadre").get(f"/cases/{case}").text
    field = re.search(r'<input name="m_id_number"[^>]*>', page).group(0)
    assert "inputmode" not in field and 'autocapitalize="characters"' in field


def test_the_household_page_shows_its_pairing_cadres_and_its_plan(signed_in, demo_home):
    """A first secretary, a township head approving the plan: who is paired and what is planned are
    on the household's page (they had been on the command line alone)."""
    import sqlite3
    from engine.adapters.db import sqlite_file
    with sqlite3.connect(sqlite_file(demo_home[0])) as db:
        case, description = db.execute("SELECT case_id, description FROM measures ORDER BY id LIMIT 1").fetchone()
        name = db.execute("SELECT p.name FROM pairings x JOIN persons p ON p.id = x.person_id "
                          "WHERE x.case_id = ? AND x.kind = 'first'", (case,)).fetchone()[0]
    page = signed_in("cadre").get(f"/cases/{case}").text
    shown = page.split('id="assistance"', 1)[1].split("</section>", 1)[0]
    assert "第一帮扶责任人：" + name in shown and description in shown


def test_my_work_says_what_is_due_and_what_is_overdue(signed_in, core):
    """A cadre sees on "my work" each case's earliest open deadline: overdue in red with its days
    (the mailbox had told of overdue work that no page showed)."""
    import re
    from sqlalchemy import func, select
    from engine.adapters import tables as t
    page = signed_in("township").get("/work").text
    listed = [int(c) for c in re.findall(r'data-case="(\d+)"', page)]
    d = t.deadlines.c
    with core.engine.connect() as conn:
        due = dict(conn.execute(select(d.case_id, func.min(d.due_on, type_=d.due_on.type)).where(
            d.case_id.in_(listed), d.status == "open").group_by(d.case_id)).all())
    today = core.clock.today()
    late = [c for c, on in due.items() if on < today]
    assert late, "the demo has overdue work on this list"
    row = page.split(f'data-case="{late[0]}"', 1)[1].split("</li>", 1)[0]
    with core.engine.connect() as conn:      # and which time limit it is (a step had arrived "23 days overdue")
        rule, counting = conn.execute(select(d.rule, d.counting).where(d.case_id == late[0], d.status == "open")
                                      .order_by(d.due_on, d.id)).first()
    from engine.domain.deadline_rules import compiled      # in the deadline's own days, as its mail says
    days = compiled(core.config).calendar.days_between(due[late[0]], today, counting)[0]
    assert f"已逾期 {days} {'天' if counting == 'calendar' else '个工作日'}" in row
    assert f"{core.config.label('rule.' + rule, 'zh')}：已逾期" in row
    quiet = [c for c in listed if c not in due]
    assert not quiet or "到期" not in page.split(f'data-case="{quiet[0]}"', 1)[1].split("</li>", 1)[0]


def test_the_household_page_asks_the_housing_grade_as_a_choice_and_knows_the_applicant(signed_in, core):
    """Each fact entered once: the application's applicant is the registered head (editable); the
    housing grade is one of A-D to tap, not a text box that took "b"."""
    import re
    from sqlalchemy import select
    from engine.adapters import tables as t
    case = township_list(core, 1, not_ready=False).ready[0]
    with core.engine.connect() as conn:
        title = conn.execute(select(t.cases.c.title).where(t.cases.c.id == case)).scalar()
    page = signed_in("cadre").get(f"/cases/{case}").text
    assert re.search(r'<input name="f_applicant"[^>]*value="' + re.escape(title) + '"', page)
    grades = re.findall(r'<input type="radio" name="f_grade" value="([A-D])"', page)
    assert grades == ["A", "B", "C", "D"]


def test_an_evidence_sheet_row_of_another_village_refuses_the_sheet(signed_in, core):
    cases = township_list(core, 1, not_ready=False).ready
    with core.engine.connect() as conn:
        neighbour = conn.execute(select(t.cases.c.id).where(t.cases.c.region_code == "360730100202")).scalar()
    client = signed_in("township")
    before = _current(core, [cases[0], neighbour], "drinking_water")
    answer = _sheet(client, {cases[0]: {"safe": "yes"}, neighbour: {"safe": "no"}}, etype="drinking_water")
    assert answer.status_code == 400 and f"案件 {neighbour} 不在本村名单中" in answer.text
    assert _current(core, [cases[0], neighbour], "drinking_water") == before and cases[0] not in before
    assert _sheet(client, {cases[0]: {"x": "1"}}, etype="household_confirmation").status_code == 400
    empty = _sheet(client, {cases[0]: {"safe": " "}}, etype="drinking_water")
    assert empty.status_code == 400 and "没有填写任何一行" in empty.text
    assert _sheet(client, {cases[0]: {"safe": "yes"}}, etype="drinking_water",
                  village=OTHER_TOWNSHIP_VILLAGE).status_code == 404


def test_an_evidence_file_is_served_to_its_readers_only(signed_in, core):
    with core.engine.connect() as conn:
        def item(village):       # a household's signed confirmation of its exit
            return conn.execute(select(t.evidence.c.id, t.evidence.c.file_sha256).join(
                t.cases, t.cases.c.id == t.evidence.c.case_id).where(
                t.cases.c.region_code == village, t.evidence.c.type == "household_confirmation")).first()
        own, far = item(VILLAGE), item(OTHER_TOWNSHIP_VILLAGE)
        plain = conn.execute(select(t.evidence.c.id).join(t.cases, t.cases.c.id == t.evidence.c.case_id).where(
            t.cases.c.region_code == VILLAGE, t.evidence.c.file_sha256.is_(None))).scalar()
    client = signed_in("township")
    answer = client.get(f"/evidence/{own.id}/file")
    assert answer.status_code == 200
    assert answer.content == core.evidence.path_for(own.file_sha256).read_bytes()
    assert answer.headers["content-disposition"].startswith("inline;")          # a scan, viewed in the browser
    assert "exit-confirmation-scan.pdf" in answer.headers["content-disposition"]
    assert answer.headers["content-type"] == "application/pdf" and answer.headers["x-content-type-options"] == "nosniff"
    for hidden in (far.id, plain, 99999999):
        missing = client.get(f"/evidence/{hidden}/file")
        assert missing.status_code == 404 and "没有可下载的文件" in missing.text
    assert signed_in("county").get(f"/evidence/{far.id}/file").status_code == 200


def test_when_another_writer_moves_a_case_under_the_list_every_household_is_refused_with_that_reason(
        signed_in, core, monkeypatch):
    """A case moved on under the list while it was written (simulated: the one transaction meets the
    version check's refusal): nothing is written, and each household says why, in English for an
    English reader (once for them all)."""
    from engine.domain.errors import CaseChanged
    from engine.services import list_steps
    prepared = township_list(core, 3)
    everyone = [*prepared.ready, prepared.objected, prepared.running]

    def moved(app, actor, procedure, step_key, ids, inputs, readable):
        raise CaseChanged(ids[0])
    monkeypatch.setattr(list_steps, "perform_each", moved)
    client = signed_in("township")
    client.cookies.set("lang", "en")
    answer = _post_list(client, VILLAGE, everyone)
    assert answer.status_code == 409 and 'data-done="0" data-refused="3"' in answer.text
    assert "0 done, 3 refused" in answer.text
    # said once for the three (each reason once), the three named under it
    assert answer.text.count("was changed by someone else after this page was opened: nothing was written") == 1
    assert "Households not done: 3" in answer.text
    assert {int(c) for c in re.findall(r'data-case="(\d+)" data-result="refused"', answer.text)} == set(everyone)
    assert _steps_signed(core, everyone, "township_review") == set()


def test_a_sheet_of_a_big_village_is_read_whole_past_a_thousand_fields_and_a_megabyte(signed_in, core):
    cases = township_list(core, 3, not_ready=False).ready
    client = signed_in("cadre")
    data = {"csrf": client.csrf, "kind": "household", "type": "income_assessment"}
    data.update({f"f_{c}_{name}": value for c in cases for name, value in (("year", "2020"), ("net_income", "8000"))})
    data.update({f"x{i}": "说明" * 100 for i in range(1500)})      # what a sheet of 1,500 rows weighs: ~1.4 MB
    answer = client.post(f"/villages/{VILLAGE}/evidence", data=data)
    assert answer.status_code == 200, answer.text[:300]
    assert 'data-written="3" data-refused="0"' in answer.text


def test_a_list_form_with_a_case_that_is_no_number_names_the_field_and_the_value(signed_in, core):
    prepared = township_list(core, 1, not_ready=False)
    client = signed_in("township")
    answer = _post_list(client, VILLAGE, [*prepared.ready, "abc"])
    assert answer.status_code == 400 and "「abc」不是有效的数字（案件编号）" in answer.text and "{field}" not in answer.text
    cadre = signed_in("cadre")
    counted = cadre.post(f"/villages/{VILLAGE}/list", data={
        "csrf": cadre.csrf, "kind": "household", "procedure": "identification", "step": "appraisal",
        "case": [str(c) for c in prepared.ready], "attendance": "1e3", "votes_for": "30", "votes_against": "0"})
    assert counted.status_code == 400 and "「1e3」不是有效的数字（到会人数）" in counted.text
    blank = cadre.post(f"/villages/{VILLAGE}/list", data={          # the meeting's counts left out: said once
        "csrf": cadre.csrf, "kind": "household", "procedure": "identification", "step": "appraisal",
        "case": [str(c) for c in prepared.ready], "attendance": "", "votes_for": "", "votes_against": ""})
    assert blank.status_code == 400 and blank.text.count("须填写非负整数：到会人数") == 1, blank.text[:500]
    assert 'class="list-group' not in blank.text and "attendance" not in blank.text


def test_a_choice_that_is_none_of_the_choices_is_named_by_its_label(signed_in, core):
    prepared = township_list(core, 1, not_ready=False)
    client = signed_in("township")
    answer = _post_list(client, VILLAGE, prepared.ready, decision="maybe")
    assert answer.status_code == 400
    assert "意见 只能是：同意、不同意（须填写理由）" in answer.text and "decision" not in answer.text
    assert not _steps_signed(core, prepared.ready, "township_review")


def test_an_evidence_sheet_names_every_problem_of_every_row(signed_in, core, monkeypatch):
    cases = township_list(core, 3, not_ready=False).ready
    _years_later(core, monkeypatch, 1)
    client = signed_in("cadre")
    held = {c: {"year": "2021", "net_income": "8000"} for c in cases[:2]}
    assert 'data-written="2"' in _sheet(client, held).text
    answer = _sheet(client, {**held, cases[2]: {"year": "20x9", "net_income": "abc"}})
    assert 'data-written="0" data-refused="3"' in answer.text
    for c in cases[:2]:        # each holding this evidence already is named, not only the first
        assert re.search(rf'data-case="{c}" data-result="refused">.*?已有', answer.text, re.S)
    row = re.search(rf'data-case="{cases[2]}" data-result="refused">(.*?)</tr>', answer.text, re.S).group(1)
    assert "应为年份" in row and "应为数字" in row                   # both fields, not the first alone


def test_an_evidence_sheet_can_show_only_the_households_it_can_fill(signed_in, core, monkeypatch):
    cases = township_list(core, 2, not_ready=False).ready
    _years_later(core, monkeypatch, 2)
    client = signed_in("cadre")
    assert 'data-written="1"' in _sheet(client, {cases[0]: {"year": "2022", "net_income": "8000"}}).text
    everyone = client.get(f"/villages/{VILLAGE}/evidence?kind=household&type=income_assessment&all=1").text
    assert f'data-case="{cases[0]}"' in everyone and 'id="only-missing"' in everyone and "sticky-submit" in everyone
    missing = client.get(f"/villages/{VILLAGE}/evidence?kind=household&type=income_assessment&missing=1").text
    assert f'data-case="{cases[0]}"' not in missing and f'data-case="{cases[1]}"' in missing
    assert f'name="f_{cases[1]}_year"' in missing


def test_a_form_past_its_field_limit_is_refused_in_words_in_the_sheets_result(signed_in):
    from entrypoints.web.deps import FORM_FIELDS_MAX
    client = signed_in("cadre")
    data = {"csrf": client.csrf, "kind": "household", "type": "income_assessment",
            **{f"f_{i}_year": "2020" for i in range(FORM_FIELDS_MAX + 1)}}
    answer = client.post(f"/villages/{VILLAGE}/evidence", data=data, headers={"HX-Request": "true"})
    assert answer.status_code == 400 and "表单无法读取" in answer.text and "20,000" in answer.text
    assert "<html" not in answer.text          # the refusal alone, for the sheet's result, not a whole page


def test_a_page_never_tells_a_reader_of_command_line_options(signed_in, core):
    """A rejection without a reason is refused in the page's words (the CLI's says "（--reason）"), and a
    page that is not for one's post names who it is for, not its code."""
    prepared = township_list(core, 1, not_ready=False)
    client = signed_in("township")
    answer = _post_list(client, VILLAGE, prepared.ready, decision="reject")
    assert answer.status_code in (400, 409) and "否决须说明理由" in answer.text, answer.text[:500]
    assert "--reason" not in answer.text
    assert not _steps_signed(core, prepared.ready, "township_review")
    inspector = signed_in("inspector")
    refused = inspector.post(f"/villages/{VILLAGE}/list", data={"csrf": inspector.csrf, "kind": "household"})
    assert refused.status_code == 403 and "此页面供办理业务的岗位（只读岗位除外）使用" in refused.text
    assert "works" not in refused.text.partition("<main")[2]


def test_the_chooser_says_which_households_the_reader_already_signed(signed_in, core, demo_home):
    """Separation of duties: a step whose households the reader already signed in their procedure is
    not theirs to do; the chooser says how many (it tagged such a step 您可办理, and each one refused)."""
    case, village = _applied(core, demo_home, "已签户主", "36073019700404123")
    chooser = signed_in("cadre").get(f"/villages/{village}/list").text
    row = re.search(r'data-procedure="identification" data-step="appraisal">(.*?)</tr>', chooser, re.S).group(1)
    assert re.search(r"其中 \d+ 户您已在本程序中签署", row)


def test_a_step_for_a_problems_assignee_is_tagged_for_them_alone(signed_in, core):
    """A problem item's report waits for its assignee; the township's other staff see it counted, not
    tagged 您可办理 (each of them would be refused: only the assignee may)."""
    from engine.reads.village_lists import waiting_steps
    from engine.services.org import authenticate
    settings = core.settings
    tokens = dict(line.split(",") for line in (settings.home / "demo-tokens.csv").read_text().split())
    with core.engine.connect() as conn:
        problems = conn.execute(select(t.cases.c.region_code, t.cases.c.pending_procedure, t.cases.c.pending_step,
                                       t.cases.c.attrs).where(t.cases.c.kind == "problem",
                                                              t.cases.c.pending_step.is_not(None))).all()
    waiting = next(p for p in problems if p.attrs.get("assignee") and p.pending_step in ("receipt", "report"))
    assignee = authenticate(core, waiting.attrs["assignee"], tokens[waiting.attrs["assignee"]])
    other = authenticate(core, "t1_staff1", tokens["t1_staff1"])
    def tagged(actor):
        return next(s["mine"] for s in waiting_steps(core, actor, waiting.region_code)
                    if (s["procedure"], s["step"]) == (waiting.pending_procedure, waiting.pending_step))
    assert tagged(assignee) and not tagged(other)


def test_verifiers_and_pairing_cadres_are_chosen_not_typed(web, core):
    """A verification's form lists who may verify (ticked, not person codes typed on a phone); a
    pairing offers the village's pairing cadres to choose from."""
    from fastapi.testclient import TestClient
    from engine.services.accounts import open_session
    from tests.web.test_inspector import actor_of
    with core.engine.connect() as conn:
        waiting = conn.execute(select(t.cases.c.id, t.cases.c.region_code).where(
            t.cases.c.kind == "household", t.cases.c.region_code == VILLAGE,
            t.cases.c.pending_procedure == "monitoring", t.cases.c.pending_step == "verification")).first()
    # the work team's leader may lead it (the village secretary, who took the clue, is drawn no form: refused)
    client = TestClient(web, follow_redirects=False)
    client.cookies.set("jz_session", open_session(core, actor_of(core, "v01_leader"))[0])
    page = client.get(f"/cases/{waiting.id}").text
    form = page.partition('id="step-form"')[2].partition("</form>")[0]
    assert form.count('type="checkbox" name="verifiers"') >= 2 and 'textarea name="verifiers"' not in form
    from tests.web.test_inspector import actor_of
    from entrypoints.web.forms import candidates
    step = core.config.workflows["household"].procedures["assistance"].step("pairing")
    cadres = candidates(core, actor_of(core, "t1_staff1"), VILLAGE, step)["first_cadre"]
    assert cadres and {c["role"] for c in cadres} == {"pairing_cadre"}


def test_an_income_check_too_old_for_the_decision_is_asked_for_on_the_sheet(signed_in, core, demo_home):
    """A household with an income check of two years before is refused its application (it passed it, then
    every later step refused it: audit a7 #1); the sheet's "only those that need it" lists it, marked out
    of date (it left it out)."""
    old = core.clock.today().year - 2
    case, village = _applied(core, demo_home, "旧表户主", "36073019700808123", income_year=old, refused="income.wrong_year")
    sheet = signed_in("cadre").get(f"/villages/{village}/evidence",
                                   params={"kind": "household", "type": "income_check", "needed": "1"}).text
    row = re.search(rf'<tr[^>]*data-case="{case}".*?</tr>', sheet, re.S)
    assert row and f"{old} 年的，已过期" in row.group(0)


def _applied(core, demo_home, name: str, first17: str, income_year: int | None = None,
             refused: str | None = None) -> tuple[int, str]:
    """A household the village cadre registered and applied for (its application and income check
    attached, the application step done by the cadre, or `refused` with that code): its case and village."""
    from tests.web.test_browser_cadre import register_in_cadres_village
    from engine.services.org import authenticate
    from engine.services.procedures import perform_step
    from engine.domain.cases import StepInput
    from engine.services.case_actions import attach_evidence
    settings, sign_ins = demo_home
    code = sign_ins["cadre"][0]
    tokens = dict(line.split(",") for line in (settings.home / "demo-tokens.csv").read_text().split())
    actor = authenticate(core, code, tokens[code])
    case = register_in_cadres_village(core, demo_home, name, first17)
    today = core.clock.today()
    attach_evidence(core, actor, case, "application", {"applicant": name, "applied_on": today.isoformat()})
    attach_evidence(core, actor, case, "income_check", {"year": income_year or today.year, "net_income": 3000})
    try:
        perform_step(core, actor, "identification", "application", [case], StepInput())
        assert refused is None, f"not refused: {refused}"
    except JingzhunError as exc:
        if exc.code != refused:
            raise
    with core.engine.connect() as conn:
        return case, conn.execute(select(t.cases.c.region_code).where(t.cases.c.id == case)).scalar()


def test_a_village_lists_verifiers_leave_out_who_took_part_in_its_households(signed_in, core, demo_home):
    """Separation of duties on the list too: who applied or appraised for a listed household is not
    offered as its verifier (ticking them refused every household)."""
    from engine.services.org import authenticate
    from engine.services.procedures import perform_step
    from engine.domain.cases import StepInput
    case, village = _applied(core, demo_home, "核实户主", "36073019700909123")
    tokens = dict(line.split(",") for line in (core.settings.home / "demo-tokens.csv").read_text().split())
    director = authenticate(core, "v01_director", tokens["v01_director"])
    minutes = scan_file(core.settings.home / "核实户评议会议记录.pdf", "会议记录")
    perform_step(core, director, "identification", "appraisal", [case],
                 StepInput(attendance=40, votes_for=35, votes_against=2, minutes=minutes))
    page = signed_in("township").get(f"/villages/{village}/list", params={
        "kind": "household", "procedure": "identification", "step": "village_verification"}).text
    offered = set(re.findall(r'name="verifiers" value="([^"]+)"', page))
    assert offered and not offered & {"v01_secretary", "v01_director"}


def test_an_old_yearly_item_of_a_household_with_no_procedure_using_it_is_history(signed_in, core):
    """Consolidated households keep their old income checks as history: not out of date, not asked for."""
    from engine.reads.village_lists import sheet_rows
    from tests.web.test_inspector import actor_of
    rows = sheet_rows(core, actor_of(core, "v01_secretary"), VILLAGE, "household", "income_check", needed_only=False)
    settled = [r for r in rows if r["stage"] == "consolidated" and r["current"]]
    assert settled and not any(r["stale"] or r["needed"] for r in settled)


def test_a_housing_grade_is_tapped_on_the_sheet_and_the_form_and_read_as_cadres_write_it(signed_in, core):
    """The sheet's grade is a choice of the four grades in words, as the household page's form is; a
    grade typed as cadres write it (B级) is stored as its code, one that is none refused naming them."""
    cases = township_list(core, 3, not_ready=False).ready
    client = signed_in("cadre")
    sheet = client.get(f"/villages/{VILLAGE}/evidence?kind=household&type=housing_safety").text
    grade = re.search(rf'<select name="f_{cases[0]}_grade"[^>]*>(.*?)</select>', sheet, re.S)
    assert grade, "the grade is a choice, not a typed text"
    assert re.findall(r'<option value="(\w*)">', grade.group(1)) == ["", "A", "B", "C", "D"]
    assert "B级（基本安全）" in grade.group(1) and "D级（整幢危房）" in grade.group(1)
    refused = _sheet(client, {cases[0]: {"grade": "B"}, cases[1]: {"grade": "良好"}}, etype="housing_safety")
    assert refused.status_code == 409 and 'data-written="0" data-refused="1"' in refused.text
    row = re.search(rf'data-case="{cases[1]}" data-result="refused">(.*?)</tr>', refused.text, re.S).group(1)
    assert "A级（安全）、B级（基本安全）、C级（局部危房）、D级（整幢危房）" in row and "良好" in row
    assert _current(core, cases, "housing_safety") == {}
    answer = _sheet(client, {cases[0]: {"grade": "B"}, cases[1]: {"grade": "ｃ级"}, cases[2]: {"grade": "A级（安全）"}},
                    etype="housing_safety")
    assert answer.status_code == 200 and 'data-written="3" data-refused="0"' in answer.text
    assert {c: f["grade"] for c, f in _current(core, cases, "housing_safety").items()} == \
        {cases[0]: "B", cases[1]: "C", cases[2]: "A"}
    held = client.get(f"/villages/{VILLAGE}/evidence?kind=household&type=housing_safety").text
    assert "C级（局部危房）" in held.partition(f'data-case="{cases[1]}"')[2].partition("</tr>")[0]
    form = client.get(f"/cases/{cases[0]}").text.partition('id="ev-housing_safety"')[2].partition("</form>")[0]
    assert 'type="radio" name="f_grade" value="B"' in form and "B级（基本安全）" in form


def test_a_monitoring_type_is_tapped_on_the_sheet_and_read_as_cadres_write_it(signed_in, core):
    """The sheet's monitoring type is a choice of the three types in words; a type written as its
    label in either language is stored as its code, one that is none refused naming the types."""
    cases = township_list(core, 3, not_ready=False).ready
    client = signed_in("cadre")
    sheet = client.get(f"/villages/{VILLAGE}/evidence?kind=household&type=monitoring_clue").text
    kind = re.search(rf'<select name="f_{cases[0]}_monitoring_type"[^>]*>(.*?)</select>', sheet, re.S)
    assert kind, "the type is a choice, not a typed text"
    assert re.findall(r'<option value="(\w*)">', kind.group(1)) == ["", "unstable", "edge", "sudden_hardship"]
    assert "边缘易致贫户" in kind.group(1) and "突发严重困难户" in kind.group(1)
    day = core.clock.today().isoformat()
    clue = lambda kind: {"source": "走访排查", "clue_date": day, "monitoring_type": kind}  # noqa: E731
    refused = _sheet(client, {cases[0]: clue("edge"), cases[1]: clue("因病致贫风险")}, etype="monitoring_clue")
    assert refused.status_code == 409 and 'data-written="0" data-refused="1"' in refused.text
    row = re.search(rf'data-case="{cases[1]}" data-result="refused">(.*?)</tr>', refused.text, re.S).group(1)
    assert "脱贫不稳定户、边缘易致贫户、突发严重困难户" in row and "因病致贫风险" in row
    assert _current(core, cases, "monitoring_clue") == {}
    answer = _sheet(client, {cases[0]: clue("edge"), cases[1]: clue("突发严重困难户"),
                             cases[2]: clue("Unstable exited household")}, etype="monitoring_clue")
    assert answer.status_code == 200 and 'data-written="3" data-refused="0"' in answer.text
    assert {c: f["monitoring_type"] for c, f in _current(core, cases, "monitoring_clue").items()} == \
        {cases[0]: "edge", cases[1]: "sudden_hardship", cases[2]: "unstable"}
    held = client.get(f"/villages/{VILLAGE}/evidence?kind=household&type=monitoring_clue").text
    assert "突发严重困难户" in held.partition(f'data-case="{cases[1]}"')[2].partition("</tr>")[0]


def test_the_list_hint_says_one_meeting_or_one_notice_only_where_the_step_is_one(signed_in):
    """A township's sign-off of a list is each household signed off: the hint had promised "one meeting,
    one notice" on it as on a village's appraisal and notice."""
    client = signed_in("cadre")
    hint = lambda step: re.search(r'<p class="hint"[^>]*>(共 [^<]*)', client.get(   # noqa: E731
        f"/villages/{VILLAGE}/list?kind=household&procedure=identification&step={step}").text, re.S).group(1)
    signoff, appraisal, notice = hint("township_review"), hint("appraisal"), hint("first_notice")
    assert "逐户预审" in signoff and "会议" not in signoff and "公示" not in signoff, signoff
    assert "同一次会议" in appraisal and "公示" not in appraisal, appraisal
    assert "同一张公示" in notice and "会议" not in notice, notice


def test_a_step_sent_again_from_a_stale_page_says_it_was_done_by_whom_and_when(signed_in, core):
    """A second tab (or a list opened before) sending a step already done: each household was refused as
    out of order and as separation of duties (步骤顺序错误, 职责分离); it says the step was done, by whom, when."""
    prepared = township_list(core, 3, not_ready=False)
    client = signed_in("township")
    assert _post_list(client, VILLAGE, prepared.ready[:2], date=core.clock.today().isoformat()).status_code == 200
    again = _post_list(client, VILLAGE, prepared.ready[:2], date=core.clock.today().isoformat())
    assert again.status_code == 409
    for case in prepared.ready[:2]:
        row = re.sub(r"<[^>]+>", "", _refusal_of(again.text, case))
        assert "「乡镇审核」已由 梅江镇干部1（t1_staff1） 于 " in row and "无需再办" in row, row
        assert "步骤顺序错误" not in row and "职责分离" not in row, row
    # the case page's step form, sent again from a tab opened before it was done
    case = prepared.ready[2]
    form = {"csrf": client.csrf, "procedure": "identification", "step": "township_review", "decision": "approve",
            "date": core.clock.today().isoformat()}
    assert client.post(f"/cases/{case}/step", data=form, headers={"HX-Request": "true"}).status_code == 200
    stale = client.post(f"/cases/{case}/step", data=form, headers={"HX-Request": "true"})
    assert stale.status_code == 409 and "已由 梅江镇干部1（t1_staff1） 于 " in stale.text, stale.text
    assert "下一步已经变了" not in stale.text


def test_a_list_and_a_sheet_sent_without_htmx_answer_a_whole_page_with_the_way_back(signed_in, core):
    """Scripts off or htmx lost on a weak signal: the form posts as a plain form, and its result is a
    whole page (not a bare fragment), with the way back to the list or the sheet."""
    prepared = township_list(core, 2, not_ready=False)
    client = signed_in("township")
    plain = _post_list(client, VILLAGE, prepared.ready, date=core.clock.today().isoformat())
    assert plain.status_code == 200 and "<html" in plain.text and 'data-done="2"' in plain.text
    assert "名单办理结果" in plain.text and "← 返回名单" in plain.text
    assert f'href="/villages/{VILLAGE}/list?kind=household&amp;procedure=identification&amp;step=township_review"' \
        in plain.text
    cadre = signed_in("cadre")
    cases = township_list(core, 1, not_ready=False).ready
    sheet = _sheet(cadre, {cases[0]: {"year": "2020", "net_income": "九千"}})
    assert sheet.status_code == 409 and "<html" in sheet.text and "材料表保存结果" in sheet.text
    fragment = cadre.post(f"/villages/{VILLAGE}/evidence", headers={"HX-Request": "true"}, data={
        "csrf": cadre.csrf, "kind": "household", "type": "income_assessment",
        f"f_{cases[0]}_year": "2020", f"f_{cases[0]}_net_income": "九千"})
    assert fragment.status_code == 409 and "<html" not in fragment.text and 'data-refused="1"' in fragment.text


def test_an_application_sheet_comes_with_the_head_as_applicant(signed_in, core):
    """The village's application sheet had every 申请人 cell empty though the head applies in nearly every
    household: each comes with the head's name, the cadre changing it where another member applied;
    the rows given nothing more are left unfilled (passed over, not refused for their date)."""
    from tests.web.bulk_world import actor
    from tests.world import member_ids
    from workflows.household import HouseholdInput, MemberInput, register_households
    heads = ["申请户甲", "申请户乙", "申请户丙"]
    cases = register_households(core, actor(core, "v01_secretary"), VILLAGE, [
        HouseholdInput([MemberInput(name, member_ids(1, 901 + i)[0], "head")], ["illness"])
        for i, name in enumerate(heads)])
    heads = dict(zip(cases, heads))
    client = signed_in("cadre")
    sheet = client.get(f"/villages/{VILLAGE}/evidence?kind=household&type=application").text
    for c in cases:
        assert re.search(rf'<input name="f_{c}_applicant" [^>]*value="{heads[c]}"', sheet), heads[c]
        assert re.search(rf'<input name="f_{c}_applied_on" (?![^>]*value=)', sheet)
    # what the browser sends: every prefilled applicant, a date for the first two, the second's applicant changed
    rows = {c: {"applicant": heads[c]} for c in cases}
    rows[cases[0]]["applied_on"] = rows[cases[1]]["applied_on"] = core.clock.today().isoformat()
    rows[cases[1]]["applicant"] = "其妻"
    answer = _sheet(client, rows, "application")
    assert answer.status_code == 200 and 'data-written="2" data-refused="0"' in answer.text, answer.text
    held = _current(core, cases, "application")
    assert {c: f["applicant"] for c, f in held.items()} == {cases[0]: heads[cases[0]], cases[1]: "其妻"}
    untouched = _sheet(client, {cases[2]: {"applicant": heads[cases[2]]}}, "application")
    assert untouched.status_code == 400 and cases[2] not in _current(core, cases, "application")



def test_a_list_not_yours_names_who_may_once_and_each_household_what_else_it_needs(signed_in, core):
    """A village cadre opening the township's review list is told once, above the list, which posts may
    do the step; each household's needs leave that out (it was said in each of them) and say what else
    it lacks, or that it meets every other rule."""
    prepared = township_list(core, 3)
    client = signed_in("cadre")
    page = client.get(LIST.format(VILLAGE))
    banner = re.sub(r"<[^>]+>", "", re.search(r'<p class="refusal" id="not-yours">(.*?)</p>', page.text, re.S).group(1))
    assert banner.startswith("您没有办理此步骤的角色（需由 ") and "乡镇" in banner and "之一办理）" in banner
    assert page.text.count("角色不符") == 0
    assert f'hx-get="/work/{prepared.ready[0]}/needs?brief=1&amp;role_said=1"' in page.text
    whole = client.get(f"/work/{prepared.ready[0]}/needs").text
    assert "角色不符" in whole                                 # the case's own needs, elsewhere, say it still
    ready = client.get(f"/work/{prepared.ready[0]}/needs?role_said=1").text
    assert "角色不符" not in ready and "其他条件均已满足" in ready and 'data-ready="0"' in ready
    objected = client.get(f"/work/{prepared.objected}/needs?role_said=1").text
    assert "角色不符" not in objected and "未处理的异议" in objected
    mine = signed_in("township").get(LIST.format(VILLAGE)).text
    assert 'id="not-yours"' not in mine and f'hx-get="/work/{prepared.ready[0]}/needs?brief=1"' in mine
