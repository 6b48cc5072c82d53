"""What `jingzhun demo` prints: phases, the summary tables, and commands that work as printed.

Every text comes from the message catalogue (config/locale/*/LC_MESSAGES/cli.po, keys cli.demo.*).
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select

from engine.adapters import tables as t
from engine.adapters.app import App
from engine.reads.standing import case_standing, standings
from engine.domain.auth import Actor

PHASES = ("organisation", "registration", "poor_village", "identification", "assistance", "project", "exit",
          "village_exit", "consolidation", "accountability")


class Texts:
    """The demo's texts in one language: `texts("key", **params)` reads `cli.demo.key`."""

    def __init__(self, config: Any, lang: str):
        self.config, self.lang = config, lang

    def __call__(self, key: str, **params: Any) -> str:
        return self.label("cli.demo." + key).format(**params)

    def label(self, key: str) -> str:
        return self.config.label(key, self.lang)

    def stage(self, stage: str, kind: str) -> str:
        return self.config.stage_label(stage, kind, self.lang)


def act_as(tokens_file: str | Path, who: str = "inspector") -> str:
    """A shell line that acts as `who` of the demo: their token read from the demo's tokens file."""
    return f'export JINGZHUN_AS={who} JINGZHUN_TOKEN=$(grep "^{who}," {tokens_file} | cut -d, -f2)'


def print_phase(console: Console, texts: Texts, name: str, seconds: float) -> None:
    console.print(texts("phase", phase=texts("phase." + name), seconds=f"{seconds:.1f}"))


def run_phases(console: Console, texts: Texts, phases: list[tuple[str, Callable[[], None]]]) -> dict[str, float]:
    """Each phase in turn, a line with its time when done; on a terminal a progress bar runs below
    the lines (plain lines only when the output is a file or a pipe)."""
    timings: dict[str, float] = {}
    with _progress(console, len(phases)) as advance:
        for name, fn in phases:
            advance(texts("phase." + name))
            began = time.perf_counter()
            fn()
            timings[name] = time.perf_counter() - began
            print_phase(console, texts, name, timings[name])
        advance(None)
    return timings


@contextmanager
def _progress(console: Console, total: int) -> Iterator[Callable[[str | None], None]]:
    if not console.is_terminal:
        yield lambda _name: None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=console, transient=True) as bar:
        task = bar.add_task("", total=total)
        started = [False]

        def advance(name: str | None) -> None:
            bar.update(task, advance=1 if started[0] else 0, description=name or "")
            started[0] = True
        yield advance


def print_summary(console: Console, config: Any, s: dict, lang: str) -> None:
    texts = Texts(config, lang)
    console.print("\n" + texts("finished", seconds=s["seconds"], persons=s["persons"], steps=s["steps"],
                               notices=s["notices"], objections=s["objections"], events=s["audit_events"]))
    console.print(_table([texts("col.stage"), texts("col.households")],
                         [(texts.label("stage." + st), s["stages"].get(st, 0))
                          for st in standings(config.workflows["household"].stages)]))
    console.print(_table([texts("col.procedure"), texts("col.status"), texts("col.count")],
                         [(texts.label("procedure." + k), texts.label("status." + st), n)
                          for k, st, n in s["procedures"]]))
    console.print(_table([texts("col.rule"), texts("col.times"), texts("col.example")],
                         [(code, n, s["refusal_examples"].get(code) or texts.label("demo.objection_upheld"))
                          for code, n in sorted(s["refusals"].items(), key=lambda kv: -kv[1])]))
    for line in tour_lines(texts, s):
        console.print(line)
    for line in try_lines(texts, s):
        console.print(line)


def tour_lines(texts: Texts, s: dict) -> list[str]:
    """The poor village, the fund project, and the inspector's flags (how many point at a planted lead)."""
    village, project, flags = s.get("village") or {}, s.get("project") or {}, s.get("inspection") or {}
    lines = []
    if village.get("case"):
        lines.append(texts("village", name=village["name"], case=village["case"],
                           stage=texts.stage(str(village["stage"]), "village")))
    if project.get("case"):
        lines.append(texts("project", case=project["case"], stage=texts.stage(str(project["stage"]), "project"),
                           disbursed=project["disbursed"], allocated=project["allocated"]))
    if flags:
        kinds = ", ".join(f"{texts.label('flag.' + k)} {n}" for k, n in flags["kinds"].items())
        lines += [texts("flags", flags=flags["flags"], real=flags["real"], kinds=kinds or "-"),
                  "  jingzhun inspect flags"]
    sample = s.get("sample_check")
    if sample:
        lines += [texts("sample", sampled=sample["sampled"], population=sample["population"],
                        case=sample["wrong_exit"], problem=sample["problem"]),
                  f"  jingzhun sample show {sample['draw']}"]
    return lines


def try_lines(texts: Texts, s: dict) -> list[str]:
    """Where the data is, and commands to paste: they work as printed, in this folder or any other."""
    lines = [texts("home", home=s["home"]), texts("tokens", file=s["tokens_file"]), texts("try_intro"),
             f"  export JINGZHUN_HOME={s['home']}", "  " + act_as(s["tokens_file"]),
             f"  jingzhun case show {s['example_case']}",
             f"  jingzhun household handbook {s['example_case']} --html handbook-{s['example_case']}.html"]
    if s.get("problem"):
        lines += [texts("problem", id=s["problem"], dossiers=", ".join(s["dossiers"])),
                  f"  jingzhun trace {s['problem']}"]
    return lines


def print_head(console: Console, config: Any, lang: str, head: str | None) -> None:
    """The head sealed after everything the demo's year wrote; the sign-ins `jingzhun demo` makes next
    move it on, and their head (demo.serve.head), printed last, is the one to publish."""
    if head:
        texts = Texts(config, lang)
        console.print(texts("head", head=head) + f"\n  jingzhun audit verify --against {head}")


def print_overdue(console: Console, config: Any, lang: str, result: dict, tokens_file: Path) -> None:
    texts = Texts(config, lang)
    console.print("\n" + texts("overdue", scene=texts.label("demo.overdue_scene"), overdue=result["overdue"],
                               rules=", ".join(f"{texts.label('rule.' + r)} {n}"
                                               for r, n in sorted(result["by_rule"].items()))))
    levels = ("、" if lang == "zh" else ", ").join(f"{level}: {n}" for level, n in sorted(
        result["by_level"].items(), key=lambda kv: int(kv[0])))        # the dict's text had been printed
    console.print(texts("alerts", alerts=result["alerts"], levels=f"（{levels}）" if lang == "zh" else f"({levels})",
                        digests=result["digests"],
                        delivered=result["delivered"], mailbox=result["mailbox"]))
    console.print(texts("try_alerts") + "\n  " + act_as(tokens_file) + "\n  jingzhun alerts list")


def dossiers(app: App, demo: Any, admin: Actor, lang: str) -> dict:
    """The inspector's view of the wrong exits: printable dossiers, and a sealed, publishable head."""
    from engine.reads.audit_verify import seal
    from engine.adapters.private_files import write_private
    from engine.reads.trace import case_trace, render_html
    found: dict = {"dossiers": [], "problem": demo.wrong_exit_problem}
    if demo.wrong_exit_problem is not None:
        inspector = demo.who("inspector")
        for case, template in ((demo.wrong_exit_problem, "trace_case.html"), (demo.wrong_exit_cases[0], "trace_case.html")):
            path = app.settings.home / f"dossier-{case}.html"
            # a dossier names the household's people: readable by its owner only, as the CLI writes one
            write_private(path, render_html(app, case_trace(app, inspector, case), lang, template))
            found["dossiers"].append(str(path))
    sealed = seal(app, admin)
    found["head"] = f"{sealed['upto_seq']}:{sealed['hash']}" if sealed else None
    return found


def figures(app: App, demo: Any, elapsed: float, tokens_file: Path) -> dict:
    with app.engine.connect() as conn:
        standing = case_standing().label("standing")      # a rejected applicant 未通过识别, as the figures say
        stages = dict(conn.execute(select(standing, func.count()).where(t.cases.c.kind == "household")
                                   .group_by(standing)).all())
        procs = conn.execute(select(t.procedures.c.kind, t.procedures.c.status, func.count())
                             .group_by(t.procedures.c.kind, t.procedures.c.status)).all()
        events = conn.execute(select(func.count()).select_from(t.audit_events)).scalar()
        steps = conn.execute(select(func.count()).select_from(t.steps)).scalar()
        notices = conn.execute(select(func.count()).select_from(t.notices)).scalar()
        objections = conn.execute(select(func.count()).select_from(t.objections)).scalar()
        persons = conn.execute(select(func.count()).select_from(t.persons)).scalar()
        example = conn.execute(select(t.cases.c.id).where(t.cases.c.stage == "consolidated")
                               .order_by(t.cases.c.id).limit(1)).scalar()
    return {"seconds": round(elapsed, 1), "stages": stages, "procedures": [list(p) for p in procs],
            "refusals": dict(demo.refusals), "refusal_examples": demo.examples, "audit_events": events,
            "steps": steps, "notices": notices, "objections": objections, "persons": persons,
            "home": str(app.settings.home), "tokens_file": str(tokens_file), "example_case": example}


def _table(headers: list[str], rows: list[tuple]) -> Table:
    table = Table(*headers)
    for row in rows:
        table.add_row(*(str(c) for c in row))
    return table
