"""Several people doing something at the same moment (two phones, a double tap, two administrators):
each call in a thread of its own, all released together, each on its own connection."""
from __future__ import annotations

import threading
from typing import Any, Callable, Sequence

from engine.domain.errors import JingzhunError


def at_once(app: Any, calls: Sequence[Callable[[], Any]]) -> list[str]:
    """Each call's outcome, in the order they ended: what it returned when that is a text, else
    "done"; a refusal's code; or "crash: …" for any other exception (what a user must never see)."""
    start = threading.Barrier(len(calls))
    seen: list[str] = []

    def run(call: Callable[[], Any]) -> None:
        start.wait()
        try:
            result = call()
            seen.append(result if isinstance(result, str) else "done")
        except JingzhunError as refused:
            seen.append(refused.code)
        except Exception as failed:        # noqa: BLE001 — what the user must never see
            seen.append(f"crash: {type(failed).__name__}: {failed}")
        finally:
            app.close_thread_connection()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return seen
