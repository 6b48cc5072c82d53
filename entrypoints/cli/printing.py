"""Rendering: plain text through rich (markup off), JSON, tab-separated lists, rich tables."""
from __future__ import annotations

import json
import re
import os
import sys
from contextlib import contextmanager
from typing import Any, Callable, Iterable, Iterator

import click


class LazyConsole:
    """A rich Console made when first used: rich is not imported to print a command's help."""

    def __init__(self, **options: Any):
        self._options = options
        self._console: Any = None

    def real(self) -> Any:
        """The Console itself (for code that needs the object, not its methods)."""
        if self._console is None:
            from rich.console import Console
            self._console = Console(**self._options)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real(), name)

    def __enter__(self) -> Any:
        return self.real().__enter__()

    def __exit__(self, *exc: Any) -> Any:
        return self.real().__exit__(*exc)


# Output is plain text: rich markup is off so that user data like "[A]" is printed as it is.
out = LazyConsole(highlight=False, soft_wrap=True, markup=False)
err = LazyConsole(stderr=True, highlight=False, soft_wrap=True, markup=False)


# Characters that would act on a terminal or reorder a line rather than show: C0 and C1 controls (ESC
# starts an escape sequence that can rewrite the screen or a window title) and the bidirectional
# overrides. A name holding one is shown with the character escaped, as text.
_ACTING = [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
_IN_TEXT = {c: f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}" for c in _ACTING if c not in (0x09, 0x0A)}
_IN_CELL = {**_IN_TEXT, 0x09: "\\t", 0x0A: "\\n"}                  # a cell stays one cell on its line


def visible(text: str, cell: bool = False) -> str:
    """Text as it may be shown on a terminal: its controls escaped (see _ACTING)."""
    return text.translate(_IN_CELL if cell else _IN_TEXT)


def list_cell(value: Any) -> str:
    """A list cell: controls escaped, and text a spreadsheet would run as a formula (the list may be
    redirected to a file and opened in Excel) marked as text; a dash for "none" or a number is neither."""
    if not isinstance(value, str):
        return str(value)
    text = visible(value, cell=True)
    if text == "-" or _NUMBER.fullmatch(text):
        return text
    from .parsing import spreadsheet_text
    return spreadsheet_text(text)


_NUMBER = re.compile(r"[-+]?[0-9][0-9,]*(\.[0-9]+)?%?")


def to_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=str)


def emit(data: Any, as_json: bool, human: Callable[[], Any] | None = None) -> None:
    """JSON when asked for (or when there is no human form), else the human form."""
    if as_json or human is None:
        click.echo(to_json(data))
    else:
        human()


def say(text: str) -> None:
    out.print(visible(text))


def stream_json(rows: Iterable[Any], row_json: Callable[[Any], Any] = lambda r: r) -> None:
    """A JSON array printed row by row: memory does not grow with the number of rows."""
    click.echo("[")
    first = True
    for r in rows:
        click.echo(("" if first else ",") + json.dumps(row_json(r), ensure_ascii=False, default=str))
        first = False
    click.echo("]")


def tsv(*cells: Any) -> None:
    """One tab-separated line: readable at any width, easy to cut."""
    click.echo("\t".join(list_cell(c) for c in cells))


def footer(text: str) -> None:
    """A list's closing count, shown on a terminal only: a list piped to a file is only its rows."""
    if not piped():
        click.echo(text)


def piped() -> bool:
    """Output goes to a file or a pipe (a real descriptor that is not a terminal)."""
    try:
        return not os.isatty(sys.stdout.fileno())
    except (AttributeError, OSError, ValueError):   # an in-memory stream (a test, an embedding program)
        return False


@contextmanager
def progress(ctx: Any, text: str, total: int | None = None) -> Iterator[Callable[..., None]]:
    """A progress bar on a terminal (stderr, cleared when done), or on the client's for a command run
    on the server (`ctx.progress`); nothing otherwise (a pipe, a file). Yields `advance(done, text=None)`:
    how far (of `total`; when that is not known, the bar only moves and `text` says the count)."""
    first = text
    if ctx.progress is not None:
        yield lambda done, text=None: ctx.progress(text or first, done, total)
        return
    if not err.is_terminal:
        yield lambda done, text=None: None
        return
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn
    known = (TaskProgressColumn(), TimeRemainingColumn()) if total is not None else ()
    with Progress(TextColumn("{task.description}"), BarColumn(), *known, console=err, transient=True) as bar:
        task = bar.add_task(text, total=total)
        yield lambda done, text=None: bar.update(task, completed=done, **({"description": text} if text else {}))


def table(headers: Iterable[str], rows: Iterable[Iterable[Any]], wide_last: bool = False) -> None:
    """A rich table; `wide_last`: the last column (an ID number) is never wrapped. A text too wide for
    its column goes on over lines (rich's own way cuts it off with "…": 普通劳…, 与户主…)."""
    from rich import box
    from rich.table import Table
    headers = list(headers)
    # no rules between columns, two spaces apart: a household's member line fits 80 columns
    shown = Table(box=box.SIMPLE_HEAD, show_edge=False, padding=(0, 1, 0, 0))
    for header in headers[:-1] if wide_last else headers:
        shown.add_column(header, overflow="fold")
    if wide_last:
        shown.add_column(headers[-1], no_wrap=True, min_width=18)
    for row in rows:
        shown.add_row(*(list_cell(c) for c in row))
    out.print(shown)


def yuan(value) -> str:
    return "-" if value is None else f"{value:,.2f}"


def share(value) -> str:
    return "-" if value is None else f"{value * 100:.2f}%"


def dash(value) -> str:
    return "-" if value is None else str(value)


def shown(value: Any, text: str) -> str:
    """`text` when `value` is set, else nothing: for optional parts of a line."""
    return text if value else ""
