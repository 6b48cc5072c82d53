"""JSON text as the standard library writes and reads it, with its C encoder made once.

`json.dumps` and `JSONEncoder.encode` make a new C encoder at every call (about 2 µs), and a step
encodes eight small values (its JSON columns, its event's canonical form, its attributes' digest),
a list step eight for each of its cases. `encoder(**options)` gives the same text as
`json.JSONEncoder(**options).encode` from one encoder made up front. It leaves out the check for
circular references: the values are rows, events and configuration, never circular (one would
recurse until RecursionError instead of raising ValueError), and an encoder that keeps no state
between calls may serve every thread at once.
"""
from __future__ import annotations

import json
from functools import partial
from json.encoder import c_make_encoder, encode_basestring, encode_basestring_ascii
from typing import Any, Callable


def encoder(**options: Any) -> Callable[[Any], str]:
    """`json.JSONEncoder(**options).encode`: the same text, from an encoder made once."""
    plain = json.JSONEncoder(**options, check_circular=False)
    if c_make_encoder is None or plain.indent is not None:      # (no C accelerator: the Python one)
        return plain.encode
    made = c_make_encoder(None, plain.default, encode_basestring_ascii if plain.ensure_ascii else encode_basestring,
                          plain.indent, plain.key_separator, plain.item_separator, plain.sort_keys,
                          plain.skipkeys, plain.allow_nan)
    # (a partial, not a closure: psycopg keeps one JSON dumper per dumps function it is given, and
    # refuses to for a closure)
    return partial(_joined, made)


def _joined(made: Callable[[Any, int], Any], value: Any) -> str:
    return "".join(made(value, 0))


# json.dumps(value) with its default options: what SQLAlchemy writes into a JSON column
dumps = encoder()


_scan = json.JSONDecoder().scan_once     # the C scanner json.loads runs, made once


def loads(text: str | bytes) -> Any:
    """`json.loads(text)`: the same value, or the same error. A JSON column's text (one value, nothing
    around it) is read by the scanner directly, without json.loads' calls and whitespace matching
    around it; anything else goes to json.loads."""
    if type(text) is bytes:       # (psycopg gives a column's bytes: decoded as json.loads decodes them)
        text = text.decode(json.detect_encoding(text), "surrogatepass")
    if type(text) is str:
        try:
            value, end = _scan(text, 0)
        except StopIteration:       # (not a value where it starts: json.loads says what is wrong)
            pass
        else:
            if end == len(text):
                return value
    return json.loads(text)
