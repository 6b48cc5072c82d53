"""What the installation did by itself (its record's key at `init`, the scheduler's nightly jobs) is said as the
system in the activity log, on the page and the command line, and can be listed by its code."""
from __future__ import annotations

from engine.reads.oversight import activity
from tests.test_inspection_reading import jingzhun


def test_what_the_installation_did_by_itself_is_said_as_the_system_and_can_be_listed(world, world_clients):
    """The record's key kept at `init` is the installation's own act, by no person: the log says 系统 (not
    "system (system, -)"), and the inspector may list what it did (before: 人员 system 不存在)."""
    found = activity(world.app, world["admin"], person="system")
    assert found["events"] and all(e["system"] and e["person"] == "system" for e in found["events"])
    code, out, err = jingzhun(world, "admin", "inspect", "activity", "--person", "system")
    assert code == 0, err
    assert "  系统 (system)  " in out.splitlines()[0] and "-)" not in out.splitlines()[0]
    page, _api = world_clients
    shown = page("admin").get("/inspect/activity", params={"person": "system"})
    assert shown.status_code == 200 and '>系统</a> <span class="hint">system</span>' in shown.text


def test_the_inspectors_home_shows_the_last_verify_run_anywhere(world, world_clients):
    """A verify run on the command line (or by another server process) is the last verify /inspect shows
    (before: only this process's own 「立即核验」, so a server just started said none was ever run)."""
    page, _api = world_clients
    code, _out, err = jingzhun(world, "insp", "audit", "verify")
    assert code == 0, err
    home = page("insp").get("/inspect").text
    said = home[home.index('id="last-verify"'):][:900]
    assert "审计日志完整" in said and "保存在数据目录中" in said and "尚未" not in said, said
