"""The village's evidence sheet records this year's visit over a check older than the exit accepts (a9
finding 1): the list's summary links to the sheet for each stale check; the sheet opens on those households,
counts them as needing the item, says why, and one save replaces them all, saying so. Before, the sheet had
no save button and said every household needing the item had it."""
from __future__ import annotations

import re

from tests.web.bulk_world import actor, core, demo_home, web  # noqa: F401
from tests.web.test_list_holds53 import EXIT, EXIT_VILLAGE, client_as

SECRETARY = f"v{int(EXIT_VILLAGE[-2:]):02d}_secretary"


def _stale_in_summary(client, etype: str) -> set[int]:
    holds = client.get(f"/villages/{EXIT_VILLAGE}/list/holds?{EXIT}").text
    found = set()
    for block in re.findall(r'<li data-count="\d+">.*?</details></li>', holds, re.S):
        if "早于本次退出认可的最早日期" in block and f"type={etype}&" in block:
            found |= {int(c) for c in re.findall(r'href="/cases/(\d+)"', block)}
    return found


def test_the_village_enters_this_visit_s_checks_on_the_sheet_in_one_save(web, core):  # noqa: F811
    client = client_as(web, core, SECRETARY)
    stale = _stale_in_summary(client, "two_assurances")
    assert stale, "the demo's village has households waiting with last year-end's checks"
    sheet = client.get(f"/villages/{EXIT_VILLAGE}/evidence?type=two_assurances")
    assert sheet.status_code == 200
    assert 'id="sheet-form"' in sheet.text and 'id="nothing-to-fill"' not in sheet.text
    assert "下一步需要此材料的户均已录入" not in sheet.text and "表格只能新增" not in sheet.text
    assert re.search(rf"{len(stale)} 户的这项核查登记于 2020-04-20 之前", sheet.text), sheet.text
    assert "早于本次退出认可的最早日期 2020-04-20" in sheet.text
    for case in stale:
        assert f'name="f_{case}_food"' in sheet.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', sheet.text).group(1)
    form = {"csrf": csrf, "kind": "household", "type": "two_assurances", "view": "needed"}
    for case in stale:
        form.update({f"f_{case}_food": "yes", f"f_{case}_clothing": "yes"})
    saved = client.post(f"/villages/{EXIT_VILLAGE}/evidence", data=form, headers={"HX-Request": "true"})
    assert saved.status_code == 200, saved.text
    assert f"已保存 {len(stale)} 户的材料" in saved.text
    assert f"其中 {len(stale)} 户的新核查替换了早于本次退出认可日期的旧核查" in saved.text
    assert saved.text.count("已替换旧核查") == len(stale)
    assert not _stale_in_summary(client, "two_assurances") & stale      # the summary no longer names them
    assert _stale_in_summary(client, "housing_safety")                   # the other checks are still to enter
    again = client.get(f"/villages/{EXIT_VILLAGE}/evidence?type=two_assurances&all=1")
    assert "本次退出不再认可" not in again.text
    english = client_as(web, core, SECRETARY, "en").get(f"/villages/{EXIT_VILLAGE}/evidence?type=drinking_water")
    assert "which this exit no longer accepts" in english.text and "before 2020-04-20" in english.text
