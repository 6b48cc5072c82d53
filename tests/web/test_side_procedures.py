"""A procedure off the main path (防返贫监测, a removal, a reopening) started from the case's page.

The page offered only the main path's next step: a consolidated household's page said nothing waited,
so a cadre who found a risk on a visit could not start its monitoring, nor remove a household whose
people had all died, anywhere but on the command line."""
from __future__ import annotations

import re

from sqlalchemy import select

from engine.adapters import tables as t
from engine.domain.regions import prefix

HX = {"HX-Request": "true"}      # sent as the case page's form sends it (htmx)


def _case_at(core, code: str, stage: str, skip: int = 0) -> int:
    """A household within the person's post at `stage`, with no procedure open."""
    with core.engine.connect() as conn:
        person = conn.execute(select(t.persons.c.id).where(t.persons.c.code == code)).scalar_one()
        region = conn.execute(select(t.role_assignments.c.region_code).where(
            t.role_assignments.c.person_id == person)).scalars().first()
        return conn.execute(select(t.cases.c.id).where(
            t.cases.c.region_code.startswith(prefix(region)), t.cases.c.kind == "household",
            t.cases.c.stage == stage, t.cases.c.open_procedure_id.is_(None))
            .order_by(t.cases.c.id.desc()).offset(skip)).scalars().first()


def test_a_township_clerk_starts_monitoring_of_a_consolidated_household(web, signed_in, demo_home):
    core = web.state.core
    cadre = signed_in("township")
    case = _case_at(core, demo_home[1]["township"][0], "consolidated")
    assert case is not None
    page = cadre.get(f"/cases/{case}").text
    others = page.partition('id="others"')[2].partition("</div>")[0]
    assert f'href="/cases/{case}?procedure=monitoring"' in others and "防返贫监测识别" in others
    assert '?procedure=reopen_wrong_exit"' in others and "错退纠正" in others
    assert "阶段不变" in others and "巩固期(过渡期) → 帮扶中" in others
    assert "?procedure=exit" not in others                        # not from this stage
    assert "?procedure=removal_natural" not in others             # its first step is the village's, not hers

    started = cadre.get(f"/cases/{case}?procedure=monitoring").text
    assert 'id="starting"' in started and "正在开始办理「防返贫监测识别」" in started
    assert 'name="procedure" value="monitoring"' in started and 'name="step" value="clue"' in started
    assert f'href="/cases/{case}?procedure=monitoring"' not in started.partition('id="others"')[2]
    # the evidence the step needs is a tap away (its form was three screens down on a phone), its type tapped
    assert 'href="#ev-monitoring_clue"' in started.partition('id="needs-evidence"')[2].partition("</p>")[0]
    clue_form = started.partition('id="ev-monitoring_clue"')[2].partition("</form>")[0]
    assert 'type="radio" name="f_monitoring_type" value="unstable"' in clue_form and "脱贫不稳定户" in clue_form
    assert 'value="edge"' not in clue_form        # an exited household is never 边缘易致贫户 (never registered poor)

    # the clue's evidence first, then its first step: the procedure is open, the page shows its next step
    form = {"csrf": cadre.csrf, "type": "monitoring_clue", "f_source": "走访排查", "f_clue_date": core.clock.today().isoformat(),
            "f_monitoring_type": "突发严重困难户", "f_description": "户主住院，医疗支出大"}
    added = cadre.post(f"/cases/{case}/evidence", headers=HX, data=form)
    assert added.status_code == 200, added.text
    version = int(started.partition('name="version" value="')[2].partition('"')[0])
    # the page's version, from before the evidence: what to do said for the page (it said "reload")
    stale = cadre.post(f"/cases/{case}/step", headers=HX, data={"csrf": cadre.csrf, "procedure": "monitoring",
                                                                 "step": "clue", "version": str(version)})
    assert stale.status_code == 409 and f"案件 {case} 在您打开本页之后已被他人修改" in stale.text, stale.text
    assert "请重新打开该案件的页面" in stale.text and "--expect-version" not in stale.text
    done = cadre.post(f"/cases/{case}/step", headers=HX, data={"csrf": cadre.csrf, "procedure": "monitoring", "step": "clue",
                                                    "version": str(version + 1)})
    assert done.status_code == 200 and 'data-outcome="done"' in done.text, done.text
    after = cadre.get(f"/cases/{case}").text
    assert 'name="procedure" value="monitoring"' in after or "防返贫监测识别 · " in after
    # one procedure at a time, but a pairing change, which runs beside it (a cadre moved is replaced at once)
    others = after.partition('id="others"')[2].partition("</div>")[0]
    assert 'id="starting"' not in after and re.findall(r"\?procedure=(\w+)", others) == ["pairing_change"]


def test_a_procedure_that_cannot_start_is_refused_in_words(web, signed_in, demo_home):
    core = web.state.core
    cadre = signed_in("township")
    case = _case_at(core, demo_home[1]["township"][0], "consolidated", skip=1)
    wrong = cadre.get(f"/cases/{case}?procedure=exit")          # a stale link: the page, saying why not
    said = wrong.text.partition('id="start-refused"')[2].partition("</div>")[0]
    assert wrong.status_code == 200 and "脱贫退出" in said and "巩固期" in said
    assert 'id="others"' in wrong.text and 'id="starting"' not in wrong.text
    unknown = cadre.get(f"/cases/{case}?procedure=nonsense")
    said = unknown.text.partition('id="start-refused"')[2].partition("</div>")[0]
    assert unknown.status_code == 200 and "nonsense" in said and "防返贫监测识别" in said and "risk_elimination" not in said


def test_an_inspector_is_offered_no_procedure_to_start(web, signed_in, demo_home):
    core = web.state.core
    case = _case_at(core, demo_home[1]["township"][0], "consolidated", skip=1)
    inspector = signed_in("inspector")
    assert 'id="others"' not in inspector.get(f"/cases/{case}").text
    typed = inspector.get(f"/cases/{case}?procedure=monitoring").text      # no banner of a start she cannot make
    assert 'id="starting"' not in typed and 'id="step-form"' not in typed


def test_the_api_and_cli_name_the_procedures_that_may_start(web, signed_in, demo_home):
    core = web.state.core
    case = _case_at(core, demo_home[1]["township"][0], "consolidated", skip=1)
    from engine.reads.queries import next_for
    from engine.services.org import authenticate
    code = demo_home[1]["township"][0]
    tokens = dict(line.split(",", 1) for line in
                  (core.settings.home / "demo-tokens.csv").read_text(encoding="utf-8").split())
    actor = authenticate(core, code, tokens[code].strip())
    nxt = next_for(core, actor, case)
    assert nxt["next"] is None and {o["procedure"] for o in nxt["others"]} >= {"monitoring", "removal_natural"}
    # risk elimination is offered to a monitored household only, monitoring to one not monitored
    assert "risk_elimination" not in {o["procedure"] for o in nxt["others"]}
    monitoring = next_for(core, actor, case, procedure="monitoring")
    assert monitoring["next"]["procedure"] == "monitoring" and monitoring["next"]["step"] == "clue"
    assert "monitoring" not in {o["procedure"] for o in monitoring["others"]}
    # monitoring's first step is a pairing cadre's for their own households only: the page offers it to them alone
    clue = next(o for o in nxt["others"] if o["procedure"] == "monitoring")
    with core.engine.connect() as conn:
        paired = set(conn.execute(select(t.persons.c.code).join(t.pairings, t.pairings.c.person_id == t.persons.c.id)
                                  .where(t.pairings.c.case_id == case, t.pairings.c.end_date.is_(None))).scalars())
    assert clue["only"] == {"roles": ["pairing_cadre"], "persons": sorted(paired)} and paired


def test_a_visit_that_finds_a_risk_offers_to_start_monitoring(web, signed_in, demo_home):
    core = web.state.core
    clerk = signed_in("township")
    case = _case_at(core, demo_home[1]["township"][0], "consolidated", skip=2)
    form = {"csrf": clerk.csrf, "visit_date": core.clock.today().isoformat(), "findings": "户主突发重病"}
    calm = clerk.post(f"/cases/{case}/visits", headers=HX, data=form)
    said = lambda answer: answer.text.partition('id="done"')[2].partition("</div>")[0]  # noqa: E731 (the page's top)
    assert calm.status_code == 200 and "已登记走访" in said(calm) and "?procedure=" not in said(calm)
    risky = clerk.post(f"/cases/{case}/visits", headers=HX, data={**form, "risk": "1"})
    assert risky.status_code == 200 and "已登记走访" in said(risky)
    assert f'href="/cases/{case}?procedure=monitoring"' in said(risky) and "开始「防返贫监测识别」" in said(risky)
    # not followed at once, the risk waits on my work until its monitoring starts (it had led nowhere)
    work = clerk.get("/work").text.partition('id="risks"')[2].partition("</section>")[0]
    assert f'href="/cases/{case}?procedure=monitoring"' in work and f"{core.clock.today()} 走访发现风险" in work
    from datetime import timedelta      # and the days to identify it run from the visit: due, shown with it
    assert f"监测对象识别（发现线索15天内）：{core.clock.today() + timedelta(days=15)} 到期" in work
    # the clue's form holds what the visit said (its day and findings), said once, not typed again
    clue = clerk.get(f"/cases/{case}?procedure=monitoring").text.partition('id="ev-monitoring_clue"')[2]
    clue = clue.partition("</form>")[0]
    assert 'name="f_description" value="户主突发重病"' in clue
    assert f'name="f_clue_date" type="date" value="{core.clock.today().isoformat()}"' in clue
    form = {"csrf": clerk.csrf, "type": "monitoring_clue", "f_source": "走访排查", "f_clue_date": core.clock.today().isoformat(),
            "f_monitoring_type": "sudden_hardship", "f_description": "户主突发重病"}
    assert clerk.post(f"/cases/{case}/evidence", headers=HX, data=form).status_code == 200
    shown = clerk.get(f"/cases/{case}").text              # the type tapped is stored as its code, shown in words
    assert "监测对象类型: 突发严重困难户" in shown and "sudden_hardship" not in shown.partition('id="ev-')[0]
    done = clerk.post(f"/cases/{case}/step", headers=HX, data={"csrf": clerk.csrf, "procedure": "monitoring", "step": "clue"})
    assert done.status_code == 200 and 'data-outcome="done"' in done.text, done.text
    assert f'/cases/{case}?procedure=monitoring"' not in clerk.get("/work").text


def test_a_pairing_cadres_load_comes_before_their_code_where_a_phone_cuts_the_choice(web, signed_in, demo_home):
    """A closed dropdown on a 360 px phone shows its first 25 characters or so: the cadre's name and
    load (已包 0/1 户) come first, the person code last, so what decides the choice stays in sight;
    the load had come after the code, cut off."""
    case = _case_at(web.state.core, demo_home[1]["township"][0], "consolidated", skip=3)
    page = signed_in("township").get(f"/cases/{case}", params={"procedure": "pairing_change"}).text
    choice = page.partition('<select name="first_cadre"')[2].partition("</select>")[0]
    options = re.findall(r'<option value="([^"]+)"[^>]*>([^<]*)</option>', choice)
    assert options, page[-3000:]
    for code, text in options:
        name, _, rest = text.partition(" · ")
        assert name and re.match(r"(已包|已满) \d+/\d+ 户（", rest), text
        assert rest.endswith(f"（{code}）"), text


def test_the_clue_form_reads_a_monitoring_type_as_written_and_refuses_one_none_reads(web, signed_in, demo_home):
    """The clue's type as its English label is stored as its code; a type that is none of the three is
    refused where it is sent, naming the three in words, and nothing is attached."""
    from tests.web.bulk_world import township_list
    core = web.state.core
    cadre = signed_in("cadre")
    [case] = township_list(core, 1, not_ready=False).ready        # a household of the cadre's with no clue yet
    form = {"csrf": cadre.csrf, "type": "monitoring_clue", "f_source": "走访排查", "f_clue_date": core.clock.today().isoformat(),
            "f_monitoring_type": "因病致贫风险"}
    refused = cadre.post(f"/cases/{case}/evidence", headers=HX, data=form)
    assert refused.status_code == 400 and "脱贫不稳定户、边缘易致贫户、突发严重困难户" in refused.text, refused.text
    assert "因病致贫风险" in refused.text
    clues = select(t.evidence.c.fields).where(t.evidence.c.case_id == case, t.evidence.c.type == "monitoring_clue")
    with core.engine.connect() as conn:
        assert conn.execute(clues).first() is None
    added = cadre.post(f"/cases/{case}/evidence", headers=HX, data={**form, "f_monitoring_type": "Edge household at risk"})
    assert added.status_code == 200, added.text
    with core.engine.connect() as conn:
        assert conn.execute(clues).scalar_one()["monitoring_type"] == "edge"
