"""Access to the server: passwords, one-time enrolment codes, browser sessions, the throttle on
failed sign-ins, and the lease that lets one process of many run the scheduler."""
from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Table, Text

from engine.adapters.schema_core import Id, metadata

# A person's password, set by the person at first sign-in with an enrolment code (argon2id).
passwords = Table(
    "passwords", metadata,
    Column("person_id", ForeignKey("persons.id"), primary_key=True),
    Column("hash", String(200), nullable=False),
    Column("set_at", DateTime(timezone=True), nullable=False),
)

# One-time enrolment codes: only their SHA-256 is kept; spent on first use, or replaced by a newer one.
enrolment_codes = Table(
    "enrolment_codes", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("person_id", ForeignKey("persons.id"), nullable=False, index=True),
    Column("code_hash", String(64), nullable=False, unique=True),
    Column("issued_by", ForeignKey("persons.id"), nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("delivery", String(20), nullable=False),     # channel kind, or "paper"
    Column("spent_at", DateTime(timezone=True)),
    Column("withdrawn_at", DateTime(timezone=True)),
)

# Browser sessions: the cookie carries a random secret, the row only its SHA-256; any worker can
# serve any request (the server keeps no session in memory).
web_sessions = Table(
    "web_sessions", metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("person_id", ForeignKey("persons.id"), nullable=False, index=True),
    Column("csrf", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("seen_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

# Failed sign-ins per key (the SHA-256 of "person:<code>" or "addr:<ip>"), in a sliding window.
sign_in_failures = Table(
    "sign_in_failures", metadata,
    Column("key", String(64), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("window_start", DateTime(timezone=True), nullable=False),
    Column("locked_until", DateTime(timezone=True)),
)

# A request sent again (Idempotency-Key): a phone on a weak signal that sent a form and lost the answer
# sends it again with the same key; the first answer is given again instead of the work done twice.
# Only the SHA-256 of the key with the sender's credential, method and path is kept; a row lives a day.
request_keys = Table(
    "request_keys", metadata,
    Column("key_hash", String(64), primary_key=True),
    Column("state", String(8), nullable=False),         # pending (being answered) or done
    Column("status", Integer),
    Column("headers", Text),                              # the answer's headers (JSON), not its cookies
    Column("body", LargeBinary),                          # NULL: too large to keep (said so when asked again)
    Column("request_sha", String(64)),                    # the first request's body (multipart boundary aside)
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_request_keys_created_at", "created_at"),
)

# Who runs the scheduler: the holder renews the lease while it lives; another process takes it
# only once it has expired.
scheduler_leases = Table(
    "scheduler_leases", metadata,
    Column("name", String(40), primary_key=True),
    Column("holder", String(100), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

# Four eyes: an approving role (one that signs off a procedure, or an administrator's) granted while
# another administrator covers its region waits here until a second administrator confirms it; only
# then is it a role assignment. `proposal_seq` is the organisation event that proposed it.
role_proposals = Table(
    "role_proposals", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("person_id", ForeignKey("persons.id"), nullable=False, index=True),
    Column("role", String(40), nullable=False),
    Column("region_code", ForeignKey("regions.code"), nullable=False),
    Column("proposed_by", ForeignKey("persons.id"), nullable=False),
    Column("proposed_at", DateTime(timezone=True), nullable=False),
    Column("proposal_seq", BigInteger, nullable=False),
    Column("status", String(10), nullable=False, index=True),       # pending, confirmed, refused
    Column("decided_by", ForeignKey("persons.id")),
    Column("decided_at", DateTime(timezone=True)),
    Column("reason", String(500)),
)
