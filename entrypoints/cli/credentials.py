"""A person's own credentials: `activate` spends the one-time enrolment code an administrator had
sent or handed over, for the person's own login token (and password); `password` sets one's
password for the server's sign-in page. Neither can be done for somebody else."""
from __future__ import annotations

import os
import sys

import click

from .context import Ctx
from .printing import err, say
from .helptext import command


def _password(ctx: Ctx, required: bool) -> str | None:
    """The password from JINGZHUN_PASSWORD, else asked twice (hidden) on a terminal; None if neither
    and not `required`."""
    given = os.environ.get("JINGZHUN_PASSWORD")
    if given is not None or not sys.stdin.isatty():
        if required and not given:
            from engine.domain.errors import BadInput
            raise BadInput("password.none_given")
        return given or None
    while True:       # asked twice, and again until both agree (click's own check speaks only English)
        entered = click.prompt(ctx.text("password_prompt"), hide_input=True,
                               default="" if not required else None, show_default=False)
        if not entered:
            return None
        if click.prompt(ctx.text("password_again"), hide_input=True, default="", show_default=False) == entered:
            return entered
        err.print(ctx.text("password_mismatch"))


@command()
@click.argument("enrolment_code")
@click.pass_obj
def activate(ctx: Ctx, enrolment_code):
    code = ctx._require_person()
    password = _password(ctx, required=False)
    if ctx.server:
        from .remote import post
        token = post(ctx, {"person": code, "code": enrolment_code, "password": password}, "/api/v1/activate",
                     token=False)["token"]
    else:
        from engine.services.accounts import activate as spend
        token = spend(ctx.app(), code, enrolment_code, password)[1]
    say(ctx.text("activated", person=code) if password else ctx.text("activated_no_password", person=code))
    say(ctx.text("token_once"))
    click.echo(token)


@command()
@click.pass_obj
def password(ctx: Ctx):
    given = _password(ctx, required=True)
    if ctx.server:
        from .remote import post
        post(ctx, {"password": given}, "/api/v1/me/password")
    else:
        from engine.services.accounts import set_password
        set_password(ctx.app(), ctx.actor(), given)
    say(ctx.text("password_set"))


COMMANDS = (activate, password)
