"""Sample checks (抽查, DOMAIN §8): a reproducible draw of exited households, and the findings
evaluators record against them, from which the wrong-exit, missed and approval rates are computed."""
from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, ForeignKey, Integer, String, Table, Text

from engine.adapters.schema_core import Id, metadata

# One draw: who drew it, when, over which region, with which seed, and the households it chose
# (case ids in draw order); `population` is how many exited households it was drawn from.
sample_draws = Table(
    "sample_draws", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("region_code", ForeignKey("regions.code"), nullable=False, index=True),
    Column("size", Integer, nullable=False),
    Column("seed", String(40), nullable=False),
    Column("population", Integer, nullable=False),
    Column("case_ids", JSON, nullable=False),
    Column("drawn_by", ForeignKey("persons.id"), nullable=False),
    Column("drawn_at", DateTime(timezone=True), nullable=False),
    # The year whose exits the draw checks (an assessment of a year's exits is made early the next).
    Column("period", Integer),
)

# What an evaluator found on a drawn household: confirmed or wrong_exit (the exit itself), missed
# (漏评: `persons` unregistered poor persons found in its village), approving or not_approving (the
# household's answer to the approval survey). A wrong exit names the problem item it opened.
sample_findings = Table(
    "sample_findings", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("draw_id", ForeignKey("sample_draws.id"), nullable=False, index=True),
    Column("case_id", ForeignKey("cases.id"), nullable=False, index=True),
    Column("region_code", String(12), nullable=False, index=True),
    Column("finding", String(20), nullable=False),
    Column("persons", Integer, nullable=False),
    Column("note", Text),
    Column("file_sha256", String(64)),
    Column("problem_id", ForeignKey("cases.id")),
    Column("recorded_by", ForeignKey("persons.id"), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)
