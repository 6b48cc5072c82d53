"""Every ID number of a household still to confirm, confirmed in one act (audit a7 #14): in a county
whose code exists only since 1999 most adults' numbers are flagged, and each took its own "核实无误"
on the case page. One confirmation now clears the household's, on the page and with
`household id-confirm CASE --all`; each member's confirmation is still recorded, with who and when."""
from __future__ import annotations

from sqlalchemy import select

from engine.adapters import tables as t
from engine.reads.trace import case_trace
from tests.test_cli import home, template  # noqa: F401  (fixtures)
from tests.world import VILLAGE, id_number
from workflows.household import MemberInput, register_household

ELDERS = (("钟德福", id_number("36073119400101003"), "head"), ("钟大娘", id_number("36073119420202004"), "spouse"),
          ("钟小妹", id_number("36073119650303005"), "child"))


def _marks(app, case: int) -> dict:
    with app.engine.connect() as conn:
        return dict(conn.execute(select(t.household_members.c.name, t.household_members.c.id_check).where(
            t.household_members.c.case_id == case)).all())


def _events(app, case: int) -> list:
    with app.engine.connect() as conn:
        return conn.execute(select(t.audit_events.c.person_code, t.audit_events.c.at, t.audit_events.c.detail).where(
            t.audit_events.c.case_id == case, t.audit_events.c.action == "member_id_confirmed")).all()


def test_one_button_confirms_the_households_numbers_and_each_is_recorded(world, world_clients):
    page, _api = world_clients
    case = register_household(world.app, world["vs"], VILLAGE, [MemberInput(*m) for m in ELDERS], ["illness"])
    assert set(_marks(world.app, case).values()) == {"later"}
    client = page("vs")
    shown = client.get(f"/cases/{case}")
    assert "以上 3 人的号码都已核对原件无误" in shown.text
    done = client.post(f"/cases/{case}/id-confirm-all", data={"csrf": client.csrf},
                       headers={"HX-Request": "true"})
    assert done.status_code == 200 and "已记下 3 人的身份证号核实无误" in done.text and "钟德福" in done.text, done.text
    assert set(_marks(world.app, case).values()) == {None}
    recorded = _events(world.app, case)
    assert sorted(e.detail["member"] for e in recorded) == sorted(m[0] for m in ELDERS)
    assert {e.person_code for e in recorded} == {"vs"} and all(e.at for e in recorded)
    trace = case_trace(world.app, world["insp"], case)
    assert "钟大娘" in str(trace)
    again = client.post(f"/cases/{case}/id-confirm-all", data={"csrf": client.csrf},
                        headers={"HX-Request": "true"})
    assert again.status_code in (400, 409) and "没有待核实的身份证号" in again.text
    assert "以上 3 人" not in client.get(f"/cases/{case}").text


def test_household_id_confirm_all_on_the_cli(home):  # noqa: F811
    added = home.ok("vs", "household", "add", "--village", VILLAGE,
                    *(x for name, number, rel in ELDERS for x in ("--member", f"{name},{number},{rel},normal,healthy,none,是,是")),
                    "--cause", "因病")
    case = int(added.last_line())
    before = home.case(case)
    assert sum(1 for m in before["members"] if m.get("id_check")) == 3
    both = home("vs", "household", "id-confirm", case, ELDERS[0][1], "--all")
    assert both.code != 0 and "二者选一" in both.err
    done = home.ok("vs", "household", "id-confirm", case, "--all")
    assert "已记下 3 人的身份证号经核对原件无误" in done.out and "钟小妹" in done.out
    assert not any(m.get("id_check") for m in home.case(case)["members"])
    none_left = home("vs", "household", "id-confirm", case, "--all", lang="en")
    assert none_left.code != 0 and f"case {case} has no ID number to confirm" in none_left.err


def test_an_imports_warnings_name_the_member_and_one_command_confirms_the_household(home, tmp_path):  # noqa: F811
    """The import told "第 2 行，身份证号（请核实）…": a row number, not whom; now the member by name
    (never the number), and the household's numbers are confirmed at once."""
    from tests.test_import_followups import code, write
    rows = [(code(52), VILLAGE, name, number, {"head": "户主", "spouse": "配偶", "child": "子女"}[rel], "", "因病")
            for name, number, rel in ELDERS]
    result = home("vs", "household", "import", write(tmp_path / "名单.csv", rows))
    assert result.code == 0, result.err
    assert "第 2 行（钟德福），身份证号（请核实）" in result.err and "第 4 行（钟小妹），身份证号（请核实）" in result.err
    assert ELDERS[0][1] not in result.err
    english = home("vs", "household", "import", write(tmp_path / "en.csv", [
        (code(53), VILLAGE, "钟老四", id_number("36073119380404006"), "户主", "", "因病")]), lang="en")
    assert "line 2 (钟老四), ID number (to confirm)" in english.err, english.err
    case = next(c["id"] for c in home.ok("vs", "case", "list", "--json").json() if c["title"] == "钟德福")
    assert "3 人" in home.ok("vs", "household", "id-confirm", case, "--all").out


def test_my_works_list_confirms_the_ticked_households_at_once(world, world_clients):
    """An import's or a village's numbers to confirm, checked against the cards household by household,
    are recorded in one act from "my work"'s list (all or none: one the cadre may not confirm refuses it)."""
    page, _api = world_clients
    first = register_household(world.app, world["vs"], VILLAGE, [MemberInput(*m) for m in ELDERS[:2]], ["illness"])
    second = register_household(world.app, world["vs"], VILLAGE,
                                [MemberInput("钟老四", id_number("36073119380404006"), "head")], ["illness"])
    client = page("vs")
    work = client.get("/work").text
    assert 'action="/work/ids-confirm"' in work and f'name="case" value="{first}" checked' in work
    done = client.post("/work/ids-confirm", data={"csrf": client.csrf, "case": [str(first), str(second)]},
                       headers={"HX-Request": "true"})
    assert done.status_code == 200 and "已记下 2 户共 3 人的身份证号核实无误" in done.text, done.text
    assert set(_marks(world.app, first).values()) | set(_marks(world.app, second).values()) == {None}
    assert len(_events(world.app, first)) == 2 and len(_events(world.app, second)) == 1
    assert 'action="/work/ids-confirm"' not in client.get("/work").text
    again = client.post("/work/ids-confirm", data={"csrf": client.csrf, "case": [str(first)]},
                        headers={"HX-Request": "true"})
    assert again.status_code in (400, 409) and "没有待核实的身份证号" in again.text
