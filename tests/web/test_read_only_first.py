"""A read-only person (an inspector) asking for casework through the API is refused as read-only
(403) first — not told what a step would lack (409) or what is wrong with a member (400)."""
from __future__ import annotations

import pytest

from tests.web.test_api import api  # noqa: F401  (fixture)


@pytest.mark.parametrize("path, body", [
    ("/api/v1/steps", {"procedure": "identification", "step": "application", "case_ids": [27]}),
    ("/api/v1/households", {"village": "360730100201", "members": [{"name": "x", "id_number": "1"}], "causes": ["因病"]}),
    ("/api/v1/households/import", {"village": "360730100201", "households": [
        {"members": [{"name": "x", "id_number": "2"}], "causes": ["因病"]}]}),
])
def test_an_inspector_is_refused_as_read_only_before_anything_else(api, path, body):  # noqa: F811
    answer = api("inspector").post(path, json=body)
    assert answer.status_code == 403 and answer.json()["error"] == "auth.read_only", answer.text
