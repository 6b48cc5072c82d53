"""Every list, worklist and report query uses an index (issue 12: PostgreSQL at scale).

A populated world (households identified, assisted and exited, notices, evidence, deadlines and
their alerts) is read through every read a list, a worklist or a report calls; the SQL those reads
issue is captured (SQLAlchemy's before_cursor_execute) and each SELECT is explained with its own
parameters. On SQLite, `EXPLAIN QUERY PLAN` must not `SCAN` a big table except through an index;
on PostgreSQL, with sequential scans disabled (the planner then scans only where no index can
serve), no `Seq Scan` on a big table.
"""
from __future__ import annotations

import os
import re
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import event, select

from engine.adapters.direct import WATCHERS
from engine.adapters.repository import SqlCaseRepository
from engine.reads import audit_seal, audit_verify, dashboard, deadlines, exports, funds, indicators, listings, oversight
from engine.reads import backup_status, case_lists, find, handbook, queries, sample_waits, trace, village_lists
from engine.reads import case_deadlines, visits
from engine.reads.inspection import flags
from engine.services.evidence_sheet import SheetRow, sheet_items
from engine.services.sweep import sweep
from workflows.household import registered_refusals
from bench.figures import pg_database
from tests.conftest import BACKENDS
from tests.world import COUNTY, TOWNSHIP, VILLAGE, build_world, id_number, member_ids

BIG = ("cases", "household_members", "audit_events", "steps", "deadlines", "evidence", "responsibilities",
       "procedures", "alerts", "outbox", "notices", "notice_cases", "objections", "pairings", "measures",
       "monitoring_visits", "problem_links", "accountability_outcomes", "project_beneficiaries", "disbursements")


def populate(world) -> dict:
    """Households in every stage the reads show; returns the ids the reads are asked about."""
    cases = [world.household() for _ in range(4)]
    world.identify(cases[:3])
    world.assist(cases[0])
    world.assist(cases[1], first="pc2", second="pc3")
    world.exit_evidence(cases[0])
    world.exit(cases[0])
    world.on(date(2019, 12, 20))
    sweep(world.app, now=datetime(2019, 12, 20, 2, tzinfo=timezone.utc))
    return {"cases": cases, "batch": _a_batch(world.app), "moved_in": _import_exited(world)}


def _import_exited(world) -> int:
    """A household moved in by the county office as exited in 2018 (its year noted: engine/reads/exits.py),
    its spouse's number one to confirm (county code 360730, born 1970); its case."""
    from workflows.household import MemberInput
    from workflows.household_import import ListedHousehold, import_households
    head, _spouse = member_ids(2, 900)
    spouse = id_number("36073019700304005")
    members = [(2, MemberInput("迁入", head, "head")), (3, MemberInput("配偶", spouse, "spouse"))]
    listed = ListedHousehold("E1", VILLAGE, members, ["illness"], code="E1", stage="已脱贫（2018年）")
    return import_households(world.app, world["cd"], [listed], keep_good=False, source={"file": "e.csv"},
                             on_problem=lambda *problem: None, on_skipped=lambda h: None).first_case


def _a_batch(app) -> tuple[str, int]:
    """A village list's batch id and one of its events (the identification's steps were done as a list)."""
    from engine.adapters import tables as t
    with app.engine.connect() as conn:
        for seq, detail in conn.execute(select(t.audit_events.c.seq, t.audit_events.c.detail).where(
                t.audit_events.c.action == "step").order_by(t.audit_events.c.seq)):
            if (detail or {}).get("batch"):
                return detail["batch"], seq
    raise AssertionError("no list step in the world")


def _a_later_page(app, reader) -> None:
    """The county's list of its most waited-at step, from its first case on (a page after another)."""
    pair = max(village_lists.waiting_steps(app, reader, COUNTY), key=lambda p: p["count"])
    after = village_lists.waiting_ids(app, reader, COUNTY, pair["procedure"], pair["step"])[0]
    village_lists.waiting_page(app, reader, COUNTY, pair["kind"], pair["procedure"], pair["step"], after=after, size=1)


def reads(w, ids: dict) -> dict:
    """Each read a list, worklist or report page calls, by name."""
    case, app = ids["cases"][0], w.app
    return {
        "list_cases village": lambda: list(case_lists.list_cases(app, w["vs"])),
        # the case page's deadlines with their alerts and presses, and the presses of a page of my work
        "case_deadlines": lambda: [case_deadlines.case_deadlines(app, w["th"], c) for c in ids["cases"]],
        "case_lapses": lambda: [case_deadlines.case_lapses(app, w["th"], c) for c in ids["cases"]],
        "cases_pressed my work": lambda: case_deadlines.cases_pressed(app, ids["cases"]),
        "list_cases township": lambda: list(case_lists.list_cases(app, w["th"], region=TOWNSHIP)),
        "list_cases county stage": lambda: list(case_lists.list_cases(app, w["cd"], stage="identified")),
        "list_cases not identified": lambda: list(case_lists.list_cases(app, w["cd"], stage="not_identified")),
        "list_cases kind": lambda: list(case_lists.list_cases(app, w["ts1"], kind="household")),
        "waiting_for_me": lambda: list(case_lists.list_cases(app, w["ts1"], waiting_for_me=True)),
        "waiting_for_me village": lambda: list(case_lists.list_cases(app, w["vd"], waiting_for_me=True)),
        "count_waiting village": lambda: case_lists.count_waiting(app, w["vd"]),
        "count_waiting township": lambda: case_lists.count_waiting(app, w["ts1"]),
        "risks unanswered": lambda: queries.risks_unanswered(app, w["ts1"], "household", "monitoring"),
        "next_for": lambda: queries.next_for(app, w["vs"], ids["cases"][3]),
        "a village's handbooks": lambda: list(handbook.village_handbooks(app, w["vs"], VILLAGE)[1]),
        "a step's reads of one case": lambda: _step_reads(app, ids["cases"][1]),
        "a long list's reads": lambda: _long_list_reads(app, ids["cases"]),
        "deadline_rows": lambda: deadlines.deadline_rows(app, w["th"]),
        "deadline_rows mine overdue": lambda: deadlines.deadline_rows(app, w["fs"], mine=True, overdue=True),
        "deadline_rows region": lambda: deadlines.deadline_rows(app, w["cd"], region=TOWNSHIP, status=None),
        "deadline_rows case": lambda: deadlines.deadline_rows(app, w["cd"], case_id=case),
        "deadline_page after": lambda: deadlines.deadline_page(app, w["cd"], 2, "1552000000.3"),
        "alert_rows": lambda: deadlines.alert_rows(app, w["th"]),
        "alert_rows mine": lambda: deadlines.alert_rows(app, w["fs"], mine=True),
        "alert_rows failed": lambda: deadlines.alert_rows(app, w["cd"], status="failed", region=TOWNSHIP),
        "overdue_summary": lambda: dashboard.overdue_summary(app, w["th"]),
        "overdue_page": lambda: dashboard.overdue_page(app, w["th"], dashboard.OverdueFilter()),
        "overdue_page township": lambda: dashboard.overdue_page(app, w["cd"],
                                                                dashboard.OverdueFilter(township=TOWNSHIP)),
        "households_by_stage": lambda: dashboard.households_by_stage(app, w["cd"]),
        "exits_by_month": lambda: dashboard.exits_by_month(app, w["cd"], 2019),
        "exit_years": lambda: dashboard.exit_years(app, w["cd"]),
        "exit_campaign": lambda: dashboard.exit_campaign(app, w["cd"], 2019),
        "exit_campaign township": lambda: dashboard.exit_campaign(app, w["th"], 2019),
        "case_page waiting at a step": lambda: dashboard.case_page(app, w["cd"], dashboard.CaseFilter(
            township=TOWNSHIP, waiting="exit.proposal")),
        "imported_exits": lambda: dashboard.imported_exits(app, w["th"], 2018),
        "case_page exited in a year": lambda: dashboard.case_page(app, w["cd"], dashboard.CaseFilter(exited="2018")),
        "a year's exits for its sample check": lambda: _year_exits(app),
        "case_page": lambda: dashboard.case_page(app, w["th"], dashboard.CaseFilter()),
        "case_page next": lambda: dashboard.case_page(app, w["th"], dashboard.CaseFilter(stage="identified"), after=0),
        "case_page exited": lambda: dashboard.case_page(app, w["cd"], dashboard.CaseFilter(exited="2019-11")),
        "case_page monitored": lambda: dashboard.case_page(app, w["cd"], dashboard.CaseFilter(monitoring="any")),
        "case_page monitored of a type in a township": lambda: dashboard.case_page(
            app, w["th"], dashboard.CaseFilter(township=TOWNSHIP, monitoring="edge")),
        "case_page projects": lambda: dashboard.case_page(app, w["cd"], dashboard.CaseFilter(kind="project")),
        "case_page villages of a stage in a township": lambda: dashboard.case_page(
            app, w["th"], dashboard.CaseFilter(township=TOWNSHIP, stage="assisted", kind="village")),
        "case_page transition ends": lambda: dashboard.case_page(app, w["cd"],
                                                                 dashboard.CaseFilter(transition_ends="2024")),
        "monitoring_figures": lambda: dashboard.monitoring_figures(app, w["cd"], 2020),
        "monitoring_pipeline": lambda: dashboard.monitoring_pipeline(app, w["cd"]),
        "monitoring_pipeline township": lambda: dashboard.monitoring_pipeline(app, w["th"]),
        "monitoring_pipeline_by": lambda: dashboard.monitoring_pipeline_by(app, w["cd"]),
        "monitoring_pipeline_by township": lambda: dashboard.monitoring_pipeline_by(app, w["th"]),
        "case_page identification open": lambda: dashboard.case_page(app, w["cd"], dashboard.CaseFilter(
            open="monitoring")),
        "case_page risk elimination open in a township": lambda: dashboard.case_page(app, w["th"], dashboard.CaseFilter(
            township=TOWNSHIP, open="risk_elimination")),
        "list_cases monitored": lambda: list(case_lists.list_cases(app, w["cd"], monitoring="any")),
        "list_cases transition ends": lambda: list(case_lists.list_cases(app, w["th"], transition_ends=2024)),
        "oversight log_tip": lambda: oversight.log_tip(app),
        "oversight checkpoints": lambda: oversight.checkpoints(app),
        "oversight events": lambda: oversight.events(app, w["insp"], [1, 2, 3, 50]),
        "oversight batch_seqs": lambda: oversight.batch_seqs(app, w["insp"], *ids["batch"]),
        "oversight problems": lambda: oversight.problems(app, w["insp"]),
        "oversight outcomes": lambda: oversight.outcomes(app, w["insp"]),
        "oversight activity": lambda: oversight.activity(app, w["insp"]),
        "oversight activity person before": lambda: oversight.activity(app, w["insp"], person="vs", before=10**6),
        "oversight activity action": lambda: oversight.activity(app, w["insp"], action="households_imported"),
        "sample registrations due": lambda: sample_waits.registrations_due(app, w["cd"]),
        "my_villages": lambda: village_lists.my_villages(app, w["ts1"]),
        "waiting_steps": lambda: village_lists.waiting_steps(app, w["vs"], VILLAGE),
        "waiting_cases": lambda: village_lists.waiting_cases(app, w["vs"], VILLAGE, "household", "identification",
                                                             "application"),
        "waiting_steps of a township": lambda: village_lists.waiting_steps(app, w["ts1"], TOWNSHIP),
        "waiting_cases of a township": lambda: village_lists.waiting_cases(app, w["ts1"], TOWNSHIP, "household",
                                                                           "identification", "township_review"),
        # a village's notices, those posted above it with how many of its cases they list; a notice's reach
        # for a reader below it (the cases of theirs it lists: here none, refused)
        "village_notices": lambda: village_lists.village_notices(app, w["vs"], VILLAGE),
        "a notice read by a cadre below it": lambda: _notice_reach(app, w["vs2"], case),
        "waiting_page of a county, a later page": lambda: _a_later_page(app, w["cd"]),
        "waiting_ids of a township": lambda: village_lists.waiting_ids(app, w["ts1"], TOWNSHIP, "identification",
                                                                       "township_review"),
        "the participants of a township's list": lambda: village_lists.participants(
            app, TOWNSHIP, "household", "identification", "township_review"),
        "sheet_rows": lambda: village_lists.sheet_rows(app, w["vs"], VILLAGE, "household", "income_assessment", True),
        "export cases": lambda: list(exports.export_table(app, w["vs"], "cases")[1]),
        "export members": lambda: list(exports.export_table(app, w["cd"], "members", TOWNSHIP)[1]),
        "export steps": lambda: list(exports.export_table(app, w["th"], "steps")[1]),
        "export deadlines": lambda: list(exports.export_table(app, w["th"], "deadlines")[1]),
        "export deadlines open": lambda: list(exports.export_table(app, w["th"], "deadlines", status="open")[1]),
        "export deadlines overdue": lambda: list(exports.export_table(app, w["cd"], "deadlines", TOWNSHIP,
                                                                      "overdue")[1]),
        "export evidence": lambda: list(exports.export_table(app, w["th"], "evidence")[1]),
        "export evidence of a type, replaced too": lambda: list(exports.export_table(
            app, w["cd"], "evidence", VILLAGE, evidence_type="income_check", replaced=True)[1]),
        "export overdue filtered": lambda: list(exports.export_table(
            app, w["cd"], "deadlines", overdue=dashboard.OverdueFilter(TOWNSHIP, rung=0, person="th"))[1]),
        # a person's steps and responsibilities, every one (their trace's downloads), and a region's responsibilities
        "export steps of a person": lambda: list(exports.export_table(app, w["insp"], "steps", person="vs")[1]),
        "export responsibilities of a person": lambda: list(exports.export_table(
            app, w["insp"], "responsibilities", person="ts1")[1]),
        "export responsibilities": lambda: list(exports.export_table(app, w["th"], "responsibilities")[1]),
        "funds_report": lambda: funds.funds_report(app, w["insp"], COUNTY, date(2019, 12, 1)),
        "coverage_report": lambda: indicators.coverage_report(app, w["cd"], year=2019),
        "a poor village's households still poor, a later page": lambda: _poor_households(app),
        "region_rows": lambda: listings.region_rows(app, w["cd"]),
        "people_rows": lambda: listings.people_rows(app, w["cd"], TOWNSHIP),
        "inspection flags": lambda: list(flags(app, w["insp"])),
        "inspection flags of a case (its trace's leads)": lambda: list(flags(app, w["insp"], case=case)),
        "a seal refused, on the inspector's home": lambda: audit_seal.seal_refusal(app),
        "case_trace": lambda: trace.case_trace(app, w["insp"], case),
        "case_trace of a household moved in from a file": lambda: trace.case_trace(app, w["insp"], ids["moved_in"]),
        # who has not visited: a township's pairings, each household's last visit by the visits' (case, day) index
        "visit_page of a township": lambda: visits.visit_page(app, w["th"], visits.VisitFilter(TOWNSHIP)),
        "visit_page overdue, a later page": lambda: visits.visit_page(
            app, w["cd"], visits.VisitFilter(COUNTY, True), after="2019-01-01~1"),
        # a household's visits (GET /api/v1/cases/{id}/visits): by the visits' case index
        "case_visits": lambda: visits.case_visits(app, w["pc1"], case),
        "a pairing cadre's households held up above them": lambda: deadlines.stalled_elsewhere(app, w["pc1"], ids["cases"]),
        "numbers to confirm on my work": lambda: queries.ids_to_confirm(app, w["vs"], ("village_secretary",)),
        "numbers to confirm of a township": lambda: queries.ids_to_confirm(app, w["ts1"], ("township_staff",)),
        "list_cases id to confirm": lambda: list(case_lists.list_cases(app, w["th"], region=TOWNSHIP,
                                                                       id_to_confirm=True)),
        "person_trace": lambda: trace.person_trace(app, w["insp"], "vs"),
        "person_trace of one kind": lambda: trace.person_trace(app, w["insp"], "vs", action="evidence_attached"),
        # a person's steps and responsibilities: their groups counted, a group's older page
        "person_trace a group's older steps": lambda: trace.person_trace(
            app, w["ts1"], "ts1", steps=trace.Page(10 ** 9, "identification:township_review:township_staff"),
            responsibilities=trace.Page(10 ** 9, "identification:direct:township_staff")),
        "the inspectors' search by ID number": lambda: find.find_cases(app, w["insp"], member_ids(1, 1)[0]),
        "the inspectors' search by name": lambda: find.find_cases(app, w["insp"], "户主"),
        # a sample check's problem item: its title stored as its message, searched by its words too
        "the inspectors' search by a sample check's words": lambda: find.find_cases(app, w["insp"], "抽查 #1"),
        "a cadre's search by a member's name": lambda: find.find_cases(app, w["vs"], "成员1-1"),
        "a cadre's search by a household code": lambda: find.find_cases(app, w["vs"], "3607301002010001"),
        "a cadre's search by a case number": lambda: find.find_cases(app, w["vs"], f"#{case}"),
        "audit head": lambda: audit_verify.head(app),
        "the banner on an administrator's pages (a failed backup, a refused seal)":
            lambda: backup_status.admin_alarm(app, w["admin"]),
        # the lookups registration, a registry's import and an evidence sheet make for every row
        "registered_refusals": lambda: registered_refusals(app, w["vs"], member_ids(3, 1)),
        "registered households an import compares with": lambda: _registered_cases(app, [case]),
        "evidence sheet": lambda: sheet_items(app, w["vs"], "income_assessment",
                                              [SheetRow(id_number=member_ids(1, 1)[0]), SheetRow(household_code="H1"),
                                               SheetRow(case=str(case))]),
    }


def _notice_reach(app, reader, case: int) -> None:
    """Whether a cadre of another village may read a notice of `case`'s village: the cases of theirs it lists."""
    from engine.adapters import tables as t
    from engine.domain.errors import AuthError
    with app.engine.connect() as conn:
        notice = conn.execute(select(t.notice_cases.c.notice_id).where(t.notice_cases.c.case_id == case)).scalar()
        region = conn.execute(select(t.notices.c.region_code).where(t.notices.c.id == notice)).scalar()
        with pytest.raises(AuthError):
            listings.notice_reach(conn, reader, notice, region)


def _poor_households(app) -> None:
    """A village's households not yet exited, a page past the first (its case page, `?poor_page=2`)."""
    with app.engine.connect() as conn:
        indicators.poor_households(conn, VILLAGE, 21, 20)


def _year_exits(app) -> None:
    """The sample check's candidates of a year, and the assessment's households imported as exited in it."""
    from engine.reads.assessment.figures import imported_exits
    from engine.reads.exits import ExitYear
    from engine.services.sampling import candidates
    with app.engine.connect() as conn:
        assert candidates(conn, COUNTY, ExitYear.of(app.config, 2018))
        assert imported_exits(conn, COUNTY, 2018, "county")


def _registered_cases(app, ids: list[int]) -> None:
    from workflows.household_import import registered_cases
    with app.engine.connect() as conn:
        cases, members = registered_cases(conn, ids)
    assert list(cases) == ids and members[ids[0]]


def _step_reads(app, case: int) -> None:
    """What a single step reads (its case with its open procedure's steps and evidence, read ahead;
    the open deadlines it closes)."""
    from engine.services.deadlines import open_rows
    with app.transaction() as conn:
        repo = SqlCaseRepository(conn, read_ahead=True)
        row = repo.cases([case])[case]
        assert repo.open_procedures([row]) is not None and repo.current_evidence([case], ["income_check"], kept=())[case]
        open_rows(conn, [case])


def _long_list_reads(app, cases: list[int]) -> None:
    """What a list step reads of a list longer than SQLite binds key by key (engine.adapters.one_of:
    bound as one JSON text read with json_each): its cases, their steps, evidence and open deadlines."""
    from engine.adapters.one_of import LONG_LIST
    from engine.adapters.repository import held_evidence, load_cases, load_current_evidence, load_open_procedures
    from engine.services.deadlines import open_rows
    listed = (cases * LONG_LIST)[:LONG_LIST + 1]       # the same few cases again and again: as long as a list
    with app.transaction() as conn:
        rows = load_cases(conn, listed)
        load_open_procedures(conn, [rows[c] for c in listed])
        load_current_evidence(conn, listed, ["income_check"], kept=("income_check",))
        held_evidence(conn, "income_check", listed, True)
        open_rows(conn, listed)


@pytest.fixture(scope="module", params=BACKENDS)
def captured(request, tmp_path_factory):
    """{read name: [(sql, parameters)]} of every SELECT each read issued, and the app to explain them on."""
    home, name = tmp_path_factory.mktemp("plans") / "home", f"jz_plans_{os.getpid()}"
    db_url = pg_database(name) if request.param == "postgresql" else None
    world = build_world(home, db_url)
    ids = populate(world)
    seen: dict[str, list] = {}
    current: list = []

    def capture(_conn, _cursor, statement, parameters, _context, executemany):
        if statement.lstrip().upper().startswith(("SELECT", "WITH")) and not executemany:
            current.append((statement, parameters))

    def capture_direct(statement, parameters):        # a single step's statements (engine.adapters.direct)
        capture(None, None, statement, parameters, None, False)

    event.listen(world.app.engine, "before_cursor_execute", capture)
    WATCHERS.append(capture_direct)
    try:
        for label, read in reads(world, ids).items():
            current = seen.setdefault(label, [])
            read()
    finally:
        WATCHERS.remove(capture_direct)
        event.remove(world.app.engine, "before_cursor_execute", capture)
    yield request.param, world.app, seen
    world.app.close()
    if db_url:
        pg_database(name, drop=True)


def scans(backend: str, app, statement: str, parameters) -> list[str]:
    """The plan's lines that read a big table without an index."""
    with app.engine.connect() as conn:
        if backend == "sqlite":
            plan = [r[-1] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)]
            bad = [line for line in plan if _sqlite_scan(line) and not _newest_first(statement, line)]
        else:
            conn.exec_driver_sql("SET enable_seqscan = off")
            plan = [r[0] for r in conn.exec_driver_sql("EXPLAIN " + statement, parameters)]
            bad = [line for line in plan if (m := re.search(r"Seq Scan on (\w+)", line)) and m.group(1) in BIG]
    return bad


def _newest_first(statement: str, line: str) -> bool:
    """A table read backwards in its primary key's order and stopped by LIMIT (the log's tip): SQLite
    calls it a SCAN, but it reads only the rows it returns."""
    m = re.search(r"FROM (\w+) ORDER BY \1\.(?:id|seq) DESC\s+LIMIT", statement)
    return bool(m) and line.strip() == f"SCAN {m.group(1)}"


def _sqlite_scan(line: str) -> bool:
    m = re.match(r"SCAN (\w+)", line.strip())
    return bool(m) and m.group(1) in BIG and "USING INDEX" not in line and "COVERING INDEX" not in line


def test_every_read_was_captured(captured):
    backend, _app, seen = captured
    assert all(seen.values()), [label for label, statements in seen.items() if not statements]
    assert sum(len(s) for s in seen.values()) >= 60
    step = " ".join(s for s, _ in seen["a step's reads of one case"])      # run on the driver, seen too
    assert "FROM cases" in step and "FROM evidence" in step and "open_procedure_id" in step and "FROM deadlines" in step
    long = [s for s, _ in seen["a long list's reads"]]
    assert len([s for s in long if backend != "sqlite" or "json_each" in s]) >= 4, long     # cases, evidence x2, deadlines


def test_every_list_worklist_and_report_query_uses_an_index(captured):
    backend, app, seen = captured
    offenders = {}
    for label, statements in seen.items():
        unique = {(s, repr(p)): (s, p) for s, p in statements}
        for statement, parameters in unique.values():
            bad = scans(backend, app, statement, parameters)
            if bad:
                offenders.setdefault(label, []).append((bad, " ".join(statement.split())[:300]))
    assert not offenders, "\n".join(f"{k}: {v}" for k, v in offenders.items())



def test_the_flags_read_a_steps_event_and_a_cases_events_of_one_action_by_index(captured):
    """The flags page took 5-15 s on the demo county (2,000 households): each step's audit event, and a
    case's events of an action, were found by reading every event of the case (the only index by case
    was (case_id, case_seq)), and two income kinds walked every step of the database in procedure order.
    Each lookup now names the case, the action and the step (ix_audit_events_case_action), and the
    walk starts from the region's cases."""
    backend, app, seen = captured
    if backend != "sqlite":
        pytest.skip("SQLite's plans name the index and its columns; PostgreSQL's are checked above")
    lines = set()
    for statement, parameters in {(s, repr(p)): (s, p) for s, p in seen["inspection flags"]}.values():
        with app.engine.connect() as conn:
            lines |= {r[-1] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)}
    by_case_only = sorted(line for line in lines if "sqlite_autoindex_audit_events_1 (case_id=?)" in line)
    walks = sorted(line for line in lines if re.match(r"SCAN (steps|audit_events|evidence|cases) USING", line))
    assert not by_case_only and not walks, (by_case_only, walks)
    assert any("ix_audit_events_case_action (case_id=? AND action=? AND procedure_id=? AND step_key=?)" in line
               for line in lines)
