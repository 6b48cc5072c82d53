"""A household back in poverty: its page and the API say a new plan comes next and why, and offer the
plan's form, not the exit's (the page offered 脱贫退出 · 评议并提出退出 with the 2019 plan in force)."""
from __future__ import annotations

from tests.test_household_life import consolidated
from tests.test_plan_again import back_in_poverty


def test_the_page_and_the_api_of_a_household_back_in_poverty_ask_for_a_new_plan(world, world_clients, tmp_path):
    page, api = world_clients
    case = consolidated(world, tmp_path)
    back_in_poverty(world, case)
    html = page("fs").get(f"/cases/{case}").text
    said = html.partition('id="plan-needed">')[2].partition("</p>")[0]
    assert "2020-03-10「返贫纳入」后须重新制定帮扶计划" in said and "之后才能提出退出" in said, said
    form = html.partition('id="step-form"')[2].partition("</form>")[0]
    assert 'name="procedure" value="plan_revision"' in form and 'name="step" value="plan"' in form
    assert 'id="starting"' not in html                  # what it needs, not a side procedure being started
    others = html.partition('id="others"')[2].partition("</div>")[0]
    assert "?procedure=exit" not in others
    nxt = api("insp", "en").get(f"/api/v1/cases/{case}/next").json()
    assert (nxt["next"]["procedure"], nxt["next"]["step"]) == ("plan_revision", "plan")
    assert nxt["needed"]["procedure"] == "plan_revision"
    assert "a new assistance plan is needed" in nxt["needed"]["why"]
