"""Finding a case on a page (查找): a member's name, an ID number, a household code or a case number typed in
one box, the cases of the reader's jurisdiction it names listed (engine/reads/find.py, as `case find`)."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from engine.domain.errors import BadInput

from .access import needs
from .deps import Reader
from .render import error_text, page

router = APIRouter(include_in_schema=False)


@router.get("/find")
async def find(request: Request, q: str | None = None, reader: Reader = Depends(needs("signed_in"))):
    from engine.reads.find import find_cases
    if q is None:                 # the box alone
        return page(request, "find.html", asked="", found=None, error=None)
    try:
        found = await run_in_threadpool(find_cases, reader.core, reader.actor, q)
    except BadInput as exc:
        return page(request, "find.html", 400, asked=q[:80], found=None, error=error_text(request, exc))
    return page(request, "find.html", asked=q[:80], found=found, error=None)
