"""A small line chart as inline SVG, drawn on the server: no JavaScript, no request
to another host. The page's CSP forbids ``style`` attributes and ``<style>``, so
every colour and width is an SVG presentation attribute (``stroke="#2f6b3a"``).
A week without a value leaves a gap in its line; every point carries a ``<title>``
(the browser's tooltip, and what a screen reader reads).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from markupsafe import Markup, escape

COLOURS = ("#2f6b3a", "#b5651d", "#1f5f99", "#8e3b8e", "#a08a00", "#4f4f4f")
WIDTH, HEIGHT = 720, 300
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 40
TICKS = 4


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[Decimal | float | None]  # one per x label


def _fmt(value: Decimal | float) -> str:
    return f"{float(value):.2f}".rstrip("0").rstrip(".")


def _scale(series: Sequence[Series]) -> tuple[float, float]:
    """The value range of the y axis, widened to round ticks (1, 2, 2.5 or 5 times a power of ten)."""
    values = [float(v) for s in series for v in s.values if v is not None]
    low, high = min(values), max(values)
    if high == low:
        low, high = max(0.0, low - 1), high + 1
    rough = (high - low) / TICKS
    power = 10 ** math.floor(math.log10(rough))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= rough)
    low = math.floor(low / step) * step
    if low + step * TICKS < high:  # rounding down the bottom pushed the top out: a wider step
        step = next(m * power for m in (2, 2.5, 5, 10, 20) if math.floor(min(values) / (m * power)) * m * power
                    + m * power * TICKS >= high)
        low = math.floor(min(values) / step) * step
    return low, low + step * TICKS


def line_chart(series: Sequence[Series], x_labels: Sequence[str], *, title: str, unit: str = "") -> Markup:
    """``series`` as lines over ``x_labels``; an empty string when nothing has a value."""
    if not x_labels or not any(v is not None for s in series for v in s.values):
        return Markup("")
    low, high = _scale(series)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(x_labels) - 1, 1)

    def x(i: int) -> float:
        return LEFT + i * step if len(x_labels) > 1 else LEFT + plot_w / 2

    def y(value) -> float:
        return TOP + plot_h - (float(value) - low) / (high - low) * plot_h

    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT + 24 * len(series)}" width="100%" role="img" '
             f'aria-label="{escape(title)}" font-size="12" font-family="sans-serif">',
             f"<title>{escape(title)}</title>"]
    parts += _axes(low, high, x_labels, x, y, unit)
    for index, one in enumerate(series):
        parts += _line(one, COLOURS[index % len(COLOURS)], x, y, x_labels, unit)
        parts.append(_legend(index, one.label, COLOURS[index % len(COLOURS)]))
    parts.append("</svg>")
    return Markup("".join(parts))


def _axes(low, high, x_labels, x, y, unit) -> list[str]:
    parts = [f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{HEIGHT - BOTTOM}" stroke="#888" stroke-width="1"/>',
             f'<line x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH - RIGHT}" y2="{HEIGHT - BOTTOM}" '
             f'stroke="#888" stroke-width="1"/>']
    for tick in range(TICKS + 1):
        value = low + (high - low) * tick / TICKS
        ty = y(value)
        parts.append(f'<line x1="{LEFT}" y1="{ty:.1f}" x2="{WIDTH - RIGHT}" y2="{ty:.1f}" stroke="#e3e3e3" '
                     f'stroke-width="1"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{ty + 4:.1f}" text-anchor="end" fill="#333">{_fmt(value)}</text>')
    if unit:
        parts.append(f'<text x="4" y="{TOP - 4}" fill="#333">{escape(unit)}</text>')
    every = max(1, -(-len(x_labels) // 12))  # at most about 12 labels under the axis
    for i, label in enumerate(x_labels):
        if i % every == 0 or i == len(x_labels) - 1:
            parts.append(f'<text x="{x(i):.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" '
                         f'fill="#333">{escape(label)}</text>')
    return parts


def _line(one: Series, colour: str, x, y, x_labels, unit) -> list[str]:
    parts, run = [], []
    for i, value in enumerate(list(one.values) + [None]):
        if value is not None:
            run.append(f"{x(i):.1f},{y(value):.1f}")
            continue
        if len(run) > 1:
            parts.append(f'<polyline points="{" ".join(run)}" fill="none" stroke="{colour}" stroke-width="2"/>')
        run = []
    for i, value in enumerate(one.values):
        if value is not None:
            parts.append(f'<circle cx="{x(i):.1f}" cy="{y(value):.1f}" r="3" fill="{colour}"><title>'
                         f'{escape(one.label)} {escape(x_labels[i])}: {_fmt(value)} {escape(unit)}</title></circle>')
    return parts


def _legend(index: int, label: str, colour: str) -> str:
    top = HEIGHT + 24 * index
    return (f'<rect x="{LEFT}" y="{top}" width="14" height="14" fill="{colour}"/>'
            f'<text x="{LEFT + 20}" y="{top + 12}" fill="#333">{escape(label)}</text>')
