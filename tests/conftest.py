import shutil
from datetime import datetime, timezone

import pytest

from engine.app import App, FixedClock
from engine.db import Settings
from tests.world import World, build_world


@pytest.fixture(scope="session")
def _world_template(tmp_path_factory):
    """Building a world hashes ~20 tokens; build it once and copy the data home for each test."""
    home = tmp_path_factory.mktemp("template") / "home"
    world = build_world(home)
    world.app.close()
    return home, world.tokens, world.actors


@pytest.fixture
def world(_world_template, tmp_path):
    template, tokens, actors = _world_template
    home = tmp_path / "home"
    shutil.copytree(template, home)
    clock = FixedClock(datetime(2019, 1, 10, 2, 0, tzinfo=timezone.utc))
    w = World(App(Settings.from_env(str(home)), clock=clock), clock, dict(tokens), dict(actors))
    yield w
    w.app.close()
