"""A household's handbook printed on A4 (the web page's print button, the CLI's `household handbook --html`
file opened in a browser, a village's handbooks in one go) by a real Chromium: a cadre pastes it on the
household's wall, so a typical household and a large one (8 members, 4 measures, monitored) fit one sheet in both
languages, no text under 9pt and nothing dropped; a household with more than a sheet holds (10 members,
20 measures) has its name and case number atop its second sheet and each sheet numbered, so a loose sheet
is still known."""
from __future__ import annotations

import io
import re
from datetime import date

import pytest
from pypdf import PdfReader

from engine.services.case_actions import attach_evidence
from tests.helpers.db_option import db_option
from tests.web.test_monitoring_shown import monitored
from tests.world import VILLAGE, id_number, scan_file
from workflows.household import MemberInput, register_household

NAMES = ("郭长生", "韩秀英", "郭福胜", "郭秀兰", "郭英", "刘桂花", "郭建国", "郭小红", "郭小军", "郭晓梅")
RELATIONS = ("head", "spouse", "child", "child", "child", "parent", "child", "grandchild", "grandchild", "child")
MEASURES = (("industry", "种植脐橙 3 亩，发放种苗和化肥补助"), ("employment", "推荐到县工业园区务工"),
            ("housing", "危房改造补助"), ("health", "家庭医生签约服务，落实慢病卡"))


def household(world, members: int, measures, monitored_since: date | None = None) -> int:
    """A household as the demo's are (members of every kind of health, labour and schooling, two years'
    income, its checks, two pairing cadres), identified, assisted on `measures` and exited (and, from
    `monitored_since`, consolidated and monitored)."""
    world._seq += 1
    people = []
    for i in range(members):
        born = 1950 + 7 * i        # the youngest at school, every kind of health and labour ability
        people.append(MemberInput(NAMES[i], id_number(f"360730{born}{i % 9 + 1:02d}{10 + i:02d}{world._seq % 100:02d}{i}"),
                                  RELATIONS[i], ("normal", "lost", "weak")[i % 3], ("healthy", "chronic", "disabled")[i % 3],
                                  "enrolled" if born > 2000 else "none", True, True))
    case = register_household(world.app, world["vs"], VILLAGE, people, ["illness", "lack_capital"])
    attach_evidence(world.app, world["vs"], case, "application", {"applicant": people[0].name, "applied_on": "2019-01-10"})
    attach_evidence(world.app, world["vs"], case, "income_check", {"year": 2018, "net_income": 2500.0 * members})
    world.identify(case)
    world.on(date(2019, 3, 20))
    first, second = (("pc1", "pc2"), ("pc2", "pc3"), ("pc3", "pc1"))[world._seq % 3]     # a cadre pairs one household in each slot
    world.step("ts1", "assistance", "pairing", case, first_cadre=first, second_cadre=second)
    world.step("fs", "assistance", "plan", case, measures=tuple(measures))
    world.step("th", "assistance", "plan_approval", case, decision="approve")
    world.on(date(2019, 11, 20))        # its exit's evidence, a house renovated (the longest check) among it
    for kind, fields in (("income_assessment", {"year": 2019, "net_income": 5000.0 * members}),
                         ("two_assurances", {"food": True, "clothing": True}),
                         ("housing_safety", {"grade": "C", "renovated_accepted": True}), ("drinking_water", {"safe": True})):
        attach_evidence(world.app, world["vs"], case, kind, fields)
    attach_evidence(world.app, world["pc1"], case, "household_confirmation", {"signed_on": "2019-11-20"},
                    scan_file(world.app.settings.home / f"confirmation-{case}.pdf", "确认脱贫"))
    world.exit(case)
    if monitored_since:         # consolidated, then monitored: one more line of facts
        world.on(date(2020, 1, 10))
        world.step("ts2", "consolidation", "enrolment", case)
        world.step("cs", "consolidation", "county_filing", case, decision="approve")
        monitored(world, case, "unstable", monitored_since)
    return case


def printed(page, url: str) -> list[str]:
    """The page at `url` printed on A4 as a browser's print button does: each sheet's text."""
    page.goto(url)
    page.emulate_media(media="print")
    smallest = page.evaluate("""() => Math.min(...[...document.querySelectorAll('section.book *')]
        .filter(e => [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()))
        .map(e => parseFloat(getComputedStyle(e).fontSize)))""")
    assert smallest >= 12, f"{url}: text of {smallest * 0.75}pt on paper"      # 12 px = 9 pt
    pdf = page.pdf(format="A4")
    sheets = [p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages]
    page.emulate_media(media="screen")
    return sheets


def whole(sheets: list[str]) -> str:
    return re.sub(r"\s+", "", "".join(sheets))


@pytest.mark.browser
def test_a_households_handbook_prints_on_one_a4_sheet_and_a_longer_one_names_each_sheet(world, browser, tmp_path,
                                                                                       monkeypatch):
    import cli
    from engine.services.accounts import open_session
    from entrypoints.web.app import create_app
    from tests.web.conftest import serving
    typical = household(world, 5, MEASURES[:1])
    large = household(world, 8, MEASURES, monitored_since=date(2020, 3, 2))
    oversized = household(world, 10, [(("industry", "employment", "education", "health")[i % 4],
                                       f"第 {i + 1} 项帮扶措施：{MEASURES[i % 4][1]}") for i in range(20)])
    with serving(create_app(world.app)) as url:
        for lang, title, case_word, sheet_of in (("zh", "扶贫手册·", "案件{}", "第{}页，共{}页"),
                                                 ("en", "Povertyalleviationhandbook·", "Case{}", "Page{}of{}")):
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.add_cookies([{"name": "jz_session", "value": open_session(world.app, world["vs"])[0], "url": url},
                                 {"name": "lang", "value": lang, "url": url}])
            page = context.new_page()
            for case, members in ((typical, 5), (large, 8)):
                sheets = printed(page, f"{url}/cases/{case}/handbook")
                assert len(sheets) == 1, (lang, members, len(sheets))
                text = whole(sheets)
                # nothing dropped to make it fit: every member, every measure, both signatures
                assert all(name in text for name in NAMES[:members]), (lang, text)
                assert all(re.sub(r"\s+", "", m) in text for _, m in MEASURES[:4 if case == large else 1]), (lang, text)
                assert sheet_of.format(1, 1) in text, (lang, text)
            sheets = printed(page, f"{url}/cases/{oversized}/handbook")
            assert len(sheets) == 2, (lang, len(sheets))
            for n, sheet in enumerate(sheets, 1):       # a loose sheet says whose it is and which of how many
                text = whole([sheet])
                assert title + NAMES[0] in text and case_word.format(oversized) in text, (lang, n, text)
                assert sheet_of.format(n, 2) in text, (lang, n, text)
            assert all(f"第{i}项帮扶措施" in whole(sheets) for i in range(1, 21))
            if lang == "zh":        # a village's handbooks in one go: each household from a new sheet, numbered on its own
                sheets = printed(page, f"{url}/villages/{VILLAGE}/handbooks")
                assert len(sheets) == 4 and f"洋塘村扶贫手册·案件{oversized}·本户第2页" in whole(sheets[3]), [
                    whole([s]) for s in sheets]
                assert [title + NAMES[0] in whole([s]) for s in sheets] == [True] * 4
            context.close()
        # the CLI's file, opened in a browser and printed, is the same sheet
        monkeypatch.setenv("JINGZHUN_TOKEN", world.tokens["vs"])
        where = ["--home", str(world.app.settings.home),
                 *db_option(world.app.engine.url.render_as_string(hide_password=False))]
        for case, pages in ((large, 1), (oversized, 2)):
            assert cli.main([*where, "--as", "vs", "household", "handbook", str(case),
                             "--html", str(tmp_path / f"{case}.html")]) == 0
            page = browser.new_page()
            assert len(printed(page, (tmp_path / f"{case}.html").as_uri())) == pages
            page.close()


def test_a_villages_name_at_each_sheets_foot_cannot_break_out_of_the_page_style(world):
    """A village's name is as an administrator typed it: at the sheets' foot (a CSS string in the page's style)
    a quote or `</style>` in it stays text."""
    from engine.reads.handbook import page_number
    foot = str(page_number(world.app, "zh", {"name": '洋塘"村</style><script>alert(1)</script>'}))
    assert "<" not in foot and '"村' not in foot and "counter(page)" in foot and "counter(pages)" in foot
    assert foot.startswith('"洋塘\\000022村\\00003c')
