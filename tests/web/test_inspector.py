"""The inspector's pages: flags with their events, case and person traces, problems and outcomes, the
audit status with "verify now"; read-only everywhere, within the reader's jurisdiction."""
from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import func, select

from engine.adapters import tables as t
from engine.reads.inspection import flags
from engine.reads.trace import case_trace, person_trace
from engine.services.org import load_actor

ID_NUMBER = re.compile(r"\d{17}[\dX]")
HASH = re.compile(r"\b[0-9a-f]{64}\b")        # a sha256 (a seal's head), not an ID number
POST_FORM = re.compile(r"<form\b[^>]*method=\"post\"[^>]*>", re.I)


def actor_of(core, code: str):
    with core.engine.connect() as conn:
        return load_actor(conn, conn.execute(select(t.persons).where(t.persons.c.code == code)).one())


def text_of(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def section(html: str, marker: str) -> str:
    """The HTML of the element that opens with `marker` up to the next element of the same kind."""
    start = html.index(marker)
    tag = html.rfind("<", 0, start)
    name = re.match(r"<(\w+)", html[tag:]).group(1)
    end = html.find(f"<{name} ", start + len(marker))
    return html[tag:end if end > 0 else len(html)]


@pytest.fixture(scope="module")
def wrong_exit(core):
    """The demo's wrong-exit problem item and the households it names."""
    with core.engine.connect() as conn:     # the demo's own (the first): a browser test may record another
        rows = conn.execute(select(t.problem_links.c.problem_id, t.problem_links.c.case_id)
                            .where(t.problem_links.c.finding == "wrong_exit")
                            .order_by(t.problem_links.c.problem_id, t.problem_links.c.case_id)).all()
    assert rows, "the demo records a wrong exit"
    return rows[0].problem_id, [r.case_id for r in rows if r.problem_id == rows[0].problem_id]


def test_the_flags_page_lists_the_demo_flags(signed_in, core, demo_home):
    inspector = signed_in("inspector")
    expected = list(flags(core, actor_of(core, demo_home[1]["inspector"][0])))
    assert expected, "the demo has inspection flags"
    page = inspector.get("/inspect/flags")
    assert page.status_code == 200
    assert page.text.count('class="card flag"') == len(expected)
    shown = text_of(page.text)
    for f in expected:
        assert f.text(core.config, "zh") in shown
        assert core.config.label(f"flag.{f.kind}", "zh") in shown
        if f.case_id:
            assert f'href="/inspect/trace/case/{f.case_id}"' in page.text


def test_flags_are_filtered_by_kind(signed_in, core, demo_home):
    inspector = signed_in("inspector")
    kinds = sorted({f.kind for f in flags(core, actor_of(core, demo_home[1]["inspector"][0]))})
    page = inspector.get("/inspect/flags", params={"kinds": kinds[0]})
    assert set(re.findall(r'data-kind="(\w+)"', page.text)) == {kinds[0]}
    count = page.text.count('class="card flag"')       # told in words, one flag as one (not "1 flags")
    english = inspector.get("/lang/en", params={"next": f"/inspect/flags?kinds={kinds[0]}"}, follow_redirects=True)
    assert (f"{count} flags." if count > 1 else "1 flag.") in text_of(english.text)
    assert "1 flags" not in text_of(english.text)
    inspector.get("/lang/zh", params={"next": "/"})
    assert inspector.get("/inspect/flags", params={"kinds": "no_such_kind"}).status_code == 400


def test_a_flags_events_are_shown_with_their_people(signed_in, core, demo_home):
    inspector = signed_in("inspector")
    flag = next(f for f in flags(core, actor_of(core, demo_home[1]["inspector"][0])) if f.events and f.case_id)
    seqs = ",".join(map(str, flag.events))
    assert f'hx-get="/inspect/events?seqs={seqs}"' in inspector.get("/inspect/flags").text
    answer = inspector.get(f"/inspect/events?seqs={seqs}", headers={"HX-Request": "true"})
    assert answer.status_code == 200 and "<html" not in answer.text       # a piece of the flags page
    assert sorted(int(s) for s in re.findall(r'data-seq="(\d+)"', answer.text)) == sorted(flag.events)
    with core.engine.connect() as conn:
        people = {r.person_name for r in conn.execute(select(t.audit_events.c.person_name)
                                                      .where(t.audit_events.c.seq.in_(flag.events)))}
    assert all(name in answer.text for name in people)
    assert f'href="/inspect/trace/case/{flag.case_id}"' in answer.text
    whole = inspector.get(f"/inspect/events?seqs={seqs}")                  # without HTMX: a page
    assert whole.status_code == 200 and "<html" in whole.text


def test_the_case_trace_names_the_people_of_every_step_of_a_wrong_exit(signed_in, core, demo_home, wrong_exit):
    inspector = signed_in("inspector")
    _problem, cases = wrong_exit
    trace = case_trace(core, actor_of(core, demo_home[1]["inspector"][0]), cases[0])
    exits = [p for p in trace["procedures"] if p["kind"] == "exit" and p["status"] == "completed"]
    assert exits
    page = inspector.get(f"/inspect/trace/case/{cases[0]}")
    assert page.status_code == 200
    for proc in exits:
        card = text_of(section(page.text, f'id="procedure-{proc["id"]}"'))
        for step in proc["steps"]:
            assert step["person_name"] in card and step["person"] in card
        for act in ("提出", "核实", "审批"):           # proposed, checked, approved
            assert act in card
        for r in proc["responsibility"]:
            assert r["person_name"] in card
        assert proc["policy_version"] in card
    chain = text_of(section(page.text, 'id="chain"'))
    assert all(s["person_name"] in chain for p in exits for s in p["steps"]
               if s["type"] in ("appraisal", "verification", "signoff"))
    evidence = [e for e in trace["evidence"] if e["file"]]
    assert evidence and f'href="/evidence/{evidence[0]["id"]}/file"' in page.text
    assert "data-print" in page.text


def test_a_project_and_a_village_are_said_in_their_own_stages(signed_in, core):
    """The demo's fund project (assets handed over) and poor village (exited, then consolidating) read
    as such on the trace and the case page, their procedures' moves in the same words; not as a
    household (已识别(建档立卡), 帮扶中, 已脱贫)."""
    with core.engine.connect() as conn:
        cases = dict(conn.execute(select(t.cases.c.kind, t.cases.c.id).where(t.cases.c.kind.in_(("project", "village"))))
                     .all())
    inspector, county = signed_in("inspector"), signed_in("county")
    project = [text_of(inspector.get(f"/inspect/trace/case/{cases['project']}").text),
               text_of(county.get(f"/cases/{cases['project']}").text)]
    village = [text_of(inspector.get(f"/inspect/trace/case/{cases['village']}").text),
               text_of(county.get(f"/cases/{cases['village']}").text)]
    for page in project:
        assert "已确权移交" in page and "申报中 → 已入库" in page and "已竣工验收 → 已确权移交" in page
    for page in village:
        assert "驻村帮扶中 → 已出列" in page and "已出列 → 出列巩固期(过渡期)" in page
    for page in project + village:
        assert "已识别(建档立卡)" not in page and " 帮扶中" not in page and "已脱贫" not in page


def test_the_problem_trace_shows_the_exit_chain_and_the_outcomes(signed_in, core, wrong_exit):
    inspector = signed_in("inspector")
    problem, cases = wrong_exit
    with core.engine.connect() as conn:          # the household the sample check found: its village's director
        village = conn.execute(select(t.regions.c.name).join(t.cases, t.cases.c.region_code == t.regions.c.code)
                               .where(t.cases.c.id == cases[0])).scalar_one()
    page = text_of(inspector.get(f"/inspect/trace/case/{problem}").text)
    for name in (f"{village}主任", "县长 陈建国", "梅江镇党委书记", "诫勉", "通报"):
        assert name in page


def test_problems_and_outcomes_link_to_their_cases(signed_in, core, wrong_exit):
    inspector = signed_in("inspector")
    problem, cases = wrong_exit
    page = inspector.get("/inspect/problems")
    assert page.status_code == 200
    item = section(page.text, f'id="problem-{problem}"')
    for case in cases:
        assert f'href="/inspect/trace/case/{case}"' in item
    with core.engine.connect() as conn:
        outcomes = conn.execute(select(t.accountability_outcomes)).all()
    assert outcomes
    shown = text_of(section(page.text, 'id="outcomes"'))
    for o in outcomes:
        assert o.person_name in shown and o.reason in shown
    assert "错退" in text_of(item)


def test_an_outcome_and_a_rectification_past_their_dates_say_how_long_overdue(signed_in, core):
    """The demo's removal (免职) is due a month after its decision and is not carried out by the demo's
    autumn, nor is the rectification it answers: the page gave their dates and said nothing more."""
    ao = t.accountability_outcomes.c
    with core.engine.connect() as conn:
        removal = conn.execute(select(ao.problem_id, ao.due_on, ao.person_name).where(ao.outcome == "removal")).one()
    page = signed_in("inspector").get("/inspect/problems").text
    row = next(r for r in re.findall(r"<tr>.*?</tr>", section(page, 'id="outcomes"'), re.S) if removal.person_name in r)
    assert f"已逾期 {(core.clock.today() - removal.due_on).days} 天" in text_of(row)
    assert "问题整改期限：已逾期" in text_of(section(page, f'id="problem-{removal.problem_id}"'))


def test_the_person_dossier_groups_responsibilities_with_counts(signed_in, core, demo_home):
    inspector = signed_in("inspector")
    trace = person_trace(core, actor_of(core, demo_home[1]["inspector"][0]), "county_head")
    rows = [r for r in trace["responsibilities"] if r["procedure"] == "exit"]
    assert len(rows) > 1
    page = inspector.get("/inspect/trace/person/county_head")
    assert page.status_code == 200
    groups = section(page.text, 'id="responsibilities"')
    counts = [int(c) for c in re.findall(r'class="num count">(?:<a [^>]*>)?(\d+)<', groups)]
    r = t.responsibilities.c
    with core.engine.connect() as conn:
        person = select(t.persons.c.id).where(t.persons.c.code == "county_head").scalar_subquery()
        total, exits = conn.execute(select(func.count(), func.count().filter(r.procedure_kind == "exit"))
                                    .where(r.person_id == person)).one()
    assert sum(counts) == total and len(counts) < total       # every one counted, not only the page's
    assert sum(g["count"] for g in trace["responsibility_groups"] if g["procedure"] == "exit") == exits
    assert f'href="/inspect/trace/case/{rows[0]["case_id"]}"' in groups
    assert "宁都县" in text_of(section(page.text, 'id="posts"'))          # regions by name
    outcomes = text_of(inspector.get("/inspect/trace/person/t1_secretary").text)
    assert "诫勉" in outcomes


def test_a_cadre_and_a_county_director_are_not_inspectors(signed_in):
    for kind in ("cadre", "county"):
        client = signed_in(kind)
        for path in ("/inspect", "/inspect/flags", "/inspect/problems", "/inspect/trace/case/1",
                     "/inspect/trace/person/county_head", "/inspect/events?seqs=1"):
            assert client.get(path).status_code == 403, (kind, path)
        assert client.post("/inspect/verify", data={"csrf": client.csrf}).status_code == 403


def test_the_inspector_of_the_county_sees_the_whole_county(signed_in, core, demo_home):
    from engine.reads.case_lists import list_cases
    inspector = signed_in("inspector")
    county = actor_of(core, demo_home[1]["county"][0])
    households = list(list_cases(core, county, kind="household"))
    townships = {c["region"][:9] for c in households}
    assert len(townships) > 1
    for township in sorted(townships):
        case = next(c for c in households if c["region"][:9] == township)
        assert inspector.get(f"/inspect/trace/case/{case['id']}").status_code == 200
    problems = [c["id"] for c in list_cases(core, county, kind="problem")]
    page = inspector.get("/inspect/problems").text
    assert problems and all(f'id="problem-{p}"' in page for p in problems)


def test_outside_the_jurisdiction_is_not_found(signed_in):
    inspector = signed_in("inspector")
    assert inspector.get("/inspect/trace/case/999999").status_code == 404
    assert inspector.get("/inspect/trace/person/no_such_person").status_code == 404
    assert inspector.get("/inspect/trace/person/city_staff").status_code == 404     # a post above the county


def test_an_inspectors_post_to_a_write_route_is_refused(signed_in, core, demo_home):
    from engine.reads.case_lists import list_cases
    from engine.reads.queries import next_for
    inspector = signed_in("inspector")
    actor = actor_of(core, demo_home[1]["inspector"][0])
    case = next(c for c in list_cases(core, actor, kind="household") if next_for(core, actor, c["id"])["next"])
    nxt = next_for(core, actor, case["id"])["next"]
    step = inspector.post(f"/cases/{case['id']}/step", data={"csrf": inspector.csrf, "procedure": nxt["procedure"],
                                                             "step": nxt["step"]})
    assert step.status_code == 403
    evidence = inspector.post(f"/cases/{case['id']}/evidence", data={"csrf": inspector.csrf, "type": "application",
                                                                     "f_applicant": "户主", "f_applied_on": "2020-01-08"})
    assert evidence.status_code == 403
    page = inspector.get(f"/cases/{case['id']}").text
    assert 'id="step-form"' not in page and 'hx-post="/cases/' not in page


def _inspector_pages(client, core, wrong_exit) -> dict[str, str]:
    problem, cases = wrong_exit
    paths = ["/inspect", "/inspect/flags", "/inspect/problems", f"/inspect/trace/case/{cases[0]}",
             f"/inspect/trace/case/{problem}", "/inspect/trace/person/county_head",
             "/inspect/trace/person/v01_secretary", "/inspect/events?seqs=" + ",".join(map(str, range(1, 300)))]
    pages = {}
    for path in paths:
        answer = client.get(path)
        assert answer.status_code == 200, path
        pages[path] = answer.text
    return pages


def test_no_write_form_and_no_id_number_on_any_inspector_page(signed_in, core, wrong_exit):
    inspector = signed_in("inspector")
    for path, html in _inspector_pages(inspector, core, wrong_exit).items():
        actions = [re.search(r'action="([^"]*)"', f).group(1) for f in POST_FORM.findall(html)]
        assert set(actions) <= {"/signout", "/inspect/verify"}, path
        assert "hx-post" not in html.replace('hx-post="/inspect/verify"', ""), path
        assert not ID_NUMBER.search(HASH.sub("", html)), path


def test_verify_now_reports_the_log_intact(signed_in):
    inspector = signed_in("inspector")
    home = inspector.get("/inspect").text
    assert "立即核验" in home and re.search(r'id="sealed-head">\d+:[0-9a-f]{64}<', home)
    assert inspector.post("/inspect/verify", data={}).status_code == 403                  # no CSRF token
    answer = inspector.post("/inspect/verify", data={"csrf": inspector.csrf}, headers={"HX-Request": "true"})
    assert answer.status_code == 200 and 'id="verify-answer"' in answer.text
    assert "审计日志完整" in answer.text
    assert "审计日志完整" in text_of(section(inspector.get("/inspect").text, 'id="last-verify"'))


def test_verify_now_checks_against_a_published_head_and_says_where_it_differs(signed_in):
    inspector = signed_in("inspector")
    home = inspector.get("/inspect").text
    assert "公布的链头" in home and 'name="against"' in home
    seq, digest = re.search(r'id="sealed-head">(\d+):([0-9a-f]{64})<', home).groups()

    def verify(against: str):
        return inspector.post("/inspect/verify", data={"csrf": inspector.csrf, "against": against},
                              headers={"HX-Request": "true"})
    same = verify(f" {seq}:{digest} ")
    assert same.status_code == 200 and f"与公布的链头（序号 {seq}）一致" in text_of(same.text)
    forged = "0" * 64 if digest != "0" * 64 else "1" * 64
    differs = text_of(verify(f"{seq}:{forged}").text)
    assert f"与公布的链头（序号 {seq}）不一致" in differs and "审计日志完整" not in differs
    assert "已公布的链头不符" in differs and forged in differs and digest in differs      # where: both heads
    gone = text_of(verify(f"{int(seq) + 1}:{digest}").text)
    assert "不一致" in gone and ("该序号不是已封存的链头" in gone and "请核对所公布的链头" in gone  # a seq mistyped
                                 or f"日志现只到序号 {seq}；公布时的序号 {int(seq) + 1} 已不在日志中" in gone)
    bad = verify("54036:00f1…")
    assert bad.status_code == 400 and "不是链头" in text_of(bad.text) and "序号:哈希" in text_of(bad.text)
    inspector.cookies.set("lang", "en")
    assert f"Agrees with the published head (seq {seq})" in text_of(verify(f"{seq}:{digest}").text)
    one = text_of(verify(f"{seq}:{forged}").text)              # one damage, said in the singular
    assert "1 damage found" in one and "damages" not in one
    assert "1 damage found" in text_of(section(inspector.get("/inspect").text, 'id="last-verify"'))


def test_verify_on_a_server_without_the_key_file_says_signatures_were_not_checked(signed_in, core):
    inspector = signed_in("inspector")
    ours, core.keyring = core.keyring, None          # the server's home lost its key file
    try:
        answer = inspector.post("/inspect/verify", data={"csrf": inspector.csrf}, headers={"HX-Request": "true"})
    finally:
        core.keyring = ours
    assert "未核对签名" in answer.text and "审计日志完整" not in answer.text


def test_verify_against_a_published_head_without_the_key_file_says_what_the_head_proved(signed_in, core):
    """Verified against a published head where the server lost its key file: what the head proves
    and what it does not, never the advice to verify against a published head, which was just done."""
    inspector = signed_in("inspector")
    seq, digest = re.search(r'id="sealed-head">(\d+):([0-9a-f]{64})<', inspector.get("/inspect").text).groups()
    with core.engine.connect() as conn:
        after = conn.execute(select(func.count()).select_from(t.audit_events).where(t.audit_events.c.seq > int(seq))).scalar()
    ours, core.keyring = core.keyring, None          # the server's home lost its key file
    try:
        said = [text_of(inspector.post("/inspect/verify", data={"csrf": inspector.csrf, "against": head},
                                       headers={"HX-Request": "true"}).text)
                for head in (f"{seq}:{digest}", f"{seq}:{'0' * 64 if digest != '0' * 64 else '1' * 64}")]
    finally:
        core.keyring = ours
    agrees, differs = said
    proved = f"其后的 {after} 条事件只核对了哈希链" if after else f"全部事件都在公布的链头（序号 {seq}）以内"
    assert f"与公布的链头（序号 {seq}）一致" in agrees and proved in agrees, agrees
    assert "对照已公开发布的审计链头" not in agrees and "对照已公开发布的审计链头" not in differs
    assert "不一致" in differs and "只核对了哈希链，未核对每条事件的签名" in differs and "链头证明" not in differs


def test_a_server_failure_in_a_part_of_a_page_is_a_message_in_its_place(web, core, monkeypatch):
    """The verify panel (HTMX) when the server fails: a line in the panel, not a whole error page
    nested in it, and no claim that 'nothing was saved'."""
    from fastapi.testclient import TestClient
    from engine.reads import audit_verify
    from engine.services.accounts import open_session

    def fails(*_args, **_kwargs):
        raise RuntimeError("boom")
    monkeypatch.setattr(audit_verify, "verify", fails)
    secret, csrf = open_session(core, actor_of(core, "inspector"))
    with TestClient(web, follow_redirects=False, raise_server_exceptions=False) as inspector:
        inspector.cookies.set("jz_session", secret)
        answer = inspector.post("/inspect/verify", data={"csrf": csrf}, headers={"HX-Request": "true"})
    assert answer.status_code == 500
    assert "<html" not in answer.text and "<header" not in answer.text
    assert "服务器出错" in answer.text and "没有保存" not in answer.text and "boom" not in answer.text


def test_a_cadres_page_tells_an_inspector_where_to_read_not_to_ask_for_a_post(signed_in):
    inspector = signed_in("inspector")
    refused = inspector.get("/work")
    assert refused.status_code == 403
    assert "只读" in refused.text and "监督检查" in refused.text and "申请相应岗位" not in refused.text


def test_the_pages_speak_english_too(signed_in, wrong_exit):
    inspector = signed_in("inspector")
    inspector.cookies.set("lang", "en")
    page = text_of(inspector.get(f"/inspect/trace/case/{wrong_exit[1][0]}").text)
    assert "Proposed" in page and "Checked" in page and "Approved" in page


def test_a_discipline_officer_reads_the_inspectors_pages(web, core, wrong_exit):
    from fastapi.testclient import TestClient
    from engine.services.accounts import open_session
    secret, _csrf = open_session(core, actor_of(core, "discipline_officer"))
    with TestClient(web, follow_redirects=False) as officer:
        officer.cookies.set("jz_session", secret)
        for path in ("/inspect", "/inspect/flags", "/inspect/problems", f"/inspect/trace/case/{wrong_exit[0]}",
                     "/inspect/trace/person/t1_secretary"):
            assert officer.get(path).status_code == 200, path


def test_the_trace_search_goes_to_the_case_or_the_person(signed_in):
    inspector = signed_in("inspector")
    assert inspector.get("/inspect/trace", params={"case": " #3 "}).headers["location"] == "/inspect/trace/case/3"
    assert inspector.get("/inspect/trace", params={"person": "county_head"}).headers["location"] == \
        "/inspect/trace/person/county_head"
    odd = inspector.get("/inspect/trace", params={"person": "a/../b"})        # nobody: said, never a path
    assert odd.status_code == 200 and 'id="found-none"' in odd.text and odd.url.path == "/inspect/trace"
    assert inspector.get("/inspect/trace").headers["location"] == "/inspect"


def test_the_trace_search_finds_a_household_by_a_members_id_number(signed_in, core):
    from sqlalchemy import select
    from engine.adapters import tables as t
    with core.engine.connect() as conn:
        case, number = conn.execute(select(t.household_members.c.case_id, t.household_members.c.id_number)
                                    .where(t.household_members.c.active.is_(True),
                                           t.household_members.c.relation != "head").limit(1)).first()
    inspector = signed_in("inspector")
    for typed in (number, number.lower(), f" {number[:6]} {number[6:]} "):
        found = inspector.get("/inspect/trace", params={"case": typed})
        assert found.headers["location"] == f"/inspect/trace/case/{case}", typed
    unknown = inspector.get("/inspect/trace", params={"case": "11010519491231002X"})
    assert unknown.status_code == 200 and 'id="found-none"' in unknown.text
    shown = text_of(unknown.text.split("<main", 1)[1])          # what the page says (the URL keeps what was typed)
    assert "110105********002X" in shown and "11010519491231002X" not in shown
    person = inspector.get("/inspect/trace", params={"person": "11010519491231002X"})   # typed in the other box
    assert "11010519491231002X" not in text_of(person.text.split("<main", 1)[1])


def test_verify_now_runs_once_at_a_time(signed_in):
    from entrypoints.web import routes_inspector
    inspector = signed_in("inspector")
    with routes_inspector.VERIFYING:
        busy = inspector.post("/inspect/verify", data={"csrf": inspector.csrf}, headers={"HX-Request": "true"})
    assert busy.status_code == 409 and "另一次核验正在进行" in busy.text


def test_events_outside_the_jurisdiction_are_left_out(signed_in, core):
    inspector = signed_in("inspector")
    with core.engine.connect() as conn:
        outside = [s for s, in conn.execute(select(t.audit_events.c.seq).where(
            t.audit_events.c.region_code == "000000000000").limit(5))]
        inside = conn.execute(select(t.audit_events.c.seq).where(t.audit_events.c.case_id.isnot(None))
                              .limit(1)).scalar()
    assert outside
    answer = inspector.get("/inspect/events?seqs=" + ",".join(map(str, [*outside, inside])),
                           headers={"HX-Request": "true"}).text
    assert re.findall(r'data-seq="(\d+)"', answer) == [str(inside)]
    missing = text_of(section(answer, 'id="events-missing"'))
    assert "辖区内没有序号为" in missing and all(str(s) in missing for s in outside) and str(inside) not in missing


def test_events_that_do_not_exist_are_named_not_hinted_at_as_hidden(signed_in, core):
    """seqs=99999999 said 辖区内没有这些审计事件 and 另有 1 条未显示（超出前 200 条，或不在辖区内）: a hidden
    event that is not there. The numbers not found are named; only past the page's limit is more 'not shown'."""
    inspector = signed_in("inspector")
    answer = text_of(inspector.get("/inspect/events?seqs=99999999").text)
    assert "辖区内没有序号为 99999999 的审计事件" in answer and "未显示" not in answer and "辖区内没有这些" not in answer
    with core.engine.connect() as conn:
        last = conn.execute(select(func.max(t.audit_events.c.seq))).scalar()
    many = ",".join(str(last + 1 + i) for i in range(205))
    over = text_of(inspector.get(f"/inspect/events?seqs={many}", headers={"HX-Request": "true"}).text)
    assert "另有 5 条未显示：一次最多显示 200 条" in over and " …" in over


def test_an_inspector_finds_a_household_and_a_person_by_name(signed_in, core):
    """The search takes names as well as numbers and codes: one match goes to its trace, several are
    listed with their region and stage, none is said (it went back to the search silently)."""
    from sqlalchemy import func, select
    from engine.adapters import tables as t
    inspector = signed_in("inspector")
    with core.engine.connect() as conn:
        unique = conn.execute(select(t.cases.c.id, t.cases.c.title).where(t.cases.c.kind == "household")
                              .group_by(t.cases.c.id, t.cases.c.title).order_by(t.cases.c.id)).all()
        counts = dict(conn.execute(select(t.cases.c.title, func.count()).group_by(t.cases.c.title)).all())
        person = conn.execute(select(t.persons.c.code, t.persons.c.name).where(t.persons.c.code == "v01_secretary")).one()
    one = next(r for r in unique if counts[r.title] == 1)
    answer = inspector.get("/inspect/trace", params={"case": one.title}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == f"/inspect/trace/case/{one.id}"
    prefixes: dict[str, list] = {}
    for r in unique:
        prefixes.setdefault(r.title[:2], []).append(r)
    prefix, named = next((k, v) for k, v in prefixes.items() if 2 <= len(v) <= 50)
    listed = inspector.get("/inspect/trace", params={"case": prefix})
    assert listed.status_code == 200 and 'id="found-cases"' in listed.text
    assert all(f"#{r.id} {r.title}" in listed.text for r in named)
    nobody = inspector.get("/inspect/trace", params={"case": "无此人"})
    assert 'id="found-none"' in nobody.text and "无此人" in nobody.text
    by_name = inspector.get("/inspect/trace", params={"person": person.name}, follow_redirects=False)
    assert by_name.headers["location"] == f"/inspect/trace/person/{person.code}"
    by_code = inspector.get("/inspect/trace", params={"person": person.code.upper()}, follow_redirects=False)
    assert by_code.headers["location"] == f"/inspect/trace/person/{person.code}"


def test_an_inspector_finds_a_person_by_a_part_of_their_name(signed_in, core):
    """Names carry a title (扶贫办主任 黄海军): a search for 黄海军 found nobody, names having matched
    from their start only. Any part of the name matches, within the jurisdiction, a page at most."""
    inspector = signed_in("inspector")
    with core.engine.connect() as conn:
        name = conn.execute(select(t.persons.c.name).where(t.persons.c.code == "county_director")).scalar()
    title, _, bare = name.partition(" ")
    assert title and bare, name
    found = inspector.get("/inspect/trace", params={"person": bare}, follow_redirects=False)
    assert found.status_code == 303 and found.headers["location"] == "/inspect/trace/person/county_director"
    listed = inspector.get("/inspect/trace", params={"person": "干部"})       # 梅江镇干部1, 扶贫办干部 周丽娟…
    assert listed.status_code == 200 and "/inspect/trace/person/t1_staff1" in listed.text
    assert "/inspect/trace/person/county_staff" in listed.text
    nobody = text_of(inspector.get("/inspect/trace", params={"person": "无此人"}).text)
    assert "没有姓名含「无此人」" in nobody


def _figure(value: float) -> str:
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def test_the_case_trace_page_says_what_each_step_was_based_on(signed_in, core, demo_home):
    inspector = signed_in("inspector")
    trace = case_trace(core, actor_of(core, demo_home[1]["inspector"][0]), 6)
    proposal = next(s for p in trace["procedures"] for s in p["steps"] if s["step"] == "proposal")
    vote, check = proposal["data"], proposal["data"]["exit_check"]
    row = text_of(section(inspector.get("/inspect/trace/case/6").text, 'data-step="proposal"'))
    assert f"到会人数：{vote['attendance']}" in row and f"赞成票：{vote['votes_for']}" in row
    assert f"反对票：{vote['votes_against']}" in row
    assert (f"退出收入核对：人均纯收入 {_figure(check['per_capita'])} 元，标准线 {_figure(check['line'])} 元"
            f"（江西（36）2019 年省定标准）") in row
    relied = next(e["id"] for e in proposal["evidence"] if e["type"] == "income_assessment")
    with core.engine.connect() as conn:
        sheet = conn.execute(select(t.evidence.c.fields).where(t.evidence.c.id == relied)).scalar()
    assert f"家庭纯收入：{_figure(sheet['net_income'])}" in row
    assert "基本医疗核对：" in row and "住房安全核对：" in row          # what else the exit standard read
    inspector.cookies.set("lang", "en")
    english = text_of(section(inspector.get("/inspect/trace/case/6").text, 'data-step="proposal"'))
    assert f"exit income check: per-capita net income {_figure(check['per_capita'])} yuan" in english


def test_a_replaced_income_sheet_shows_its_figures_before_and_after(signed_in, core):
    with core.engine.connect() as conn:
        old = conn.execute(select(t.evidence).where(t.evidence.c.superseded_by.isnot(None),
                                                    t.evidence.c.type == "income_assessment")).first()
        new = conn.execute(select(t.evidence).where(t.evidence.c.id == old.superseded_by)).one()
    html = signed_in("inspector").get(f"/inspect/trace/case/{old.case_id}").text
    changed = (f"收入核算明细表：家庭纯收入 {_figure(old.fields['net_income'])} → "
               f"{_figure(new.fields['net_income'])}")
    assert changed in text_of(html)
    # the audit event of the replacement says it too, with who, in which post, and why
    ae = t.audit_events
    with core.engine.connect() as conn:
        event = conn.execute(select(ae).where(ae.c.case_id == old.case_id, ae.c.action == "evidence_replaced")).one()
    row = text_of(section(html, 'class="event" data-action="evidence_replaced"'))
    assert changed in row and f"#{old.id} → #{new.id}" in row and event.reason in row
    assert f"{event.person_name} ({event.person_code}) {core.config.role_label(event.role, 'zh')}" in row


def test_the_person_trace_shows_their_other_acts_a_page_at_a_time(signed_in, core, monkeypatch):
    monkeypatch.setattr("engine.reads.trace.ACTS_PAGE", 10, raising=False)       # the demo's busiest cadre has a few dozen
    inspector = signed_in("inspector")
    ae = t.audit_events
    with core.engine.connect() as conn:
        who, replaced = conn.execute(select(ae.c.person_code, ae.c.case_id).where(
            ae.c.action == "evidence_replaced", ae.c.case_id.isnot(None)).order_by(ae.c.seq)).first()
        busiest = conn.execute(select(ae.c.person_code).where(ae.c.case_id.isnot(None), ae.c.action != "step")
                               .group_by(ae.c.person_code).order_by(func.count().desc())).scalars().first()
    page = inspector.get(f"/inspect/trace/person/{busiest}").text
    acts = section(page, 'id="acts"')
    assert "添加材料" in text_of(acts) and "登记案件" in text_of(acts)       # every kind, with how many
    first = [int(s) for s in re.findall(r'<tr data-seq="(\d+)"', acts)]
    assert len(first) == 10 and first == sorted(first, reverse=True)
    older = unescape(re.search(r'id="older" href="([^"]+)"', acts).group(1))
    second = [int(s) for s in re.findall(r'<tr data-seq="(\d+)"', section(inspector.get(older).text, 'id="acts"'))]
    assert second and max(second) < min(first)
    mine = section(inspector.get(f"/inspect/trace/person/{who}").text, 'id="acts"')
    assert re.search(r"更换材料 \d+", text_of(mine))
    only = section(inspector.get(f"/inspect/trace/person/{who}", params={"action": "evidence_replaced"}).text,
                   'id="acts"')
    assert set(re.findall(r'data-action="(\w+)"', only)) == {"evidence_replaced"}
    assert f'href="/inspect/trace/case/{replaced}"' in only
    assert re.search(r"#\d+ → #\d+", text_of(only)) and "：" in text_of(only).split("→", 1)[1]


def test_a_sample_checks_problem_item_is_named_in_the_readers_language_on_the_pages(signed_in, wrong_exit):
    """The demo's sample check found a wrong exit: its problem item was titled 抽查 #N 错退：… on every page,
    English or not (the problems page, its trace, the household's 'named by problems' and reopening reason).
    It is said in the reader's language."""
    problem, cases = wrong_exit
    inspector = signed_in("inspector")
    for path in ("/inspect/problems", f"/inspect/trace/case/{problem}", f"/inspect/trace/case/{cases[0]}"):
        english = inspector.get("/lang/en", params={"next": path}, follow_redirects=True)
        shown = text_of(english.text)
        assert english.status_code == 200 and "sample check #" in shown, (path, shown[:2000])
        assert "抽查" not in shown and "&#34;key&#34;" not in english.text, path
        chinese = text_of(inspector.get("/lang/zh", params={"next": path}, follow_redirects=True).text)
        assert "抽查 #" in chinese and "sample check" not in chinese, path


def test_an_inspector_finds_a_sample_checks_problem_item_by_its_words_in_either_language(signed_in, core, wrong_exit):
    """The demo's sample check opened a problem item titled 抽查 #N 错退… (sample check #N: … in English);
    searching the case box for 抽查 or 'sample check' said no case was found. It goes to the item's trace
    (or lists it), in Chinese and in English, by those words and by the draw's number."""
    problem, _ = wrong_exit
    with core.engine.connect() as conn:
        draw = conn.execute(select(t.sample_findings.c.draw_id).where(t.sample_findings.c.problem_id == problem)).scalar()
    assert draw, "the demo's wrong exit was found by a sample check"
    inspector = signed_in("inspector")
    for lang, typed in (("zh", "抽查"), ("en", "sample check"), ("zh", f"抽查 #{draw}"), ("en", f"Sample check #{draw}")):
        inspector.get(f"/lang/{lang}", params={"next": "/inspect"})
        found = inspector.get("/inspect/trace", params={"case": typed}, follow_redirects=True)
        assert found.status_code == 200 and (found.url.path == f"/inspect/trace/case/{problem}"
                                             or f'href="/inspect/trace/case/{problem}"' in found.text), (typed, found.url)


def test_a_households_trace_page_says_the_sample_finding_and_its_draw(signed_in, core, wrong_exit):
    """The demo household a sample check found wrongly exited: its trace page listed the event as 核查结论
    (sample check finding) alone. It says the draw, the finding and the problem item it opened, zh and en."""
    problem, cases = wrong_exit
    with core.engine.connect() as conn:
        draw = conn.execute(select(t.sample_findings.c.draw_id).where(t.sample_findings.c.problem_id == problem)).scalar()
    inspector = signed_in("inspector")
    path = f"/inspect/trace/case/{cases[0]}"
    for lang, said in (("zh", [f"抽查 #{draw} 核查结论：错退", f"据此登记问题 #{problem}"]),
                       ("en", [f"sample check #{draw} finding: wrong exit", f"problem #{problem} registered for it"])):
        page = inspector.get(f"/lang/{lang}", params={"next": path}, follow_redirects=True)
        shown = text_of(page.text)
        assert page.status_code == 200 and all(line in shown for line in said), (lang, shown[:3000])
