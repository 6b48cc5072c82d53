"""`jingzhun workflow show KIND`: a workflow drawn from the definitions the engine runs."""
from __future__ import annotations

import click

from .context import Ctx, pass_ctx


@click.group()
def workflow():
    """The workflows in force (household, village, project, problem), as the engine runs them."""


@workflow.command("show")
@click.argument("kind")
@click.option("--format", "fmt", type=click.Choice(["text", "mermaid", "svg"]), default="text", show_default=True,
              help="text for the terminal, mermaid for Markdown, svg for a picture (a browser opens it).")
@pass_ctx
def workflow_show(ctx: Ctx, kind: str, fmt: str):
    """The lifecycle (stages, the procedures between them, side moves) and each procedure's steps: roles,
    evidence, notices and deadlines, in the chosen language."""
    from engine.reads.workflow_diagram import render
    click.echo(render(ctx.config, kind, fmt, ctx.lang), nl=False)


COMMANDS = (workflow,)
