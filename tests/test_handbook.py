"""A household's handbook (扶贫手册) generated from the record (DOMAIN §11: the paperwork from the data,
never typed again): its six parts, a village's handbooks in one action, and who may have them."""
from __future__ import annotations

import os
import stat

import pytest
from sqlalchemy import select

from engine.adapters import tables as t
from engine.domain.errors import AuthError, BadInput, NotFound
from engine.reads.handbook import (exit_confirmation, handbook, render_confirmation, render_handbooks,
                                   village_handbooks)
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
    book = handbook(world.app, world["vs"], case)
    book_title = book["title"]
    zh = "".join(render_handbooks(world.app, [book]))
    for part in ("一、家庭基本情况", "二、致贫原因", "三、帮扶责任人", "四、帮扶计划", "五、帮扶措施", "六、帮扶成效",
                 f"户主（{book_title}，案件 {case}）签字", "帮扶责任人签字", "打印日期", "因病", "种植脐橙", "高于标准", "未达标准", "本手册由精准系统依据原始记录自动生成"):
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


# --- the exit confirmation (脱贫确认书), filled in from the record -------------------------------------

def at_acknowledgement(world, tmp_path, income_2019: float = 12000.0, proposed: bool = True) -> int:
    """An assisted household with its exit's evidence (no signed confirmation yet), proposed for exit."""
    case = world.household(members=2, income_2018=4000.0)
    world.identify(case)
    world.assist(case)
    world.exit_evidence(case, income_2019=income_2019, confirm=False, tmp=tmp_path)
    if proposed:
        world.exit(case, through="verification")
    return case


def test_the_exit_confirmation_is_filled_in_from_the_record(world, tmp_path, run):
    case = at_acknowledgement(world, tmp_path)
    filled = exit_confirmation(world.app, world["pc1"], case)["confirmation"]
    assert filled["income"]["year"] == 2019 and filled["income"]["per_head"] == 6000.0 and filled["income"]["above"]
    assert (filled["food"], filled["clothing"], filled["water"], filled["housing_grade"]) == (True, True, True, "A")
    assert (filled["dropped_out"], filled["uninsured"], filled["insurance_unknown"]) == (0, 0, 0)
    assert filled["pairing"] == ["pairing_cadre-pc1"] and filled["short"] is False
    page = tmp_path / "确认书.html"
    # the command on the record's day (the exit standard it judges by holds the income to its year)
    (world.app.settings.home / "demo-clock").write_text(world.app.clock.now().isoformat(), encoding="utf-8")
    code, out, err = run("pc1", "household", "exit-confirmation", str(case), "--html", str(page))
    assert code == 0, err
    text = page.read_text(encoding="utf-8")
    assert "贫困户脱贫确认书" in text and "2019 年 6,000 元（当年标准 3,747 元）" in text and "签字或按手印" in text
    assert "不符合脱贫条件" not in text and stat.S_IMODE(os.stat(page).st_mode) == 0o600


def test_a_household_short_of_the_standard_is_not_to_be_asked_to_sign(world, tmp_path):
    """DOMAIN §11 (数字脱贫): the form says so, in red, above the lines to sign."""
    case = at_acknowledgement(world, tmp_path, income_2019=6000.0, proposed=False)   # 3,000 a head, under 3,747
    filled = exit_confirmation(world.app, world["pc1"], case)
    assert filled["confirmation"]["short"] is True
    page = render_confirmation(world.app, filled)
    assert "未达标准" in page and "此户现在还不符合脱贫条件：请不要让农户签字" in page


def test_a_childs_schooling_not_recorded_is_said_so_and_not_asked_to_be_signed_over(world, tmp_path, run):
    """A school-age child whose schooling a list did not give: `case show`, the handbook and the members'
    export say it is not recorded (not 非在校), and the exit confirmation counts it, not to be signed."""
    import csv
    case = world.household(members=2, income_2018=4000.0, school_age_child="not_recorded")
    world.identify(case)
    world.assist(case)
    world.exit_evidence(case, income_2019=12000.0, confirm=False, tmp=tmp_path)
    filled = exit_confirmation(world.app, world["pc1"], case)
    assert (filled["confirmation"]["school_unknown"], filled["confirmation"]["short"]) == (1, True)
    page = render_confirmation(world.app, filled)
    assert "1 名义务教育年龄的孩子在校情况未登记" in page and "请不要让农户签字" in page
    book = "".join(render_handbooks(world.app, [handbook(world.app, world["vs"], case)]))
    assert "非在校" not in book and book.count("未登记") >= 1
    code, out, err = run("vs", "case", "show", str(case))
    child = next(line for line in out.splitlines() if line.startswith("孩子"))
    assert code == 0 and child.split()[4] == "未登记", out + err
    path = tmp_path / "成员.csv"
    assert run("vs", "export", "members", "--csv", str(path))[0] == 0
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["在校情况"] for r in rows if r["姓名"].startswith("孩子")] == [""]


def test_only_a_household_being_assisted_has_an_exit_confirmation(world, tmp_path, run):
    case = exited(world, tmp_path)
    with pytest.raises(BadInput) as refused:
        exit_confirmation(world.app, world["vs"], case)
    assert refused.value.code == "handbook.confirmation_not_assisted"
    code, out, err = run("vs", "household", "exit-confirmation", str(case), "--html", str(tmp_path / "x.html"),
                         lang="en")
    assert code != 0 and "being assisted only" in err and not (tmp_path / "x.html").exists()


def test_dates_and_incomes_are_those_of_the_decisions(world, tmp_path):
    """A plan approved on 03-21 and typed in on the 27th at 07:30 Beijing time (23:30 UTC on the 26th)
    said 批准日期 2019-03-26; an income per head was worked out over today's members, so a child born after
    the exit changed the exit year's figure. Now the steps' own dates, and the per head the decision held
    (a year no decision judged: over the members now, and said so)."""
    from datetime import date, datetime, timezone
    from engine.services.case_actions import attach_evidence
    from tests.world import id_number
    from workflows.household import MemberInput, add_member
    case = world.household(members=2, income_2018=4000.0)
    world.identify(case)
    world.on(date(2019, 3, 20))
    world.step("ts1", "assistance", "pairing", case, first_cadre="pc1", second_cadre="pc2")
    world.step("fs", "assistance", "plan", case, measures=(("industry", "种植脐橙"),))
    world.clock.at = datetime(2019, 3, 26, 23, 30, tzinfo=timezone.utc)
    world.step("th", "assistance", "plan_approval", case, decision="approve", date=date(2019, 3, 21))
    world.exit_evidence(case, income_2019=12000.0, tmp=tmp_path)
    world.exit(case)
    world.on(date(2020, 5, 1))
    add_member(world.app, world["vs"], case, MemberInput("新生儿", id_number("36073020200401003"), "child"), "出生")
    attach_evidence(world.app, world["vs"], case, "income_assessment", {"year": 2020, "net_income": 15000.0},
                    replace=True, reason="2020 年收入核算")     # the 2019 assessment stays that year's
    book = handbook(world.app, world["vs"], case)
    assert [(p["approved_on"], p["started"]) for p in book["plans"]] == [("2019-03-21", "2019-03-20")]
    assert book["basics"]["identified_on"] == "2019-03-15" and book["results"]["exits"][0]["on"] == "2019-11-28"
    incomes = {i["year"]: (i["per_head"], i["members_now"]) for i in book["results"]["incomes"]}
    assert incomes == {2018: (2000.0, None), 2019: (6000.0, None), 2020: (5000.0, 3)}
    page = "".join(render_handbooks(world.app, [book]))
    assert "（按现有 3 人计）" in page and page.count("按现有") == 1


def test_a_wrong_exit_is_said_and_its_exits_figures_are_not_asked_to_be_signed_again(world, tmp_path):
    """Household 643 of the demo: reopened by a problem item (a wrong exit), its handbook read as if it had
    exited for good, and its exit confirmation asked it to sign again the income the finding disproved."""
    from datetime import date
    from engine.services.case_actions import attach_evidence
    from engine.services.problems import ProblemInput, register_problem
    from tests.world import TOWNSHIP
    case = exited(world, tmp_path)
    world.on(date(2020, 5, 28))
    register_problem(world.app, world["cd"], ProblemInput(TOWNSHIP, "assessment", "收入不实", date(2020, 5, 27),
                                                          "wrong_exit", [case]))
    book = handbook(world.app, world["vs"], case)
    assert book["results"]["reopened"] == [{"on": "2020-05-28", "kind": "reopen_wrong_exit"}]
    assert all(i["before_reopening"] for i in book["results"]["incomes"])
    page = "".join(render_handbooks(world.app, [book]))
    assert "2020-05-28「错退纠正」：重新纳入帮扶" in page and "（重新纳入帮扶前核算）" in page
    assert "宁都县梅江镇洋塘村" in page and "打印日期 2020-05-28" in page
    filled = exit_confirmation(world.app, world["pc1"], case)
    assert filled["confirmation"]["income"] is None and filled["confirmation"]["short"] is True
    assert filled["confirmation"]["housing_grade"] is None         # the checks before the reopening neither
    world.on(date(2020, 11, 20))
    attach_evidence(world.app, world["vs"], case, "income_assessment", {"year": 2020, "net_income": 16000.0},
                    replace=True, reason="重新核算")
    attach_evidence(world.app, world["vs"], case, "housing_safety", {"grade": "C", "renovated_accepted": True},
                    replace=True, reason="危房改造验收")
    filled = exit_confirmation(world.app, world["pc1"], case)["confirmation"]
    assert filled["income"]["year"] == 2020 and filled["housing"] == {"renovated_accepted": True}
    assert "危房改造已验收：是" in render_confirmation(world.app, exit_confirmation(world.app, world["pc1"], case))


def test_a_year_keeps_the_income_its_decision_judged_when_a_mistake_is_moved_to_another_year(world, tmp_path):
    """The second review: a 2019 assessment typed 99,999 by mistake over the one the exit judged, then its
    year corrected to 2020, showed 2019 as 99,999; a correction within a year still wins."""
    from engine.services.case_actions import attach_evidence
    case = exited(world, tmp_path)
    attach_evidence(world.app, world["vs"], case, "income_assessment", {"year": 2019, "net_income": 99999.0},
                    replace=True, reason="补录")
    from datetime import date
    world.on(date(2020, 11, 20))
    attach_evidence(world.app, world["vs"], case, "income_assessment", {"year": 2020, "net_income": 99999.0},
                    replace=True, reason="年份填错")
    incomes = {i["year"]: i["net_income"] for i in handbook(world.app, world["vs"], case)["results"]["incomes"]}
    assert incomes == {2018: 4000.0, 2019: 12000.0, 2020: 99999.0}
