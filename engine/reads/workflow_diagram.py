"""A workflow drawn from the definitions the engine runs (config.workflows[KIND] and the deadline rules):
the lifecycle (stages and the procedures between them, side moves) and each procedure's steps (roles,
evidence, notices, deadlines), as text, Mermaid or a hand-laid SVG. Pure: configuration in, text out.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from typing import Any

from engine.domain.deadline_rules import dates_waiting, waits_in
from engine.domain.errors import BadInput

FORMATS = ("text", "mermaid", "svg")


@dataclass(frozen=True)
class StepView:
    key: str
    label: str
    kind: str                     # the step type, labelled
    roles: tuple[str, ...]
    evidence: tuple[str, ...]
    notice: str | None            # "7 days, village" for a notice step
    deadlines: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProcView:
    key: str
    label: str
    sources: tuple[str, ...]
    to: str | None
    reject_to: str | None
    main: bool                    # on the case's main path
    steps: tuple[StepView, ...]
    deadlines: tuple[str, ...] = ()


@dataclass(frozen=True)
class Diagram:
    kind: str
    label: str
    stages: tuple[tuple[str, str], ...]        # (code, label) in the lifecycle's order
    procedures: tuple[ProcView, ...]
    deadlines: tuple[str, ...] = ()            # rules of the kind tied to no single procedure
    words: dict[str, str] = field(default_factory=dict)


# --- the model ------------------------------------------------------------------------------------

def diagram(config: Any, kind: str, lang: str = "zh") -> Diagram:
    """The workflow `kind` as the engine runs it; BadInput when there is no such workflow."""
    wf = config.workflows.get(kind)
    if wf is None:
        raise BadInput("tour.no_workflow", kind=kind, known=", ".join(sorted(config.workflows)))
    lab = _Labels(config, lang)
    rules = _rules_of(config, kind)
    procs = tuple(_procedure(lab, wf, name, proc, rules) for name, proc in wf.procedures.items())
    placed = {d for p in procs for d in p.deadlines} | {d for p in procs for s in p.steps for d in s.deadlines}
    rest = tuple(lab.rule(n, r) for n, r in rules if lab.rule(n, r) not in placed)
    stages = tuple((s, lab.stage(kind, s)) for s in wf.stages)
    return Diagram(kind, lab("kind." + kind), stages, procs, rest, lab.words())


class _Labels:
    def __init__(self, config: Any, lang: str):
        self.config, self.lang = config, lang

    def __call__(self, key: str) -> str:
        return self.config.label(key, self.lang)

    def stage(self, kind: str, stage: str) -> str:
        return self.config.stage_label(stage, kind, self.lang)

    def role(self, role: str) -> str:
        return self.config.role_label(role, self.lang)

    def rule(self, name: str, rule: Any) -> str:
        """The rule's name, with its days when they are a number or by level (a policy parameter's name says them)."""
        days = getattr(rule.days, "by_level", None) or rule.days
        if isinstance(days, int):
            return f"{self('rule.' + name)} ({self(f'tour.due.{rule.counting}').format(days=days)})"
        if isinstance(days, dict):
            per = ", ".join(f"{self('level.' + lv)} {n}" for lv, n in days.items())
            return f"{self('rule.' + name)} ({self(f'tour.due_by_level.{rule.counting}').format(days=per)})"
        return self("rule." + name)

    def notice(self, step: Any) -> str | None:
        if step.type != "notice":
            return None
        days = self.config.policy.data.defaults.get("notice_days", {}).get(step.days or "", "?")
        scope = self("tour.scope." + step.scope) if step.scope else ""
        return self("tour.notice_days").format(days=days, scope=scope)

    def words(self) -> dict[str, str]:
        keys = ("lifecycle", "roles", "evidence", "notice", "deadlines", "from", "to", "stays", "rejected_to",
                "side", "main", "kind_deadlines")
        return {k: self("tour.word." + k) for k in keys}


def _rules_of(config: Any, kind: str) -> list[tuple[str, Any]]:
    rules = config.deadlines.rules if config.deadlines is not None else {}
    return [(name, rule) for name, rule in rules.items() if rule.kind == kind]


def _procedure(lab: _Labels, wf: Any, name: str, proc: Any, rules: list) -> ProcView:
    steps = tuple(_step(lab, name, step, rules, before) for before, step in zip((None, *proc.steps), proc.steps))
    own = tuple(lab.rule(n, r) for n, r in rules if any(_for_procedure(wf, name, r, w) for w in r.when))
    main = any(wf.main_path.get(s) == name for s in proc.sources)
    return ProcView(name, lab("procedure." + name), tuple(proc.sources), proc.to, proc.reject_to, main,
                    steps, own)


def _for_procedure(wf: Any, name: str, rule: Any, when: Any) -> bool:
    """A rule that starts when this procedure starts, or when the case enters a stage it waits in there (the
    stage's main procedure, or the one holding the step that closes it: a new plan's, not the exit's)."""
    if when.starts is not None:
        return when.starts == name
    return when.enters is not None and waits_in(wf, rule, when.enters) == name


def _step(lab: _Labels, procedure: str, step: Any, rules: list, before: Any) -> StepView:
    """The step, with the rules that date it: those its own key starts, and those that date the wait for it
    once the step before is done (none for a procedure's first step)."""
    due = tuple(lab.rule(n, r) for n, r in rules
                if any(w.step == step.key and w.procedure in (None, procedure) for w in r.when)
                or before is not None and dates_waiting(r, step, before))
    return StepView(step.key, lab("step." + step.key), lab("tour.step_type." + step.type),
                    tuple(lab.role(r) for r in step.roles), tuple(lab("evidence." + e) for e in step.evidence),
                    lab.notice(step), tuple(dict.fromkeys(due)))


# --- text -----------------------------------------------------------------------------------------

def render(config: Any, kind: str, fmt: str = "text", lang: str = "zh") -> str:
    if fmt not in FORMATS:
        raise BadInput("tour.bad_format", format=fmt, known=", ".join(FORMATS))
    d = diagram(config, kind, lang)
    return {"text": as_text, "mermaid": as_mermaid, "svg": as_svg}[fmt](d)


def _names(d: Diagram) -> dict[str, str]:
    return dict(d.stages)


def _move(d: Diagram, p: ProcView) -> str:
    names, w = _names(d), d.words
    target = names.get(p.to, p.to) if p.to else w["stays"]
    move = f"{' / '.join(names.get(s, s) for s in p.sources)} → {target}"
    return move + (f"; {w['rejected_to']} {names.get(p.reject_to, p.reject_to)}" if p.reject_to else "")


def as_text(d: Diagram) -> str:
    w = d.words
    lines = [f"{d.label} ({d.kind})", f"{w['lifecycle']}: " + " → ".join(label for _, label in d.stages)]
    for p in d.procedures:
        lines += ["", f"{p.label} ({p.key}) [{w['main'] if p.main else w['side']}]: {_move(d, p)}"]
        lines += [f"  {w['deadlines']}: {x}" for x in p.deadlines]
        for i, s in enumerate(p.steps, 1):
            lines += _step_lines(w, i, s)
    if d.deadlines:
        lines += ["", f"{w['kind_deadlines']}:"] + [f"  {x}" for x in d.deadlines]
    return "\n".join(lines) + "\n"


def _step_lines(w: dict, i: int, s: StepView) -> list[str]:
    lines = [f"  {i}. {s.label} ({s.key}) [{s.kind}]", f"     {w['roles']}: {', '.join(s.roles)}"]
    if s.evidence:
        lines.append(f"     {w['evidence']}: {', '.join(s.evidence)}")
    if s.notice:
        lines.append(f"     {w['notice']}: {s.notice}")
    return lines + [f"     {w['deadlines']}: {x}" for x in s.deadlines]


# --- Mermaid --------------------------------------------------------------------------------------

def _q(text: str) -> str:
    """Text inside a Mermaid "…" label."""
    return text.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")


def as_mermaid(d: Diagram) -> str:
    w = d.words
    lines = ["flowchart TB", f'  subgraph lifecycle["{_q(d.label)}: {_q(w["lifecycle"])}"]', "    direction LR"]
    lines += [f'    s_{code}(["{_q(label)}"])' for code, label in d.stages]
    for p in d.procedures:
        lines += _mermaid_moves(p)
    lines.append("  end")
    for p in d.procedures:
        lines += _mermaid_procedure(w, p)
    return "\n".join(lines) + "\n"


def _mermaid_moves(p: ProcView) -> list[str]:
    arrow = "==>" if p.main else "-.->"
    target = p.to or None
    lines = [f'    s_{s} {arrow}|"{_q(p.label)}"| s_{target or s}' for s in p.sources]
    if p.reject_to:
        lines += [f'    s_{s} -.->|"{_q(p.label)} ✗"| s_{p.reject_to}' for s in p.sources]
    return lines


def _mermaid_procedure(w: dict, p: ProcView) -> list[str]:
    lines = [f'  subgraph p_{p.key}["{_q(p.label)}"]', "    direction LR"]
    for i, s in enumerate(p.steps):
        lines.append(f'    p_{p.key}_{i}["{"<br/>".join(_q(x) for x in _step_box(w, s))}"]')
    lines += [f"    p_{p.key}_{i} --> p_{p.key}_{i + 1}" for i in range(len(p.steps) - 1)]
    lines += [f'    p_{p.key}_due_{i}>"{_q(w["deadlines"])}: {_q(x)}"]' for i, x in enumerate(p.deadlines)]
    return lines + ["  end"]


def _step_box(w: dict, s: StepView) -> list[str]:
    box = [f"{s.label} [{s.kind}]", ", ".join(s.roles)]
    box += [f"{w['evidence']}: {', '.join(s.evidence)}"] if s.evidence else []
    box += [f"{w['notice']}: {s.notice}"] if s.notice else []
    return box + [f"{w['deadlines']}: {x}" for x in s.deadlines]


# --- SVG: a simple layered layout, drawn by hand ----------------------------------------------------

STAGE_H, STEP_GAP, LINE = 44, 30, 15
FONT = "font-family='Noto Sans CJK SC, Microsoft YaHei, sans-serif'"


@dataclass(frozen=True)
class _Geom:
    """Widths from the texts they hold: a stage box, the gap between stages (its move's name), a step box."""
    stage_w: float
    gap: float
    step_w: float


def _px(text: str, size: int = 11) -> float:
    """About how wide `text` is drawn: a CJK character is as wide as the font is high, a Latin one about half."""
    return sum(size if ord(ch) > 0x2e80 else size * 0.6 for ch in text)


def _geom(d: Diagram) -> _Geom:
    stage_w = max([120.0] + [_px(label, 13) * 1.1 + 24 for _, label in d.stages])
    gap = max([60.0] + [_px(p.label) + 24 for p in d.procedures if p.main and p.to])
    step_w = max([150.0] + [_px(f"{s.label} [{s.kind}]", 13) * 1.1 + 20 for p in d.procedures for s in p.steps])
    return _Geom(min(stage_w, 260), min(gap, 260), min(step_w, 320))


def as_svg(d: Diagram) -> str:
    g = _geom(d)
    parts, y = _svg_lifecycle(d, g)
    for p in d.procedures:
        drawn, y = _svg_procedure(d.words, p, y, g)
        parts += drawn
    if d.deadlines:
        parts.append(_text(20, y + 20, f"{d.words['kind_deadlines']}:", bold=True))
        parts += [_text(30, y + 40 + i * LINE, x, size=12) for i, x in enumerate(d.deadlines)]
        y += 50 + len(d.deadlines) * LINE
    steps = max((len(p.steps) for p in d.procedures), default=1)
    width = int(max(40 + len(d.stages) * (g.stage_w + g.gap), 40 + steps * (g.step_w + STEP_GAP)))
    head = (f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{y + 20:.0f}' "
            f"viewBox='0 0 {width} {y + 20:.0f}' {FONT} font-size='13'>")
    return "\n".join([head, _ARROW_DEFS, f"<title>{escape(d.label)}</title>", *parts, "</svg>"]) + "\n"


_ARROW_DEFS = ("<defs><marker id='arrow' viewBox='0 0 10 10' refX='10' refY='5' markerWidth='7' markerHeight='7' "
               "orient='auto-start-reverse'><path d='M 0 0 L 10 5 L 0 10 z' fill='#444'/></marker></defs>")


def _text(x: float, y: float, text: str, size: int = 13, bold: bool = False, anchor: str = "start") -> str:
    weight = " font-weight='bold'" if bold else ""
    return f"<text x='{x:.0f}' y='{y:.0f}' font-size='{size}'{weight} text-anchor='{anchor}'>{escape(text)}</text>"


def _svg_lifecycle(d: Diagram, g: _Geom) -> tuple[list[str], float]:
    """Stages in a row (their order is the layering); main-path procedures between neighbours, side moves
    as arcs below (one lane each), moves that keep the stage named above it."""
    xs = {code: 20 + i * (g.stage_w + g.gap) for i, (code, _) in enumerate(d.stages)}
    loops = [p for p in d.procedures if p.to is None]
    top = 40 + 18 * max((sum(1 for p in loops if s in p.sources) for s, _ in d.stages), default=0)
    parts = [_text(20, 22, f"{d.label}: {d.words['lifecycle']}", size=15, bold=True)]
    parts += _svg_loops(d, xs, loops, top, g)
    parts += [_box(xs[code], top, g.stage_w, STAGE_H, [label], "#e8f1fb", rx=20) for code, label in d.stages]
    lane = top + STAGE_H
    for p in (p for p in d.procedures if p.to is not None):
        drawn, lane = _svg_moves(xs, p, top, lane, g)
        parts += drawn
    return parts, lane + 40


def _svg_loops(d: Diagram, xs: dict, loops: list[ProcView], top: float, g: _Geom) -> list[str]:
    parts, used = [], {s: 0 for s, _ in d.stages}
    for p in loops:
        for s in p.sources:
            used[s] += 1
            y = top - 4 - 18 * (used[s] - 1)
            parts.append(_text(xs[s] + g.stage_w / 2, y - 4, f"{p.label} ({d.words['stays']})", size=11,
                               anchor="middle"))
    return parts


def _svg_moves(xs: dict, p: ProcView, top: float, lane: float, g: _Geom) -> tuple[list[str], float]:
    parts = []
    for s in p.sources:
        a, b = xs[s], xs[p.to]
        if p.main and b > a and b - a <= g.stage_w + g.gap + 1:
            y = top + STAGE_H / 2
            parts.append(f"<line x1='{a + g.stage_w:.0f}' y1='{y:.0f}' x2='{b:.0f}' y2='{y:.0f}' stroke='#1d5fa8' "
                         f"stroke-width='2' marker-end='url(#arrow)'/>")
            parts.append(_text((a + g.stage_w + b) / 2, y - 8, p.label, size=11, anchor="middle"))
            continue
        lane += 22
        parts += _arc(a + g.stage_w / 2, b + g.stage_w / 2, top + STAGE_H, lane, p.label, p.main)
    return parts, lane


def _arc(x1: float, x2: float, y0: float, y: float, label: str, main: bool) -> list[str]:
    colour, dash = ("#1d5fa8", "") if main else ("#a0522d", " stroke-dasharray='5 3'")
    path = f"M {x1:.0f} {y0:.0f} L {x1:.0f} {y:.0f} L {x2:.0f} {y:.0f} L {x2:.0f} {y0 + 2:.0f}"
    return [f"<path d='{path}' fill='none' stroke='{colour}'{dash} marker-end='url(#arrow)'/>",
            _text(min(x1, x2) + abs(x2 - x1) / 2, y - 4, label, size=11, anchor="middle")]


def _box(x: float, y: float, w: float, h: float, lines: list[str], fill: str, rx: int = 4) -> str:
    """A box with its first line in bold and the others clipped to its width (the whole text on hover)."""
    texts = [_text(x + 8, y + 18 + i * LINE, line if i == 0 else _clip(line, w - 14), size=13 if i == 0 else 11,
                   bold=i == 0) for i, line in enumerate(lines)]
    hover = f"<title>{escape(chr(10).join(lines))}</title>"
    rect = f"<rect x='{x:.0f}' y='{y:.0f}' width='{w:.0f}' height='{h:.0f}' rx='{rx}' fill='{fill}' stroke='#555'/>"
    return "<g>" + hover + rect + "".join(texts) + "</g>"


def _clip(text: str, room: float) -> str:
    if _px(text) <= room:
        return text
    kept, used = [], _px("…")
    for ch in text:
        used += _px(ch)
        if used > room:
            break
        kept.append(ch)
    return "".join(kept) + "…"


def _svg_procedure(w: dict, p: ProcView, y: float, g: _Geom) -> tuple[list[str], float]:
    boxes = [_step_box(w, s) for s in p.steps]
    height = 12 + LINE * max(len(b) for b in boxes)
    parts = [_text(20, y + 16, f"{p.label} ({p.key})", size=14, bold=True)]
    parts += [_text(20, y + 34 + i * LINE, f"{w['deadlines']}: {x}", size=11) for i, x in enumerate(p.deadlines)]
    top = y + 28 + LINE * len(p.deadlines)
    for i, box in enumerate(boxes):
        x = 20 + i * (g.step_w + STEP_GAP)
        parts.append(_box(x, top, g.step_w, height, box, "#fffbe6" if p.steps[i].notice else "#f4f4f4"))
        if i:
            parts.append(f"<line x1='{x - STEP_GAP:.0f}' y1='{top + height / 2:.0f}' x2='{x:.0f}' "
                         f"y2='{top + height / 2:.0f}' stroke='#444' marker-end='url(#arrow)'/>")
    return parts, top + height + 16
