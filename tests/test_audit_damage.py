"""`audit verify`'s findings carry a code and parameters and are rendered in the reader's language
from the message catalogue (config/locale/*/LC_MESSAGES/audit.po); no database here."""
from __future__ import annotations

import ast
import pickle
from pathlib import Path
from string import Formatter

from config import CONFIG_DIR, load_catalogue
from engine.reads.audit_damage import Damage, found

LABELS = load_catalogue(CONFIG_DIR)
SOURCES = [Path(__file__).resolve().parents[1] / "engine" / "reads" / name for name in ("audit_verify.py", "audit_seal.py",
                                                                                      "audit_projections.py",
                                                                                      "audit_steps.py", "audit_records.py")]


def test_a_finding_speaks_chinese_by_default_and_english_on_request():
    d = found("changed", "case_event", case=12, case_seq=5, seq=1234)
    assert str(d) == d.text == "事件被改动：案件 12，事件 5（序号 1234）：其字段与其哈希值不再相符"
    assert d.render(LABELS, "en") == "event changed at case 12, event 5 (seq 1234): its fields no longer match its hash"
    assert d.render(LABELS) == d.text and d.detail == "其字段与其哈希值不再相符"
    assert d.where == "case 12, event 5 (seq 1234)"          # the position, for JSON and scripts


def test_stage_and_evidence_codes_in_a_finding_are_shown_by_their_labels():
    d = found("stage_unaccounted", "case", case=3, stage="exited", led_to="identified")
    assert LABELS["stage.exited"]["zh"] in d.text and LABELS["stage.identified"]["zh"] in d.text
    assert LABELS["stage.exited"]["en"] in d.render(LABELS, "en")
    e = found("evidence_changed", "evidence", case=3, evidence=7, type="income_assessment")
    assert LABELS["evidence.income_assessment"]["zh"] in e.text
    assert e.where == "case 3, evidence 7 (income_assessment)"


def test_a_finding_is_a_value_a_worker_process_can_send_back():
    d = found("missing", "case_event", case=1, case_seq=8, seq=40, expected=7)
    assert pickle.loads(pickle.dumps(d)) == d and len({d, found("missing", "case_event", case=1, case_seq=8,
                                                              seq=40, expected=7)}) == 1
    assert isinstance(d, Damage) and (d.kind, d.place, d.code) == ("missing", "case_event", "missing")


def _findings_in_the_verifier() -> list[tuple[str, str, str]]:
    """(kind, place, code) of every `found(...)` the verifier makes, read from its source."""
    made = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "found":
                args = [a.value for a in node.args]
                made.append((args[0], args[1], args[2] if len(args) > 2 else args[0]))
    return made


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(text) if name}


def test_every_finding_the_verifier_makes_has_its_texts_in_both_languages_with_the_same_parameters():
    made = _findings_in_the_verifier()
    assert len(made) >= 15
    said = {"audit.damage.line", "audit.damage.field_changed"}     # a finding's line, a changed field in it
    keys = said | {k for kind, place, code in made for k in (
        f"audit.damage.kind.{kind}", f"audit.damage.place.{place}", f"audit.damage.{code}")}
    for key in sorted(keys):
        assert key in LABELS, key
        assert _fields(LABELS[key]["zh"]) == _fields(LABELS[key]["en"]), key
    unused = {k for k in LABELS if k.startswith("audit.damage.")} - keys
    assert not unused, unused
