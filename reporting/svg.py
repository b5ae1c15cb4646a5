"""Tiny server-drawn SVG charts (bar and line) for PDFs: no JavaScript, every label escaped."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 720, 220
LEFT, RIGHT, TOP, BOTTOM = 64, 12, 12, 48
BAR_COLOUR, LINE_COLOUR, AXIS_COLOUR = "#3b6ea5", "#c0504d", "#888888"


def _text(value: str, limit: int = 18) -> str:
    value = value if len(value) <= limit else value[: limit - 1] + "…"
    return escape(value, quote=True)


def _scale(values: Sequence[float]) -> tuple[float, float]:
    low = min(0.0, *values) if values else 0.0
    high = max(0.0, *values) if values else 0.0
    if high == low:
        high = low + 1.0
    return low, high


def _frame(title: str, body: list[str], low: float, high: float) -> SafeString:
    plot_h = HEIGHT - TOP - BOTTOM
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title, quote=True)}">',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="{AXIS_COLOUR}"/>',
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" stroke="{AXIS_COLOUR}"/>',
    ]
    for fraction in (0.0, 0.5, 1.0):
        value = low + (high - low) * fraction
        y = TOP + plot_h * (1 - fraction)
        parts.append(
            f'<text x="{LEFT - 4}" y="{y + 3:.1f}" font-size="9" text-anchor="end" fill="#444">{value:,.0f}</text>'
        )
    parts.extend(body)
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated label went through escape()


def bar_chart(labels: Sequence[str], values: Sequence[float], *, title: str) -> SafeString:
    low, high = _scale(values)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(values), 1)
    body = []
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = LEFT + index * slot + slot * 0.15
        y = TOP + plot_h * ((high - max(value, 0.0)) / (high - low))
        height = abs(value) / (high - low) * plot_h
        body.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{height:.1f}" fill="{BAR_COLOUR}"/>')
        cx = LEFT + index * slot + slot / 2
        body.append(
            f'<text x="{cx:.1f}" y="{HEIGHT - BOTTOM + 12}" font-size="8" text-anchor="end" '
            f'transform="rotate(-35 {cx:.1f} {HEIGHT - BOTTOM + 12})" fill="#444">{_text(label)}</text>'
        )
    return _frame(title, body, low, high)


def line_chart(labels: Sequence[str], values: Sequence[float], *, title: str) -> SafeString:
    low, high = _scale(values)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(values) - 1, 1)
    points = [
        (LEFT + index * step, TOP + plot_h * ((high - value) / (high - low))) for index, value in enumerate(values)
    ]
    body = []
    if points:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        body.append(f'<polyline points="{path}" fill="none" stroke="{LINE_COLOUR}" stroke-width="1.5"/>')
    every = max(1, len(labels) // 8)
    for index, label in enumerate(labels):
        if index % every == 0 or index == len(labels) - 1:
            x = points[index][0]
            body.append(
                f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 14}" font-size="8" text-anchor="middle" fill="#444">'
                f"{_text(label, 12)}</text>"
            )
    return _frame(title, body, low, high)
