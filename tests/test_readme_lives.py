"""The README's other walk-throughs ("A fund project's life" and "A poor village's life"), run line by
line after the household's (tests/test_cli_walkthrough.py), in the same home: each command the README
marks `# refused` is refused (with the rule code it names, when it names one), and every other command
succeeds. Written so that the README cannot drift from what the commands do."""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from tests.test_cli_walkthrough import Shell, walkthrough

README = Path(__file__).resolve().parents[1] / "README.md"


def block(title: str, until: str) -> list[str]:
    """The shell lines of the README's section `title` (up to the section `until`), continued lines joined."""
    text = README.read_text(encoding="utf-8")
    start = text.index(title)
    blocks = re.findall(r"```sh\n(.*?)```", text[start:text.index(until, start)], re.S)
    return "\n".join(blocks).replace("\\\n", " ").splitlines()


class LivesShell(Shell):
    """The walk's shell, with the two shell forms the project's life adds: a paper code kept in `$code`
    and a token activated with it appended to tokens.csv."""

    code = ""

    def command(self, line: str) -> None:
        if line.startswith("code=$(jingzhun "):
            inner = line[len("code=$("):line.index("| tail -1)")]
            words = shlex.split(inner)
            self.code = self.jingzhun(words[2], words[3:]).last_line()
        elif line.startswith('echo "') and "activate \"$code\"" in line:
            who = line.split('"')[1].split(",")[0]
            self.tokens[who] = self.jingzhun(who, ["activate", self.code]).last_line()
        else:
            super().command(line)


@pytest.fixture(scope="module")
def lived(tmp_path_factory):
    shell = LivesShell(tmp_path_factory.mktemp("lives"))
    shell.run(walkthrough())
    return shell


def _walked_line_by_line(shell: LivesShell, lines: list[str]) -> list[tuple[str, object]]:
    """Each command line with the result of the command it ran; an indented comment under a command (`   #
    refused [code]: …`) is that command's."""
    ran = []
    for line in lines:
        if line.startswith((" ", "\t")) and line.lstrip().startswith("#") and ran:
            command, result = ran[-1]
            ran[-1] = (command + "  " + line.strip(), result)
            continue
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        before = len(shell.outputs)
        if line.startswith(("code=$(jingzhun ", 'echo "')):
            shell.command(line)
        else:
            shell.run([line])
        if len(shell.outputs) > before:
            ran.append((line, shell.outputs[-1][1]))
    return ran


def _as_the_readme_says(ran: list[tuple[str, object]]) -> list[str]:
    wrong = []
    for line, result in ran:
        comments = [part.strip() for part in line.split("  #")[1:]]       # the line's, then those under it
        said = next((part for part in comments if part.startswith("refused")), None)
        if said is not None:
            code = re.match(r"refused \[([a-z_.]+)\]", said)
            if result.code != 1 or (code and f"[{code.group(1)}]" not in result.err):
                wrong.append(f"{line[:90]}… was not refused as said: exit {result.code} {result.err[:200]}")
        elif result.code != 0:
            wrong.append(f"{line[:90]}… failed: exit {result.code} {result.err[:300]}")
    return wrong


def _project_walked(shell: LivesShell) -> list[tuple[str, object]]:
    """The fund project's life, walked once in the shell's home: the poor village's life comes after it in
    the README (its case numbers follow the project's), so it is walked first there too when the tests run
    apart (`-n auto` may give each its own worker, and each worker its own home)."""
    if not hasattr(shell, "project_ran"):
        shell.project_ran = _walked_line_by_line(shell, block("## A fund project's life", "## A poor village's life"))
    return shell.project_ran


def test_a_fund_projects_life_does_what_the_readme_says(lived):
    ran = _project_walked(lived)
    assert len(ran) > 40
    assert _as_the_readme_says(ran) == []


def test_a_poor_villages_life_does_what_the_readme_says(lived):
    _project_walked(lived)
    ran = _walked_line_by_line(lived, block("## A poor village's life", "## Commands"))
    assert len(ran) > 10
    assert _as_the_readme_says(ran) == []
