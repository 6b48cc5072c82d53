"""What a person typing at a terminal meets: a password asked twice, hidden, in their language, and
asked again (not refused in English) when the two differ. Run on a real pseudo-terminal, so that the
hidden input goes through the terminal as it does for a person."""
from __future__ import annotations

import os
import pty
import select
import sqlite3
import sys
import time

import pytest

from tests.test_cli import ENV_VARS, JINGZHUN, home, template  # noqa: F401  (fixtures)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="a pseudo-terminal")


class Terminal:
    """A command run on a pseudo-terminal that is its controlling terminal."""

    def __init__(self, argv: list[str], env: dict[str, str]):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:      # the child: the command, on the terminal
            os.execve(argv[0], argv, env)
        self.seen, self.read_to = "", 0

    def expect(self, text: str, timeout: float = 30) -> None:
        """Wait for `text` after what the last expect found (a prompt seen before is not this one)."""
        ends = time.monotonic() + timeout
        while text not in self.seen[self.read_to:]:
            left = ends - time.monotonic()
            assert left > 0, f"waited for {text!r}; saw {self.seen!r}"
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.fd, 4096)
                except OSError:
                    chunk = b""
                assert chunk, f"the command ended before {text!r}; saw {self.seen!r}"
                self.seen += chunk.decode("utf-8", "replace")
        self.read_to = self.seen.index(text, self.read_to) + len(text)

    def type(self, line: str) -> None:
        os.write(self.fd, line.encode() + b"\r")

    def exit_code(self, timeout: float = 30) -> int:
        ends = time.monotonic() + timeout
        while True:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                os.close(self.fd)
                return os.waitstatus_to_exitcode(status)
            if time.monotonic() > ends:
                os.kill(self.pid, 9)
                raise AssertionError(f"the command did not end; saw {self.seen!r}")
            time.sleep(0.05)


def test_a_password_is_asked_twice_in_chinese_and_again_when_the_two_differ(home):
    env = {k: v for k, v in os.environ.items() if k not in ENV_VARS}
    env.update(JINGZHUN_TOKEN=home.tokens["vs"], COLUMNS="100")
    term = Terminal([JINGZHUN, "--home", str(home.path), "--as", "vs", "password"], env)
    term.expect("设置登录网页的密码")
    term.type("correct-horse-1")
    term.expect("再输入一遍同一密码")
    term.type("correct-horse-2")
    term.expect("两次输入的密码不一致，请重新输入")
    term.expect("设置登录网页的密码")
    term.type("correct-horse-1")
    term.expect("再输入一遍同一密码")
    term.type("correct-horse-1")
    term.expect("密码已设置")
    assert term.exit_code() == 0, term.seen
    assert "correct-horse" not in term.seen            # hidden as it was typed
    assert "Repeat for confirmation" not in term.seen and "do not match" not in term.seen
    with sqlite3.connect(home.db) as conn:
        stored = conn.execute("SELECT w.hash FROM passwords w JOIN persons p ON p.id = w.person_id "
                              "WHERE p.code = 'vs'").fetchone()[0]
    assert stored and stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")   # the shipped cost (tests use less)
