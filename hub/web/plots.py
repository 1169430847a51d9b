"""Plots the console draws on the server as inline SVG: a time series, a histogram and horizontal bars.

No JavaScript and no chart library: the page works with scripts off and the
Content-Security-Policy stays as it is. Each plot is an ``<svg role="img">``
labelled by its ``<title>`` and described by its ``<desc>`` (the numbers in a
sentence), with axis labels and a ``<title>`` on every mark for a pointer's
tooltip; the page puts the same numbers in a table next to it. Every text
that came from a model or the journal is escaped here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from itertools import count

from markupsafe import Markup

__all__ = ["Mark", "bars", "histogram", "time_series"]

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 12, 44
_ids = count(1)


@dataclass(frozen=True, slots=True)
class Mark:
    label: str  # the x label (a day, a bin, an element)
    value: float
    tip: str  # what a pointer over the mark shows


def _svg(kind: str, title: str, desc: str, body: list[str], height: int = HEIGHT) -> Markup:
    n = next(_ids)
    return Markup(
        f'<svg class="plot plot-{kind}" role="img" viewBox="0 0 {WIDTH} {height}" width="100%" '
        f'aria-labelledby="plot-{n}-title plot-{n}-desc" data-plot="{kind}" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="plot-{n}-title">{escape(title)}</title><desc id="plot-{n}-desc">{escape(desc)}</desc>'
        + "".join(body) + "</svg>")


def _axes(x_label: str, y_label: str, top: float) -> list[str]:
    bottom = HEIGHT - BOTTOM
    return [
        f'<line class="axis" x1="{LEFT}" y1="{bottom}" x2="{WIDTH - RIGHT}" y2="{bottom}"/>',
        f'<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{bottom}"/>',
        f'<text class="tick" x="{LEFT - 4}" y="{TOP + 4}" text-anchor="end">{escape(_number(top))}</text>',
        f'<text class="tick" x="{LEFT - 4}" y="{bottom}" text-anchor="end">0</text>',
        f'<text class="axis-label" x="{(LEFT + WIDTH - RIGHT) / 2}" y="{HEIGHT - 4}" text-anchor="middle">'
        f"{escape(x_label)}</text>",
        f'<text class="axis-label" x="12" y="{(TOP + bottom) / 2}" text-anchor="middle" '
        f'transform="rotate(-90 12 {(TOP + bottom) / 2})">{escape(y_label)}</text>',
    ]


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"


def _ends(marks: Sequence[Mark], step: float, x0: float) -> list[str]:
    """The first and last x labels (more would collide on a long series)."""
    if not marks:
        return []
    y = HEIGHT - BOTTOM + 14
    found = [f'<text class="tick" x="{x0}" y="{y}" text-anchor="start">{escape(marks[0].label)}</text>']
    if len(marks) > 1:
        found.append(f'<text class="tick" x="{x0 + step * (len(marks) - 1)}" y="{y}" text-anchor="end">'
                     f"{escape(marks[-1].label)}</text>")
    return found


def time_series(title: str, marks: Sequence[Mark], *, x_label: str, y_label: str) -> Markup:
    """A line over equally spaced points (days), each point with its tooltip."""
    top = max([m.value for m in marks] + [1])
    inner_w, inner_h = WIDTH - LEFT - RIGHT - 8, HEIGHT - TOP - BOTTOM
    step = inner_w / max(1, len(marks) - 1)
    x0 = LEFT + 4
    points = [(x0 + i * step, HEIGHT - BOTTOM - m.value / top * inner_h) for i, m in enumerate(marks)]
    body = _axes(x_label, y_label, top)
    if len(points) > 1:
        body.append('<polyline class="series" fill="none" points="'
                    + " ".join(f"{x:.1f},{y:.1f}" for x, y in points) + '"/>')
    body += [f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="3"><title>{escape(m.tip)}</title></circle>'
             for (x, y), m in zip(points, marks, strict=True)]
    body += _ends(marks, step, x0)
    desc = "; ".join(m.tip for m in marks[-31:]) or "no data"
    return _svg("time-series", title, desc, body)


def histogram(title: str, marks: Sequence[Mark], *, x_label: str, y_label: str) -> Markup:
    """Adjacent bars of equal width (the bins), each with its tooltip."""
    top = max([m.value for m in marks] + [1])
    inner_w, inner_h = WIDTH - LEFT - RIGHT - 8, HEIGHT - TOP - BOTTOM
    step = inner_w / max(1, len(marks))
    x0 = LEFT + 4
    body = _axes(x_label, y_label, top)
    for i, m in enumerate(marks):
        h = m.value / top * inner_h
        body.append(f'<rect class="bar" x="{x0 + i * step + 1:.1f}" y="{HEIGHT - BOTTOM - h:.1f}" '
                    f'width="{max(1.0, step - 2):.1f}" height="{h:.1f}"><title>{escape(m.tip)}</title></rect>')
    body += _ends(marks, step, x0)
    return _svg("histogram", title, "; ".join(m.tip for m in marks) or "no data", body)


def bars(title: str, marks: Sequence[Mark]) -> Markup:
    """One horizontal bar per mark, largest first as given, with its label on the left and its tip on the right."""
    row, label_w = 22, 180
    height = TOP + row * max(1, len(marks)) + 8
    top = max([m.value for m in marks] + [1])
    body = [] if marks else [f'<text class="tick" x="{LEFT}" y="{TOP + 14}">No element took any time yet.</text>']
    for i, m in enumerate(marks):
        y = TOP + i * row
        w = m.value / top * (WIDTH - label_w - 200)
        body += [f'<text class="tick" x="{label_w - 6}" y="{y + 14}" text-anchor="end">{escape(m.label[:28])}</text>',
                 f'<rect class="bar" x="{label_w}" y="{y + 3}" width="{max(1.0, w):.1f}" height="{row - 6}">'
                 f"<title>{escape(m.tip)}</title></rect>",
                 f'<text class="tick" x="{label_w + w + 6:.1f}" y="{y + 14}">{escape(m.tip[:40])}</text>']
    return _svg("bars", title, "; ".join(f"{m.label}: {m.tip}" for m in marks) or "no data", body, height)
