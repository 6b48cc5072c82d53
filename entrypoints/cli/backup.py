"""Backing a data home up while its server runs, and restoring a backup into a new home."""
from __future__ import annotations

from pathlib import Path

import click

from .context import Ctx, pass_ctx
from .helptext import command
from .printing import err, say


@command("backup")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@pass_ctx
def backup(ctx: Ctx, folder: Path):
    from engine.services.backups import take_backup
    manifest = take_backup(ctx.app(), ctx.actor(), folder, lambda step: err.print(ctx.text(f"backup.step.{step}")))
    for name, f in manifest["files"].items():
        say(ctx.text("backup.file", file=str(Path(folder).resolve() / name), bytes=f"{f['bytes']:,}", sha256=f["sha256"]))
    say(ctx.text("backup.done", folder=str(Path(folder).resolve()), files=manifest["home_files"],
                 head=manifest["head"] or "-"))
    say(ctx.text("backup.key_apart"))


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
