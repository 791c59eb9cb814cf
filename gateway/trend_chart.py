"""Trend charts drawn on the server as inline SVG: no JavaScript, and the text alternative states every value.

``trend_svg`` is pure: points in, markup out. Each point is ``(ISO date, (value, ...))``; a point with two
values (blood pressure's systolic and diastolic) draws two lines. The normal range is a shaded band behind
them. The chart is an image to assistive technology (``role="img"``) named by its words, which say each value
and its date, so nothing is told by shape or colour alone (WCAG 2.1 1.1.1, 1.4.1).
"""

import datetime as dt
from html import escape

PAD = 4  # room for a point's dot at the edges
LABEL_ROOM = 18  # above the highest point, for its value written over it


def _n(number):
    """A coordinate with one decimal at most: "12", "6.7"."""
    text = f"{number:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _value(number):
    return f"{number:g}"


def _days(iso):
    return dt.date.fromisoformat(iso[:10]).toordinal()


def words(points, label, unit="", range_text="", day_words=None):
    """The chart's text alternative: "HbA1c: 7.6 % on 2026-04-20, 8.1 % on 2026-10-16. Normal range: up to 5.6 %."."""
    day_words = day_words or (lambda iso: iso[:10])
    said = ", ".join(
        f"{'/'.join(_value(v) for v in values)}{' ' + unit if unit else ''} on {day_words(iso)}"
        for iso, values in points
    )
    return f"{label}: {said}." + (f" Normal range: {range_text}." if range_text else "")


def _scale(points, band):
    numbers = [v for _, values in points for v in values] + [b for b in band if b is not None]
    low, high = min(numbers), max(numbers)
    margin = (high - low) * 0.1 or 1
    return low - margin, high + margin


def trend_svg(
    points, label, unit="", band=(None, None), range_text="", width=240, height=64, day_words=None, labels=False
):
    """An inline ``<svg>`` of ``points`` (sorted here by date) with the normal range ``band`` (low, high) shaded;
    with ``labels`` each reading is written over its highest dot."""
    points = sorted(points, key=lambda p: p[0])
    alt = escape(words(points, label, unit, range_text, day_words))
    low, high = _scale(points, band)
    first, last = _days(points[0][0]), _days(points[-1][0])

    def x(iso):
        if last == first:
            return width / 2
        return PAD + (_days(iso) - first) / (last - first) * (width - 2 * PAD)

    top_pad = LABEL_ROOM if labels else PAD

    def y(value):
        return height - PAD - (value - low) / (high - low) * (height - PAD - top_pad)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="trend" role="img" aria-label="{alt}"'
        f' width="{width}" height="{height}" viewBox="0 0 {width} {height}"><title>{alt}</title>'
    ]
    band_low, band_high = band
    if band_low is not None or band_high is not None:
        top = y(band_high) if band_high is not None else 0
        bottom = y(band_low) if band_low is not None else height
        shade = f'x="0" y="{_n(top)}" width="{width}" height="{_n(bottom - top)}"'
        parts.append(f'<rect class="trend-range" fill="#dcefe0" {shade}/>')
    for line in range(max(len(values) for _, values in points)):
        drawn = [(x(iso), y(values[line])) for iso, values in points if len(values) > line]
        coords = " ".join(f"{_n(px)},{_n(py)}" for px, py in drawn)
        parts.append(f'<polyline class="trend-line" fill="none" stroke="currentColor" points="{coords}"/>')
        parts += [f'<circle class="trend-point" cx="{_n(px)}" cy="{_n(py)}" r="2.5"/>' for px, py in drawn]
    if labels:
        for n, (iso, values) in enumerate(points):
            anchor = "start" if n == 0 and len(points) > 1 else "end" if n == len(points) - 1 and n else "middle"
            text = escape("/".join(_value(v) for v in values))
            where = f'x="{_n(x(iso))}" y="{_n(y(max(values)) - 7)}" text-anchor="{anchor}"'
            parts.append(f'<text class="trend-value" {where} font-size="14" fill="currentColor">{text}</text>')
    parts.append("</svg>")
    return "".join(parts)
