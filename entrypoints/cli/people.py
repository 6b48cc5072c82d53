"""`person import`: people grouped from CSV rows, their tokens written to a private file or returned."""
from __future__ import annotations

import os

from .context import Ctx
from .parsing import cell, private_file


def group_people(rows: list[dict[str, str]]) -> dict[str, dict]:
    """One entry per person code: name, roles (ROLE, REGION), alert language and channels."""
    people: dict[str, dict] = {}
    for r in rows:
        p = people.setdefault(r["code"].strip(), {"name": r["name"], "roles": [], "channels": []})
        if r["role"].strip():
            p["roles"].append((r["role"].strip(), r["region"].strip()))
        p["lang"] = cell(r, "alert_lang") or p.get("lang", "zh")
        p["channels"] += [c.strip() for c in (r.get("channels") or "").split(";") if c.strip()]
    return people


def import_people(ctx: Ctx, rows: list[dict[str, str]], tokens_file: str | None, no_token: bool):
    """Create everyone (all or nothing); the tokens go to `tokens_file` (replaced only on success)."""
    from engine.services.org import NewPerson, add_persons
    from notifications.contacts import parse_channel
    people = group_people(rows)
    new = [NewPerson(c, p["name"], tuple(p["roles"]), not no_token,
                     tuple(parse_channel(ch, p["lang"]) for ch in p["channels"])) for c, p in people.items()]
    sink = private_file(tokens_file) if tokens_file else None   # fail before anyone is created
    try:
        tokens = add_persons(ctx.app(), ctx.actor(), new)
    except BaseException:
        if sink:
            sink[0].close()
            os.unlink(sink[1])
        raise
    if sink:
        with sink[0] as fh:
            fh.writelines(f"{c},{tok}\n" for c, tok in tokens.items())
        os.replace(sink[1], tokens_file)   # an existing file is replaced only once all went well
    return people, tokens
