"""Words that held for households only, now that village and project sheets are imported and their
blank sheets downloaded too: `evidence template --help` says `--village` takes a township for a fund
project's evidence (a township's own projects); the import page's replace box and its reason speak of
any case a sheet names, and every refusal that tells the reader to tick the box quotes it as it reads.
Both languages. Before: "village code or name" and "替换各户现有的这类材料" / "recorded for each household"."""
from __future__ import annotations

import re

from tests.test_cli_help import jingzhun


def test_evidence_template_help_says_a_township_for_a_projects_sheet():
    zh = jingzhun("evidence", "template", "--help")
    en = jingzhun("--lang", "en", "evidence", "template", "--help")
    assert zh.returncode == en.returncode == 0, zh.stderr + en.stderr
    said_zh, said_en = re.sub(r"\s+", "", zh.stdout), re.sub(r"\s+", " ", en.stdout)
    assert "村的区域代码或名称；扶贫项目的材料也可给出乡镇（列出建在乡镇本级的项目）" in said_zh, zh.stdout
    assert "下载一个村（扶贫项目的材料也可给出乡镇）某类材料的空白表" in said_zh, zh.stdout
    assert "for a fund project's evidence, a township too (its projects sited at the township itself)" in said_en
    importing = re.sub(r"\s+", "", jingzhun("evidence", "import", "--help").stdout)
    assert "下载该村（扶贫项目的材料也可给出乡镇）的空白表" in importing and "本村" not in importing


def test_the_replace_box_and_the_refusals_quoting_it_speak_of_any_case(world, world_clients):
    page, _api = world_clients
    cadre = page("vs")
    boxes = {}
    for lang, box, reason, households in (("zh", "替换现有的这类材料", "记入表中每一个案件的记录", "各户现有"),
                                          ("en", "Replace the current item of this type",
                                           "recorded for each case the sheet names", "household's current")):
        cadre.cookies.set("lang", lang)
        shown = cadre.get("/imports").text
        label = re.search(r'name="replace" value="1"> (.*?)</label>', shown, re.S).group(1)
        assert label.startswith(box) and households not in label, label          # before: 替换各户现有的…
        assert reason in shown and households not in shown
        boxes[lang] = box
    labels = world.app.config.labels
    quoting = [key for key, said in labels.items() if key.startswith("msg.") and any(
        box in (said.get("zh" if lang == "zh" else "en") or "") for lang, box in boxes.items())]
    assert {"msg.sheets.has_evidence@page", "msg.sheets.has_year@page", "msg.sheets.nothing_to_replace@page",
            "msg.sheets.has_evidence_case@page", "msg.sheets.has_year_case@page", "msg.import.web_no_reason",
            "msg.import.web_reason_without_replace"} <= set(quoting), quoting
    for key in quoting:                             # each quotes the box as it reads, in both languages
        assert f"「{boxes['zh']}」" in labels[key]["zh"] and f'"{boxes["en"]}"' in labels[key]["en"], key
        assert "同样适用" not in labels[key]["zh"] and "cases too" not in labels[key]["en"], key
