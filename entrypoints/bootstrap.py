"""The composition root: the one place that wires the case kinds (`workflows`) and the notification
side (`notifications`) into the engine. Every entry point (CLI, scheduler, demo, tests) builds its
application here."""
from __future__ import annotations

import importlib
from functools import lru_cache
from pathlib import Path

from engine.adapters.app import App
from engine.adapters.db import Settings
from engine.domain.errors import SchemaOutdated
from engine.services import steptypes
from engine.services.plugins import Plugins
from engine.services.setup import initialize


# The card keeps these folders at the top of the repository, so they install as top-level names
# that another distribution could also use; make sure each one is really ours.
OWN_TOP_LEVEL = ("config", "workflows", "notifications", "migrations", "demo")


def check_own_modules() -> None:
    """Refuse to run on a name that another installed distribution shadows (README: Layout)."""
    root = Path(__file__).resolve().parents[1]
    for name in OWN_TOP_LEVEL:
        module = importlib.import_module(name)
        where = Path(getattr(module, "__file__", None) or "?").resolve()
        if root not in where.parents:
            raise SchemaOutdated("install.clash", module=name, path=str(where), root=str(root))


def check_references(config) -> None:
    """Every name a configuration gives the code: its step types (the engine's registry) and each
    workflow's checks and effects (its Python rules); ConfigError naming file and key otherwise."""
    import workflows
    steptypes.check_config(config)
    workflows.check_references(config)


@lru_cache(maxsize=1)
def plugins() -> Plugins:
    check_own_modules()
    import workflows
    from notifications import contacts, outbox
    return Plugins(rules=workflows.RULES, check_references=check_references,
                   enqueue_alerts=outbox.enqueue_alerts, enqueue_digests=outbox.enqueue_digests,
                   channels_of=outbox.channels_of, add_channels=contacts.add_channels,
                   enqueue_enrolment=outbox.enqueue_enrolment,
                   enqueue_credential_notice=outbox.enqueue_credential_notice,
                   enqueue_press=outbox.enqueue_press, enqueue_objection=outbox.enqueue_objection,
                   enqueue_pairing=outbox.enqueue_pairing, enqueue_rejection=outbox.enqueue_rejection)


def make_app(settings: Settings, **options) -> App:
    """The application for one process: configuration, database, clock and the plugged-in parts."""
    return App(settings, plugins(), **options)


def init_home(settings: Settings, **options) -> tuple[App, str | None]:
    """Create or upgrade a data home (schema, root region, first administrator)."""
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
