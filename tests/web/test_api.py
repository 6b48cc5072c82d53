"""The JSON API under /api/v1: API tokens, jurisdiction, refusals in the reader's language, OpenAPI."""
from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient

from tests.web.test_cli_client import tokens, without
from demo.scans import scan_pdf
from tests.world import id_number


@pytest.fixture
def api(web, demo_home):
    """api(code) -> a TestClient sending that person's API token."""
    settings, _ = demo_home
    known = tokens(settings)
    clients = []

    def make(code: str, lang: str = "zh") -> TestClient:
        client = TestClient(web, headers={"X-Jingzhun-Person": code, "Authorization": f"Bearer {known[code]}",
                                          "Accept-Language": lang})
        clients.append(client)
        return client
    yield make
    for c in clients:
        c.close()


def test_list_show_and_next_through_a_token(api, core):
    client = api("v01_secretary")
    for serial in ("071", "093"):        # two cases surely waiting for the cadre, whatever ran before
        registered = client.post("/api/v1/households", json={
            "village": _village_of(core, "v01_secretary"), "causes": ["illness"],
            "members": [{"name": f"户主{serial}", "id_number": id_number("36073019710203" + serial)}]})
        assert registered.status_code == 201, registered.text
    listed = client.get("/api/v1/cases", params={"waiting": "true", "limit": 1})
    assert listed.status_code == 200, listed.text
    first = listed.json()["cases"][0]
    assert first["pending_step"] and listed.json()["next_after"] == first["id"]
    rest = client.get("/api/v1/cases", params={"waiting": "true", "after": first["id"]}).json()["cases"]
    assert all(r["id"] > first["id"] for r in rest)
    shown = client.get(f"/api/v1/cases/{first['id']}").json()
    assert shown["id"] == first["id"] and "members" in shown and "*" in shown["members"][0]["id_number"]
    nxt = client.get(f"/api/v1/cases/{first['id']}/next", params={"as_of": "2020-10-20"}).json()
    assert (nxt["next"]["procedure"], nxt["next"]["step"]) == (first["pending_procedure"], first["pending_step"])


def _village_of(core, code: str) -> str:
    from sqlalchemy import select
    from engine.adapters import tables as t
    with core.engine.connect() as conn:
        return conn.execute(select(t.role_assignments.c.region_code).join(
            t.persons, t.persons.c.id == t.role_assignments.c.person_id).where(t.persons.c.code == code)).scalar()


def test_a_refused_step_is_409_with_the_rule_in_chinese(api):
    """An exit's village notice before its proposal: refused by a rule, named in the reader's language."""
    answer = api("v01_secretary").post("/api/v1/cases/2/steps", json={"procedure": "exit", "step": "village_notice"})
    assert answer.status_code == 409
    rule = answer.json()["error"]
    assert rule in ("step.order", "procedure.other_open", "stage.not_allowed"), answer.json()
    assert re.search("[\u4e00-\u9fff]", answer.json()["message"])
    english = api("v01_secretary", "en").post("/api/v1/steps", json={"procedure": "exit", "step": "village_notice",
                                                                      "case_ids": [2]})
    assert english.status_code == 409 and english.json()["error"] == rule
    assert "步骤" not in english.json()["message"] and "程序" not in english.json()["message"]


def test_evidence_as_json_fields_and_as_multipart_with_a_file(api, core):
    client = api("v01_secretary")
    case_id = without(core, "v01_secretary", "natural_change_proof")    # a type kept with its file
    proof = {"type": "natural_change_proof", "fields": {"reason": "户主去世"}}
    no_file = client.post(f"/api/v1/cases/{case_id}/evidence", json=proof)
    assert no_file.status_code == 409 and no_file.json()["error"] == "evidence.file_required"
    bad = client.post(f"/api/v1/cases/{case_id}/evidence", json={"type": "drinking_water", "fields": {"safe": "maybe"}})
    assert bad.status_code == 400 and bad.json()["error"] == "evidence.bad_field"
    other = without(core, "v01_secretary", "wrong_exit_finding")      # a type kept as its fields alone
    typed = client.post(f"/api/v1/cases/{other}/evidence", json={"type": "wrong_exit_finding",
                                                                 "fields": {"source": "督查巡查", "reason": "收入不实"}})
    assert typed.status_code == 201, typed.text
    # a wrong inclusion's finding is its written finding: refused without it, saying what to attach (a7 #6)
    typed = client.post(f"/api/v1/cases/{other}/evidence", json={"type": "removal_finding",
                                                                 "fields": {"reason": "家庭人口自然变更"}})
    assert typed.status_code == 409 and typed.json()["error"] == "evidence.file_required_what", typed.text
    assert "核查报告" in typed.json()["message"] and "--file" not in typed.json()["message"], typed.text
    sent = client.post(f"/api/v1/cases/{case_id}/evidence", data={"type": proof["type"],
                                                                  "fields": json.dumps(proof["fields"])},
                       files={"file": ("death.pdf", scan_pdf(["死亡证明"]), "application/pdf")})
    assert sent.status_code == 201, sent.text
    evidence = client.get(f"/api/v1/cases/{case_id}").json()["evidence"]
    item = next(e for e in evidence if e["id"] == sent.json()["id"])
    assert item["type"] == "natural_change_proof" and item["file_name"] == "death.pdf"
    for odd in ("..", "."):         # a name that is a folder's: kept under a plain name, never a 500
        named = client.post(f"/api/v1/cases/{case_id}/evidence", data={"type": proof["type"], "replace": "true",
                                                                       "reason": "重新扫描",
                                                                       "fields": json.dumps(proof["fields"])},
                            files={"file": (odd, scan_pdf(["死亡证明"]), "application/pdf")})
        assert named.status_code == 201, named.text


def test_a_case_outside_the_jurisdiction_is_404(api):
    client = api("t2_staff1")       # another township's cadre; case 2 is in the first township
    for path in ("/api/v1/cases/2", "/api/v1/cases/2/next", "/api/v1/trace/cases/2", "/api/v1/cases/999999"):
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert answer.json()["error"] == "case.unknown"
    step = client.post("/api/v1/cases/2/steps", json={"procedure": "exit", "step": "proposal"})
    assert step.status_code == 404
    listed = client.post("/api/v1/steps", json={"procedure": "exit", "step": "proposal", "case_ids": [2]})
    assert listed.status_code == 404
    evidence = client.post("/api/v1/cases/2/evidence", json={"type": "removal_finding", "fields": {"reason": "x"}})
    assert evidence.status_code == 404
    person = client.get("/api/v1/trace/persons/v01_secretary")
    assert person.status_code == 404 and person.json()["error"] == "person.unknown"


@pytest.mark.parametrize("headers", [{}, {"X-Jingzhun-Person": "v01_secretary"},
                                     {"X-Jingzhun-Person": "v01_secretary", "Authorization": "Bearer wrong"},
                                     {"Authorization": "Bearer wrong"}])
def test_a_missing_or_wrong_token_is_401(web, headers):
    client = TestClient(web, headers=headers)
    assert client.get("/api/v1/cases").status_code == 401
    assert client.post("/api/v1/cli", json={"argv": ["case", "list"]}).status_code == 401
    assert client.post("/api/v1/cli/stream", files={"command": (None, '{"argv": ["case", "list"]}')}).status_code == 401
    assert client.get("/api/v1/me").status_code == 401


def test_the_token_refusal_is_said_in_the_asked_language(web):
    client = TestClient(web, headers={"X-Jingzhun-Person": "v01_secretary", "Authorization": "Bearer wrong"})
    assert "认证失败" in client.get("/api/v1/cases").json()["message"]
    english = client.get("/api/v1/cases", headers={"Accept-Language": "en"}).json()["message"]
    assert english and "认证" not in english


def test_openapi_lists_the_endpoints(web):
    spec = TestClient(web).get("/api/v1/openapi.json").json()
    paths = spec["paths"]
    for path, method in [("/api/v1/cases", "get"), ("/api/v1/cases", "post"), ("/api/v1/cases/{case_id}", "get"),
                         ("/api/v1/cases/{case_id}/next", "get"), ("/api/v1/cases/{case_id}/steps", "post"),
                         ("/api/v1/steps", "post"), ("/api/v1/cases/{case_id}/evidence", "post"),
                         ("/api/v1/households", "post"), ("/api/v1/notices/{notice_id}", "get"),
                         ("/api/v1/notices/{notice_id}/objections", "post"),
                         ("/api/v1/objections/{objection_id}/resolve", "post"), ("/api/v1/deadlines", "get"),
                         ("/api/v1/alerts", "get"), ("/api/v1/trace/cases/{case_id}", "get"),
                         ("/api/v1/trace/persons/{code}", "get"), ("/api/v1/inspection/flags", "get"),
                         ("/api/v1/audit/head", "get"), ("/api/v1/audit/verify", "post"), ("/api/v1/funds/report", "get"),
                         ("/api/v1/reports/coverage", "get"), ("/api/v1/regions", "get"), ("/api/v1/persons", "get"),
                         ("/api/v1/persons/{code}/enrol", "post"), ("/api/v1/projects", "post"),
                         ("/api/v1/projects/{case_id}", "get"), ("/api/v1/projects/{case_id}/payments", "post"),
                         ("/api/v1/projects/{case_id}/milestones", "post"), ("/api/v1/problems", "post"),
                         ("/api/v1/accountability", "post"), ("/api/v1/cli", "post"),
                         ("/api/v1/cli/stream", "post"), ("/api/v1/me", "get"),
                         ("/api/v1/inspection/activity", "get")]:
        assert method in paths.get(path, {}), (path, method)
    assert "StepRequest" in spec["components"]["schemas"]
    assert TestClient(web).get("/api/docs").status_code == 200


def test_a_write_with_a_session_needs_the_csrf_header(signed_in):
    client = signed_in("cadre")
    body = {"procedure": "exit", "step": "village_notice"}
    assert client.post("/api/v1/cases/2/steps", json=body).status_code == 403
    with_header = client.post("/api/v1/cases/2/steps", json=body, headers={"X-CSRF-Token": client.csrf})
    assert with_header.status_code == 409
    assert client.get("/api/v1/cases", params={"limit": 2}).status_code == 200


def test_a_case_trace_is_said_in_the_asked_language(api, core):
    """GET /trace/cases/{id} answered in Chinese whatever the reader asked, and a reopened household's
    reason was stored so (问题 #3: …): it says the reason in the asked language, as `trace` does."""
    from sqlalchemy import select
    from engine.adapters import tables as t
    with core.engine.connect() as conn:
        case_id, problem = conn.execute(select(t.steps.c.case_id, t.steps.c.data["problem_id"].as_integer())
                                        .join(t.procedures, t.procedures.c.id == t.steps.c.procedure_id)
                                        .where(t.procedures.c.kind == "reopen_wrong_exit")).first()
    for lang, said in (("en", f"problem #{problem}: "), ("zh", f"问题 #{problem}：")):
        trace = api("inspector", lang).get(f"/api/v1/trace/cases/{case_id}").json()
        [step] = [s for p in trace["procedures"] if p["kind"] == "reopen_wrong_exit" for s in p["steps"]]
        assert step["reason"].startswith(said), step["reason"]


def test_a_sample_checks_problem_item_is_named_in_the_asked_language(api, core):
    """The demo's sample check opened a problem item titled 抽查 #N 错退：…, in every language: the case list
    and the case name it in the asked language."""
    from sqlalchemy import select
    from engine.adapters import tables as t
    with core.engine.connect() as conn:
        problem = conn.execute(select(t.problem_links.c.problem_id).where(
            t.problem_links.c.finding == "wrong_exit").order_by(t.problem_links.c.problem_id)).scalars().first()
    for lang, said in (("en", "sample check #"), ("zh", "抽查 #")):
        client = api("inspector", lang)
        listed = client.get("/api/v1/cases", params={"kind": "problem", "limit": 100}).json()["cases"]
        assert [c["title"] for c in listed if c["id"] == problem][0].startswith(said), listed
        assert client.get(f"/api/v1/cases/{problem}").json()["title"].startswith(said)


def test_reads_for_supervisors_and_inspectors(api):
    county = api("county_director")
    assert county.get("/api/v1/deadlines", params={"overdue": "true"}).status_code == 200
    assert county.get("/api/v1/alerts", params={"limit": 5}).status_code == 200
    assert county.get("/api/v1/funds/report").json()["projects"] is not None
    assert isinstance(county.get("/api/v1/reports/coverage").json(), list)
    assert county.get("/api/v1/regions").json() and county.get("/api/v1/persons").json()
    inspector = api("inspector")
    assert isinstance(inspector.get("/api/v1/inspection/flags").json(), list)
    assert inspector.get("/api/v1/trace/cases/2").json()["id"] == 2
    assert inspector.get("/api/v1/trace/persons/v01_secretary").json()["person"]["code"] == "v01_secretary"
    verified = inspector.post("/api/v1/audit/verify", json={})
    assert verified.status_code == 200 and verified.json()["intact"] is True
    assert api("v01_secretary").post("/api/v1/audit/verify", json={}).status_code == 403
    # against a head published before: whether it agrees, as `audit verify --against --json` says it
    # (the API said only "intact", which a log rewritten up to its end and resealed would also be)
    head = inspector.get("/api/v1/audit/head").json()
    agreed = inspector.post("/api/v1/audit/verify", json={"against": f"{head['seq']}:{head['hash']}"}).json()
    assert agreed["published_head"]["seq"] == head["seq"] and agreed["published_head"]["matched"] is True
    assert agreed["published_head"]["events_after"] >= 0 and verified.json()["published_head"] is None
    other = "0" * 64 if head["hash"] != "0" * 64 else "1" * 64
    disagreed = inspector.post("/api/v1/audit/verify", json={"against": f"{head['seq']}:{other}"}).json()
    assert disagreed["intact"] is False and disagreed["published_head"] == {
        "seq": head["seq"], "matched": False, "events_after": None}
    log = inspector.get("/api/v1/inspection/activity", params={"limit": 3})
    assert log.status_code == 200 and len(log.json()["events"]) == 3 and log.json()["older"]
    refused = api("v01_secretary").get("/api/v1/inspection/activity")
    assert refused.status_code == 403 and refused.json()["error"] == "auth.not_inspector"


def test_alerts_come_a_page_at_a_time_and_before_gives_the_older_ones(api):
    """GET /alerts answered every alert of the jurisdiction at once (a city's 100,000: 37 MB, 5 s, issue
    12); now 500 by default, and `before` (the last id of a page) gives the next page, older ones only."""
    county = api("county_director")
    every = county.get("/api/v1/alerts", params={"limit": 10000}).json()
    assert len(every) > 3 and len(county.get("/api/v1/alerts").json()) == min(len(every), 500)
    first = county.get("/api/v1/alerts", params={"limit": 3}).json()
    second = county.get("/api/v1/alerts", params={"limit": 3, "before": first[-1]["id"]}).json()
    assert [a["id"] for a in first + second] == [a["id"] for a in every[:6]]
    assert county.get("/api/v1/alerts", params={"before": 0}).status_code == 422


def test_the_cli_endpoint_refuses_server_paths_and_global_options(api):
    client = api("admin")
    server_file = client.post("/api/v1/cli", json={"argv": ["region", "import", "/etc/hostname"]})
    assert server_file.status_code == 403 and server_file.json()["error"] == "remote.path_not_sent"
    html = client.post("/api/v1/cli", json={"argv": ["trace", "2", "--html", "/tmp/x.html"]})
    assert html.status_code == 403
    glob = client.post("/api/v1/cli", json={"argv": ["--home", "/tmp", "case", "list"]})
    assert glob.status_code == 400 and glob.json()["error"] == "remote.global_option"
    listed = client.post("/api/v1/cli", json={"argv": ["region", "list", "--json"]})
    assert listed.status_code == 200 and listed.json()["exit"] == 0 and listed.json()["stdout"].startswith("[")


def test_the_streamed_endpoint_checks_what_the_json_one_does(api):
    admin = api("admin")
    files = {"command": (None, json.dumps({"argv": ["region", "import", "/etc/hostname"]}), "application/json")}
    server_file = admin.post("/api/v1/cli/stream", files=files)
    assert server_file.status_code == 403 and server_file.json()["error"] == "remote.path_not_sent"
    nothing = admin.post("/api/v1/cli/stream", files={"file-0": ("file-0", b"x")})
    assert nothing.status_code == 400 and nothing.json()["error"] == "remote.no_command"
    stranger = admin.post("/api/v1/cli/stream", files={"../../etc/passwd": ("f", b"x")})
    assert stranger.status_code == 400 and stranger.json()["error"] == "remote.bad_file"
    not_multipart = admin.post("/api/v1/cli/stream", json={"argv": ["region", "list"]})
    assert not_multipart.status_code == 400 and not_multipart.json()["error"] == "remote.no_command"
    listed = admin.post("/api/v1/cli/stream", files={"command": (None, json.dumps({"argv": ["region", "list", "--json"]}))})
    assert listed.status_code == 200 and listed.headers["content-type"].startswith("application/json")
    assert listed.json()["exit"] == 0 and "360730" in listed.json()["stdout"]      # at once, no file: plain JSON
    dossier = admin.post("/api/v1/cli/stream", files={"command": (None, json.dumps({
        "argv": ["trace", "2", "--html", "d.html"], "files": [{"index": 3, "name": "d.html", "output": True}]}))})
    assert dossier.status_code == 200 and dossier.headers["content-type"].startswith("multipart/mixed")
    assert b'"exit":0' in dossier.content and b"<!doctype html" in dossier.content.lower()


def test_who_a_token_is(api):
    me = api("v01_secretary").get("/api/v1/me")
    assert me.status_code == 200
    body = me.json()
    assert body["code"] == "v01_secretary" and body["roles"] and body["roles"][0]["region"].startswith("36")


def test_commands_run_in_parallel_keep_their_own_output(api):
    from concurrent.futures import ThreadPoolExecutor
    client = api("county_director")
    asks = [["region", "list", "--json"], ["case", "list", "--limit", "3", "--json"]] * 6

    def run(argv):
        return argv, client.post("/api/v1/cli", json={"argv": argv}).json()
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(run, asks))
    import json
    for argv, answer in answers:
        rows = json.loads(answer["stdout"])
        assert answer["exit"] == 0 and answer["stderr"] == ""
        assert all(("code" in r) == (argv[0] == "region") for r in rows)


def test_notices_and_objections_inside_and_outside_the_jurisdiction(api):
    inside = api("v01_secretary")
    notice_id = next(n["id"] for n in inside.get("/api/v1/cases/1").json()["notices"])
    shown = inside.get(f"/api/v1/notices/{notice_id}")
    assert shown.status_code == 200 and any(c["id"] == 1 for c in shown.json()["cases"])
    outsider = api("t2_staff1")
    assert outsider.get(f"/api/v1/notices/{notice_id}").status_code == 404
    late = outsider.post(f"/api/v1/notices/{notice_id}/objections", json={"case_id": 1, "objector": "张三", "content": "x"})
    assert late.status_code == 404
    assert inside.post("/api/v1/objections/99999999/resolve", json={"upheld": False, "reason": "x"}).status_code == 404
    objection = next((o["id"] for o in shown.json()["objections"]), None)
    if objection is not None:
        answer = outsider.post(f"/api/v1/objections/{objection}/resolve", json={"upheld": False, "reason": "x"})
        assert answer.status_code == 404


def test_registering_is_checked_as_on_the_command_line(api):
    client = api("v01_secretary")
    bad_id = client.post("/api/v1/households", json={"village": "360730100201", "causes": ["illness"],
                                                     "members": [{"name": "王五", "id_number": "110101199003077777"}]})
    assert bad_id.status_code == 400 and bad_id.json()["error"] == "member.bad_id" and "身份证号" in bad_id.json()["message"]
    malformed = client.post("/api/v1/households", json={"village": "360730100201", "members": []})
    assert malformed.status_code == 422 and "members" in malformed.json()["fields"]
    assert api("v01_secretary").post("/api/v1/persons/t1_staff1/enrol", json={"paper": True}).status_code == 403
    payment = {"amount": "1", "payee_kind": "other", "payee": "x"}
    assert api("t2_staff1").post("/api/v1/projects/2/payments", json=payment).status_code == 404
    assert api("t2_staff1").post("/api/v1/projects/2/milestones", json={"milestone": "1"}).status_code == 404


def test_a_younger_county_code_is_registered_with_a_warning_to_confirm(api, core):
    from sqlalchemy import select
    from stdnum.cn import ric
    from engine.adapters import tables as t
    number = "36073019690315024"
    number += ric.calc_check_digit(number + "0")       # 宁都县's code, a holder born in 1969
    with core.engine.connect() as conn:
        village = conn.execute(select(t.role_assignments.c.region_code).join(
            t.persons, t.persons.c.id == t.role_assignments.c.person_id).where(
            t.persons.c.code == "v01_secretary")).scalar()
    answer = api("v01_secretary").post("/api/v1/households", json={
        "village": village, "causes": ["illness"], "members": [{"name": "曾老汉", "id_number": number}]})
    assert answer.status_code == 201, answer.text
    assert answer.json()["ids"] and "请核实" in answer.json()["warnings"][0]


def _member_of(core, case_id: int) -> str:
    from sqlalchemy import select
    from engine.adapters import tables as t
    with core.engine.connect() as conn:
        return conn.execute(select(t.household_members.c.id_number).where(
            t.household_members.c.case_id == case_id, t.household_members.c.active)).first()[0]


def test_unmasked_numbers_are_recorded_for_the_inspectors(api, core):
    """Full ID numbers, phones and bank accounts read through the API (`full_ids`) or `case show
    --full-ids` are an entry of the activity log, as an export is: who unmasked whose numbers."""
    number = _member_of(core, 2)
    shown = api("t1_staff1").get("/api/v1/cases/2", params={"full_ids": "true"})
    assert shown.status_code == 200 and any(m["id_number"] == number for m in shown.json()["members"])
    log = api("inspector").get("/api/v1/inspection/activity", params={"action": "ids_revealed"}).json()["events"]
    assert log and log[0]["person"] == "t1_staff1" and ["case", "2"] in log[0]["detail"], log[:1]
    masked = api("t1_staff1").get("/api/v1/cases/2").json()
    assert all(m["id_number"] != number for m in masked["members"])
    again = api("inspector").get("/api/v1/inspection/activity", params={"action": "ids_revealed"}).json()["events"]
    assert len(again) == len(log)                  # a masked read is not one


def test_a_command_through_the_server_does_not_tell_where_an_out_of_reach_case_is(api, core):
    """`case show` of another township's case over /cli answers like the typed routes: it names no
    region (it named the village of the case); a region the command line names is still told."""
    from sqlalchemy import select
    from engine.adapters import tables as t
    with core.engine.connect() as conn:
        region = conn.execute(select(t.cases.c.region_code).where(t.cases.c.id == 2)).scalar()
    client = api("t2_staff1")
    for argv in (["case", "show", "2"], ["trace", "2"]):
        answer = client.post("/api/v1/cli", json={"argv": argv}).json()
        assert answer["exit"] != 0 and region not in answer["stderr"] and "auth.out_of_reach" in answer["stderr"], answer
    named = client.post("/api/v1/cli", json={"argv": ["case", "list", "--region", region]}).json()
    assert named["exit"] != 0 and region in named["stderr"]


def test_a_person_registered_out_of_reach_is_said_to_be_registered_but_not_where(api, core):
    """One person is in one household: a cadre registering someone held by a household of another
    township is refused, without that household's case number (it told any cadre where anyone was)."""
    number = _member_of(core, 2)
    body = {"village": _village_of(core, "v06_secretary"), "causes": ["illness"],
            "members": [{"name": "某某", "id_number": number}]}
    far = api("v06_secretary").post("/api/v1/households", json=body)
    assert far.status_code in (400, 409) and far.json()["problems"][0]["error"] == "member.registered_elsewhere", far.text
    assert "案件 2" not in far.text and number not in far.text
    body["village"] = _village_of(core, "v01_secretary")
    near = api("v01_secretary").post("/api/v1/households", json=body)
    assert near.json()["problems"][0]["error"] == "member.already_registered"


def test_malformed_requests_get_a_clear_4xx_in_the_asked_language(api, web):
    """What an integrator's first attempts send: each answer is a 4xx saying what is wrong, in the
    language asked for (Accept-Language in any case, or ?lang=), never a 500 nor an English default."""
    client = api("v01_secretary")
    json_type = {"Content-Type": "application/json"}
    lone = client.post("/api/v1/cases/3/steps", content='{"procedure": "\\ud800", "step": "application"}',
                       headers=json_type)
    assert lone.status_code == 400 and lone.json()["error"] == "procedure.unknown", lone.text
    reason = client.post("/api/v1/cases/3/steps", headers=json_type,
                         content='{"procedure": "identification", "step": "application", "reason": "\\udc00"}')
    assert 400 <= reason.status_code < 500, reason.text
    misspelt = client.post("/api/v1/cases/3/steps", json={"procedure": "identification", "step": "application",
                                                          "vote_for": 3})
    assert misspelt.status_code == 422 and misspelt.json()["fields"] == ["vote_for"]
    broken = client.post("/api/v1/cases/3/steps", content='{"procedure": x}', headers=json_type)
    assert broken.status_code == 422 and "JSON" in broken.json()["message"] and broken.json()["fields"] == []
    form = client.post("/api/v1/cases/3/steps", content="procedure=x",
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert form.status_code == 422 and "JSON 对象" in form.json()["message"]
    from engine.domain.evidence import converted
    for kind, value in (("number", 1e308), ("number", "-1e13"), ("int", 10 ** 13)):
        with pytest.raises(ValueError):         # an income of 1e308 was taken (evidence.bad_field)
            converted(kind, value)
    assert converted("number", "12,000元") == 12000.0
    english = api("v01_secretary", "EN-us")
    missing = english.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and "jurisdiction" in missing.json()["message"]
    method = english.delete("/api/v1/cases")
    assert method.status_code == 405 and method.headers["allow"] == "GET" and "method" in method.json()["message"]
    assert "no such case" in client.get("/api/v1/cases/999999", params={"lang": "en"}).json()["message"]
    anonymous = TestClient(web).get("/api/v1/cases")
    assert anonymous.status_code == 401 and "X-Jingzhun-Person" in anonymous.json()["message"]
    assert "Bearer" in TestClient(web, headers={"Accept-Language": "EN"}).get("/api/v1/cases").json()["message"]


def test_a_browser_session_changes_its_credentials_through_the_api_only_with_the_password(signed_in, demo_home):
    """The account page asks for the current password; the API's routes did not, so a session left
    open on a shared computer could set a new password or make itself a token that outlives it."""
    client = signed_in("supervisor")
    csrf = {"X-CSRF-Token": client.csrf}
    for path, body in (("/api/v1/me/password", {"password": "taken-over-2019"}), ("/api/v1/me/token", {}),
                       ("/api/v1/me/token", {"current": "guess-guess"})):
        refused = client.post(path, json=body, headers=csrf)
        assert refused.status_code in (400, 401, 403) and refused.json()["error"] == "password.wrong_current", path
        assert "token" not in refused.json()
    from engine.services import accounts
    code, password = demo_home[1]["supervisor"]
    assert accounts.sign_in(client.app.state.core, code, password).code == code       # unchanged


def test_wrong_tokens_from_one_address_are_throttled_without_locking_the_person_out(api, web, core, monkeypatch):
    """Each wrong token costs the server a deliberately slow check: past the limit, a client address
    gets 429 with Retry-After, unchecked, for the person it names; another person's token from the same
    address (an office's NAT, an integration host) goes on working."""
    from sqlalchemy import delete
    from engine.adapters import tables as t
    from engine.services import accounts
    monkeypatch.setattr(accounts, "THROTTLE_TOKENS", 3)
    accounts.forget_tokens()                    # no token known good from an earlier test
    wrong = TestClient(web, headers={"X-Jingzhun-Person": "v03_member", "Authorization": "Bearer wrong-wrong"})
    with core.engine.begin() as conn:           # what earlier tests' wrong tokens left
        conn.execute(delete(t.sign_in_failures))
    try:
        assert [wrong.get("/api/v1/me").status_code for _ in range(3)] == [401, 401, 401]
        locked = wrong.get("/api/v1/me")
        assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0
        assert api("v01_secretary").get("/api/v1/me").status_code == 200      # another person: not held off
        with core.engine.begin() as conn:       # …and v03_member is not locked from elsewhere either
            keys = {r.key for r in conn.execute(t.sign_in_failures.select())}
        assert accounts._token_keys("v03_member", "testclient")[0][0] in keys
        assert accounts._token_keys("v03_member", "10.0.0.9")[0][0] not in keys
        assert accounts._keys("v03_member", "-")[0][0] not in keys          # nor from the sign-in page
    finally:
        with core.engine.begin() as conn:
            conn.execute(delete(t.sign_in_failures))
    assert api("v01_secretary").get("/api/v1/me").status_code == 200


def test_a_step_answers_the_cases_new_version_for_the_next_write(api, core):
    """A client doing steps one after another needs each step's case version for its next
    `expect_version`; it had to read the whole case again."""
    client = api("v01_secretary")
    village = _village_of(core, "v01_secretary")
    made = client.post("/api/v1/households", json={"village": village, "causes": ["illness"], "members": [
        {"name": "户主版本", "id_number": id_number("36073019720304" + "551")}]})
    assert made.status_code == 201, made.text
    case = made.json()["ids"][0] if "ids" in made.json() else made.json()["cases"][0]
    before = client.get(f"/api/v1/cases/{case}").json()["version"]
    evidence = client.post(f"/api/v1/cases/{case}/evidence", json={"type": "application", "fields": {
        "applicant": "户主版本", "applied_on": "2020-10-19"}})
    assert evidence.status_code == 201, evidence.text
    income = client.post(f"/api/v1/cases/{case}/evidence", json={"type": "income_check", "fields": {
        "year": 2019, "net_income": 3000}})
    assert income.status_code == 201, income.text
    stale = client.post(f"/api/v1/cases/{case}/steps", json={"procedure": "identification", "step": "application",
                                                            "expect_version": before + 1})
    said = stale.json()["message"]          # what a program's user is told to do (it said "reload")
    assert stale.status_code == 409 and f"`GET /api/v1/cases/{case}`" in said and f"`expect_version` {before + 2}" in said
    stepped = client.post(f"/api/v1/cases/{case}/steps", json={"procedure": "identification", "step": "application",
                                                              "expect_version": before + 2})
    assert stepped.status_code == 200, stepped.text
    assert stepped.json()[0]["version"] == client.get(f"/api/v1/cases/{case}").json()["version"] == before + 3


def test_a_program_fetches_exports_evidence_files_and_the_assessment_with_its_token(api, web):
    """A dashboard or a phone app has a token, not a browser session: the downloads answered it
    with a redirect to the sign-in page."""
    county = api("county_director")
    export = county.get("/export/cases.csv", follow_redirects=False)
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    workbook = county.get("/supervise/assessment.xlsx", follow_redirects=False)
    assert workbook.status_code == 200 and workbook.content[:2] == b"PK"
    assert api("v01_secretary").get("/supervise/assessment.xlsx", follow_redirects=False).status_code == 403
    wrong = TestClient(web, headers={"X-Jingzhun-Person": "county_director", "Authorization": "Bearer wrong"})
    assert wrong.get("/export/cases.csv", follow_redirects=False).status_code == 401
    assert TestClient(web).get("/export/cases.csv", follow_redirects=False).status_code == 303   # a browser: sign in


def test_deadline_and_alert_filters_are_checked_and_times_carry_their_offset(api, core):
    """An unknown filter value was taken as no filter (every alert), another township's region gave an
    empty list where /cases refuses it, and times came without their offset (read 8 hours early)."""
    client = api("t1_staff1")
    other = _village_of(core, "v06_secretary")
    assert client.get("/api/v1/deadlines", params={"region": other}).status_code == 403
    assert client.get("/api/v1/alerts", params={"region": other}).status_code == 403
    assert client.get("/api/v1/alerts", params={"status": "bogus"}).status_code == 422
    assert client.get("/api/v1/alerts", params={"level": -1}).status_code == 200
    rows = client.get("/api/v1/deadlines", params={"status": "any"}).json()["deadlines"]
    assert 0 < len(rows) <= 500
    steps = client.get("/api/v1/cases/2").json()["procedures"][0]["steps"]
    assert steps and all(s["recorded_at"].endswith("+00:00") for s in steps)


def test_an_administrators_open_session_cannot_enrol_itself_past_its_password(signed_in):
    """From an administrator's session the password change asks the current password, but a paper code
    issued to oneself and spent on /activate set a new password all the same."""
    client = signed_in("admin")
    me = client.get("/api/v1/me").json()["code"]
    answer = client.post(f"/api/v1/persons/{me}/enrol", json={"paper": True}, headers={"X-CSRF-Token": client.csrf})
    assert answer.status_code == 403 and answer.json()["error"] == "enrol.self_from_session" and "code" not in answer.json()
    page = client.post(f"/admin/people/{me}/enrol", data={"csrf": client.csrf, "delivery": "paper"})
    assert page.status_code == 403 and "另一名管理员" in page.text


def test_the_server_tells_nothing_of_a_case_out_of_reach_whatever_the_command_line(api, core):
    """Region codes put in free text let the refusal confirm the one of the case; `step --each` printed
    its village; a single step told of its open procedure before its jurisdiction."""
    from sqlalchemy import select
    from engine.adapters import tables as t
    with core.engine.connect() as conn:
        region = conn.execute(select(t.cases.c.region_code).where(t.cases.c.id == 2)).scalar()
        villages = [r for r in conn.execute(select(t.regions.c.code).where(t.regions.c.level == "village")).scalars()]
    client = api("t2_staff1")
    for argv in (["household", "visit", "2", "--date", "2020-10-19", "--findings", " ".join(villages)],
                 ["household", "visit", "2", "--date", "2020-10-19", "--findings", region],
                 ["step", "identification", "application", "2", "--each"],
                 ["step", "identification", "application", "2"]):
        answer = client.post("/api/v1/cli", json={"argv": argv}).json()
        told = answer["stdout"] + answer["stderr"]
        assert answer["exit"] != 0 and region not in told and "procedure.other_open" not in told, (argv, told)


def test_a_monitoring_type_is_read_from_its_label_and_one_none_reads_is_refused(api, core):
    """The API takes the monitoring type as its code or a label in either language and stores the
    code; a type none reads is 400, naming the three types in the client's language."""
    from tests.web.bulk_world import township_list
    [case_id] = township_list(core, 1, not_ready=False).ready        # a household of v01's with no clue yet
    clue = lambda kind: {"type": "monitoring_clue", "fields": {  # noqa: E731
        "source": "走访排查", "clue_date": core.clock.today().isoformat(), "monitoring_type": kind}}
    bad = api("v01_secretary").post(f"/api/v1/cases/{case_id}/evidence", json=clue("因病致贫风险"))
    assert bad.status_code == 400 and bad.json()["error"] == "evidence.bad_code"
    assert "脱贫不稳定户、边缘易致贫户、突发严重困难户" in bad.json()["message"] and "因病致贫风险" in bad.json()["message"]
    english = api("v01_secretary", "en").post(f"/api/v1/cases/{case_id}/evidence", json=clue("低保户"))
    assert english.status_code == 400 and "edge household at risk" in english.json()["message"], english.text
    client = api("v01_secretary")
    done = client.post(f"/api/v1/cases/{case_id}/evidence", json=clue("边缘易致贫户"))
    assert done.status_code == 201, done.text
    item = next(e for e in client.get(f"/api/v1/cases/{case_id}").json()["evidence"] if e["id"] == done.json()["id"])
    assert item["fields"]["monitoring_type"] == "edge"


def test_deadlines_are_paged_by_a_cursor_each_seen_once_oldest_due_first(world):
    """GET /deadlines had a limit and no cursor: a county with more open deadlines than a page could
    not read past the first. `next_after` is given back as `after`, as for /cases: every deadline
    comes once, in the list's order (oldest due first, then by id: many fall due at the same time),
    and the last page says there is no more."""
    from datetime import date
    from engine.reads.deadlines import deadline_rows
    from entrypoints.web.app import create_app
    cases = [world.household() for _ in range(13)]
    world.on(date(2019, 3, 1))
    world.up_to_first_notice(cases[:7])          # their notices end together: one due time, seven deadlines
    world.on(date(2019, 3, 4))
    world.up_to_first_notice(cases[7:])
    every = [r["id"] for r in deadline_rows(world.app, world["cd"], status=None)]
    # each case's notice, and (since step_waiting) each step it waited for before: many pages of 4
    assert len(every) >= 13 and len({r["case"] for r in deadline_rows(world.app, world["cd"], status=None)}) == 13
    client = TestClient(create_app(world.app), headers={"X-Jingzhun-Person": "cd",
                                                        "Authorization": f"Bearer {world.tokens['cd']}"})
    seen, after, pages = [], None, 0
    while True:
        answer = client.get("/api/v1/deadlines", params={"status": "any", "limit": 4, **({"after": after} if after else {})})
        assert answer.status_code == 200, answer.text
        page = answer.json()
        assert len(page["deadlines"]) <= 4
        seen += [r["id"] for r in page["deadlines"]]
        pages += 1
        after = page["next_after"]
        if after is None:
            break
    assert seen == every and pages == -(-len(every) // 4)
    due = [r["due_on"] for r in deadline_rows(world.app, world["cd"], status=None)]
    assert due == sorted(due) and len(set(due)) < len(due)          # ties, broken by id across pages
    whole = client.get("/api/v1/deadlines", params={"status": "any"}).json()
    assert [r["id"] for r in whole["deadlines"]] == every and whole["next_after"] is None
    bad = client.get("/api/v1/deadlines", params={"after": "tomorrow"})
    assert bad.status_code == 400 and bad.json()["error"] == "supervise.bad_cursor" and "第一页" in bad.json()["message"]
    english = client.get("/api/v1/deadlines", params={"after": "1.x", "lang": "en"})
    assert english.status_code == 400 and "first page" in english.json()["message"]
    schema = client.get("/api/v1/openapi.json").json()
    listed = schema["paths"]["/api/v1/deadlines"]["get"]
    assert "after" in {p["name"] for p in listed["parameters"]}
    assert "next_after" in schema["components"]["schemas"]["DeadlineList"]["properties"]


def test_a_query_parameter_an_endpoint_does_not_read_is_refused_naming_what_it_takes(api):
    """?stag=assisted (misspelt) answered 200 with every case, unfiltered: refused, naming the parameter
    and those the endpoint reads, on every GET of the API; ?lang= is every endpoint's."""
    client = api("v01_secretary")
    misspelt = client.get("/api/v1/cases", params={"stag": "assisted"})
    assert misspelt.status_code == 422 and misspelt.json()["fields"] == ["stag"]
    said = misspelt.json()["message"]
    assert said.startswith("stag 不是本接口的查询参数") and "stage" in said and "limit" in said, said
    assert client.get("/api/v1/cases", params={"stage": "assisted", "lang": "en"}).status_code == 200
    flags = client.get("/api/v1/inspection/activity", params={"persn": "x"})
    assert flags.status_code == 422 and "persn" in flags.json()["message"] and "person" in flags.json()["message"]
    head = client.get("/api/v1/audit/head", params={"x": "1"})
    assert head.status_code == 422 and "x 不是本接口的查询参数" in head.json()["message"]


def test_a_number_out_of_range_is_refused_naming_the_range(api):
    client = api("v01_secretary")
    for value in ("100000", "0", "-1"):
        answer = client.get("/api/v1/cases", params={"limit": value})
        assert answer.status_code == 422 and answer.json()["fields"] == ["limit"]
        assert answer.json()["message"] == f"limit 应在 1 到 1000 之间（收到 {value}）", answer.text
    english = api("v01_secretary", "en").get("/api/v1/cases", params={"after": "-5"})
    assert english.json()["message"] == "after must be at least 0 (got -5)"


def test_a_body_that_is_not_a_json_object_is_answered_with_the_endpoints_own_example(api):
    """POST /api/v1/audit/verify with no body was shown {"procedure": "exit"}, another endpoint's body."""
    answer = api("inspector").post("/api/v1/audit/verify")
    assert answer.status_code == 422 and "JSON 对象" in answer.json()["message"]
    assert "`{}`" in answer.json()["message"] and "procedure" not in answer.json()["message"]
    step = api("v01_secretary").post("/api/v1/cases/3/steps", content="[1]",
                                     headers={"Content-Type": "application/json"})
    assert step.status_code == 422 and "JSON 对象" in step.json()["message"] and "exit" not in step.json()["message"]


def test_a_members_schooling_not_sent_is_not_recorded_and_read_back_as_null(api, core):
    """POST /api/v1/households without a member's school_enrolment recorded them 非在校 ("none"): it is
    not recorded (null), as their insurance; one sent is kept, one blank is not recorded too."""
    client = api("v01_secretary")
    answer = client.post("/api/v1/households", json={
        "village": _village_of(core, "v01_secretary"), "causes": ["illness"],
        "members": [{"name": "户主049", "id_number": id_number("36073019710203049")},
                    {"name": "孩子049", "id_number": id_number("36073020120203049"), "relation": "child",
                     "labour_ability": "none", "school_enrolment": ""},
                    {"name": "孩子050", "id_number": id_number("36073020130203050"), "relation": "child",
                     "labour_ability": "none", "school_enrolment": "在校生"}]})
    assert answer.status_code == 201, answer.text
    shown = client.get(f"/api/v1/cases/{answer.json()['ids'][0]}").json()
    assert [m["school_enrolment"] for m in shown["members"]] == [None, None, "enrolled"]
