"""Who is acting: tokens (only scrypt hashes are stored), actors and their role assignments."""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

from engine.domain.regions import covers

# scrypt N=2^14, r=8, p=1 (16 MiB, the scrypt paper's interactive setting). Tokens are
# 192-bit random strings, so the work factor is defence in depth, not what protects them.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2 ** 14, 8, 1


def new_token() -> str:
    return secrets.token_urlsafe(24)


def credential_digest(stored_hash: str | None) -> str | None:
    """A short digest of a stored credential hash, for the audit log: whoever swaps the hash in the
    database is found by comparing (it reveals nothing of the secret, already only a salted hash)."""
    return None if stored_hash is None else hashlib.sha256(stored_hash.encode()).hexdigest()[:16]


def hash_token(token: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(token.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P,
                            maxmem=64 * 1024 * 1024, dklen=32)
    b64 = lambda b: base64.b64encode(b).decode()  # noqa: E731
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${b64(salt)}${b64(digest)}"


def verify_token(token: str, stored: str | None) -> bool:
    if not stored or not token:
        # Spend the same work so a missing account is not faster to detect than a wrong token.
        hashlib.scrypt(b"x", salt=b"0" * 16, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P,
                       maxmem=64 * 1024 * 1024, dklen=32)
        return False
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    got = hashlib.scrypt(token.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                         maxmem=64 * 1024 * 1024, dklen=32)
    return hmac.compare_digest(got, base64.b64decode(digest))


@dataclass(frozen=True)
class Assignment:
    role: str
    region_code: str


@dataclass(frozen=True)
class Actor:
    """An authenticated person with the role assignments in force when they logged in."""
    person_id: int
    code: str
    name: str
    assignments: tuple[Assignment, ...] = field(default_factory=tuple)

    def roles_over(self, region_code: str) -> list[Assignment]:
        return [a for a in self.assignments if covers(a.region_code, region_code)]

    def first_role(self, roles, region_code: str) -> Assignment | None:
        for a in self.assignments:
            if a.role in roles and covers(a.region_code, region_code):
                return a
        return None
