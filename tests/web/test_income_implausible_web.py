"""An income far past the poverty line on the web (the audit's 99,999,999,999 yuan, accepted without a
word, the household then qualifying to exit): the case page's evidence form refuses it with a box to
confirm the figure, with HTMX and without; the API takes `confirm_figure`; the village's evidence sheet
names the row and takes a box confirming its flagged figures."""
from __future__ import annotations

import re

from tests.test_income_implausible import attached_detail, incomes
from tests.world import VILLAGE

HX = {"HX-Request": "true"}
TYPO = "99999999999"
BOX = re.compile(r'<input type="checkbox" name="confirm_figure" value="1" form="ev-income_assessment">\s*我已核实该数字无误')


def _confirmed(world, case: int) -> bool:
    return attached_detail(world, case).get("figure_confirmed") is True


def test_the_case_pages_form_refuses_the_figure_with_a_box_that_confirms_it(world, world_clients):
    page, _api = world_clients
    client = page("vs")
    case = world.household(members=2)
    sent = {"csrf": client.csrf, "type": "income_assessment", "f_year": "2019", "f_net_income": TYPO}
    refused = client.post(f"/cases/{case}/evidence", headers=HX, data=sent)
    assert refused.status_code == 400 and 'data-code="evidence.income_implausible"' in refused.text
    assert "人均纯收入 50,000,000,000 元" in refused.text and "2019 年贫困线 3,747 元" in refused.text
    assert "请勾选下方「我已核实该数字无误」" in refused.text and "--confirm" not in refused.text
    assert BOX.search(refused.text) and incomes(world, case) == 0
    done = client.post(f"/cases/{case}/evidence", headers=HX, data={**sent, "confirm_figure": "1"})
    assert done.status_code == 200, done.text
    assert incomes(world, case) == 1 and _confirmed(world, case)


def test_without_htmx_the_case_page_comes_back_with_the_figure_and_the_box(world, world_clients):
    page, _api = world_clients
    client = page("vs")
    case = world.household(members=2)
    sent = {"csrf": client.csrf, "type": "income_assessment", "f_year": "2019", "f_net_income": TYPO}
    refused = client.post(f"/cases/{case}/evidence", data=sent)
    assert refused.status_code == 400 and "<html" in refused.text
    form = re.search(r'<form[^>]*id="ev-income_assessment".*?</form>', refused.text, re.S).group(0)
    assert f'value="{TYPO}"' in form                      # what was typed, kept
    assert BOX.search(refused.text) and incomes(world, case) == 0
    done = client.post(f"/cases/{case}/evidence", data={**sent, "confirm_figure": "1"})
    assert done.status_code == 303 and incomes(world, case) == 1 and _confirmed(world, case)


def test_the_api_refuses_the_figure_and_takes_confirm_figure(world, world_clients):
    _page, api = world_clients
    case = world.household(members=2)
    body = {"type": "income_assessment", "fields": {"year": 2019, "net_income": int(TYPO)}}
    refused = api("vs", "en").post(f"/api/v1/cases/{case}/evidence", json=body)
    assert refused.status_code == 400 and refused.json()["error"] == "evidence.income_implausible"
    said = refused.json()["message"]
    assert "50,000,000,000 yuan a head" in said and "2019 poverty line of 3,747 yuan" in said
    assert '`"confirm_figure": true`' in said and "--confirm" not in said and incomes(world, case) == 0
    done = api("vs").post(f"/api/v1/cases/{case}/evidence", json={**body, "confirm_figure": True})
    assert done.status_code == 201, done.text
    assert incomes(world, case) == 1 and _confirmed(world, case)


def test_the_village_sheet_names_the_row_and_its_box_confirms_the_flagged_figures(world, world_clients):
    page, _api = world_clients
    client = page("vs")
    cases = [world.household(members=2), world.household(members=2)]
    sheet = client.get(f"/villages/{VILLAGE}/evidence", params={"type": "income_assessment", "kind": "household"})
    assert 'name="confirm_figures"' in sheet.text
    sent = {"csrf": client.csrf, "type": "income_assessment", "kind": "household",
            f"f_{cases[0]}_year": "2019", f"f_{cases[0]}_net_income": "12000",
            f"f_{cases[1]}_year": "2019", f"f_{cases[1]}_net_income": TYPO}
    refused = client.post(f"/villages/{VILLAGE}/evidence", headers=HX, data=sent)
    assert refused.status_code == 409 and "50,000,000,000" in refused.text
    assert "请勾选「标出的收入数字已逐一核实无误」" in refused.text
    assert [incomes(world, c) for c in cases] == [0, 0]
    done = client.post(f"/villages/{VILLAGE}/evidence", headers=HX, data={**sent, "confirm_figures": "1"})
    assert done.status_code == 200, done.text
    assert [incomes(world, c) for c in cases] == [1, 1] and _confirmed(world, cases[1]) and not _confirmed(world, cases[0])
