"""The record's keyring: MACs by the key in use, old keys kept on rotation, heads signed and checked
with the public key alone, the file its owner's only."""
from __future__ import annotations

import os
import stat

import pytest
from hypothesis import given, strategies as st

from engine.adapters.keyring import load_keyring, new_key, signature_valid
from engine.domain.errors import BadInput

DIGEST = "ab" * 32


def test_a_rotated_keyring_still_verifies_what_the_old_key_made(tmp_path):
    first = new_key(tmp_path)
    old_mac = first.mac(DIGEST)
    second = new_key(tmp_path)
    assert second.key_id != first.key_id and len(second.keys) == 2
    assert second.mac_matches(first.key_id, DIGEST, old_mac) is True
    assert second.mac_matches(second.key_id, DIGEST, old_mac) is False        # not the key in use's MAC
    assert second.mac_matches("0" * 16, DIGEST, old_mac) is None              # a key it never had
    assert second.mac_matches(first.key_id, "cd" * 32, old_mac) is False      # another event's hash
    assert stat.S_IMODE(os.stat(second.path).st_mode) == 0o600
    assert load_keyring(tmp_path).key_id == second.key_id


@given(key=st.binary(min_size=1, max_size=200), message=st.binary(max_size=300))
def test_the_mac_is_hmac_sha256(key, message):
    """The keyring's MAC (its key's padded blocks hashed once) is the standard library's HMAC-SHA256."""
    import hmac
    from engine.adapters.keyring import Hmac
    assert Hmac(key).hexdigest(message) == hmac.digest(key, message, "sha256").hex()


def test_a_mac_edited_into_other_than_ascii_is_wrong_not_an_error(tmp_path):
    ring = new_key(tmp_path)
    assert ring.mac_matches(ring.key_id, DIGEST, "é" * 64) is False


def test_a_head_is_checked_with_the_public_key_alone(tmp_path):
    ring = new_key(tmp_path)
    signature = ring.sign(b"53755:" + DIGEST.encode())
    assert signature_valid(ring.current.public_key, b"53755:" + DIGEST.encode(), signature)
    assert not signature_valid(ring.current.public_key, b"53756:" + DIGEST.encode(), signature)
    assert not signature_valid(new_key(tmp_path / "other").current.public_key, b"53755:" + DIGEST.encode(), signature)
    assert not signature_valid(ring.current.public_key, b"x", "not hex")


def test_a_key_file_others_can_read_is_refused(tmp_path):
    ring = new_key(tmp_path)
    os.chmod(ring.path, 0o644)
    with pytest.raises(BadInput) as refused:
        load_keyring(tmp_path)
    assert refused.value.code == "keys.file_readable"
    assert load_keyring(tmp_path / "none") is None


def test_the_key_file_keeps_each_public_key_and_one_written_before_is_read_the_same(tmp_path):
    """Each key's public key is kept beside it, the one its seed gives: a command checking MACs finds
    the keys' ids from the file. A file written before (no public keys) gives the same ids."""
    import json

    from nacl.signing import SigningKey
    ring = new_key(tmp_path)
    ring = new_key(tmp_path)
    kept = json.loads(ring.path.read_text(encoding="utf-8"))["keys"]
    assert [k["public_key"] for k in kept] == [SigningKey(bytes.fromhex(k["seed"])).verify_key.encode().hex()
                                               for k in kept]
    read = load_keyring(tmp_path)
    for k in kept:
        del k["public_key"]
    ring.path.write_text(json.dumps({"keys": kept}), encoding="utf-8")
    before = load_keyring(tmp_path)
    assert list(before.keys) == list(read.keys) == list(ring.keys) and before.key_id == read.key_id == ring.key_id
    assert before.mac_matches(read.key_id, DIGEST, read.mac(DIGEST)) is True


@pytest.mark.parametrize("public", ["ff" * 32, "not a key", "FF" * 32, 7])
def test_a_key_file_whose_public_key_is_not_its_seed_s_is_refused_before_it_names_a_wrong_key(tmp_path, public):
    """A public key edited, merged or damaged: one that is no key is refused as the file is read; one
    that is another key's, wherever the signing library is at hand (signing a head, recording or
    rotating a key, verifying), before it would sign, record or check under a wrong key."""
    import json
    ring = new_key(tmp_path)
    data = json.loads(ring.path.read_text(encoding="utf-8"))
    data["keys"][0]["public_key"] = public
    ring.path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(BadInput) as refused:
        read = load_keyring(tmp_path)
        read.sign(b"x")
    assert refused.value.code == "keys.file_unreadable"
    with pytest.raises(BadInput):
        new_key(tmp_path)                   # nor carried into the next file
    assert json.loads(ring.path.read_text(encoding="utf-8"))["keys"][0]["public_key"] == public
