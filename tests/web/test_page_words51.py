"""A village list's refusal reasons and an evidence sheet's row refusals are catalogue texts like any
other on a page: a command they quote (`step plan_revision plan`) shows as code, not between raw
backticks. Before, both reached the page as plain strings. SQLite and PostgreSQL, both languages."""
from __future__ import annotations

import re
from datetime import date

from tests.test_evidence_files import JPEG
from tests.test_household_life import consolidated
from tests.test_plan_again import back_in_poverty
from tests.world import VILLAGE

HX = {"HX-Request": "true"}


def test_a_village_lists_refusal_shows_the_command_it_quotes_as_code(world, world_clients, tmp_path):
    case = consolidated(world, tmp_path)
    back_in_poverty(world, case)                     # no new plan yet: not to be proposed for exit
    world.on(date(2020, 11, 20))
    page, _api = world_clients
    director = page("vd")
    form = {"csrf": director.csrf, "kind": "household", "procedure": "exit", "step": "proposal",
            "case": [str(case)], "attendance": "38", f"vf_{case}": "33", f"va_{case}": "1"}
    for lang, words in (("zh", "请先办理「调整帮扶计划」"), ("en", "revise the plan first")):
        director.cookies.set("lang", lang)
        answer = director.post(f"/villages/{VILLAGE}/list", data=form, headers=HX,
                               files={"minutes": ("评议会议记录.jpg", JPEG, "image/jpeg")})
        assert answer.status_code == 409 and 'data-done="0" data-refused="1"' in answer.text, answer.text[:800]
        reasons = re.search(r'<ul class="needs-list">(.*?)</ul>', answer.text, re.S).group(1)
        assert words in reasons, reasons
        assert "<code>step plan_revision plan</code>" in reasons and "`" not in reasons, reasons   # before: `…`


def test_an_evidence_sheets_row_refusals_show_the_command_they_quote_as_code(world, world_clients, monkeypatch):
    """No sheet row's refusal in the catalogue as shipped quotes a command on a page, but one edited to
    (config/locale is the office's to word) shows it as code, as every other refusal on a page does:
    a row's own refusal, and a field's (said after the field's name)."""
    case, other = world.household(), world.household()
    labels = world.app.config.labels
    for key in ("msg.sheets.has_year@page", "msg.evidence.bad_field"):
        monkeypatch.setitem(labels, key, {lang: text + "（`evidence history`）" for lang, text in labels[key].items()})
    page, _api = world_clients
    secretary = page("vs")
    sheet = {"csrf": secretary.csrf, "kind": "household", "type": "income_assessment",
             f"f_{case}_year": "2019", f"f_{case}_net_income": "9000"}
    assert 'data-written="1"' in secretary.post(f"/villages/{VILLAGE}/evidence", headers=HX, data=sheet).text
    answer = secretary.post(f"/villages/{VILLAGE}/evidence", headers=HX, data={    # the same year again
        **sheet, f"f_{other}_year": "2019", f"f_{other}_net_income": "abc"})
    assert answer.status_code == 409 and 'data-written="0" data-refused="2"' in answer.text, answer.text[:800]
    for row_of, words in ((case, "已有 2019 年度的"), (other, "收到 abc")):
        row = re.search(rf'data-case="{row_of}" data-result="refused">(.*?)</tr>', answer.text, re.S).group(1)
        assert words in row and "<code>evidence history</code>" in row and "`" not in row, row    # before: `…`
