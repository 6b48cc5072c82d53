"""Signing in to the server: enrolment codes, passwords, browser sessions, the throttle on failed
sign-ins, and API tokens for machine clients.

- An administrator never holds a working credential of another person. `issue_enrolment` makes a
  one-time code that reaches the person over their own channel (the administrator sees only where
  it went), or, for a person with no channel, on a paper slip handed over in person. The person
  spends it once, choosing their own password; a newer code withdraws older ones; a code expires
  after `enrolment.ENROLMENT_DAYS`. A browser holding an administrator's session cannot spend a code.
- Passwords are kept as argon2id hashes (argon2-cffi's defaults); session secrets, enrolment codes
  and throttle keys only as SHA-256 (they are random, or only need to be looked up).
- Sessions live in the database, so any worker of any instance serves any request.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.engine import Connection

from engine.adapters import tables as t
from engine.adapters.app import App
from engine.domain.auth import Actor, credential_digest, hash_token, new_token, verify_token
from engine.domain.errors import AuthError, BadInput, RuleViolation
from engine.domain.regions import ROOT, posts_region
from engine.reads.leaving import left_behind
from engine.services import handover
from engine.services.enrolment import Enrolment, enrol_in, normalise_code  # noqa: F401  (re-exported)
from engine.services.org import authenticate, load_actor, person_by_code, require_admin

SESSION_IDLE = timedelta(hours=2)        # signed out after two hours without a request
SESSION_MAX = timedelta(hours=12)        # and after a working day, whatever happens
SEEN_EVERY = timedelta(minutes=1)        # how often a session's last-seen time is written
THROTTLE_WINDOW = timedelta(minutes=15)
THROTTLE_PERSON = 5                      # failures per person code in the window before a lock
THROTTLE_ADDRESS = 30                    # failures per client address in the window
THROTTLE_TOKENS = 50                     # wrong API tokens per client address and person in the window
THROTTLE_TOKENS_ADDRESS = 500            # …and per address
THROTTLE_LOCK = timedelta(minutes=15)
PASSWORD_MIN = 8

# argon2id at argon2-cffi's defaults (t=3, m=64 MiB, p=4: RFC 9106's second choice), about 0.16 s a hash
# here; slow on purpose. Looked up at each use: the test suite puts a cheaper one in its place.
PASSWORDS = PasswordHasher()


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


# --- enrolment -------------------------------------------------------------------------------

def _admin_over(app: App, conn: Connection, actor: Actor, person_id: int, action: str):
    """The actor's administrator post over every post of the person, and the person's posts' regions.
    A person who holds no post any more is their last posts' administrators' (those that ended last:
    who left a village is still its county's to deactivate or take back); one never given a post,
    the whole country's."""
    ra = t.role_assignments.c
    regions = [r.region_code for r in conn.execute(select(ra.region_code).where(
        ra.person_id == person_id, ra.revoked_at.is_(None)))]
    last = regions or [r.region_code for r in conn.execute(select(ra.region_code).where(
        ra.person_id == person_id, ra.revoked_at == select(func.max(ra.revoked_at)).where(
            ra.person_id == person_id).scalar_subquery()))]
    assignment = None
    for region in last or [ROOT]:
        assignment = require_admin(app, actor, region, action)
    return assignment, regions


def issue_enrolment(app: App, actor: Actor, code: str, paper: bool = False, session: bool = False) -> Enrolment:
    """A one-time enrolment code for person `code`: sent over their channels, or (`paper`, or a
    person with no channel) returned for printing on a slip. Older unspent codes are withdrawn.
    `session`: asked from a browser's session, which may not issue one for its own person (a session
    left open would set itself a password with it, past the account page's current password)."""
    if session and code.strip().lower() == actor.code.lower():
        raise AuthError("enrol.self_from_session", person=actor.code)
    with app.unit_of_work() as uow:
        person = person_by_code(uow.conn, code)
        if not person.active:
            raise BadInput("enrol.inactive", person=code)
        assignment, posts = _admin_over(app, uow.conn, actor, person.id, "person enrol")
        return enrol_in(app, uow, actor, assignment, person, paper, where=posts_region(posts))


def check_password(password: str, code: str) -> None:
    if len(password) < PASSWORD_MIN:
        raise BadInput("password.too_short", least=PASSWORD_MIN)
    if password.isdigit() and len(set(password)) <= 2 or password.lower() == code.lower():
        raise BadInput("password.too_plain")


def redeem_enrolment(app: App, code: str, enrolment_code: str, password: str, address: str = "-",
                     admin_session: bool = False) -> Actor:
    """The person spends their enrolment code and sets their password; returns them signed in."""
    if admin_session:
        raise AuthError("enrol.admin_session")
    check_password(password, code)
    return _spend(app, code, enrolment_code, PASSWORDS.hash(password), None, address)


def activate(app: App, code: str, enrolment_code: str, password: str | None = None,
             address: str = "-") -> tuple[Actor, str]:
    """The person spends their enrolment code for their own login token (the CLI's and the API's),
    setting their password too when they give one; returns them and the token, shown once."""
    if password is not None:
        check_password(password, code)
    token = new_token()
    stored = hash_token(token)
    actor = _spend(app, code, enrolment_code, PASSWORDS.hash(password) if password else None, stored, address)
    return actor, token


def activate_all(app: App, enrolments: dict) -> dict[str, str]:
    """`activate` for many people at once, each with their own paper code (`Enrolment`s of
    `add_persons`): what the demo county does, playing all its people."""
    codes = {person: e.code for person, e in enrolments.items() if e.code}
    tokens = {person: new_token() for person in codes}
    for person, code in codes.items():
        _spend(app, person, code, None, hash_token(tokens[person]), "-")
    return tokens


def _spend(app: App, code: str, enrolment_code: str, password_hash: str | None, token_hash: str | None,
           address: str) -> Actor:
    _refuse_if_locked(app, code, address)
    now, digest = app.clock.now(), _sha(normalise_code(enrolment_code))
    with app.unit_of_work() as uow:
        conn = uow.conn
        person = conn.execute(select(t.persons).where(t.persons.c.code == code)).first()
        row = person and conn.execute(select(t.enrolment_codes).where(
            t.enrolment_codes.c.person_id == person.id, t.enrolment_codes.c.code_hash == digest)).first()
        actor = None
        if row and person.active and not row.spent_at and not row.withdrawn_at and _utc(row.expires_at) > now:
            conn.execute(update(t.enrolment_codes).where(t.enrolment_codes.c.id == row.id).values(spent_at=now))
            _store_credentials(conn, person.id, password_hash, token_hash, now)
            actor = load_actor(conn, person, app.keyring)
            uow.append_org_event(actor, "enrolment_spent", None, _posts(actor), person=code, delivery=row.delivery,
                                 **_digests(password_hash, token_hash))
            _tell(app, conn, actor, "activated", now)
    if actor is None:
        _record_failure(app, code, address)
        raise AuthError("enrol.bad_code")
    _clear_failures(app, code)
    return actor


def _store_credentials(conn: Connection, person_id: int, password_hash: str | None, token_hash: str | None,
                       now: datetime, keep_session: str | None = None) -> None:
    """New credentials; a new password ends every session of the person but `keep_session` (a secret)."""
    if password_hash is not None:
        conn.execute(delete(t.passwords).where(t.passwords.c.person_id == person_id))
        conn.execute(insert(t.passwords).values(person_id=person_id, hash=password_hash, set_at=now))
        conn.execute(delete(t.web_sessions).where(t.web_sessions.c.person_id == person_id,
                                                  t.web_sessions.c.id_hash != _sha(keep_session or "")))
    if token_hash is not None:
        conn.execute(update(t.persons).where(t.persons.c.id == person_id).values(token_hash=token_hash))


def _posts(actor: Actor) -> str | None:
    """A person's own credential event is filed where their posts are: their region's inspectors see
    who took up or renewed an account there."""
    return posts_region(a.region_code for a in actor.assignments)


def _digests(password_hash: str | None, token_hash: str | None) -> dict[str, str | None]:
    """The credential digests an event carries, so that `audit verify` finds a swapped hash."""
    found = {"password": credential_digest(password_hash)} if password_hash is not None else {}
    return found | ({"credential": credential_digest(token_hash)} if token_hash is not None else {})


def renew_token(app: App, actor: Actor) -> str:
    """A new login token for the actor themselves (the old one stops working), shown once. Nobody
    can make one for somebody else: an administrator issues an enrolment code instead."""
    token = new_token()
    stored = hash_token(token)
    with app.unit_of_work() as uow:
        _store_credentials(uow.conn, actor.person_id, None, stored, app.clock.now())
        uow.append_org_event(actor, "token_issued", None, _posts(actor), person=actor.code, **_digests(None, stored))
        _tell(app, uow.conn, actor, "token", app.clock.now())
    forget_tokens()
    return token


def change_password(app: App, actor: Actor, current: str, password: str, address: str = "-",
                    keep_session: str | None = None) -> None:
    """From a signed-in browser: the person's current password first (a session left open on a
    shared computer cannot take the account over); wrong ones count towards the sign-in lock."""
    confirm_password(app, actor, current, address)
    set_password(app, actor, password, keep_session)


def confirm_password(app: App, actor: Actor, current: str, address: str = "-") -> None:
    """The person's current password, asked before a browser's session changes their credentials (a
    password, a new login token): a session left open on a shared computer cannot take the account
    over. Wrong ones count towards the sign-in lock."""
    _refuse_if_locked(app, actor.code, address)
    with app.engine.connect() as conn:
        stored = conn.execute(select(t.passwords.c.hash).where(t.passwords.c.person_id == actor.person_id)).scalar()
    if not _verify(stored, current or ""):
        _record_failure(app, actor.code, address)
        raise AuthError("password.wrong_current")


def set_password(app: App, actor: Actor, password: str, keep_session: str | None = None) -> None:
    """The actor sets their own password for the server's sign-in (their sessions end, but the one
    of `keep_session`, the browser they changed it from)."""
    check_password(password, actor.code)
    hashed = PASSWORDS.hash(password)
    with app.unit_of_work() as uow:
        _store_credentials(uow.conn, actor.person_id, hashed, None, app.clock.now(), keep_session)
        uow.append_org_event(actor, "password_set", None, _posts(actor), person=actor.code, **_digests(hashed, None))
        _tell(app, uow.conn, actor, "password", app.clock.now())


def _tell(app: App, conn: Connection, actor: Actor, what: str, now: datetime) -> None:
    """The person hears of it over their own channels (if it was not them, they know at once)."""
    channels = app.plugins.channels_of(conn, [actor.person_id]).get(actor.person_id, [])
    if channels:
        app.plugins.enqueue_credential_notice(app, conn, actor, channels, what, now)


# --- leaving and coming back -------------------------------------------------------------------

REASON_MOST = 500


@dataclass
class Left:
    """What a person's leaving ended and handed over: posts (role, region) and the deadlines found
    another owner ({deadline, case, from, to, role}; `to` None: nobody holds the post now)."""
    posts: list[tuple[str, str]]
    handed: list[dict]
    leaves: dict          # engine.reads.leaving.left_behind, after: posts left vacant, households unpaired


def deactivate(app: App, actor: Actor, code: str, reason: str) -> list[tuple[str, str]]:
    """`leave`, returning the posts ended, (role, region) each."""
    return leave(app, actor, code, reason).posts


def leave(app: App, actor: Actor, code: str, reason: str) -> Left:
    """Person `code` leaves (transferred, retired, dismissed): every post they hold ends, and every
    credential with it (password, login token, open sessions, unspent first sign-in codes), as do
    proposals of posts for them; they can no longer sign in nor be reached. The deadlines they owned
    go at once to whoever now holds the posts that own them, or to nobody until a successor is
    appointed (engine/services/handover.py). One organisation event, with `reason`, names the posts
    ended; another the deadlines handed over."""
    reason = (reason or "").strip()
    if not reason:
        raise BadInput("person.leave_reason", person=code)
    if len(reason) > REASON_MOST:
        raise BadInput("person.leave_reason_long", most=REASON_MOST)
    with app.unit_of_work() as uow:
        conn, now = uow.conn, app.clock.now()
        uow.lock_organisation()
        person = person_by_code(conn, code)
        if person.id == actor.person_id:
            raise RuleViolation("duty.self_deactivate", person=person.code)
        if not person.active:
            raise BadInput("person.inactive_already", person=person.code)
        assignment, regions = _admin_over(app, conn, actor, person.id, "person deactivate")
        ra, rp = t.role_assignments.c, t.role_proposals.c
        posts = [(r.role, r.region_code) for r in conn.execute(select(ra.role, ra.region_code).where(
            ra.person_id == person.id, ra.revoked_at.is_(None)).order_by(ra.id))]
        conn.execute(update(t.role_assignments).where(ra.person_id == person.id, ra.revoked_at.is_(None))
                     .values(revoked_at=now))
        proposals = list(conn.execute(select(rp.id).where(rp.person_id == person.id, rp.status == "pending")
                                      .order_by(rp.id)).scalars())
        if proposals:
            conn.execute(update(t.role_proposals).where(rp.id.in_(proposals)).values(
                status="refused", decided_by=actor.person_id, decided_at=now, reason=reason))
        conn.execute(update(t.persons).where(t.persons.c.id == person.id).values(active=False, token_hash=None))
        conn.execute(delete(t.passwords).where(t.passwords.c.person_id == person.id))
        conn.execute(delete(t.web_sessions).where(t.web_sessions.c.person_id == person.id))
        conn.execute(update(t.enrolment_codes).where(
            t.enrolment_codes.c.person_id == person.id, t.enrolment_codes.c.spent_at.is_(None),
            t.enrolment_codes.c.withdrawn_at.is_(None)).values(withdrawn_at=now))
        uow.append_org_event(actor, "person_deactivated", assignment.role, posts_region(regions) or assignment.region_code,
                             fields={"reason": reason}, person=person.code, posts=[list(p) for p in posts],
                             proposals=proposals, credential=None, password=None)
        handed = handover.hand_over(app, uow, actor, assignment.role, posts_region(regions) or assignment.region_code,
                                    "person_deactivated", handover.owned_by(conn, person.id), person=person.code)
        leaves = left_behind(app, conn, person_by_code(conn, code), now)
    forget_tokens()
    return Left(posts, handed, leaves)


def reactivate(app: App, actor: Actor, code: str) -> None:
    """A person deactivated by mistake, or come back, is active again: with no post (grant them)
    and no credential (issue a first sign-in code): nothing they held is given back by itself."""
    with app.unit_of_work() as uow:
        conn = uow.conn
        uow.lock_organisation()
        person = person_by_code(conn, code)
        if person.active:
            raise BadInput("person.active_already", person=person.code)
        assignment, _ = _admin_over(app, conn, actor, person.id, "person reactivate")
        conn.execute(update(t.persons).where(t.persons.c.id == person.id).values(active=True))
        uow.append_org_event(actor, "person_reactivated", assignment.role, assignment.region_code, person=person.code)


def set_unit(app: App, actor: Actor, code: str, unit: str) -> None:
    """Record the unit a person works for (工作单位; a unit head's: the unit he heads, which a fund project
    naming him as its responsible unit's head must name), by an administrator over the person's posts,
    with its event (the unit before and after)."""
    unit = (unit or "").strip()
    if not unit or len(unit) > 100:
        raise BadInput("person.bad_unit")
    with app.unit_of_work() as uow:
        conn = uow.conn
        uow.lock_organisation()
        person = person_by_code(conn, code)
        assignment, _ = _admin_over(app, conn, actor, person.id, "person unit")
        conn.execute(update(t.persons).where(t.persons.c.id == person.id).values(unit=unit))
        uow.append_org_event(actor, "person_unit_set", assignment.role, assignment.region_code, person=person.code,
                             unit=unit, before=person.unit)


# --- sign-in and its throttle ------------------------------------------------------------------

def _keys(code: str, address: str) -> list[tuple[str, int]]:
    return [(_sha("person:" + code.strip().lower()), THROTTLE_PERSON), (_sha("addr:" + address), THROTTLE_ADDRESS)]


def _token_keys(code: str, address: str) -> list[tuple[str, int]]:
    """A client's wrong API tokens count by its address and the person named (a stale script's old token
    holds off that person's tokens from that address, never another person's), and by its address
    alone at a higher limit (one client trying many people's)."""
    return [(_sha(f"token:{address}:{code.strip().lower()}"), THROTTLE_TOKENS),
            (_sha("token-addr:" + address), THROTTLE_TOKENS_ADDRESS)]


def _refuse_if_locked(app: App, code: str, address: str, keys: list[tuple[str, int]] | None = None) -> None:
    now = app.clock.now()
    with app.transaction() as conn:
        for key, _limit in keys or _keys(code, address):
            row = conn.execute(select(t.sign_in_failures.c.locked_until).where(
                t.sign_in_failures.c.key == key)).first()
            if row and row.locked_until and _utc(row.locked_until) > now:
                minutes = max(1, int((_utc(row.locked_until) - now).total_seconds() // 60) + 1)
                raise AuthError("signin.throttled", minutes=minutes)


def _record_failure(app: App, code: str, address: str, keys: list[tuple[str, int]] | None = None) -> None:
    """Count a failure against each key; first drop every row whose window has passed and which holds no
    lock (made-up person codes a scanner tries would otherwise stay for ever: only a sign-in clears a
    row). What is left is the failures of one window, so the table stays small and the scan cheap."""
    now = app.clock.now()
    passed = t.sign_in_failures.c.window_start < now - THROTTLE_WINDOW
    unlocked = or_(t.sign_in_failures.c.locked_until.is_(None), t.sign_in_failures.c.locked_until <= now)
    with app.transaction() as conn:
        conn.execute(delete(t.sign_in_failures).where(passed, unlocked))
        for key, limit in keys or _keys(code, address):
            row = conn.execute(select(t.sign_in_failures).where(t.sign_in_failures.c.key == key)).first()
            if row is None:
                conn.execute(insert(t.sign_in_failures).values(key=key, failures=1, window_start=now))
                continue
            fresh = now - _utc(row.window_start) > THROTTLE_WINDOW
            failures = 1 if fresh else row.failures + 1
            conn.execute(update(t.sign_in_failures).where(t.sign_in_failures.c.key == key).values(
                failures=failures, window_start=now if fresh else row.window_start,
                locked_until=now + THROTTLE_LOCK if failures >= limit else row.locked_until))


def _clear_failures(app: App, code: str) -> None:
    with app.transaction() as conn:
        conn.execute(delete(t.sign_in_failures).where(t.sign_in_failures.c.key == _keys(code, "-")[0][0]))


def sign_in(app: App, code: str, password: str, address: str = "-") -> Actor:
    """The person, if `password` is theirs; one refusal for every wrong code or password, so the
    answer tells nobody which person codes exist."""
    code = (code or "").strip()
    _refuse_if_locked(app, code, address)
    with app.transaction() as conn:
        person = _person_by_code(conn, code) if code else None
        stored = person and conn.execute(select(t.passwords.c.hash).where(
            t.passwords.c.person_id == person.id)).scalar()
        ok = _verify(stored, password or "") and bool(person and person.active)
        actor = load_actor(conn, person, app.keyring) if ok else None
    if actor is None:
        _record_failure(app, code, address)
        raise AuthError("signin.failed")
    _clear_failures(app, code)
    return actor


def _person_by_code(conn, code: str):
    """The person of this code, or of this code typed in another case (V01_secretary on a phone's
    keyboard) when exactly one person's code reads so."""
    person = conn.execute(select(t.persons).where(t.persons.c.code == code)).first()
    if person is None:
        found = conn.execute(select(t.persons).where(func.lower(t.persons.c.code) == code.lower()).limit(2)).all()
        person = found[0] if len(found) == 1 else None
    return person


@lru_cache(maxsize=1)
def _dummy() -> str:
    """A hash to verify against when the person has none (the same time either way): made on first
    use, not at import — hashing costs 0.16 s, which every CLI command paid at start-up."""
    return PASSWORDS.hash("not a password of anyone")


def _verify(stored: str | None, password: str) -> bool:
    try:
        return PASSWORDS.verify(stored or _dummy(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


# --- sessions ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Session:
    actor: Actor
    csrf: str
    expires_at: datetime


def open_session(app: App, actor: Actor) -> tuple[str, str]:
    """A new session for `actor`: (the cookie's secret, the CSRF token of its forms)."""
    secret, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = app.clock.now()
    with app.transaction() as conn:
        conn.execute(delete(t.web_sessions).where(t.web_sessions.c.expires_at < now))
        conn.execute(insert(t.web_sessions).values(id_hash=_sha(secret), person_id=actor.person_id, csrf=csrf,
                                                   created_at=now, seen_at=now, expires_at=now + SESSION_MAX))
    return secret, csrf


def session_of(app: App, secret: str | None) -> Session | None:
    """The live session the cookie's secret opens, with its person's roles as they are now."""
    if not secret:
        return None
    now = app.clock.now()
    with app.transaction() as conn:
        row = conn.execute(select(t.web_sessions).where(t.web_sessions.c.id_hash == _sha(secret))).first()
        if row is None:
            return None
        if _utc(row.expires_at) <= now or now - _utc(row.seen_at) > SESSION_IDLE:
            conn.execute(delete(t.web_sessions).where(t.web_sessions.c.id_hash == row.id_hash))
            return None
        person = conn.execute(select(t.persons).where(t.persons.c.id == row.person_id)).first()
        if person is None or not person.active:
            return None
        if now - _utc(row.seen_at) > SEEN_EVERY:
            conn.execute(update(t.web_sessions).where(t.web_sessions.c.id_hash == row.id_hash).values(seen_at=now))
        return Session(load_actor(conn, person, app.keyring), row.csrf, _utc(row.expires_at))


def close_session(app: App, secret: str | None) -> None:
    if secret:
        with app.transaction() as conn:
            conn.execute(delete(t.web_sessions).where(t.web_sessions.c.id_hash == _sha(secret)))


def csrf_masked(token: str) -> str:
    """The session's form token as a page carries it: a fresh random mask, then the token XORed with it.
    Each page's text differs, so the size of a compressed page says nothing of the token when the page
    also echoes what someone typed (BREACH); `csrf_ok` takes it back."""
    raw = token.encode()
    mask = secrets.token_bytes(len(raw))
    return base64.urlsafe_b64encode(mask + bytes(a ^ b for a, b in zip(raw, mask))).decode().rstrip("=")


def csrf_ok(expected: str, token: str | None) -> bool:
    """Whether a form's or header's token is the session's, as a page carried it (masked) or as it is
    (compared in constant time)."""
    if not token:
        return False
    if hmac.compare_digest(expected.encode(), token.encode()):
        return True
    raw = expected.encode()
    try:
        both = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (ValueError, binascii.Error):
        return False
    if len(both) != 2 * len(raw):
        return False
    return hmac.compare_digest(bytes(a ^ b for a, b in zip(both[len(raw):], both[:len(raw)])), raw)


# --- API tokens -------------------------------------------------------------------------------

_verified: dict[str, tuple[float, int, str]] = {}
_verified_lock = threading.Lock()
TOKEN_CACHE_SECONDS = 60.0


def api_actor(app: App, code: str | None, token: str | None, address: str | None = None) -> Actor:
    """The person an API token belongs to. A token checked in the last minute is recognised without
    reading its person's hash again (the roles are read every time; a token issued before tokens were
    kept as SHA-256 is still checked by scrypt, slow on purpose, otherwise).
    From a client `address`, wrong tokens are counted (_token_keys): past THROTTLE_TOKENS for the
    person named from that address, or THROTTLE_TOKENS_ADDRESS from it for anyone, tokens are refused
    unchecked until the lock ends."""
    if not code or not token:
        raise AuthError("auth.no_token", person=code or "-")
    key = _sha(f"{code}\0{token}")
    with _verified_lock:
        hit = _verified.get(key)
    if hit and time.monotonic() - hit[0] < TOKEN_CACHE_SECONDS:
        with app.transaction() as conn:
            person = conn.execute(select(t.persons).where(t.persons.c.id == hit[1])).first()
            if person is not None and person.active and person.token_hash == hit[2]:
                return load_actor(conn, person, app.keyring)
    if address is None:
        actor = authenticate(app, code, token)
    else:
        _refuse_if_locked(app, code, address, _token_keys(code, address))
        try:
            actor = authenticate(app, code, token)
        except AuthError:
            _record_failure(app, code, address, _token_keys(code, address))
            raise
    with app.transaction() as conn:
        stored = conn.execute(select(t.persons.c.token_hash).where(t.persons.c.id == actor.person_id)).scalar()
    if stored is None or not (stored == hash_token(token) or verify_token(token, stored)):
        return actor        # renewed or ended since it was checked: remembered as this token's hash only
    with _verified_lock:
        if len(_verified) > 10000:
            _verified.clear()
        _verified[key] = (time.monotonic(), actor.person_id, stored)
    return actor


def forget_tokens() -> None:
    with _verified_lock:
        _verified.clear()
