"""What an administrator is shown of the installation's backups (`jingzhun backup --status`, the
administrator's 备份 page, `GET /api/v1/backups`): the last backup taken (when, by whom, where, how big),
the last that failed since and why, how each was read back ("checked: whole, N events"), when the next
nightly one is due, and the backups kept by number."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select

from engine.adapters import tables as t
from engine.adapters.app import App
from engine.reads.audit_records import as_json
from engine.domain.regions import ROOT
from engine.services.backup_rotation import BackupPlan, kept_backups, unfinished_backups
from engine.services.backups import record_of

NIGHTLY_JOB = "nightly_backup"      # the scheduler's job (entrypoints/scheduler.py)


def backup_status(app: App, actor, plan: BackupPlan | None) -> dict[str, Any]:
    """The backups' state for an administrator over the whole installation. `plan`: the nightly backups
    the installation's settings ask for (backup_rotation.backup_plan), None when they ask for none.
    `failing`: the last backup kept by number failed, and none was taken since."""
    from engine.services.org import require_admin
    require_admin(app, actor, ROOT, "backup --status")
    with app.engine.connect() as conn:
        taken = _last(conn, "backup_taken")
        failed = _last(conn, "backup_failed")
        next_run = conn.execute(select(t.apscheduler_jobs.c.next_run_time).where(
            t.apscheduler_jobs.c.id == NIGHTLY_JOB)).scalar() if plan is not None else None
    kept = kept_backups(plan.root, record_of(app)) if plan is not None else []
    return {
        "plan": plan.as_dict() if plan is not None else None,
        "folder_missing": plan is not None and not plan.root.is_dir(),
        "next_run": datetime.fromtimestamp(next_run, timezone.utc).isoformat() if next_run is not None else None,
        "not_scheduled": plan is not None and next_run is None,     # no scheduler runs the nightly job
        "unfinished": unfinished_backups(plan.root) if plan is not None else [],
        "last": _taken(taken) if taken is not None else None,
        "last_failure": _failed(failed) if failed is not None else None,
        "failing": failed is not None and (taken is None or failed.seq > taken.seq),
        "kept": [{"folder": str(path), "name": path.name, "taken_at": m.get("taken_at"), "taken_by": m.get("taken_by"),
                  "bytes": sum(f.get("bytes", 0) for f in m["files"].values() if isinstance(f, dict)),
                  "head": m.get("head"), "check": _check(m.get("check"))} for path, m in kept],
    }


def admin_alarm(app: App, actor) -> dict[str, Any] | None:
    """What the pages of an administrator over the whole installation say at their top until it is put
    right: the last backup failed and none succeeded since (`backup`: when, where, why), or the audit log's
    last seal was refused for a broken chain and none was signed since (`seal`: when, how many findings).
    None for anyone else, and when all is well. A few reads by index (ix_audit_events_org_action, the
    checkpoints' upto_seq), cheap enough for every page such an administrator opens."""
    roles = app.config.roles
    if not any(a.role in roles and roles[a.role].admin and a.region_code == ROOT for a in actor.assignments):
        return None
    with app.engine.connect() as conn:
        failed = _last(conn, "backup_failed")
        taken = _last(conn, "backup_taken") if failed is not None else None
        refused = _last(conn, "seal_refused")
        sealed = conn.execute(select(t.audit_checkpoints.c.upto_seq).order_by(
            t.audit_checkpoints.c.upto_seq.desc()).limit(1)).scalar() if refused is not None else None
    backup = _failed(failed) if failed is not None and (taken is None or failed.seq > taken.seq) else None
    seal = {"at": _when(refused), "findings": _detail(refused).get("findings")} \
        if refused is not None and (sealed is None or refused.seq > sealed) else None
    return {"backup": backup, "seal": seal} if backup or seal else None


def _last(conn, action: str):
    """The newest organisation event of `action`, the whole installation's (ix_audit_events_org_action)."""
    ae = t.audit_events
    return conn.execute(select(ae.c.seq, ae.c.at, ae.c.person_code, ae.c.person_name, ae.c.detail)
                        .where(ae.c.case_id.is_(None), ae.c.action == action, ae.c.region_code == ROOT)
                        .order_by(ae.c.seq.desc()).limit(1)).first()


def _detail(row) -> dict:
    detail = as_json(row.detail) if row.detail is not None else {}
    return detail if isinstance(detail, dict) else {}


def _when(row) -> str:
    at = row.at if row.at.tzinfo else row.at.replace(tzinfo=timezone.utc)
    return at.isoformat()


def _taken(row) -> dict[str, Any]:
    detail = _detail(row)
    return {"at": _when(row), "by": row.person_code, "by_name": row.person_name, "folder": detail.get("folder"),
            "bytes": detail.get("bytes"), "head": detail.get("head"), "check": _check(detail.get("check")),
            "event": row.seq}


def _check(check) -> dict[str, Any] | None:
    """How a backup was read back before it took its name (services/backups.py `_read_back`); None for one
    taken before backups were read back."""
    if not isinstance(check, dict):
        return None
    return {"whole": check.get("whole") is True, "events": check.get("events"), "last": check.get("last"),
            "seconds": check.get("seconds")}


def _failed(row) -> dict[str, Any]:
    detail = _detail(row)
    problem = detail.get("problem") if isinstance(detail.get("problem"), dict) else {}
    return {"at": _when(row), "by": row.person_code, "by_name": row.person_name, "folder": detail.get("folder"),
            "problem": {"key": str(problem.get("key") or "msg.backup.unexpected"),
                        "params": dict(problem.get("params") or {})}, "event": row.seq}
