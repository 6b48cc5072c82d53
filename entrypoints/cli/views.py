"""How a case, its next step, a notice and a done step read, in the chosen language."""
from __future__ import annotations

from engine.domain.errors import joined, noted, stored_msg

from . import parsing
from .context import Ctx, cli_text, days_unit
from .printing import say, shown, table

MEMBER_CODES = ("relation", "labour_ability", "health", "school_enrolment")


def step_done(ctx: Ctx, procedure: str, step: str, r) -> str:
    moved = shown(r.to_stage != r.from_stage, ctx.text("moved", stage=ctx.stage(r.to_stage, r.kind)))
    return ctx.text("step_done", case=r.case_id, procedure=ctx.label("procedure." + procedure),
                    step=ctx.label("step." + step), decision=ctx.label("decision." + r.decision),
                    notice=shown(r.notice_id, ctx.text("with_announcement" if r.announced else "with_notice",
                                                       id=r.notice_id)),
                    status=ctx.label("status." + r.procedure_status), moved=moved)


def waiting_for(ctx: Ctx, r: dict) -> str:
    if not r["pending_procedure"]:
        return "-"
    return f"{ctx.label('procedure.' + r['pending_procedure'])} / {ctx.label('step.' + r['pending_step'])}"


def registration_for(ctx: Ctx, r: dict) -> str:
    """What a case waiting for my office to register a sample check's wrong exit waits for: the draws, whose
    deadline it is (mine, or a colleague's: mine to register too) and when it is due, or how long overdue."""
    whose = ctx.text("registration_mine") if r["mine"] else ctx.text("registration_owner", name=r["owner_name"] or "-",
                                                                       role=ctx.role(r["owner_role"]))
    late = r["overdue_days"]        # in the deadline's own days, the unit named, as its mail and /work say it
    return ctx.text("h2_registration_overdue" if late > 0 else "registration_due",
                    draws=", ".join(f"#{d}" for d in r["draws"]), whose=whose, due_on=r["due_on"], days=late,
                    unit=days_unit(ctx, late, r["counting"]))


def print_case(ctx: Ctx, data: dict) -> None:
    say(ctx.text("case_heading", id=data["id"], kind=ctx.label("kind." + data["kind"]), title=data["title"],
                 region_name=data["region_name"], region=data["region"], stage=ctx.stage(data["stage"], data["kind"]),
                 version=data["version"]))
    print_integrity_warning(ctx, data["integrity"])
    if data["kind"] == "household" and (data.get("attrs") or {}).get("exit_year"):    # imported as exited
        say(ctx.text("case_exit_year_imported", year=data["attrs"]["exit_year"]))
    poverty = data.get("poverty")
    if poverty:        # the causes of poverty and the type, which the plan answers (a server before them shows none)
        say(ctx.text("case_causes", causes=joined(poverty["causes_words"], ctx.lang) or "-",
                     type=poverty["household_type_words"] or "-"))
    for line in monitoring_lines(ctx, data.get("monitoring")):
        say(line)
    if data["members"]:
        print_members(ctx, data["members"], data["id"])
    for p in data["procedures"]:
        print_procedure(ctx, p, data["kind"])
    r = data.get("registered")
    if r:           # who registered the case, and what a registry's file brought with it
        say(ctx.text("registered_line", event=ctx.code_label("event", r["action"]), at=parsing.local_time(ctx, r["at"]),
                     name=r["person_name"], person=r["person"], role=ctx.role(r["role"]) if r["role"] else "-"))
        for line in r["lines"]:
            say(f"  {line}")
    for part, line in (("evidence", evidence_line), ("notices", notice_line), ("objections", objection_line),
                       ("pairings", pairing_line), ("measures", measure_line), ("visits", visit_line),
                       ("relatives", relative_line)):
        for item in data.get(part) or ():      # (a server before relatives were listed lists none)
            say(line(ctx, item))


def monitoring_lines(ctx: Ctx, shown: dict | None) -> list[str]:
    """A household's monitoring now (its type, since when), its earlier monitorings with the day their
    risk was eliminated, and its transition period's end (engine/domain/monitoring.py)."""
    if not shown:
        return []
    said = lambda key, **params: ctx.label(f"monitoring.{key}").format(**params)  # noqa: E731
    kind = lambda m: ctx.label(f"field.monitoring_type.{m['type']}")  # noqa: E731
    now = shown["current"]
    lines = [said("now", kind=kind(now), since=now["since"] or "-")] if now else \
        [] if shown.get("open") else [said("not_now")]
    lines += under_way_lines(ctx, shown)
    lines += [said("earlier_ended", kind=kind(h), since=h["since"] or "-", ended=h["ended_on"],
                   procedure=ctx.label(f"procedure.{h['ended_by']}"))
              if h.get("ended_on") and h.get("ended_by") else
              said("earlier", kind=kind(h), since=h["since"] or "-", eliminated=h["risk_eliminated_on"] or "-")
              for h in shown["history"]]
    if shown.get("transition_from_year"):     # an imported exit: reckoned from its year, to that year's end
        lines.append(said("transition_reckoned_over" if shown["transition_over"] else "transition_reckoned",
                          end=shown["transition_until"][:4], year=shown["transition_from_year"]))
    elif shown["transition_until"]:
        lines.append(said("transition_over" if shown["transition_over"] else "transition",
                          until=shown["transition_until"]))
    return lines


def under_way_lines(ctx: Ctx, shown: dict) -> list[str]:
    """An identification (or risk elimination) open, as the case page says it, and the last one refused."""
    said = lambda key, **params: ctx.label(f"m1.monitoring.{key}").format(**params)  # noqa: E731
    lines, o, r = [], shown.get("open"), shown.get("last_refused")
    if o:
        line = said("open", procedure=ctx.label(f"procedure.{o['procedure']}"), since=o["since"])
        line += said("clue", day=o["clue_date"]) if o.get("clue_date") else ""
        if o.get("due"):
            line += said("due", day=o["due"]) + (" " + said("overdue", days=o["overdue_days"]) if o["overdue_days"] else "")
        if o.get("step"):
            line += said("waiting", step=ctx.label(f"step.{o['step']}"))
            line += said("waiting_for", who=o["owner_name"], role=ctx.role(o['owner_role'])) \
                if o.get("owner_name") else ""
        lines.append(line)
    if r:
        lines.append(said("refused", procedure=ctx.label(f"procedure.{r['procedure']}"), on=r["on"] or "-",
                          step=ctx.label(f"step.{r['step']}") if r.get("step") else "-", by=r["by_name"] or "-",
                          reason=r["reason"] or "-"))
    return lines


def print_integrity_warning(ctx: Ctx, integrity: dict, listed: bool = True) -> None:
    """A case's record altered in the database, said before any of it (`listed`: with each finding)."""
    if integrity["intact"]:
        return
    say(ctx.label("case.integrity.altered"))
    if integrity["damaged_events"]:
        say(ctx.label("case.integrity.events").format(numbers=joined(map(str, integrity["damaged_events"]), ctx.lang)))
    for finding in integrity["damage"] if listed else ():
        say(f"  {finding}")
    say(ctx.label("case.integrity.advice"))


def member_code(ctx: Ctx, field: str, value) -> str:
    """A member's coded fact by its label; one not recorded (a list's blank schooling) said so."""
    return ctx.text("not_recorded") if value is None else ctx.code_label(f"cli.{field}", value)


def print_members(ctx: Ctx, members: list[dict], case_id: int) -> None:
    headers = [ctx.text("col." + c) for c in ("person_name", "relation", "labour", "health", "school", "insured", "id")]
    said = lambda v: ctx.text("not_recorded" if v is None else "yes" if v else "no")  # noqa: E731
    insured = lambda m: f"{said(m['insured_basic'])}/{said(m['insured_critical'])}"  # noqa: E731 (basic/critical)
    here = [m for m in members if m.get("active", True)]
    table(headers, [[m["name"], *(member_code(ctx, f, m[f]) for f in MEMBER_CODES), insured(m), m["id_number"]]
                    for m in here], wide_last=True)
    for m in here:      # a number left for the cadre to check against the card, and what to do
        if m.get("id_check"):
            say(ctx.text("member_id_to_confirm", name=m["name"], id=m["id_number"],
                         why=ctx.label(f"id_check.{m['id_check']}"), case=case_id))
    gone = [m for m in members if not m.get("active", True)]      # kept on record, said apart (they were
    if gone:                                                      # listed as if still in the household)
        say(ctx.text("members_gone", names=joined((noted(m["name"], m["id_number"], ctx.lang) for m in gone),
                                                  ctx.lang)))


def print_procedure(ctx: Ctx, p: dict, kind: str) -> None:
    say(ctx.text("procedure_line", procedure=ctx.label("procedure." + p["kind"]),
                 status=ctx.label("status." + p["status"]), start=ctx.stage(p["from"], kind),
                 end=ctx.stage(p["to"], kind), outcome=shown(p["outcome"], f" — {ctx.code_label('stage', p['outcome'])}")))
    for s in p["steps"]:
        say(ctx.text("step_line", date=s["date"], step=ctx.label("step." + s["step"]),
                     decision=ctx.label("decision." + s["decision"]), name=s["person_name"], person=s["person"],
                     role=ctx.role(s["role"]), reason=shown(s["reason"], f" — {s['reason']}"),
                     void=shown(s["voided"], ctx.text("void", why=s["voided"]))))
        if s.get("database"):   # the row differs from its event: the line above is the event's, the row's said here
            say(f"      ⚠ {s['database_said']}")


def evidence_line(ctx: Ctx, e: dict) -> str:
    old = shown(e["superseded_by"], ctx.text("superseded", id=e["superseded_by"], reason=e["supersede_reason"]))
    fields = evidence_fields(ctx, e["fields"])
    file = shown(e["file"], ctx.text("evidence_file", name=e["file_name"], sha=(e["file"] or "")[:12]))
    if fields and file:     # a separator between them only: an item of a file alone reads "minutes: file …"
        fields = ctx.text("evidence_fields_file", fields=fields, file=file)
    return ctx.text("evidence_line", id=e["id"], type=ctx.label("evidence." + e["type"]),
                    fields=fields or file, by=e["attached_by"],
                    at=parsing.local_time(ctx, e["attached_at"]), hash=e["hash"][:12], old=old)


def evidence_fields(ctx: Ctx, fields: dict) -> str:
    """An item's fields in the reader's words (年度：2019、家庭纯收入：16112.1), yes/no as words, a code
    field's code by its label (住房等级：B级（基本安全）; 来源：第三方评估, as the trace says it), money with
    its unit (村集体经济收入：52,000.00 元, as the trace and the pages say it: money_words.EVIDENCE_MONEY)."""
    from engine.reads.money_words import EVIDENCE_MONEY, yuan
    from engine.reads.words import code_labels
    said = lambda k, v: ctx.text("yes" if v else "no") if isinstance(v, bool) else \
        yuan(ctx.config, v, ctx.lang) if k in EVIDENCE_MONEY and v is not None else \
        (ctx.stored(v) if stored_msg(v) else ctx.code_label(code_labels(k, v, ctx.config.labels), v)) if isinstance(v, str) else v  # noqa: E731
    return joined((cli_text("pair", ctx.lang, ctx.config, name=ctx.label(f"field.{k}"), value=said(k, v))
                   for k, v in fields.items()), ctx.lang)


def visit_line(ctx: Ctx, v: dict) -> str:
    """A visit: its number (what `household visit-correct` takes), the measure it concerns and what it
    brought, and, corrected or withdrawn, by which visit and why."""
    measure, reason = v.get("measure"), v.get("supersede_reason")
    parts = [ctx.text("visit_line", date=v["date"], person=v["person"], findings=v["findings"]),
             ctx.text("visit_risk") if v["risk"] else "",
             ctx.text("visit_number", visit=v["id"]) if "id" in v else "",
             ctx.text("visit_measure", measure=measure["id"], category=ctx.label("measure." + measure["category"]))
             if measure else "",
             ctx.text("visit_result", result=v["result"]) if v.get("result") else "",
             ctx.text("visit_superseded", visit=v["superseded_by"], reason=reason) if v.get("superseded_by")
             else ctx.text("visit_withdrawn_line", reason=reason) if reason else ""]
    return "".join(parts)


def relative_line(ctx: Ctx, r: dict) -> str:
    return ctx.text("relative_line", name=r["person_name"], person=r["person"], relation=r["relation_words"])


def notice_line(ctx: Ctx, n: dict) -> str:
    if n.get("announcement"):       # 公告: its day, no period
        return ctx.text("announcement_line", id=n["id"], step=ctx.label("step." + n["step"]), date=n["start"],
                        scope=ctx.code_label("cli.scope", n["scope"]))
    return ctx.text("notice_line", id=n["id"], step=ctx.label("step." + n["step"]), start=n["start"], end=n["last"],
                    days=n["days_required"], scope=ctx.code_label("cli.scope", n["scope"]))


def objection_line(ctx: Ctx, o: dict) -> str:
    return ctx.text("objection_line", id=o["id"], notice=o["notice"], objector=o["objector"], filed_on=o["filed_on"],
                    content=o["content"], resolution=resolution(ctx, o["resolution"]),
                    why=shown(o["resolution_reason"], f": {o['resolution_reason']}") + ruling_said(ctx, o))


def ruling_said(ctx: Ctx, o: dict) -> str:
    """A ruling's effective day and who verified it on the spot, after its reason ('' for one open)."""
    if not o.get("resolution") or not o.get("ruled_on"):
        return ""
    said = ctx.text("objection_ruled_on", date=o["ruled_on"])
    if o.get("verifiers"):
        said += ctx.text("objection_verified_by", names=joined([v["name"] for v in o["verifiers"]], ctx.lang))
    if o.get("file"):           # the checks it rests on, kept as the case's evidence
        said += ctx.text("objection_ruling_file", id=o["file"]["id"], name=o["file"]["name"],
                         sha=o["file"]["sha256"][:16])
    return said


def resolution(ctx: Ctx, value: str | None) -> str:
    return ctx.code_label("resolution", value) if value else ctx.text("open")


def pairing_line(ctx: Ctx, p: dict) -> str:
    line = ctx.text("pairing_line", kind=ctx.code_label("cli.pairing_kind", p["kind"]), person=p["person"],
                    start=p["start"], end=shown(p["end"], ctx.text("until", end=p["end"])))
    return line if p.get("in_office", True) else line + ctx.text("pairing_left")


def measure_line(ctx: Ctx, m: dict) -> str:
    """A measure of the plan; one not in force says where it stands (awaiting approval, ended on a day)."""
    status = m.get("status", "in_force")           # a server before plan revisions says none: in force
    if status == "in_force" and m.get("ends_on_approval"):
        status = "ending"                           # the revision awaiting approval does not hold it
    state = ctx.text("measure_ended", end=m["end"]) if status == "ended" else \
        shown(status != "in_force", ctx.text("measure_state", status=ctx.label("measure_status." + status)))
    return ctx.text("measure_line", category=ctx.label("measure." + m["category"]), description=m["description"],
                    state=state) + (ctx.text("measure_number", measure=m["id"]) if "id" in m else "")


def print_next(ctx: Ctx, data: dict) -> None:
    say(ctx.text("next_heading", case=data["case"], title=data["title"], stage=ctx.stage(data["stage"], data.get("kind")),
                 version=data["version"]))
    for line in data.get("figures", {}).get("lines", []):
        say("  " + line)
    nxt = data["next"]
    # what else may start (none while a procedure is open), as the workflow offers it: risk elimination
    # to a monitored household only, monitoring to one not monitored
    others = joined((ctx.code_label("procedure", o["procedure"]) for o in data.get("others") or ()), ctx.lang)
    for clock in data.get("clocks") or ():       # a first clue's days, running before its procedure starts
        say(clock_line(ctx, clock))
    if nxt is None:
        return say(ctx.text("nothing_further", procedures=others or "-"))
    if data.get("needed"):      # what the case needs first, and why (a reopened household's new plan)
        say(data["needed"]["why"])
    for line in next_lines(ctx, nxt):
        say(line)
    if others:
        say(ctx.text("also_possible", procedures=others))


def clock_line(ctx: Ctx, clock: dict) -> str:
    """A first clue's days to start its procedure (the 15 days to identify): from when, due when, whose."""
    owner = f"{clock['owner']} {clock['owner_name']}" if clock.get("owner") else ctx.role(clock["owner_role"]) \
        if clock.get("owner_role") else ctx.text("nobody_yet")
    said = "s55_m2.next.clock_overdue" if clock["overdue"] else "s55_m2.next.clock"
    return ctx.text(said, procedure=ctx.label("procedure." + clock["procedure"]), start=clock["start_on"],
                    due=clock["due_on"], owner=owner, days=clock["overdue"],
                    unit=days_unit(ctx, clock["overdue"], clock["counting"]))


def next_lines(ctx: Ctx, nxt: dict) -> list[str]:
    labels = lambda prefix, codes: joined((ctx.label(prefix + c) for c in codes), ctx.lang)  # noqa: E731
    named = lambda people: joined((f"{e['person']} {e['name']}" for e in people), ctx.lang)  # noqa: E731
    eligible = named(nxt["eligible"]) or ctx.text("nobody_yet")
    lines = [ctx.text("next_step", procedure=ctx.label("procedure." + nxt["procedure"]),
                      state=ctx.text("procedure_open" if nxt["procedure_open"] else "to_start"),
                      step=ctx.label("step." + nxt["step"]), type=ctx.code_label("cli.step_type", nxt["type"])),
             ctx.text("next_roles", roles=joined((ctx.role(r) for r in nxt["roles"]), ctx.lang)),
             ctx.text("next_who", who=eligible)]
    if nxt.get("decides"):      # what the step decides on: a monitoring's type, clue, income and line
        lines += [ctx.text("decides_heading")] + ["  " + d["text"] for d in nxt["decides"]]
    nobody = nxt.get("nobody") or {}
    lines += [ctx.text("next_vacant", roles=joined((ctx.role(r) for r in nobody["vacant"]), ctx.lang))] \
        if nobody.get("vacant") else []
    lines += [ctx.text("next_kept", who=joined(nobody["kept"], ctx.lang))] if nobody.get("kept") else []
    if nxt["type"] == "verification" and nxt.get("kept_for_later"):     # not to be named a verifier either
        lines.append(ctx.text("next_kept_verifier", who=joined(nxt["kept_for_later"], ctx.lang)))
    if nxt.get("verifiers_min"):        # how many to name, said before who may not be named (a9 #6)
        lines.append(ctx.text("next_verifiers_min", count=nxt["verifiers_min"]))
    lines += [ctx.text("next_kept_one_of", step=ctx.label("step." + k["step"]), who=joined(k["persons"], ctx.lang))
              for k in nxt.get("kept_one_of", ())]
    voided = nxt.get("voided")
    lines += [ctx.text("next_voided", steps=joined((ctx.label("step." + s) for s in voided["steps"]), ctx.lang),
                       at=voided["at"], reason=voided["reason"])] if voided else []
    lines += [ctx.text("next_excluded", who=named(nxt["excluded_names"]))] if nxt["excluded"] else []
    lines += [ctx.text("next_evidence", types=labels("evidence.", nxt["evidence"]))] if nxt["evidence"] else []
    lines += [ctx.text("next_blocked", why=b) for b in nxt["blockers"]]
    if nxt.get("rejection_only"):       # refused, but a failed vote or a rejection may still be recorded
        lines.append(ctx.text("next_rejection_only." + ("appraisal" if nxt["type"] == "appraisal" else "decision")))
    return lines + [ctx.text("next_remaining", steps=" → ".join(ctx.label("step." + s) for s in nxt["remaining"]))]


def print_notice(ctx: Ctx, data: dict, text: str) -> None:
    """A notice's facts (its procedure, period, cases and objections by number) and then its `text`."""
    if data.get("announcement"):        # 公告: its day, no period
        say(ctx.text("announcement_heading", id=data["id"], procedure=ctx.label("procedure." + data["procedure"]),
                     step=ctx.label("step." + data["step"]), date=data["start"],
                     scope=ctx.code_label("cli.scope", data["scope"]), region=data.get("region_name") or data["region"]))
    else:
        say(ctx.text("notice_heading", id=data["id"], procedure=ctx.label("procedure." + data["procedure"]),
                     step=ctx.label("step." + data["step"]), start=data["start"], end=data["last"],
                     days=data["days_required"], scope=ctx.code_label("cli.scope", data["scope"]), region=data["region"]))
    if data.get("yours") is not None:     # posted above the reader: by whom, and how many of theirs it lists
        said = cli_text(f"notice_reach.listed.{data['wording']}", ctx.lang, ctx.config, n=data["yours"],
                        region=data["region_name"], scope=ctx.code_label("cli.scope", data["scope"]))
        say(ctx.text("notice_reach", said=said))
    for c in data["cases"]:
        say(ctx.text("notice_case_yours" if c.get("yours") else "notice_case", id=c["id"], title=c["title"]))
    for o in data["objections"]:
        say(ctx.text("notice_objection", id=o["id"], case=o["case"], objector=o["objector"], content=o["content"],
                     resolution=resolution(ctx, o["resolution"])) + ruling_said(ctx, o))
    say("")
    say(text.strip("\n"))
