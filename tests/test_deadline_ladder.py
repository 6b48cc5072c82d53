"""Deadline rules without a database (engine/domain/deadline_rules.py): due dates, ladders and
their stable keys; and the configuration modules that load them import no cycle."""
from __future__ import annotations

import ast
from datetime import date
from pathlib import Path

from config import CONFIG_DIR, load_config
from engine.domain.deadline_rules import REMINDER, basis_of, compiled, key_of, next_after_passed


def test_the_assistance_plan_is_due_30_days_after_identification_with_a_reminder_and_three_levels():
    rules = compiled(load_config())
    rule = rules.rules["assistance_plan"]
    schedule = rules.schedule(rule, basis_of(rule), date(2019, 3, 15), "36")
    assert (schedule.due_on, schedule.provisional) == (date(2019, 4, 14), False)
    assert [e["level"] for e in schedule.ladder] == [-1, 0, 1, 2, 3]
    assert [key_of(e) for e in schedule.ladder][:2] == [REMINDER, "owner"]
    assert schedule.next_from(0)[0] == 0 and schedule.next_from(4) == (None, None)


def test_a_level_keeps_its_key_and_one_inserted_before_the_passed_ones_is_still_alerted():
    old = [{"level": -1, "to": "owner"}, {"level": 0, "to": "owner"}, {"level": 1, "to": ["th"]}]
    new = [{"level": -1, "to": "owner"}, {"level": 0, "to": "owner"}, {"level": 1, "to": ["ts1"]},
           {"level": 2, "to": ["th"]}]
    assert key_of({"level": 2, "to": ["th", "cd"]}) == "cd+th" and key_of({"level": 0, "key": "x", "to": []}) == "x"
    assert next_after_passed(old, 2, new) == new[2]           # th was alerted; ts1 is new: it comes next
    assert next_after_passed(old, None, new) == new[2]        # all old levels were alerted; ts1 was not
    assert next_after_passed(old, None, old) is None


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            found.add("." * node.level + (node.module or ""))
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found


def test_the_configuration_modules_import_no_cycle():
    """config imports config.deadlines and config.models; they and config.base never import config."""
    for name in ("base.py", "deadlines.py", "models.py"):
        imported = _imports(CONFIG_DIR / name)
        assert "config" not in imported and not any(m.startswith(".") for m in imported), (name, imported)
    assert "config.deadlines" in _imports(CONFIG_DIR / "__init__.py")
