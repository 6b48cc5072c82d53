"""A person's trace lists the inspection leads about that person (note 50, left alone: /inspect/trace/person/ts1
of the cadre who signed for a relative's household said nothing of that lead, nor `trace --person`, the API or
the printed dossier; the inspector had to open the flags page and read every lead of the county). The leads
are read from the person's own rows (`inspect flags --person`, /inspect/flags?person=, the API's ?person=),
each kind from that person's index, and are exactly the region's leads about them. SQLite and PostgreSQL."""
from __future__ import annotations

import json

import pytest

from engine.reads import trace
from engine.reads.inspection import ranked
from tests.test_inspection_reading import jingzhun
from tests.test_leads50 import with_leads


@pytest.fixture
def leads(world, tmp_path):
    return with_leads(world, tmp_path)


def _said(found) -> list[tuple]:
    return [(f.kind, f.variant, f.case_id, f.person, f.detail, f.events) for f in found]


def test_a_persons_leads_are_the_regions_leads_about_them_read_from_their_own_rows(leads):
    world, related, rushed = leads
    everything = ranked(world.app, world["insp"])
    people = {f.person[0] for f in everything if f.person}
    assert {"ts1", "cd"} <= people
    for code in sorted(people | {"vs", "ch"}):
        assert _said(ranked(world.app, world["insp"], person=code)) == \
            _said([f for f in everything if f.person and f.person[0] == code]), code
    [burst] = [f for f in ranked(world.app, world["insp"], person="cd") if f.kind == "signoff_burst"]
    assert set(rushed) <= set(burst.detail["cases"])         # the whole burst, from cd's own signings


def test_the_person_trace_page_lists_the_leads_about_the_person_with_links(leads, world_clients):
    world, related, rushed = leads
    page, api = world_clients
    trace_page = page("insp").get("/inspect/trace/person/ts1").text          # the section, loaded after the page
    assert 'id="leads" hx-get="/inspect/trace/person/ts1/leads" hx-trigger="load"' in trace_page
    fragment = page("insp").get("/inspect/trace/person/ts1/leads", headers={"HX-Request": "true"}).text
    assert "<html" not in fragment
    shown = page("insp").get("/inspect/trace/person/ts1/leads").text          # without HTMX: a page of its own
    section = shown.split('id="leads"', 1)[1].split("</section>", 1)[0]
    assert "关于此人的疑点线索" in section and "为亲属户签字" in section and "外甥女" in section, section
    assert f'href="/inspect/trace/case/{related}"' in section
    assert 'href="/inspect/flags?person=ts1"' in section
    assert "非工作时间签署" in section                                    # the night sign-off too
    burst = page("insp").get("/inspect/trace/person/cd/leads").text.split('id="leads"', 1)[1].split("</section>", 1)[0]
    assert "短时间内集中签署" in burst, burst
    assert "没有关于此人的疑点线索" in page("insp").get("/inspect/trace/person/vs/leads").text
    assert page("insp").get("/inspect/trace/person/nobody-here/leads").status_code == 404
    assert page("vs").get("/inspect/trace/person/ts1/leads").status_code in (403, 404)     # a cadre reads no leads
    english = page("insp").get("/lang/en", params={"next": "/inspect/trace/person/ts1/leads"}, follow_redirects=True).text
    assert "Inspection flags about this person" in english and "signed by a relative" in english

    flags = page("insp").get("/inspect/flags?person=ts1").text
    assert "为亲属户签字" in flags and 'id="flags-person"' in flags
    assert 'data-kind="relative_signed"' in flags and 'data-kind="signoff_burst"' not in flags   # cd's burst: not ts1's
    answer = api("insp").get("/api/v1/inspection/flags", params={"person": "ts1"})
    assert answer.status_code == 200 and {f["person"]["code"] for f in answer.json()} == {"ts1"}
    read = api("insp", "en").get("/api/v1/trace/persons/ts1").json()
    assert read["leads_count"] == len(read["leads"]) >= 2
    assert any(f["kind"] == "relative_signed" and f["case"] == related for f in read["leads"])
    assert api("insp").get("/api/v1/trace/persons/ts1", params={"leads": "false"}).json()["leads"] is None
    apart = api("insp").get("/api/v1/trace/persons/ts1/leads").json()
    assert apart["count"] == read["leads_count"] and [f["kind"] for f in apart["leads"]] == [f["kind"] for f in read["leads"]]


def test_trace_person_the_dossier_and_inspect_flags_person_name_the_leads(leads, tmp_path, monkeypatch):
    world, related, _ = leads
    code, out, err = jingzhun(world, "insp", "trace", "--person", "ts1")
    assert code == 0 and f"关于此人的疑点线索：[为亲属户签字] #{related}" in out and "外甥女" in out, (out, err)
    read = json.loads(jingzhun(world, "insp", "trace", "--person", "ts1", "--json")[1])
    assert {f["kind"] for f in read["leads"]} >= {"relative_signed", "signoff_off_hours"}
    dossier = tmp_path / "ts1.html"
    code, out, err = jingzhun(world, "insp", "trace", "--person", "ts1", "--html", str(dossier), lang="en")
    text = dossier.read_text(encoding="utf-8")
    assert code == 0 and "Inspection flags about this person" in text and "niece" in text, err    # the kinship in the reader's words

    code, out, err = jingzhun(world, "insp", "inspect", "flags", "--person", "ts1")
    assert code == 0 and "关于 ts1 的线索" in out and "[为亲属户签字]" in out, (out, err)
    assert "短时间内集中签署" not in out
    code, out, err = jingzhun(world, "insp", "inspect", "flags", "--person", "nobody-here")
    assert code != 0 and out == "" and "nobody-here" in err and "Traceback" not in err

    monkeypatch.setattr(trace, "LEADS_SHOWN", 1)          # more leads than a trace lists: the command for all
    code, out, err = jingzhun(world, "insp", "trace", "--person", "ts1")
    assert out.count("关于此人的疑点线索：") == 1 and "这里列出最值得查看的前 1 条" in out
    assert "`jingzhun inspect flags --person ts1`" in out
