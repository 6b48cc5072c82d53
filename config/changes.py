"""What putting a configuration in force changes in the rules in force: each value changed, added or
dropped, by file and key path, and named in words where a reader knows the thing (a province's income
line, the inspection thresholds). `config install` refuses what would drop anything the rules in force
have unless the administrator says so (a file cut short in a copy drops its end), and prints the rest;
`config check --dir` prints it before."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from engine.domain.errors import Msg

SHOWN = 40          # a value longer than this, as JSON, is cut here (a whole section is not printed)
_ABSENT = object()

# Sections of policy.yaml a reader knows by what they do (`config_part.<section>`).
POLICY_SECTIONS = ("national_income_line", "monitoring_line", "defaults", "west_params", "provinces",
                   "inspection", "assessment")


@dataclass(frozen=True)
class Change:
    file: str                 # policy.yaml, workflows/household.yaml…
    key: str                  # the key path in it, dotted ("" for the whole file)
    kind: str                 # changed, added or dropped
    part: Msg                 # what it is, in words
    before: Any = None
    after: Any = None

    @property
    def where(self) -> str:
        """file:key, as the install's event records what it dropped."""
        return f"{self.file}:{self.key}" if self.key else self.file

    def msg(self) -> Msg:
        """The change as one line of the summary; a whole part dropped or added is named, not printed."""
        whole = self.kind != "changed" and isinstance(self.before if self.kind == "dropped" else self.after, dict)
        return Msg(f"config_change.{self.kind}{'_whole' if whole else ''}",
                   {"part": self.part, "before": _shown(self.before), "after": _shown(self.after)})


def changes(old, new) -> list[Change]:
    """Every difference between two configurations' files (roles, policy, workflows, deadlines), at the
    highest key that differs: a province the new one lacks is one change, not one per value. A key the
    old file gives and the new one leaves out is dropped, unless the default it falls back to is the
    same value (`west: false` left out)."""
    old_written, old_full = _files(old, unset=False), _files(old, unset=True)
    new_written, new_full = _files(new, unset=False), _files(new, unset=True)
    found: list[Change] = []
    _walk((), old_written, old_full, new_written, new_full, found, (old_full, new_full))
    return found


def _files(cfg, unset: bool) -> dict[str, Any]:
    """The configuration as its files give it (`unset` False: only what they write) or as it is read
    (defaults filled in), as JSON values."""
    from config import ANCHOR_KEYS
    dump = {"mode": "json", "by_alias": True, "exclude_unset": not unset}
    files = {"roles.yaml": {"roles": {k: v.model_dump(**dump) for k, v in cfg.roles.items()}},
             "policy.yaml": cfg.policy.data.model_dump(**dump)}
    for kind, wf in cfg.workflows.items():
        files[f"workflows/{kind}.yaml"] = wf.model_dump(exclude=ANCHOR_KEYS, **dump)
    if cfg.deadlines is not None:
        files["deadlines.yaml"] = cfg.deadlines.model_dump(**dump)
    return files


def _walk(path: tuple, old_w: Any, old_f: Any, new_w: Any, new_f: Any, found: list[Change], trees: tuple) -> None:
    if isinstance(old_w, dict) and isinstance(new_w, dict):
        for key in old_w:
            if key not in new_w:
                after = new_f.get(key, _ABSENT)
                if after != old_f[key]:
                    found.append(_change(path + (key,), "dropped", old_f[key], None, trees))
            else:
                _walk(path + (key,), old_w[key], old_f[key], new_w[key], new_f[key], found, trees)
        for key in new_w:
            if key not in old_w and old_f.get(key, _ABSENT) != new_f[key]:
                before = old_f.get(key, _ABSENT)
                found.append(_change(path + (key,), "added" if before is _ABSENT else "changed",
                                     None if before is _ABSENT else before, new_f[key], trees))
    elif isinstance(old_w, list) and isinstance(new_w, list) and len(old_w) == len(new_w) \
            and any(isinstance(v, (dict, list)) for v in old_w):
        for i, (ow, of, nw, nf) in enumerate(zip(old_w, old_f, new_w, new_f)):
            _walk(path + (str(i),), ow, of, nw, nf, found, trees)
    elif old_f != new_f:
        found.append(_change(path, "changed", old_f, new_f, trees))


def _change(path: tuple, kind: str, before: Any, after: Any, trees: tuple) -> Change:
    return Change(path[0], ".".join(str(p) for p in path[1:]), kind, _part(path, trees), before, after)


def _part(path: tuple, trees: tuple) -> Msg:
    """What a key path is, in words: a province's income line, a section of the policy; else the file
    and the key."""
    file, keys = path[0], [str(p) for p in path[1:]]
    if not keys:
        return Msg("config_part.file", {"file": file})
    if file == "policy.yaml":
        if keys[0] == "provinces" and len(keys) >= 2:
            province = next((t["policy.yaml"]["provinces"][keys[1]] for t in trees
                             if keys[1] in t.get("policy.yaml", {}).get("provinces", {})), {})
            named = {"name": province.get("name", keys[1]), "code": keys[1]}
            if len(keys) == 2:
                return Msg("config_part.province", named)
            if keys[2] == "income_line" and len(keys) <= 4:
                return Msg("config_part.province_line", {**named, "year": keys[3]}) if len(keys) == 4 \
                    else Msg("config_part.province_lines", named)
            if keys[2] == "years" and len(keys) == 4:
                return Msg("config_part.province_year", {**named, "year": keys[3]})
        if keys[0] in ("national_income_line", "monitoring_line") and len(keys) == 2:
            return Msg(f"config_part.{keys[0]}_year", {"year": keys[1]})
        if keys[0] in POLICY_SECTIONS and len(keys) == 1:
            return Msg(f"config_part.{keys[0]}")
    return Msg("config_part.key", {"file": file, "key": ".".join(keys)})


def _shown(value: Any) -> str:
    """A value as JSON, cut at SHOWN characters."""
    if value is None:
        return "-"
    if isinstance(value, float) and value.is_integer():       # a line of 3747 yuan, read as 3747.0
        value = int(value)
    text = json.dumps(value, ensure_ascii=False, sort_keys=False)
    return text if len(text) <= SHOWN else text[:SHOWN - 1] + "…"
