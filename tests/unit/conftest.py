"""The fast ring: no database, no files. `python -m pytest tests/unit` (or `-m unit`) runs it alone."""
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def pytest_configure(config):
    config.addinivalue_line("markers", "unit: a fast unit test (no database, no files)")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.unit)
