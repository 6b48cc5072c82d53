"""The assessment (`report`): terminal tables, JSON, CSV, XLSX and a self-contained HTML page with
charts; and sample checks (`sample draw|record|show`)."""
from __future__ import annotations

import csv
import os
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any, Callable

import click

from . import parsing
from .context import CASE_ID, Ctx, pass_ctx
from .households import report_coverage
from .options import json_option
from .printing import dash, emit, list_cell, say, table, to_json
from .helptext import group

Sheet = tuple[str, list[str], list[list[Any]]]


# --- report ----------------------------------------------------------------------------------------

@group("report", invoke_without_command=True)
@click.option("--region", "region_code", callback=parsing.region_named())
@click.option("--period")
@json_option
@click.option("--csv", "csv_dir", type=click.Path(file_okay=False, writable=True))
@click.option("--xlsx", "xlsx_file", type=click.Path(dir_okay=False))
@click.option("--html", "html_file", type=click.Path(dir_okay=False))
@click.option("--lang", "report_lang", type=click.Choice(["zh", "en"]))
def report(**given):
    if click.get_current_context().invoked_subcommand is None:
        _report(**given)


@pass_ctx
def _report(ctx: Ctx, region_code, period, as_json, csv_dir, xlsx_file, html_file, report_lang):
    from engine.adapters.private_files import replacing_together
    from engine.reads.assessment import assessment
    from .exports import target_named
    target_named(xlsx_file, "--xlsx", ".xlsx", (".csv", ".xls", ".html", ".htm"))
    target_named(html_file, "--html", ".html", (".csv", ".xls", ".xlsx"))
    data = assessment(ctx.app(), ctx.actor(), region_code, period)
    lang = report_lang or ctx.lang
    record = None
    if html_file or csv_dir or xlsx_file:       # files leave the system: recorded, as an export is, once all are whole
        from engine.services.exports import record_report
        fmt = ",".join(f for f, given in (("html", html_file), ("csv", csv_dir), ("xlsx", xlsx_file)) if given)
        record = partial(record_report, ctx.app(), ctx.actor(), data["region"], data["period"], fmt)
    with replacing_together(record) as beside:     # a full disk, a Ctrl-C: no file of them, nothing recorded
        written = [_html(ctx, data, html_file, lang, beside)] if html_file else []
        written += _csv(ctx, data, csv_dir, lang, beside) if csv_dir else []
        written += [report_xlsx(ctx, data, xlsx_file, lang, beside)] if xlsx_file else []
    if as_json:
        click.echo(to_json(data))
    elif not written:
        _print(ctx, data)
    for path in [] if as_json else written:
        say(_t(ctx, ctx.lang)("assess.written", path=path))


report.add_command(report_coverage)


def _t(ctx: Ctx, lang: str) -> Callable[..., str]:
    from engine.domain.errors import translator
    return translator(ctx.config, lang)


# The tables that only a region at or above a level can fill: a township has no county ranked, a county
# no city results. Below it they are left out (a sheet of headers only said nothing).
FROM_LEVEL = {"counties": "county", "cities": "city"}


def sheets(ctx: Ctx, data: dict[str, Any], lang: str) -> list[Sheet]:
    """The report's tables: (name, header, rows), the same on a terminal, in CSV and in XLSX; those a
    region of its level cannot fill left out (FROM_LEVEL)."""
    from engine.domain.regions import LEVEL_RANK
    rank = LEVEL_RANK.get(data["level"], len(LEVEL_RANK))
    return [s for s in _sheets(ctx, data, lang)
            if s[0] not in FROM_LEVEL or rank >= LEVEL_RANK[FROM_LEVEL[s[0]]]]


def _sheets(ctx: Ctx, data: dict[str, Any], lang: str) -> list[Sheet]:
    from engine.domain.regions import level_of
    t = _t(ctx, lang)
    named = lambda p, v: _label(ctx, lang, p, v)   # noqa: E731
    names = data["unit_names"]
    yes, no = (ctx.config.label(key, lang) for key in ("web.yes", "web.no"))
    # each row with its level (县, 乡镇, 村): the region's own totals told from its areas', to sum by level
    stages = [*({**s, "unit": data["region"]} for s in data["stages"]), *data["units"]]
    return [
        ("stages", [t("assess.level"), t("assess.region"), t("assess.stage"), t("assess.households"),
                    t("assess.persons")],
         [[named("level", level_of(s["unit"])), names.get(s["unit"], s["unit"]), named("stage", s["stage"]),
           s["households"], s["persons"]] for s in stages]),
        # households imported as exited in the year: in its total, in no month (engine/reads/exits.py)
        ("exits", [t("assess.exits_done"), t("assess.exits_imported_col"), t("assess.persons"), t("assess.plan"),
                   t("assess.progress")] + [t("assess.month_exits_n", month=m) for m in range(1, 13)],
         [[data["exits"]["households"], data["exits"].get("imported", 0), data["exits"]["persons"],
           data["exits"]["plan"], data["exits"]["progress_pct"]] + data["exits"]["months"]]),
        ("villages", [t("assess.village"), t("assess.poor_persons"), t("assess.population"), t("assess.incidence"),
                      t("assess.threshold"), t("assess.villages_above")],
         [[v["name"] or v["code"], v["poor_persons"], v["population"], v["incidence_pct"], v["threshold_pct"],
           None if v["above"] is None else yes if v["above"] else no] for v in data["villages"]]),
        ("counties", _county_header(t, data), [_county_row(t, c, data, lang) for c in data["counties"]]),
        ("cities", [t("assess.rank"), t("assess.city"), t("assess.counties"), t("assess.score")],
         [[c["rank"], c["name"] or c["code"], c["counties"], c["score"]] for c in data["cities"]]),
        ("overdue_units", [t("assess.post"), t("assess.count")],
         [[ctx.config.role_label(u["key"], lang) if u["key"] != "-" else t("assess.nobody"), u["count"]]
          for u in data["overdue"]["unit"]]),
        ("overdue_persons", [t("assess.person"), t("assess.count")],
         [[p["name"] or p["key"] if p["key"] != "-" else t("assess.nobody"), p["count"]]
          for p in data["overdue"]["person"]]),
        # problem items only: the medical reimbursement ratio (a figure the system does not record, said
        # so on the page beside the funds) is no rectification figure, and a constant is no column
        ("rectification", [t("assess.open"), t("assess.late"), t("assess.closed")],
         [[data["rectification"]["open"], data["rectification"]["overdue"], data["rectification"]["closed"]]]),
    ]


def _county_header(t, data: dict[str, Any]) -> list[str]:
    return ([t("assess.rank"), t("assess.county"), t("assess.score"), t("assess.score_basis")]
            + [t("assess.part." + k) for k in data["weights"]]
            + [t("assess.exits_done"), t("assess.plan"), t("assess.incidence"), t("assess.wrong_exit"),
               t("assess.missed"), t("assess.approval"), t("assess.gate"), t("assess.coverage"),
               t("assess.allocated"), t("assess.disbursed"), t("assess.disbursement_rate"), t("assess.carry_over"),
               t("assess.projects_behind")])


def _county_row(t, c: dict[str, Any], data: dict[str, Any], lang: str) -> list[Any]:
    from entrypoints.report_html import Words
    s, f, g, words = c["samples"], c["funds"], c["gate"]["passes"], Words(t, lang)
    verdict = t("assess.gate_unknown") if g is None else t("assess.gate_pass" if g else "assess.gate_fail")
    # a figure as it is (a number stays a number in a workbook), none an empty cell (a dash on a terminal)
    return ([c["rank"], c["name"] or c["code"], c["score"], words.basis(c)]
            + [words.part(c, k) or c["parts"].get(k) for k in data["weights"]]
            + [c["exits"], c["plan"], words.incidence(c) or c["incidence_pct"],
               s["wrong_exit_pct"], words.missed(s) or s["missed_pct"],
               s["approval_pct"], verdict,
               c["coverage"]["coverage_pct"], Decimal(f["allocated"]), Decimal(f["disbursed"]),
               f["rate_pct"], Decimal(f["carry_over"]), f["projects_behind"]])    # money: exact, a number


def _label(ctx: Ctx, lang: str, prefix: str, value: Any) -> str:
    key = f"{prefix}.{value}"
    return ctx.config.label(key, lang) if key in ctx.config.labels else str(value)


def _print(ctx: Ctx, data: dict[str, Any]) -> None:
    t = _t(ctx, ctx.lang)
    say(f"{t('assess.title')}: {data['name'] or data['region']} ({data['region']}) · {t('assess.period')} "
        f"{data['period']} · {t('assess.as_of')} {data['as_of']}")
    for name, header, rows in sheets(ctx, data, ctx.lang):
        if not rows:
            continue
        rows = [["-" if v is None else v for v in r] for r in rows]     # a figure there is none of
        say("")
        say(t(f"assess.sheet.{name}"))         # each table under its title, as the workbook's sheets
        if name == "overdue_persons" and len(rows) > SHOWN_PERSONS:   # the files have them all
            rows = rows[:SHOWN_PERSONS] + [[t("assess.more_persons", n=len(rows) - SHOWN_PERSONS),
                                            sum(r[1] for r in rows[SHOWN_PERSONS:])]]
        if len(rows) == 1 and len(_narrow(header, rows)) > 1:     # one wide line (a county's): read down
            table([t("assess.item"), t("assess.value")], zip(header, rows[0]))
            continue
        for part_header, part_rows in _narrow(header, rows):
            table(part_header, part_rows)
    say(t("assess.html_hint"))


SHOWN_PERSONS = 20


def _narrow(header: list[str], rows: list[list[Any]], keys: int = 2, most: int = 7):
    """A wide table as several that fit a terminal: each repeats the first `keys` columns."""
    if len(header) <= keys + most:
        return [(header, rows)]
    keys = keys if len(rows) > 1 else 0
    return [(header[:keys] + header[i:i + most], [r[:keys] + r[i:i + most] for r in rows])
            for i in range(keys, len(header), most)]


def _html(ctx: Ctx, data: dict[str, Any], path: str, lang: str, beside: Callable) -> str:
    from entrypoints.report_html import render
    out, _made = beside(path)
    out.write(render(ctx.config, data, lang))
    return str(Path(path).resolve())


def _titled(ctx: Ctx, data: dict[str, Any], lang: str) -> list[Sheet]:
    """The report's tables, each named in `lang` (各村贫困发生率…): a CSV file's name, a sheet's."""
    t = _t(ctx, lang)
    return [(t(f"assess.sheet.{name}"), header, rows) for name, header, rows in sheets(ctx, data, lang)]


def _about(ctx: Ctx, data: dict[str, Any], lang: str) -> list[tuple[str, Any]]:
    """What a report's file holds, (item, value): the report, its region (name, code, level), year,
    the day its figures stand as of, and when it was made (office time): a file passed on says them."""
    t = _t(ctx, lang)
    return [(t("assess.report"), t("assess.title")), (t("assess.region"), data["name"] or data["region"]),
            (t("assess.region_code"), data["region"]), (t("assess.level"), _label(ctx, lang, "level", data["level"])),
            (t("assess.period"), data["period"]), (t("assess.as_of"), data["as_of"]),
            (t("assess.made_at"), parsing.local_time(ctx, ctx.app().clock.now()))]


def _csv(ctx: Ctx, data: dict[str, Any], folder: str, lang: str, beside: Callable) -> list[str]:
    """A CSV file per table in `folder`, named as the workbook's sheets are, with the region's code and
    the year (各村贫困发生率-360730100000-2020.csv…: another region's or year's files beside them, the
    same region's and year's replaced), each opening with a line saying what it is (_about), then a
    blank line and the table; each begun `beside` its place (replacing_together)."""
    Path(folder).mkdir(parents=True, exist_ok=True)
    t, (report, *about) = _t(ctx, lang), _about(ctx, data, lang)
    written = []
    for title, header, rows in _titled(ctx, data, lang):
        path = os.path.join(folder, f"{title}-{data['region']}-{data['period']}.csv")
        line = t("pair", name=report[1], value=" · ".join([title, *(f"{k} {v}" for k, v in about)]))
        out, _made = beside(path)
        out.write("\ufeff")
        csv.writer(out).writerows([[list_cell(line)], [], header,
                                   *([list_cell(v) if isinstance(v, str) else v for v in r] for r in rows)])
        written.append(path)
    return written


def report_xlsx(ctx: Ctx, data: dict[str, Any], path: str, lang: str, beside: Callable | None = None) -> str:
    """The tables as one workbook (the CLI's `--xlsx`, the supervisor's download), a sheet each named
    in `lang`, after a first sheet saying what the workbook is (说明: _about): header frozen and in
    bold, columns as wide as their text, figures as numbers and every text an inline string (never a
    formula, whatever a region's or a person's name starts with), as `export` writes them; `beside`:
    begun with the report's other files (replacing_together)."""
    from entrypoints.cli.exports import write_private_workbook
    t = _t(ctx, lang)
    about = (t("assess.sheet.about"), [(t("assess.item"), t("assess.content")), *_about(ctx, data, lang)])
    write_private_workbook(path, (about, *((title, [header, *rows]) for title, header, rows
                                           in _titled(ctx, data, lang))), beside=beside)
    return path


# --- sample checks -----------------------------------------------------------------------------------

@group()
def sample():
    pass


@sample.command("draw")
@click.option("--region", "region_code", required=True, callback=parsing.region_named())
@click.option("--size", required=True, type=click.IntRange(1, None))
@click.option("--seed", required=True)
@click.option("--period", type=click.IntRange(1949, 2200))
@json_option
@pass_ctx
def sample_draw(ctx: Ctx, region_code, size, seed, period, as_json):
    from engine.services.sampling import draw
    found = draw(ctx.app(), ctx.actor(), region_code, size, seed, period)
    emit(found, as_json, lambda: say(ctx.config.label("assess.sample_drawn", ctx.lang).format(
        id=found["id"], population=found["population"], count=len(found["case_ids"]), seed=found["seed"])
        + "\n" + " ".join(map(str, found["case_ids"]))))


@sample.command("record")
@click.argument("draw_id", type=CASE_ID)
@click.argument("case_id", type=CASE_ID)
@click.option("--finding", required=True)
@click.option("--persons", type=click.IntRange(1, None))
@click.option("--note")
@click.option("--file", "evidence", type=click.Path(exists=True, dir_okay=False))
@pass_ctx
def sample_record(ctx: Ctx, draw_id, case_id, finding, persons, note, evidence):
    from engine.services.sampling import Finding, awaits_of, problem_of, record_finding
    app, actor = ctx.app(), ctx.actor()
    item = Finding(draw_id, case_id, finding, note, persons, Path(evidence) if evidence else None)
    finding_id = record_finding(app, actor, item)
    say(ctx.config.label("assess.finding_recorded", ctx.lang).format(
        id=finding_id, case=case_id, finding=ctx.code_label("sample_finding", finding)))
    problem = problem_of(app, finding_id)
    if problem is not None:
        say(ctx.config.label("assess.problem_opened", ctx.lang).format(problem=problem, case=case_id))
    elif (awaits := awaits_of(app, finding_id)) is not None:
        say(awaits_text(ctx, awaits, case_id))


def awaits_text(ctx: Ctx, awaits: dict, case_id: int) -> str:
    """What a wrong exit recorded with no problem item yet waits for, in words."""
    if awaits["kind"] == "reopen_wrong_exit":
        return ctx.config.label("assess.correction_under_way", ctx.lang).format(procedure=awaits["procedure"], case=case_id)
    return ctx.config.label("assess.finding_awaits", ctx.lang).format(
        procedure=awaits["procedure"], kind=ctx.code_label("procedure", awaits["kind"]), case=case_id)


@sample.command("sheet")
@click.argument("draw_id", type=CASE_ID)
@click.option("--html", "html_file", type=click.Path(dir_okay=False, writable=True), required=True)
@pass_ctx
def sample_sheet(ctx: Ctx, draw_id, html_file):
    # the draw's sheet for the visits (抽查入户核查表), from the record, to print and take to the doors
    from engine.adapters.private_files import replacing
    from engine.reads.case_lists import region_names
    from engine.reads.handbook import render_sheet
    from engine.services.exports import record_sample_sheet
    from engine.services.sampling import field_sheet
    app, actor = ctx.app(), ctx.actor()
    sheet = field_sheet(app, actor, draw_id, ctx.lang)
    region = region_names(app, [sheet["region"]]).get(sheet["region"], sheet["region"])
    recorded = lambda: record_sample_sheet(app, actor, sheet["region"], draw_id, "html")  # noqa: E731  (once whole)
    with replacing(html_file, then=recorded) as (out, _):      # mode 0600: names, incomes
        out.write(render_sheet(app, sheet, region, ctx.lang))
    say(ctx.text("sheet_written", file=html_file, id=draw_id, n=len(sheet["households"])))


@sample.command("show")
@click.argument("draw_id", type=CASE_ID)
@json_option
@pass_ctx
def sample_show(ctx: Ctx, draw_id, as_json):
    from engine.services.sampling import show
    found = show(ctx.app(), ctx.actor(), draw_id)
    emit(found, as_json, lambda: _print_draw(ctx, found))


def _print_draw(ctx: Ctx, d: dict[str, Any]) -> None:
    L = lambda key: ctx.config.label(key, ctx.lang)   # noqa: E731
    from engine.reads.case_lists import region_names
    region = region_names(ctx.app(), [d["region"]]).get(d["region"], d["region"])
    say(L("assess.draw_head").format(id=d["id"], region=region, seed=d["seed"], size=d["size"],
                                     population=d["population"], by=d["drawn_by"],
                                     at=parsing.local_time(ctx, d["drawn_at"])))
    table([L("assess.case"), L("assess.title_col"), L("assess.stage"), L("assess.findings")],
          [[h["case"], dash(h["title"]), ctx.code_label("stage", h["stage"]),
            "; ".join(ctx.code_label("sample_finding", f["finding"]) + (f" ({f['persons']})" if f["finding"] == "missed"
                                                                          else "") + _waits(ctx, f, h["case"])
                      for f in h["findings"]) or "-"]
           for h in d["households"]])


def _waits(ctx: Ctx, finding: dict, case_id: int) -> str:
    """What a wrong exit with no problem item yet waits for, after it: the procedure under way, or the
    county office's registration by its deadline's due date."""
    awaits = finding.get("awaits")
    if not awaits:
        return ""
    key = ("samples.correction" if awaits["kind"] == "reopen_wrong_exit" else "samples.awaits") \
        if awaits["procedure"] is not None else \
        "samples.awaits_registration_due" if awaits.get("due_on") else "samples.awaits_registration"
    kind = ctx.code_label("procedure", awaits["kind"]) if awaits["kind"] else None
    return " (" + ctx.config.label(key, ctx.lang).format(procedure=awaits["procedure"], kind=kind,
                                                          due=awaits.get("due_on"), case=case_id) + ")"


COMMANDS = (report, sample)
