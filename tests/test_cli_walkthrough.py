"""The README's walk-through ("One household's life"), run command by command in Chinese (the
default): every command does what the README says, and no English word reaches the cadre's screen
except codes, IDs, hashes and names."""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from demo.scans import write_scan
from tests.test_cli import Result, jingzhun

README = Path(__file__).resolve().parents[1] / "README.md"
# Words allowed in Chinese output: codes and names a person types or reads as codes.
CODES = {"admin", "insp", "vs", "vd", "fs", "tl", "tm", "ts1", "ts2", "ts3", "ts4", "th", "cd", "cs", "ch", "pc",
         "csec", "tsec", "cl", "do", "sqlite", "sha256", "txt", "csv", "xlsx", "html", "walk", "tmp", "pytest", "root",
         "home", "confirmation", "dossier", "jingzhun", "tokens", "codes", "regions", "people",
         # evidence field names (the evidence type's own keys, shown as NAME=VALUE)
         "applicant", "applied_on", "year", "net_income", "food", "clothing", "grade", "safe", "signed_on", "yes",
         # procedure codes in audit verify's JSON and step keys on the command line
         "head", "spouse", "child", "none"}
WORD = re.compile(r"[A-Za-z]{3,}")


def walkthrough() -> list[str]:
    """The shell lines of the README's first walk-through block and its refusals block."""
    text = README.read_text(encoding="utf-8")
    start = text.index("## One household's life")
    blocks = re.findall(r"```sh\n(.*?)```", text[start:text.index("## A fund project's life")], re.S)
    return "\n".join(blocks).replace("\\\n", " ").splitlines()


class Shell:
    """Just enough of a shell for the README: heredocs, `echo > file`, `as WHO ...` and `jingzhun ...`."""

    def __init__(self, folder: Path):
        self.folder, self.home, self.tokens = folder, folder / "walk", {}
        self.outputs: list[tuple[str, Result]] = []

    def run(self, lines: list[str]) -> None:
        lines = iter(lines)
        for line in lines:
            if "<<'CSV'" in line:
                self.heredoc(line, lines)
            elif line.startswith("tail -n +2 codes.csv | while IFS=, read who name code use"):
                self.activate_each(line)
            elif line.startswith(("as ", "jingzhun ", "export JINGZHUN_TOKEN", "echo ", "python -m demo.scans ")):
                self.command(line)

    def heredoc(self, line: str, lines) -> None:
        name = line.split(">")[1].split("<<")[0].strip()
        body = []
        for row in lines:
            if row.strip() == "CSV":
                break
            body.append(row)
        (self.folder / name).write_text("\n".join(body) + "\n", encoding="utf-8")

    def command(self, line: str) -> None:
        words = shlex.split(line, comments=True)
        if words[0] == "echo":
            (self.folder / words[3]).write_text(words[1] + "\n", encoding="utf-8")
        elif words[0] == "python":                     # python -m demo.scans FILE LINE...: a scan to attach
            write_scan(self.folder / words[3], *words[4:])
        elif words[0] == "export":
            self.tokens["admin"] = self.jingzhun(None, ["init"]).last_line()
        elif words[0] == "as":
            self.jingzhun(words[1], words[2:])
        else:
            self.jingzhun(words[2], words[3:])

    def jingzhun(self, who: str | None, args: list[str]) -> Result:
        args = [self.head() if "$(jingzhun" in a else a for a in args]
        args = [str(self.folder / a) if a.endswith((".csv", ".txt", ".html", ".pdf", ".xlsx")) else a for a in args]
        argv = ["--home", self.home] + (["--as", who] if who else []) + args
        result = jingzhun(argv, self.token(who))
        self.outputs.append((" ".join(map(str, argv[2:])), result))
        return result

    def activate_each(self, line: str) -> None:
        """`tail -n +2 codes.csv | while IFS=, read who name code use; do … activate "$code" …; done > tokens.csv`."""
        assert "activate" in line and "codes.csv" in line and "tokens.csv" in line and "tail -n +2" in line
        for row in (self.folder / "codes.csv").read_text(encoding="utf-8-sig").splitlines()[1:]:
            who, _name, code, _use = row.split(",", 3)
            self.tokens[who] = self.jingzhun(who, ["activate", code]).last_line()

    def token(self, who: str | None) -> str | None:
        return self.tokens.get(who or "", None)

    def head(self) -> str:
        return self.jingzhun("admin", ["audit", "head"]).last_line()


def english_words(text: str) -> set[str]:
    text = re.sub(r"\b[0-9a-f]{12,128}\b", "", text)             # hashes, keys and signatures
    text = re.sub(r"/\S+", "", text)                              # paths
    text = re.sub(r"\[[a-z_.]+\]", "", text)                      # rule codes: refused [notice.short]
    text = re.sub(r"「[^」]*」", "", text)                          # literal input to type: 「--void-signoffs」
    return {w for w in WORD.findall(text)} - CODES


@pytest.fixture(scope="module")
def walked(tmp_path_factory):
    shell = Shell(tmp_path_factory.mktemp("walk"))
    shell.run(walkthrough())
    return shell


def test_every_command_of_the_walkthrough_does_what_the_readme_says(walked):
    refusals = {line.split("refused [")[1].split("]")[0] for line in walkthrough() if "# refused [" in line}
    refused = set()
    for command, result in walked.outputs:
        assert result.code in (0, 1), f"{command}: {result.err}"
        if result.code == 1:
            refused.add(result.err.split("[")[1].split("]")[0])
    assert refused == refusals
    assert any("巩固期(过渡期)" in r.out for _, r in walked.outputs)


def test_the_walkthrough_in_chinese_shows_no_english_word(walked):
    found = {}
    for command, result in walked.outputs:
        if "--lang en" in command or "--json" in command or "--lang" in command:
            continue
        text = result.out + result.err
        for token in walked.tokens.values():
            text = text.replace(token, "")
        words = english_words(text)
        if words:
            found[command] = sorted(words)
    assert found == {}


def test_labels_work_as_filters_after_the_walkthrough(walked):
    listed = lambda *args: [c["id"] for c in walked.jingzhun("insp", ["case", "list", *args, "--json"]).json()]  # noqa: E731
    assert listed("--stage", "帮扶中") == listed("--stage", "assisted") == [1]    # reopened by the wrong exit
    assert listed("--kind", "贫困户") == listed("--kind", "household") == [1, 2]
