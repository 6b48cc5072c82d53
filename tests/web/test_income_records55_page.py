"""The case page's evidence forms and the village's evidence sheet say what each income record is for (a11 #8):
the 收支核查表 the application's, the 收入核算明细表 the exit's."""
from __future__ import annotations

import re

from tests.test_income_records55 import assisted
from tests.world import VILLAGE


def test_the_case_pages_forms_and_the_villages_sheet_say_what_each_income_record_is_for(world, world_clients):
    case = assisted(world)
    page, _api = world_clients
    client = page("vs")
    shown = client.get(f"/cases/{case}").text
    for etype, words in (("income_check", "申请识别时用"), ("income_assessment", "脱贫退出、返贫认定、监测和风险消除用")):
        found = re.search(rf'id="ev-{etype}-purpose">(.*?)</p>', shown, re.S)
        assert found and words in found.group(1), etype
    sheet = client.get(f"/villages/{VILLAGE}/evidence?kind=household&type=income_assessment").text
    assert re.search(r'id="sheet-purpose">[^<]*申请识别时的收支核查表不能代替它', sheet)
