"""A home's installed configuration (`config install` copies the folder, its catalogue with it) from before
a release: the texts the release added were not in its copy, and pages showed their keys raw ("heading",
"due", "owner", "application_form" on the case page of a home upgraded in stop 52). The packaged texts now
fill what the installed catalogue lacks; the installed words still win where it has them."""
from __future__ import annotations

import shutil
from pathlib import Path

from config import CONFIG_DIR, load_config


def _installed_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "installed"
    shutil.copytree(CONFIG_DIR, folder, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    for lang in ("zh_CN", "en"):            # a release later than the copy added this file's texts
        (folder / "locale" / lang / "LC_MESSAGES" / "s52.po").unlink()
    return folder


def test_texts_a_later_release_added_are_the_packaged_ones_and_the_installed_words_win(tmp_path):
    folder = _installed_copy(tmp_path)
    po = folder / "locale" / "zh_CN" / "LC_MESSAGES" / "labels.po"
    text = po.read_text(encoding="utf-8")
    assert 'msgid "notice.title"\nmsgstr "公示"' in text
    po.write_text(text.replace('msgid "notice.title"\nmsgstr "公示"', 'msgid "notice.title"\nmsgstr "公示公告"'),
                  encoding="utf-8")
    labels = load_config(folder).labels
    assert labels["outbox.kind.alerts"] == {"zh": "期限提醒汇总", "en": "summary of alerts"}     # not in the copy
    assert labels["notice.title"]["zh"] == "公示公告"          # the county's own word, kept
    assert labels["notice.title"]["en"] == load_config(CONFIG_DIR).labels["notice.title"]["en"]
