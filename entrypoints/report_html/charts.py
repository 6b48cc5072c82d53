"""Charts as inline SVG, drawn on the server: the HTML report and the supervisor's assessment page
draw the same charts with this code, and neither needs a script or the network to show them.

Each bar is a `<rect class="bar">`, each point of a line a `<circle class="point">`; sizes are in
the viewBox's units, so a chart shrinks to a phone's width. The viewBox is about a phone's width
(WIDTH): on a phone a chart is drawn near its own size and its text stays readable (drawn 640 wide,
it shrank to half and its labels to 6 px); a wider screen's page caps it (MAX_SHOWN, in its CSS).
Colours are SVG attributes (a page whose CSP forbids inline styles shows them too)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from markupsafe import Markup, escape

WIDTH, ROW, LABEL_W, VALUE_W = 340, 24, 116, 58
MAX_SHOWN = 440            # px: the widest a page shows a chart (its text at about 1.3 times its size)
LABEL_ROOM = LABEL_W - 8   # units a bar's label may take, drawn at 12: a Chinese character 12, another about 7
BAR, THRESHOLD, LINE, MUTED, LINK = "#2f6f9f", "#b00020", "#2f6f9f", "#666", "#0b5cad"   # LINK: app.css's


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None          # None: not recorded (no bar, the text says so)
    text: str                    # the value as shown beside the bar
    alarm: bool = False          # drawn in the alarm colour (above a threshold, failing)
    link: str | None = None      # the list behind the bar (a page's chart; the offline report has none)


def _svg(name: str, title: str, height: int, body: list[str], role: str = "img") -> Markup:
    """A chart; its `role` "group" when it holds links (an image's parts are hidden from a screen reader)."""
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="svg-chart" data-chart="{escape(name)}" role="{role}" '
            f'viewBox="0 0 {WIDTH} {height}" width="100%" preserveAspectRatio="xMinYMin meet">'
            f'<title>{escape(title)}</title>')
    return Markup(head + "".join(body) + "</svg>")


def _empty(name: str, title: str, none_text: str) -> Markup:
    return _svg(name, title, 40, [f'<text x="8" y="24" fill="{MUTED}" font-size="14">{escape(none_text)}</text>'])


def bar_chart(name: str, title: str, bars: Sequence[Bar], none_text: str, *, top: float | None = None,
              threshold: float | None = None, threshold_label: str | None = None) -> Markup:
    """Horizontal bars, one row each, scaled to `top` (default: the largest value); a dashed
    vertical line at `threshold`, named by `threshold_label` under the bars."""
    if not bars:
        return _empty(name, title, none_text)
    scale = top or max([b.value for b in bars if b.value is not None] + [threshold or 0, 1e-9])
    span = WIDTH - LABEL_W - VALUE_W
    body = [_bar_row(i, b, span, scale) for i, b in enumerate(bars)]
    rows = ROW * len(bars) + 8
    height = rows + (16 if threshold is not None and threshold_label else 0)
    if threshold is not None:
        x = LABEL_W + span * min(threshold / scale, 1)
        body.append(f'<line class="threshold" x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{rows}" stroke="{THRESHOLD}" '
                    f'stroke-dasharray="4 3" stroke-width="1.5"/>')
        if threshold_label:
            body.append(f'<text class="threshold-label" x="{x:.1f}" y="{rows + 12}" text-anchor="middle" '
                        f'font-size="11" fill="{THRESHOLD}">{escape(threshold_label)}</text>')
    return _svg(name, title, height, body, "group" if any(b.link for b in bars) else "img")


def _bar_row(i: int, b: Bar, span: float, scale: float) -> str:
    y = i * ROW + 4
    look = f'fill="{LINK}" text-decoration="underline"' if b.link else 'fill="#111"'
    label = (f'<text x="{LABEL_W - 5}" y="{y + 14}" text-anchor="end" font-size="12" {look}>'
             f'{escape(short_label(b.label))}</text>')
    width = 0.0 if b.value is None else max(span * min(b.value / scale, 1), 0)
    rect = (f'<rect class="bar" x="{LABEL_W}" y="{y + 2}" width="{width:.1f}" height="{ROW - 8}" '
            f'fill="{THRESHOLD if b.alarm else BAR}"><title>{escape(b.label)}: {escape(b.text)}</title></rect>')
    value = (f'<text x="{LABEL_W + width + 4:.1f}" y="{y + 14}" font-size="11" fill="{MUTED}">'
             f'{escape(b.text)}</text>')
    row = label + (rect if b.value is not None else "") + value
    if not b.link:
        return row
    hit = f'<rect x="0" y="{y}" width="{WIDTH}" height="{ROW}" fill="transparent"/>'    # the whole row is the link
    return f'<a class="bar-link" href="{escape(b.link)}">{hit}{row}</a>'


def short_label(text: str, room: float = LABEL_ROOM) -> str:
    """The label within `room` units at font size 12 (a CJK character 12 wide, another about 7), else
    cut where it and a "…" (12) fit."""
    widths = [12 if char >= "\u2e80" else 7 for char in text]
    if sum(widths) <= room:
        return text
    used, kept = 12, 0
    while kept < len(text) and used + widths[kept] <= room:
        used += widths[kept]
        kept += 1
    return text[:kept] + "…"


def line_chart(name: str, title: str, labels: Sequence[str], values: Sequence[float], none_text: str, *,
               target: float | None = None, shown: Callable[[float], str] = lambda v: f"{v:g}",
               target_label: str | None = None) -> Markup:
    """A line through one point per label (e.g. months), from 0 up; fewer values than labels: the
    line stops at the last value (the months of a year still to come are labelled, not drawn); a
    dashed line at `target`, named by `target_label` above it."""
    if not values:
        return _empty(name, title, none_text)
    height, left, bottom, top_pad = 180, 34, 26, 14
    top = max(list(values) + [target or 0, 1])
    step = (WIDTH - left - 14) / max(len(labels) - 1, 1)
    y_of = lambda v: top_pad + (height - bottom - top_pad) * (1 - v / top)   # noqa: E731
    points = [(left + i * step, y_of(v)) for i, v in enumerate(values)]
    body = [f'<line x1="{left}" y1="{height - bottom}" x2="{WIDTH - 14}" y2="{height - bottom}" stroke="{MUTED}"/>',
            f'<text x="{left - 4}" y="{top_pad + 4}" text-anchor="end" font-size="11" fill="{MUTED}">'
            f'{escape(shown(top))}</text>',
            f'<polyline fill="none" stroke="{LINE}" stroke-width="2" points="'
            + " ".join(f"{x:.1f},{y:.1f}" for x, y in points) + '"/>']
    body += [f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{LINE}"><title>{escape(lab)}: '
             f'{escape(shown(v))}</title></circle>' for (x, y), lab, v in zip(points, labels, values)]
    body += [f'<text x="{left + i * step:.1f}" y="{height - bottom + 15}" text-anchor="middle" font-size="10" '
             f'fill="{MUTED}">{escape(lab)}</text>' for i, lab in enumerate(labels)]
    if target is not None:
        body.append(f'<line class="target" x1="{left}" y1="{y_of(target):.1f}" x2="{WIDTH - 14}" '
                    f'y2="{y_of(target):.1f}" stroke="{THRESHOLD}" stroke-dasharray="4 3"/>')
        if target_label:
            body.append(f'<text class="target-label" x="{WIDTH - 14}" y="{y_of(target) - 4:.1f}" text-anchor="end" '
                        f'font-size="11" fill="{THRESHOLD}">{escape(target_label)}</text>')
    return _svg(name, title, height, body)
