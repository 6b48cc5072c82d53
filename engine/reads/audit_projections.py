"""The organisation's tables against its log: who holds which post, and whose credentials are which.

`audit verify` replays the organisation events (people added, posts granted and revoked, login tokens
issued, passwords set at enrolment) as it streams them, and then compares what they add up to with the
tables an operator could edit behind the engine's back: an assignment inserted, un-revoked or deleted,
a token hash or a password hash swapped. Each difference names the person (and the post) it concerns.
A credential is compared by a digest of its stored hash that its event carries (never the secret);
events written before they carried one set no expectation.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import json
from itertools import chain

from sqlalchemy import func, select

from engine.adapters import tables as t
from engine.domain.auth import credential_digest
from engine.domain.members import FIELDS, members_digest
from engine.reads import audit_canonical as raw
from engine.reads.audit_canonical import stream_rows
from engine.reads.audit_damage import RANGES_SHOWN, Damage, found, number_ranges

_ACTION = raw.ACTION
_REGION = raw.SORTED_FIELDS.index("region_code")
_CASE_SEQ, _SEQ = raw.CASE_SEQ, raw.SEQ


@dataclass
class Organisation:
    """What the organisation events add up to, as they stream in seq order."""
    posts: set[tuple[str, str, str]] = field(default_factory=set)       # (person, role, region) in force
    tokens: dict[str, str | None] = field(default_factory=dict)         # person -> digest of their token hash
    passwords: dict[str, str | None] = field(default_factory=dict)      # person -> digest of their password hash
    inactive: set[str] = field(default_factory=set)                     # persons deactivated (and not back)
    imports: list[tuple] = field(default_factory=list)     # (event number, seq, file, households, first, last case)

    def add(self, event: tuple, detail: dict) -> None:
        action, person = event[_ACTION], (detail or {}).get("person")
        if action == "households_imported" and isinstance(detail, dict) and detail.get("households"):
            self.imports.append((event[_CASE_SEQ], event[_SEQ], detail.get("file"), detail["households"],
                                 detail.get("first_case"), detail.get("last_case")))
        if action == "person_added":
            self.posts |= {(person, role, region) for role, region in detail.get("roles") or []}
        elif action == "role_granted":
            self.posts.add((person, detail.get("granted_role"), event[_REGION]))
        elif action == "role_revoked":
            self.posts.discard((person, detail.get("revoked_role"), event[_REGION]))
        elif action == "roles_confirmed":          # four eyes: the second administrator's confirmation
            self.posts |= {tuple(r) for r in detail.get("roles") or []}
        elif action == "person_deactivated":       # every post ends, every credential with it
            self.posts = {p for p in self.posts if p[0] != person}
            self.inactive.add(person)
        elif action == "person_reactivated":
            self.inactive.discard(person)
        if "credential" in (detail or {}):
            self.tokens[person] = detail["credential"]
        if "password" in (detail or {}):
            self.passwords[person] = detail["password"]

    def differences(self, conn) -> list[Damage]:
        return self._posts(conn) + self._credentials(conn) + self._active(conn) + self._imported(conn)

    def _imported(self, conn) -> list[Damage]:
        """Each registry import's households against the cases there are: the import's event records how
        many it made and its first and last case; one count of the cases in that range an import."""
        damage = []
        for number, seq, file, households, first, last in self.imports:
            if not isinstance(first, int) or not isinstance(last, int):
                continue
            in_range = (t.cases.c.id >= first) & (t.cases.c.id <= last)
            there = conn.execute(select(func.count()).select_from(t.cases).where(in_range)).scalar()
            if there >= households:
                continue
            where = {"case_seq": number, "seq": seq, "file": file, "households": households, "first": first,
                     "last": last, "there": there}
            if last - first + 1 != households:
                # not one block of numbers (PostgreSQL: another registration took numbers between)
                damage.append(found("import_cases_missing", "organisation_event", **where))
                continue
            damage.append(found("import_cases_missing", "organisation_event", "import_cases_missing_named",
                                missing=_numbers_missing(conn, in_range, first, last), **where))
        return damage

    def _active(self, conn) -> list[Damage]:
        """A person the log deactivated found active (able to sign in again), or one it never
        deactivated found inactive."""
        damage = []
        for code, active in conn.execute(select(t.persons.c.code, t.persons.c.active).order_by(t.persons.c.code)):
            if active and code in self.inactive:
                damage.append(found("person_active", "person", person=code))
            elif not active and code not in self.inactive:
                damage.append(found("person_inactive", "person", person=code))
        return damage

    def _posts(self, conn) -> list[Damage]:
        held = {tuple(r) for r in conn.execute(
            select(t.persons.c.code, t.role_assignments.c.role, t.role_assignments.c.region_code)
            .join(t.persons, t.persons.c.id == t.role_assignments.c.person_id)
            .where(t.role_assignments.c.revoked_at.is_(None)))}
        return ([found("post_unrecorded", "person_post", person=p, role=r, region=g) for p, r, g in sorted(held - self.posts)]
                + [found("post_missing", "person_post", person=p, role=r, region=g) for p, r, g in sorted(self.posts - held)])

    def _credentials(self, conn) -> list[Damage]:
        damage = []
        for code, token_hash in conn.execute(select(t.persons.c.code, t.persons.c.token_hash)):
            if code in self.tokens and self.tokens[code] != credential_digest(token_hash):
                damage.append(found("credential", "person", person=code))
        for code, password_hash in conn.execute(select(t.persons.c.code, t.passwords.c.hash).join(
                t.passwords, t.passwords.c.person_id == t.persons.c.id)):
            if code in self.passwords and self.passwords[code] != credential_digest(password_hash):
                damage.append(found("password", "person", person=code))
        return damage


def _numbers_missing(conn, in_range, first: int, last: int) -> str:
    """The case numbers from `first` to `last` that no case has, as ranges (streamed; the first few)."""
    ranges, previous = [], first - 1
    with stream_rows(conn, select(t.cases.c.id).where(in_range).order_by(t.cases.c.id)) as ids:
        for (case_id,) in chain(ids, [(last + 1,)]):
            if case_id > previous + 1:
                ranges.append((previous + 1, case_id - 1))
                if len(ranges) > RANGES_SHOWN:
                    break
            previous = case_id
    return number_ranges(ranges)


# --- households' members ---------------------------------------------------------------------------

MEMBER_EVENTS = ("case_registered", "member_added", "member_updated", "member_left", "head_changed")


def check_members(conn, case_id: int | None = None) -> list[Damage]:
    """Each household's member rows against the digest its last member event recorded (streamed in
    case order, both sides: memory stays flat); with `case_id`, that household's alone."""
    events = (select(t.audit_events.c.case_id, t.audit_events.c.detail)
              .where(t.audit_events.c.case_id.is_not(None), t.audit_events.c.action.in_(MEMBER_EVENTS))
              .order_by(t.audit_events.c.case_id, t.audit_events.c.case_seq))
    rows = (select(t.household_members.c.case_id, *[t.household_members.c[f] for f in FIELDS])
            .order_by(t.household_members.c.case_id, t.household_members.c.id))
    if case_id is not None:
        events = events.where(t.audit_events.c.case_id == case_id)
        rows = rows.where(t.household_members.c.case_id == case_id)
    damage = []
    with stream_rows(conn, events) as recorded, stream_rows(conn, rows) as members:
        stored = _Grouped(members)
        for case_id, digest in _last_digests(recorded):
            if members_digest(stored.of(case_id)) != digest:
                damage.append(found("members_changed", "case", case=case_id))
    return damage


def _last_digests(recorded):
    """(case, the members digest of its last event that carries one), in case order."""
    case, digest = None, None
    for case_id, detail in recorded:
        if case_id != case:
            if digest is not None:
                yield case, digest
            case, digest = case_id, None
        found_digest = _digest_in(detail)
        digest = found_digest or digest
    if digest is not None:
        yield case, digest


def _digest_in(detail) -> str | None:
    if isinstance(detail, str):
        if "members_digest" not in detail:
            return None
        detail = json.loads(detail)
    return (detail or {}).get("members_digest")


class _Grouped:
    """Member rows streamed in case order, taken a case at a time."""

    def __init__(self, rows):
        self.rows, self.next = rows, next(rows, None)

    def of(self, case_id: int) -> list[dict]:
        while self.next is not None and self.next[0] < case_id:
            self.next = next(self.rows, None)
        group = []
        while self.next is not None and self.next[0] == case_id:
            group.append(dict(zip(FIELDS, self.next[1:])))
            self.next = next(self.rows, None)
        return group


# --- the database's own guards ---------------------------------------------------------------------

# The triggers that keep the audit tables append-only (migrations 0002, 0003, 0004), per backend.
GUARDS = {
    "sqlite": ("accountability_outcomes_no_delete", "accountability_outcomes_no_update", "audit_checkpoints_no_delete",
               "audit_checkpoints_no_update", "audit_events_no_delete", "audit_events_no_update",
               "discipline_referrals_no_delete", "discipline_referrals_no_update", "problem_links_no_delete",
               "problem_links_no_update", "responsibilities_no_delete", "responsibilities_no_update"),
    "postgresql": ("accountability_outcomes_no_truncate", "accountability_outcomes_once", "audit_checkpoints_no_change",
                   "audit_events_no_change", "discipline_referrals_no_change", "problem_links_no_change",
                   "responsibilities_no_change"),
}
TRIGGER_QUERIES = {"sqlite": "SELECT name FROM sqlite_master WHERE type = 'trigger'",
             "postgresql": "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"}


# PostgreSQL: a trigger left in place but switched off (ALTER TABLE … DISABLE TRIGGER: 'D'; or made to
# fire only for replication: 'R') guards nothing, as if it were dropped.
DISABLED_QUERY = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgenabled IN ('D', 'R')"
# Migration 0004 takes UPDATE, DELETE and TRUNCATE on these tables from everyone, the owner (the
# application's role) too; any of them held again by anyone was given back.
REVOKED = ("audit_events", "audit_checkpoints")
PRIVILEGES_QUERY = (
    "SELECT c.relname, string_agg(DISTINCT a.privilege_type, ', ' ORDER BY a.privilege_type) FROM pg_class c "
    "CROSS JOIN LATERAL aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a "
    "WHERE c.relname IN (%s) AND c.relnamespace = to_regnamespace(current_schema()) " % ", ".join(f"'{name}'" for name in REVOKED) +
    "AND a.privilege_type IN ('UPDATE', 'DELETE', 'TRUNCATE') GROUP BY c.relname ORDER BY c.relname")


def check_guards(conn) -> list[Damage]:
    """The append-only triggers, each still in place and enabled (dropped or switched off, the log is
    open to edits), and on PostgreSQL the privileges to change the log still taken from every role."""
    from sqlalchemy import text
    dialect = conn.dialect.name
    if dialect not in GUARDS:
        return []
    present = set(conn.execute(text(TRIGGER_QUERIES[dialect])).scalars())
    damage = [found("guard_missing", "trigger", trigger=name) for name in GUARDS[dialect] if name not in present]
    if dialect == "postgresql":
        disabled = set(conn.execute(text(DISABLED_QUERY)).scalars())
        damage += [found("guard_missing", "trigger", "guard_disabled", trigger=name)
                   for name in GUARDS[dialect] if name in disabled]
        damage += [found("privilege_granted", "table", table=table, privileges=held)
                   for table, held in conn.execute(text(PRIVILEGES_QUERY))]
    return damage
