"""Who is acting: tokens (only their hashes are stored), actors and their role assignments."""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

from engine.domain.regions import covers

# A login token is 192 random bits (`new_token`), so it is kept as its SHA-256, as enrolment codes
# and session secrets are: no search can find a 192-bit preimage, and a slow hash would only cost
# every command and API call its work (NIST SP 800-63B §5.1.2.2 asks a key-stretching hash only
# of secrets under 64 bits; passwords, which people choose, keep argon2id). Tokens issued before
# were kept as scrypt (N=2^14, r=8, p=1, the parameters stored with each); they are checked as such
# until their holder renews them.


def new_token() -> str:
    return secrets.token_urlsafe(24)


def credential_digest(stored_hash: str | None) -> str | None:
    """A short digest of a stored credential hash, for the audit log: whoever swaps the hash in the
    database is found by comparing (it reveals nothing of the secret, already only a hash)."""
    return None if stored_hash is None else hashlib.sha256(stored_hash.encode()).hexdigest()[:16]


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def hash_token(token: str) -> str:
    return f"sha256${_sha256(token)}"


def verify_token(token: str, stored: str | None) -> bool:
    if not stored or not token:
        # Spend the same work so a missing account is not faster to detect than a wrong token.
        hmac.compare_digest(_sha256(token or "-"), "0" * 64)
        return False
    scheme, _, rest = stored.partition("$")
    if scheme == "sha256":
        return hmac.compare_digest(_sha256(token), rest)
    if scheme != "scrypt":
        return False
    try:
        n, r, p, salt, digest = rest.split("$")
    except ValueError:
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
