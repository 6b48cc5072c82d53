"""The CLI starts without the heavy libraries (issue 12: start-up under 0.3 s; the timings live in
bench/step_cost.py): importing it, or printing its help, loads no database layer, no rich, no YAML or
pydantic, no templates and no web framework; and the help still lists every command group."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from tests.helpers.rules_copy import rules_copy

ROOT = Path(__file__).resolve().parents[1]
LAZY = ("sqlalchemy", "rich", "yaml", "pydantic", "jinja2", "fastapi", "babel", "config.models", "engine.adapters")
LIGHT = ("engine.adapters", "engine.adapters.collector")    # the collector's pace, held back from the first line


def loaded_after(code: str) -> list[str]:
    """The LAZY modules present in sys.modules after running `code` in a fresh interpreter."""
    probe = f"import sys\n{code}\nprint(__import__('json').dumps(sorted(m for m in sys.modules if m not in {LIGHT!r}" \
            f" and (m in {LAZY!r} or m.startswith(tuple(p + '.' for p in {LAZY!r}))))))"
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.splitlines()[-1])


def loaded_by_a_read(tmp_path: Path) -> tuple[Path, str | None, set[str]]:
    """A new data home (its path and administrator's token), and the modules present after a fresh
    process opened it and read from it as a command does."""
    from config import load_config
    from engine.adapters.db import Settings
    from entrypoints.bootstrap import init_home
    home = tmp_path / "home"
    app, token = init_home(Settings.from_env(str(home)))
    app.close()
    load_config()           # the packaged rules' cache written, as after a first command
    code = ("import sys\nfrom sqlalchemy import text\nfrom engine.adapters.db import Settings\n"
            "from entrypoints.bootstrap import make_app\n"
            f"app = make_app(Settings.from_env({str(home)!r}))\n"
            "with app.transaction() as conn:\n    assert conn.execute(text('SELECT count(*) FROM cases')).scalar() == 0\n"
            "print(' '.join(sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return home, token, set(done.stdout.split())


def misnamed_config(tmp_path: Path) -> Path:
    """A copy of the packaged rules whose household workflow names a check the code lacks."""
    return rules_copy(tmp_path, {"workflows/household.yaml": ("checks: [exit_standard]}", "checks: [exit_standrad]}")})


def test_importing_the_cli_loads_no_heavy_library():
    assert loaded_after("import entrypoints.cli.main") == []


def test_printing_the_help_loads_no_heavy_library():
    code = ("import contextlib, io\nfrom cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n    main(['--help'])")
    assert loaded_after(code) == []


def test_the_help_lists_every_command():
    from entrypoints.cli.main import cli
    done = subprocess.run([sys.executable, "-c", "import sys; from cli import main; sys.exit(main(['--help']))"],
                          cwd=ROOT, capture_output=True, text=True, check=True)
    listed = {line.split()[0] for line in done.stdout.split("命令：")[1].splitlines() if line.strip()}
    assert listed == set(cli.commands) and {"case", "step", "household", "audit", "init"} <= listed


def test_a_group_s_help_loads_no_heavy_library():
    code = ("import contextlib, io\nfrom cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n    main(['case', 'list', '--help'])")
    assert loaded_after(code) == []


def test_the_configuration_cache_never_serves_rules_that_changed(tmp_path):
    """A command loads the parsed rules from the folder's cache while its files are unchanged; a file
    rewritten at once with the same size (its time may not move) is read again."""
    import shutil

    from config import CONFIG_DIR, forget_loaded, load_config
    folder = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    first = load_config(folder)
    assert (folder / "__pycache__" / "jingzhun-config.pickle").is_file()
    assert load_config(folder) is first            # loaded again in this process: the same rules
    forget_loaded()                                # as another process (a command) finds them: from the cache
    again = load_config(folder)
    assert again is not first and again.version == first.version and again.labels == first.labels
    assert again.directory == folder and again.policy.data.version == "2020.1"
    policy = folder / "policy.yaml"
    policy.write_text(policy.read_text(encoding="utf-8").replace('version: "2020.1"', 'version: "2020.2"'),
                      encoding="utf-8")
    changed = load_config(folder)
    assert changed.policy.data.version == "2020.2" and changed.version != first.version


def test_a_configuration_read_back_from_its_cache_is_the_one_its_files_give(tmp_path):
    """Kept with its models apart (read back when first asked for) and its version: the rules a
    command reads from the cache are those of the files, every part and the version alike."""
    import shutil

    from config import CONFIG_DIR, forget_loaded, load_config
    folder = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    parsed = load_config(folder)
    forget_loaded()                                # as another process finds them: from the cache
    kept = load_config(folder)
    assert "_models" in kept.__dict__ and "workflows" not in kept.__dict__
    assert kept.deadlines is not None and kept.deadlines == parsed.deadlines     # asked for first: a field
    assert kept.version == parsed.version and kept.labels == parsed.labels          # with a default too
    assert kept.workflows == parsed.workflows and kept.roles == parsed.roles and kept.deadlines == parsed.deadlines
    assert kept.policy == parsed.policy and kept.rules == parsed.rules and kept == parsed
    assert kept.workflows["household"].procedure("exit").step("proposal").type == "appraisal"


def test_a_command_on_sqlite_loads_no_postgresql_dialect(tmp_path):
    """The partial indexes' PostgreSQL predicates are set only once a PostgreSQL database is opened
    (engine/adapters/schema_core.partial): SQLAlchemy's PostgreSQL dialect is a twentieth of a direct
    command's start-up."""
    assert "sqlalchemy.dialects.postgresql" not in loaded_by_a_read(tmp_path)[2]


def test_the_partial_indexes_of_the_metadata_are_those_of_the_database(world):
    """Each partial index keeps its predicate on either database: in the metadata (as autogenerate
    compares it) and in the database the migrations made."""
    from sqlalchemy import text
    from sqlalchemy.schema import CreateIndex

    from engine.adapters.tables import metadata
    engine = world.app.engine
    partial = [i for t in metadata.tables.values() for i in t.indexes if "postgresql_where" in i.info]
    assert len(partial) == 7      # with the monitoring columns' two (migration 0021)
    with engine.connect() as conn:
        for index in partial:
            ddl = str(CreateIndex(index).compile(dialect=engine.dialect))
            if engine.dialect.name == "postgresql":
                where = index.info["postgresql_where"]
                made = conn.execute(text("SELECT indexdef FROM pg_indexes WHERE indexname = :n"), {"n": index.name}).scalar()
            else:
                where = index.dialect_options["sqlite"]["where"].text
                made = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = :n"), {"n": index.name}).scalar()
            assert ddl.endswith(f" WHERE {where}"), ddl
            assert made is not None and " WHERE " in made, index.name
            made_where = re.sub(r"::\w+|[()]", "", made.split(" WHERE ", 1)[1]).strip()   # PostgreSQL's casts
            assert made_where == where, (index.name, made)


def test_a_read_loads_no_case_kind_s_python_and_a_rule_checks_the_configuration_first(tmp_path):
    """The case kinds' Python (workflows) and the notification side are imported when a rule is
    first needed (entrypoints/bootstrap._Rules): a read does not need them. A configuration naming a
    check the code lacks is refused then, before any rule is used, and stays refused."""
    home, _token, loaded = loaded_by_a_read(tmp_path)
    assert not {m.split(".")[0] for m in loaded} & {"workflows", "notifications", "demo", "pydantic"}
    assert not loaded & {"config.models", "config.deadlines"}     # the configuration's models: kept apart
    folder = misnamed_config(tmp_path)
    bad = ("from config import load_config\nfrom engine.adapters.db import Settings\n"
           "from entrypoints.bootstrap import make_app\n"
           f"app = make_app(Settings.from_env({str(home)!r}), config=load_config({str(folder)!r}), check_schema=False)\n"
           "for _ in range(2):\n"
           "    try:\n        app.rules['household']\n    except Exception as e:\n"
           "        print(type(e).__name__, 'exit_standrad' in str(e))\n")
    done = subprocess.run([sys.executable, "-c", bad], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["ConfigError True", "ConfigError True"]


def test_installing_a_configuration_checks_it_against_the_rules_at_once(tmp_path):
    """A read's application waits to check its configuration against the case kinds' Python; installing
    one does not: a workflow naming a check the code lacks is refused and nothing is installed, in a
    process that had not imported the case kinds."""
    home, token, _ = loaded_by_a_read(tmp_path)
    folder = misnamed_config(tmp_path)
    code = ("from engine.adapters.db import Settings\nfrom entrypoints.bootstrap import make_app\n"
            "from engine.services.org import authenticate\nfrom engine.services.setup import install_config\n"
            f"app = make_app(Settings.from_env({str(home)!r}))\n"
            f"admin = authenticate(app, 'admin', {token!r})\n"
            "try:\n"
            f"    install_config(app, admin, {str(folder)!r})\n    print('installed')\n"
            "except Exception as e:\n    print(type(e).__name__, 'exit_standrad' in str(e))\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["ConfigError", "True"]
    assert not (home / "config").exists()


def test_a_command_line_read_loads_no_machines_nor_signing_and_leaves_the_collector_as_it_found_it(tmp_path):
    """A direct `person list` (the command line opening the database itself) authenticates its person —
    every grant's MAC checked — without the state machines' library or the signing library: the keys'
    ids are found when an event is first written or checked. The collector, held back while the
    command started, runs at its own pace once the application is made and after the command."""
    home, token, _ = loaded_by_a_read(tmp_path)
    code = ("import gc, io, contextlib, sys\nfrom cli import main\n"
            "before = gc.get_threshold()\nfrom engine.adapters import app as app_module\n"
            "made = []\nreal = app_module.App.__init__\n"
            "def init(self, *a, **k):\n    real(self, *a, **k)\n    made.append(gc.get_threshold())\n"
            "app_module.App.__init__ = init\n"
            "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
            f"    code = main(['--home', {str(home)!r}, '--as', 'admin', 'person', 'list'])\n"
            "print(code, 'admin' in out.getvalue(), made == [before], gc.get_threshold() == before,\n"
            "      'transitions' in sys.modules, 'nacl' in sys.modules)\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("JINGZHUN_")}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          env={**env, "JINGZHUN_TOKEN": token})
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0", "True", "True", "True", "False", "False"]


def test_the_collector_is_held_back_while_a_process_starts_and_during_lists_and_then_as_it_was():
    import gc

    from engine.adapters.collector import STARTING_OBJECTS, YOUNG_OBJECTS, fewer_collections, started, starting
    before = gc.get_threshold()
    starting()
    starting()                                  # once a process: a second call changes nothing
    assert gc.get_threshold()[0] == STARTING_OBJECTS
    with fewer_collections():                   # a list while starting: the higher of the two stays
        assert gc.get_threshold()[0] == STARTING_OBJECTS
    started()
    assert gc.get_threshold() == before
    started()                                   # nothing held: nothing changes
    assert gc.get_threshold() == before
    with fewer_collections():
        assert gc.get_threshold()[0] == YOUNG_OBJECTS
    assert gc.get_threshold() == before
