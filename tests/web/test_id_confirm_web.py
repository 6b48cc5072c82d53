"""ID numbers "to confirm" on the case page and in the cadre's work (a user audit, defects 3 to 5): the
member is marked with why and what to do, a button records the check (with HTMX and without), the
member form corrects a wrong number and takes one typed with spaces, a member added is warned of."""
from __future__ import annotations

import re
from urllib.parse import unquote

from sqlalchemy import select

from engine.adapters import tables as t
from engine.domain.members import mask_id
from tests.web.bulk_world import VILLAGE, core, demo_home, web  # noqa: F401
from tests.web.test_import_web import HX, csv_bytes, ids, post
from tests.world import id_number


def imported(cadre, serial: int, names: tuple[str, str]) -> tuple[int, list[str]]:
    """A household imported from a list, its two members' numbers of 360730 born in 1970 (a code set
    up in the late 1990s: to confirm)."""
    numbers = ids(serial, 2)
    code = f"WH-{serial:03d}"
    done = post(cadre, f"{code}.csv", csv_bytes([(code, names[0], numbers[0], "户主", "健康", "因病"),
                                                (code, names[1], numbers[1], "配偶", "健康", "因病")]), village=VILLAGE)
    assert done.status_code == 200, done.text
    return int(re.findall(r'<a href="/cases/(\d+)">案件 \1</a>', done.text)[0]), numbers


def rows_of(page: str, case: int) -> list[str]:
    return re.findall(rf'hx-post="/cases/{case}/members/(\d+)/id-confirm"', page)


def test_a_cadre_sees_a_number_to_confirm_and_confirms_it_on_the_case_page(signed_in, core):  # noqa: F811
    cadre = signed_in("cadre")
    case, numbers = imported(cadre, 31, ("吴甲", "吴乙"))
    page = cadre.get(f"/cases/{case}").text
    assert page.count("身份证号待核实</span>") >= 2 and 'id="ids-to-confirm"' in page
    assert f"吴甲 的身份证号（{mask_id(numbers[0])}）待核实：地区码在其出生年份尚未设立。" in page
    assert "请对照身份证原件核实号码" in page and numbers[0] not in page
    work = cadre.get("/work").text
    assert 'id="ids-to-confirm"' in work and f'href="/cases/{case}#ids-to-confirm"' in work
    first, second = rows_of(page, case)
    # with HTMX: the answer in place
    done = cadre.post(f"/cases/{case}/members/{first}/id-confirm", headers=HX, data={"csrf": cadre.csrf})
    assert done.status_code == 200 and "已记下 吴甲 的身份证号核实无误" in done.text, done.text
    again = cadre.post(f"/cases/{case}/members/{first}/id-confirm", headers=HX, data={"csrf": cadre.csrf})
    assert again.status_code == 409 and "没有待核实的事项" in again.text
    # without HTMX: back to the page, which says it once
    plain = cadre.post(f"/cases/{case}/members/{second}/id-confirm", data={"csrf": cadre.csrf})
    assert plain.status_code == 303 and plain.headers["location"] == f"/cases/{case}#done"
    assert "吴乙" in unquote(plain.cookies.get("jz_done") or cadre.cookies.get("jz_done") or "")
    page = cadre.get(f"/cases/{case}").text
    assert 'id="ids-to-confirm"' not in page and rows_of(page, case) == []
    assert f'href="/cases/{case}#ids-to-confirm"' not in cadre.get("/work").text
    with core.engine.connect() as conn:
        confirmed = conn.execute(select(t.audit_events.c.person_code, t.audit_events.c.detail).where(
            t.audit_events.c.case_id == case, t.audit_events.c.action == "member_id_confirmed")
            .order_by(t.audit_events.c.seq)).all()
    assert [(e.person_code, e.detail["member"], e.detail["id"]) for e in confirmed] == [
        ("v01_secretary", "吴甲", mask_id(numbers[0])), ("v01_secretary", "吴乙", mask_id(numbers[1]))]


def test_an_inspector_sees_the_mark_and_no_button_and_cannot_confirm(signed_in, core):  # noqa: F811
    case, _numbers = imported(signed_in("cadre"), 32, ("郑甲", "郑乙"))
    row = rows_of(signed_in("cadre").get(f"/cases/{case}").text, case)[0]
    inspector = signed_in("inspector")
    page = inspector.get(f"/cases/{case}").text
    assert "身份证号待核实" in page and rows_of(page, case) == [] and "由村或乡镇登记人员对照身份证原件核实" in page
    refused = inspector.post(f"/cases/{case}/members/{row}/id-confirm", headers=HX, data={"csrf": inspector.csrf})
    assert refused.status_code == 403


def test_a_wrong_number_is_corrected_and_a_spaced_one_added_on_the_case_page(signed_in, core):  # noqa: F811
    cadre = signed_in("cadre")
    case, numbers = imported(cadre, 33, ("冯甲", "冯乙"))
    page = cadre.get(f"/cases/{case}").text
    assert not re.search(r'<input name="m_id_number"[^>]*maxlength="18"', page)       # a spaced number is not cut
    member = re.findall(rf'hx-post="/cases/{case}/members/(\d+)"', page)[1]
    right = id_number("36213119700102011")
    spaced = f"{right[:6]} {right[6:14]} {right[14:]}"
    fixed = cadre.post(f"/cases/{case}/members/{member}", headers=HX,
                       data={"csrf": cadre.csrf, "m_id_number": spaced, "reason": "按身份证原件更正"})
    assert fixed.status_code == 200 and "已更新：身份证号" in fixed.text, fixed.text
    with core.engine.connect() as conn:
        row = conn.execute(select(t.household_members.c.id_number, t.household_members.c.id_check).where(
            t.household_members.c.id == int(member))).one()
    assert tuple(row) == (right, None)
    # a member added with a spaced number: taken whole, and warned of its county code
    baby = id_number("36073019700304005")
    added = cadre.post(f"/cases/{case}/members", headers=HX, data={
        "csrf": cadre.csrf, "m_name": "冯丙", "m_id_number": f"{baby[:6]} {baby[6:14]} {baby[14:].lower()}",
        "m_relation": "other", "m_labour_ability": "normal", "reason": "迁回"})
    assert added.status_code == 200 and "已新增成员" in added.text, added.text
    assert "请核实：该成员的身份证号地区码 360730 在其出生年份尚未设立" in added.text
    with core.engine.connect() as conn:
        assert conn.execute(select(t.household_members.c.id_check).where(
            t.household_members.c.case_id == case, t.household_members.c.id_number == baby)).scalar() == "later"
