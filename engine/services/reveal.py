"""Personal numbers shown whole: a record of who read them, for the inspectors."""
from __future__ import annotations

from engine.adapters.app import App
from engine.domain.auth import Actor


def record_ids_revealed(app: App, actor: Actor, case_id: int, region: str) -> None:
    """A case's members read with their full ID numbers, phones and bank accounts (`case show
    --full-ids`, the API's `full_ids`): recorded before they are shown, as an export is, so the
    inspectors see who unmasked whose numbers."""
    used = next(iter(actor.roles_over(region)), None)
    with app.unit_of_work() as uow:
        uow.append_org_event(actor, "ids_revealed", used.role if used else None, region, case=case_id)
