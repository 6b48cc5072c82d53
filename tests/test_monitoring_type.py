"""A monitored household's type (防返贫监测对象类型: 脱贫不稳定户, 边缘易致贫户, 突发严重困难户) is one of its
three codes wherever it is entered, as the housing grade is: read from the code or a label in either
language as cadres write it, stored as its code, and a value none reads refused at entry naming the
types in the reader's language, never accepted to fail the monitoring's first step later. A type
stored before (the record is append-only) still reads; one that names no type is refused by the
step naming the types."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import update

from config import load_config
from engine.adapters import tables as t
from engine.domain.errors import RuleViolation
from engine.domain.evidence import content_hash
from engine.reads.case_record import case_detail
from engine.services.case_actions import attach_evidence
from tests.test_cli import home, template  # noqa: F401  (fixtures)
from tests.test_household_life import consolidated, monitoring_steps
from tests.test_housing_grade import stored_field
from workflows.household_codes import MONITORING_TYPES

TYPES_ZH = "脱贫不稳定户、边缘易致贫户、突发严重困难户"
TYPES_EN = "unstable exited household, edge household at risk, household in sudden severe hardship"


def _types(home, cases) -> dict[int, str]:  # noqa: F811
    return stored_field(home, cases, "monitoring_clue", "monitoring_type")


def _clues(path, rows) -> str:
    path.write_text("案件编号,来源,线索日期,监测对象类型\n" + "".join(f"{c},走访排查,2019-03-01,{kind}\n" for c, kind in rows),
                    encoding="utf-8")
    return str(path)


def test_a_type_is_read_as_cadres_write_it_and_stored_as_its_code(home, tmp_path):  # noqa: F811
    cases = [home.register(seed=60 + i, evidence=False) for i in range(6)]
    written = ["边缘易致贫户", "edge", "Edge household at risk", " 突发严重困难户 ", "ｕｎｓｔａｂｌｅ", "脱贫不稳定户"]
    result = home("vs", "evidence", "import", _clues(tmp_path / "线索.csv", zip(cases, written)), "--type", "风险线索记录")
    assert result.code == 0, result.err
    assert _types(home, cases) == {**{c: "edge" for c in cases[:3]}, cases[3]: "sudden_hardship",
                                   cases[4]: "unstable", cases[5]: "unstable"}
    other = home.register(seed=70, evidence=False)
    home.ok("vs", "evidence", "add", other, "monitoring_clue", "--field", "source=走访排查", "--field",
            "clue_date=2019-03-01", "--field", "monitoring_type=突发严重困难户")
    assert _types(home, [other]) == {other: "sudden_hardship"}
    assert "监测对象类型：突发严重困难户" in home.ok("insp", "case", "show", other).out
    assert "monitoring type: household in sudden severe hardship" in home("insp", "case", "show", other, lang="en").out


def test_a_type_none_reads_is_refused_at_entry_naming_the_types(home, tmp_path):  # noqa: F811
    cases = [home.register(seed=80 + i, evidence=False) for i in range(3)]
    sheet = _clues(tmp_path / "线索.csv", [(cases[0], "边缘易致贫户"), (cases[1], "因病致贫风险"), (cases[2], "低保户")])
    before = home.snapshot()
    result = home("vs", "evidence", "import", sheet, "--type", "风险线索记录")
    assert result.code == 2 and "Traceback" not in result.err
    assert (f"第 3 行，监测对象类型：材料 风险线索记录 的字段 监测对象类型 应为 {TYPES_ZH} 之一，收到 因病致贫风险"
            in result.err), result.err
    assert "第 4 行，监测对象类型：" in result.err and "收到 低保户" in result.err
    assert "没有导入任何内容" in result.err and home.snapshot() == before        # all or none
    english = home("vs", "evidence", "import", sheet, "--type", "monitoring_clue", lang="en")
    assert "line 3, monitoring type: " in english.err and TYPES_EN in english.err, english.err
    added = home("vs", "evidence", "add", cases[0], "monitoring_clue", "--field", "source=走访排查", "--field",
                 "clue_date=2019-03-01", "--field", "monitoring_type=因病致贫风险")
    assert added.code == 2 and TYPES_ZH in added.err and "Traceback" not in added.err
    assert home.snapshot() == before


def _clue_stored_as(world, case: int, kind: str) -> None:
    """The household's risk clue as an earlier version stored it, the type as it was typed."""
    attach_evidence(world.app, world["pc1"], case, "monitoring_clue",
                    {"source": "走访排查", "clue_date": "2020-03-30", "monitoring_type": "edge"})
    fields = {"source": "走访排查", "clue_date": "2020-03-30", "monitoring_type": kind}
    with world.app.engine.begin() as conn:      # its hash as then, or a later step would find it tampered with
        conn.execute(update(t.evidence).where(t.evidence.c.case_id == case, t.evidence.c.type == "monitoring_clue",
                                              t.evidence.c.superseded_by.is_(None)).values(
            fields=fields, content_hash=content_hash("monitoring_clue", fields, None)))


def test_a_type_stored_as_written_before_still_reads_when_monitoring_starts(world, tmp_path):
    case = consolidated(world, tmp_path)
    world.on(date(2020, 4, 1))
    _clue_stored_as(world, case, "突发严重困难户")
    monitoring_steps(world, case)
    assert case_detail(world.app, world["insp"], case)["attrs"]["monitoring"] == {
        "type": "sudden_hardship", "since": "2020-04-06"}


def test_a_stored_type_that_names_none_is_refused_naming_the_types(world, tmp_path):
    case = consolidated(world, tmp_path)
    world.on(date(2020, 4, 1))
    _clue_stored_as(world, case, "因病致贫风险")
    with pytest.raises(RuleViolation) as refused:
        world.step("pc1", "monitoring", "clue", case)
    said = refused.value.render(world.app.config, "zh")
    assert f"监测对象类型「因病致贫风险」无效，应为 {TYPES_ZH} 之一" in said and "sudden_hardship" not in said
    assert TYPES_EN in refused.value.render(world.app.config, "en")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_types_of_the_configuration_are_the_monitorings_and_each_has_a_label(lang):
    config = load_config()
    assert config.workflows["household"].evidence_types["monitoring_clue"].codes["monitoring_type"] == \
        tuple(MONITORING_TYPES)
    assert all(config.labels[f"field.monitoring_type.{c}"][lang] for c in MONITORING_TYPES)
