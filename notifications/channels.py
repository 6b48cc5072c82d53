"""Channels: email over SMTP, WeCom (企业微信) and DingTalk (钉钉) group robots, a file mailbox, the console.

A person's channel row names an address; secrets never live there. SMTP credentials and robot
webhook URLs (with their keys) come from the environment of the process that delivers:

    JINGZHUN_SMTP_HOST, JINGZHUN_SMTP_PORT (25), JINGZHUN_SMTP_USER, JINGZHUN_SMTP_PASSWORD,
    JINGZHUN_SMTP_FROM, JINGZHUN_SMTP_SECURITY (none | starttls | ssl), JINGZHUN_SMTP_TIMEOUT (30),
    JINGZHUN_SMTP_CAFILE (certificates to trust instead of the system's, e.g. an office's own CA)
    JINGZHUN_ROBOT_<NAME>=https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=...   (a robot called NAME)
    JINGZHUN_ROBOT_<NAME>_SECRET=SEC...      (DingTalk 加签 secret, if the robot uses signing)

Addresses: email `someone@example.cn`; wecom/dingtalk `ROBOT` or `ROBOT/MOBILE` (a mobile to
@-mention in the group); file `NAME` (a folder under the data home's mailbox/); console `-`.
Errors are recorded without any secret: a URL is never part of an error text. TLS always checks the
server's certificate and name; credentials are sent only over TLS, or to a server on this host.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import os
import re
import smtplib
import socket
import ssl
import sys
import time
import urllib.error
import urllib.parse
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any, Mapping, TextIO

from engine.adapters.private_files import open_private, private_dir
from engine.domain.errors import BadInput, Msg, stored

KINDS = ("email", "wecom", "dingtalk", "file", "console")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ROBOT = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,39}(/\+?[0-9]{5,20})?$")
_MAILBOX = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")


class DeliveryError(Exception):
    """A failed attempt; `permanent` ones are not retried. `unreachable`: the channel itself is down
    or unusable (no server, not configured), so other messages on it need not be tried now.
    Its text is the catalogue key `delivery.<code>` with `params`; str() is that text as stored
    (engine.domain.errors.stored), which a reader renders in its own language."""

    def __init__(self, code: str, params: dict[str, Any] | None = None, /, permanent: bool = False,
                 unreachable: bool = False):
        self.msg = Msg(f"delivery.{code}", params or {})
        super().__init__(stored(self.msg))
        self.permanent = permanent
        self.unreachable = unreachable


def check_address(kind: str, address: str) -> Msg | None:
    """None when the address suits the channel kind, else what is wrong with it (a catalogue text)."""
    if kind not in KINDS:
        return Msg("channel.problem.unknown_kind", {"kind": kind, "known": ", ".join(KINDS)})
    if "://" in address:
        return Msg("channel.problem.url")
    pattern = {"email": _EMAIL, "wecom": _ROBOT, "dingtalk": _ROBOT, "file": _MAILBOX}.get(kind)
    if kind == "console":
        return None if address in ("-", "") else Msg("channel.problem.console")
    return None if pattern.match(address) else Msg("channel.problem.address", {"address": address, "kind": kind})


@dataclass
class NotifySettings:
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_from: str = "jingzhun@localhost"
    smtp_security: str = "none"
    smtp_cafile: str | None = None
    timeout: float = 30.0
    robots: dict[str, tuple[str, str | None]] = field(default_factory=dict, repr=False)
    mailbox: Path = Path("mailbox")
    console: TextIO | None = None
    # What is wrong with the settings, by what it stops: "email" (the SMTP settings), "robot:NAME" (a
    # robot's), "links" (JINGZHUN_PUBLIC_URL). A channel whose settings are wrong fails its messages
    # with that text (retried: the settings are corrected and the server restarted); the others deliver.
    problems: dict[str, Msg] = field(default_factory=dict)

    @classmethod
    def from_env(cls, home: Path, environ: Mapping[str, str] | None = None) -> "NotifySettings":
        """The settings of the environment; a value that cannot be meant is noted in `problems` (and its
        default used), never raised: `check()` refuses them at start-up, in words."""
        env = os.environ if environ is None else environ
        problems: dict[str, Msg] = {}
        robots = {}
        for key, value in env.items():
            if key.startswith("JINGZHUN_ROBOT_") and not key.endswith("_SECRET"):
                name = key[len("JINGZHUN_ROBOT_"):].upper()
                robots[name] = (value, env.get(f"{key}_SECRET"))
                wrong = _robot_url_problem(key, name, value)
                if wrong is not None:
                    problems.setdefault(f"robot:{name}", wrong)
        host = (env.get("JINGZHUN_SMTP_HOST") or "").strip() or None
        port = _whole(env, "JINGZHUN_SMTP_PORT", 25, 1, 65535, problems)
        timeout = _seconds(env, "JINGZHUN_SMTP_TIMEOUT", 30.0, problems)
        security = (env.get("JINGZHUN_SMTP_SECURITY") or "none").strip().lower()
        if security not in SMTP_SECURITY:
            problems.setdefault("email", Msg("notify_setting.choice", {
                "name": "JINGZHUN_SMTP_SECURITY", "value": _shown(security), "known": ", ".join(SMTP_SECURITY)}))
        sender = env.get("JINGZHUN_SMTP_FROM", "jingzhun@localhost").strip()
        if not (_EMAIL.match(sender) or re.fullmatch(r"[^@\s]+@localhost", sender)):
            problems.setdefault("email", Msg("notify_setting.sender", {"name": "JINGZHUN_SMTP_FROM",
                                                                        "value": _shown(sender)}))
        if host is not None and ("://" in host or "/" in host or any(c.isspace() for c in host)):
            problems.setdefault("email", Msg("notify_setting.host", {"name": "JINGZHUN_SMTP_HOST", "value": _shown(host)}))
        user = env.get("JINGZHUN_SMTP_USER") or None
        if host and user and security == "none" and not is_loopback(host):
            problems.setdefault("email", Msg("notify_setting.plain_login", {"host": _shown(host)}))
        cafile = env.get("JINGZHUN_SMTP_CAFILE") or None
        if cafile is not None and not (os.path.isfile(cafile) and os.access(cafile, os.R_OK)):
            problems.setdefault("email", Msg("notify_setting.cafile", {"name": "JINGZHUN_SMTP_CAFILE",
                                                                        "value": _shown(cafile)}))
        wrong = public_url_problem(env.get("JINGZHUN_PUBLIC_URL"))
        if wrong is not None:
            problems["links"] = wrong
        return cls(smtp_host=host, smtp_port=port, smtp_user=user, smtp_password=env.get("JINGZHUN_SMTP_PASSWORD"),
                   smtp_from=sender, smtp_security=security if security in SMTP_SECURITY else "none",
                   smtp_cafile=cafile, timeout=timeout, robots=robots, mailbox=Path(home) / "mailbox",
                   problems=problems)

    def check(self) -> "NotifySettings":
        """Refuse settings that cannot be meant, each named with what is expected (exit 2)."""
        if self.problems:
            raise BadInput("notify_setting.refused", problems=list(self.problems.values()))
        return self


SMTP_SECURITY = ("none", "starttls", "ssl")


def _shown(value: str) -> str:
    """A setting's value as an error may quote it: one line, short, never a URL's key."""
    return plain_text(" ".join(str(value).split()))[:60] or "\"\""


def _whole(env: Mapping[str, str], name: str, default: int, low: int, high: int, problems: dict[str, Msg]) -> int:
    text = (env.get(name) or "").strip()
    if not text:
        return default
    if text.isascii() and text.isdigit() and low <= int(text) <= high:
        return int(text)
    problems.setdefault("email", Msg("notify_setting.whole", {"name": name, "value": _shown(text), "low": low,
                                                               "high": high}))
    return default


def _seconds(env: Mapping[str, str], name: str, default: float, problems: dict[str, Msg]) -> float:
    text = (env.get(name) or "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if 1 <= value <= 600:
        return value
    problems.setdefault("email", Msg("notify_setting.seconds", {"name": name, "value": _shown(text)}))
    return default


def _robot_url_problem(variable: str, name: str, url: str) -> Msg | None:
    """A robot's webhook: an https:// address (http:// only to this host), its name a robot's."""
    if not re.fullmatch(r"[A-Z][A-Z0-9_]{0,39}", name):
        return Msg("notify_setting.robot_name", {"name": variable})
    try:
        parts = urllib.parse.urlsplit(url.strip())
        host = parts.hostname or ""
        parts.port       # (a port that is not a number raises here)
    except ValueError:
        return Msg("notify_setting.robot_url", {"name": variable})
    if not host or parts.scheme not in ("https", "http") or (parts.scheme == "http" and not is_loopback(host)):
        return Msg("notify_setting.robot_url", {"name": variable})
    return None


def public_url_problem(url: str | None) -> Msg | None:
    """JINGZHUN_PUBLIC_URL, the address the links in messages begin with: http(s)://host[:port][/path]."""
    if url is None:
        return None
    try:
        parts = urllib.parse.urlsplit(url.strip())
        parts.port
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or parts.query \
            or parts.fragment or any(c.isspace() for c in url.strip()):
        return Msg("notify_setting.public_url", {"name": "JINGZHUN_PUBLIC_URL", "value": _shown(url)})
    return None


@dataclass
class Outgoing:
    """One outbox row as a channel sees it."""
    id: int
    channel: str
    address: str
    subject: str
    body: str
    dedupe_key: str
    created_at: datetime
    person: str = ""

    @property
    def message_id(self) -> str:
        digest = hashlib.sha256(self.dedupe_key.encode()).hexdigest()[:16]
        return f"<jingzhun.{self.id}.{digest}@jingzhun.invalid>"


class Email:
    """SMTP; one connection is kept for a batch and reopened after an error."""

    def __init__(self, settings: NotifySettings):
        self.s = settings
        self.conn: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        s = self.s
        if "email" in s.problems:       # a setting that cannot be meant: mail waits; other channels deliver
            raise DeliveryError("settings", {"problem": s.problems["email"]}, unreachable=True)
        if not s.smtp_host:
            raise DeliveryError("smtp_unconfigured", {}, unreachable=True)
        if s.smtp_security not in ("none", "starttls", "ssl"):
            raise DeliveryError("smtp_security", {"value": s.smtp_security}, unreachable=True)
        if s.smtp_user and s.smtp_security == "none" and not is_loopback(s.smtp_host):
            raise DeliveryError("smtp_plain_login", {"host": s.smtp_host}, unreachable=True)
        conn = None
        try:
            if s.smtp_security == "ssl":
                conn = smtplib.SMTP_SSL(s.smtp_host, s.smtp_port, timeout=s.timeout, context=self._tls())
            else:
                conn = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.timeout)
                if s.smtp_security == "starttls":
                    conn.starttls(context=self._tls())
            if s.smtp_user:
                conn.login(s.smtp_user, s.smtp_password or "")
            return conn
        except smtplib.SMTPAuthenticationError as exc:
            _quit(conn)
            raise DeliveryError("smtp_login_refused", {"code": exc.smtp_code}, unreachable=True) from None
        except ssl.SSLCertVerificationError as exc:
            _quit(conn)
            raise DeliveryError("smtp_untrusted", {"server": f"{s.smtp_host}:{s.smtp_port}",
                                                  "detail": plain_text(exc.verify_message or exc)}, unreachable=True) from None
        except (OSError, smtplib.SMTPException) as exc:
            _quit(conn)
            raise DeliveryError("smtp_unreachable", {"server": f"{s.smtp_host}:{s.smtp_port}",
                                                    "detail": f"{type(exc).__name__}: {plain_text(exc)}"},
                                unreachable=True) from None

    def _tls(self) -> ssl.SSLContext:
        """Certificate and host name checked, against the system's CAs or JINGZHUN_SMTP_CAFILE."""
        try:
            return ssl.create_default_context(cafile=self.s.smtp_cafile)
        except (OSError, ssl.SSLError) as exc:
            raise DeliveryError("smtp_cafile", {"detail": type(exc).__name__}, unreachable=True) from None

    def send(self, m: Outgoing) -> None:
        msg = EmailMessage()
        msg["From"] = self.s.smtp_from
        msg["To"] = m.address
        msg["Subject"] = m.subject
        msg["Date"] = format_datetime(m.created_at)
        msg["Message-ID"] = m.message_id
        msg["X-Jingzhun-Outbox"] = str(m.id)
        msg.set_content(m.body)
        if self.conn is None:
            self.conn = self._connect()
        try:
            refused = self.conn.send_message(msg, self.s.smtp_from, [m.address])
        except smtplib.SMTPRecipientsRefused as exc:
            code = next(iter(exc.recipients.values()))[0]
            self.close()
            raise DeliveryError("recipient_refused", {"code": code}, permanent=code >= 500) from None
        except smtplib.SMTPResponseException as exc:
            self.close()
            raise DeliveryError("smtp_answer", {"code": exc.smtp_code, "detail": plain_text(exc.smtp_error)},
                                permanent=exc.smtp_code >= 500) \
                from None
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise DeliveryError("smtp_lost", {"detail": type(exc).__name__}, unreachable=True) from None
        if refused:
            raise DeliveryError("recipients_refused", {"detail": str(refused)}, permanent=True)

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.quit()
            except (OSError, smtplib.SMTPException):
                pass
            self.conn = None


# Robot error codes worth retrying: WeCom 45009 (rate limit), -1 (system busy); DingTalk 130101
# (sending too fast), 410100 (temporary limit).
_TRANSIENT_CODES = {-1, 45009, 130101, 410100}


class Robot:
    """A WeCom or DingTalk group robot: JSON posted to its webhook."""

    def __init__(self, kind: str, settings: NotifySettings):
        self.kind, self.s = kind, settings

    def payload(self, m: Outgoing, mobile: str | None) -> dict[str, Any]:
        if self.kind == "wecom":
            if mobile:   # WeCom mentions by mobile only in text messages
                return {"msgtype": "text", "text": {"content": f"{m.subject}\n{m.body}",
                                                    "mentioned_mobile_list": [mobile]}}
            return {"msgtype": "markdown", "markdown": {"content": m.body}}
        text = m.body + (f"\n\n@{mobile}" if mobile else "")
        return {"msgtype": "markdown", "markdown": {"title": m.subject, "text": text},
                "at": {"atMobiles": [mobile] if mobile else [], "isAtAll": False}}

    def send(self, m: Outgoing) -> None:
        name, _, mobile = m.address.partition("/")
        found = self.s.robots.get(name.upper())
        if found is None:
            raise DeliveryError("robot_unconfigured", {"robot": name, "variable": f"JINGZHUN_ROBOT_{name.upper()}"},
                                unreachable=True)
        url, secret = found
        if f"robot:{name.upper()}" in self.s.problems:
            raise DeliveryError("settings", {"problem": self.s.problems[f"robot:{name.upper()}"]}, unreachable=True)
        if self.kind == "dingtalk" and secret:    # 加签: timestamp and HMAC-SHA256 of it
            stamp = str(int(time.time() * 1000))
            sign = base64.b64encode(hmac.new(secret.encode(), f"{stamp}\n{secret}".encode(),
                                             hashlib.sha256).digest()).decode()
            url += ("&" if "?" in url else "?") + urllib.parse.urlencode({"timestamp": stamp, "sign": sign})
        data = json.dumps(self.payload(m, mobile or None), ensure_ascii=False).encode()
        from urllib.request import Request, urlopen  # here: only a webhook's send needs them
        request = Request(url, data=data, method="POST",
                                         headers={"Content-Type": "application/json; charset=utf-8"})
        try:
            with urlopen(request, timeout=self.s.timeout) as response:
                answer = json.loads(response.read().decode() or "{}")
        except urllib.error.HTTPError as exc:
            raise DeliveryError("robot_http", {"robot": name, "code": exc.code},
                                permanent=400 <= exc.code < 500 and exc.code not in (408, 429)) from None
        except (urllib.error.URLError, OSError, socket.timeout) as exc:
            reason = getattr(exc, "reason", exc)
            raise DeliveryError("robot_unreachable", {"robot": name, "detail": type(reason).__name__},
                                unreachable=True) from None
        except ValueError:
            raise DeliveryError("robot_not_json", {"robot": name}) from None
        code = answer.get("errcode", 0)
        if code != 0:
            raise DeliveryError("robot_errcode", {"robot": name, "code": code,
                                                 "detail": str(answer.get("errmsg", ""))[:100]},
                                permanent=code not in _TRANSIENT_CODES)

    def close(self) -> None:
        pass


class Mailbox:
    """A folder per address under the mailbox; one file per message, written whole (rename), so a
    message delivered twice is the same file once. Folders 0700, files 0600."""

    def __init__(self, settings: NotifySettings):
        self.s = settings

    def send(self, m: Outgoing) -> None:
        folder = self.s.mailbox / m.address
        try:
            private_dir(self.s.mailbox)
            private_dir(folder)
            target = folder / f"{m.created_at:%Y%m%d}-{m.id:08d}.txt"
            tmp = folder / f".{target.name}.tmp"
            with open_private(tmp) as fh:
                fh.write(f"To: {m.person or m.address}\nDate: {format_datetime(m.created_at)}\n"
                         f"Subject: {m.subject}\nMessage-ID: {m.message_id}\n\n{m.body}\n")
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except OSError as exc:
            raise DeliveryError("mailbox", {"mailbox": m.address, "detail": exc.strerror}) from None

    def close(self) -> None:
        pass


class Console:
    def __init__(self, settings: NotifySettings):
        self.s = settings

    def send(self, m: Outgoing) -> None:
        stream = self.s.console or sys.stdout
        stream.write(f"--- {m.person} {m.subject}\n{m.body}\n")
        stream.flush()

    def close(self) -> None:
        pass


def is_loopback(host: str) -> bool:
    """A server on this host: credentials sent to it in clear never leave the machine."""
    name = host.strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _quit(conn) -> None:
    if conn is not None:
        try:
            conn.close()
        except OSError:
            pass


def route_of(channel: str, address: str) -> str:
    """What a message travels by: one SMTP server for all email, one webhook per robot."""
    if channel in ("wecom", "dingtalk"):
        return f"{channel}:{address.partition('/')[0].upper()}"
    return channel


def open_channels(settings: NotifySettings) -> dict[str, Any]:
    return {"email": Email(settings), "wecom": Robot("wecom", settings), "dingtalk": Robot("dingtalk", settings),
            "file": Mailbox(settings), "console": Console(settings)}


def plain_text(value: Any) -> str:
    text = value.decode(errors="replace") if isinstance(value, bytes) else str(value)
    return re.sub(r"https?://\S+", "<url>", text)[:200]
