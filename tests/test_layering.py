"""The layers hold: read with `ast` from every .py file of the repository (function-local imports too).

- `engine` never imports `workflows`, `notifications`, `entrypoints`, `cli` or `demo`;
- `engine/domain` imports no framework and none of engine.adapters, engine.services, engine.reads;
- no module imports a `_private` name from another module;
- the import graph of the project's own modules has no cycle;
- audit events are inserted by engine/adapters/uow.py alone (the unit of work); the few files that
  write raw rows on purpose (forgeries that audit verify must find, benchmarks) are named below.

Each check is a function over the parsed sources, so the last tests below prove on small made-up
sources that every one of them fails when its rule is broken.
"""
from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKIPPED_DIRS = {".venv", "venv", ".git", "build", "dist", "node_modules", "__pycache__"}
ENGINE_MUST_NOT_IMPORT = ("workflows", "notifications", "entrypoints", "cli", "demo")
DOMAIN_MUST_NOT_IMPORT = ("sqlalchemy", "click", "rich", "jinja2", "apscheduler", "fastapi", "starlette", "uvicorn",
                          "engine.adapters", "engine.services", "engine.reads")
AUDIT_WRITER = "engine/adapters/uow.py"
RAW_AUDIT_ROWS_ON_PURPOSE = {
    "tests/test_audit_verify.py",     # forges events (raw SQL) that audit verify must find
    "tests/test_tamper_corpus.py",    # the same, for the tamper corpus
    "tests/test_layering.py",         # the made-up sources below
    "bench/audit_verify.py",          # fills 1,000,000 events in 20,000-row batches to time verify
    "bench/step_cost.py",             # the raw UPDATE + INSERT loop a step is measured against
}

# Known exceptions that other branches of issue 9 are removing; the lead empties this list after
# merging them (a stale entry fails test_known_exceptions_are_still_real).
KNOWN_CYCLES: set = set()                # none: a new cycle or private import is a failure
KNOWN_PRIVATE_IMPORTS: set = set()


@dataclass(frozen=True)
class Import:
    module: str          # the importing module
    path: str            # its file, relative to the repository
    line: int
    target: str          # the imported module as written, resolved to absolute
    name: str | None     # the name taken from it (`from target import name`), None for `import target`


@dataclass
class Source:
    module: str
    path: str
    is_package: bool
    tree: ast.Module


def sources(root: Path = ROOT) -> list[Source]:
    return [_source(root, path) for path in _python_files(root)]


def _python_files(root: Path) -> list[Path]:
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and not d.startswith("."))
        found += [Path(folder) / f for f in sorted(files) if f.endswith(".py")]
    return found


def _source(root: Path, path: Path) -> Source:
    rel = path.relative_to(root)
    parts = list(rel.with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    return Source(".".join(parts[:-1] if is_package else parts), rel.as_posix(), is_package,
                  ast.parse(path.read_text(encoding="utf-8"), str(rel)))


def _absolute(source: Source, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = source.module.split(".")
    if not source.is_package:
        base = base[:-1]
    if node.level > 1:
        base = base[:len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports(all_sources: list[Source]) -> list[Import]:
    """Every import statement, at any depth (inside functions and `if TYPE_CHECKING:` too)."""
    found = []
    for source in all_sources:
        for node in ast.walk(source.tree):
            if isinstance(node, ast.Import):
                found += [Import(source.module, source.path, node.lineno, a.name, None) for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                target = _absolute(source, node)
                found += [Import(source.module, source.path, node.lineno, target, a.name) for a in node.names]
    return found


def _within(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def engine_upward(found: list[Import]) -> list[str]:
    return [f"{i.path}:{i.line} imports {i.target}" for i in found
            if _within(i.module, ("engine",)) and _within(i.target, ENGINE_MUST_NOT_IMPORT)]


def domain_frameworks(found: list[Import]) -> list[str]:
    return [f"{i.path}:{i.line} imports {i.target}" for i in found
            if _within(i.module, ("engine.domain",)) and _within(_imported(i), DOMAIN_MUST_NOT_IMPORT)]


def _imported(i: Import) -> str:
    """`from engine import services` imports engine.services: the name counts when it is a module."""
    return f"{i.target}.{i.name}" if i.name and i.name != "*" else i.target


def private_imports(found: list[Import], modules: set[str]) -> set[tuple[str, str, str]]:
    """(importer, module, name) for each `from module import _name` of a name that is not a module."""
    return {(i.module, i.target, i.name) for i in found
            if i.name and _is_private(i.name) and i.target != i.module and _imported(i) not in modules}


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def import_graph(found: list[Import], modules: set[str]) -> dict[str, set[str]]:
    """importer -> the project's modules it imports (a module named by `from package import module` too)."""
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for i in found:
        target = _imported(i) if _imported(i) in modules else i.target
        if target in modules and target != i.module:
            graph[i.module].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[tuple[str, ...]]:
    """Each strongly connected group of more than one module, named by one cycle through it."""
    return [_one_cycle(graph, group) for group in _strongly_connected(graph) if len(group) > 1]


def _strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Modules that reach each other (the graph is a few hundred modules: reachability is enough)."""
    reach = {m: _reachable(graph, m) for m in graph}
    groups = {frozenset({m} | {o for o in reach[m] if m in reach[o]}) for m in graph}
    return sorted((set(g) for g in groups), key=min)


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in graph[todo.pop()] - seen:
            seen.add(nxt)
            todo.append(nxt)
    return seen


def _one_cycle(graph: dict[str, set[str]], group: set[str]) -> tuple[str, ...]:
    """A shortest way round from the group's first module back to it (breadth first)."""
    start = min(group)
    paths = {start: (start,)}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for nxt in sorted(graph[node] & group):
            if nxt == start:
                return paths[node]
            if nxt not in paths:
                paths[nxt] = paths[node] + (nxt,)
                queue.append(nxt)
    return tuple(sorted(group))


_SQL_INSERT = re.compile(r"insert\s+into\s+[\"`]?audit_events\b", re.IGNORECASE)


def _names_audit_events(node: ast.AST) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "audit_events") or \
        (isinstance(node, ast.Name) and node.id == "audit_events")


def _inserts_audit_event(node: ast.AST) -> bool:
    if isinstance(node, ast.Call):
        func = node.func
        called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if called == "insert" and node.args and _names_audit_events(node.args[0]):
            return True          # insert(t.audit_events)
        if called == "insert" and isinstance(func, ast.Attribute) and _names_audit_events(func.value):
            return True          # t.audit_events.insert()
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and bool(_SQL_INSERT.search(node.value))


def audit_writers(all_sources: list[Source]) -> list[str]:
    return [f"{s.path}:{node.lineno}" for s in all_sources
            if s.path != AUDIT_WRITER and s.path not in RAW_AUDIT_ROWS_ON_PURPOSE
            for node in ast.walk(s.tree) if _inserts_audit_event(node)]


# --- the rules, on the repository --------------------------------------------------------------

_SOURCES = sources()
_IMPORTS = imports(_SOURCES)
_MODULES = {s.module for s in _SOURCES}


def test_the_scan_sees_the_layers_and_function_local_imports():
    assert {"engine.domain.audit", "engine.adapters.uow", "engine.services.procedures", "workflows.problem",
            "tests.test_layering"} <= _MODULES
    assert not any(part.startswith(".") for s in _SOURCES for part in Path(s.path).parts[:-1])
    local = [i for i in _IMPORTS if i.module == "engine.services.procedures" and i.target == "engine.services.notices"]
    assert local, "the function-local import in perform_step is seen"


def test_engine_never_imports_the_outer_packages():
    assert engine_upward(_IMPORTS) == []


def test_the_domain_imports_no_framework_and_no_outer_layer():
    assert domain_frameworks(_IMPORTS) == []


def test_no_private_name_is_imported_across_modules():
    assert private_imports(_IMPORTS, _MODULES) - KNOWN_PRIVATE_IMPORTS == set()


def test_the_import_graph_has_no_cycle():
    found = cycles(import_graph(_IMPORTS, _MODULES))
    unknown = [" -> ".join(c + c[:1]) for c in found if tuple(sorted(c)) not in KNOWN_CYCLES]
    assert unknown == []


def test_only_the_unit_of_work_inserts_audit_events():
    assert audit_writers(_SOURCES) == []
    uow = next(s for s in _SOURCES if s.path == AUDIT_WRITER)
    assert any(_inserts_audit_event(n) for n in ast.walk(uow.tree))


def test_known_exceptions_are_still_real():
    """Once a branch removes one, its entry goes too, so the list says exactly what is left."""
    found = {tuple(sorted(c)) for c in cycles(import_graph(_IMPORTS, _MODULES))}
    assert KNOWN_CYCLES - found == set()
    assert KNOWN_PRIVATE_IMPORTS - private_imports(_IMPORTS, _MODULES) == set()


# --- every check fails when its rule is broken (made-up sources) -------------------------------

def _made_up(files: dict[str, str]) -> list[Source]:
    made = []
    for path, text in files.items():
        parts = path[:-3].split("/")
        is_package = parts[-1] == "__init__"
        made.append(Source(".".join(parts[:-1] if is_package else parts), path, is_package, ast.parse(text)))
    return made


def test_each_check_catches_a_broken_rule():
    made = _made_up({
        "engine/__init__.py": "",
        "engine/services/steps.py": "def f():\n    from workflows import household\n",
        "engine/domain/cases.py": "import sqlalchemy\nfrom engine.adapters.tables import cases\n"
                                  "from ..reads import queries\n",
        "engine/reads/queries.py": "from engine.services.steps import _helper\nfrom . import trace\n",
        "engine/reads/trace.py": "def g():\n    import engine.reads.queries\n",
        "workflows/household.py": "from engine.adapters import tables as t\nfrom sqlalchemy import insert\n"
                                  "STATEMENT = insert(t.audit_events)\n",
        "engine/services/raw.py": "def h(conn, t):\n    conn.execute(t.audit_events.insert(), [])\n"
                                  "    conn.exec_driver_sql('INSERT INTO audit_events (hash) VALUES (1)')\n",
        "engine/adapters/uow.py": "STATEMENT = insert(t.audit_events)\n",
        "tests/test_new.py": "rows = insert(audit_events)\n",
    })
    found, modules = imports(made), {s.module for s in made}
    assert engine_upward(found) == ["engine/services/steps.py:2 imports workflows"]
    assert domain_frameworks(found) == ["engine/domain/cases.py:1 imports sqlalchemy",
                                        "engine/domain/cases.py:2 imports engine.adapters.tables",
                                        "engine/domain/cases.py:3 imports engine.reads"]
    assert private_imports(found, modules) == {("engine.reads.queries", "engine.services.steps", "_helper")}
    assert cycles(import_graph(found, modules)) == [("engine.reads.queries", "engine.reads.trace")]
    assert audit_writers(made) == ["workflows/household.py:3", "engine/services/raw.py:2", "engine/services/raw.py:3",
                                   "tests/test_new.py:1"]


def test_the_checks_pass_what_the_rules_allow():
    made = _made_up({
        "engine/domain/cases.py": "from __future__ import annotations\nimport json\nfrom .regions import covers\n",
        "engine/domain/regions.py": "def covers(): ...\n",
        "engine/services/steps.py": "from engine.domain import cases\nfrom sqlalchemy import select\n"
                                    "from . import _internal\n",
        "engine/services/_internal.py": "",
        "bench/audit_verify.py": "from engine.adapters import tables as t\nrows = insert(t.audit_events)\n",
    })
    found, modules = imports(made), {s.module for s in made}
    assert engine_upward(found) == [] and domain_frameworks(found) == []
    assert private_imports(found, modules) == set()      # `_internal` is a module, not a private name
    assert cycles(import_graph(found, modules)) == []
    assert audit_writers(made) == []
