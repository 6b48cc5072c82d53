"""Inspection flags: who may read them and where, their settings, and `jingzhun inspect flags`."""
from __future__ import annotations

import io
import json
import sys
from datetime import date

import pytest

import cli
from config import ConfigError, load_config
from engine.domain.errors import AuthError, BadInput
from engine.reads.inspection import KINDS
from entrypoints.bootstrap import check_references
from tests.test_inspection import at_china, found, ready_to_exit, step_events
from tests.world import COUNTY, VILLAGE, VILLAGE2
from tests.helpers.rules_copy import rules_copy


def test_flags_cover_only_the_region_asked_for_and_only_for_its_readers(world, tmp_path):
    case = ready_to_exit(world, income_2019=7800, tmp=tmp_path)
    world.exit(case)
    assert [f.kind for f in found(world)] == ["exit_near_line"]
    assert [f.kind for f in found(world, region=VILLAGE)] == ["exit_near_line"]
    assert found(world, region=VILLAGE2) == []
    for cadre in ("vs", "vs2", "ts1", "cd", "ch"):     # a lead is about cadres: none of them reads leads
        with pytest.raises(AuthError) as refused:
            found(world, cadre, region=VILLAGE)
        assert refused.value.code == "auth.not_inspector"
    with pytest.raises(AuthError) as refused:
        found(world, region="360731000000")           # an inspector of another county's
    assert refused.value.code == "auth.jurisdiction"
    with pytest.raises(BadInput) as bad:
        found(world, kinds=["nonsense"])
    assert bad.value.code == "flag.unknown_kind"
    assert found(world, kinds=["short_notice"]) == []
    assert set(KINDS) >= {"signoff_off_hours", "figure_changed_before_decision"}


# --- configuration ----------------------------------------------------------------------------

@pytest.mark.parametrize("old, new, key", [
    ('  burst: {count: 30, minutes: 10}', '  burst: {count: 1, minutes: 10}', "inspection.burst.count"),
    ('    end: "18:00"', '    end: 18:00', "inspection.working_hours.end"),
    ('    end: "18:00"', '    end: "07:00"', "inspection.working_hours.end"),
    ('    days: [1, 2, 3, 4, 5]', '    days: [0, 8]', "inspection.working_hours.days"),
    ('  timezone: Asia/Shanghai', '  timezone: Mars/Olympus', "inspection.timezone"),
    ('  exit_near_line_margin: 0.10', '  exit_near_line_margin: 2', "inspection.exit_near_line_margin"),
    ('  signing_step_types: [signoff, announcement, verification]', '  signing_step_types: [signof]',
     "inspection.signing_step_types.0"),
    ('  figure_changed_days: 30', '  figure_changed_days: 0', "inspection.figure_changed_days"),
    ('  notice_backdated_days: 3', '  notice_backdated: 3', "inspection.notice_backdated"),
    ('  late_entry_days: 3', '  late_entry_days: -1', "inspection.late_entry_days"),
    ('    decision_backdated: 9', '    decision_backdated: -9', "inspection.weights.decision_backdated"),
])
def test_a_wrong_inspection_setting_is_named_by_file_and_key(tmp_path, old, new, key):
    folder = rules_copy(tmp_path, {"policy.yaml": (old, new)})
    with pytest.raises(ConfigError) as refused:
        check_references(load_config(folder))   # step types: the engine's registry (entrypoints/bootstrap.py)
    assert str(folder / "policy.yaml") in str(refused.value) and f"键 {key}" in str(refused.value) and f"key {key}" in refused.value.render(lang="en")


def test_inspection_settings_do_not_change_the_rules_version(tmp_path):
    folder = rules_copy(tmp_path, {"policy.yaml": ("burst: {count: 30", "burst: {count: 40")})
    changed = load_config(folder)
    assert changed.policy.data.inspection.burst.count == 40
    assert changed.version == load_config().version


# --- the command ------------------------------------------------------------------------------

def jingzhun(world, who: str, *args: str, lang: str | None = None) -> tuple[int, str, str]:
    """`jingzhun --home <world> --as who ...` in this process, with the person's token."""
    out, err = io.StringIO(), io.StringIO()
    argv = ["--home", str(world.app.settings.home), *(["--lang", lang] if lang else []), "--as", who, *args]
    with pytest.MonkeyPatch.context() as mp:
        for var in ("JINGZHUN_HOME", "JINGZHUN_DB", "JINGZHUN_LANG", "JINGZHUN_AS", "JINGZHUN_TOKEN"):
            mp.delenv(var, raising=False)
        if world.app.settings.db_url and not world.app.settings.db_url.startswith("sqlite"):
            mp.setenv("JINGZHUN_DB", world.app.settings.db_url)
        mp.setenv("JINGZHUN_TOKEN", world.tokens[who])
        mp.setattr(sys, "stdin", io.StringIO())
        mp.setattr(sys, "stdout", out)
        mp.setattr(sys, "stderr", err)
        # The command's rich consoles write to sys.stdout/stderr unless a file was pinned on them
        # (an earlier test may have left one): pin ours, and put back exactly what was there.
        mp.setattr(cli.out, "_file", out)
        mp.setattr(cli.err, "_file", err)
        code = cli.main(argv)
    return code, out.getvalue(), err.getvalue()


def test_an_inspector_runs_inspect_flags_and_a_cadre_outside_the_region_is_refused(world, tmp_path):
    case = ready_to_exit(world, income_2019=7800, tmp=tmp_path)
    world.exit(case, through="village_notice")
    world.clock.at = at_china(date(2019, 11, 28), 23, 30)
    world.step("ts1", "exit", "township_review", case, decision="approve")
    world.on(date(2019, 11, 28))
    world.step("ch", "exit", "county_approval", case, decision="approve")
    world.step("cs", "exit", "announcement", case)

    code, out, err = jingzhun(world, "insp", "inspect", "flags", "--json")
    assert code == 0, err
    listed = json.loads(out)
    # The weightiest first: an exit just above the line (2) before a signature out of hours (1).
    assert [(f["kind"], f["case"], f["weight"]) for f in listed] == [("exit_near_line", case, 2),
                                                                     ("signoff_off_hours", case, 1)]
    assert listed[1]["person"] == {"code": "ts1", "name": "township_staff-ts1"}
    assert listed[1]["events"] == step_events(world, case, "township_review")
    assert listed[1]["label"] == "非工作时间签署"

    code, out, err = jingzhun(world, "aud", "inspect", "flags", "--region", COUNTY)
    assert code == 0, err
    assert "[非工作时间签署]" in out and "[收入刚过线的脱贫]" in out and "共 2 条疑点线索" in out
    code, out, err = jingzhun(world, "insp", "inspect", "flags", "--kind", "exit_near_line", lang="en")
    assert code == 0, err
    assert "[exit just above the income line]" in out and "only 4.1% above" in out
    assert out.splitlines()[-1] == "1 flag"
    code, out, err = jingzhun(world, "insp", "inspect", "flags", "--kind", "relative_signed")
    assert code == 0 and out.splitlines() == ["疑点线索（宁都县）", "未发现疑点线索"], err   # not a heading alone
    assert jingzhun(world, "insp", "inspect", "flags", "--kind", "relative_signed", lang="en")[1].splitlines()[-1] \
        == "no leads found"

    code, out, err = jingzhun(world, "ts1", "inspect", "flags")       # one of the leads is about him
    assert code == 1 and "[auth.not_inspector]" in err and "疑点线索" in err and out == ""
    code, out, err = jingzhun(world, "insp", "inspect", "flags", "--region", "360731000000")
    assert code == 1 and "[auth.jurisdiction]" in err and out == ""
    code, out, err = jingzhun(world, "insp", "inspect", "flags", "--kind", "bogus")
    assert code == 2 and "[flag.unknown_kind]" in err and "为亲属户签字" in err and "relative_signed" not in err
    code, out, err = jingzhun(world, "insp", "inspect", "flags", "--kind", "为亲属户签字", "--json")
    assert code == 0, err                                       # a kind by its name, as the refusal lists it
