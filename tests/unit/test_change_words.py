"""A member's fact recorded for the first time reads as such in the history an inspector reads: not recorded
→ the value, for schooling a list left blank and for insurance a registration did not give (it read '- → 是')."""
from __future__ import annotations

import pytest

from config import load_config
from engine.reads.words import change_words


@pytest.mark.parametrize("field, new, zh, en", [
    ("insured_basic", True, "王芳：基本医疗保险 未登记 → 是", "王芳: basic medical insurance not recorded → yes"),
    ("school_enrolment", "enrolled", "王芳：在校情况 未登记 → 在校生", None),
])
def test_a_fact_recorded_for_the_first_time_reads_not_recorded_then_its_value(field, new, zh, en):
    config = load_config()
    change = [{"member": "王芳", "field": field, "old": None, "new": new}]
    assert change_words(config, change) == [zh]
    if en:
        assert change_words(config, change, "en") == [en]
