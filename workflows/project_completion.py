"""A fund project's completion withdrawn (撤回竣工验收) for a supplementary contract (补充合同).

Only one procedure is open on a case at a time, and a supplementary contract is a procedure of its own
(recorded, announced 7 days, confirmed by the county). When the acceptance finds work beyond the
contract (追加工程), the completion under way is withdrawn by the county (its office director or county
head, who confirm a supplementary contract), with a reason, before its final accounts are settled: the
procedure ends (its steps stay in the record, and in the trace, with who withdrew it and why), the
supplementary contract goes through its own procedure, and the completion starts again, its
acceptance covering the works as supplemented and its final accounts settling them within the contract
so raised. A county finance office settles no cost an acceptance report has not covered, so the
acceptance is not carried over from before the supplement. Once the final accounts are settled the
completion is not withdrawn: the cost is settled within the contract, its excess taken off (核减).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import update

from engine.adapters import tables as t
from engine.adapters.app import App
from engine.adapters.repository import load_cases, load_open_procedures
from engine.adapters.uow import judged_again_when_lost
from engine.domain.auth import Actor
from engine.domain.errors import BadInput, Msg, NotFound, RuleViolation, own_words, stored
from engine.services.case_actions import append_case_event
from engine.services.deadlines import after_procedure_rejected
from engine.services.org import refuse_read_only, require_role
from engine.services.procedures import pending_for_case

WITHDRAWERS = ("county_office_director", "county_head")    # who confirm a supplementary contract
SETTLED_STEP = "final_accounts"


def withdrawn_words(config: Any, done: dict[str, Any], lang: str) -> str:
    """What a withdrawal did and what comes next, in the reader's language (the CLI, the API, the page)."""
    sep = "、" if lang == "zh" else ", "
    steps = sep.join(config.label("step." + s, lang) for s in done["steps"]) or "-"
    return config.label("cli.completion_withdrawn", lang).format(case=done["case"], procedure=done["procedure"],
                                                                 steps=steps)


def may_withdraw(kind: str, nxt: dict[str, Any] | None, holds) -> bool:
    """Whether the case page offers the withdrawal: a project whose completion is under way and not yet
    settled, to a reader who `holds` a post that may withdraw it."""
    if kind != "project" or not nxt or nxt.get("procedure") != "completion" or not nxt.get("procedure_open"):
        return False
    return SETTLED_STEP not in (nxt.get("done") or ()) and holds(WITHDRAWERS)


@judged_again_when_lost
def withdraw_completion(app: App, actor: Actor, case_id: int, reason: str | None) -> dict[str, Any]:
    """End the project's open completion procedure, withdrawn with `reason`, before its final accounts are
    settled; returns the case, the procedure and the steps it had done."""
    refuse_read_only(app, actor, "project withdraw-completion")
    reason = (own_words(reason, "project.withdraw_reason") or "").strip()
    with app.transaction() as conn:
        case = load_cases(conn, [case_id]).get(case_id)
        if case is None:
            raise NotFound("case.unknown", case=case_id)
        if case.kind != "project":
            raise BadInput("project.not_project", case=case_id)
        assignment = require_role(app, actor, WITHDRAWERS, case.region_code, "project withdraw-completion")
        open_proc = load_open_procedures(conn, [case]).get(case.id)
        if open_proc is None or open_proc.kind != "completion":
            raise RuleViolation("project.completion_not_open", case=case_id, stage=case.stage, stage_kind=case.kind)
        done = [s.step_key for s in open_proc.steps]
        if SETTLED_STEP in done:
            raise RuleViolation("project.completion_settled", case=case_id)
        now = app.clock.now()
        outcome = stored(Msg("outcome_reason.completion_withdrawn", {"reason": reason}))
        conn.execute(update(t.procedures).where(t.procedures.c.id == open_proc.id, t.procedures.c.status == "open")
                     .values(status="rejected", ended_at=now, outcome_reason=outcome))
        pending = pending_for_case(app, app.config.workflows[case.kind], case, case.stage, conn)
        after_procedure_rejected(conn, case.id, open_proc.id, now)
        append_case_event(app, conn, actor, case, "completion_withdrawn", assignment.role, procedure_id=open_proc.id,
                          reason=reason, pending=pending, close_procedure=True, steps=done)
    return {"case": case_id, "procedure": open_proc.id, "steps": done}
