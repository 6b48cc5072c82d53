"""The JSON API under /api/v1 (OpenAPI at /api/v1/openapi.json, docs at /api/docs).

Typed endpoints for machine clients (api_cases.py, api_oversight.py), each calling the same service
or read as the matching CLI command; and `POST /api/v1/cli` (api_cli.py), which runs any CLI
command for `jingzhun --server URL …`. See docs/api.md.
"""
from __future__ import annotations

from fastapi import APIRouter, Depends

from . import api_accounts, api_cases, api_cli, api_oversight, api_visits, routes_backups
from .api_common import known_query

router = APIRouter(include_in_schema=True, dependencies=[Depends(known_query)])     # a GET's query: only its own
for _module in (api_cases, api_visits, api_oversight, api_cli, api_accounts):
    router.include_router(_module.router)
router.include_router(routes_backups.api_router)      # GET /api/v1/backups (`backup --status`)
