"""The administrator's 备份 page (`/admin/backups`) and `GET /api/v1/backups`: the backups' state as
`jingzhun backup --status` says it (engine.reads.backup_status), for an administrator over the whole
installation: the nightly backup's settings, the last backup, a failure since and why, those kept."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from engine.domain.errors import render_text
from engine.reads.backup_status import backup_status
from engine.services.backup_rotation import backup_plan

from .access import needs
from . import api_models as m
from .api_common import api_user
from .deps import Reader
from .render import page

router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api/v1")


def _state(reader: Reader) -> dict[str, Any]:
    found = backup_status(reader.core, reader.actor, backup_plan(home=reader.core.settings.home))
    failure = found["last_failure"]
    if failure is not None:        # why, in the reader's language
        problem = failure["problem"]
        failure["problem_text"] = render_text(reader.core.config, problem["key"], problem["params"], reader.lang) \
            or problem["key"]
    return found


@router.get("/admin/backups")
def backups(request: Request, reader: Reader = Depends(needs("admin"))):
    return page(request, "admin_backups.html", found=_state(reader))


@api_router.get("/backups", response_model=m.Open, tags=["administration"],
                summary="The backups' state: settings, the last backup, a failure since and why, those kept "
                        "(`backup --status`)")
def backups_api(reader: Reader = Depends(api_user)) -> dict[str, Any]:
    return _state(reader)
