"""Verifiers who together are the last who may do a later step (w3, stop 51). A household's monitoring, its
clue given by its pairing cadre: the team leader verifies it, and of the village's cadres only the
director and the secretary may hold its appraisal. Either may be named a verifier, not both. Before, the
form disabled single people only, `case next` said nothing, and the step's refusal spoke as if the
leader had signed before. Now the form holds back the last of the two as the first is ticked, `case
next` says so, and the step refuses the pair naming them. SQLite and PostgreSQL; Chromium for the form."""
from __future__ import annotations

from datetime import date

import pytest

from engine.domain.errors import RuleViolation
from engine.reads.queries import next_for
from engine.services.accounts import open_session
from engine.services.case_actions import attach_evidence
from entrypoints.web.app import create_app
from tests.helpers.notifications import cli
from tests.test_household_life import consolidated
from tests.web.conftest import serving


def at_verification(world, tmp_path) -> int:
    """A consolidated household whose monitoring's clue its pairing cadre gave on 2020-04-01."""
    case = consolidated(world, tmp_path)
    world.on(date(2020, 4, 1))
    attach_evidence(world.app, world["pc1"], case, "monitoring_clue",
                    {"source": "走访排查", "clue_date": "2020-03-30", "monitoring_type": "unstable"})
    world.step("pc1", "monitoring", "clue", case)
    return case


def phone_signed_in(world, browser, url: str, who: str):
    """A 360 px phone's browser context and page, signed in as `who` on the server at `url`."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True,
                                  locale="zh-CN", device_scale_factor=1)
    context.add_cookies([{"name": "jz_session", "value": open_session(world.app, world[who])[0], "url": url}])
    return context, context.new_page()


def test_a_pair_of_verifiers_who_would_leave_nobody_for_the_appraisal_is_refused_and_said_before(world, tmp_path):
    case = at_verification(world, tmp_path)
    nxt = next_for(world.app, world["tl"], case)["next"]
    assert {"step": "appraisal", "persons": ["vd", "vs"]} in nxt["kept_one_of"], nxt.get("kept_one_of")
    told = cli(world, "tl", "case", "next", str(case))
    assert "可以选作核实人，但不能全部选上（须至少留一人办理「民主评议」）：vd、vs" in told.out, told.out
    english = cli(world, "tl", "--lang", "en", "case", "next", str(case))
    assert "may be named verifiers, but not all of them" in english.out, english.out

    with pytest.raises(RuleViolation) as refused:
        world.step("tl", "monitoring", "verification", case, decision="approve", verifiers=("vd", "vs"))
    assert refused.value.code == "duty.verifiers_take_last"
    said = refused.value.render(world.app.config)
    assert "所选核实人" in said and world["vd"].name in said and world["vs"].name in said and "至少留一人" in said, said
    assert "leave at least one of them out" in refused.value.render(world.app.config, "en")
    world.step("tl", "monitoring", "verification", case, decision="approve", verifiers=("vd", "tm"))       # one of them is kept
    world.step("vs", "monitoring", "appraisal", case, attendance=30, votes_for=25, votes_against=1)


def test_the_verifier_form_holds_back_the_last_of_a_pair_as_the_first_is_ticked(world, tmp_path, browser):
    case = at_verification(world, tmp_path)
    with serving(create_app(world.app)) as url:
        context, page = phone_signed_in(world, browser, url, "tl")
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{url}/cases/{case}")
        vd, vs = page.locator("input[name=verifiers][value=vd]"), page.locator("input[name=verifiers][value=vs]")
        said = page.locator("[data-one-of-said]")
        assert vd.is_enabled() and vs.is_enabled() and not said.is_visible()
        vd.check()
        assert vs.is_disabled() and said.is_visible()
        assert "须至少留一人办理「民主评议」，不能都选" in said.inner_text(), said.inner_text()
        assert world["vd"].name in said.inner_text() and world["vs"].name in said.inner_text()
        vd.uncheck()
        assert vs.is_enabled() and not said.is_visible()
        vs.check()                                   # the secretary is also the notice's last with fs
        assert vd.is_disabled() and page.locator("input[name=verifiers][value=fs]").is_disabled()
        assert "村级公示" in said.inner_text() or "公示" in said.inner_text(), said.inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        assert errors == []
        context.close()
