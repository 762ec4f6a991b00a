"""Trend charts: one questionnaire's scores over a course, drawn as server-side SVG.

`trend_chart` is a pure function: the same scores give the same bytes. The
SVG shows the instrument's severity bands as background, a line through the
scores, a mark on each dosing-session date, labelled axes, and a <title> and
<desc> for screen readers; the rows for the accessible table beside it come
with it. There is no style attribute anywhere (the Content-Security-Policy
forbids them): colours come from presentation attributes, which the classes
in `static/css/app.css` refine, and every text goes through ElementTree,
which escapes it.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from journal.clinical.instruments import Band, Instrument
from journal.core.definitions import SLUG

SVG_NS = "http://www.w3.org/2000/svg"
WIDTH = 640
HEIGHT = 300
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 28, 44  # margins around the plot area
INSET = 14  # keeps the first and last points off the plot's edges
TONES = 5  # CSS classes chart-band-1 .. chart-band-5, light to strong
BAND_FILLS = ("#e7f1ee", "#eef0dc", "#f6ead6", "#f6dfd3", "#f1d3d3")


@dataclass(frozen=True)
class ScorePoint:
    """One completed questionnaire: its day and total; `flagged` if it raised a flag."""

    day: date
    total: int
    flagged: bool = False


@dataclass(frozen=True)
class ChartRow:
    """One row of the table beside the chart."""

    day: date
    total: int
    max_score: int
    band: str
    flagged: bool


@dataclass(frozen=True)
class SessionMark:
    number: int  # 1-based, in date order
    day: date


@dataclass(frozen=True)
class TrendChart:
    svg: str
    title: str
    description: str
    rows: tuple[ChartRow, ...]
    sessions: tuple[SessionMark, ...]


def _num(value: float) -> str:
    """Coordinates with one decimal: stable across platforms, small output."""
    text = f"{value:.1f}"
    return "0.0" if text == "-0.0" else text


class _Geometry:
    def __init__(self, low: int, high: int, days: Sequence[date]) -> None:
        self.low, self.high = low, high
        self.x0, self.x1 = LEFT, WIDTH - RIGHT
        self.y_top, self.y_bottom = TOP, HEIGHT - BOTTOM
        self.first = min(days) if days else None
        self.last = max(days) if days else None

    def y(self, score: float) -> float:
        span = self.high - self.low
        return self.y_bottom - (score - self.low) / span * (self.y_bottom - self.y_top)

    def x(self, day: date) -> float:
        assert self.first is not None and self.last is not None
        left, right = self.x0 + INSET, self.x1 - INSET
        if self.first == self.last:
            return (left + right) / 2
        return left + (day - self.first).days / (self.last - self.first).days * (right - left)


def _tone(index: int, count: int) -> int:
    """Spread `count` bands over the TONES classes, first lightest, last strongest."""
    if count == 1:
        return 1
    return 1 + round(index * (TONES - 1) / (count - 1))


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {k.replace("_", "-"): v for k, v in attrs.items()})
    if text is not None:
        element.text = text
    return element


def _band_extent(band: Band, low: int, high: int) -> tuple[float, float]:
    """A band's scores as a continuous range: 5-9 covers 4.5 to 9.5, clipped to the scale."""
    return max(low, band.min - 0.5), min(high, band.max + 0.5)


def trend_chart(
    instrument: Instrument,
    points: Sequence[ScorePoint],
    session_days: Sequence[date] = (),
    *,
    chart_id: str = "trend",
) -> TrendChart:
    """The SVG and the table rows for one instrument's scores over a course.

    Points are drawn in date order (points on the same day keep the order
    given). Scores outside the instrument's range are refused with ValueError:
    they cannot come from `instruments.score`.
    """
    if not SLUG.match(chart_id):
        raise ValueError(f"chart_id {chart_id!r} must be a simple lowercase id")
    low, high = instrument.min_score, instrument.max_score
    for p in points:
        if not low <= p.total <= high:
            raise ValueError(f"score {p.total} is outside {instrument.short_title}'s {low}-{high}")
    ordered = sorted(points, key=lambda p: p.day)
    sessions = tuple(SessionMark(n, d) for n, d in enumerate(sorted(session_days), start=1))
    rows = tuple(
        ChartRow(p.day, p.total, high, instrument.band_for(p.total).label, p.flagged)
        for p in ordered
    )
    title = f"{instrument.short_title} scores over the course"
    description = _describe(instrument, rows, sessions)
    geo = _Geometry(low, high, [p.day for p in ordered] + [s.day for s in sessions])

    title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"
    svg = ET.Element(
        "svg",
        {
            "xmlns": SVG_NS,
            "viewBox": f"0 0 {WIDTH} {HEIGHT}",
            "class": "trend-chart",
            "role": "img",
            "aria-labelledby": f"{title_id} {desc_id}",
            "font-size": "12",
        },
    )
    _sub(svg, "title", title, id=title_id)
    _sub(svg, "desc", description, id=desc_id)
    _draw_bands(svg, instrument, geo)
    _draw_axes(svg, instrument, geo)
    _draw_sessions(svg, sessions, geo)
    _draw_scores(svg, rows, geo)
    if not rows:
        _sub(
            svg,
            "text",
            "No scores yet",
            x=_num((geo.x0 + geo.x1) / 2),
            y=_num((geo.y_top + geo.y_bottom) / 2),
            text_anchor="middle",
            fill="#55615f",
            **{"class": "chart-empty"},
        )
    ET.indent(svg, space="")
    return TrendChart(ET.tostring(svg, encoding="unicode"), title, description, rows, sessions)


def _describe(
    instrument: Instrument, rows: Sequence[ChartRow], sessions: Sequence[SessionMark]
) -> str:
    name = instrument.short_title
    marked = (
        f" {len(sessions)} dosing session{'s' if len(sessions) != 1 else ''} marked."
        if sessions
        else ""
    )
    if not rows:
        return f"No {name} scores yet.{marked}"
    latest = rows[-1]
    span = (
        f"on {rows[0].day.isoformat()}"
        if rows[0].day == latest.day
        else f"from {rows[0].day.isoformat()} to {latest.day.isoformat()}"
    )
    count = f"{len(rows)} score{'s' if len(rows) != 1 else ''}"
    return (
        f"{name}: {count} {span}, on a scale of {instrument.min_score} to "
        f"{instrument.max_score}. Latest {latest.total} ({latest.band}).{marked}"
    )


def _draw_bands(svg: ET.Element, instrument: Instrument, geo: _Geometry) -> None:
    group = _sub(svg, "g", **{"class": "chart-bands"})
    count = len(instrument.bands)
    for index, band in enumerate(instrument.bands):
        bottom, top = _band_extent(band, geo.low, geo.high)
        y_top, y_bottom = geo.y(top), geo.y(bottom)
        tone = _tone(index, count)
        rect = _sub(
            group,
            "rect",
            x=_num(geo.x0),
            y=_num(y_top),
            width=_num(geo.x1 - geo.x0),
            height=_num(y_bottom - y_top),
            fill=BAND_FILLS[tone - 1],
            data_min=str(band.min),
            data_max=str(band.max),
            **{"class": f"chart-band chart-band-{tone}"},
        )
        _sub(rect, "title", f"{band.label}: {band.min} to {band.max}")
        if y_bottom - y_top >= 14:
            _sub(
                group,
                "text",
                band.label,
                x=_num(geo.x1 - 6),
                y=_num(y_top + 12),
                text_anchor="end",
                fill="#55615f",
                **{"class": "chart-band-label"},
            )


def _draw_axes(svg: ET.Element, instrument: Instrument, geo: _Geometry) -> None:
    group = _sub(svg, "g", **{"class": "chart-axes"})
    _sub(
        group,
        "line",
        x1=_num(geo.x0),
        y1=_num(geo.y_top),
        x2=_num(geo.x0),
        y2=_num(geo.y_bottom),
        stroke="#55615f",
        **{"class": "chart-axis chart-axis-y"},
    )
    _sub(
        group,
        "line",
        x1=_num(geo.x0),
        y1=_num(geo.y_bottom),
        x2=_num(geo.x1),
        y2=_num(geo.y_bottom),
        stroke="#55615f",
        **{"class": "chart-axis chart-axis-x"},
    )
    ticks = sorted({geo.low, geo.high} | {b.min for b in instrument.bands})
    for value in ticks:
        _sub(
            group,
            "text",
            str(value),
            x=_num(geo.x0 - 6),
            y=_num(geo.y(value) + 4),
            text_anchor="end",
            fill="#55615f",
            **{"class": "chart-tick chart-tick-y"},
        )
    middle = (geo.y_top + geo.y_bottom) / 2
    _sub(
        group,
        "text",
        "Score",
        x="14",
        y=_num(middle),
        text_anchor="middle",
        transform=f"rotate(-90 14 {_num(middle)})",
        fill="#55615f",
        **{"class": "chart-axis-label"},
    )
    if geo.first is not None and geo.last is not None:
        days = [geo.first] if geo.first == geo.last else [geo.first, geo.last]
        anchors = ["middle"] if len(days) == 1 else ["start", "end"]
        for day, anchor in zip(days, anchors, strict=True):
            x = geo.x(day) if len(days) == 1 else (geo.x0 if anchor == "start" else geo.x1)
            _sub(
                group,
                "text",
                day.isoformat(),
                x=_num(x),
                y=_num(geo.y_bottom + 16),
                text_anchor=anchor,
                fill="#55615f",
                **{"class": "chart-tick chart-tick-x"},
            )
    _sub(
        group,
        "text",
        "Date",
        x=_num((geo.x0 + geo.x1) / 2),
        y=_num(HEIGHT - 6),
        text_anchor="middle",
        fill="#55615f",
        **{"class": "chart-axis-label"},
    )


def _draw_sessions(svg: ET.Element, sessions: Sequence[SessionMark], geo: _Geometry) -> None:
    group = _sub(svg, "g", **{"class": "chart-sessions"})
    for mark in sessions:
        x = _num(geo.x(mark.day))
        marker = _sub(
            group,
            "g",
            data_day=mark.day.isoformat(),
            **{"class": "chart-session"},
        )
        _sub(marker, "title", f"Dosing session {mark.number}: {mark.day.isoformat()}")
        _sub(
            marker,
            "line",
            x1=x,
            y1=_num(geo.y_top),
            x2=x,
            y2=_num(geo.y_bottom),
            stroke="#6a5acd",
            stroke_dasharray="4 3",
            **{"class": "chart-session-line"},
        )
        _sub(
            marker,
            "text",
            f"S{mark.number}",
            x=x,
            y=_num(geo.y_top - 8),
            text_anchor="middle",
            fill="#6a5acd",
            **{"class": "chart-session-label"},
        )


def _draw_scores(svg: ET.Element, rows: Sequence[ChartRow], geo: _Geometry) -> None:
    group = _sub(svg, "g", **{"class": "chart-scores"})
    coords = [(geo.x(r.day), geo.y(r.total)) for r in rows]
    if len(coords) > 1:
        _sub(
            group,
            "polyline",
            points=" ".join(f"{_num(x)},{_num(y)}" for x, y in coords),
            fill="none",
            stroke="#2f6f6a",
            stroke_width="2",
            **{"class": "chart-line"},
        )
    for row, (x, y) in zip(rows, coords, strict=True):
        css = "chart-point chart-point-flagged" if row.flagged else "chart-point"
        point = _sub(
            group,
            "circle",
            cx=_num(x),
            cy=_num(y),
            r="6" if row.flagged else "4",
            fill="#a12b2b" if row.flagged else "#2f6f6a",
            data_score=str(row.total),
            data_day=row.day.isoformat(),
            **{"class": css},
        )
        flagged = ", flagged" if row.flagged else ""
        _sub(point, "title", f"{row.day.isoformat()}: {row.total} ({row.band}){flagged}")
