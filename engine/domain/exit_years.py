"""The year a household exited poverty (DOMAIN §8): a year's exits are what that year's assessment
counts and its sample check (抽查) draws from.

A household exits through the exit procedure: its completion records `exited_on`, the day the exit
took effect. A household may also come in from another system as exited already (a registry moved in,
workflows/household_import.py); the national system notes the year it exited (已脱贫（2017年）, a
脱贫年度 column), kept on the case as `exit_year` (IMPORTED_YEAR). Such an exit has a year and no day:
it counts among its year's exits and in no month's (engine/reads/exits.py).
"""
from __future__ import annotations

from typing import Any, Mapping

EXITED_STAGES = ("exited", "consolidated")
IMPORTED_YEAR = "exit_year"       # the case attribute holding the year an imported registry noted
# the case attribute holding the year an imported registry planned the household's exit for (计划脱贫年度):
# no exit, but from that year its exit's proposal is work on the lists (engine/reads/case_lists.py)
PLANNED_EXIT_YEAR = "planned_exit_year"
# Targeted poverty alleviation (精准扶贫) began in 2013: no registered household exited before it.
FIRST_EXIT_YEAR = 2013


def known_exit_year(attrs: Mapping[str, Any] | None) -> int | None:
    """The year of the household's last exit: its exit procedure's (`exited_on`), else the year the
    registry it was imported from noted (`exit_year`); None when neither is known."""
    attrs = attrs or {}
    exited_on = attrs.get("exited_on")
    if exited_on:
        return int(str(exited_on)[:4])
    year = attrs.get(IMPORTED_YEAR)
    return int(year) if year is not None else None
