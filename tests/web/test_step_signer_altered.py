"""A step's signer changed in the database (a5 findings 1–3: `UPDATE steps SET person_id = …`, case 201's
乡镇审核 moved from one township cadre to another) was shown as unaltered on the case page, by `case show`
and the API: only the trace compared the steps with their events, and even it named the forged signer on
its rows, in its 经办与审批一览 and in the printed dossier, while the inspection leads and the person's
trace were built on the altered rows without a word. Altered here as an attacker with the database would
(tests/helpers/tamper.py), on SQLite and PostgreSQL."""
from __future__ import annotations

import json
import re

from tests.helpers import tamper
from tests.helpers.tamper import one, raw

lived = tamper.lived      # the fixture: households a (exited) and b (assisted)

WARNING = "警告：本案件的记录在数据库中被改动过"


def _moved(world, case: int, step: str = "township_review", to: str = "ts2") -> int:
    """The case's identification step `step` moved to person `to` in the database; its row id."""
    row = one(world, f"SELECT s.id FROM steps s JOIN procedures p ON p.id = s.procedure_id WHERE s.case_id = {case} "
                     f"AND p.kind = 'identification' AND s.step_key = '{step}'")
    raw(world, f"UPDATE steps SET person_id = (SELECT id FROM persons WHERE code = '{to}') WHERE id = {row.id}")
    return row.id


def test_a_signer_changed_in_the_database_is_warned_of_on_the_case_page_the_api_and_case_show(lived, world_clients):
    world, a, b = lived
    page, api = world_clients
    _moved(world, a)
    for code in ("vs", "ts1", "cd", "insp"):
        shown = page(code).get(f"/cases/{a}").text
        assert 'id="integrity-warning"' in shown and WARNING in shown, code
        assert "步骤 乡镇审核" in shown and "步骤被直接在数据库中改动" in shown, code
        assert 'id="integrity-warning"' not in page(code).get(f"/cases/{b}").text, code
    read = api("vs").get(f"/api/v1/cases/{a}").json()["integrity"]
    assert read["intact"] is False and any("乡镇审核" in d for d in read["damage"]), read
    assert api("vs", "en").get(f"/api/v1/cases/{a}").json()["integrity"]["damage"]
    assert api("vs").get(f"/api/v1/cases/{b}").json()["integrity"]["intact"] is True
    as_json = json.loads(api("vs").post("/api/v1/cli", json={"argv": ["case", "show", str(a), "--json"]}).json()["stdout"])
    assert as_json["integrity"]["intact"] is False
    text = api("vs").post("/api/v1/cli", json={"argv": ["case", "show", str(a)]}).json()["stdout"]
    assert WARNING in text and "乡镇审核" in text


def test_a_step_voided_or_unvoided_in_the_database_is_found_on_the_case_page_and_by_audit_verify(lived, world_clients):
    """A step voided behind the engine no longer counts (nor would a voiding undone count again): the row
    must be voided exactly when an event of its case voided it."""
    from engine.reads.audit_verify import verify
    world, a, b = lived
    page, api = world_clients
    row = one(world, f"SELECT id FROM steps WHERE case_id = {b} AND step_key = 'plan_approval'")
    raw(world, f"UPDATE steps SET voided_at = '2019-03-21 02:00:00', voided_reason = 'x' WHERE id = {row.id}")
    shown = page("vs").get(f"/cases/{b}").text
    assert WARNING in shown and "没有任何审计事件作废它" in shown
    assert "no audit event voided it" in api("vs", "en").get(f"/api/v1/cases/{b}").json()["integrity"]["damage"][0]
    assert [d.code for d in verify(world.app, processes=1).damage] == ["step_voided_unrecorded"]


def _part(text: str, start: str, end: str) -> str:
    return text.split(start, 1)[1].split(end, 1)[0]


def test_the_trace_names_the_signer_its_event_recorded_and_marks_the_database_row_everywhere(lived, world_clients,
                                                                                              tmp_path):
    """The trace said the event recorded ts1 but named ts2 on the step, in 经办与审批一览 and on paper."""
    from tests.helpers.notifications import cli
    world, a, _ = lived
    page, api = world_clients
    _moved(world, a)
    shown = page("insp").get(f"/inspect/trace/case/{a}").text
    chain = _part(shown, 'id="chain"', "</section>")
    identification = [row for row in chain.split("<tr>") if "#procedure-" in row][0]
    assert "township_staff-ts1 <span" in identification and "数据库中现为 township_staff-ts2" in identification
    procedure = _part(shown, 'data-procedure="identification"', "</table>")
    row = _part(procedure, 'data-step="township_review"', "</tr>")
    assert "/inspect/trace/person/ts1" in row and "/inspect/trace/person/ts2" not in row
    assert "上列为审计事件所记；数据库中现为：办理人 township_staff-ts2（ts2）" in row, row

    read = json.loads(cli(world, "insp", "trace", a, "--json").out)
    [step] = [s for p in read["procedures"] if p["kind"] == "identification" for s in p["steps"]
              if s["step"] == "township_review"]
    assert (step["person"], step["database"]["person"], step["differs"]) == ("ts1", "ts2", ["person"])
    untouched = [s for p in read["procedures"] for s in p["steps"] if s is not step]
    assert untouched and not any(s["database"] or s["differs"] for s in untouched)

    text = cli(world, "insp", "trace", a)
    assert text.code == 1
    lines = text.out.splitlines()
    at = next(i for i, line in enumerate(lines) if "乡镇审核" in line and line.startswith("  2019-03-08"))
    assert "township_staff-ts1 (ts1" in lines[at] and "ts2" not in lines[at], lines[at]
    assert "⚠" in lines[at + 1] and "办理人 township_staff-ts2（ts2）" in lines[at + 1]

    dossier = tmp_path / "dossier.html"
    cli(world, "insp", "--lang", "en", "trace", a, "--html", str(dossier))
    html = dossier.read_text()
    printed = [r for r in html.split("<tr") if "township_staff-ts1 (ts1)" in r]
    assert printed and "database-differs" in html
    assert "the database now reads: signed by township_staff-ts2 (ts2)" in html


ALTERED = "警告：以下线索和记录可能建立在数据库中被改动过的数据上"


def test_leads_and_a_persons_trace_built_on_an_altered_step_say_so_first_naming_the_case(lived, world_clients):
    """A signer moved in the database gave the moved-to cadre a false lead and a step they never took, and
    the leads page, `inspect flags`, the API and their trace said nothing."""
    from engine.services.case_actions import record_relative
    from tests.helpers.notifications import cli
    world, a, b = lived
    page, api = world_clients
    record_relative(world.app, world["ts2"], a, "ts1", "外甥女", "督查中查明")     # a real lead on case a
    insp = page("insp")
    assert 'id="record-altered"' not in insp.get("/inspect/flags").text                  # untouched: no word
    assert 'id="record-altered"' not in insp.get("/inspect/trace/person/ts2").text
    assert ALTERED not in cli(world, "insp", "inspect", "flags").out
    _moved(world, a)

    shown = insp.get("/inspect/flags").text
    warning = _part(shown, 'id="record-altered"', "</div>")
    assert ALTERED in warning and f"案件 #{a} 的记录与审计日志不符" in warning
    assert f'href="/inspect/trace/case/{a}"' in warning and "jingzhun audit verify" in warning
    assert shown.index('id="record-altered"') < shown.index('class="card flag"')          # above the leads
    lead = _part(shown, 'class="card flag"', "</article>")
    assert "此线索所涉案件的记录被改动过" in lead and f"/inspect/trace/case/{a}" in lead

    told = cli(world, "insp", "inspect", "flags")
    assert told.out.splitlines()[0].startswith(ALTERED) and f"案件 #{a} 的记录" in told.out
    assert "⚠ 此线索所涉案件的记录被改动过 — [为亲属户签字]" in told.out
    as_json = cli(world, "insp", "inspect", "flags", "--json")
    assert ALTERED in as_json.err and all(f["record_altered"] == (f["case"] == a) for f in json.loads(as_json.out))
    answer = api("insp").get("/api/v1/inspection/flags")
    assert answer.headers["X-Jingzhun-Record-Altered"] == str(a)
    assert all(f["record_altered"] == (f["case"] == a) for f in answer.json()) and answer.json()

    person = insp.get("/inspect/trace/person/ts2").text
    assert ALTERED in _part(person, 'id="record-altered"', "</div>") and person.index("record-altered") < person.index('id="posts"')
    traced = cli(world, "insp", "trace", "--person", "ts2")
    assert traced.out.splitlines()[0].startswith(ALTERED) and f"#{a}" in traced.out.splitlines()[1]
    assert json.loads(cli(world, "insp", "trace", "--person", "ts2", "--json").out)["record_altered"]["cases"] == [a]
    english = api("insp", "en").get("/api/v1/trace/persons/ts2").json()["record_altered"]["lines"]
    assert english[0].startswith("Warning: the leads and records below may rest on data altered in the database")


def test_the_last_audit_verify_names_the_damaged_cases_above_the_leads_without_verifying_again(lived, world_clients):
    """A case no lead names, found by `audit verify`: its outcome is kept, and the leads' readers are told."""
    from tests.helpers.notifications import cli
    world, a, b = lived
    page, _ = world_clients
    _moved(world, b, "county_approval", "ch")
    assert cli(world, "insp", "audit", "verify").code == 1
    shown = page("insp").get("/inspect/flags").text
    warning = _part(shown, 'id="record-altered"', "</div>")
    assert "最近一次审计核验（" in warning and f"发现 1 处损坏，涉及案件 #{b}。" in warning, warning
    assert re.search(r"核验（20\d\d-\d\d-\d\d \d\d:\d\d，inspector-insp）", warning)     # when, and by whom
    assert f"#{b}" in cli(world, "insp", "trace", "--person", "ts1").out.splitlines()[1]


def test_a_voiding_undone_in_the_database_is_found_on_the_case_page(lived, world_clients, tmp_path):
    """Steps voided by a replaced income (recorded in the replacement's event) set back to count again."""
    from engine.services.case_actions import attach_evidence
    world, a, b = lived
    page, _ = world_clients
    world.exit_evidence(b, tmp=tmp_path)
    world.exit(b, through="verification")
    attach_evidence(world.app, world["vs"], b, "income_assessment", {"year": 2019, "net_income": 9000},
                    replace=True, void_signoffs=True, reason="更正收入")
    assert WARNING not in page("vs").get(f"/cases/{b}").text                  # voided by the engine: sound
    raw(world, f"UPDATE steps SET voided_at = NULL, voided_reason = NULL WHERE case_id = {b} AND step_key = 'proposal'")
    shown = page("vs").get(f"/cases/{b}").text
    assert WARNING in shown and "审计事件记录该步骤已作废，但表中它未作废" in shown


def test_a_step_row_written_into_the_database_is_marked_as_no_act_in_the_trace_and_its_summary(lived, world_clients):
    """A county approval inserted with SQL (someone's name put in the file) read as an approver."""
    from tests.helpers.notifications import cli
    world, a, b = lived
    page, _ = world_clients
    columns = ("procedure_id, case_id, step_key, step_type, person_id, role, role_region, decision, reason, "
               "effective_date, recorded_at, data, evidence_hashes, notice_id, policy_version, voided_at, voided_reason")
    row = one(world, f"SELECT id FROM steps WHERE case_id = {b} AND step_key = 'plan_approval'")
    as_ch = columns.replace("person_id", "(SELECT id FROM persons WHERE code = 'ch')")     # the plan approved again
    raw(world, f"INSERT INTO steps ({columns}) SELECT {as_ch} FROM steps WHERE id = {row.id}")
    shown = page("insp").get(f"/inspect/trace/case/{b}").text
    chain = _part(shown, 'id="chain"', "</section>")
    assert "county_head-ch <span class=\"tag bad database-differs\">无审计事件</span>" in chain
    assert "此步只在数据库中，审计日志中没有它的事件" in _part(shown, 'data-procedure="assistance"', "</table>")
    read = json.loads(cli(world, "insp", "trace", b, "--json").out)
    assert [s["differs"] for p in read["procedures"] for s in p["steps"] if s["person"] == "ch"] == [["unrecorded"]]
