"""Errors a user sees, and the rendering of any catalogue text with its params.

Each error carries a message key (translated in the message catalogue, config/locale/) and params.
A param that is a code (a stage, a step, a role...) is shown by its label; a param that is a `Msg`
(a key and params still to render), a list of `Msg` or `Codes` (a list of codes) is rendered in the
reader's language.
"""
from __future__ import annotations

import errno
import json
from contextvars import ContextVar
from typing import Any, Callable, NamedTuple

# Where the reader meets the texts: a command run for a web page ("page") reads a text written for a
# page (catalogue key `KEY@page`) where there is one — "tick 'skip bad rows'" where the command line
# says --skip-bad. Set for every page's request (entrypoints.web.app), the commands its import page
# runs included; "api" for the JSON API (`KEY@api`: a field of its body where the CLI names an option);
# None (the CLI, a CLI client's commands): the CLI's own.
READER_PLACE: ContextVar[str | None] = ContextVar("reader_place", default=None)


def placed(key: str) -> tuple[str, ...]:
    """The keys to look a text up by, the reader's place's own first."""
    place = READER_PLACE.get()
    return (f"{key}@{place}", key) if place else (key,)


class Msg(NamedTuple):
    """A text still to render: a catalogue key and its params (a param may itself be a Msg)."""
    key: str
    params: dict[str, Any] = {}


class Codes(NamedTuple):
    """Codes of one list (label prefix `prefix`), shown as their labels joined by commas; `typed`: each
    label with the code after it (经营性资产（operating）), for a list of what may be typed."""
    prefix: str
    codes: tuple[str, ...]
    typed: bool = False


# Parameters whose value is a code (or comma-separated codes) of a labelled list: name -> label prefix
# (or prefixes, tried in order).
LABELLED: dict[str, str | tuple[str, ...]] = {
    "step": "step", "expected": "step", "procedure": "procedure", "open": "procedure", "wanted": "procedure",
    "stage": "stage", "expected_stage": "stage", "type": "evidence", "types": "evidence", "slot": "pairing_slot",
    "field": "field", "what": ("amount_of", "facts"), "level": "level", "region_level": "level",
    "parent_level": "level", "relation": ("relation", "kin"),
    "labour_ability": "labour", "health": "health", "school_enrolment": "school", "case_kind": "kind",
    "step_type": ("step_type", "cli.step_type"), "rule": "rule", "status": "status", "value_kind": "value_kind",
    "input": "step_input", "resolution": "resolution", "sample_finding": "sample_finding"}
ROLE_PARAMS = ("roles", "role")
STAGE_PARAMS = ("stage", "expected_stage")     # said in the words of the case kind `stage_kind`, if given


def _label(labels: Any, key: str, lang: str) -> str | None:
    """The catalogue text of `key`, or None when the catalogue lacks it."""
    entry = labels.labels.get(key) if labels is not None else None
    return None if entry is None else entry.get(lang) or entry.get("zh")


def _code_label(labels: Any, prefix: str | tuple[str, ...], code: str, lang: str) -> str:
    code = code.strip()
    for each in (prefix,) if isinstance(prefix, str) else prefix:
        text = _label(labels, f"{each}.{code}", lang)
        if text is not None:
            return text
    return code


def action_label(labels: Any, action: str, lang: str = "zh") -> str:
    """An action code: `procedure.step` as both labels, `household add` by its `action.*` label."""
    procedure, _, step = action.partition(".")
    if step and _label(labels, f"procedure.{procedure}", lang) and _label(labels, f"step.{step}", lang):
        return f"{_code_label(labels, 'procedure', procedure, lang)}·{_code_label(labels, 'step', step, lang)}"
    key = "action." + action.replace(" --", ".").replace(" ", "_").replace("-", "_")
    return _label(labels, key, lang) or action


def _role(labels: Any, role: str, lang: str) -> str:
    return labels.role_label(role.strip(), lang) if hasattr(labels, "role_label") else role


def joined(items, lang: str) -> str:
    """Items as a list in the reader's language: 甲、乙 / a, b."""
    return ("、" if lang == "zh" else ", ").join(items)


def noted(text: str, note: Any, lang: str) -> str:
    """A name with a note after it in the reader's brackets: 张三（村支书）, Zhang San (village secretary)."""
    return f"{text}（{note}）" if lang == "zh" else f"{text} ({note})"


def render_value(labels: Any, name: str, value: Any, lang: str) -> Any:
    """One param as the reader sees it."""
    if isinstance(value, Msg):
        return render_text(labels, value.key, value.params, lang) or value.key
    if isinstance(value, Codes):
        return joined((noted(_code_label(labels, value.prefix, c, lang), c, lang) if value.typed
                       else _code_label(labels, value.prefix, c, lang) for c in value.codes), lang) or "-"
    if isinstance(value, list) and value and all(isinstance(v, Msg) for v in value):    # things named in words
        return joined((render_value(labels, name, v, lang) for v in value), lang)
    if not isinstance(value, str) or labels is None:
        return value
    if name == "action":
        return action_label(labels, value, lang)
    if name in ROLE_PARAMS:
        return joined((_role(labels, r, lang) for r in value.split(",")), lang)
    if name in LABELLED:
        return joined((_code_label(labels, LABELLED[name], v, lang) for v in value.split(",")), lang)
    return value


def _template(labels: Any, key: str, lang: str) -> str | None:
    """The catalogue text of `key` (or of the first key `placed` gives for it), None when it lacks them."""
    return next((text for k in placed(key) if (text := _label(labels, k, lang)) is not None), None)


def render_text(labels: Any, key: str, params: dict[str, Any], lang: str = "zh") -> str | None:
    """The catalogue text of `key` filled with `params`; None when the catalogue lacks the key."""
    template = _template(labels, key, lang)
    if template is None:
        return None
    shown = {name: render_value(labels, name, value, lang) for name, value in params.items()}
    kind = params.get("stage_kind")
    if isinstance(kind, str):      # a project's or a village's stage in its kind's words (已入库, 已出列)
        for name in STAGE_PARAMS:
            if isinstance(params.get(name), str):
                shown[name] = _code_label(labels, (f"stage.{kind}", "stage"), params[name], lang)
    if "failures" in params:
        shown["details"] = "; ".join(render_failure(labels, f, lang, advised=True) for f in params["failures"])
    try:
        return template.format(**shown)
    except (KeyError, IndexError, ValueError):
        return template


class _Gap:
    """A param a text is said without (a rule recorded by its code alone): shown as …, whatever its format."""

    def __format__(self, spec: str) -> str:
        return "…"


class _Gaps(dict):
    def __missing__(self, name: str) -> _Gap:
        return _Gap()


def render_known(labels: Any, key: str, known: dict[str, Any], lang: str = "zh") -> str | None:
    """The catalogue text of `key` with the params known (a rule a record names by its code, the case
    and step it refused), each other param shown as …; None when the catalogue lacks the key."""
    template = _template(labels, key, lang)
    if template is None:
        return None
    try:
        return template.format_map(_Gaps({name: render_value(labels, name, value, lang) for name, value in known.items()}))
    except (IndexError, ValueError):
        return template


def stored(msg: Msg) -> str:
    """A text to store for readers of any language: its key and params as JSON (see render_stored)."""
    return json.dumps(_plain(msg), ensure_ascii=False, default=str)


def stored_starts(labels: Any, family: str, text: str) -> list[str]:
    """How the stored texts (`stored`) of the messages whose key begins with `family` (problem_title.)
    begin when a reader's text of theirs, in any language, begins with `text`: a search of their words
    (抽查, sample check, 抽查 #3) made on the stored column. `text` is matched against a message's
    words up to its first param, in any case, or those words and the first part of that param when
    the param is a number (the draw's: a message's params are stored in the order its words name them)."""
    wanted, starts = text.strip().casefold(), []
    for key, entry in (labels.labels.items() if labels is not None and wanted else ()):
        if not key.startswith(family):
            continue
        opening = json.dumps({"key": key, "params": {}}, ensure_ascii=False)[:-2]     # {"key": "…", "params": {
        for template in dict.fromkeys(entry.values()):
            words, brace, rest = template.partition("{")
            words = words.casefold()
            if not words.strip():
                continue
            if words.startswith(wanted):
                starts.append(opening)
            elif brace and wanted.startswith(words) and wanted[len(words):].isascii() \
                    and wanted[len(words):].isdigit():
                starts.append(f'{opening}{json.dumps(rest.partition("}")[0])}: {wanted[len(words):]}')
    return list(dict.fromkeys(starts))


def _plain(value: Any) -> Any:
    if isinstance(value, Msg):
        return {"key": value.key, "params": {k: _plain(v) for k, v in value.params.items()}}
    return value


def _as_msg(value: Any) -> Any:
    if isinstance(value, dict) and isinstance(value.get("key"), str):
        params = value.get("params") or {}
        if not isinstance(params, dict):
            raise ValueError("params")        # not a text the engine stored
        return Msg(value["key"], {k: _as_msg(v) for k, v in params.items()})
    return value


def stored_msg(text: str | None) -> Msg | None:
    """The Msg a stored text holds, or None for an old plain text (or None)."""
    if not text or not text.startswith('{"key"'):
        return None
    try:
        msg = _as_msg(json.loads(text))
    except ValueError:
        return None
    return msg if isinstance(msg, Msg) and text == stored(msg) else None     # the engine's form exactly


def own_words(text: str | None, missing: str | None = None) -> str | None:
    """A person's text (a reason, a finding) as given, unless it is written as the engine stores its own
    messages: it would be shown as the engine's finding (民主评议未通过…) in the person's place. With
    `missing`, the text is required: none, or only spaces, is refused with that code."""
    if missing is not None and not (text and text.strip()):
        raise BadInput(missing)
    if text and stored_msg(text.strip()) is not None:
        raise BadInput("input.engine_text")
    return text


def render_stored(labels: Any, text: str | None, lang: str = "zh") -> str | None:
    """A stored text in the reader's language; an old plain text (or None) as it is."""
    msg = stored_msg(text)
    return text if msg is None else render_text(labels, msg.key, msg.params, lang) or text


class JingzhunError(Exception):
    exit_code = 1
    prefix = "refused"

    def __init__(self, code: str, /, **params: Any):
        self.code = code
        self.params = params
        super().__init__(f"{code} {params}")

    def render(self, labels: Any = None, lang: str = "zh") -> str:
        text = render_text(labels, f"msg.{self.code}", self.params, lang)
        if text is None:
            return f"{self.code}: " + ", ".join(f"{k}={v}" for k, v in self.params.items())
        return text


class RuleViolation(JingzhunError):
    """A rule of the domain refuses the action (exit code 1); `code` names the rule."""


class AuthError(RuleViolation):
    """Authentication or authorisation refused."""


class CaseChanged(RuleViolation):
    """Optimistic lock: somebody else changed the case first."""

    def __init__(self, case_id: int, **params: Any):
        super().__init__("case.changed", case=case_id, **params)


class ChangedMeanwhile(CaseChanged):
    """A case changed by another writer between this action's reading and its writing (the unit of
    work's version check): nothing was written. Not the reader's own `expect_version`: an action that
    loses so is judged again on the record as it now stands (engine.adapters.uow.judged_again), and this
    is said only when it lost again and again, or by an action whose basis may have changed (a member's
    change), which is not. `after`: the case's last event this action had read (the other writers'
    events come after it: `by_writers` names them)."""

    def __init__(self, case_id: int, after: int | None = None, **params: Any):
        RuleViolation.__init__(self, "case.changed_meanwhile", case=case_id, **params)
        self.after = after

    def by_writers(self, persons: tuple[str, ...], actions: tuple[str, ...], at: str) -> None:
        """Said as what changed the case meanwhile: who (their codes), which actions, when (the last)."""
        self.code = "case.changed_meanwhile_by"
        self.params.update(persons=Codes("person", persons), actions=Codes("event", actions), at=at)


class BadInput(JingzhunError):
    """Malformed input or wrong usage (exit code 2)."""
    exit_code = 2


class NotFound(BadInput):
    pass


class SchemaOutdated(JingzhunError):
    exit_code = 2


def render_failure(labels: Any, failure: tuple[str, dict], lang: str = "zh", advised: bool = False) -> str:
    """One unmet condition of a policy check, e.g. ("income_not_above", {...}), in the user's language;
    `advised`: with what the cadre can do about it (`fail_next.<code>`, where the catalogue has it), as a
    refusal says it (an inspector's lead about a past decision says the condition alone). A failure the
    reader cannot put right themselves (`can`: what they can do, beside who must) is advised as
    `fail_others.<code>` (or `fail_others.any`), not with the advice addressed to whoever must."""
    code, params = failure
    text = render_text(labels, f"fail.{code}", params, lang)
    if text is None:
        return f"{code} {params}"
    return text + (advice_for(labels, failure, lang) or "" if advised else "")


def advice_for(labels: Any, failure: tuple[str, dict], lang: str = "zh") -> str | None:
    """What the reader can do about one unmet condition (see render_failure); None when nothing is said."""
    code, params = failure
    if "can" in params:
        return render_text(labels, f"fail_others.{code}", params, lang) or render_text(
            labels, "fail_others.any", params, lang)
    return render_text(labels, f"fail_next.{code}", params, lang)


def translator(labels: Any, lang: str = "zh") -> Callable[..., str]:
    """`t(key, **params)`: a catalogue text in `lang` (what every template calls); the key's last
    part when the catalogue lacks it."""
    def t(key: str, **params: Any) -> str:
        text = render_text(labels, key, params, lang)
        return key.rsplit(".", 1)[-1] if text is None else text
    return t


# An OSError's errno saying the disk cannot take what is written: full, over its quota, or a file larger
# than it allows (the server's evidence store and uploads say so in words: no path of the server's named)
DISK_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


class CannotWrite(BadInput):
    """A file that cannot be written (`cannot_write`); `errno` the system's reason."""

    def __init__(self, code: str, errno_: int | None, /, **params: Any):
        super().__init__(code, **params)
        self.errno = errno_


def cannot_write(path: str, exc: OSError) -> BadInput:
    """Why a file cannot be written, in our words (the system's own are English): a missing folder,
    no permission, a full disk… named with what to do."""
    import os
    reason = {errno.ENOENT: "no_folder", errno.ENOTDIR: "no_folder", errno.EACCES: "no_permission",
              errno.EPERM: "no_permission", errno.EROFS: "no_permission", errno.ENOSPC: "disk_full",
              errno.EDQUOT: "disk_full", errno.EFBIG: "too_large",
              errno.EISDIR: "is_folder"}.get(exc.errno)
    if reason is None:
        return CannotWrite("file.cannot_write", exc.errno, path=str(path), problem=exc.strerror or str(exc))
    return CannotWrite(f"file.{reason}", exc.errno, path=str(path), folder=os.path.dirname(os.path.abspath(path)))


# A server's refusals of its own files (SERVER_FILES: answered 507, as web.disk_full is)
SERVER_FILES = ("server.own_disk_full", "server.own_files_unwritable")


def said_by_server(exc: BaseException) -> BaseException:
    """`exc` as a server tells it to whoever asked it something (a page, the API, a CLI client's command):
    a file of its own it could not write (every file a server writes is its own, under its data home: what
    a client sends or is sent back is placed there too) said as the server's, its disk full or its data
    home unwritable, to be told to its administrator, never with its path nor the system's words; its disk
    full under an upload as it spooled (an OSError of its own), web.disk_full. Anything else as it is."""
    if isinstance(exc, CannotWrite):
        return JingzhunError(SERVER_FILES[0] if exc.errno in DISK_FULL else SERVER_FILES[1])
    if isinstance(exc, OSError) and exc.errno in DISK_FULL:
        return BadInput("web.disk_full")
    return exc
