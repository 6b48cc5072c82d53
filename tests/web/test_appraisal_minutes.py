"""The appraisal's minutes on the web: the case page's step form and a village's list take the
meeting's signed minutes as a file (a phone's photo or a scan; one file for the whole list), the JSON
API as a multipart part; each household keeps them, and the inspector reads them on the case's page
and downloads them. A step without them, or with a Word file, is refused saying so, nothing saved."""
from __future__ import annotations

import json
import re
from datetime import date

from sqlalchemy import select

from engine.adapters import tables as t
from tests.test_evidence_files import JPEG, NOT_SCANS
from tests.world import VILLAGE

VOTES = {"attendance": "40", "votes_for": "35", "votes_against": "2"}

HX = {"HX-Request": "true"}      # sent as the case page's form sends it (htmx)


def applied(world, count: int = 1) -> list[int]:
    cases = [world.household() for _ in range(count)]
    world.on(date(2019, 3, 1))
    world.step("vs", "identification", "application", cases)
    return cases


def minutes_of(world, cases: list[int]) -> list:
    with world.app.engine.connect() as conn:
        return conn.execute(select(t.evidence).where(t.evidence.c.case_id.in_(cases),
                                                     t.evidence.c.type == "appraisal_minutes")
                            .order_by(t.evidence.c.case_id)).all()


def test_the_case_pages_appraisal_form_takes_the_minutes_and_the_inspector_downloads_them(world, world_clients):
    page, _api = world_clients
    [case] = applied(world)
    director = page("vd")
    shown = director.get(f"/cases/{case}").text
    form = re.search(r'<form[^>]*id="step-form".*?</form>', shown, re.S).group(0)
    assert 'hx-encoding="multipart/form-data"' in form
    assert re.search(r'<input type="file" name="minutes" accept="image/\*,application/pdf" required>', form)
    assert "会议记录（签字的照片或扫描件" in form
    step = {"csrf": director.csrf, "procedure": "identification", "step": "appraisal", **VOTES}
    missing = director.post(f"/cases/{case}/step", headers=HX, data=step)
    assert missing.status_code == 400 and "须附本次会议的会议记录" in missing.text and "--minutes" not in missing.text
    word = director.post(f"/cases/{case}/step", headers=HX, data=step,
                         files={"minutes": ("会议记录.docx", NOT_SCANS["收入核算表.docx"], "application/msword")})
    assert word.status_code == 400 and "文件 会议记录.docx 不是照片或扫描件" in word.text
    assert minutes_of(world, [case]) == []
    done = director.post(f"/cases/{case}/step", headers=HX, data=step, files={"minutes": ("会议记录.jpg", JPEG, "image/jpeg")})
    assert done.status_code == 200 and "done" in done.text, done.text
    [item] = minutes_of(world, [case])
    assert item.file_name == "会议记录.jpg"

    inspector = page("insp")
    record = inspector.get(f"/inspect/trace/case/{case}").text
    assert f'<a href="/evidence/{item.id}/file">会议记录.jpg</a>' in record and item.content_hash[:16] in record
    downloaded = inspector.get(f"/evidence/{item.id}/file")
    assert downloaded.status_code == 200 and downloaded.content == JPEG
    assert downloaded.headers["content-type"] == "image/jpeg"


def test_a_village_list_records_one_meeting_with_one_minutes_file_for_every_household(world, world_clients):
    page, _api = world_clients
    cases = applied(world, 3)
    director = page("vd")
    listed = director.get(f"/villages/{VILLAGE}/list", params={"procedure": "identification", "step": "appraisal"}).text
    assert 'hx-encoding="multipart/form-data"' in listed and 'name="minutes"' in listed
    assert "共用会议记录" in listed
    form = {"csrf": director.csrf, "kind": "household", "procedure": "identification", "step": "appraisal",
            "case": [str(c) for c in cases], "attendance": "40",       # each household its own votes
            **{f"vf_{c}": "35" for c in cases}, **{f"va_{c}": "2" for c in cases}}
    blank = director.post(f"/villages/{VILLAGE}/list", data=form)
    assert blank.status_code == 400 and blank.text.count("须附本次会议的会议记录") == 1      # said once, at the form
    done = director.post(f"/villages/{VILLAGE}/list", data=form,
                         files={"minutes": ("洋塘村评议会议记录.jpg", JPEG, "image/jpeg")})
    assert done.status_code == 200 and 'data-done="3" data-refused="0"' in done.text, done.text[:500]
    items = minutes_of(world, cases)
    assert [i.case_id for i in items] == cases and len({i.file_sha256 for i in items}) == 1
    assert {i.file_name for i in items} == {"洋塘村评议会议记录.jpg"}


def test_the_api_takes_the_minutes_as_a_part_of_a_multipart_step(world, world_clients):
    _page, api = world_clients
    cases = applied(world, 2)
    body = {"procedure": "identification", "step": "appraisal", "case_ids": cases, "attendance": 40,
            "votes": [{"case": c, "votes_for": 35, "votes_against": 2} for c in cases]}
    missing = api("vd", "en").post("/api/v1/steps", json=body)
    assert missing.status_code == 400 and missing.json()["error"] == "appraisal.minutes_required"
    assert "minutes" in missing.json()["message"]
    word = api("vd").post("/api/v1/steps", data={"step": json.dumps(body)},
                          files={"minutes": ("会议记录.docx", NOT_SCANS["收入核算表.docx"], "application/msword")})
    assert word.status_code == 400 and word.json()["error"] == "evidence.not_a_scan"
    misspelt = api("vd").post("/api/v1/steps", data={"step": json.dumps({**body, "vote_for": 3})},
                              files={"minutes": ("会议记录.jpg", JPEG, "image/jpeg")})
    assert misspelt.status_code == 422 and misspelt.json()["fields"] == ["vote_for"]
    assert minutes_of(world, cases) == []
    done = api("vd").post("/api/v1/steps", data={"step": json.dumps(body)},
                          files={"minutes": ("会议记录.jpg", JPEG, "image/jpeg")})
    assert done.status_code == 200, done.text
    assert [d["decision"] for d in done.json()] == ["approved", "approved"]
    assert [i.case_id for i in minutes_of(world, cases)] == cases
    spec = api("insp").get("/api/v1/openapi.json").json()
    sent = spec["paths"]["/api/v1/steps"]["post"]["requestBody"]["content"]
    assert "minutes" in sent["multipart/form-data"]["schema"]["properties"]
    assert sent["application/json"]["schema"] == {"$ref": "#/components/schemas/ListStepRequest"}
