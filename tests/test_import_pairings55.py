"""A registry's pairing cadres come over with it (a11 #2): the national export's 帮扶责任人 and
帮扶责任人联系电话 pair each household with a person already imported (by name in the household's county,
the phone telling namesakes apart), from the import's day, in the household's first event, within the
first-cadre limit; what names no one, or several, or a cadre at the limit, is the row's problem; a household
assisted or later with no first pairing cadre says so in `case next` (and on its page: tests/web)."""
from __future__ import annotations

import json

from sqlalchemy import select

from engine.adapters import tables as t
from engine.reads.audit_verify import verify
from engine.reads.queries import next_for
from engine.services.org import NewPerson, add_persons
from tests.test_cli import home, template  # noqa: F401  (fixtures)
from tests.test_registry_import import number, write
from tests.world import VILLAGE, VILLAGE2
from workflows.household import MemberInput
from workflows.household_import import ListedHousehold, import_households

CADRES = [NewPerson("p_wang", "王帮扶", (("pairing_cadre", VILLAGE),)),
          NewPerson("p_li1", "李同名", (("pairing_cadre", VILLAGE),), channels=(("wecom", "meijiang/13800001111", "zh"),)),
          NewPerson("p_li2", "李同名", (("pairing_cadre", VILLAGE2),), channels=(("wecom", "huangpi/13900002222", "zh"),))]


def listed_household(i: int, village: str, cadre: str | None = None, phone: str | None = None) -> ListedHousehold:
    people = [(2 * i + 2, MemberInput(f"户主{i}", number(2 * i + 700), "head")),
              (2 * i + 3, MemberInput(f"配偶{i}", number(2 * i + 701), "spouse"))]
    h = ListedHousehold(f"h{i}", village, people, ["illness"], code=f"3607308{i:05d}", stage="帮扶中")
    h.pairing_cadre, h.pairing_phone = cadre, phone
    return h


def test_the_files_pairing_cadres_are_paired_and_what_names_none_or_several_is_the_rows_problem(world):
    add_persons(world.app, world["admin"], CADRES)
    households = [listed_household(0, VILLAGE, "王帮扶"),                       # line 2: paired
                  listed_household(1, VILLAGE, "李同名", "138 0000 1111"),      # line 4: the namesake in this village, by phone
                  listed_household(2, VILLAGE2, "李同名"),                      # line 6: two namesakes in the county
                  listed_household(3, VILLAGE, "张无人"),                       # line 8: no such cadre
                  listed_household(4, VILLAGE, "王帮扶"),                       # line 10: 王帮扶 at the limit (1)
                  listed_household(5, VILLAGE2)]                               # line 12: none given: imported, unpaired
    problems, written = [], {}
    result = import_households(world.app, world["cd"], households, keep_good=True,
                               source={"file": "全县.csv", "sha256": "1" * 64},
                               on_problem=lambda line, column, e: problems.append((line, column, e.code, e.params)),
                               on_skipped=lambda h: None, on_written=lambda h, case: written.update({h.key: case}))
    assert [(line, column, code) for line, column, code, _p in problems] == [
        (6, "pairing_cadre", "import.pairing_ambiguous"), (8, "pairing_cadre", "import.pairing_unknown"),
        (10, "pairing_cadre", "import.pairing_capacity")]
    assert problems[0][3]["persons"] == "p_li1, p_li2" and problems[2][3]["maximum"] == 1
    assert (result.households, result.paired, result.unpaired) == (3, 2, 1)
    with world.app.engine.connect() as conn:
        pairs = conn.execute(select(t.pairings.c.case_id, t.persons.c.code, t.pairings.c.kind, t.pairings.c.start_date)
                             .join(t.persons, t.persons.c.id == t.pairings.c.person_id)
                             .order_by(t.pairings.c.case_id)).all()
        first = conn.execute(select(t.audit_events.c.detail).where(t.audit_events.c.case_id == written["h0"])).scalar()
    today = world.app.clock.today()
    assert [tuple(p) for p in pairs] == [(written["h0"], "p_wang", "first", today), (written["h1"], "p_li1", "first", today)]
    detail = json.loads(first) if isinstance(first, str) else first
    assert detail["pairing"] == {"first": "p_wang"} and detail["pairing_from"] == today.isoformat()
    assert verify(world.app, processes=1).intact          # the pairing as the first event records it
    # the household imported assisted with no cadre says so, with what to do; the paired one does not
    lacking = next_for(world.app, world["cd"], written["h5"])
    assert lacking["figures"]["no_first_cadre"]
    assert "没有在任的第一帮扶责任人" in lacking["figures"]["lines"][0] and "调整帮扶责任人" in lacking["figures"]["lines"][0]
    assert not next_for(world.app, world["cd"], written["h0"])["figures"].get("no_first_cadre")


def test_household_import_reads_the_national_columns_and_case_next_tells_the_unpaired(home, tmp_path):  # noqa: F811
    headers = ("村编码", "户编号", "姓名", "身份证号", "与户主关系", "致贫原因", "户状态", "帮扶责任人", "帮扶责任人联系电话")
    pc1 = next(p["name"] for p in home.ok("admin", "person", "list", "--json").json() if p["code"] == "pc1")
    rows = [(VILLAGE, "360730100000", "户主0", number(0), "户主", "因病", "帮扶中", pc1, ""),
            (VILLAGE, "360730100000", "配偶0", number(1), "配偶", "", "帮扶中", pc1, ""),
            (VILLAGE, "360730100001", "户主1", number(2), "户主", "因病", "帮扶中", "", "")]
    result = home("cd", "household", "import", write(tmp_path / "全县.csv", rows, headers))
    assert result.code == 0, result.err
    assert "不认识" not in result.err
    assert "其中 1 户按文件的“帮扶责任人”结对了第一帮扶责任人" in result.out
    assert "1 户处于帮扶中或已脱贫，文件却没有给出其帮扶责任人" in result.err
    cases = sorted(c["id"] for c in home.ok("cd", "case", "list", "--json").json())
    shown = home.ok("cd", "case", "show", str(cases[0])).out
    assert "pc1" in shown or pc1 in shown
    told = home.ok("ts1", "case", "next", str(cases[1])).out
    assert "没有在任的第一帮扶责任人" in told and "jingzhun step pairing_change pairing" in told
    assert "没有在任的第一帮扶责任人" not in home.ok("ts1", "case", "next", str(cases[0])).out


def test_an_unknown_cadre_is_the_rows_problem_in_words_and_skip_bad_sets_it_aside(home, tmp_path):  # noqa: F811
    headers = ("村编码", "户编号", "姓名", "身份证号", "与户主关系", "致贫原因", "户状态", "帮扶责任人")
    rows = [(VILLAGE, "360730100000", "户主0", number(10), "户主", "因病", "帮扶中", "张无人"),
            (VILLAGE, "360730100001", "户主1", number(12), "户主", "因病", "帮扶中", "")]
    path = write(tmp_path / "全县.csv", rows, headers)
    refused = home("cd", "household", "import", path)
    assert refused.code == 2 and "第 2 行，帮扶责任人" in refused.err and "person import" in refused.err
    skipped = home("cd", "household", "import", path, "--skip-bad", str(tmp_path / "bad.csv"))
    assert skipped.code == 0, skipped.err
    assert "已导入 1 户" in skipped.out and "张无人" in (tmp_path / "bad.csv").read_text(encoding="utf-8-sig")
