from engine.reads.case_record import case_detail


def test_household_goes_from_applicant_to_consolidated(world, tmp_path):
    case = world.household(members=2, income_2018=5000)
    world.identify(case)
    world.assist(case)
    world.exit_evidence(case, tmp=tmp_path)
    world.exit(case)
    world.on(world.today())
    world.step("ts2", "consolidation", "enrolment", case)
    world.step("cs", "consolidation", "county_filing", case, decision="approve")
    detail = case_detail(world.app, world["insp"], case)
    assert detail["stage"] == "consolidated"
    assert [p["kind"] for p in detail["procedures"]] == ["identification", "assistance", "exit", "consolidation"]
    assert detail["attrs"]["transition_until"] == "2024-11-28"
