"""A role as a clerk writes it in a people list: its code, its full name (县扶贫办主任), or a common short
name (扶贫办主任, 村支书, 镇长) whose level the row's region decides (扶贫办主任 of a county is the county's
poverty office director). A name that still fits several roles, or none, is left as written for the
role check to refuse, naming the closest roles (`near_roles`), not every role."""
from __future__ import annotations

import difflib
from typing import Any, Mapping

from engine.domain.evidence import compared

# The level words a role's name may begin with, longest first (乡镇 before 乡).
LEVEL_WORDS = ("县级", "市级", "乡镇", "县", "市", "乡", "镇", "村")

# Common names of the standard roles beside their full names (roles a configuration lacks are ignored).
ALSO_CALLED: dict[str, tuple[str, ...]] = {
    "village_secretary": ("村支书", "支书", "村书记", "支部书记", "村支部书记", "党支部书记", "村党组织书记"),
    "village_director": ("村主任", "村长", "村委主任", "村民委员会主任"),
    "resident_team_leader": ("驻村工作队队长", "工作队长", "工作队队长", "驻村队长"),
    "resident_team_member": ("驻村队员", "工作队员", "工作队队员"),
    "first_secretary": ("驻村第一书记",),
    "pairing_cadre": ("帮扶干部", "结对帮扶干部", "帮扶人"),
    "township_staff": ("乡干部", "镇干部", "乡镇工作人员", "包村干部"),
    "township_secretary": ("乡镇书记", "乡书记", "镇书记"),
    "township_head": ("乡长", "镇长"),
    "county_office_staff": ("县扶贫办工作人员",),
    "city_office_staff": ("市扶贫办工作人员",),
    "county_office_director": ("县扶贫开发办主任", "县扶贫开发办公室主任", "县扶贫办公室主任"),
    "county_head": ("县人民政府县长",),
    "admin": ("管理员",),
}


def _bare(text: str) -> str:
    """A name without spaces and without the level word it begins with (县扶贫办主任: 扶贫办主任)."""
    text = _plain(text)
    for word in LEVEL_WORDS:
        if text.startswith(word) and len(text) > len(word) + 1:
            return text[len(word):]
    return text


def _names(code: str, role: Any) -> set[str]:
    return {_plain(n) for n in (code, role.zh, role.en, *ALSO_CALLED.get(code, ()))}


def _plain(text: str | None) -> str:
    """As a code or label is compared (`evidence.compared`): full-width letters as ASCII, no spaces, any case."""
    return compared(text or "")


def _fits(role: Any, region_level: str | None) -> bool:
    return region_level is None or role.level == region_level or (
        (role.admin or role.read_only or role.assign_below) and region_level != "village")


def role_named(roles: Mapping[str, Any], text: str, region_level: str | None = None) -> str | None:
    """The code of the one role `text` names (see the module), None when it names none or several
    that the region's level (village, township, county…; None: not known) does not tell apart."""
    said = _plain(text)
    if not said:
        return None
    found = [c for c, r in roles.items() if said in _names(c, r)]
    if not found:
        bare = _bare(said)
        found = [c for c, r in roles.items() if bare in {_bare(n) for n in _names(c, r)}]
    for narrower in (lambda c: _fits(roles[c], region_level), lambda c: roles[c].level == region_level):
        if len(found) > 1:
            found = [c for c in found if narrower(c)] or found
    return found[0] if len(found) == 1 else None


def near_roles(roles: Mapping[str, Any], text: str, most: int = 3) -> list[str]:
    """The codes of the roles whose names are most like `text` (at most `most`; none when none is)."""
    said, bare = _plain(text), _bare(_plain(text))
    by_name: dict[str, str] = {}
    for code, role in roles.items():
        for name in _names(code, role):
            by_name.setdefault(name, code)
            by_name.setdefault(_bare(name), code)
    found: list[str] = []
    for name in difflib.get_close_matches(said, list(by_name), n=most * 4, cutoff=0.4) + \
            difflib.get_close_matches(bare, list(by_name), n=most * 4, cutoff=0.4):
        if by_name[name] not in found:
            found.append(by_name[name])
    contained = [c for c, r in roles.items() if any(bare and (bare in n or n in bare) for n in _names(c, r) if len(n) > 1)]
    return (found + [c for c in contained if c not in found])[:most]
