"""Blank evidence sheets for the cases a village or a township holds: a fund project sited at the township
(site = the township's code) is in no village's sheet, so its township's cadres download the township's
sheet of that type (the import page and `evidence template` alike), which the import reads back."""
from __future__ import annotations

import csv
import hashlib
import io

import pytest

from tests.helpers.projects import add_project, households
from tests.test_accountability import cli
from tests.world import TOWNSHIP, VILLAGE


def test_a_project_sited_at_the_township_is_on_the_townships_blank_sheet(world, world_clients, tmp_path):
    page, _ = world_clients
    beneficiaries = households(world)
    township = add_project(world, beneficiaries, site=TOWNSHIP, by="ts1", leader="th", name="梅江镇冷库")
    village = add_project(world, beneficiaries, name="洋塘村脐橙基地")
    cadre = page("ts1")
    assert f'value="{TOWNSHIP}"' in cadre.get("/imports").text.split('id="import-template"')[1]     # offered
    got = cadre.get("/imports/template", params={"village": TOWNSHIP, "type": "final_accounts", "format": "csv"})
    assert got.status_code == 200, got.text
    rows = list(csv.reader(io.StringIO(got.content.decode("utf-8-sig"))))
    assert [r[:2] for r in rows[1:]] == [[str(township), "梅江镇冷库"]], rows      # its own, not the villages'
    assert str(village) in cadre.get("/imports/template", params={
        "village": VILLAGE, "type": "final_accounts", "format": "csv"}).content.decode("utf-8-sig")
    # a village's cadre has no township's sheet; nor is a household's sheet a township's
    assert page("vs").get("/imports/template", params={"village": TOWNSHIP, "type": "final_accounts"}).status_code == 404
    assert cadre.get("/imports/template", params={"village": TOWNSHIP, "type": "income_check"}).status_code == 404
    # the command line: by the township's code or its name
    for given in (TOWNSHIP, "梅江镇"):
        out = tmp_path / "sheet.csv"
        said = cli(world, "ts1", "evidence", "template", "--village", given, "--type", "final_accounts", "--out", str(out))
        assert said.code == 0, said.err
        assert [r[:2] for r in list(csv.reader(open(out, encoding="utf-8-sig")))[1:]] == [[str(township), "梅江镇冷库"]]
    refused = cli(world, "vs", "evidence", "template", "--village", TOWNSHIP, "--type", "final_accounts",
                  "--out", str(tmp_path / "no.csv"))
    assert refused.code != 0 and "Traceback" not in refused.err and not (tmp_path / "no.csv").exists()


def test_a_project_sheets_import_says_cases_not_households(world, world_clients, tmp_path):
    """A project's (or a village's) sheet names cases: what the import and its page say of it counts and
    asks for cases (个案件, 每个案件), not households (户)."""
    page, _ = world_clients
    beneficiaries = households(world)
    project = add_project(world, beneficiaries, site=TOWNSHIP, by="ts1", leader="th", name="梅江镇冷库")
    blank = tmp_path / "blank.csv"
    assert cli(world, "ts1", "evidence", "template", "--village", TOWNSHIP, "--type", "final_accounts",
               "--out", str(blank)).code == 0
    header = next(csv.reader(open(blank, encoding="utf-8-sig")))
    row = [str(project), "梅江镇冷库", "2019-12-20", "98000", ""]
    twice = tmp_path / "twice.csv"
    with open(twice, "w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f).writerows([header, row, row])
    said = cli(world, "ts1", "evidence", "import", str(twice), "--type", "final_accounts")
    assert said.code != 0 and "每个案件只保留正确的一行" in said.err, said.err
    once = tmp_path / "once.csv"
    with open(once, "w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f).writerows([header, row])
    assert cli(world, "ts1", "evidence", "import", str(once), "--type", "final_accounts").code == 0
    for lang, words, not_words in (("zh", "当时为 1 个案件录入了", "户"), ("en", "for 1 cases then", "household")):
        again = cli(world, "ts1", "evidence", "import", str(once), "--type", "final_accounts", lang=lang)
        assert again.code != 0 and words in again.err and not_words not in again.err, again.err
    form = page("ts1").get("/imports").text
    assert "列出该村的这类案件" in form and "村、项目等案件的材料表每个案件一行" in form


def test_a_project_sheet_overtaken_by_a_colleagues_says_look_at_the_case_not_the_household(world, monkeypatch):
    """Two township cadres import a project's final accounts at once: the second is told the case (its page)
    holds them now, not "the household"."""
    from engine.services import case_actions
    from engine.services.evidence_sheet import SheetRow, attach_sheet, sheet_items
    from engine.domain.errors import JingzhunError
    from tests.test_races import meanwhile
    project = add_project(world, households(world), site=TOWNSHIP, by="ts1", leader="th", name="梅江镇冷库")

    def sheet(who: str, cost: str):
        items, problems = sheet_items(world.app, world[who], "final_accounts", [
            SheetRow(case=str(project), fields={"settled_on": "2019-03-30", "final_cost": cost})])
        assert problems == [] and all(items), problems
        return items
    source = lambda text: {"file": "决算.xlsx", "type": "final_accounts", "files": None, "mode": "add",  # noqa: E731
                           "sha256": hashlib.sha256(text).hexdigest(), "skipped_rows": 0}
    mine, theirs = sheet("ts1", "98000"), sheet("ts2", "97000")
    meanwhile(world, monkeypatch, case_actions, "held_evidence", lambda: attach_sheet(
        world.app, world["ts2"], theirs, source(b"theirs")), after=True)
    with pytest.raises(JingzhunError) as lost:
        attach_sheet(world.app, world["ts1"], mine, source(b"mine"))
    said = lost.value.render(world.app.config)
    assert "该案件页面" in said and "该户" not in said, said
    english = lost.value.render(world.app.config, "en")
    assert "what the case holds now" in english and "household" not in english, english
