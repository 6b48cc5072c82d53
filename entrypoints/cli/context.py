"""What every command receives: the global options, the App and the acting person, opened lazily."""
from __future__ import annotations

import functools
import os
import sys
from dataclasses import dataclass, field
from typing import Any

import click

CASE_ID = click.IntRange(1, 2 ** 63 - 1)   # ids beyond what the database can hold are bad input, not a crash
_PACKAGED: list[Any] = []


def load_config(directory: Any = None):
    """config.load_config, imported when a command first needs the rules (not to print its help); the
    packaged rules read once a process."""
    if directory is None:
        return packaged_config()
    from config import load_config as load
    return load(directory)


def packaged_config():
    """The packaged configuration: its catalogue holds the CLI's texts whatever the home's rules are."""
    if not _PACKAGED:
        from config import load_config as load
        _PACKAGED.append(load())
    return _PACKAGED[0]


@dataclass
class Ctx:
    home: str | None
    db: str | None
    lang: str
    as_code: str | None
    server: str | None = None      # client mode: every command runs on this server…
    runner: Any = None             # …through this (entrypoints/cli/remote.py), given the Ctx and click's context
    _app: Any = None
    _actor: Any = None
    _config: Any = field(default=None)
    progress: Any = None           # a command run for a client: told (text, done, total) where a bar would move
    for_client: bool = False       # run by the server for a client: a case out of reach is told as unknown
    client: Any = None             # …and, streamed, that client: gone or not, told an import's commit (interrupts.py)

    @property
    def config(self):
        if self._config is None and self.server:
            self._config = packaged_config()      # the client only parses; the server's rules decide
        if self._config is None:
            from engine.adapters.app import home_config
            self._config = self._app.config if self._app else load_config(home_config(self.settings()))
        return self._config

    def settings(self):
        from engine.adapters.db import Settings
        return Settings.from_env(self.home, self.db)

    def app(self):
        if self._app is None:
            from entrypoints.bootstrap import make_app
            settings = self.settings()
            from entrypoints.bootstrap import demo_clock
            self._app = make_app(settings, config=self.config, clock=demo_clock(settings.home))
            link_base(settings.home)
        return self._app

    def today(self):
        """Today on the home's clock (the demo's year on the demo's home, China's date elsewhere),
        without opening the database."""
        if self._app is not None:
            return self._app.clock.today()
        from engine.adapters.app import Clock
        from entrypoints.bootstrap import demo_clock
        return (demo_clock(self.settings().home) or Clock()).today()

    def actor(self):
        if self._actor is None:
            from engine.services.org import authenticate
            self._actor = authenticate(self.app(), self._require_person(), self._token())
        return self._actor

    def _require_person(self) -> str:
        from engine.domain.errors import AuthError
        if not self.as_code:
            raise AuthError("auth.no_person")
        return self.as_code

    def _token(self) -> str | None:
        token = os.environ.get("JINGZHUN_TOKEN")
        if not token and sys.stdin.isatty():
            token = click.prompt(self.text("token_prompt", code=self.as_code), hide_input=True, default="",
                                 show_default=False)
        return token

    def label(self, key: str) -> str:
        return self.config.label(key, self.lang)

    def text(self, key: str, /, **params: Any) -> str:
        """The CLI's own text `cli.<key>` in the chosen language, filled with `params`."""
        return cli_text("cli." + key, self.lang, self._config, **params)

    def stored(self, text: str | None) -> str | None:
        """A text the engine stored for any reader (a key and its values) in this reader's language; a
        person's own words as written."""
        from engine.domain.errors import render_stored
        return render_stored(self.config, text, self.lang)

    def code_label(self, prefix: str, value: Any) -> str:
        """A code shown by its label (`prefix.value`, else `cli.prefix.value`), or as it is."""
        if value is None:
            return "-"
        for key in (f"{prefix}.{value}", f"cli.{prefix}.{value}"):
            if key in self.config.labels or key in packaged_config().labels:
                return cli_text(key, self.lang, self.config)
        return str(value)

    def stage(self, stage: str | None, kind: str | None) -> str:
        """A case's stage in its kind's words (a project's `exited`: 已竣工验收), or - for none."""
        return self.config.stage_label(stage, kind, self.lang) if stage else "-"

    def role(self, role: str | None) -> str:
        return self.config.role_label(role, self.lang) if role else "-"

    def close(self) -> None:
        if self._app is not None:
            self._app.close()


def cli_text(key: str, lang: str, config: Any = None, /, **params: Any) -> str:
    """A catalogue text (the home's rules first, the packaged catalogue for texts they lack)."""
    from engine.domain.errors import placed
    key = next((k for k in placed(key) if (config and k in config.labels) or k in packaged_config().labels), key)
    labels = config.labels if config is not None and key in config.labels else packaged_config().labels
    entry = labels.get(key) or {}
    template = entry.get(lang) or entry.get("zh") or key
    return template.format(**params) if params else template


def days_unit(ctx: Ctx, n: int | None, counting: str) -> str:
    """A deadline's unit for `n` of its days (calendar or working): 天/个工作日 either way, "1 working day" in English."""
    return ctx.label(("deadline.day." if n == 1 else "deadline.days.") + counting)


def pass_ctx(f):
    """Like click.make_pass_decorator(Ctx); in client mode (`--server`) the command, parsed here, is
    run by the server instead."""
    @functools.wraps(f)
    def run(*args: Any, **kwargs: Any):
        click_ctx = click.get_current_context()
        ctx = click_ctx.find_object(Ctx)
        if ctx is None:
            raise RuntimeError("a command ran without its Ctx")
        refuse_output_over_input(click_ctx)
        if ctx.runner is not None:
            return ctx.runner(ctx, click_ctx)
        return click_ctx.invoke(f, ctx, *args, **kwargs)
    return run


def writes(param: click.Parameter) -> bool:
    """A file or folder parameter the command writes (`--csv`, `--html`, `--skip-bad`; `report --csv
    DIR`, declared writable): one it reads must exist."""
    return isinstance(param.type, click.Path) and not param.type.exists and (
        not param.type.dir_okay or param.type.writable)


GLOBAL_WITH_VALUE = ("--home", "--db", "--db-file", "--lang", "--as", "--server")


def commands_from(argv: list[str]) -> int:
    """Where the command's name begins in a command line: after the global options and their values."""
    i = 0
    while i < len(argv) and argv[i].startswith("-"):
        i += 2 if argv[i] in GLOBAL_WITH_VALUE else 1
    return i


def refuse_output_over_input(click_ctx: click.Context) -> None:
    """A file the command would write (`--skip-bad same.csv`) that is a file it reads: refused before
    anything runs, here or on a server, for writing it would destroy what is being read."""
    given = [(p, str(v)) for p in click_ctx.command.params if isinstance(p.type, click.Path)
             for v in _values(click_ctx.params.get(p.name)) if v is not None]
    read = [v for p, v in given if not writes(p) and os.path.isfile(v)]
    for param, value in given:
        if writes(param) and os.path.isfile(value) and any(os.path.samefile(value, r) for r in read):
            from engine.domain.errors import BadInput
            raise BadInput("file.output_is_input", option=param.opts[0] if param.opts else param.name,
                           file=os.path.basename(value))
        folder = os.path.dirname(os.path.abspath(value))
        if writes(param) and not param.type.dir_okay and not os.path.isdir(folder):
            # a file that could not be written: said before anything runs (an export was recorded
            # in the activity log as done, and then failed on the missing folder)
            import errno
            from engine.domain.errors import cannot_write
            raise cannot_write(value, OSError(errno.ENOENT, "no such folder"))


def _values(value: Any) -> tuple:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def link_base(home) -> None:
    """The links of messages a command queues (a cron sweep, a press, `scheduler run`): without
    JINGZHUN_PUBLIC_URL, those of the server last started on this data home (`serve` keeps its link
    base there), not a port nobody serves."""
    import os
    from pathlib import Path
    if os.environ.get("JINGZHUN_PUBLIC_URL"):
        return
    try:
        served = (Path(home) / "served-url").read_text(encoding="utf-8").strip()
    except OSError:
        return
    from notifications.channels import public_url_problem
    if served and public_url_problem(served) is None:
        os.environ["JINGZHUN_PUBLIC_URL"] = served
