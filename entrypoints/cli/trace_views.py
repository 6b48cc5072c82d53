"""`jingzhun trace` as text: a case's (or a problem item's) whole life, or all a person did."""
from __future__ import annotations

from urllib.parse import quote

from engine.domain.errors import joined

from . import parsing
from .context import Ctx
from .printing import say, shown
from .views import print_integrity_warning, ruling_said


def basis(ctx: Ctx, value: str) -> str:
    from engine.reads.trace import basis_text
    return basis_text(ctx.config, value, ctx.lang)


def dated(ctx: Ctx, o: dict) -> str:
    """`, due DATE, done DATE` of an accountability outcome, where set."""
    return (shown(o["due_on"], ctx.text("due_on", date=o["due_on"]))
            + shown(o["done_on"], ctx.text("done_on", date=o["done_on"])))


def print_case_trace(ctx: Ctx, t: dict) -> None:
    L, cl = ctx.label, ctx.code_label
    intact = L("trace.intact") if t["integrity"].get("macs_checked", True) else L("trace.intact_unsigned")
    integrity = intact if t["integrity"]["intact"] else (
        L("trace.damaged") + ("：" if ctx.lang == "zh" else ": ") + "; ".join(t["integrity"]["damage"]))
    say(ctx.text("case_title_line", id=t["id"], kind=cl("kind", t["kind"]), title=t["title"],
                 region_name=t["region_name"], region=t["region"], stage=ctx.stage(t["stage"], t["kind"])))
    say(ctx.text("trace_integrity", label=L("trace.integrity"), integrity=integrity, events=t["integrity"]["events"],
                 events_label=L("trace.events"), head=str(t["integrity"]["head"])[:16]))
    print_integrity_warning(ctx, t["integrity"], listed=False)      # the line above lists the damage
    zh = ctx.lang == "zh"
    colon, comma, opened, closed = ("：", "、", "（", "）") if zh else (": ", ", ", " (", ")")
    say(f"{L('trace.rule_versions')}{colon}{comma.join(t['rule_versions']) or L('trace.no_rule_versions')}")
    if "problem" in t:
        print_problem(ctx, t)
    for p in t["named_by_problems"]:
        say(f"{L('trace.named_by_problems')}{colon}{p['problem_id']} {p['title']}"
            f"{opened}{cl('finding', p['finding'])}{comma}{cl('stage', p['stage'])}{closed}")
    for p in t["procedures"]:
        print_traced_procedure(ctx, p, t["kind"])
    for n in t["notices"]:
        print_traced_notice(ctx, n)
    for f in t.get("leads") or ():          # after what they point at, before the other acts
        who = f"{f['person']['name']} ({f['person']['code']}){colon}" if f["person"] else ""
        say(f"{L('trace.leads')}{colon}[{f['label']}] {who}{f['text']}")
    print_lapses(ctx, t.get("lapses") or ())
    print_case_acts(ctx, [e for e in t["events"] if e["action"] != "step"])


def print_lapses(ctx: Ctx, lapses) -> None:
    """The case's deadlines closed after they lapsed: each with its step, due day and the lapse in words."""
    from .alerts import lapse_words, what as rule_and_step
    if not lapses:
        return
    say(ctx.label("pair").format(name=ctx.label("m3.trace.lapses"), value="").rstrip())
    for d in lapses:
        said = lapse_words(ctx, d, f"{d['held_by_name']} ({d['held_by']})" if d["held_by"] else None)
        say(f"  {rule_and_step(ctx, d)} — {ctx.label('h3.deadline.due').format(day=d['due_on'])} — {said}")


def print_case_acts(ctx: Ctx, events: list[dict]) -> None:
    """The case's events besides its steps (evidence added or replaced, members changed, the head
    changed, an exit year noted, visits…), each with when, who in which post, why, and what it
    changed in words (old → new)."""
    if not events:
        return
    say(ctx.label("pair").format(name=ctx.label("trace.acts"), value="").rstrip())
    for e in events:
        who = f"{e['person_name']} ({e['person']}, {ctx.role(e['role'])})" if e["person"] else "-"
        say(f"  {parsing.local_time(ctx, e['at'])} {ctx.code_label('event', e['action'])} — {who}"
            + shown(e["reason"], f" — {e['reason']}"))
        for line in e["lines"]:
            say(f"      {line}")


def print_problem(ctx: Ctx, t: dict) -> None:
    L, cl, a = ctx.label, ctx.code_label, t["attrs"]
    say(f"{L('trace.source')}: {cl('problem_source', a.get('source'))}; {L('trace.finding')}: "
        f"{cl('finding', a.get('finding'))}; {a.get('description')}")
    if t["problem"].get("found_by"):
        say(f"{L('trace.found_by')}: {t['problem']['found_by']}")
    if a.get("assignee"):
        say(f"{L('trace.assignee')}: {a.get('assignee_name')} ({a['assignee']}), {a.get('responsible_unit')}"
            f" / {a.get('lead_unit')}, {L('trace.due')} {a.get('due_on')}")
    for link in t["problem"]["links"]:
        say(f"{L('trace.named_case')} {link['case_id']} {link['title']} ({ctx.stage(link['stage'], link['kind'])})")
        for r in link["chain"]:
            say(f"  {cl('responsibility', r['type'])}: {r['person_name']} ({r['person_code']}, "
                f"{ctx.role(r['role'])}) — {basis(ctx, r['basis'])}")
    for r in t["problem"]["referrals"]:
        say(f"{L('trace.referred')}: {cl('referral', r['reason'])} ({r['referred_at'][:10]})")
    for o in t["problem"]["outcomes"]:
        say(f"{L('trace.outcome')}: {cl('outcome', o['outcome'])} — {o['person_name'] or o['organisation']}"
            f" ({o['decided_on']}{dated(ctx, o)}): {o['reason']}")


def print_traced_procedure(ctx: Ctx, p: dict, kind: str) -> None:
    L, cl = ctx.label, ctx.code_label
    say(f"{cl('procedure', p['kind'])} [{cl('status', p['status'])}] {ctx.stage(p['from'], kind)} → "
        f"{ctx.stage(p['to'], kind)} — {L('trace.rule_version')} {p['policy_version']}"
        + shown(p["outcome"], f" — {cl('stage', p['outcome'])}"))
    for s in p["steps"]:
        void = shown(s["voided"], f" [{L('trace.voided')}: {s['voided']}]")
        say(f"  {s['date']} ({parsing.local_time(ctx, s['recorded_at'])}) {cl('step', s['step'])}: {cl('decision', s['decision'])} — "
            f"{s['person_name']} ({s['person']}, {ctx.role(s['role'])}){shown(s['reason'], ' — ' + str(s['reason']))}"
            f"{void}")
        if s.get("database"):   # the row differs from its event: the line above is the event's, the row's said here
            say(f"      ⚠ {s['database_said']}")
        if s.get("batch"):      # done in a village's list as one act
            say("      " + L("trace.batch").format(batch=s["batch"]["id"], size=s["batch"]["size"]))
        words(ctx, s["data_words"], "      ")
        for e in s["evidence"]:
            say(f"      {cl('evidence', e['type'])} #{e['id']} {e['hash'][:16]} — {e.get('attached_by')} "
                f"{parsing.local_time(ctx, e.get('attached_at'))}")
            words(ctx, e["words"], "        ")
    for r in p["responsibility"]:
        say(f"  {cl('responsibility', r['type'])}: {r['person_name']} ({r['person']}, {ctx.role(r['role'])}) — "
            f"{basis(ctx, r['basis'])}")


def words(ctx: Ctx, pairs: list, indent: str) -> None:
    """What a step recorded or an evidence item says, one [label, value] a line."""
    for name, value in pairs:
        say(indent + ctx.label("pair").format(name=name, value=value))


def print_traced_notice(ctx: Ctx, n: dict) -> None:
    L = ctx.label
    if n.get("announcement"):       # 公告: its day, no period
        return say(ctx.text("trace_announcement", id=n["id"], step=ctx.code_label("step", n["step"]), date=n["start"]))
    say(ctx.text("trace_notice", id=n["id"], step=ctx.code_label("step", n["step"]), start=n["start"], end=n["last"],
                 days=n["days_required"], days_label=L("trace.days_required")))
    for o in n["objections"]:
        why = shown(o["resolution_reason"], f" ({o['resolution_reason']}, {o['resolved_by']})") + ruling_said(ctx, o)
        say(ctx.text("trace_objection", id=o["id"], filed_on=o["filed_on"], objector=o["objector"],
                     content=o["content"], resolution=ctx.code_label("resolution", o["resolution"])
                     if o["resolution"] else L("trace.open"), why=why))


def print_person_trace(ctx: Ctx, t: dict) -> None:
    """A person's dossier: posts and regions by name, outcomes, then what they answer for and what they did,
    summed up by group (by procedure, responsibility and role; by procedure, step and role: every row
    counted, a small group's cases named) and a page of the rows each, newest first, with the command for
    the older ones; then their other acts a page at a time. `--json` gives the same page."""
    L, cl, names = ctx.label, ctx.code_label, t.get("region_names", {})
    code = t["person"]["code"]
    for line in (t.get("record_altered") or {}).get("lines", []):       # the record they rest on altered: first
        say(line)
    say(f"{t['person']['name']} ({code})")
    left = t["person"].get("deactivated")
    if left:
        say("  " + L("inspect.person.deactivated").format(at=parsing.local_time(ctx, left["at"]), by=left["by"],
                                                          reason=left["reason"] or "-"))
    for p in t["posts"]:
        say(f"  {L('trace.posts')}: {ctx.role(p['role'])} {names.get(p['region'], p['region'])} ({p['region']}) "
            f"{p['granted_at'][:10]} – {(p['revoked_at'] or '')[:10]}")
    for o in t["outcomes"]:
        problem = shown(o["problem_id"], ctx.text("of_problem", id=o["problem_id"]))
        say(f"{L('trace.outcome')}: {cl('outcome', o['outcome'])} {o['decided_on']}{problem}{dated(ctx, o)}"
            f": {o['reason']}")
    _leads_about(ctx, t)
    for g in t["responsibility_groups"]:
        say(ctx.text("tour_responsibility_group", type=cl("responsibility", g["type"]), n=g["count"],
                     procedure=cl("procedure", g["procedure"]), role=ctx.role(g["role"]), cases=g["cases"],
                     first=g["first"] or "-", last=g["last"] or "-", ids=_cases_of(ctx, code, g, "--responsibilities")))
    for r in t["responsibilities"]:
        say(f"  {r['date'] or '-'} #{r['case_id']} {r['title']} {cl('procedure', r['procedure'])} · "
            f"{cl('responsibility', r['type'])} ({ctx.role(r['role'])}) — {basis(ctx, r['basis'])}")
    _more(ctx, t, "responsibilities")
    for g in t["step_groups"]:
        say(ctx.text("tour_step_group", procedure=cl("procedure", g["procedure"]), step=cl("step", g["step"]),
                     n=g["count"], role=ctx.role(g["role"]), cases=g["cases"], first=g["first"] or "-",
                     last=g["last"] or "-", ids=_cases_of(ctx, code, g, "--steps")))
    for s in t["steps"]:
        decided = (cl("decision", s["decision"]) if s["decision"] else "") + shown(s["reason"], f": {s['reason']}")
        say(f"  {s['date']} #{s['case_id']} {s['title']} {cl('procedure', s['procedure'])} · {cl('step', s['step'])}"
            f" ({ctx.role(s['role'])}) {decided}" + shown(s["voided"], f" [{L('trace.voided')}: {s['voided']}]"))
    _more(ctx, t, "steps")
    if t["acts_kinds"]:
        say(L("pair").format(name=L("trace.acts"), value=joined((f"{cl('event', k)} {n}" for k, n in t["acts_kinds"]), ctx.lang)))
    for a in t["acts"]:
        say(f"  {parsing.local_time(ctx, a['at'])} #{a['case_id']} {a['title']} {cl('event', a['action'])}"
            + shown(a["reason"], f" — {a['reason']}"))
        for line in a["lines"]:
            say(f"      {line}")
    if t["acts_older"]:
        say(L("trace.acts_more").format(before=t["acts_older"], person=code,
                                        path=f"/inspect/trace/person/{quote(code, safe='')}?before={t['acts_older']}"))


def _leads_about(ctx: Ctx, t: dict) -> None:
    """The leads about the person (an inspector's trace), the weightiest first, each with its case; the
    command for all of them when more are kept than shown."""
    L = ctx.label
    colon = "：" if ctx.lang == "zh" else ": "
    for f in t.get("leads") or ():
        case = f" #{f['case']} {f['title']} —" if f["case"] else ""
        altered = "⚠ " + L("record.altered.lead") + " — " if f.get("record_altered") else ""
        say(f"{altered}{L('trace.person_leads')}{colon}[{f['label']}]{case} {f['text']}")
    if t.get("leads") and t["leads_count"] > len(t["leads"]):
        say("  " + L("trace.person_leads.first").format(n=t["leads_count"], shown=len(t["leads"])) + " "
            + L("trace.person_leads.command").format(person=t["person"]["code"]))


def _cases_of(ctx: Ctx, code: str, group: dict, option: str) -> str:
    """A group's cases by number, or (too many to name) the command that lists its rows."""
    if group["case_ids"] is not None:
        return case_list(group["case_ids"])
    return ctx.label("trace.group_rows").format(person=code, option=option, group=group["key"])


def _more(ctx: Ctx, t: dict, rows: str) -> None:
    """The command and the page for the older rows (`rows`: steps or responsibilities), if there are any,
    and the command and the download for every one of them."""
    older = t[f"{rows}_older"]
    if older:
        group = t[f"{rows}_group"]
        kept = f"{rows}={quote(group, safe='')}&" if group else ""
        say(ctx.label(f"trace.{rows}_more").format(
            before=older, person=t["person"]["code"], group=f" --{rows} {group}" if group else "",
            path=f"/inspect/trace/person/{quote(t['person']['code'], safe='')}?{kept}{rows}_before={older}"))
        # every one in a file, for a case file (the page's Excel and CSV links alike)
        say(ctx.label("trace.rows_export").format(rows=rows, person=t["person"]["code"],
                                                  path=f"/inspect/trace/person/{quote(t['person']['code'], safe='')}"
                                                       f"/{rows}.xlsx"))


def case_list(ids: list[int], shown_at_most: int = 12) -> str:
    more = len(ids) - shown_at_most
    return ", ".join(f"#{i}" for i in ids[:shown_at_most]) + (f" … (+{more})" if more > 0 else "")
