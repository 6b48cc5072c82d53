"""JSON written by an encoder made once (engine.domain.json_text) is the text the standard library writes:
the JSON columns, an event's canonical form and hash, and the digests are the same bytes as before."""
from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings, strategies as st

from engine.domain.audit import HASHED_FIELDS, event_hash, json_default
from engine.domain.json_text import dumps, encoder, loads

CANONICAL = dict(sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=json_default)

scalars = (st.none() | st.booleans() | st.integers(-2 ** 70, 2 ** 70) | st.floats() | st.text(max_size=12)
           # a time in China's zone on 1 January of year 1 is in year 0 in UTC, which no datetime holds
           | st.dates() | st.datetimes(min_value=datetime(1, 1, 2), timezones=st.just(timezone(timedelta(hours=8)))))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
                      | st.dictionaries(st.text(max_size=6), inner, max_size=4), max_leaves=12)


def written(encode, value) -> str:
    """What `encode` writes, or the error it raises, as text."""
    try:
        return encode(value)
    except (TypeError, ValueError, OverflowError) as error:   # a time of year 1 east of UTC: before year 1 in UTC
        return f"{type(error).__name__}: {error}"


@settings(max_examples=300, deadline=None)
@given(value=values)
def test_a_value_is_written_as_the_standard_library_writes_it(value):
    assert written(dumps, value) == written(json.dumps, value)
    assert written(encoder(**CANONICAL), value) == written(json.JSONEncoder(**CANONICAL).encode, value)


@settings(max_examples=100, deadline=None)
@given(detail=st.dictionaries(st.text(max_size=6), values, max_size=4), evidence=st.lists(values, max_size=3))
def test_an_events_hash_is_that_of_the_canonical_form_as_documented(detail, evidence):
    fields = {"case_id": 1, "case_seq": 2, "at": datetime(2019, 3, 1, 2, tzinfo=timezone.utc), "person_id": 3,
              "person_code": "vs", "person_name": "村支书", "action": "step", "evidence_hashes": evidence,
              "detail": detail, "prev_hash": None}
    try:
        documented = json.dumps({k: fields.get(k) for k in HASHED_FIELDS}, **CANONICAL)
    except (TypeError, ValueError):
        with pytest.raises((TypeError, ValueError)):
            event_hash(fields)
        return
    assert event_hash(fields) == hashlib.sha256(documented.encode()).hexdigest()


def test_a_value_that_json_cannot_write_is_refused_alike():
    assert written(dumps, {"when": date(2019, 1, 1)}) == written(json.dumps, {"when": date(2019, 1, 1)})
    assert written(dumps, {"x": float("nan")}) == '{"x": NaN}'


def read(decode, text):
    """What `decode` reads (as JSON again, NaN included), or the error it raises, as text."""
    try:
        return json.dumps(decode(text))
    except (TypeError, ValueError, OverflowError) as error:   # a time of year 1 east of UTC: before year 1 in UTC
        return f"{type(error).__name__}: {error}"


@settings(max_examples=300, deadline=None)
@given(value=values, before=st.sampled_from(["", " ", "\n", "\ufeff"]), after=st.sampled_from(["", " ", "x", ",1"]),
       as_bytes=st.booleans())
def test_a_text_is_read_as_the_standard_library_reads_it(value, before, after, as_bytes):
    text = before + json.dumps(value, default=json_default) + after
    given_text = text.encode("utf-8") if as_bytes else text
    assert read(loads, given_text) == read(json.loads, given_text)
