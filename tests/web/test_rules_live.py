"""Rules put in force by `config install` while `jingzhun serve` runs are the server's at its next request:
a step through the API is judged and recorded under them, and `config show` through the server shows
them (ops audit ux6, item 2: the server kept the rules it started with until restarted). A key made by
`audit rotate-key` MACs the server's next events (item 12: it was said only in the README that the
server must be restarted)."""
from __future__ import annotations

import os
import subprocess
import sys

import httpx
from sqlalchemy import select

from engine.adapters import tables as t
from engine.services.setup import install_config, rotate_record_key
from tests.helpers.deadlines import config_copy
from tests.web.test_serve import serve_process, stop_server


def _next_year_rules(tmp_path):
    def edit(policy):
        policy["provinces"]["36"]["income_line"][2021] = 4100
    return config_copy(tmp_path, edit_policy=edit)


def test_rules_installed_while_the_server_runs_judge_its_next_request(world, tmp_path):
    case = world.household()
    home = world.app.settings.home
    (home / "demo-clock").write_text("2019-01-10T02:00:00+00:00", encoding="utf-8")   # the server in the world's year
    before = world.app.policy_version
    process, base = serve_process(world)
    try:
        version = install_config(world.app, world["admin"], _next_year_rules(tmp_path)).version
        assert version != before
        answer = httpx.post(f"{base}/api/v1/cases/{case}/steps", json={"procedure": "identification", "step": "application"},
                            headers={"X-Jingzhun-Person": "vs", "Authorization": f"Bearer {world.tokens['vs']}"},
                            timeout=30)
        assert answer.status_code == 200, answer.text
        with world.app.engine.connect() as conn:
            recorded = conn.execute(select(t.steps.c.policy_version).where(t.steps.c.case_id == case)).scalars().all()
        assert recorded == [version]
        env = {**os.environ, "JINGZHUN_TOKEN": world.tokens["admin"]}
        env.pop("JINGZHUN_HOME", None)
        shown = subprocess.run([sys.executable, "-m", "cli", "--server", base, "--as", "admin", "config", "show",
                                "--province", "36", "--year", "2021"], env=env, capture_output=True, text=True,
                               timeout=60)
        assert shown.returncode == 0, shown.stderr
        assert version in shown.stdout and "4100" in shown.stdout
    finally:
        output = stop_server(process)
    assert "Traceback" not in output


def _step(base: str, world, case: int, procedure: str, step: str, **body) -> None:
    answer = httpx.post(f"{base}/api/v1/cases/{case}/steps", json={"procedure": procedure, "step": step, **body},
                        headers={"X-Jingzhun-Person": "vs", "Authorization": f"Bearer {world.tokens['vs']}"},
                        timeout=30)
    assert answer.status_code == 200, answer.text


def test_a_key_rotated_while_the_server_runs_macs_its_next_events_and_the_record_verifies(world):
    from engine.reads.audit_verify import verify
    case = world.household()
    (world.app.settings.home / "demo-clock").write_text("2019-01-10T02:00:00+00:00", encoding="utf-8")
    process, base = serve_process(world)
    try:
        old = world.app.keyring.key_id
        rotate_record_key(world.app, world["admin"])
        new = world.app.keyring.key_id
        assert new != old
        _step(base, world, case, "identification", "application")
    finally:
        output = stop_server(process)
    assert "Traceback" not in output
    with world.app.engine.connect() as conn:
        last = conn.execute(select(t.audit_events.c.key_id).where(t.audit_events.c.case_id == case)
                            .order_by(t.audit_events.c.seq.desc()).limit(1)).scalar_one()
    assert last == new
    report = verify(world.app, processes=1)
    assert report.intact, [d.what for d in report.damage]
