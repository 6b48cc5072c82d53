"""The web's import page offers the evidence types `evidence import` takes, of every kind of case (a
village's profile, a project's final accounts…), to the people who may attach them, with a blank
sheet of each to download, as `evidence template` writes it; the page runs the command, so the same
service imports it. Before, the page and the template offered a household's types only: a township
clerk with twenty villages' profiles typed each on its case page."""
from __future__ import annotations

import csv
import io
import re

from sqlalchemy import select

from engine.adapters import tables as t
from tests.test_project_figures import run
from tests.test_words46 import village_case
from tests.world import VILLAGE

PROFILE = {"年度": "2018", "贫困人口": "40", "农民人均纯收入": "3000", "全省农民人均纯收入": "12000",
           "全省贫困发生率": "2.5%", "村集体经济收入": "0"}


def _offered(html: str, form: str) -> list[str]:
    """The evidence types a form of the import page offers."""
    found = re.search(rf'<form[^>]*id="{form}".*?</form>', html, re.S).group(0)
    select_ = re.search(r'<select name="type".*?</select>', found, re.S).group(0)
    return re.findall(r'<option value="([a-z_]+)"', select_)


def profiles(world, case: int) -> list[dict]:
    with world.app.engine.connect() as conn:
        return [r.fields for r in conn.execute(select(t.evidence.c.fields).where(
            t.evidence.c.case_id == case, t.evidence.c.type == "village_profile",
            t.evidence.c.superseded_by.is_(None)))]


def test_the_import_page_offers_each_kinds_types_to_those_who_may_attach_them(world, world_clients):
    page, _api = world_clients
    shown = page("vs").get("/imports")
    assert shown.status_code == 200, shown.text
    for form in ("import-form", "import-template"):
        offered = _offered(shown.text, form)
        assert {"income_check", "village_profile", "village_exit_checklist", "final_accounts"} <= set(offered), offered
    assert '<optgroup label="贫困村">' in shown.text and '<optgroup label="扶贫项目">' in shown.text
    # a pairing cadre attaches a household's evidence, never a village's or a project's: not offered
    pairing = _offered(page("pc1").get("/imports").text, "import-form")
    assert "income_check" in pairing and not {"village_profile", "final_accounts"} & set(pairing), pairing


def test_a_villages_profile_sheet_downloads_blank_and_imports_back_on_the_page(world, world_clients):
    case = village_case(world)
    page, _api = world_clients
    cadre = page("vs")
    got = cadre.get("/imports/template", params={"village": VILLAGE, "type": "village_profile", "format": "csv"})
    assert got.status_code == 200, got.text
    rows = list(csv.reader(io.StringIO(got.content.decode("utf-8-sig"))))
    assert rows[0][:2] == ["案件编号", "案件名称"] and "户主姓名" not in rows[0] and "户编号" not in rows[0], rows[0]
    assert [r[0] for r in rows[1:]] == [str(case)], rows          # the village's own case: one row
    header = rows[0]
    filled = [header, [PROFILE.get(h, cell) for h, cell in zip(header, rows[1])]]
    sheet = io.StringIO()
    csv.writer(sheet).writerows(filled)
    done = cadre.post("/imports", data={"csrf": cadre.csrf, "what": "evidence", "type": "village_profile"},
                      files={"file": ("村情况.csv", sheet.getvalue().encode("utf-8-sig"), "text/csv")})
    assert done.status_code == 200, done.text
    said = re.search(r'<ul class="plain" id="import-out">.*?</ul>', done.text, re.S).group(0)
    assert "已为 1 个案件添加" in said and "户" not in said, said
    assert profiles(world, case) == [{"year": 2018, "poor_persons": 40, "per_capita_income": 3000.0,
                                      "provincial_income": 12000.0, "provincial_incidence": 0.025,
                                      "collective_income": 0.0}]
    again = cadre.post("/imports", data={"csrf": cadre.csrf, "what": "evidence", "type": "village_profile"},
                       files={"file": ("村情况.csv", sheet.getvalue().replace(",40,", ",41,").encode("utf-8-sig"),
                                       "text/csv")})
    refused = re.search(r'<ul class="plain errors" id="import-err">.*?</ul>', again.text, re.S).group(0)
    assert again.status_code == 400 and "已有 2018 年度的贫困村基本情况表" in refused, refused
    assert "该案件页面" in refused and "该户" not in refused and "--replace" not in refused, refused
    cadre.cookies.set("lang", "en")
    english = cadre.get("/imports/template", params={"village": VILLAGE, "type": "village_profile", "format": "csv"})
    assert english.content.decode("utf-8-sig").startswith("case,case title,year,"), english.text[:200]


def test_evidence_template_writes_a_villages_sheet_and_its_import_checks_the_case_title(world, tmp_path):
    case = village_case(world)
    out = tmp_path / "村情况.csv"
    code, said, err = run(world, "vs", "evidence", "template", "--village", VILLAGE, "--type", "village_profile",
                          "--out", str(out))
    assert code == 0, err
    assert "本村 1 个案件各一行" in said and "户" not in said.split("用 `")[0], said
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    rows[1] = [PROFILE.get(h, cell) for h, cell in zip(rows[0], rows[1])]
    rows[1][1] = "别的村"                           # a title that is not this case's: which one is wrong is the reader's to say
    with open(out, "w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(rows)
    code, said, err = run(world, "vs", "evidence", "import", str(out), "--type", "village_profile")
    assert code != 0 and "案件名称" in err and "户主" not in err and "户" not in err.split("\n")[1], err
    assert profiles(world, case) == []
    rows[1][:2] = ["99999", ""]                     # a case not here: no "household" to look for
    with open(out, "w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(rows)
    code, said, err = run(world, "vs", "evidence", "import", str(out), "--type", "village_profile")
    assert code != 0 and "找不到这个案件" in err and "户" not in err.split("\n")[0], err
