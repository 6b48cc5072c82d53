"""A new year's evidence on the web (issue 12's QA): a household that already has an income
assessment gets this year's through its page, as a replacement with a reason — the page had no way
to, and told the cadre to use the command line's --replace."""
from __future__ import annotations

import re

from sqlalchemy import select

from engine.adapters import tables as t

HX = {"HX-Request": "true"}      # sent as the case page's form sends it (htmx)


def _household_with(core, signed_code: str, etype: str) -> tuple[int, int]:
    """(case, its evidence item) of a household in the person's village holding `etype` in force."""
    with core.engine.connect() as conn:
        region = conn.execute(select(t.role_assignments.c.region_code).join(
            t.persons, t.persons.c.id == t.role_assignments.c.person_id).where(t.persons.c.code == signed_code)).scalar()
        return conn.execute(select(t.evidence.c.case_id, t.evidence.c.id).join(t.cases, t.cases.c.id == t.evidence.c.case_id)
                            .where(t.cases.c.region_code == region, t.cases.c.kind == "household",
                                   t.evidence.c.type == etype, t.evidence.c.superseded_by.is_(None))
                            .order_by(t.evidence.c.id)).first()


def test_a_cadre_replaces_last_years_income_with_this_years_and_a_reason(signed_in, core, demo_home):
    _, sign_ins = demo_home
    client = signed_in("cadre")
    case_id, old = _household_with(core, sign_ins["cadre"][0], "income_assessment")
    page = client.get(f"/cases/{case_id}").text
    form = re.search(r'<form[^>]*data-type="income_assessment".*?</form>', page, re.S).group(0)
    assert 'name="replace" value="1"' in form and 'name="reason"' in form and f"#{old}" in form
    year = str(core.clock.today().year)          # this year on the server's clock (the demo's: 2020)
    fields = {f"f_{name}": year if name == "year" else "9000" for name in re.findall(r'name="f_(\w+)"', form)}
    data = {"csrf": client.csrf, "type": "income_assessment", "replace": "1", "void_signoffs": "1", **fields}
    with core.engine.connect() as conn:      # a correction of the year held asks for the reason (a later one
        held = conn.execute(select(t.evidence.c.fields).where(t.evidence.c.id == old)).scalar()["year"]   # does not)
    without = client.post(f"/cases/{case_id}/evidence", headers=HX, data={**data, "f_year": str(held)})
    assert without.status_code == 400 and "替换材料必须说明理由" in without.text and "--reason" not in without.text
    done = client.post(f"/cases/{case_id}/evidence", headers=HX, data={**data, "reason": f"{year} 年度收入核算"})
    assert done.status_code == 200, done.text
    with core.engine.connect() as conn:
        superseded = conn.execute(select(t.evidence.c.superseded_by, t.evidence.c.supersede_reason)
                                  .where(t.evidence.c.id == old)).one()
    assert superseded.superseded_by is not None and superseded.supersede_reason == f"{year} 年度收入核算"


def test_a_type_not_held_yet_has_no_replacement_fields(signed_in, core, demo_home):
    _, sign_ins = demo_home
    client = signed_in("cadre")
    case_id, _old = _household_with(core, sign_ins["cadre"][0], "income_assessment")
    page = client.get(f"/cases/{case_id}").text
    forms = re.findall(r'<form[^>]*data-type="(\w+)".*?</form>', page, re.S)
    held = {m for m in re.findall(r'<form[^>]*data-type="(\w+)"[^>]*>(?:(?!</form>).)*name="replace"', page, re.S)}
    assert "income_assessment" in held and set(forms) - held        # others are added, not replaced
