"""The CLI's help is in the reader's language (Chinese by default, English with --lang en or
JINGZHUN_LANG=en), every text from the catalogue, Chinese wrapped to the terminal by its width."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from entrypoints.cli import helptext
from entrypoints.cli.helptext import every_command, read_po, texts, texts_needed, width, wrap
from entrypoints.cli.main import cli

ROOT = Path(__file__).resolve().parents[1]


def jingzhun(*argv: str, lang_env: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JINGZHUN_")}
    env["COLUMNS"] = "80"
    if lang_env:
        env["JINGZHUN_LANG"] = lang_env
    return subprocess.run([sys.executable, "-c", "import sys; from cli import main; sys.exit(main(sys.argv[1:]))",
                           *argv], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def test_every_command_reads_its_help_from_the_catalogue_and_none_carries_its_own():
    for path, command in every_command(cli):
        assert isinstance(command, helptext.Command), path
        assert command.help is None and command.short_help is None, path
        own = [p.name for p in command.params if getattr(p, "help", None) and p.name != "version"]   # click's
        assert own == [], (path, own)


def test_every_help_text_is_there_in_both_languages_and_none_is_left_over():
    needed = set(texts_needed(cli))
    for lang in ("zh", "en"):
        assert sorted(needed - set(texts(lang))) == [], lang
        assert all(texts(lang)[k].strip() for k in needed)
    words = {k for k in texts("en") if k.startswith("help.word.")}
    assert sorted(set(texts("en")) - needed - words) == []
    assert set(texts("zh")) == set(texts("en"))


def test_the_help_reader_reads_the_catalogue_as_babel_does():
    """help is read without Babel (start-up); it must find what the catalogue's loader finds."""
    from babel.messages.pofile import read_po as babel_read
    files = sorted((ROOT / "config" / "locale").glob("*/LC_MESSAGES/*.po"))
    assert len(files) > 40
    for path in files:
        with open(path, "rb") as fh:
            expected = {m.id: m.string for m in babel_read(fh) if m.id}
        assert read_po(path) == expected, path


def test_help_is_chinese_by_default_and_english_when_asked():
    zh = jingzhun("--help")
    assert zh.returncode == 0, zh.stderr
    assert zh.stdout.startswith("用法：jingzhun") and "选项：" in zh.stdout and "命令：" in zh.stdout
    household_line = next(line for line in zh.stdout.splitlines() if line.strip().startswith("household "))
    assert household_line.split(None, 1)[1].strip() in texts("zh")["help.cmd.household"]
    assert "Show this message" not in zh.stdout and "Usage" not in zh.stdout
    for english in (jingzhun("--lang", "en", "--help"), jingzhun("--help", "--lang=en"),
                    jingzhun("--help", lang_env="en")):
        assert english.returncode == 0
        assert english.stdout.startswith("Usage: jingzhun") and "Options:" in english.stdout
        assert "Show this message and exit." in english.stdout and "用法" not in english.stdout


def test_a_command_s_own_lang_option_is_not_the_reader_s_language():
    """`report --lang en` is the language of the files it writes: its help stays in the reader's."""
    assert jingzhun("report", "--lang", "en", "--help").stdout.startswith("用法：")
    assert jingzhun("--lang", "en", "report", "--help").stdout.startswith("Usage:")


def test_a_client_leaves_a_rule_it_does_not_know_to_the_server():
    """The server's home may hold rules of its own (config install): a client, which knows the packaged
    ones only, refused them before asking the server."""
    done = jingzhun("--server", "http://127.0.0.1:9", "--as", "x", "deadline", "list", "--rule", "my_own_rule")
    assert "input.unknown_code" not in done.stderr and done.returncode != 0      # (no server there)


def test_a_command_s_help_gives_its_options_in_chinese():
    done = jingzhun("household", "import", "--help")
    assert done.returncode == 0, done.stderr
    said = done.stdout
    assert said.startswith("用法：jingzhun household import [OPTIONS] FILE")
    for option in ("--village", "--skip-bad", "--to-confirm", "-h, --help"):
        assert option in said
    flat = "".join(said.split())
    assert "".join(texts("zh")["help.opt.household.import.skip_bad"].split()) in flat
    assert "".join(texts("zh")["help.opt.help"].split()) in flat
    required = jingzhun("accountability", "record", "--help").stdout
    assert "[必填]" in required and "[required]" not in required
    default = jingzhun("--help").stdout
    assert "默认：zh]" in default and "[环境变量：JINGZHUN_LANG；默认：zh]" in default


def test_chinese_help_fits_an_80_column_terminal():
    """Every line of every command's Chinese help fits 80 columns, a Chinese character taking two
    (click counts characters: unwrapped, its Chinese lines ran to twice the width)."""
    from entrypoints.cli.main import main
    import contextlib
    import io
    too_wide = {}
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "80"
    try:
        for path, _command in every_command(cli):
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                assert main([*path, "--help"]) == 0
            wide = [line for line in out.getvalue().splitlines()      # but a word no line could hold
                    if width(line) > 80 and width(line.split()[-1]) < 40]
            if wide:
                too_wide[" ".join(path)] = wide
    finally:
        if old is None:
            os.environ.pop("COLUMNS")
        else:
            os.environ["COLUMNS"] = old
    assert too_wide == {}


def test_a_command_s_line_in_its_group_is_its_first_sentence():
    line = helptext.first_sentence("登记贫困户。其余说明。", 40, "zh")
    assert line == "登记贫困户"
    cut = helptext.first_sentence("很" * 50 + "。", 20, "zh")
    assert width(cut) <= 20 and cut.endswith("…")


CHINESE = st.text(alphabet=st.sampled_from("户籍人口登记脱贫，。、：（）「」"), min_size=1, max_size=12)
LATIN = st.from_regex(r"--[a-z]{1,12}(-[a-z]{1,8})?|[a-z_]{1,10}\.(csv|xlsx)|[A-Za-z]{1,15}", fullmatch=True)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(CHINESE, LATIN), min_size=1, max_size=40), st.integers(20, 100))
def test_wrapping_keeps_every_character_in_order_breaks_no_latin_word_and_fits(pieces, columns):
    text = " ".join(pieces)
    lines = wrap(text, columns, "  ", "  ")
    assert "".join("".join(line.split()) for line in lines) == "".join(text.split())
    latin = [p for p in pieces if p.isascii()]
    words_seen = " ".join(lines).split()
    for word in latin:       # a Latin word is never cut across lines
        assert any(word in seen for seen in words_seen)
    pieces_of_text = set(helptext.tokens(" ".join(text.split())))
    for line in lines:       # wider only when one piece alone is wider than the line
        assert width(line) <= columns or line.strip() in pieces_of_text


def test_the_help_option_is_localised_on_every_command():
    zh = texts("zh")["help.opt.help"]
    for path, command in every_command(cli):
        help_option = command.get_help_option(click.Context(command))
        assert helptext.option_name(help_option) == "help"
    assert zh and "Show" not in zh


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_help_through_a_server_is_given_by_the_client_without_asking_the_server(lang):
    """`--server URL … --help` is told at once, in the reader's language, with nothing listening."""
    done = jingzhun("--lang", lang, "--server", "http://127.0.0.1:9", "case", "list", "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("用法：" if lang == "zh" else "Usage:")
