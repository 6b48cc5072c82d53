"""Fund projects (扶贫项目): register, pay out, milestones; the funds report."""
from __future__ import annotations

from decimal import Decimal

import click

from engine.domain import inputs
from engine.domain.errors import joined, noted

from . import parsing
from .context import CASE_ID, Ctx, pass_ctx
from .options import as_of_option, case_arg, date_option, json_option
from .printing import emit, say, share, shown, tsv, yuan
from .helptext import group


@group()
def project():
    pass


@project.command("add")
@click.option("--site", required=True)
@click.option("--name", required=True)
@click.option("--category", required=True, callback=parsing.coded("category"))
@click.option("--unit", "responsible_unit", required=True)
@click.option("--unit-head", required=True)
@click.option("--leader", required=True)
@click.option("--fund", "funds", multiple=True, required=True, callback=parsing.callback(inputs.fund_line))
@click.option("--beneficiary", "beneficiaries", multiple=True, type=CASE_ID)
@click.option("--target", "targets", multiple=True)
@date_option("--complete-by", "complete_by", required=True)
@date_option("--proposed-on", "proposed_on")
@click.option("--description")
@click.option("--submit", is_flag=True)
@pass_ctx
def project_add(ctx: Ctx, submit, **given):
    from workflows.project import ProjectInput, propose_project, register_project
    case_id = (propose_project if submit else register_project)(ctx.app(), ctx.actor(), ProjectInput(
        given["name"], given["category"], given["site"], given["responsible_unit"], given["unit_head"],
        given["leader"], given["funds"], given["beneficiaries"], given["targets"], given["complete_by"],
        given["proposed_on"], given["description"]))
    say(ctx.text("project_registered", case=case_id, stage=ctx.stage("proposed", "project")))
    if submit:
        say(ctx.text("project_submitted", case=case_id))
    click.echo(case_id)


@project.command("show")
@case_arg
@as_of_option
@json_option
@pass_ctx
def project_show(ctx: Ctx, case_id, as_of, as_json):
    from workflows.project import project_detail
    data = project_detail(ctx.app(), ctx.actor(), case_id, as_of)
    emit(data, as_json, lambda: [say(line) for line in project_lines(ctx, data)])


def project_lines(ctx: Ctx, d: dict) -> list[str]:
    L = ctx.label
    lines = [ctx.text("project_heading", id=d["id"], title=d["title"], region_name=d["region_name"],
                      region=d["region"], stage=ctx.stage(d["stage"], "project"), version=d["version"]),
             ctx.text("project_owners", category=L("category." + d["category"]), unit=d["responsible_unit"],
                      head=person_named(ctx, d.get("unit_head_name"), d["unit_head"]),
                      leader=person_named(ctx, d.get("leader_name"), d["leader"]), complete_by=d["complete_by"],
                      contractor=shown(d["contractor"], ctx.text("contractor", name=d["contractor"]) + shown(
                          d.get("contractor_code"), ctx.text("contractor_code", code=d.get("contractor_code"))) + shown(
                          d.get("contract_amount"), ctx.text("contract_amount", amount=amount_text(d.get("contract_amount")),
                                                             paid=amount_text(d.get("contract_paid"))))))]
    lines += [ctx.text("supplementary_contract", contract_no=s.get("contract_no") or "-",
                       contractor=s.get("contractor") or "-", signed_on=s.get("signed_on") or "-",
                       on=s.get("on") or "-", old=amount_text(s.get("old_amount")), new=amount_text(s.get("contract_amount")),
                       reason=s.get("reason") or "-") for s in d.get("supplementary_contracts") or ()]
    for f in d.get("former_contractors") or ():
        lines.append(ctx.text("former_contractor", name=f["name"], since=f["since"] or "-", until=f["until"] or "-",
                              replaced_by=f["replaced_by"] or "-", reason=f["reason"] or "-"))
        if f.get("contract_amount"):
            lines.append(ctx.text("former_contract_amount", amount=amount_text(f["contract_amount"])))
    lines += [ctx.text("project_target", target=target) for target in d["targets"]]
    lines += [fund_line(ctx, f) for f in d["funds"]]
    lines.append(ctx.text("beneficiaries", cases=", ".join(f"{b['case']} {b['title']}" for b in d["beneficiaries"])))
    lines += [milestone_line(ctx, m) for m in d["milestones"]]
    lines += [payment_line(ctx, p) for p in d["disbursements"]]
    lines += [asset_line(ctx, a) for a in d["assets"]]
    lines += [figures_line(ctx, d["as_of"], d["figures"])] if d["figures"] else []
    period = d.get("report_period")          # under way: what a monthly report of that day would say
    if period and period["from"]:
        lines.append(ctx.text("report_period", start=period["from"], end=period["to"], amount=yuan(period["disbursed"])))
    if period and period.get("entered_late"):   # recorded since the last report, dated in a period reported
        from engine.reads.money_words import late_lines
        lines.append(ctx.text("report_late", amount=yuan(period["disbursed_late"])))
        lines += [ctx.text("report_late_line", line=line) for line in late_lines(ctx.config, period["entered_late"], ctx.lang)]
    return lines


def amount_text(value) -> str:
    """An amount kept as text (a contract's, in the case's attributes) or a Decimal: 280,000.00."""
    return "-" if value in (None, "") else yuan(Decimal(str(value)))


def person_named(ctx: Ctx, name: str | None, code: str | None) -> str:
    """A person by name, the code after it in brackets: 张三（t1_staff3）."""
    return noted(name, code, ctx.lang) if name and code else (name or code or "-")


def fund_line(ctx: Ctx, f: dict) -> str:
    old = shown(f["superseded_on"], ctx.text("superseded_on", date=f["superseded_on"]))
    return (f"  {ctx.label('funds.' + f['kind'])} {ctx.label('fund_source.' + f['source'])} {yuan(f['amount'])} "
            f"{f['document'] or '-'} {f['on']}{old}")


def milestone_line(ctx: Ctx, m: dict) -> str:
    state = ctx.text("done_on_date", date=m["done"]) if m["done"] else ctx.text("behind" if m["behind"] else "open")
    return ctx.text("milestone_line", seq=m["seq"], name=m["name"], due=m["due"], state=state)


def payment_line(ctx: Ctx, p: dict) -> str:
    return ctx.text("payment_line", on=p["paid_on"], amount=yuan(p["amount"]),
                    kind=ctx.label("payee_kind." + p["payee_kind"]), payee=p["payee"],
                    reference=shown(p["reference"], f" ({p['reference']})")) + shown(
        p.get("entered_late"), ctx.text("payment_late_note", report=(p.get("entered_late") or {}).get("report")))


def asset_line(ctx: Ctx, a: dict) -> str:
    return ctx.text("asset_line", cls=ctx.label("asset_class." + a["class"]), name=a["name"], value=yuan(a["value"]),
                    owner=a["owner"], case=shown(a["owner_case"], ctx.text("of_case", case=a["owner_case"])),
                    on=a["handed_over_on"])


def figures_line(ctx: Ctx, as_of, f: dict) -> str:
    L = ctx.label
    return ctx.text("as_of", date=as_of) + joined(
        [f"{L('funds.allocated')} {yuan(f['allocated'])}",
         noted(f"{L('funds.disbursed')} {yuan(f['disbursed'])}", share(f["rate"]), ctx.lang),
         f"{L('funds.retention')} {yuan(f['retention'])}", f"{L('funds.carry_over')} {yuan(f['carry_over'])}",
         *([f"{L('funds.to_recover')} {yuan(f['to_recover'])}"] if f.get("to_recover") else []),
         f"{L('funds.behind')} {f['milestones_behind']}"], ctx.lang)


@project.command("pay")
@case_arg
@click.option("--amount", required=True)
@click.option("--payee-kind", required=True, callback=parsing.coded("payee_kind"))
@click.option("--payee", required=True)
@click.option("--payee-code")
@click.option("--reference")
@date_option("--date", "paid_on")
@click.option("--from-retention", is_flag=True)
@pass_ctx
def project_pay(ctx: Ctx, case_id, amount, payee_kind, payee, payee_code, reference, paid_on, from_retention):
    from engine.reads.money_words import entered_late_words
    from workflows.project import PaymentInput, record_payment
    done = record_payment(ctx.app(), ctx.actor(), case_id,
                          PaymentInput(amount, payee_kind, payee, paid_on, reference, from_retention, payee_code))
    say(ctx.text("disbursement_recorded", id=done.id, case=case_id))
    if done.recorded_as:    # typed otherwise (spaces, full-width brackets) or found by its credit code
        say(ctx.text("payee_recorded_as", payee=done.recorded_as, code=done.code or "-"))
    if done.late:           # dated in a month reported already (补录): which report, and the next one lists it
        say(entered_late_words(ctx.config, done.paid_on.isoformat(), done.late, ctx.lang))


@project.command("withdraw-completion")
@case_arg
@click.option("--reason", required=True)
@pass_ctx
def project_withdraw_completion(ctx: Ctx, case_id, reason):
    from workflows.project_completion import withdraw_completion, withdrawn_words
    done = withdraw_completion(ctx.app(), ctx.actor(), case_id, reason)
    say(withdrawn_words(ctx.config, done, ctx.lang))


@project.command("milestone-done")
@case_arg
@click.argument("milestone")
@date_option("--date", "effective")
@pass_ctx
def project_milestone_done(ctx: Ctx, case_id, milestone, effective):
    from engine.domain.cases import StepInput
    from engine.services.procedures import perform_step
    result = perform_step(ctx.app(), ctx.actor(), "milestone", "milestone", [case_id],
                          StepInput(date=effective, milestone=milestone))[0]
    say(ctx.text("milestone_reached", case=case_id, step=ctx.label("step.milestone"), milestone=milestone,
                 status=ctx.label("status." + result.procedure_status)))


@group()
def funds():
    pass


@funds.command("report")
@click.option("--region", "region_code", callback=parsing.region_named())
@as_of_option
@json_option
@pass_ctx
def funds_report_command(ctx: Ctx, region_code, as_of, as_json):
    from engine.reads.funds import funds_report
    data = funds_report(ctx.app(), ctx.actor(), region_code, as_of)
    emit(data, as_json, lambda: print_funds(ctx, data))


def figures(r: dict) -> list[str]:
    return [yuan(r["allocated"]), yuan(r["disbursed"]), share(r["rate"]), yuan(r["retention"]),
            yuan(r["other"]), yuan(r["carry_over"]), yuan(r["to_recover"])]


def print_funds(ctx: Ctx, data: dict) -> None:
    """Tab-separated lines (as `case list`): wide figures stay whole at any terminal width."""
    L = ctx.label
    say(L("funds.heading").format(region=f"{data['region_name']} ({data['region']})", as_of=data["as_of"]))
    columns = [L("funds." + c) for c in ("allocated", "disbursed", "rate", "retention", "other", "carry_over",
                                         "to_recover", "behind")]
    tsv(ctx.text("col.case"), L("funds.projects"), ctx.text("col.region"), ctx.text("col.stage"), *columns)
    for p in data["projects"]:
        tsv(p["id"], p["title"], p["region_name"] or p["region"], ctx.stage(p["stage"], "project"), *figures(p),
            p["milestones_behind"])
    for level in ("townships", "counties"):
        click.echo("")
        tsv(L("funds." + level), L("funds.count"), *columns[:-1], L("funds.projects_behind"))
        for r in data[level]:
            tsv(f"{r['name'] or ''} {r['code']}", r["projects"], *figures(r), r["projects_behind"])
    click.echo("")                          # the same figures per project category (产业, 基础设施…)
    tsv(L("funds.categories"), L("funds.count"), *columns[:-1], L("funds.projects_behind"))
    for r in data["categories"]:
        tsv(L("category." + r["code"]) if r["code"] else "-", r["projects"], *figures(r), r["projects_behind"])
    click.echo("")
    total = data["total"]
    say(f"{L('funds.total')}: {L('funds.count')} {total['projects']} — " + ", ".join(
        f"{c} {v}" for c, v in zip(columns[:-1] + [L("funds.projects_behind")],
                                   figures(total) + [str(total["projects_behind"])])))
    if total.get("disbursed_late"):         # typed in after the day: what the system held then is the rest
        say(ctx.text("funds.late_total", as_of=data["as_of"], late=yuan(total["disbursed_late"]),
                     recorded=yuan(total["disbursed"] - total["disbursed_late"])))


COMMANDS = (project, funds)
