"""The record's keys, kept outside the database: a MAC key for every event and a signing key for heads.

Whoever holds the database alone can rewrite events and recompute their hashes; they cannot make the
MAC (HMAC-SHA256 over the event's hash) without the MAC key, nor sign a checkpoint or a published head
(Ed25519) without the signing key. The keys live in a key file beside the data home (keys/record.key,
or the path in JINGZHUN_KEY_FILE), readable by its owner only: the server process holds it. Anyone
checks a signed head with the public key alone, which is recorded in the log and published with it.

The file is a keyring: rotating adds a key and keeps the old ones, so events MACed before the rotation
still verify; each event names the key that MACed it (`key_id`, the first 16 hex digits of the SHA-256
of the key's public key).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import stat
from dataclasses import dataclass
from functools import cached_property
from datetime import datetime, timezone
from pathlib import Path

from engine.adapters.private_files import FILE_MODE, private_dir
from engine.domain.errors import BadInput

KEY_FILE = Path("keys") / "record.key"


@dataclass(frozen=True)
class RecordKey:
    mac_key: bytes
    seed: bytes            # the Ed25519 signing key's seed
    created_at: str
    public: str = ""       # its public key as the key file keeps it (hex): none in a file written before

    @property
    def public_key(self) -> str:
        return self.public or self.derived_public_key()

    def derived_public_key(self) -> str:
        """The public key its seed gives (loads the signing library)."""
        from nacl.signing import SigningKey
        return SigningKey(self.seed).verify_key.encode().hex()

    @property
    def key_id(self) -> str:
        return key_id_of(self.public_key)


def key_id_of(public_key: str) -> str:
    return hashlib.sha256(bytes.fromhex(public_key)).hexdigest()[:16]


class Hmac:
    """HMAC-SHA256 by one key (RFC 2104), its two padded key blocks hashed once: each MAC then only
    copies the two hash states. `hmac.digest` sets up both for every message, which took most of the
    time of checking a million events' MACs (3.4 µs a MAC against 1.3 µs here); the bytes are the same."""

    __slots__ = ("key", "inner", "outer")

    def __init__(self, key: bytes):
        self.key = key
        block = (hashlib.sha256(key).digest() if len(key) > 64 else key).ljust(64, b"\0")
        self.inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
        self.outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))

    def __reduce__(self):          # to a worker process of `audit verify`: hash states do not pickle
        return Hmac, (self.key,)

    def hexdigest(self, message: bytes) -> str:
        inner, outer = self.inner.copy(), self.outer.copy()
        inner.update(message)
        outer.update(inner.digest())
        return outer.hexdigest()


class Keyring:
    """The keys of one data home; the last is the one in use."""

    def __init__(self, keys: list[RecordKey], path: Path):
        self._keys = keys
        self.current = keys[-1]
        self.path = path

    # The keys' ids (their public keys' digests) found when first needed: deriving a public key loads
    # the signing library, which a command that writes no event (a read) has no use for.
    @cached_property
    def keys(self) -> dict[str, RecordKey]:
        return {k.key_id: k for k in self._keys}

    @cached_property
    def key_id(self) -> str:
        return self.current.key_id

    @cached_property
    def _macs(self) -> dict[str, Hmac]:
        return {key_id: Hmac(k.mac_key) for key_id, k in self.keys.items()}

    @cached_property
    def _mac(self) -> Hmac:
        return self._macs[self.key_id]

    def mac(self, digest: str) -> str:
        """The MAC of an event's hash by the key in use."""
        return self._mac.hexdigest(digest.encode())

    def mac_matches(self, key_id: str | None, digest: str, mac: str | None) -> bool | None:
        """Whether `mac` is the MAC of `digest` by key `key_id`; None when this keyring lacks that key."""
        by = self._macs.get(key_id or "")
        if by is None:
            return None
        # (a MAC edited into other than ASCII is simply wrong: compare_digest refuses to compare it)
        return mac is not None and mac.isascii() and hmac.compare_digest(by.hexdigest(digest.encode()), mac)

    def checked(self) -> "Keyring":
        """This keyring, each public key the file keeps checked against its seed: where the signing
        library is loaded anyway (signing, recording a key, verifying, rotating), a file whose public
        key is not its seed's (edited, merged, damaged) is refused before it names a wrong key."""
        for key in self._keys:
            if key.public and key.public != key.derived_public_key():
                raise BadInput("keys.file_unreadable", file=str(self.path))
        return self

    def sign(self, message: bytes) -> str:
        from nacl.signing import SigningKey
        self.checked()
        return SigningKey(self.current.seed).sign(message).signature.hex()


def signature_valid(public_key: str, message: bytes, signature: str) -> bool:
    """Whether `signature` is the Ed25519 signature of `message` by `public_key` (no secret needed)."""
    from nacl.exceptions import BadSignatureError
    from nacl.signing import VerifyKey
    try:
        VerifyKey(bytes.fromhex(public_key)).verify(message, bytes.fromhex(signature))
        return True
    except (BadSignatureError, ValueError):
        return False


def key_path(home: Path) -> Path:
    return Path(os.environ.get("JINGZHUN_KEY_FILE") or home / KEY_FILE)


def load_keyring(home: Path) -> Keyring | None:
    """The home's keyring, or None when it has none (a home made before keys, or a reader without
    access to them); refused when others than its owner may read the file."""
    path = key_path(home)
    try:
        with open(path, encoding="utf-8") as fh:
            if stat.S_IMODE(os.fstat(fh.fileno()).st_mode) & 0o077:
                raise BadInput("keys.file_readable", file=str(path))
            data = json.load(fh)
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        raise BadInput("keys.file_unreadable", file=str(path)) from None
    try:
        keys = [RecordKey(bytes.fromhex(k["mac_key"]), bytes.fromhex(k["seed"]), k["created_at"],
                          _hex_key(k.get("public_key", ""))) for k in data["keys"]]
    except (KeyError, TypeError, ValueError):
        raise BadInput("keys.file_unreadable", file=str(path)) from None
    return Keyring(keys, path)


def _hex_key(value: str) -> str:
    """A public key as the key file keeps it: 32 bytes in lower-case hex (or none, in a file written before)."""
    if value and (len(value) != 64 or value != bytes.fromhex(value).hex()):
        raise ValueError(value)
    return value


def new_key(home: Path) -> Keyring:
    """Add a fresh key to the home's keyring (creating it), written whole and renamed into place."""
    current = load_keyring(home)
    keys = list(current.checked().keys.values()) if current else []
    keys.append(RecordKey(os.urandom(32), os.urandom(32), datetime.now(timezone.utc).isoformat(timespec="seconds")))
    path = key_path(home)
    private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        # each key's public key kept beside it: a command checking MACs finds the keys' ids without
        # the signing library (a key file written before is read as it is)
        json.dump({"keys": [{"mac_key": k.mac_key.hex(), "seed": k.seed.hex(), "created_at": k.created_at,
                             "public_key": k.public_key}
                            for k in keys]}, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return Keyring(keys, path)
