"""The composition root: the one place that wires the case kinds (`workflows`) and the notification
side (`notifications`) into the engine. Every entry point (CLI, scheduler, demo, tests) builds its
application here."""
from __future__ import annotations

import importlib.util
import sys
import threading
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterator

from engine.adapters.app import App
from engine.adapters.db import Settings
from engine.domain.errors import SchemaOutdated
from engine.services.plugins import Plugins


# The card keeps these folders at the top of the repository, so they install as top-level names
# that another distribution could also use; make sure each one is really ours.
OWN_TOP_LEVEL = ("config", "workflows", "notifications", "migrations", "demo")


def check_own_modules() -> None:
    """Refuse to run on a name that another installed distribution shadows (README: Layout)."""
    root = Path(__file__).resolve().parents[1]
    for name in OWN_TOP_LEVEL:
        module = sys.modules.get(name)
        if module is not None:
            origin = getattr(module, "__file__", None)
        else:                                       # where it would be imported from, without running it
            spec = importlib.util.find_spec(name)
            origin = spec.origin if spec is not None else None
        where = Path(origin or "?").resolve()
        if root not in where.parents:
            raise SchemaOutdated("install.clash", module=name, path=str(where), root=str(root))


def check_references(config) -> None:
    """Every name a configuration gives the code: its step types (the engine's registry) and each
    workflow's checks and effects (its Python rules); ConfigError naming file and key otherwise."""
    import workflows
    from engine.services import steptypes
    steptypes.check_config(config)
    workflows.check_references(config)


class _Rules(Mapping):
    """`workflows.RULES`, imported when a case kind's rule is first needed: a read such as `case list`
    needs none, and the case kinds' Python (with the services only it uses) is a tenth of a direct
    command's start-up. The configurations of the applications started before are checked against it
    then (`check_references`), before any rule is used; one that fails stays failing. Installing a
    configuration and the server's preflight check at once (`check_references` itself)."""

    def __init__(self) -> None:
        self._rules: Mapping[str, Any] | None = None
        self._unchecked: list = []
        self._lock = threading.Lock()

    def check_later(self, config) -> None:
        with self._lock:
            if self._rules is None and "workflows" not in sys.modules:
                self._unchecked.append(config)
                return
        check_references(config)

    def _loaded(self) -> Mapping[str, Any]:
        rules = self._rules
        if rules is not None and not self._unchecked:
            return rules
        with self._lock:          # the first rule asked for by two threads at once: checked once
            import workflows
            while self._unchecked:
                check_references(self._unchecked[0])      # a failing one stays, and fails again
                self._unchecked.pop(0)
            self._rules = workflows.RULES
            return self._rules

    def __getitem__(self, kind: str) -> Any:
        return self._loaded()[kind]

    def __iter__(self) -> Iterator[str]:
        return iter(self._loaded())

    def __len__(self) -> int:
        return len(self._loaded())


def _outbox(name: str) -> Callable[..., Any]:
    """notifications.outbox's `name`, imported when first called (as the rules are)."""
    def call(*args: Any, **kwargs: Any) -> Any:
        from notifications import outbox
        return getattr(outbox, name)(*args, **kwargs)
    return call


def _add_channels(*args: Any, **kwargs: Any) -> Any:
    from notifications import contacts
    return contacts.add_channels(*args, **kwargs)


@lru_cache(maxsize=1)
def plugins() -> Plugins:
    check_own_modules()
    rules = _Rules()
    return Plugins(rules=rules, check_references=check_references, check_at_start=rules.check_later,
                   enqueue_alerts=_outbox("enqueue_alerts"), enqueue_digests=_outbox("enqueue_digests"),
                   channels_of=_outbox("channels_of"), add_channels=_add_channels,
                   enqueue_enrolment=_outbox("enqueue_enrolment"),
                   enqueue_credential_notice=_outbox("enqueue_credential_notice"),
                   enqueue_press=_outbox("enqueue_press"), enqueue_objection=_outbox("enqueue_objection"),
                   enqueue_pairing=_outbox("enqueue_pairing"), enqueue_rejection=_outbox("enqueue_rejection"),
                   enqueue_handover=_outbox("enqueue_handover"),
                   enqueue_fork=_outbox("enqueue_fork"), enqueue_backup_failed=_outbox("enqueue_backup_failed"))


def make_app(settings: Settings, **options) -> App:
    """The application for one process: configuration, database, clock and the plugged-in parts."""
    return App(settings, plugins(), **options)


def init_home(settings: Settings, **options) -> tuple[App, str | None]:
    """Create or upgrade a data home (schema, root region, first administrator)."""
    from engine.services.setup import initialize
    return initialize(settings, plugins(), **options)


def demo_clock(home):
    """The demo's clock on the demo's home (None elsewhere): the demo lives in its replayed year (its
    deadlines, notices and dates are of that year), with time passing since the demo was made, as
    `demo --serve` and `serve` run their server. On the real clock a step without --date was dated years after the
    demo's last one, and every step after it refused as out of order."""
    from pathlib import Path
    mark = Path(home) / "demo-clock"
    if not mark.is_file():
        return None
    import time
    from datetime import datetime, timedelta
    from engine.adapters.app import ShiftedClock
    made = datetime.fromisoformat(mark.read_text(encoding="utf-8").strip())
    return ShiftedClock(made + timedelta(seconds=max(0.0, time.time() - mark.stat().st_mtime)))
