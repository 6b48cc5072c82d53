"""`config install` of a damaged configuration (fuzz audit ux5, items 3 and 13).

A policy.yaml cut short in a copy is valid YAML that lacks its end: it was put in force (exit 0),
Jiangxi's income lines, the inspection thresholds and the assessment weights replaced by defaults. It is
now refused, naming in words each thing it would drop, and nothing is installed; dropping on purpose
takes --drop-missing and is recorded in the install's event; what an install changes is said, and
`config check --dir` says it before. A file the parser cannot read is named with its line and what to
do, in the reader's language: no longer the parser's English ("Field required", "unacceptable
character #x00a1", "Input should be a valid dictionary")."""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import select

from config import CONFIG_DIR, ConfigError, load_config
from engine.adapters import tables as t
from engine.domain.errors import BadInput
from engine.services.setup import install_config
from tests.test_cli import jingzhun
from tests.test_cli import home, template  # noqa: F401  (fixtures)


def _copy(tmp_path: Path, name: str = "config") -> Path:
    target = tmp_path / name
    shutil.copytree(CONFIG_DIR, target, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    return target


def _cut_in_half(folder: Path) -> Path:
    """policy.yaml as a broken copy leaves it: its first half, to the end of the line the half falls in (a
    cut inside a line, which made the file no YAML at all, depended on how long the policy happened to be:
    a refusal as unreadable, not the one this file tests)."""
    policy = folder / "policy.yaml"
    raw = policy.read_bytes()
    # cut at a line's end within the first province, before its income lines (where the half fell until the
    # defaults grew past it: a cut before the provinces lacks a key every policy has, refused as such)
    policy.write_bytes(raw[: raw.index(b"    income_line:", raw.index(b"\nprovinces:"))])
    return folder


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _install(home, folder: Path, *extra: str, lang: str | None = None):
    return home("admin", "config", "install", str(folder), *extra, lang=lang)


def _line(home, province: str = "36", year: str = "2019") -> dict:
    return home.ok("admin", "config", "show", "--province", province, "--year", year, "--json").json()


def _installed_events(home) -> list[dict]:
    with sqlite3.connect(home.db) as db:
        return [json.loads(r[0]) for r in
                db.execute("SELECT detail FROM audit_events WHERE action = 'config_installed' ORDER BY seq")]


# --- 3. a file cut short ---------------------------------------------------------------------

def test_a_policy_cut_in_half_is_refused_naming_what_it_would_drop_and_nothing_is_installed(home, tmp_path):
    folder = _cut_in_half(_copy(tmp_path))
    before, line = home.snapshot(), _line(home)
    refused = _install(home, folder)
    assert refused.code == 2 and refused.out == "", refused.out
    said = refused.err
    assert said.startswith(f"错误 [config.drops]：{folder} 缺少现行规则中的 15 项，安装它就会删去它们："), said
    for part in ("江西（36）的各年收入线", "省份 陕西（61）", "省份 新疆（65）", "核查线索的阈值和权重（`inspection`）",
                 "考核的权重和计划（`assessment`）"):
        assert part in said
    assert "可能没有复制完整" in said and "--drop-missing" in said and "Traceback" not in said
    # nothing installed: the same rules, Jiangxi's own line, no event, no installed folder
    assert home.snapshot() == before and _line(home) == line
    assert (line["income_line"], line["income_line_source"]) == (3747, "province:36:江西:2019")
    assert _installed_events(home) == [] and not (home.path / "config").exists()
    assert [p.name for p in home.path.iterdir() if p.name.startswith("config.")] == []
    english = _install(home, folder, lang="en")
    assert english.code == 2 and "lacks 15 things the rules in force have" in english.err
    assert "the income lines of 江西 (36)" in english.err and "(`inspection`)" in english.err


def test_dropping_on_purpose_takes_drop_missing_and_is_recorded_in_the_installs_event(home, tmp_path):
    folder = _copy(tmp_path)
    _edit(folder / "policy.yaml", '  "64": {name: 宁夏, west: true}\n', "")
    _edit(folder / "policy.yaml", "2016: 3146, ", "")
    refused = _install(home, folder)
    assert refused.code == 2 and "缺少现行规则中的 2 项" in refused.err
    assert "江西（36）2016 年的收入线" in refused.err and "省份 宁夏（64）" in refused.err
    done = _install(home, folder, "--drop-missing")
    assert done.code == 0, done.err
    assert "删去 省份 宁夏（64）\n" in done.out and "删去 江西（36）2016 年的收入线（原为 3146）" in done.out
    [event] = _installed_events(home)
    assert event["dropped"] == ["policy.yaml:provinces.36.income_line.2016", "policy.yaml:provinces.64"]
    assert event["source"] == str(folder) and event["version"] != event["previous"]


def test_config_check_says_before_what_installing_changes_and_the_install_says_it_again(home, tmp_path):
    folder = _copy(tmp_path)
    _edit(folder / "policy.yaml", "2019: 3747}", "2019: 3800, 2020: 4100}")
    _edit(folder / "policy.yaml", "household_identification: 7", "household_identification: 10")
    _edit(folder / "policy.yaml", "relative_signed: 10", "relative_signed: 12")
    checked = jingzhun(["--home", home.path, "config", "check", "--dir", folder], reload_config=True)
    assert checked.code == 0, checked.err
    lines = ["  改动 policy.yaml 中的 `defaults.notice_days.household_identification`：7 → 10",
             "  改动 江西（36）2019 年的收入线：3747 → 3800",
             "  新增 江西（36）2020 年的收入线：4100",
             "  改动 policy.yaml 中的 `inspection.weights.relative_signed`：10 → 12"]
    assert checked.out.splitlines()[1:] == [checked.out.splitlines()[1]] + lines, checked.out
    assert "安装它将改动 4 处" in checked.out and _installed_events(home) == []     # a check installs nothing
    done = _install(home, folder)
    assert done.code == 0, done.err
    assert done.out.splitlines()[1].startswith("与此前的规则 2020.1#") and done.out.splitlines()[2:-1] == lines
    assert done.out.splitlines()[-1] == "正在运行的服务器（`jingzhun serve`）从下一个请求起按这些规则判定，无需重启。"
    english = jingzhun(["--home", home.path, "--lang", "en", "config", "check", "--dir", _copy(tmp_path, "again")],
                       reload_config=True)
    assert "  changed the income line of 江西 (36) for 2019: 3800 → 3747" in english.out.splitlines(), english.out
    again = _install(home, folder)
    assert again.code == 0 and again.out.splitlines()[1].startswith("各项取值与规则 2020.1#"), again.out


def test_config_check_warns_of_what_a_cut_file_would_drop(home, tmp_path):
    folder = _cut_in_half(_copy(tmp_path))
    checked = jingzhun(["--home", home.path, "config", "check", "--dir", folder], reload_config=True)
    assert checked.code == 0, checked.err
    assert "  删去 核查线索的阈值和权重（`inspection`）" in checked.out.splitlines()
    assert "警告：它缺少现行规则中有的内容" in checked.err and "--drop-missing" in checked.err


def test_the_service_refuses_what_would_drop_and_writes_nothing_on_either_database(world, tmp_path):
    folder = _cut_in_half(_copy(tmp_path))
    with world.app.engine.connect() as conn:
        events = conn.execute(select(t.audit_events.c.seq)).all()
    with pytest.raises(BadInput) as refused:
        install_config(world.app, world["admin"], folder)
    assert refused.value.code == "config.drops" and refused.value.params["count"] == 15
    with world.app.engine.connect() as conn:
        assert conn.execute(select(t.audit_events.c.seq)).all() == events
    installed = install_config(world.app, world["admin"], folder, drop_missing=True)
    assert "policy.yaml:inspection" in [c.where for c in installed.changes if c.kind == "dropped"]
    with world.app.engine.connect() as conn:
        detail = conn.execute(select(t.audit_events.c.detail).where(t.audit_events.c.action == "config_installed")
                              ).scalar_one()
    detail = json.loads(detail) if isinstance(detail, str) else detail
    assert "policy.yaml:provinces.36.income_line" in detail["dropped"]


# --- 13. the parser's problems in the reader's words ------------------------------------------------

def _spoil(folder: Path, name: str, how) -> Path:
    path = folder / name
    if callable(how):
        path.write_bytes(how(path.read_bytes()))
    else:
        path.unlink()
        os.symlink(how, path)
    return path


POLICY_LINES = (CONFIG_DIR / "policy.yaml").read_text(encoding="utf-8").splitlines()
TAB_LINE = POLICY_LINES.index("  2013: 2736") + 1
WEIGHTS_LINE = next(i for i, line in enumerate(POLICY_LINES, 1) if line.startswith("  weights: {exit_progress"))


@pytest.mark.parametrize("name, how, zh, en", [
    ("roles.yaml", lambda b: b.decode("utf-8").encode("gbk", "replace"),
     "第 1 行不是 UTF-8 编码的文字（可能是 GBK）：请在编辑器中以 UTF-8 编码另存此文件",
     "line 1 is not UTF-8 text (GBK, perhaps): save the file again as UTF-8 in your editor"),
    ("roles.yaml", lambda b: b[:200] + b"\x00\x00" + b[200:],
     "第 3 行有不可见的控制字符（NUL）：请删去它；如果文件是传送来的，可能已经损坏，请重新取得",
     "line 3 holds an invisible control character (NUL)"),
    ("deadlines.yaml", lambda b: b"\x89PNG\r\n\x1a\n" + b"\0" * 50,
     "不是文字文件（从开头看是 PNG 文件）：请放入 YAML 配置文件本身", "its first bytes are those of a PNG file"),
    ("policy.yaml", lambda b: b"!!python/object/apply:os.system ['touch /tmp/x']\n",
     "第 1 行有标签 `!!python/object/apply:os.system`：配置文件只能写普通的值，请删去这个标签",
     "line 1 holds the tag `!!python/object/apply:os.system`: a configuration file holds plain values only"),
    ("policy.yaml", lambda b: b.replace(b"\n  2013", b"\n\t2013", 1),
     f"第 {TAB_LINE} 行第 1 列有制表符：YAML 只能用空格缩进，请把它换成空格",
     f"line {TAB_LINE}, column 1 holds a tab: YAML indents with spaces only"),
    ("policy.yaml", lambda b: b"",
     "文件是空的：请放入完整的配置文件", "the file is empty"),
    ("policy.yaml", "/etc/passwd",
     "它是指向 /etc/passwd 的链接，那里的内容不是「键: 值」形式的配置：请放入这个配置文件本身，而不是链接",
     "is a link to /etc/passwd"),
    ("policy.yaml", lambda b: b[: b.index(b"{exit_progress") + 18],
     f"第 {WEIGHTS_LINE} 行开始的 `{{` 直到文件末尾（第 {WEIGHTS_LINE} 行）也没有闭合：请补上 `}}`；如果文件是复制来的，可能没有复制完整",
     f"the `{{` opened at line {WEIGHTS_LINE} is still open at the end of the file (line {WEIGHTS_LINE}): add the `}}`"),
    ("policy.yaml", lambda b: b[: b.index(b"{exit_progress") + 20],
     f"文件在第 {WEIGHTS_LINE} 行意外结束，最后的内容没有写完：可能没有复制完整，请重新取得完整的文件",
     f"the file ends unexpectedly at line {WEIGHTS_LINE}"),
    ("policy.yaml", lambda b: b"a: &a [x, x]\nb: [*a, *a]\n",
     "键 version：缺少此键：请补上；如果文件是复制来的，可能没有复制完整（另有 5 处问题）",
     "key version: this key is missing: add it; if the file was copied, it may have been copied only in part "
     "(and 5 more problems)"),
    ("roles.yaml", lambda b: b.replace(b"level: village,  zh: \xe6\x9d\x91\xe5\x85\x9a", b"level: hamlet,  zh: \xe6\x9d\x91\xe5\x85\x9a"),
     "键 roles.village_secretary.level：应为 village, township, county, city, province 之一，实为 'hamlet'",
     "must be one of village, township, county, city, province, got 'hamlet'"),
    ("roles.yaml", lambda b: b.replace(b"zh: \xe6\x9d\x91\xe5\x85\x9a", b"zn: \xe6\x9d\x91\xe5\x85\x9a", 1),
     "键 roles.village_secretary.zn：没有这个键：是不是要写 `zh`？请改正拼写",
     "key roles.village_secretary.zn: there is no such key: did you mean `zh`? Correct its spelling"),
    ("policy.yaml", lambda b: b.replace(b"2015: 2968", b"2015: lots", 1),
     "键 provinces.36.income_line.2015：应为数，实为 'lots'", "must be a number, got 'lots'"),
    ("policy.yaml", lambda b: b.replace(b"  2013: 2736", b"  twenty13: 2736", 1),
     "键 national_income_line.twenty13：键名应为整数（如年份 2019），实为 'twenty13'",
     "the key must be a whole number (a year such as 2019), got 'twenty13'"),
], ids=["gbk", "nul", "png", "python-tag", "tab", "empty", "symlink", "unclosed-brace", "cut-after-a-comma",
        "not-a-policy",
        "unknown-level", "misspelt-key", "text-for-a-number", "text-for-a-year"])
def test_a_damaged_file_is_named_with_where_what_and_how_to_fix_in_either_language(tmp_path, name, how, zh, en):
    path = _spoil(_copy(tmp_path), name, how)
    with pytest.raises(ConfigError) as bad:
        load_config(path.parent)
    said, english = str(bad.value), bad.value.render(lang="en")
    assert said.startswith(f"配置文件 {path}") and zh in said, said
    assert str(path) in english and en in english, english
    for parser_words in ("Input should", "Field required", "Extra inputs", "unacceptable character", "found character",
                         "constructor", "while ", "position", "<byte string>", "dictionary"):
        assert parser_words not in said and parser_words not in english


def test_config_install_of_a_file_the_parser_refuses_says_it_in_chinese_and_installs_nothing(home, tmp_path):
    path = _spoil(_copy(tmp_path), "roles.yaml", lambda b: b.decode("utf-8").encode("gbk", "replace"))
    before = home.snapshot()
    refused = _install(home, path.parent)
    assert refused.code == 2
    assert refused.err.strip() == f"配置错误：配置文件 {path}：第 1 行不是 UTF-8 编码的文字（可能是 GBK）：请在编辑器中以 UTF-8 编码另存此文件"
    assert home.snapshot() == before and not (home.path / "config").exists()
