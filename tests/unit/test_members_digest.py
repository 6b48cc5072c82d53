"""The members' digest (carried by every event that changes a household's members, recomputed by
`audit verify`) must never change for rows it was computed for: the faster form against the
definition, for any field values, given as mappings or as rows with attributes."""
from __future__ import annotations

import hashlib
from types import SimpleNamespace

from hypothesis import given, settings, strategies as st

from engine.domain.members import FIELDS, members_digest


def definition(rows) -> str:
    """The digest as first written (stored events carry it)."""
    def text(value) -> str:
        if value is None:
            return ""
        if isinstance(value, bool) or value in (0, 1) and not isinstance(value, str):
            return "1" if value else "0"
        return str(value)
    get = lambda r, f: r[f] if isinstance(r, dict) else getattr(r, f)  # noqa: E731
    lines = sorted("\x1f".join(text(get(r, f)) for f in FIELDS) for r in rows)
    return hashlib.sha256("\x1e".join(lines).encode()).hexdigest()[:32]


VALUES = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.floats(allow_nan=False), st.text(max_size=12),
                   st.sampled_from(["0", "1", "", "户主", "360730197001150037"]))
ROWS = st.lists(st.fixed_dictionaries({f: VALUES for f in FIELDS}), max_size=6)


@settings(deadline=None)      # a first example may pay for imports
@given(ROWS)
def test_the_digest_of_mappings_is_the_definition_s(rows):
    assert members_digest(rows) == definition(rows)


@settings(deadline=None)
@given(ROWS)
def test_the_digest_of_rows_with_attributes_is_the_same(rows):
    objects = [SimpleNamespace(**r) for r in rows]
    assert members_digest(objects) == definition(rows) == members_digest(rows)
