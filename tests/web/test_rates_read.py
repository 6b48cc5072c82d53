"""A rate typed as a bare number (0.5) is read as a share (50%), though a cadre may have meant 0.5%: it
is accepted as before (DOMAIN names no other reading) and said back as read, on the command line and
on the case page, with how to put it right; a rate typed with its % sign is not."""
from __future__ import annotations

from tests.test_project_figures import ok
from tests.test_words46 import village_case
from tests.world import VILLAGE

PROFILE = ["--field", "year=2018", "--field", "poor_persons=40", "--field", "per_capita_income=3000",
           "--field", "provincial_income=12000", "--field", "collective_income=0"]


def test_a_bare_rate_is_said_back_as_read_on_the_command_line(world):
    case = village_case(world)
    out = ok(world, "vs", "evidence", "add", case, "village_profile", *PROFILE, "--field", "provincial_incidence=0.5")
    assert "「全省贫困发生率」填的是 0.5，已按比例读作 50%" in out and "改填 0.5%" in out, out
    english = ok(world, "vs", "--lang", "en", "evidence", "add", case, "village_profile", *PROFILE,
                 "--field", "provincial_incidence=0.02", "--replace", "--reason", "typo")
    assert "0.02 was read as a share, 2%" in english, english
    signed = ok(world, "vs", "evidence", "add", case, "village_profile", *PROFILE,
                "--field", "provincial_incidence=0.5%", "--replace", "--reason", "改为百分数")
    assert "读作" not in signed, signed


def test_a_bare_rate_is_said_back_as_read_on_the_case_page(world, world_clients):
    case = village_case(world)
    page, _api = world_clients
    client = page("vs")
    form = {"csrf": client.csrf, "type": "village_profile", "f_year": "2018", "f_poor_persons": "40",
            "f_per_capita_income": "3000", "f_provincial_income": "12000", "f_collective_income": "0",
            "f_provincial_incidence": "0.5"}
    added = client.post(f"/cases/{case}/evidence", data=form, headers={"HX-Request": "true"})
    assert added.status_code == 200, added.text
    assert "已按比例读作 50%" in added.text and "改填 0.5%" in added.text


# The same said back wherever a village's profile is entered: the JSON API's answer, a sheet imported
# (`evidence import`, which the web's import page runs) and the village's evidence sheet on the web.

def test_a_bare_rate_is_said_back_in_the_json_api_answer(world, world_clients):
    case = village_case(world)
    _page, api = world_clients
    fields = {"year": 2018, "poor_persons": 40, "per_capita_income": 3000, "provincial_income": 12000,
              "collective_income": 0, "provincial_incidence": "0.5"}
    added = api("vs").post(f"/api/v1/cases/{case}/evidence", json={"type": "village_profile", "fields": fields})
    assert added.status_code == 201, added.text
    said = added.json()["rates_read"]
    assert len(said) == 1 and "已按比例读作 50%" in said[0] and "改填 0.5%" in said[0], added.json()
    english = api("vs", "en").post(f"/api/v1/cases/{case}/evidence", json={
        "type": "village_profile", "fields": {**fields, "provincial_incidence": 0.02}, "replace": True, "reason": "typo"})
    assert english.status_code == 201, english.text
    assert "0.02 was read as a share, 2%" in english.json()["rates_read"][0], english.json()
    assert english.json()["rates_read"][0][:1].isupper()          # a sentence: its field's label capitalised
    signed = api("vs").post(f"/api/v1/cases/{case}/evidence", json={
        "type": "village_profile", "fields": {**fields, "provincial_incidence": "0.5%"}, "replace": True,
        "reason": "改为百分数"})
    assert signed.status_code == 201 and signed.json()["rates_read"] == [], signed.text


def test_a_bare_rate_is_said_back_by_evidence_import_for_its_line(world, tmp_path):
    case = village_case(world)
    sheet = tmp_path / "profiles.csv"
    sheet.write_text("案件编号,年度,贫困人口,农民人均纯收入,全省农民人均纯收入,全省贫困发生率,村集体经济收入\n"
                     f"{case},2018,40,3000,12000,0.5,0\n", encoding="utf-8")
    out = ok(world, "vs", "evidence", "import", sheet, "--type", "village_profile")
    assert "第 2 行" in out and "「全省贫困发生率」填的是 0.5，已按比例读作 50%" in out and "改填 0.5%" in out, out
    sheet.write_text(sheet.read_text(encoding="utf-8").replace(",0.5,", ",0.5%,"), encoding="utf-8")
    signed = ok(world, "vs", "evidence", "import", sheet, "--type", "village_profile", "--replace", "--reason", "改为百分数")
    assert "读作" not in signed, signed


def test_a_bare_rate_is_said_back_on_the_villages_evidence_sheet(world, world_clients):
    case = village_case(world)
    page, _api = world_clients
    client = page("vs")
    values = {"year": "2018", "poor_persons": "40", "per_capita_income": "3000", "provincial_income": "12000",
              "collective_income": "0", "provincial_incidence": "0.5"}
    shown = client.get(f"/villages/{VILLAGE}/evidence", params={"kind": "village", "type": "village_profile"})
    assert shown.status_code == 200 and f'name="f_{case}_provincial_incidence"' in shown.text, shown.text
    form = {"csrf": client.csrf, "kind": "village", "type": "village_profile",
            **{f"f_{case}_{k}": v for k, v in values.items()}}
    saved = client.post(f"/villages/{VILLAGE}/evidence", data=form, headers={"HX-Request": "true"})
    assert saved.status_code == 200, saved.text
    assert "已按比例读作 50%" in saved.text and "改填 0.5%" in saved.text, saved.text
