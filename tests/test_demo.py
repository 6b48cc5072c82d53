"""`jingzhun demo`, the README's first command, on a small county: every phase runs on the real
engine, the refusals it reports are the rules' own, and the record it leaves verifies."""
from __future__ import annotations

import io
import os
import stat

import pytest
from rich.console import Console
from sqlalchemy import func, select, text

from config import load_config
from demo.county import run_demo
from engine.adapters import tables as t
from entrypoints.bootstrap import make_app
from engine.reads.audit_verify import verify
from engine.adapters.db import Settings


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    home = tmp_path_factory.mktemp("demo") / "home"
    console = Console(file=io.StringIO(), width=120)
    summary = run_demo(Settings.from_env(str(home)), load_config(), households=100, seed=7, console=console)
    app = make_app(Settings.from_env(str(home)))
    yield summary, app
    app.close()


def test_the_demo_takes_households_through_the_year_and_counts_the_rules_refusals(demo):
    summary, _ = demo
    stages = summary["stages"]
    assert sum(stages.values()) == 100
    assert stages.get("consolidated", 0) > 50 and stages.get("assisted", 0) > 0
    assert stages.get("not_identified", 0) > 0             # applicants voted down: 未通过识别, as the figures say
    assert {"check.exit_standard", "check.identification_standard", "duty.same_person", "auth.read_only",
            "auth.jurisdiction", "stage.not_allowed"} <= set(summary["refusals"])


def test_the_demo_finds_wrong_exits_and_leaves_a_record_an_inspector_can_prove(demo):
    summary, app = demo
    problem = summary["problem"]
    with app.engine.connect() as conn:
        links = conn.execute(select(t.problem_links).where(t.problem_links.c.problem_id == problem)).all()
        reopened = conn.execute(select(t.cases.c.stage).where(
            t.cases.c.id.in_([link.case_id for link in links]))).scalars().all()
        referrals = conn.execute(select(t.discipline_referrals.c.reason)).scalars().all()
        outcomes = conn.execute(select(t.accountability_outcomes.c.outcome)).scalars().all()
    sample = summary["sample_check"]                       # found by the evaluators' sample check
    assert sample["problem"] == problem and sample["sampled"] == 12 and sample["population"] > 12
    assert [link.case_id for link in links] == [sample["wrong_exit"]] and all(link.chain for link in links)
    assert reopened == ["assisted"]
    assert referrals == ["rejected_twice"]
    assert sorted(outcomes) == ["admonition", "circulated_criticism", "removal"]
    for path in summary["dossiers"]:                       # they name the household's people: owner only
        assert "案件全程卷宗" in open(path, encoding="utf-8").read()
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    seq, digest = summary["head"].split(":")
    with app.engine.connect() as conn:                     # the head is of all the demo wrote, nothing after
        assert conn.execute(select(func.max(t.audit_events.c.seq))).scalar() == int(seq)
    report = verify(app, against=(int(seq), digest))
    assert report.intact, report.damage
    page = open(summary["report"], encoding="utf-8").read()   # the county's assessment, charts inline
    assert page.count("<svg") >= 5 and "<script" not in page


def test_the_demo_speaks_chinese_outside_codes_commands_and_paths(tmp_path):
    """What the demo prints in the default language: no English word a cadre must read."""
    import re
    out = io.StringIO()
    home = tmp_path / "home"
    run_demo(Settings.from_env(str(home)), load_config(), households=30, seed=3, console=Console(file=out, width=200))
    people = {line.split(",")[0] for line in (home / "demo-tokens.csv").read_text().splitlines()}
    words = set()
    for line in out.getvalue().splitlines():
        if line.strip().startswith(("export ", "jingzhun ")):
            continue                                            # commands to paste, shown as they are typed
        line = re.sub(r"/\S+", "", line)                        # paths
        line = re.sub(r"\b[a-z][a-z0-9]*(?:[._][a-z0-9]+)+\b", "", line)   # rule and person codes
        line = re.sub(r"\b[0-9a-f]{64}\b", "", line)            # the head's hash
        line = re.sub(r"「[^」]*」", "", line)                   # literal input
        words |= set(re.findall(r"[A-Za-z]{2,}", line))
    assert words - people == set()                              # person codes are codes


# --- the tour (issue 11): a poor village exited, a fund project completed, leads worth reading -----

def test_the_poor_village_exits_on_its_household_data_and_the_project_is_completed(demo):
    summary, app = demo
    village, project = summary["village"], summary["project"]
    assert village["stage"] in ("exited", "consolidated") and project["stage"] == "consolidated"
    with app.engine.connect() as conn:
        done = dict(conn.execute(select(t.procedures.c.kind, t.procedures.c.status).where(
            t.procedures.c.case_id.in_([village["case"], project["case"]]))).all())
        check = conn.execute(select(t.steps.c.data).where(t.steps.c.case_id == village["case"],
                                                          t.steps.c.step_key == "exit_application")).scalar()
    assert {k: done[k] for k in ("village_identification", "village_assistance", "village_exit",
                                 "library_entry", "funding", "completion", "handover")} == dict.fromkeys(
        ("village_identification", "village_assistance", "village_exit", "library_entry", "funding", "completion",
         "handover"), "completed")
    assert check["incidence_check"]["below_threshold"] is True   # computed from the live household cases
    assert project["disbursed"] == "260000.00" and project["allocated"] == "300000.00"


@pytest.mark.parametrize("lang, village, project", [("zh", "已出列", "已确权移交"),
                                                    ("en", "out of the poor-village list", "assets handed over")])
def test_the_summary_says_the_village_and_the_project_in_their_own_stages(lang, village, project):
    """The summary's poor village and fund project read as such (出列, 确权移交), not as a household
    (已脱贫, 巩固期(过渡期))."""
    from demo.summary import Texts, tour_lines
    lines = tour_lines(Texts(load_config(), lang), {
        "village": {"case": 2001, "name": "竹笮村", "stage": "exited"},
        "project": {"case": 2002, "stage": "consolidated", "disbursed": "260000.00", "allocated": "300000.00"}})
    assert village in lines[0] and project in lines[1]


def test_the_demos_flags_are_mostly_real_leads(demo):
    """The measure: a flag is real when it points at a case the demo planted a lead on (or, without a
    case, at a planted person); at least three in four flags are real, every planted lead is found,
    and the weightiest three are all real."""
    summary, app = demo
    measure = summary["inspection"]
    assert measure["flags"] and measure["real"] / measure["flags"] >= 0.75, measure
    assert {"relative_signed", "decision_backdated", "figure_changed_before_decision"} <= set(measure["kinds"])
    assert measure["kinds"].get("signoff_burst", 0) <= 1          # a village's list is one act, not a burst
    assert measure["top"][:3] == ["relative_signed", "decision_backdated", "figure_changed_before_decision"]
    assert len(measure["planted"]) == 3                           # three households, one lead each


def test_overdue_alerts_escalate_and_the_year_ends_with_the_report(demo):
    summary, _ = demo
    levels = summary["overdue"]["by_level"]
    assert levels.get("0") and levels.get("3")                    # from the owner up to the discipline inspector
    assert summary["report"].endswith("assessment-2019.html")
    assert stat.S_IMODE(os.stat(summary["report"]).st_mode) == 0o600


def test_the_demo_prints_plain_lines_when_not_on_a_terminal(tmp_path):
    out = io.StringIO()
    run_demo(Settings.from_env(str(tmp_path / "home")), load_config(), households=20, seed=5,
             console=Console(file=out, width=200))
    text = out.getvalue()
    assert "\x1b[" not in text and "\r" not in text
    assert "贫困村" in text and "扶贫项目" in text and "疑点线索" in text


def test_the_demo_built_without_serving_has_its_sign_ins_for_a_server_started_later(tmp_path):
    """`jingzhun demo` alone (for scripts, or to serve later): the sign-ins are made and kept as with
    --serve, and the command that serves the home is said; the passwords sign in."""
    import os
    import stat
    import cli
    from engine.services.accounts import sign_in
    home = tmp_path / "home"
    home.mkdir()              # an empty folder made for it is used as it is (it had ended in a traceback)
    out = io.StringIO()
    import contextlib
    with contextlib.redirect_stdout(out):
        assert cli.main(["--home", str(home), "demo", "--households", "20", "--seed", "5", "--host", "0.0.0.0",
                         "--port", "9123"]) == 0
    passwords = home / "demo-passwords.csv"
    assert stat.S_IMODE(os.stat(passwords).st_mode) == 0o600
    rows = dict(line.split(",") for line in passwords.read_text().splitlines())
    assert {"v01_secretary", "inspector", "admin"} <= set(rows)
    # the first village's and township's other cadres too: a household's whole procedure on the web
    assert {"v01_director", "v01_member", "t1_staff2", "t1_head"} <= set(rows) and "v02_secretary" not in rows
    # and who announces and approves at the county, and the city's office (a6: the exit's announcement)
    assert {"county_staff", "county_head", "city_staff"} <= set(rows) and "auditor" not in rows
    assert "同村、同乡镇的其他" in out.getvalue() and rows["v01_director"] not in out.getvalue()
    assert f"jingzhun --home {home} serve --host 0.0.0.0 --port 9123" in out.getvalue()
    assert "http://127.0.0.1:9123/" in out.getvalue() and rows["inspector"] in out.getvalue()
    app = make_app(Settings.from_env(str(home)))
    try:
        assert sign_in(app, "inspector", rows["inspector"]).code == "inspector"
        assert sign_in(app, "v01_director", rows["v01_director"]).code == "v01_director"
        with app.engine.connect() as conn:          # its messages link to the port it is built for
            bodies = list(conn.execute(text("SELECT body FROM outbox WHERE body LIKE '%/cases/%'")).scalars())
        assert bodies and all("http://127.0.0.1:9123/cases/" in b and ":8000" not in b for b in bodies)
    finally:
        app.close()
    assert "JINGZHUN_PUBLIC_URL" not in os.environ         # not left set for what runs after it


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_demo_refuses_a_folder_with_other_files_or_a_file_and_leaves_them_as_they_were(tmp_path, lang):
    """A folder holding anything but a demo home (a data home, someone's files), or a file, is never
    wiped: one line saying what to do, exit 2, no traceback."""
    import contextlib
    import cli
    folder, file = tmp_path / "mine", tmp_path / "notes.txt"
    folder.mkdir()
    (folder / "工作.xlsx").write_text("x")
    file.write_text("y")
    expected = {"zh": "不是空文件夹，也不是演示目录", "en": "is neither an empty folder nor a demo home"}[lang]
    for home in (folder, file):
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = cli.main(["--home", str(home), "--lang", lang, "demo", "--households", "20"])
        assert code == 2 and "Traceback" not in err.getvalue(), err.getvalue()
        assert "[demo.not_demo_home]" in err.getvalue() and expected in err.getvalue() and "--home" in err.getvalue()
    assert [p.name for p in folder.iterdir()] == ["工作.xlsx"] and file.read_text() == "y"
