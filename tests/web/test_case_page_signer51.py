"""A step's signer moved in the database (`UPDATE steps SET person_id = …`): the inspector's trace names the
signer its audit event recorded, with the row's value beside it as differing (stop 50), but the case page
every cadre and supervisor reads, `case show` and the API's case read still named the moved-to cadre in their
step lists, right under the warning that the record was altered (note 50, left alone). They now read the
steps as the trace does (engine.reads.steps_recorded). SQLite and PostgreSQL."""
from __future__ import annotations

import json

from tests.helpers import tamper
from tests.helpers.tamper import one, raw

lived = tamper.lived      # the fixture: households a (exited) and b (assisted)


def _moved(world, case: int) -> None:
    row = one(world, f"SELECT s.id FROM steps s JOIN procedures p ON p.id = s.procedure_id WHERE s.case_id = {case} "
                     f"AND p.kind = 'identification' AND s.step_key = 'township_review'")
    raw(world, f"UPDATE steps SET person_id = (SELECT id FROM persons WHERE code = 'ts2') WHERE id = {row.id}")


def _review_row(shown: str) -> str:
    """The case page's row of the identification's 乡镇审核."""
    timeline = shown.split("</section>")
    rows = [r for part in timeline for r in part.split("<tr") if "乡镇审核" in r or "township review" in r]
    assert rows, shown[:2000]
    return rows[-1].split("</tr>", 1)[0]       # the identification's: listed after the exit's (newest first)


def test_the_case_page_names_the_signer_the_event_recorded_and_the_database_row_as_differing(lived, world_clients):
    world, a, b = lived
    page, api = world_clients
    before = {code: _review_row(page(code).get(f"/cases/{a}").text) for code in ("vs", "cd")}
    assert all("township_staff-ts1" in row for row in before.values()), before
    _moved(world, a)
    for code in ("vs", "ts1", "cd"):
        shown = page(code).get(f"/cases/{a}").text
        assert 'id="integrity-warning"' in shown, code
        row = _review_row(shown)
        who = row.split('class="refusal database-differs"', 1)[0]
        assert "township_staff-ts1" in who and "township_staff-ts2" not in who, (code, row)
        assert "上列为审计事件所记；数据库中现为：办理人 township_staff-ts2（ts2）" in row, (code, row)
    assert "database-differs" not in page("vs").get(f"/cases/{b}").text          # an untouched case: as it was
    english = _review_row(page("vs").get("/lang/en", params={"next": f"/cases/{a}"}, follow_redirects=True).text)
    assert "the database now reads: signed by township_staff-ts2 (ts2)" in english, english


def test_case_show_and_the_api_name_the_signer_the_event_recorded(lived, world_clients):
    world, a, _ = lived
    _, api = world_clients
    _moved(world, a)
    read = api("vs").get(f"/api/v1/cases/{a}").json()
    [step] = [s for p in read["procedures"] if p["kind"] == "identification" for s in p["steps"]
              if s["step"] == "township_review"]
    assert (step["person"], step["database"]["person"], step["differs"]) == ("ts1", "ts2", ["person"])
    as_json = json.loads(api("vs").post("/api/v1/cli", json={"argv": ["case", "show", str(a), "--json"]}).json()["stdout"])
    assert [s["person"] for p in as_json["procedures"] if p["kind"] == "identification" for s in p["steps"]
            if s["step"] == "township_review"] == ["ts1"]
    text = api("vs").post("/api/v1/cli", json={"argv": ["case", "show", str(a)]}).json()["stdout"].splitlines()
    [at] = [i for i, line in enumerate(text) if "乡镇审核" in line and line.startswith("  2019-03-08")]
    assert "ts1" in text[at] and "ts2" not in text[at] and "办理人 township_staff-ts2（ts2）" in text[at + 1], text
