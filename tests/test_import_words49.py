"""What a village's cadre importing the national list is told (auditor a4, finding 7): the stage their
file gives is refused on its own cell, the column named as the file names it (户状态, not a 「阶段」
the file lacks) and the village by its name beside its code."""
from __future__ import annotations

import sqlite3

from tests.test_cli import home, template  # noqa: F401  (fixtures)
from tests.test_registry_import import number, write
from tests.world import VILLAGE


def test_a_village_cadre_is_told_of_the_files_own_stage_column_and_the_village_by_name(home, tmp_path):  # noqa: F811
    rows = [(VILLAGE, "VIL000", "户主甲", number(1), "户主", "因病", "未脱贫")]
    refused = home("vs", "household", "import", write(tmp_path / "村.csv", rows))
    assert refused.code == 2
    with sqlite3.connect(home.db) as conn:
        name = conn.execute("SELECT name FROM regions WHERE code = ?", (VILLAGE,)).fetchone()[0]
    said = next(line for line in refused.err.splitlines() if line.startswith("第 2 行"))
    assert said.startswith("第 2 行，户状态：按「未脱贫」直接建档"), said
    assert "阶段" not in said.split("：", 1)[1].replace("「申请中」", ""), said      # no column the file lacks
    assert f"{name}（{VILLAGE}）" in said and "请删去这一列或清空其内容后重新导入" in said, said
    english = home("vs", "household", "import", write(tmp_path / "村.csv", rows), lang="en").err
    assert 'starting a household as "未脱贫"' in english and f"{name} ({VILLAGE})" in english, english
    assert home.count("cases") == 0


def test_a_scientific_number_skipped_on_the_command_line_is_told_as_written_to_the_bad_rows_file(home, tmp_path):  # noqa: F811
    rows = [(VILLAGE, "3.6073E+17", "户主甲", number(3), "户主", "因病", ""),
            (VILLAGE, "VIL004", "户主乙", number(4), "户主", "因病", "")]
    path = write(tmp_path / "村.csv", rows)
    skipped = home("vs", "household", "import", path, "--skip-bad", str(tmp_path / "错误行.xlsx"))
    assert skipped.code == 0, skipped.err
    said = next(line for line in skipped.err.splitlines() if line.startswith("第 2 行，户编号"))
    assert "这一行已另存到错误行文件" in said and "--skip-bad" not in said, said
    refused = home("vs", "household", "import", path)         # not skipping: the advice to skip, as before
    assert refused.code == 2 and "--skip-bad" in refused.err
