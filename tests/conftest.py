"""The `world` fixture, on SQLite always and on PostgreSQL too when JINGZHUN_TEST_PG_URL names a server.

JINGZHUN_TEST_PG_URL is an SQLAlchemy URL of a database on a server where that user may create
databases (.ci/run starts one); each test gets its own database, copied from a template.
"""
import itertools
import os
import shutil
from datetime import datetime, timezone

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from argon2 import PasswordHasher

from engine.adapters.app import FixedClock
from engine.services import accounts
from entrypoints.bootstrap import make_app
from engine.adapters.db import Settings, make_engine
from engine.services.guards import forget_holders
from tests.world import World, build_world

# The suite signs people in over a thousand times: argon2id at its least cost here, the same code
# (a hash carries its cost, so any hasher verifies it). What a user's process hashes with, the
# shipped cost, is checked through the real command in tests/test_cli_terminal.py.
accounts.PASSWORDS = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)

PG_URL = os.environ.get("JINGZHUN_TEST_PG_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
_numbers = itertools.count()


def _pg_admin():
    # No pool: every admin connection is closed when its block ends, so none piles up on the server.
    return create_engine(PG_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)


def _pg_url(name: str) -> str:
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def _world_templates(tmp_path_factory):
    """Building a world takes a while; build it once per backend and copy it for each test."""
    templates = {}
    home = tmp_path_factory.mktemp("template") / "home"
    world = build_world(home)
    world.app.close()
    templates["sqlite"] = (home, None, world.tokens, world.actors)
    if PG_URL:
        name = f"jz_template_{os.getpid()}"
        admin = _pg_admin()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))  # a CLI test may leave a pool open
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        pg_home = tmp_path_factory.mktemp("pg-template") / "home"
        world = build_world(pg_home, _pg_url(name))
        world.app.close()
        templates["postgresql"] = (pg_home, name, world.tokens, world.actors)
    yield templates
    if PG_URL:
        with _pg_admin().connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{templates["postgresql"][1]}"'))


@pytest.fixture(scope="session")
def _world_engines(tmp_path_factory):
    """Each backend's world lives at one place for the whole session (a copy of its template made
    afresh for each test) and keeps one engine: a test opens its App on it, as a server's requests
    share their process's engine, and SQLAlchemy's compiled statements are kept from test to test
    (compiling them again for every test's new engine was an eighth of the suite's time)."""
    place = tmp_path_factory.mktemp("world")
    engines: dict = {}
    yield place, engines
    for engine in engines.values():
        engine.dispose()


@pytest.fixture(params=BACKENDS)
def world(request, _world_templates, _world_engines):
    template, template_db, tokens, actors = _world_templates[request.param]
    place, engines = _world_engines
    home = place / request.param
    if home.exists():
        shutil.rmtree(home)
    shutil.copytree(template, home)
    db_url = None
    if template_db:
        name = f"jz_world_{os.getpid()}"
        with _pg_admin().connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template_db}"'))
        db_url = _pg_url(name)
    settings = Settings.from_env(str(home), db_url)
    forget_holders()                    # kept by engine: the last test's posts
    if request.param not in engines:
        engines[request.param] = make_engine(settings)
    clock = FixedClock(datetime(2019, 1, 10, 2, 0, tzinfo=timezone.utc))
    w = World(make_app(settings, clock=clock, engine=engines[request.param]), clock, dict(tokens), dict(actors))
    yield w
    w.app.close()                       # its connections given back and closed; the engine kept
    if template_db:
        with _pg_admin().connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))  # a CLI test may leave a pool open


@pytest.fixture
def empty_pg_database():
    """The URL of a new, empty PostgreSQL database (skipped without JINGZHUN_TEST_PG_URL), dropped after."""
    if not PG_URL:
        pytest.skip("a PostgreSQL server (JINGZHUN_TEST_PG_URL)")
    name = f"jz_empty_{os.getpid()}_{next(_numbers)}"
    with _pg_admin().connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield _pg_url(name)
    with _pg_admin().connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
