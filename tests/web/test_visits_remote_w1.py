"""A pairing cadre's visits through `jingzhun --server URL` (w1): `case list --mine` and `household visits` read
as in direct mode, and `household visit`, `visit-correct` and `visit-withdraw` run on the server, their
refusals said as a direct command says them (a live uvicorn on loopback, the session's demo county)."""
from __future__ import annotations

import json

from tests.web.test_cli_client import as_person, run  # noqa: F401  (as_person: a fixture)

VISITED = ("assisted", "exited", "consolidated")


def _township_name(core, person: str) -> str:
    from sqlalchemy import select
    from engine.adapters import tables as t
    with core.engine.connect() as conn:
        return conn.execute(select(t.regions.c.name).join(t.role_assignments, t.role_assignments.c.region_code
                                                          == t.regions.c.code).join(
            t.persons, t.persons.c.id == t.role_assignments.c.person_id).where(t.persons.c.code == person)).scalar()


def test_the_lists_read_through_the_server_as_in_direct_mode(live_server, demo_home, core, as_person, capsys):  # noqa: F811
    settings, sign_ins = demo_home
    home = str(settings.home)
    head = sign_ins["supervisor"][0]
    for person, argv in (("v01_pc001", ("case", "list", "--mine")), (head, ("household", "visits")),
                         (head, ("household", "visits", "--overdue", "--json")),
                         (head, ("--lang", "en", "household", "visits", "--region", _township_name(core, head)))):
        who = as_person(person)
        remote = run(capsys, "--server", live_server, "--as", who, *argv)
        direct = run(capsys, "--home", home, "--as", who, *argv)
        assert remote == direct, argv
        assert remote[0] == 0 and remote[1].count("\n") > 2, remote
    # a village post's `household visits` of another township: refused alike, exit 1
    who = as_person("v01_pc001")
    remote = run(capsys, "--server", live_server, "--as", who, "household", "visits", "--region", "000000000000")
    direct = run(capsys, "--home", home, "--as", who, "household", "visits", "--region", "000000000000")
    assert remote == direct and remote[0] != 0 and remote[1] == ""


def test_a_visit_recorded_corrected_and_withdrawn_through_the_server(live_server, demo_home, as_person, capsys):  # noqa: F811
    cadre = as_person("v01_pc001")
    server = ("--server", live_server, "--as", cadre)
    code, out, err = run(capsys, *server, "case", "list", "--mine", "--json")
    assert code == 0, err
    case = next(r["id"] for r in json.loads(out) if r["kind"] == "household" and r["stage"] in VISITED)
    code, out, err = run(capsys, *server, "household", "visit", str(case), "--findings", "远程走访：产业正常")
    assert (code, err) == (0, ""), err
    assert out.startswith("已记录走访 ") and f"（案件 {case}）" in out
    visit = int(out.split()[1].split("（")[0])
    code, out, err = run(capsys, *server, "household", "visit", str(case), "--findings", "远程走访：产业正常")
    assert code == 0 and f"走访 {visit}" in out and "已在记录中" in out         # sent twice: stored once
    code, out, err = run(capsys, *server, "household", "visit-correct", str(visit), "--reason", "写错",
                         "--findings", "远程走访：产业正常，收入稳定")
    assert (code, err) == (0, ""), err
    new = int(out.split("走访 ")[-1].split("（")[0])
    code, _, err = run(capsys, *server, "household", "visit-withdraw", str(visit), "--reason", "重复")
    assert code == 1 and "[visit.not_in_force]" in err                    # corrected already: refused as locally
    code, out, err = run(capsys, *server, "--lang", "en", "household", "visit-withdraw", str(new), "--reason", "test")
    assert (code, err) == (0, "") and out.strip() == f"visit {new} (case {case}) withdrawn; the record is kept with the reason"
    code, out, _ = run(capsys, *server, "case", "show", str(case), "--json")
    shown = {v["id"]: v for v in json.loads(out)["visits"]}
    assert (shown[visit]["superseded_by"], shown[new]["in_force"], shown[new]["supersede_reason"]) == (new, False, "test")
