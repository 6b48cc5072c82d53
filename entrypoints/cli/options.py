"""Option blocks several commands share, as decorators."""
from __future__ import annotations

import os

import click
from click.core import ParameterSource

from engine.domain import inputs

from . import parsing
from .context import CASE_ID


def stack(*decorators):
    """One decorator applying `decorators` in the order they are written (top first)."""
    def apply(f):
        for decorator in reversed(decorators):
            f = decorator(f)
        return f
    return apply


def either(dest: str, *flags: tuple[str, object]):
    """Flags that each give `dest` its value, of which one at most may be given (`--approve` or
    `--reject`): both given is bad input, where click would take the last silently."""
    def decided(_ctx, _param, given: tuple):
        if len(set(given)) > 1:
            from engine.domain.errors import BadInput
            raise BadInput("input.exclusive", options=" / ".join(opt for opt, _ in flags))
        return given[0] if given else None
    return stack(*(click.option(opt, dest, flag_value=value, multiple=True, callback=decided) for opt, value in flags))


def json_option(f):
    return click.option("--json", "as_json", is_flag=True)(f)


case_arg = click.argument("case_id", type=CASE_ID)
void_signoffs = click.option("--void-signoffs", is_flag=True)
expect_version = click.option("--expect-version", type=click.IntRange(1, 2 ** 31))
region_option = click.option("--region", "region_code", callback=parsing.region_named())
as_of_option = click.option("--as-of", callback=parsing.parse_date)
alert_lang = click.option("--alert-lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
limit_option = click.option("--limit", type=click.IntRange(1, None))
now_option = click.option("--now", callback=parsing.parse_now)


def date_option(name: str, dest: str, **kw):
    return click.option(name, dest, callback=parsing.parse_date, **kw)


def csv_file(f):
    return click.argument("file", type=click.Path(exists=True, dir_okay=False))(f)


def member_change(f):
    """CASE_ID, the member, --reason and --void-signoffs: every change to a household's members."""
    return stack(case_arg, click.option("--reason", required=True), void_signoffs)(f)


def role_over_region(f):
    """CODE ROLE REGION: granting and revoking a role, the region by its code or its name (洋塘村)."""
    return stack(click.argument("code"), click.argument("role", callback=parsing.coded("role", parsing.roles_of)),
                 click.argument("region_code", metavar="REGION", callback=parsing.region_named()))(f)


def project_step_options(f):
    """Inputs of fund-project steps (config/workflows/project.yaml)."""
    return stack(
        click.option("--fund", "funds", multiple=True, callback=parsing.callback(inputs.fund_line)),
        click.option("--milestone", "milestones", multiple=True, callback=parsing.callback(inputs.milestone_spec)),
        click.option("--reached", "milestone"),
        click.option("--asset", "assets", multiple=True, callback=parsing.callback(inputs.asset_spec)),
        date_option("--complete-by", "completion"),
        click.option("--add-beneficiary", "add_beneficiaries", multiple=True, type=CASE_ID),
        click.option("--remove-beneficiary", "remove_beneficiaries", multiple=True, type=CASE_ID),
    )(f)


class BesideOption(click.Option):
    """A file the command may write, by default beside another parameter's file: NAME.`suffix`
    in the folder of `beside` NAME.ext. A client sends the default it would have here, so the file
    comes back beside the client's own file, not the server's copy of it."""

    def __init__(self, *args, beside: str, suffix: str, **kwargs):
        super().__init__(*args, callback=lambda c, _p, value: value or self.default_for(c.params), **kwargs)
        self.beside, self.suffix = beside, suffix

    def default_for(self, params: dict) -> str | None:
        if params.get(self.beside) is None:
            return None
        folder, name = os.path.split(str(params[self.beside]))
        return os.path.join(folder, f"{os.path.splitext(name)[0]}.{self.suffix}")

    @staticmethod
    def named(option: str, for_client: bool) -> bool:
        """Whether the running command's file `option` was named on the command line, not left to its
        default. Run for a client (`for_client`) the default comes named (see above): there a file
        of the default's name counts as not named."""
        click_ctx = click.get_current_context()
        param = next(p for p in click_ctx.command.params if p.name == option)
        value = click_ctx.params.get(option)
        if value is None or click_ctx.get_parameter_source(option) is not ParameterSource.COMMANDLINE:
            return False
        default = param.default_for(click_ctx.params)
        return not for_client or default is None or os.path.basename(value) != os.path.basename(default)
