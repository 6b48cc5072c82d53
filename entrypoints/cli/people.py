"""`person import`: people grouped from a sheet's rows (one per role), every row checked first; the
one-time enrolment codes of those without a channel written to a private file or returned."""
from __future__ import annotations

from contextlib import nullcontext
from typing import Any

from engine.adapters.private_files import replacing
from engine.domain.errors import BadInput, JingzhunError

from .context import Ctx
from .parsing import cell, roles_of
from .sheet_rows import Found, ListFile, good_rows, untold

PERSON_HEADERS = {"人员编号": "code", "工号": "code", "姓名": "name", "角色": "role", "岗位": "role", "区域": "region",
                  "辖区": "region", "区划代码": "region", "通知渠道": "channels", "提醒语言": "alert_lang"}
PERSON_LABELS = {"code": "person_code"}     # the columns' labels: field.<label>, else field.<column>
# The columns `export persons` writes, by their labels (field.<label>): its file imports as it is.
PERSON_EXPORTED = {"code": "person_code", "name": "name", "role": "role", "region": "region", "channels": "channels",
                   "alert_lang": "alert_lang"}


def import_people(ctx: Ctx, sheet: ListFile, codes_file: str | None, no_code: bool, skip_bad: str | None):
    """Create everyone (all or nothing; with `skip_bad`, those none of whose rows is bad). Each gets a
    one-time enrolment code: sent over their channel, else a paper code that goes to `codes_file`
    (replaced only on success) or is returned."""
    from engine.services.org import NewPerson, add_persons
    from notifications.contacts import parse_channel
    regions = regions_named(ctx, sheet)
    with good_rows(ctx, sheet, person_problems(ctx, sheet, regions), skip_bad, PERSON_LABELS,
                   group=lambda r: r["code"].strip()) as good:
        people = group_people(ctx, good, regions)
        new = [NewPerson(c, p["name"], tuple(p["roles"]), not no_code,
                         tuple(parse_channel(ch, p["lang"]) for ch in p["channels"])) for c, p in people.items()]
        # the codes file made first (fail before anyone is created), its codes and the file of bad rows written
        # whole before anyone is committed (a full disk creates no one); an existing one replaced only once all
        # went well
        with replacing(codes_file) if codes_file else nullcontext((None, None)) as (sink, _made):
            def keep(enrolments: dict) -> None:
                if sink:
                    write_codes(ctx, sink, people, enrolments)
                    sink.flush()
                good.ready()
            enrolments = add_persons(ctx.app(), ctx.actor(), new, source=sheet.source(len(good)), keep_codes=keep)
    return people, enrolments


def write_codes(ctx: Ctx, fh, people: dict, enrolments: dict) -> None:
    """The paper codes as a sheet to print and cut into slips: a header, then each person's code, name
    and one-time code with what to do with it (UTF-8 with BOM: Excel in China opens it as it is)."""
    import csv
    fh.write("\ufeff")
    out = csv.writer(fh, lineterminator="\r\n")
    out.writerow([ctx.text("codes_head_person"), ctx.text("codes_head_name"), ctx.text("codes_head_code"),
                  ctx.text("codes_head_use")])
    for code, enrolment in enrolments.items():
        if enrolment.code:
            out.writerow([code, people[code]["name"], enrolment.code, ctx.text("codes_use", person=code)])


def regions_named(ctx: Ctx, sheet: ListFile) -> dict[str, Any]:
    """The regions the rows give by name (洋塘村), looked up together: name -> its code, or why it
    names no one region in the importer's jurisdiction (none, or several: their codes). A region
    given in ASCII is meant as a code (a code mistyped is told as such, as the household import
    does)."""
    from engine.reads.oversight import region_codes_of
    from workflows.household_codes import code_digits
    names = {r["region"] for _line, r in sheet.rows if r["region"] and not code_digits(r["region"]).strip().isascii()}
    return region_codes_of(ctx.app(), ctx.actor(), names) if names else {}


def _region(r: dict[str, str], regions: dict[str, Any]) -> str:
    """The row's region as its code where its name names one, else as given (the service checks it)."""
    from workflows.household_codes import code_digits
    code = regions.get(r["region"])
    # a code typed in full-width digits or with spaces as the digits it shows, as region import reads it
    return code if isinstance(code, str) else code_digits(r["region"])




def person_problems(ctx: Ctx, sheet: ListFile, regions: dict[str, Any]) -> Found:
    """Every problem of every row, in line order: a region's name that names no one region; the
    service's (codes, names, roles, regions, the importing administrator's reach) and the alert
    channels'."""
    from engine.services.org import PersonRow, person_problems as service_problems
    people = [PersonRow(r["code"], r["name"], role_code(ctx, r["role"], _region(r, regions)),
                        _region(r, regions))
              for _line, r in sheet.rows]
    named = [(line, "region", regions[r["region"]]) for line, r in sheet.rows
             if isinstance(regions.get(r["region"]), JingzhunError)]
    return sheet.in_order(untold(named, service_problems(ctx.app(), ctx.actor(), people, sheet.lines)) +
                          _channel_problems(sheet))


def _channel_problems(sheet: ListFile) -> Found:
    """An alert language other than zh or en; a channel that is no KIND:ADDRESS."""
    from notifications.contacts import parse_channel
    found: Found = []
    for line, r in sheet.rows:
        lang = cell(r, "alert_lang", "zh")
        if lang not in ("zh", "en"):
            found.append((line, "alert_lang", BadInput("channel.bad_lang", lang=lang)))
            lang = "zh"
        for spec in _channels(r):
            try:
                parse_channel(spec, lang)
            except BadInput as exc:
                found.append((line, "channels", exc))
    return found


def role_code(ctx: Ctx, text: str, region: str = "") -> str:
    """A role named by its code or its label (村党支部书记), or a common name that names one role at
    the level of the row's region (扶贫办主任 of a county, 村支书), as its code; anything else as it is
    (the service refuses it, naming the closest roles)."""
    from engine.domain.inputs import to_code
    from engine.domain.regions import level_of
    from engine.domain.role_words import role_named
    if not text or not text.strip():
        return ""
    code = to_code(text.strip(), roles_of(ctx.config))
    if code in ctx.config.roles:
        return code
    try:
        level = level_of(region.strip()) if region and region.strip() else None
    except JingzhunError:
        level = None
    return role_named(ctx.config.roles, text, level) or code


def _channels(r: dict[str, str]) -> list[str]:
    return [c.strip() for c in (r.get("channels") or "").split(";") if c.strip()]


def group_people(ctx: Ctx, rows: list[dict[str, str]], regions: dict[str, Any]) -> dict[str, dict]:
    """One entry per person code: name, roles (ROLE, REGION), alert language and channels."""
    people: dict[str, dict] = {}
    for r in rows:
        p = people.setdefault(r["code"].strip(), {"name": r["name"], "roles": [], "channels": []})
        if r["role"].strip():
            p["roles"].append((role_code(ctx, r["role"], _region(r, regions)), _region(r, regions).strip()))
        p["lang"] = cell(r, "alert_lang") or p.get("lang", "zh")
        p["channels"] += _channels(r)
    return people
