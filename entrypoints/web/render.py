"""Pages: Jinja2 templates that speak from the message catalogue in the reader's language."""
from __future__ import annotations

import re
from datetime import date, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from engine.domain.deadline_rules import wall_clock
from engine.domain.errors import JingzhunError, noted, render_stored, render_text, stored_msg, translator
from engine.reads.words import field_words, figure, percent
from engine.services.accounts import csrf_masked

HERE = Path(__file__).resolve().parent
LANGS = ("zh", "en")


class Said(str):
    """A text of the catalogue said to the reader (what `t` says, a refusal, a stored message): on a page
    its backticked spans (a command, an option, a setting) show as code; anywhere else (an API's JSON, a
    log) the text it is, backticks and all."""
    __slots__ = ()


_BACKTICKED = re.compile(r"`([^`\n]+)`")


def coded(text: str) -> Markup:
    """`text` for a page: escaped whole, then each backticked span as <code> (its content escaped with
    the rest: nothing of the text becomes markup but the code tags)."""
    return Markup(_BACKTICKED.sub(r"<code>\1</code>", str(escape(text))))


def _finalize(value: Any) -> Any:
    """What each {{ … }} of a page shows: a catalogue text (Said) with its code spans; the rest as it is
    (escaped by the environment: a name, a typed value, a record's text is never markup)."""
    return coded(value) if isinstance(value, Said) else value


env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(HERE / "templates")),
                         autoescape=jinja2.select_autoescape(("html",)), undefined=jinja2.StrictUndefined,
                         trim_blocks=True, lstrip_blocks=True, finalize=_finalize)


def _day(value: Any) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


env.filters["day"] = _day


@jinja2.pass_context
def _paren(context, text: Any) -> str:
    """A note after a name, in the reader's brackets: 张三（村支书）, Zhang San (village secretary)."""
    return noted("", text, context.get("lang", "zh"))


env.filters["paren"] = _paren


env.filters["figure"] = figure
env.filters["percent"] = percent


def _money(value: Any) -> Any:
    """An amount of money (a decimal's text, as the figures keep it) with thousands separators and
    two decimals: "1234567.5" -> "1,234,567.50" (the unit is the catalogue's); anything else as it is."""
    from decimal import Decimal, InvalidOperation
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return value
    return f"{amount:,.2f}" if amount.is_finite() else value


env.filters["money"] = _money

def _links(words: str, path: str):
    """A filter that makes "WORD N" in a text a link to `path`N (escaped first: nothing else is markup)."""
    found = re.compile(rf"({words}) (\d{{1,12}})(?!\d)")
    return lambda text: Markup(found.sub(rf'<a href="{path}\2">\1 \2</a>', str(escape(text))))


env.filters["case_links"] = _links("案件|[Cc]ase", "/cases/")          # a command's output: the case's page
env.filters["notice_links"] = _links("公示|[Nn]otice", "/notices/")    # a rule's words: where objections are resolved


class _Refill(HTMLParser):
    """A form's HTML with the values a reader sent put back in it: each text field, box, choice and
    text area named in `sent` (a name's values in order); hidden fields, files and buttons as drawn."""

    def __init__(self, sent: dict[str, list[str]]):
        super().__init__(convert_charrefs=False)
        self.sent, self.taken, self.out = sent, {}, []
        self.select: str | None = None
        self.textarea: str | None = None

    def _next(self, name: str) -> str | None:
        """The next value sent under `name` (a form may hold several fields of one name)."""
        values, at = self.sent.get(name) or [], self.taken.get(name, 0)
        self.taken[name] = at + 1
        return values[at] if at < len(values) else None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        given, name = dict(attrs), dict(attrs).get("name")
        if tag == "select":
            self.select = name
        if tag == "textarea" and name in self.sent:
            self.textarea = name
            self.out.append(self.get_starttag_text() + str(escape(self._next(name) or "")))
            return
        kind = (given.get("type") or "text").lower()
        if tag == "option" and self.select in self.sent:
            attrs = [(k, v) for k, v in attrs if k != "selected"] + \
                ([("selected", None)] if given.get("value") in self.sent[self.select] else [])
        elif tag == "input" and name in self.sent and kind in ("checkbox", "radio"):
            attrs = [(k, v) for k, v in attrs if k != "checked"] + \
                ([("checked", None)] if given.get("value", "on") in self.sent[name] else [])
        elif tag == "input" and name in self.sent and kind not in ("hidden", "file", "password", "submit", "button"):
            attrs = [(k, v) for k, v in attrs if k != "value"] + [("value", self._next(name) or "")]
        else:
            self.out.append(self.get_starttag_text())
            return
        self.out.append(f"<{tag}" + "".join(f' {k}' if v is None else f' {k}="{escape(v)}"' for k, v in attrs) + ">")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self.select = None
        if tag == "textarea":
            self.textarea = None
        self.out.append(f"</{tag}>")

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        self.handle_starttag(tag, attrs)

    def handle_data(self, data: str) -> None:
        if self.textarea is None:        # a text area sent: its new content is written already
            self.out.append(data)

    def handle_entityref(self, name: str) -> None:
        self.handle_data(f"&{name};")

    def handle_charref(self, name: str) -> None:
        self.handle_data(f"&#{name};")

    def handle_comment(self, data: str) -> None:
        self.out.append(f"<!--{data}-->")


@jinja2.pass_context
def _kept(context, html: str, slot: str) -> Markup:
    """A form of a page drawn again after its refusal (`answer`: the slot it was sent from and what
    it sent): what the reader typed kept as it was, as a form HTMX sent keeps it; any other form as drawn."""
    answer = context.get("answer")
    if not answer or answer.get("slot") != slot:
        return Markup(html)
    sent = {k: [x for x in (v if isinstance(v, list) else [v]) if isinstance(x, str)]
            for k, v in (answer.get("sent") or {}).items()}
    refill = _Refill({k: v for k, v in sent.items() if v and k != "csrf"})
    refill.feed(str(html))
    refill.close()
    return Markup("".join(refill.out))


env.filters["kept"] = _kept


def htmx(request: Request) -> bool:
    """Whether HTMX sent the request (its part of the page is the answer), not a plain form or a link."""
    return bool(request.headers.get("hx-request"))


def lang_of(request: Request) -> str:
    chosen = request.cookies.get("lang")
    return chosen if chosen in LANGS else "zh"


CHANNEL_KIND = "channel.kind"      # a channel's kind by its label (email, wecom… and paper, handed over)


def texts(config: Any, lang: str) -> dict[str, Any]:
    """What every template may call: `t` (a catalogue text, Said: on a page its commands as code), `label`
    (a code's label), `stage` (a case's stage in its kind's words: a project's `exited` is 已竣工验收),
    `role`, `when` (a stored time on the office's clock, to the minute; '' for none), `field_words` (a
    record's values in words)."""
    said = translator(config, lang)

    def t(key: str, **params: Any) -> Said:
        return Said(said(key, **params))

    def stored(text: str | None) -> str | None:      # a stored message of the catalogue said; a plain text as it is
        shown = render_stored(config, text, lang)
        return Said(shown) if shown is not None and stored_msg(text) is not None else shown

    def label(prefix: str, value: Any) -> str:
        if value is None or value == "":
            return "-"
        key = f"{prefix}.{value}"
        return config.label(key, lang) if key in config.labels else str(value)

    return {"t": t, "label": label, "lang": lang,
            "stage": lambda code, kind: config.stage_label(code, kind, lang) if code else "-", "role": lambda r: config.role_label(r, lang) if r else "-",
            "colon": "：" if lang == "zh" else ": ",
            "channels": lambda kinds: ", ".join(label(CHANNEL_KIND, k) for k in kinds.split(",")),
            "stored": stored, "when": lambda at: wall_clock(config, at),
            # an evidence item's fields in words (engine.reads.words)
            "field_words": lambda fields: field_words(config, fields, lang)}


def _alarm(core: Any, reader: Any, lang: str) -> dict | None:
    """A failing backup or a refused seal, for the banner of a whole-installation administrator's pages
    (called by base.html only: a page's fragment sent to HTMX reads nothing for it)."""
    if reader is None or not reader.admin:
        return None
    from engine.reads.backup_status import admin_alarm
    found = admin_alarm(core, reader.actor)
    if found is not None and found["backup"] is not None:
        problem = found["backup"]["problem"]
        found["backup"]["problem_text"] = Said(render_text(core.config, problem["key"], problem["params"], lang)
                                               or problem["key"])
    return found


def page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """The page `template` for this request's reader (or nobody, on the sign-in pages)."""
    core = request.app.state.core
    reader = getattr(request.state, "reader", None)
    lang = reader.lang if reader else lang_of(request)
    body = env.get_template(template).render(
        request=request, reader=reader, csrf=csrf_masked(reader.csrf) if reader else "", path=request.url.path,
        today=core.clock.today().isoformat(), admin_alarm=lambda: _alarm(core, reader, lang),
        **texts(core.config, lang), **context)
    return HTMLResponse(body, status_code=status)


# A refusal's words for the command line alone: "（--reason）", "（命令行：「--void-signoffs」）"; a page has
# its own field or box for it.
_FOR_THE_CLI = re.compile(r"\s*[（(](?:(?:命令行：|command line: )[^）)]*|「?--[^）)]*)[）)]")


def for_pages(text: str) -> Said:
    """A refusal as a page shows it: without the parts that name command-line options."""
    return Said(_FOR_THE_CLI.sub("", text))


def error_text(request: Request, exc: JingzhunError, unread: str | None = None) -> Said:
    """The refusal in the reader's language; before anyone is read, `unread` or the page's cookie."""
    reader = getattr(request.state, "reader", None)
    core, lang = request.app.state.core, reader.lang if reader else unread or lang_of(request)
    if reader is not None:          # a signed-in reader: the region or person it names, by name too
        from engine.reads.queries import named_error
        exc = named_error(core, exc, lang)
    return Said(exc.render(core.config, lang))
