"""Exports are recorded, and inspectors read what was done outside any case (the activity log):
newest first, within their jurisdiction, filtered by action or person, a page at a time."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from engine.adapters import tables as t
from engine.domain.errors import AuthError, BadInput, RuleViolation
from engine.reads.audit_verify import verify
from engine.reads.oversight import activity
from engine.services.accounts import activate_all
from engine.services.exports import export_table
from engine.services.sweep import sweep
from engine.services.org import NewPerson, add_persons, add_regions, authenticate
from tests.test_inspection_reading import jingzhun
from tests.world import COUNTY, VILLAGE, VILLAGE2


def exported(world, who: str = "insp", **filters) -> list[dict]:
    return [e for e in activity(world.app, world[who], action="exported", **filters)["events"]]


OTHER_COUNTY, OTHER_VILLAGE = "360731000000", "360731100201"


def other_county(world) -> tuple:
    """A second county with a village: its village secretary and its inspector."""
    add_regions(world.app, world["admin"], [(OTHER_COUNTY, "于都县"), ("360731100000", "贡江镇"),
                                            (OTHER_VILLAGE, "水头村")])
    tokens = activate_all(world.app, add_persons(world.app, world["admin"], [
        NewPerson("vs3", "水头村支书", (("village_secretary", OTHER_VILLAGE),)),
        NewPerson("insp3", "于都县纪委", (("inspector", OTHER_COUNTY),))]))
    return authenticate(world.app, "vs3", tokens["vs3"]), authenticate(world.app, "insp3", tokens["insp3"])


def test_an_export_is_recorded_before_its_first_row_with_who_what_where_and_how(world):
    world.household(village=VILLAGE)
    world.household(village=VILLAGE2, by="vs2")
    columns, rows = export_table(world.app, world["vs"], "members", None, "csv")
    # Recorded (committed) already, though not one row has been read.
    [entry] = exported(world)
    assert entry["person"] == "vs" and entry["role"] == "village_secretary" and entry["region"] == VILLAGE
    assert dict(entry["detail"]) == {"table": "members", "format": "csv", "regions": VILLAGE}
    assert len(list(rows)) == 2 and "id_number" in columns            # the village's household's two members

    export_table(world.app, world["cd"], "cases", VILLAGE2, "xlsx")
    list(export_table(world.app, world["insp"], "steps", None, "csv")[1])      # a read-only reader too
    newest = exported(world)
    assert [(e["person"], dict(e["detail"])["table"], e["region"]) for e in newest] == [
        ("insp", "steps", COUNTY), ("cd", "cases", VILLAGE2), ("vs", "members", VILLAGE)]
    assert newest[0]["case_seq"] > newest[1]["case_seq"] > newest[2]["case_seq"]
    assert verify(world.app).intact                               # the organisation's chain holds them


def test_an_export_refused_records_nothing(world):
    with pytest.raises(BadInput):
        export_table(world.app, world["vs"], "passwords", None, "csv")
    with pytest.raises((AuthError, RuleViolation)):
        export_table(world.app, world["vs"], "members", VILLAGE2, "csv")
    with pytest.raises(BadInput):
        export_table(world.app, world["vs"], "members", "999999999999", "csv")
    assert exported(world) == []


def test_a_whole_jurisdiction_of_several_regions_is_recorded_under_the_region_covering_them(world):
    tokens = activate_all(world.app, add_persons(world.app, world["admin"], [NewPerson(
        "both", "两村", (("village_secretary", VILLAGE), ("village_secretary", VILLAGE2)))]))
    both = authenticate(world.app, "both", tokens["both"])
    export_table(world.app, both, "members", None, "xlsx")
    [entry] = exported(world)
    assert entry["region"] == COUNTY and dict(entry["detail"])["regions"] == f"{VILLAGE}, {VILLAGE2}"


def test_only_inspectors_read_the_log_and_each_within_their_jurisdiction(world):
    vs3, insp3 = other_county(world)
    export_table(world.app, world["vs"], "members", None, "csv")
    export_table(world.app, world["vs2"], "members", None, "csv")
    export_table(world.app, vs3, "members", None, "csv")
    assert {e["person"] for e in exported(world)} == {"vs", "vs2"}
    assert {e["person"] for e in exported(world, "do")} == {"vs", "vs2"}      # a discipline officer
    assert {e["person"] for e in exported(world, "aud")} == {"vs", "vs2"}     # an auditor
    theirs = activity(world.app, insp3)
    assert [e["person"] for e in theirs["events"] if e["action"] == "exported"] == ["vs3"]
    assert {e["region"] for e in theirs["events"]} <= {OTHER_COUNTY, "360731100000", OTHER_VILLAGE}
    for cadre in ("vs", "cd", "th"):
        with pytest.raises(AuthError) as refused:
            activity(world.app, world[cadre])
        assert refused.value.code == "auth.not_inspector"


def test_a_village_made_in_the_county_is_in_the_county_s_log(world):
    """The administrator's new village was filed at their post (the whole country): the county's inspector
    saw households imported into a village whose making they could not see. It is filed at the lowest
    region that held it (its township); a region made elsewhere stays out of the county's log."""
    from tests.world import TOWNSHIP
    add_regions(world.app, world["admin"], [(TOWNSHIP[:9] + "206", "新屋村")])
    add_regions(world.app, world["admin"], [("360731000000", "石城县")])
    made = activity(world.app, world["insp"], action="regions_added")["events"]
    assert [e["region"] for e in made] == [TOWNSHIP] and "360731000000" not in str(made)
    assert ("codes", "360730100206") in made[0]["detail"] and ("count", "1") in made[0]["detail"]
    code, out, err = jingzhun(world, "insp", "inspect", "activity", "--action", "regions_added")
    assert code == 0 and "区域数：1 · 区域代码：360730100206" in out, out + err


def test_the_log_is_filtered_by_action_and_person_and_read_a_page_at_a_time(world):
    for who in ("vs", "vs2", "vs", "cd"):
        export_table(world.app, world[who], "cases", None, "csv")
    everything = activity(world.app, world["insp"], limit=1000)
    # The county's people were added by the administrator over the whole country: their entries are
    # in the county's log (where their posts are), the regions' creation is not.
    assert everything["older"] is None and {"exported", "person_added"} <= set(everything["actions"])
    assert "regions_added" not in everything["actions"]
    seqs = [e["case_seq"] for e in everything["events"]]
    assert seqs == sorted(seqs, reverse=True) and len(seqs) > 4
    assert [e["person"] for e in exported(world, person="vs")] == ["vs", "vs"]
    added = activity(world.app, world["insp"], action="person_added", limit=1000)["events"]
    assert {e["action"] for e in added} == {"person_added"} and {e["person"] for e in added} == {"admin"}
    assert ("person", "vs2") in [p for e in added for p in e["detail"]]
    assert next(e for e in added if ("person", "vs2") in e["detail"])["region"] == VILLAGE2
    pages, before = [], None
    while True:
        page = activity(world.app, world["insp"], limit=3, before=before)
        pages.append([e["case_seq"] for e in page["events"]])
        if page["older"] is None:
            break
        assert page["older"] == pages[-1][-1]
        before = page["older"]
    assert [s for p in pages for s in p] == seqs and all(len(p) == 3 for p in pages[:-1])


def test_inspect_activity_on_the_cli(world):
    export_table(world.app, world["vs"], "members", None, "xlsx")
    code, out, err = jingzhun(world, "insp", "inspect", "activity", "--action", "exported")
    assert code == 0, err
    [line] = out.splitlines()
    assert "导出数据" in line and "表：家庭成员" in line and "格式：xlsx" in line and f"范围：{VILLAGE}" in line
    code, out, err = jingzhun(world, "insp", "inspect", "activity", "--person", "vs", lang="en")
    assert code == 0 and "data exported" in out and "table: Household members" in out
    export_table(world.app, world["vs2"], "cases", None, "csv")
    code, out, err = jingzhun(world, "insp", "inspect", "activity", "--limit", "1", "--action", "exported", "--json")
    listed = json.loads(out)
    assert code == 0 and [e["person"] for e in listed["events"]] == ["vs2"]
    code, out, err = jingzhun(world, "insp", "inspect", "activity", "--before", str(listed["older"]), "--action", "exported",
                              "--json")
    assert code == 0 and [e["person"] for e in json.loads(out)["events"]] == ["vs"]
    code, out, err = jingzhun(world, "vs", "inspect", "activity")
    assert code != 0 and out == "" and "[auth.not_inspector]" in err and "不能查看操作日志" in err
    for named in ("导出数据", "Data exported"):      # the kind as the log itself names it, in either language
        code, out, err = jingzhun(world, "insp", "inspect", "activity", "--action", named, "--json")
        assert code == 0 and [e["person"] for e in json.loads(out)["events"]] == ["vs2", "vs"], err
    code, out, err = jingzhun(world, "insp", "inspect", "activity", "--action", "bogus")
    assert code == 2 and out == "" and "没有「bogus」这类条目" in err and "导出数据" in err   # not an empty log
    code, out, err = jingzhun(world, "insp", "inspect", "activity", "--person", "nosuch")
    assert code != 0 and out == "" and "人员不存在：nosuch" in err


def test_an_overdue_export_narrowed_by_the_supervisor_s_filters_is_recorded_and_shown_with_them(world):
    """`/supervise/overdue.csv?township=…&rung=3` (and `export deadlines --township … --rung …`) was
    logged as the whole county's (范围：360730000000) with no filter, though only the township's work at
    that rung left the system: it is the township's export now, with the owner's post, the owner, the
    rule and the rung it was narrowed to, on the CLI's log and the inspector's page alike."""
    from engine.reads.dashboard import OverdueFilter
    from tests.world import TOWNSHIP
    export_table(world.app, world["cd"], "deadlines", None, "csv",
                 overdue=OverdueFilter(TOWNSHIP, "township_staff", "ts1", "notice_expiry", 3))
    export_table(world.app, world["cd"], "deadlines", None, "xlsx", overdue=OverdueFilter(rung=-1))
    unfiltered, narrowed = exported(world)
    assert narrowed["region"] == TOWNSHIP and dict(narrowed["detail"]) == {
        "table": "deadlines", "status": "overdue", "format": "csv", "regions": TOWNSHIP,
        "owner_role": "township_staff", "owner": "ts1", "rule": "notice_expiry", "rung": "3"}
    assert unfiltered["region"] == COUNTY and dict(unfiltered["detail"])["rung"] == "-1"
    code, out, err = jingzhun(world, "insp", "inspect", "activity", "--action", "exported")
    assert code == 0, err
    latest, earlier = out.splitlines()
    assert f"范围：{COUNTY}" in latest and "升级层级：尚未提醒" in latest
    assert f"范围：{TOWNSHIP}" in earlier and "责任岗位：乡镇干部" in earlier and "责任人：ts1" in earlier
    assert "升级层级：第 3 级" in earlier and "事项：" in earlier and "notice_expiry" not in earlier
    code, out, err = jingzhun(world, "insp", "inspect", "activity", "--action", "exported", lang="en")
    assert "responsible post: Township staff" in out and "escalation level: Level 3" in out


def test_an_overdue_export_of_a_township_outside_the_jurisdiction_is_refused_and_not_recorded(world):
    """A township head's overdue export narrowed to another township gave an empty file, logged as an
    export of their own: refused as any region outside the jurisdiction is, and nothing recorded."""
    from engine.reads.dashboard import OverdueFilter, overdue_page
    from tests.world import TOWNSHIP2
    with pytest.raises(AuthError) as refused:
        export_table(world.app, world["th"], "deadlines", None, "csv", overdue=OverdueFilter(TOWNSHIP2))
    assert refused.value.code == "auth.jurisdiction"
    with pytest.raises(AuthError):
        overdue_page(world.app, world["th"], OverdueFilter(TOWNSHIP2))
    assert exported(world) == []
    code, out, err = jingzhun(world, "th", "export", "deadlines", "--status", "overdue", "--township", TOWNSHIP2,
                              "--csv", str(world.app.settings.home / "other.csv"))
    assert code == 1 and "[auth.jurisdiction]" in err and "青塘镇" in err
    assert not (world.app.settings.home / "other.csv").exists()


def test_a_county_s_inspector_reads_the_city_s_imports_and_exports_that_covered_the_county(world):
    """The city's data officer imports a registry and exports the city's members. The export was done
    over the city: it is in the log of every county under it (filed at the city). An import is filed at
    the lowest region covering the villages it wrote, not at the officer's post: one of 宁都县's
    villages alone is 宁都县's, not 于都县's, and one of both counties is the city's, in both logs. The
    county's own export is not in another county's log, and the city's people and posts stay the city's."""
    from tests.world import CITY, member_ids
    from workflows.household import MemberInput
    from workflows.household_import import ListedHousehold, import_households
    vs3, insp3 = other_county(world)
    tokens = activate_all(world.app, add_persons(world.app, world["admin"], [
        NewPerson("do1", "市扶贫办数据员", (("city_office_staff", CITY),))]))
    do1 = authenticate(world.app, "do1", tokens["do1"])
    ids = iter(member_ids(8, 901))

    def listed(code: str, village: str) -> ListedHousehold:
        return ListedHousehold(code, village, [(2, MemberInput("钟老汉", next(ids), "head")),
                                               (3, MemberInput("钟大婶", next(ids), "spouse"))], ["illness"], code=code)

    def imported(households: list, file: str) -> None:
        import_households(world.app, do1, households, keep_good=False, source={"file": file, "sha256": file[0] * 64},
                          on_problem=lambda *problem: None, on_skipped=lambda h: None)

    imported([listed("H1", VILLAGE)], "a宁都名单.csv")
    imported([listed("H2", OTHER_VILLAGE)], "b于都名单.csv")
    imported([listed("H3", VILLAGE), listed("H4", OTHER_VILLAGE)], "c全市名单.csv")
    export_table(world.app, do1, "members", None, "xlsx")
    export_table(world.app, world["cd"], "cases", None, "csv")
    seen = {name: [(e["action"], e["region"]) for e in activity(world.app, reader, person="do1")["events"]]
            for name, reader in (("insp", world["insp"]), ("insp3", insp3))}
    assert seen == {"insp": [("exported", CITY), ("households_imported", CITY), ("households_imported", VILLAGE)],
                    "insp3": [("exported", CITY), ("households_imported", CITY), ("households_imported", OTHER_VILLAGE)]}
    assert {"exported", "households_imported"} <= set(activity(world.app, insp3)["actions"])   # what the filter offers
    files = [dict(e["detail"])["file"] for e in activity(world.app, world["insp"], action="households_imported")["events"]]
    assert files == ["c全市名单.csv", "a宁都名单.csv"]          # not 于都县's own
    assert [e["person"] for e in activity(world.app, insp3, action="exported")["events"]] == ["do1"]   # not 宁都县's
    assert [e["person"] for e in exported(world)] == ["cd", "do1"]
    ours = activity(world.app, world["insp"], limit=1000)["events"]
    assert not [e for e in ours if ("person", "do1") in e["detail"]]       # the city's staff: not the county's
    code, out, err = jingzhun(world, "insp", "inspect", "activity", "--action", "households_imported")
    assert code == 0 and "do1" in out and "c全市名单.csv" in out and "赣州市" in out and "b于都名单" not in out, err
    # which households each import created: the case numbers, not only how many (the event kept them unshown)
    created = {dict(e["detail"])["file"]: dict(e["detail"]).get("case_range")
               for e in activity(world.app, world["insp"], action="households_imported")["events"]}
    with world.app.engine.connect() as conn:
        last = conn.execute(select(t.cases.c.id).where(t.cases.c.external_code == "H4")).scalar_one()
    assert created == {"c全市名单.csv": f"{last - 1}–{last}", "a宁都名单.csv": str(last - 3)}
    assert f"所建案件编号：{last - 1}–{last}" in out


def test_who_took_up_or_renewed_an_account_is_in_the_log_of_the_region_of_their_posts(world):
    """Enrolment codes issued and spent, tokens renewed and passwords set are filed where the person's
    posts are, though the administrator who enrolled them is over the whole country: a county's
    inspectors see who got into an account of their county (and another county's do not)."""
    from engine.services.accounts import issue_enrolment, renew_token, set_password
    vs3, insp3 = other_county(world)
    renew_token(world.app, vs3)
    set_password(world.app, vs3, "Shuitou-2026-pass")
    issue_enrolment(world.app, world["admin"], "vs3", paper=True)       # e.g. a lost phone: a new paper code
    credentials = ("enrolment_issued", "enrolment_spent", "token_issued", "password_set")
    theirs = [(e["action"], e["region"]) for e in activity(world.app, insp3, limit=1000)["events"]
              if e["action"] in credentials and ("person", "vs3") in e["detail"]]
    assert theirs == [("enrolment_issued", OTHER_VILLAGE), ("password_set", OTHER_VILLAGE),
                      ("token_issued", OTHER_VILLAGE), ("enrolment_spent", OTHER_VILLAGE),
                      ("enrolment_issued", OTHER_VILLAGE)]
    ours = activity(world.app, world["insp"], limit=1000)["events"]
    assert not [e for e in ours if ("person", "vs3") in e["detail"]]
    # The county's own people's: in the county's log, by the same rule.
    assert ("enrolment_spent", VILLAGE) in {(e["action"], e["region"]) for e in ours
                                            if ("person", "vs") in e["detail"]}
    assert verify(world.app).intact


def test_a_members_export_carries_its_household_s_columns_on_either_backend(world):
    """Each member's row with its household's village, stage, causes (a list, from the case's JSON
    attributes) and type, a household's rows together, on SQLite and PostgreSQL alike."""
    first, second = world.household(village=VILLAGE), world.household(village=VILLAGE, members=3)
    columns, rows = export_table(world.app, world["vs"], "members", None, "csv")
    found = [dict(zip(columns, r)) for r in rows]
    assert [r["case_id"] for r in found] == [first, first, second, second, second]
    assert {(r["village"], r["stage"], tuple(r["causes"]), r["household_type"], r["active"]) for r in found} == {
        (VILLAGE, "candidate", ("illness",), "general", True)}


def test_a_deadlines_export_says_overdue_and_whom_the_next_alert_goes_to_on_either_backend(world):
    """The deadlines' rows as the export reads them on SQLite and PostgreSQL alike: an open deadline
    past due is overdue, with its next alert's time and recipients (from its ladder, a JSON column),
    a closed one with neither; a step's deadline has no subject beside its procedure and step."""
    from datetime import date
    case = world.household(village=VILLAGE)
    world.identify(case)
    world.on(date(2019, 5, 1))
    columns, rows = export_table(world.app, world["cd"], "deadlines", None, "csv")
    found = [dict(zip(columns, r)) for r in rows]
    closed = [r for r in found if r["status"] == "done"]
    assert closed and all(r["next_alert_at"] is None and r["next_alert_to"] is None for r in closed)
    assert {(r["type"], r["step_key"], r["subject"], r["closed_reason"]) for r in closed} >= {
        ("waiting", "township_review", None, "step:township_review")}
    [open_] = [r for r in found if r["status"] not in ("done", "cancelled")]
    assert (open_["type"], open_["status"], open_["next_alert_to"]) == ("stage", "overdue", "owner")
    assert open_["next_alert_at"] is not None and open_["procedure_id"] is None and open_["alerted_to"] is None
    sweep(world.app, world.app.clock.now())          # every level fallen due since 14 April: up to the inspectors
    [open_] = [dict(zip(columns, r)) for r in export_table(world.app, world["cd"], "deadlines", None, "csv")[1]
               if r[columns.index("status")] == "overdue"]
    assert open_["alerted_to"] == "inspector" and open_["next_alert_at"] is None    # none left to send


def test_whom_a_deadlines_alerts_reached_is_read_by_its_levels_key(world):
    """A ladder level may carry a key of its own (config/deadlines.yaml: `key:`), which its alerts are
    recorded under: the export and the supervisor's overdue page say whom that level goes to, not the key."""
    from datetime import date
    from sqlalchemy import select, update
    from engine.adapters import tables as t
    case = world.household(village=VILLAGE)
    world.identify(case)
    world.on(date(2019, 5, 1))
    sweep(world.app, world.app.clock.now())
    with world.app.engine.begin() as conn:
        deadline, ladder = conn.execute(select(t.deadlines.c.id, t.deadlines.c.ladder).where(
            t.deadlines.c.case_id == case, t.deadlines.c.status == "open")).one()
        top = max(ladder, key=lambda e: e["level"])
        top["key"] = "last_word"                 # as a level given its own key is stored, and alerted
        conn.execute(update(t.deadlines).where(t.deadlines.c.id == deadline).values(ladder=ladder))
        conn.execute(update(t.alerts).where(t.alerts.c.deadline_id == deadline, t.alerts.c.level == top["level"])
                     .values(rung="last_word"))
    columns, rows = export_table(world.app, world["cd"], "deadlines", None, "csv")
    [reached] = [r[columns.index("alerted_to")] for r in rows if r[columns.index("status")] == "overdue"]
    assert reached == "+".join(top["to"]) == "inspector"
    from engine.reads.dashboard import OverdueFilter, overdue_page       # the supervisor's overdue page too
    [row] = [r for r in overdue_page(world.app, world["cd"], OverdueFilter())["rows"] if r["id"] == deadline]
    assert (row["rung"], row["rung_to"]) == (top["level"], "inspector")
