"""`workflow show KIND`: every workflow drawn from its definition, in text, Mermaid and SVG (issue 11)."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from config import load_config
from engine.domain.errors import BadInput
from engine.reads.workflow_diagram import FORMATS, diagram, render
from entrypoints.cli.main import main

CONFIG = load_config()
KINDS = sorted(CONFIG.workflows)


def _names(kind: str, lang: str) -> list[str]:
    """What the drawing must name: every stage's and every step's label, every procedure's name."""
    d = diagram(CONFIG, kind, lang)
    return ([label for _, label in d.stages] + [p.label for p in d.procedures]
            + [s.label for p in d.procedures for s in p.steps])


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_stage_and_step_is_named(kind, fmt, lang):
    out = render(CONFIG, kind, fmt, lang)
    wf = CONFIG.workflows[kind]
    missing = [n for n in _names(kind, lang) if n not in out and n.replace('"', "#quot;") not in out]
    assert not missing, missing
    # The labels come from the definitions the engine runs: one per stage and per step, none left over.
    d = diagram(CONFIG, kind, lang)
    assert [code for code, _ in d.stages] == list(wf.stages)
    assert [[s.key for s in p.steps] for p in d.procedures] == [[s.key for s in p.steps]
                                                                for p in wf.procedures.values()]


@pytest.mark.parametrize("kind", KINDS)
def test_svg_parses_as_xml(kind):
    root = ET.fromstring(render(CONFIG, kind, "svg", "zh"))
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    rects = root.findall(".//{http://www.w3.org/2000/svg}rect")
    wf = CONFIG.workflows[kind]
    assert len(rects) == len(wf.stages) + sum(len(p.steps) for p in wf.procedures.values())


def test_text_shows_roles_evidence_notices_and_deadlines():
    out = render(CONFIG, "household", "text", "en")
    assert "Village Party secretary" in out                 # roles, by their names
    assert "exit confirmation signed by the household" in out   # evidence
    assert "at least 7 days (in the village)" in out        # notice days from policy
    assert "within 30 days" in out and "15 days" in out      # deadline rules of the kind
    assert "monitoring identification (monitoring) [side move]" in out
    assert "reopen" in out.lower()


def test_mermaid_draws_main_path_and_side_moves():
    out = render(CONFIG, "project", "mermaid", "en")
    assert out.startswith("flowchart TB")
    assert "s_proposed ==>" in out and "s_assisted -.->" in out   # library entry on the main path; milestone a loop
    assert out.count("subgraph p_") == len(CONFIG.workflows["project"].procedures)


def test_unknown_kind_and_format_are_refused():
    with pytest.raises(BadInput):
        render(CONFIG, "nope", "text")
    with pytest.raises(BadInput):
        render(CONFIG, "household", "png")


def test_cli_command(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["--lang", "en", "workflow", "show", "village", "--format", "svg"]) == 0
    out = capsys.readouterr().out
    ET.fromstring(out)
    assert "village exit" in out
    assert main(["workflow", "show", "nope"]) == 2
    assert main(["workflow", "show", "贫困户"]) == 0          # a kind by its name, as case list --kind takes it
    assert "nope" in capsys.readouterr().err
