"""The message catalogue of a configuration folder (gettext .po files) and the error a wrong
configuration raises, which names file, key path and problem by catalogue keys."""
from __future__ import annotations

from functools import cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from engine.domain.errors import Msg, render_text

PACKAGED = Path(__file__).resolve().parent


class ConfigError(Exception):
    """A configuration file is missing or wrong: `msg` names the file, the key path in it (None for
    the whole file) and the problem (catalogue keys `config_error.*` and `config_problem.<problem>`).
    str() is its Chinese text; `render(labels, lang)` gives it in a reader's language."""

    def __init__(self, path: Any, key: str | None, problem: str, /, **params: Any):
        where = {"path": str(path)} if key is None else {"path": str(path), "at": key}
        self.msg = Msg("config_error.at" if key is not None else "config_error.file",
                       {**where, "problem": Msg(f"config_problem.{problem}", params)})
        super().__init__(self.render())

    def render(self, labels: Any = None, lang: str = "zh") -> str:
        text = render_text(labels if labels is not None else _packaged(), self.msg.key, self.msg.params, lang)
        return text or self._plain()

    def _plain(self) -> str:
        """Without a usable catalogue: the file, the key path, the problem's key and params."""
        where, problem = self.msg.params, self.msg.params["problem"]
        return " ".join(filter(None, (f"{where['path']}:", where.get("at"), problem.key, str(problem.params or ""))))


class ConfigValueError(ValueError):
    """A validator's refusal inside a pydantic model: the problem as a catalogue key
    (`config_problem.<problem>`) and params, which `parse` puts into the ConfigError."""

    def __init__(self, problem: str, /, **params: Any):
        self.msg = Msg(f"config_problem.{problem}", params)
        super().__init__(f"{problem} {params}")


_LOADING: list[bool] = []    # set while the packaged catalogue loads: its own error renders without it


@cache
def _packaged() -> Any:
    """The packaged message catalogue (what str() of a ConfigError reads), or None when it is unusable."""
    if _LOADING:
        return None
    _LOADING.append(True)
    try:
        return SimpleNamespace(labels=load_catalogue(PACKAGED))
    except ConfigError:
        return None
    finally:
        _LOADING.clear()


LANGUAGES = {"zh": "zh_CN", "en": "en"}


def load_catalogue(base: Path) -> dict[str, dict[str, str]]:
    """The message catalogue: every gettext catalogue (`locale/<lang>/LC_MESSAGES/*.po`) of the packaged
    configuration, then the configuration folder's own over it (a home's installed words win; a text a
    later release added, which the installed copy lacks, is the packaged one's: not its key shown raw on
    a page); key -> {zh, en}. A key present in one language only is an error: no reader may meet a
    missing text."""
    texts = _catalogue_of(PACKAGED / "locale")
    own = base / "locale"
    if own.is_dir() and own.resolve() != (PACKAGED / "locale").resolve():
        texts.update(_catalogue_of(own))
    return texts


def _catalogue_of(folder: Path) -> dict[str, dict[str, str]]:
    from babel.messages.pofile import read_po
    found: dict[str, dict[str, dict[str, str]]] = {}
    for lang, locale in LANGUAGES.items():
        texts = found[lang] = {}
        for path in sorted((folder / locale / "LC_MESSAGES").glob("*.po")):
            with open(path, "rb") as fh:
                for message in read_po(fh, locale=locale):
                    if message.id and message.string:
                        texts[str(message.id)] = str(message.string)
    zh, en = found["zh"], found["en"]
    lacking = sorted(set(zh) ^ set(en))
    if lacking:
        raise ConfigError(folder, None, "catalogue_incomplete", keys=", ".join(lacking[:20]))
    return {key: {"zh": zh[key], "en": en[key]} for key in zh}
