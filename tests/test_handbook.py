"""A household's handbook (扶贫手册) generated from the record (DOMAIN §11: the paperwork from the data,
never typed again): its six parts, a village's handbooks in one action, and who may have them."""
from __future__ import annotations

import os
import stat

import pytest
from sqlalchemy import select

from engine.adapters import tables as t
from engine.domain.errors import AuthError, BadInput, NotFound
from engine.reads.handbook import handbook, render_handbooks, village_handbooks
from engine.services.registration import register_case
from tests.helpers.db_option import db_option
from tests.helpers.tamper import raw
from tests.world import VILLAGE, VILLAGE2


@pytest.fixture
def run(world, capsys, monkeypatch):
    """`jingzhun --lang LANG --as WHO ...` in this process on the world's database: (exit code, out, err)."""
    import cli
    where = ["--home", str(world.app.settings.home), *db_option(world.app.engine.url.render_as_string(hide_password=False))]

    def command(who: str, *argv: str, lang: str = "zh") -> tuple[int, str, str]:
        monkeypatch.setenv("JINGZHUN_TOKEN", world.tokens[who])
        code = cli.main([*where, "--lang", lang, "--as", who, *argv])
        captured = capsys.readouterr()
        return code, captured.out, captured.err
    return command


def exited(world, tmp_path) -> int:
    """A household identified, paired, planned and exited on a 2019 income of 12,000 for its 2 members."""
    case = world.household(members=2, income_2018=4000.0)
    world.identify(case)
    world.assist(case)
    world.exit_evidence(case, income_2019=12000.0, tmp=tmp_path)
    world.exit(case)
    return case


def test_a_households_handbook_has_its_six_parts_from_the_record(world, tmp_path):
    case = exited(world, tmp_path)
    book = handbook(world.app, world["vs"], case)
    basics = book["basics"]
    assert basics["size"] == 2 and basics["identified_on"] == "2019-03-15" and basics["exited_on"] == "2019-11-28"
    assert [m["name"] for m in basics["members"]] == [f"成员{world._seq}-0", f"成员{world._seq}-1"]
    assert all("*" in m["id_number"] for m in basics["members"])        # kept at home: ID numbers partly hidden
    assert book["causes"] == ["illness"]
    assert [(p["person"], p["kind"]) for p in book["pairings"]] == [("pc1", "first"), ("pc2", "second")]
    assert [(p["procedure"], p["approved_on"], p["measures"]) for p in book["plans"]] == [("assistance", "2019-03-20", 1)]
    assert [(m["category"], m["description"]) for m in book["measures"]] == [("industry", "种植脐橙")]
    incomes = book["results"]["incomes"]
    # per head against each year's Jiangxi line: 2018 under it (identified), 2019 over it (exited)
    assert [(i["year"], i["per_head"], i["above"]) for i in incomes] == [(2018, 2000.0, False), (2019, 6000.0, True)]
    assert incomes[1]["line"] == 3747
    assert [c["type"] for c in book["results"]["checks"]] == ["two_assurances", "housing_safety", "drinking_water"]
    assert book["results"]["exits"] == [{"on": "2019-11-28", "status": "completed"}]


def test_an_income_corrected_shows_its_latest_figure_once(world, tmp_path):
    from engine.services.case_actions import attach_evidence
    case = exited(world, tmp_path)
    attach_evidence(world.app, world["vs"], case, "income_assessment", {"year": 2019, "net_income": 13000.0},
                    replace=True, reason="漏报务工收入")
    incomes = handbook(world.app, world["vs"], case)["results"]["incomes"]
    assert [(i["year"], i["net_income"]) for i in incomes] == [(2018, 4000.0), (2019, 13000.0)]


def test_the_printed_page_names_the_parts_and_leaves_room_to_sign(world, tmp_path):
    case = exited(world, tmp_path)
    zh = "".join(render_handbooks(world.app, [handbook(world.app, world["vs"], case)]))
    for part in ("一、家庭基本情况", "二、致贫原因", "三、帮扶责任人", "四、帮扶计划", "五、帮扶措施", "六、帮扶成效",
                 "户主签字", "帮扶责任人签字", "因病", "种植脐橙", "高于标准", "未达标准", "本手册由精准系统依据原始记录自动生成"):
        assert part in zh, part
    en = "".join(render_handbooks(world.app, [handbook(world.app, world["vs"], case, "en")], "en"))
    assert "1. The family" in en and "6. Results" in en and "above the line" in en and "一、" not in en


def test_a_village_has_the_handbooks_of_its_registered_households_only(world, tmp_path):
    first, second = exited(world, tmp_path), world.household()
    world.identify(second)
    applicant = world.household()           # applied, not identified: no handbook yet
    elsewhere = world.household(village=VILLAGE2, by="vs2")
    shown, books = village_handbooks(world.app, world["vs"], VILLAGE)
    assert shown["households"] == 2
    assert [b["id"] for b in books] == [first, second]
    assert applicant and elsewhere
    with pytest.raises(BadInput) as refused:
        handbook(world.app, world["vs"], applicant)
    assert refused.value.code == "handbook.not_registered"
    with pytest.raises(AuthError):          # another village's household, beyond the secretary's reach
        handbook(world.app, world["vs"], elsewhere)
    with pytest.raises(AuthError):          # refused before any household is read
        village_handbooks(world.app, world["vs"], VILLAGE2)
    with pytest.raises(NotFound):
        village_handbooks(world.app, world["vs"], "360730100299")


def test_a_project_has_no_handbook(world):
    project = register_case(world.app, world["cs"], "project", VILLAGE, "村道硬化")
    with pytest.raises(BadInput) as refused:
        handbook(world.app, world["cs"], project)
    assert refused.value.code == "handbook.not_household"


def test_the_command_writes_a_private_page_and_a_villages_leave_is_recorded(world, run, tmp_path):
    case = exited(world, tmp_path)
    one = tmp_path / "手册.html"
    code, out, err = run("pc1", "household", "handbook", str(case), "--html", str(one))
    assert code == 0, err
    assert "1 户的扶贫手册" in out and stat.S_IMODE(os.stat(one).st_mode) == 0o600
    assert "六、帮扶成效" in one.read_text(encoding="utf-8")
    village = tmp_path / "洋塘村.html"
    code, out, err = run("vs", "household", "handbook", "--village", VILLAGE, "--html", str(village), lang="en")
    assert code == 0, err
    assert "handbooks of 1 households" in out and "6. Results" in village.read_text(encoding="utf-8")
    with world.app.engine.connect() as conn:
        events = conn.execute(select(t.audit_events.c.person_code, t.audit_events.c.detail).where(
            t.audit_events.c.action == "exported")).all()
    # the one household's page is what its case page shows; the village's is recorded as an export
    assert [(e.person_code, e.detail.get("table"), e.detail.get("regions")) for e in events] == [
        ("vs", "handbooks", [VILLAGE])]


@pytest.mark.parametrize("args, code_word", [
    ((), "handbook.case_or_village"),
    (("1", "--village", VILLAGE), "handbook.case_or_village"),
    (("--village", VILLAGE2), "auth.jurisdiction"),
])
def test_the_command_refuses_in_words_and_writes_nothing(world, run, tmp_path, args, code_word):
    out_file = tmp_path / "x.html"
    code, out, err = run("vs", "household", "handbook", *args, "--html", str(out_file))
    assert code != 0 and f"[{code_word}]" in err and "Traceback" not in err
    assert not out_file.exists() and not list(tmp_path.glob(".x.html.*"))


def test_a_handbook_says_when_the_record_behind_it_was_altered(world, tmp_path):
    case = exited(world, tmp_path)
    raw(world, f"UPDATE audit_events SET person_code = 'someone' WHERE case_id = {case} AND case_seq = 5")
    page = "".join(render_handbooks(world.app, [handbook(world.app, world["vs"], case)]))
    assert "此户的记录在数据库中被改动过" in page
    other = world.household()
    world.identify(other)
    assert "改动过" not in "".join(render_handbooks(world.app, [handbook(world.app, world["vs"], other)]))
