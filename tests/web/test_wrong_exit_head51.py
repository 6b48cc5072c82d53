"""The county head, who approves households' exits and answers for them, may register a wrong exit (错退)
found on a household, as the county office's director may: through `problem add`, the problem form, and
on every list of who may register one (`/work`, `case list --waiting`, the API's `registrations_due`).
Before, the registrar's first rule (who may add any problem item) refused the head before the wrong
exit's own rule (the exit's county approvers) could admit them. A county head registers no other finding.
SQLite and PostgreSQL, both languages."""
from __future__ import annotations

from datetime import date

import pytest

from engine.domain.errors import AuthError
from engine.reads.sample_waits import registrations_due
from engine.services.problems import ProblemInput, register_problem
from tests.helpers.db_option import db_option
from tests.test_cli import jingzhun
from tests.web.test_office_waits50 import waiting_with_a_colleague
from tests.world import COUNTY


def test_the_county_head_sees_a_waiting_wrong_exit_and_registers_it(world, world_clients):
    case, draw = waiting_with_a_colleague(world)
    due, = registrations_due(world.app, world["ch"])          # before: []
    assert (due["case"], due["owner"], due["mine"], due["draws"]) == (case, "cd", False, [draw])
    page, api = world_clients
    head = page("ch")
    shown = head.get("/work").text
    assert 'id="sample-waits"' in shown and f'data-case="{case}"' in shown and "我也可登记" in shown
    assert f"/problems/new?finding=wrong_exit&amp;cases={case}" in shown
    assert [d["case"] for d in api("ch", "en").get("/api/v1/cases?waiting=true").json()["registrations_due"]] == [case]
    home = ["--home", world.app.settings.home, *db_option(world.app.engine.url.render_as_string(hide_password=False))]
    listed = jingzhun([*home, "--as", "ch", "case", "list", "--waiting"], token=world.tokens["ch"])
    assert listed.code == 0 and f"{case}\t" in listed.out and "我也可登记" in listed.out, listed.out + listed.err

    form = head.get(f"/problems/new?finding=wrong_exit&cases={case}")
    assert form.status_code == 200, form.text
    findings = form.text[form.text.index('name="finding"'):form.text.index("</select>", form.text.index('name="finding"'))]
    assert 'value="wrong_exit" selected' in findings and 'value="other"' not in findings and 'value=""' not in findings
    added = jingzhun([*home, "--as", "ch", "problem", "add", "--region", COUNTY, "--source", "assessment",
                      "--description", "抽查发现错退", "--finding", "wrong_exit", "--case", str(case)],
                     token=world.tokens["ch"])
    assert added.code == 0, added.err
    assert registrations_due(world.app, world["ch"]) == registrations_due(world.app, world["cd"]) == []
    for finding in ("other", None):       # a county head registers no other finding
        with pytest.raises(AuthError):
            register_problem(world.app, world["ch"], ProblemInput(COUNTY, "assessment", "村级公示不规范",
                                                                  date(2020, 3, 20), finding, []))
