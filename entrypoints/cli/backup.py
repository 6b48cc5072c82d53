"""Backing a data home up while its server runs, and restoring a backup into a new home."""
from __future__ import annotations

from pathlib import Path

import click

from .context import Ctx, pass_ctx
from .helptext import command
from .options import json_option
from .printing import emit, err, say


@command("backup")
@click.argument("folder", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--keep", type=click.IntRange(1, 3650), metavar="N")
@click.option("--status", "status", is_flag=True)
@json_option
@pass_ctx
def backup(ctx: Ctx, folder: Path | None, keep: int | None, status: bool, as_json: bool):
    from engine.domain.errors import BadInput
    if status:
        if folder is not None or keep is not None:
            raise BadInput("backup.status_alone")
        return backup_status(ctx, as_json)
    if folder is None:
        raise BadInput("backup.folder_missing")
    steps = lambda step: err.print(ctx.text(f"backup.step.{step}"))  # noqa: E731
    removed: list[str] = []
    if keep is not None:
        from engine.services.backup_rotation import take_kept_backup
        done = take_kept_backup(ctx.app(), ctx.actor(), folder, keep, steps)
        manifest, folder, removed = done["manifest"], Path(done["folder"]), done["removed"]
    else:
        from engine.services.backups import take_backup
        manifest = take_backup(ctx.app(), ctx.actor(), folder, steps)
    for name, f in manifest["files"].items():
        say(ctx.text("backup.file", file=str(Path(folder).resolve() / name), bytes=f"{f['bytes']:,}", sha256=f["sha256"]))
    say(ctx.text("backup.done", folder=str(Path(folder).resolve()), files=manifest["home_files"],
                 head=manifest["head"] or "-"))
    say(_checked(ctx, manifest["check"]))
    if keep is not None:
        say(ctx.text("backup.removed", keep=keep, removed=", ".join(removed)) if removed else
            ctx.text("backup.removed_none", keep=keep))
    say(ctx.text("backup.key_apart"))


def backup_status(ctx: Ctx, as_json: bool) -> None:
    """`backup --status`: the last backup, the last failure since, the next nightly one, those kept."""
    from engine.reads.backup_status import backup_status as status_of
    from engine.services.backup_rotation import backup_plan
    found = status_of(ctx.app(), ctx.actor(), backup_plan(home=ctx.settings().home))
    emit(found, as_json, lambda: _status_lines(ctx, found))
    if found["failing"]:
        raise click.exceptions.Exit(1)      # for cron and monitoring: the last backup failed


def _status_lines(ctx: Ctx, found: dict) -> None:
    from engine.domain.errors import render_text
    from .parsing import local_time
    plan, last, failure = found["plan"], found["last"], found["last_failure"]
    say(ctx.text("backup.status.plan", folder=plan["folder"], keep=plan["keep"], at=plan["at"]) if plan else
        ctx.text("backup.status.no_plan"))
    if found["folder_missing"]:
        say(ctx.text("backup.status.folder_missing", folder=plan["folder"]))
    if found["next_run"]:
        say(ctx.text("backup.status.next", at=local_time(ctx, found["next_run"])))
    elif found["not_scheduled"]:
        say(ctx.text("backup.status.not_scheduled"))
    size = lambda n: f"{n:,}" if isinstance(n, int) else "-"  # noqa: E731
    mb = lambda n: f"{n / 1048576:.1f}" if isinstance(n, int) else "-"  # noqa: E731
    by = (ctx.text("backup.status.by_system") if last["by"] == "scheduler" else last["by"]) if last else "-"
    say(ctx.text("backup.status.last", at=local_time(ctx, last["at"]), by=by, folder=last["folder"] or "-",
                 bytes=size(last["bytes"]), mb=mb(last["bytes"])) if last else ctx.text("backup.status.never"))
    if last:
        say("  " + _checked(ctx, last["check"]))
    if failure and found["failing"]:
        why = render_text(ctx.config, failure["problem"]["key"], failure["problem"]["params"], ctx.lang)
        say(ctx.text("backup.status.failed", at=local_time(ctx, failure["at"]), folder=failure["folder"] or "-",
                     problem=why or failure["problem"]["key"]))
    if found["unfinished"]:
        say(ctx.text("backup.status.unfinished", folders=", ".join(found["unfinished"]), folder=plan["folder"]))
    for k in found["kept"]:
        say(ctx.text("backup.status.kept", name=k["name"], bytes=size(k["bytes"]), mb=mb(k["bytes"]),
                     head=k["head"] or "-"))
        say("    " + _checked(ctx, k["check"]))


def _checked(ctx: Ctx, check: dict | None) -> str:
    """How a backup was read back before it took its name: "checked: whole, N events"."""
    if not check:
        return ctx.text("backup.check.none")
    return ctx.text("backup.check.whole", events=f"{check['events']:,}", seconds=check["seconds"])


@command("restore")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@pass_ctx
def restore(ctx: Ctx, folder: Path):
    from engine.services.backups import restore_backup
    settings = ctx.settings()
    manifest = restore_backup(settings, folder, lambda step: err.print(ctx.text(f"restore.step.{step}")))
    home = str(settings.home)
    say(ctx.text("restore.done", home=home, taken_at=manifest["taken_at"], by=manifest["taken_by"]))
    if manifest["database"] == "postgresql":
        say(ctx.text("restore.next_postgresql", home=home))
    say(ctx.text("restore.next_key", home=home))
    say(ctx.text("restore.next_verify", home=home, head=manifest["head"]) if manifest["head"] else
        ctx.text("restore.next_verify_no_head", home=home))


COMMANDS = (backup, restore)
