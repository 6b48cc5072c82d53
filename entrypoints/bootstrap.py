"""The composition root: the one place that wires the case kinds (`workflows`) and the notification
side (`notifications`) into the engine. Every entry point (CLI, scheduler, demo, tests) builds its
application here."""
from __future__ import annotations

from functools import lru_cache

from engine.adapters.app import App
from engine.adapters.db import Settings
from engine.services.plugins import Plugins
from engine.services.setup import initialize


@lru_cache(maxsize=1)
def plugins() -> Plugins:
    import workflows
    from notifications import contacts, outbox
    return Plugins(rules=workflows.RULES, check_references=workflows.check_references,
                   enqueue_alerts=outbox.enqueue_alerts, enqueue_digests=outbox.enqueue_digests,
                   channels_of=outbox.channels_of, add_channels=contacts.add_channels)


def make_app(settings: Settings, **options) -> App:
    """The application for one process: configuration, database, clock and the plugged-in parts."""
    return App(settings, plugins(), **options)


def init_home(settings: Settings, **options) -> tuple[App, str | None]:
    """Create or upgrade a data home (schema, root region, first administrator)."""
    return initialize(settings, plugins(), **options)
