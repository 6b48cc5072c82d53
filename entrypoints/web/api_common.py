"""What every /api/v1 route shares: who is asking (deps.api_reader), in which language a refusal
is said before the reader is known, and "a case outside your jurisdiction does not exist"."""
from __future__ import annotations

import os
import tempfile
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any, AsyncIterator, Iterable, Iterator, Mapping

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from starlette.datastructures import UploadFile

from engine.domain.errors import AuthError, NotFound, render_stored
from engine.domain.scans import SCAN_MAX, refuse_too_big

from .deps import Reader, accept_lang, api_reader, core


def asked_lang(request: Request) -> str:
    return accept_lang(request)


def titled(reader: Reader, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows naming a case by its title, the title in the reader's language where the engine worded it
    (a sample check's problem item: 抽查 #3 错退…, sample check #3: wrong exit…)."""
    return [{**r, "title": render_stored(reader.core.config, r["title"], reader.lang),
             **({"ended": {**r["ended"], "reason": render_stored(reader.core.config, r["ended"]["reason"], reader.lang)}}
                if r.get("ended") else {})} for r in rows]


def api_user(request: Request) -> Reader:
    """The reader of an API call: an API token (headers `X-Jingzhun-Person` and `Authorization:
    Bearer TOKEN`), or a browser session whose writes carry the `X-CSRF-Token` header. A refusal of
    the token is said in the language of `Accept-Language` (zh by default)."""
    request.state.reader = Reader(core(request), None, asked_lang(request))   # type: ignore[arg-type]
    return api_reader(request)


def known_query(request: Request) -> None:
    """A GET's query names only what its endpoint reads (and `lang`): a name it does not read (a
    misspelt filter, ?stag=assisted) was passed over, and the answer came unfiltered."""
    if request.method not in ("GET", "HEAD"):
        return
    known = ("lang", *query_fields(request.scope.get("route")))
    unknown = [name for name in dict.fromkeys(request.query_params) if name not in known]
    if unknown:
        raise RequestValidationError([{"type": "query_unknown", "loc": ("query", name), "msg": "unknown parameter",
                                       "input": request.query_params[name], "ctx": {"known": known}}
                                      for name in unknown])


def query_fields(route: Any) -> dict[str, Any]:
    """The query parameters a route reads, its dependencies' too, by the name a client writes: their
    declared fields (bounds in field_info.metadata)."""
    fields, todo = {}, [getattr(route, "dependant", None)]
    while todo:
        dependant = todo.pop()
        if dependant is not None:
            fields.update((field.alias, field) for field in dependant.query_params)
            todo += dependant.dependencies
    return fields


def token_reader(request: Request) -> Reader:
    """The reader of an API token only (no browser session): what `jingzhun --server` sends."""
    request.state.reader = Reader(core(request), None, asked_lang(request))   # type: ignore[arg-type]
    if not request.headers.get("authorization", "").lower().startswith("bearer "):
        raise AuthError("auth.no_token", person=request.headers.get("x-jingzhun-person") or "-")
    return api_reader(request)


def require_reach(reader: Reader, case_id: int) -> None:
    """Before a write on one case: a case outside the reader's jurisdiction is refused as not
    found, before any rule of the write could name its region or its steps."""
    from engine.reads.case_record import require_case_reader
    with within_reach(case_id):
        require_case_reader(reader.core, reader.actor, case_id)


def require_objection_reach(reader: Reader, objection_id: int) -> None:
    """Before resolving an objection: one on a case outside the reader's jurisdiction is not found."""
    from sqlalchemy import select

    from engine.adapters import tables as t
    with reader.core.engine.connect() as conn:
        case_id = conn.execute(select(t.objections.c.case_id).where(t.objections.c.id == objection_id)).scalar()
    if case_id is None:
        raise NotFound("objection.unknown", objection=objection_id)
    with within_reach(objection_id, "objection.unknown", "objection"):
        require_case_reader_of(reader, case_id)


def require_case_reader_of(reader: Reader, case_id: int) -> None:
    from engine.reads.case_record import require_case_reader
    require_case_reader(reader.core, reader.actor, case_id)


@contextmanager
def within_reach(case_id: int, what: str = "case.unknown", key: str = "case") -> Iterator[None]:
    """A case (notice, objection…) the reader may not see is, for them, one that does not exist."""
    try:
        yield
    except AuthError as exc:
        if exc.code == "auth.jurisdiction":
            raise NotFound(what, **{key: case_id}) from None
        raise
    except KeyError:
        raise NotFound(what, **{key: case_id}) from None


UPLOAD_MAX = SCAN_MAX                   # bytes of an evidence file, as every way in takes (engine.domain.scans)
# A request's body is refused with 413 as it arrives, never read whole, past its route's limit
# (FastAPI's max_body_size): a form or a JSON request takes BODY_MAX; a route taking an evidence
# file UPLOAD_BODY_MAX (a file over UPLOAD_MAX is then refused by name, in the reader's language);
# a village's households as JSON LIST_BODY_MAX; `POST /api/v1/cli` api_cli.CLI_BODY_MAX.
BODY_MAX = 1024 * 1024
UPLOAD_BODY_MAX = 64 * 1024 * 1024
LIST_BODY_MAX = 16 * 1024 * 1024


async def saved_upload(upload: UploadFile) -> Path:
    """An uploaded file in a private temporary folder under its own name (evidence keeps the name);
    the caller removes both."""
    folder = Path(tempfile.mkdtemp(prefix="jz-api-"))
    name = Path(upload.filename or "upload").name[-100:]
    target = folder / (name if name not in ("", ".", "..") else "upload")     # ".." names the folder above
    size = 0
    try:
        with os.fdopen(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
            while chunk := await upload.read(1024 * 1024):
                size += len(chunk)
                if size > UPLOAD_MAX:
                    break
                out.write(chunk)
    except OSError:             # the server's disk full: no half file left (the answer says it: app.disk_full)
        forget_upload(target)
        raise
    if size > UPLOAD_MAX:
        forget_upload(target)
        refuse_too_big(target.name, size)
    return target


def forget_upload(path: Path) -> None:
    path.unlink(missing_ok=True)
    path.parent.rmdir()


@asynccontextmanager
async def uploads_saved(form: Mapping[str, Any], names: Iterable[str]) -> AsyncIterator[dict[str, Path]]:
    """The files a form posted under `names` (those chosen), each saved for the call (saved_upload) and
    removed after it: field name -> path."""
    saved: dict[str, Path] = {}
    try:
        for name in names:
            upload = form.get(name)
            if isinstance(upload, UploadFile) and upload.filename:
                saved[name] = await saved_upload(upload)
        yield saved
    finally:
        for path in saved.values():
            forget_upload(path)
