"""Case kinds: their definitions (config/workflows/*.yaml) and their policy rules in Python."""
from dataclasses import replace

from config import Config, ConfigError

from . import household_steps, problem, project, village

# a household's effects that register a problem item are the problem's (workflows/problem.py imports the household's)
RULES = {"household": replace(household_steps.RULES, effects={**household_steps.RULES.effects, **problem.HOUSEHOLD_EFFECTS}),
         "problem": problem.RULES, "project": project.RULES, "village": village.RULES}


def check_references(config: Config) -> None:
    """Every check, step handler and effect a workflow names must exist in Python."""
    for kind, wf in config.workflows.items():
        rules = RULES.get(kind)
        where = config.directory / "workflows" / f"{kind}.yaml"
        if rules is None:
            raise ConfigError(where, "kind", "no_rules", kind=kind)
        for name, proc in wf.procedures.items():
            for hook in ("on_complete", "on_reject"):
                for effect in getattr(proc, hook):
                    if effect not in rules.effects:
                        raise ConfigError(where, f"procedures.{name}.{hook}", "unknown_effect", name=effect,
                                          known=", ".join(rules.effects))
            for i, step in enumerate(proc.steps):
                for check in step.checks:
                    if check not in rules.checks:
                        raise ConfigError(where, f"procedures.{name}.steps.{i}.checks", "unknown_check", name=check,
                                          known=", ".join(rules.checks))
