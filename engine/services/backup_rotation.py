"""Backups kept by number in one folder: the server's nightly backup (`serve`'s scheduler) and
`jingzhun backup --keep N ROOT` (for cron), each into `ROOT/2026-12-07T0200` (office time), the oldest
removed once more than N are kept.

Only a backup this made is ever removed: a folder named by its stamp whose `backup.json` says it was kept
by number (`"kept": true`) of this record (`"record"`: its first event's hash, not another installation's
sharing the folder), never a folder anything else put there, and never the backup just taken. A
backup that fails removes nothing: it is recorded in the activity log (`backup_failed`, with why) and
told to every administrator over the whole installation over their channels; the backups' state
(engine/reads/backup_status.py) says it failed until a backup succeeds again.

The installation's settings are the server's environment (the unit's environment file, as
`JINGZHUN_DB_FILE` and SMTP's): `JINGZHUN_BACKUP_DIR` (the folder; no nightly backup without it),
`JINGZHUN_BACKUP_KEEP` (how many, 7 unless given) and `JINGZHUN_BACKUP_AT` (the office time, 02:00
unless given).
"""
from __future__ import annotations

import errno
import json
import logging
import os
import re
import shutil
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Any, Callable, Mapping

from engine.adapters.app import App
from engine.domain.deadline_rules import office_zone
from engine.domain.errors import BadInput, JingzhunError
from engine.domain.regions import ROOT
from engine.services.backups import MANIFEST, authorised, take_backup

DIR_ENV, KEEP_ENV, AT_ENV = "JINGZHUN_BACKUP_DIR", "JINGZHUN_BACKUP_KEEP", "JINGZHUN_BACKUP_AT"
DEFAULT_KEEP, DEFAULT_AT = 7, time(2, 0)
MOST_KEPT = 3650
STAMP = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{4})(?:-(\d{1,4}))?$")
log = logging.getLogger("jingzhun.backup")


@dataclass(frozen=True)
class BackupPlan:
    """Where the nightly backups go, how many are kept, and at what office time one is taken."""
    root: Path
    keep: int
    at: time

    def as_dict(self) -> dict[str, Any]:
        return {"folder": str(self.root), "keep": self.keep, "at": self.at.strftime("%H:%M")}


def backup_plan(env: Mapping[str, str] | None = None, home: Path | None = None) -> BackupPlan | None:
    """The nightly backups the installation's environment asks for; None without `JINGZHUN_BACKUP_DIR`.
    A value that cannot be meant is refused in words (the server does not start on it): the folder
    relative or inside the data home `home`, the number not a whole number from 1, the time not HH:MM."""
    env = os.environ if env is None else env
    given = (env.get(DIR_ENV) or "").strip()
    if not given:
        return None
    root = Path(given).expanduser()
    if not root.is_absolute():
        raise BadInput("backup.dir_not_absolute", name=DIR_ENV, folder=given)
    root = root.resolve()
    if home is not None:
        home = Path(home).resolve()
        if root == home or root.is_relative_to(home) or home.is_relative_to(root):
            raise BadInput("backup.inside_home", folder=str(root), home=str(home))
    keep_text = (env.get(KEEP_ENV) or "").strip()
    if keep_text and not (keep_text.isascii() and keep_text.isdigit() and 1 <= int(keep_text) <= MOST_KEPT):
        raise BadInput("backup.keep_invalid", name=KEEP_ENV, value=keep_text, most=MOST_KEPT)
    at_text = (env.get(AT_ENV) or "").strip()
    at = DEFAULT_AT
    if at_text:
        found = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", at_text)
        if not found:
            raise BadInput("backup.at_invalid", name=AT_ENV, value=at_text)
        at = time(int(found.group(1)), int(found.group(2)))
    return BackupPlan(root, int(keep_text) if keep_text else DEFAULT_KEEP, at)


def kept_backups(root: Path, record: str | None = None) -> list[tuple[Path, dict[str, Any]]]:
    """The backups kept by number in `root`, newest first, each with its manifest: folders (not links)
    named by their stamp whose `backup.json` says so and, given `record`, names it (this record's, not
    another installation's sharing the folder). Anything else in `root` is not one of them."""
    found = []
    try:
        entries = list(os.scandir(root))
    except OSError:
        return []
    for entry in entries:
        named = STAMP.match(entry.name)
        if not named or not entry.is_dir(follow_symlinks=False):
            continue
        try:
            manifest = json.loads((Path(entry.path) / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(manifest, dict) and manifest.get("kept") is True and isinstance(manifest.get("files"), dict) \
                and (record is None or manifest.get("record") == record):
            found.append(((named.group(1), int(named.group(2) or 1)), Path(entry.path), manifest))
    return [(path, manifest) for _key, path, manifest in sorted(found, key=lambda f: f[0], reverse=True)]


def unfinished_backups(root: Path) -> list[str]:
    """The folders an interrupted backup left in `root` (`2026-12-07T0200.partial`: the process killed or the
    machine stopped while it wrote), oldest first: never removed by itself (one may be being written), said."""
    try:
        return sorted(e.name for e in os.scandir(root) if e.name.endswith(".partial")
                      and STAMP.match(e.name.removesuffix(".partial")) and e.is_dir(follow_symlinks=False))
    except OSError:
        return []


def take_kept_backup(app: App, actor, root: Path, keep: int, told: Callable[[str], None] | None = None) -> dict:
    """A backup into a new folder of `root` named by the office time (`2026-12-07T0200`; `-2` after it when
    taken twice in a minute), then the backups kept by number beyond the newest `keep` removed, never the
    one just taken. An administrator over the whole installation, or the scheduler itself. A backup that
    fails removes nothing, is recorded (`backup_failed`, with why) and told to the administrators, and is
    raised. Returns the manifest, the folder and the folders removed."""
    role = authorised(app, actor)
    if not 1 <= keep <= MOST_KEPT:
        raise BadInput("backup.keep_invalid", name="--keep", value=str(keep), most=MOST_KEPT)
    root = Path(root).resolve()
    folder = _new_folder(app, root)
    try:
        if not root.is_dir():
            raise BadInput("backup.no_root", folder=str(root))
        manifest = take_backup(app, actor, folder, told, kept=True)
    except Exception as failed:
        _record_failure(app, actor, role, folder, failed)
        raise
    removed, left = _prune(root, keep, folder, manifest.get("record"))
    if removed or left:
        with app.unit_of_work() as uow:
            uow.append_org_event(actor, "backups_removed", role, ROOT, folder=str(root), keep=keep,
                                 removed=removed, not_removed=left)
    return {"manifest": manifest, "folder": str(folder), "removed": removed, "not_removed": left}


def _new_folder(app: App, root: Path) -> Path:
    stamp = app.clock.now().astimezone(office_zone(app.config)).strftime("%Y-%m-%dT%H%M")
    folder, n = root / stamp, 1
    while folder.exists() or folder.with_name(folder.name + ".partial").exists():
        n += 1
        folder = root / f"{stamp}-{n}"
    return folder


def _prune(root: Path, keep: int, newest: Path, record: str | None) -> tuple[list[str], list[str]]:
    """This record's backups kept by number beyond the newest `keep` removed, `newest` (the one just taken)
    kept whatever its name; (removed, not removed: a folder the server may not delete) by name."""
    if record is None:              # a record of no event yet: nothing to tell its backups by
        return [], []
    ours = [path for path, _manifest in kept_backups(root, record)]
    if newest not in ours:          # not read back whole: remove nothing
        return [], []
    kept = [newest] + [p for p in ours if p != newest][:keep - 1]
    removed, left = [], []
    for path in ours:
        if path in kept:
            continue
        try:
            shutil.rmtree(path)
            removed.append(path.name)
        except OSError as exc:
            log.error("backup %s not removed: %s", path, exc.strerror or type(exc).__name__)
            left.append(path.name)
    return removed, left


def failure_of(failed: BaseException) -> dict[str, Any]:
    """Why a backup failed, as stored (a message's key and params, no person's data): a refusal's own,
    a full disk or a folder the server may not write, or the kind of an unforeseen error."""
    if isinstance(failed, JingzhunError):
        return {"key": f"msg.{failed.code}", "params": {k: str(v) for k, v in failed.params.items()}}
    if isinstance(failed, OSError):
        where = failed.filename if isinstance(failed.filename, str) else ""
        if failed.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            return {"key": "msg.backup.disk_full", "params": {"folder": where}}
        if failed.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return {"key": "msg.backup.unwritable", "params": {"folder": where}}
        return {"key": "msg.backup.os_error", "params": {"problem": failed.strerror or type(failed).__name__,
                                                          "folder": where}}
    return {"key": "msg.backup.unexpected", "params": {"problem": type(failed).__name__}}


def _record_failure(app: App, actor, role: str | None, folder: Path, failed: BaseException) -> None:
    """The failed backup in the activity log and told to the administrators over the whole installation
    (once per folder it was to write); where the database itself fails, in the server's log only."""
    from engine.services.org import holders, person_ids
    problem = failure_of(failed)
    try:
        with app.unit_of_work() as uow:
            uow.append_org_event(actor, "backup_failed", role, ROOT, folder=str(folder), problem=problem)
            codes = sorted({code for code, _name, _role in holders(uow.conn, ["admin"], ROOT)})
            ids = list(person_ids(uow.conn, codes).values()) if codes else []
            channels = [c for chans in app.plugins.channels_of(uow.conn, ids).values() for c in chans]
            if channels:
                app.plugins.enqueue_backup_failed(app, uow.conn, str(folder), problem, channels, app.clock.now())
    except Exception as exc:        # the database away: the failure is in the server's log only (job_backup)
        log.error("backup failure not recorded: %s", type(exc).__name__)
