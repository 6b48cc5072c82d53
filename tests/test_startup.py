"""The CLI starts without the heavy libraries (issue 12: start-up under 0.3 s; the timings live in
bench/step_cost.py): importing it, or printing its help, loads no database layer, no rich, no YAML or
pydantic, no templates and no web framework; and the help still lists every command group."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAZY = ("sqlalchemy", "rich", "yaml", "pydantic", "jinja2", "fastapi", "babel", "config.models", "engine.adapters")


def loaded_after(code: str) -> list[str]:
    """The LAZY modules present in sys.modules after running `code` in a fresh interpreter."""
    probe = f"import sys\n{code}\nprint(__import__('json').dumps(sorted(m for m in sys.modules if m in {LAZY!r}" \
            f" or m.startswith(tuple(p + '.' for p in {LAZY!r})))))"
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.splitlines()[-1])


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

    from config import CONFIG_DIR, load_config
    folder = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    first = load_config(folder)
    assert (folder / "__pycache__" / "jingzhun-config.pickle").is_file()
    again = load_config(folder)
    assert again is not first and again.version == first.version and again.labels == first.labels
    assert again.directory == folder and again.policy.data.version == "2020.1"
    policy = folder / "policy.yaml"
    policy.write_text(policy.read_text(encoding="utf-8").replace('version: "2020.1"', 'version: "2020.2"'),
                      encoding="utf-8")
    changed = load_config(folder)
    assert changed.policy.data.version == "2020.2" and changed.version != first.version
