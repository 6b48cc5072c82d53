"""`jingzhun workflow show KIND`: a workflow drawn from the definitions the engine runs."""
from __future__ import annotations

import click

from . import parsing
from .context import Ctx, pass_ctx
from .helptext import group


@group()
def workflow():
    pass


@workflow.command("show")
@click.argument("kind", callback=parsing.coded("kind", parsing.kinds_of))      # a kind by its name too (贫困户)
@click.option("--format", "fmt", type=click.Choice(["text", "mermaid", "svg"]), default="text", show_default=True)
@pass_ctx
def workflow_show(ctx: Ctx, kind: str, fmt: str):
    from engine.reads.workflow_diagram import render
    click.echo(render(ctx.config, kind, fmt, ctx.lang), nl=False)


COMMANDS = (workflow,)
