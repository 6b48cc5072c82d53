"""A county's registry moving to a new home (a user audit of moving a registry, items 3 and 7): its
regions and its people with their posts go out with `export regions` / `export persons` and come back
in with `region import` / `person import`, in either language and format; a region list saved as JSON
is said to be JSON; an ID number checked against the card in the old home is not "to confirm" again."""
from __future__ import annotations

import csv
import json
import shutil
import sqlite3

import pytest
from openpyxl import load_workbook

from tests.test_cli import Home, jingzhun, home, paper_codes, template  # noqa: F401  (fixtures)
from tests.world import COUNTY, TOWNSHIP, VILLAGE, id_number

NINGDU_1969 = id_number("36073119690315004")      # 于都县's code (360731, since 1999) in a 宁都县 household, born 1969: to confirm
NINGDU_1971 = id_number("36073119710909004")


def _events(h: Home, action: str) -> list[dict]:
    with sqlite3.connect(h.db) as conn:
        return [json.loads(d) for d, in conn.execute("SELECT detail FROM audit_events WHERE action = ?", (action,))]


def _fresh(tmp_path, name: str = "new") -> Home:
    """A new home: `init`, nothing else (its administrator's token kept)."""
    path = tmp_path / name
    init = jingzhun(["--home", path, "init"])
    assert init.code == 0, init.err
    return Home(path, {"admin": init.last_line()})


def _regions(h: Home, under: str) -> list[tuple[str, str]]:
    return [(r["code"], r["name"]) for r in h.ok("admin", "region", "list", "--json").json()
            if r["code"][:6] == under[:6] or r["code"] in ("360000000000", "360700000000")]


def _posts(h: Home, under: str) -> set[tuple]:
    """Everyone's posts within the county (not the administrators' over the country)."""
    with sqlite3.connect(h.db) as conn:
        return set(conn.execute(
            "SELECT p.code, p.name, r.role, r.region_code FROM persons p JOIN role_assignments r ON r.person_id = p.id"
            " WHERE r.revoked_at IS NULL AND r.region_code LIKE ?", (under[:6] + "%",)))


def _channels(h: Home) -> set[tuple]:
    with sqlite3.connect(h.db) as conn:
        return set(conn.execute("SELECT p.code, c.channel, c.address, c.lang FROM person_channels c"
                                " JOIN persons p ON p.id = c.person_id WHERE c.active"))


@pytest.mark.parametrize("lang,fmt", [("zh", "csv"), ("en", "xlsx"), ("en", "csv"), ("zh", "xlsx")])
def test_a_county_s_regions_and_people_move_to_a_new_home_in_two_files(home, tmp_path, lang, fmt):  # noqa: F811
    home.ok("admin", "person", "add", "wq", "王青", "--role", f"pairing_cadre:{VILLAGE}", "--role",
            f"township_staff:{TOWNSHIP}", "--channel", "email:wq@example.cn", "--alert-lang", "en")
    regions, persons = tmp_path / f"regions.{fmt}", tmp_path / f"persons.{fmt}"
    for table, path in (("regions", regions), ("persons", persons)):
        done = home("cd", "export", table, f"--{fmt}", str(path), lang=lang)
        assert done.code == 0, done.err
    if fmt == "csv":
        text = persons.read_text(encoding="utf-8-sig")
        assert "wq@example.cn" in text and "令牌" not in text and "token" not in text.lower()
    new = _fresh(tmp_path)
    done = new("admin", "region", "import", str(regions), lang=lang)
    assert done.code == 0 and "not read" not in done.err and "未读取" not in done.err, done.err
    assert _regions(new, COUNTY) == _regions(home, COUNTY)
    done = new("admin", "person", "import", str(persons), "--codes-file", str(tmp_path / "codes.csv"), lang=lang)
    assert done.code == 0, done.err
    assert _posts(new, COUNTY) == _posts(home, COUNTY) and ("wq", "王青", "pairing_cadre", VILLAGE) in _posts(new, COUNTY)
    assert {c for c in _channels(new) if c[0] == "wq"} == {("wq", "email", "wq@example.cn", "en")}
    # each person activates their own new code: nobody's token or password went with the file
    codes = {code: enrolment for code, _name, enrolment, _use in paper_codes(tmp_path / "codes.csv")}
    assert set(codes) == {p[0] for p in _posts(home, COUNTY)} - {"wq"}       # wq's sent over the channel
    assert jingzhun(["--home", new.path, "--as", "vs", "activate", codes["vs"]]).code == 0
    # recorded as the other exports are: who, which table, which regions
    assert {"regions", "persons"} <= {e["table"] for e in _events(home, "exported")}


def test_an_export_of_regions_is_the_reader_s_jurisdiction_and_the_regions_above_it(home, tmp_path):  # noqa: F811
    path = tmp_path / "regions.csv"
    home.ok("ts1", "export", "regions", "--csv", str(path))
    with open(path, encoding="utf-8-sig") as fh:
        rows = [r for r in csv.reader(fh)]
    assert rows[0] == ["区划代码", "名称"]
    codes = [r[0].strip() for r in rows[1:]]
    assert codes == ["360000000000", "360700000000", COUNTY, TOWNSHIP, VILLAGE]     # not 青塘镇, another township


def test_a_region_list_saved_as_json_is_said_to_be_json(home, tmp_path):  # noqa: F811
    saved = tmp_path / "regions.txt"
    saved.write_text(home.ok("admin", "region", "list", "--json").out, encoding="utf-8")
    new = _fresh(tmp_path)
    for lang, said in (("zh", "JSON 文件"), ("en", "JSON file")):
        refused = new("admin", "region", "import", str(saved), lang=lang)
        assert refused.code == 2 and said in refused.err and "export regions" in refused.err, refused.err
        assert "Traceback" not in refused.err


def _registered(h: Home) -> tuple[int, int]:
    """Two households whose heads' ID numbers are to confirm; the first one's confirmed by the cadre."""
    cases = []
    for n, (head, spouse) in enumerate(((NINGDU_1969, id_number("36213119700101002")),
                                        (NINGDU_1971, id_number("36213119720101003")))):
        cases.append(int(h.ok("vs", "household", "add", "--village", VILLAGE, "--member",
                                 f"曾老汉{n},{head},head,normal,healthy,none,是,是", "--member",
                                 f"钟大婶{n},{spouse},spouse,normal,healthy,none,是,是", "--cause", "因病").last_line()))
    h.ok("vs", "household", "id-confirm", cases[0], NINGDU_1969)
    return cases[0], cases[1]


def _marks(h: Home) -> dict[str, str | None]:
    with sqlite3.connect(h.db) as conn:
        return dict(conn.execute("SELECT id_number, id_check FROM household_members WHERE id_number IN (?, ?)",
                                 (NINGDU_1969, NINGDU_1971)))


@pytest.mark.parametrize("lang,fmt", [("zh", "csv"), ("en", "xlsx")])
def test_an_id_number_confirmed_in_the_old_home_is_not_to_confirm_in_the_new_one(home, template, tmp_path, lang,  # noqa: F811
                                                                                 fmt):
    _registered(home)
    assert _marks(home) == {NINGDU_1969: None, NINGDU_1971: "later"}
    members = tmp_path / f"members.{fmt}"
    home.ok("cd", "--lang", lang, "export", "members", f"--{fmt}", str(members))
    if fmt == "csv":
        with open(members, encoding="utf-8-sig") as fh:
            rows = list(csv.DictReader(fh))
        column = "身份证号待核实"
    else:
        sheet = load_workbook(members, read_only=True).worksheets[0]
        header, *values = [list(r) for r in sheet.iter_rows(values_only=True)]
        rows = [dict(zip(header, r)) for r in values]
        column = "ID number to confirm"
    said = {r[next(k for k in r if "身份证号" in k or "ID number" == k)].strip(): r[column] for r in rows}
    assert said[NINGDU_1969] in ("否", "no") and said[NINGDU_1971] in ("是", "yes")
    new = Home(tmp_path / "new", dict(template.tokens))   # the same regions and people, none of these households
    shutil.copytree(template.path, new.path)
    done = new("cd", "household", "import", str(members), lang=lang)
    assert done.code == 0, done.err
    assert _marks(new) == {NINGDU_1969: None, NINGDU_1971: "later"}
    assert ("1 名成员的身份证号在原系统中已对照身份证原件核实" if lang == "zh" else "1 members' ID numbers were checked") in done.out
    assert _events(new, "households_imported")[-1]["ids_confirmed_in_file"] == 1
    assert "文件中已核实的身份证号：1" in new.ok("insp", "inspect", "activity").out      # the inspector reads it
    # the other, never confirmed, is still listed to confirm; the confirmed one is not
    listed = new.ok("vs", "case", "list", "--id-to-confirm", "--json").json()
    assert [c["title"] for c in listed] == ["曾老汉1"]


def test_the_regions_and_persons_tables_read_alike_on_either_database(world):
    """The tables `export regions` / `export persons` write, as the engine reads them (SQLite and
    PostgreSQL): a post a row, the channels in force in one cell, a revoked post and a deactivated person
    left out, the regions of the jurisdiction and those above it but the country."""
    from engine.reads.exports import export_table
    from engine.services.accounts import deactivate
    from engine.services.org import NewPerson, add_persons, revoke_role
    from tests.world import TOWNSHIP2
    posts = (("pairing_cadre", VILLAGE), ("township_staff", TOWNSHIP))
    add_persons(world.app, world["admin"], [NewPerson("wq", "王青", posts, True, (("email", "wq@example.cn", "en"),
                                                                                 ("file", "wq", "en"))),
                                            NewPerson("gone", "离岗", (("pairing_cadre", VILLAGE),))])
    revoke_role(world.app, world["admin"], "ts2", "township_staff", TOWNSHIP)
    deactivate(world.app, world["admin"], "gone", "调离")
    columns, rows = export_table(world.app, world["th"], "persons")
    rows = list(rows)
    assert columns == ("person_code", "name", "role", "region", "channels", "alert_lang")
    wq = [r for r in rows if r[0] == "wq"]
    assert [r[2:4] for r in wq] == [("pairing_cadre", VILLAGE), ("township_staff", TOWNSHIP)]
    assert all(set(r[4].split(";")) == {"email:wq@example.cn", "file:wq"} and r[5] == "en" for r in wq)
    codes = {r[0] for r in rows}
    assert {"vs", "th", "ts1"} <= codes and not codes & {"gone", "ts2", "vs2", "cd", "admin"}   # ts2's post revoked
    assert [r[0] for r in rows] == sorted(r[0] for r in rows)
    columns, rows = export_table(world.app, world["th"], "regions")
    assert columns == ("division_code", "region_name")
    assert [r[0] for r in rows] == ["360000000000", "360700000000", COUNTY, TOWNSHIP, VILLAGE]
    assert TOWNSHIP2 not in [r[0] for r in export_table(world.app, world["vs"], "regions")[1]]
