"""Trend charts: one questionnaire's scores over a course, drawn as server-side SVG.

`trend_chart` is a pure function: the same scores give the same bytes. It draws
the chart twice, for a wide column and for a phone (a narrower drawing whose text
stays at least 12 px on a 360 px screen; the page shows one or the other). The
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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from babel.dates import format_date

from journal.clinical.instruments import Band, Instrument
from journal.core.definitions import SLUG
from journal.core.labels import N_

# The chart's own words in the reader's language (the web's `translate`, an export's
# `Words`); a date as that language writes it. English by default.
WordsOf = Callable[[str], str]
DayOf = Callable[[date], str]

SVG_NS = "http://www.w3.org/2000/svg"
WIDTH = 640
HEIGHT = 300
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 28, 44  # margins around the plot area
INSET = 14  # keeps the first and last points off the plot's edges
LABEL_GAP = 4  # user units between a session's label and its neighbour's
TONES = 5  # CSS classes chart-band-1 .. chart-band-5, light to strong
BAND_FILLS = ("#e7f1ee", "#eef0dc", "#f6ead6", "#f6dfd3", "#f1d3d3")


@dataclass(frozen=True)
class ScorePoint:
    """One completed questionnaire: its day and total; `flagged` if it raised a flag."""

    day: date
    total: float  # a whole number for a summed score; two decimals for a mean
    flagged: bool = False


@dataclass(frozen=True)
class ChartRow:
    """One row of the table beside the chart."""

    day: date
    total: float
    max_score: float
    band: str
    flagged: bool


@dataclass(frozen=True)
class SessionMark:
    number: int  # 1-based, in date order
    day: date


@dataclass(frozen=True)
class Layout:
    """The drawing's size in user units and its text size. On a phone the narrow one
    is drawn at about its own width, so its text keeps its size."""

    name: str
    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    font: int
    axis_labels: bool  # "Score" and "Date" (the caption and the table say them too)


WIDE = Layout("wide", WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM, 12, True)
NARROW = Layout("narrow", 300, 260, 34, 8, 30, 26, 13, False)


@dataclass(frozen=True)
class TrendChart:
    svg: str
    title: str
    description: str
    rows: tuple[ChartRow, ...]
    sessions: tuple[SessionMark, ...]
    svg_narrow: str = ""  # the same chart drawn for a phone


def day_label(day: date) -> str:
    """A date as the rest of the journal writes it: 19 Nov 2026."""
    return f"{day.day} {day:%b %Y}"


def days_in(language: str) -> DayOf:
    """How a language writes a date on the chart: 19 Nov 2026, 19 nov. 2026."""
    if language == "en":
        return day_label
    return lambda day: str(format_date(day, "d MMM y", locale=language))


def same_words(words: str) -> str:
    return words


def _num(value: float) -> str:
    """Coordinates with one decimal: stable across platforms, small output."""
    text = f"{value:.1f}"
    return "0.0" if text == "-0.0" else text


class _Geometry:
    def __init__(
        self, low: float, high: float, days: Sequence[date], layout: Layout = WIDE
    ) -> None:
        self.low, self.high = low, high
        self.layout = layout
        self.x0, self.x1 = layout.left, layout.width - layout.right
        self.y_top, self.y_bottom = layout.top, layout.height - layout.bottom
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


def _band_extent(band: Band, low: float, high: float, half: float = 0.5) -> tuple[float, float]:
    """A band's scores as a continuous range: 5-9 covers 4.5 to 9.5, clipped to the scale
    (`half` is half a score's step: 0.005 for a mean shown with two decimals)."""
    return max(low, band.min - half), min(high, band.max + half)


def _mean_ticks(instrument: Instrument) -> set[float]:
    """Whole steps along a mean-scored scale (0-5 by 1, 0-100 by 20), so a mean reads
    against the axis; a summed scale keeps only its ends and band starts, as before."""
    if not instrument.mean_scored:
        return set()
    low, high = instrument.min_score, instrument.max_score
    step = next(s for s in (1, 2, 5, 10, 20, 25, 50, 100) if (high - low) / s <= 5)
    return {low + step * n for n in range(int((high - low) // step) + 1)}


def trend_chart(
    instrument: Instrument,
    points: Sequence[ScorePoint],
    session_days: Sequence[date] = (),
    *,
    chart_id: str = "trend",
    words: WordsOf = same_words,
    day: DayOf = day_label,
) -> TrendChart:
    """The SVG and the table rows for one instrument's scores over a course.

    Points are drawn in date order (points on the same day keep the order
    given). Scores outside the instrument's range are refused with ValueError:
    they cannot come from `instruments.score`. `words` puts the chart's words into
    the reader's language (`translate`, `Words`), `day` a date (`days_in`).
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
    title = words(N_("%(title)s scores over the course", title=instrument.short_title))
    said = _Said(words, day)
    description = _describe(instrument, rows, sessions, said)
    days = [p.day for p in ordered] + [s.day for s in sessions]
    drawn = {
        layout.name: _draw(
            instrument, rows, sessions, title, description, chart_id, layout, days, said
        )
        for layout in (WIDE, NARROW)
    }
    return TrendChart(drawn["wide"], title, description, rows, sessions, drawn["narrow"])


@dataclass(frozen=True)
class _Said:
    """The chart's words and dates in the reader's language."""

    words: WordsOf
    day: DayOf


def _draw(
    instrument: Instrument,
    rows: Sequence[ChartRow],
    sessions: Sequence[SessionMark],
    title: str,
    description: str,
    chart_id: str,
    layout: Layout,
    days: Sequence[date],
    said: _Said,
) -> str:
    geo = _Geometry(instrument.min_score, instrument.max_score, days, layout)
    # Ids stay unique on a page that holds both drawings.
    prefix = chart_id if layout is WIDE else f"{chart_id}-{layout.name}"
    title_id, desc_id = f"{prefix}-title", f"{prefix}-desc"
    svg = ET.Element(
        "svg",
        {
            "xmlns": SVG_NS,
            "viewBox": f"0 0 {layout.width} {layout.height}",
            "class": f"trend-chart trend-chart-{layout.name}",
            "role": "img",
            "aria-labelledby": f"{title_id} {desc_id}",
            "font-size": str(layout.font),
        },
    )
    _sub(svg, "title", title, id=title_id)
    _sub(svg, "desc", description, id=desc_id)
    _draw_bands(svg, instrument, geo, said)
    _draw_axes(svg, instrument, geo, said)
    _draw_sessions(svg, sessions, geo, said)
    # Over the session lines, with a halo: a line never runs through a band's name.
    _draw_band_labels(svg, instrument, geo, said)
    _draw_scores(svg, rows, geo, said)
    if not rows:
        _sub(
            svg,
            "text",
            said.words(N_("No scores yet")),
            x=_num((geo.x0 + geo.x1) / 2),
            y=_num((geo.y_top + geo.y_bottom) / 2),
            text_anchor="middle",
            fill="#55615f",
            **{"class": "chart-empty"},
        )
    ET.indent(svg, space="")
    return ET.tostring(svg, encoding="unicode")


def _describe(
    instrument: Instrument, rows: Sequence[ChartRow], sessions: Sequence[SessionMark], said: _Said
) -> str:
    # Counted words come in two sentences, one and more than one: both languages
    # count a single one alike, and neither sentence is written for none.
    w, day, name = said.words, said.day, instrument.short_title
    marked = ""
    if sessions:
        n = len(sessions)
        marked = " " + w(
            N_("%(num)s dosing session marked.", num=n)
            if n == 1
            else N_("%(num)s dosing sessions marked.", num=n)
        )
    if not rows:
        return w(N_("No %(title)s scores yet.", title=name)) + marked
    latest = rows[-1]
    span = w(
        N_("on %(day)s", day=day(rows[0].day))
        if rows[0].day == latest.day
        else N_("from %(start)s to %(end)s", start=day(rows[0].day), end=day(latest.day))
    )
    n = len(rows)
    count = w(N_("%(num)s score", num=n) if n == 1 else N_("%(num)s scores", num=n))
    return (
        w(
            N_(
                "%(title)s: %(count)s %(span)s, on a scale of %(low)s to %(high)s. "
                "Latest %(latest)s (%(band)s).",
                title=name,
                count=count,
                span=span,
                low=instrument.min_score,
                high=instrument.max_score,
                latest=latest.total,
                band=w(latest.band),
            )
        )
        + marked
    )


def _draw_bands(svg: ET.Element, instrument: Instrument, geo: _Geometry, said: _Said) -> None:
    group = _sub(svg, "g", **{"class": "chart-bands"})
    count = len(instrument.bands)
    for index, band in enumerate(instrument.bands):
        bottom, top = _band_extent(band, geo.low, geo.high, instrument.score_step / 2)
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
        w = said.words
        title = N_("%(band)s: %(low)s to %(high)s", band=w(band.label), low=band.min, high=band.max)
        _sub(rect, "title", w(title))


def _draw_band_labels(svg: ET.Element, instrument: Instrument, geo: _Geometry, said: _Said) -> None:
    group = _sub(svg, "g", **{"class": "chart-band-labels"})
    font = geo.layout.font
    for band in instrument.bands:
        bottom, top = _band_extent(band, geo.low, geo.high, instrument.score_step / 2)
        y_top, y_bottom = geo.y(top), geo.y(bottom)
        if y_bottom - y_top >= font + 2:
            _sub(
                group,
                "text",
                said.words(band.label),
                x=_num(geo.x1 - 6),
                y=_num(y_top + font),
                text_anchor="end",
                fill="#55615f",
                stroke="#ffffff",
                stroke_width="3",
                stroke_linejoin="round",
                paint_order="stroke",
                **{"class": "chart-band-label"},
            )


def _draw_axes(svg: ET.Element, instrument: Instrument, geo: _Geometry, said: _Said) -> None:
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
    ticks = sorted(
        {geo.low, geo.high} | {b.min for b in instrument.bands} | _mean_ticks(instrument)
    )
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
    if geo.layout.axis_labels:
        _sub(
            group,
            "text",
            said.words(N_("Score")),
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
                said.day(day),
                x=_num(x),
                y=_num(geo.y_bottom + geo.layout.font + 4),
                text_anchor=anchor,
                fill="#55615f",
                **{"class": "chart-tick chart-tick-x"},
            )
    if geo.layout.axis_labels:
        _sub(
            group,
            "text",
            said.words(N_("Date")),
            x=_num((geo.x0 + geo.x1) / 2),
            y=_num(geo.layout.height - 6),
            text_anchor="middle",
            fill="#55615f",
            **{"class": "chart-axis-label"},
        )


def _draw_sessions(
    svg: ET.Element, sessions: Sequence[SessionMark], geo: _Geometry, said: _Said
) -> None:
    group = _sub(svg, "g", **{"class": "chart-sessions"})
    last_label_end = float("-inf")
    for mark in sessions:
        x = _num(geo.x(mark.day))
        marker = _sub(
            group,
            "g",
            data_day=mark.day.isoformat(),
            **{"class": "chart-session"},
        )
        title = N_("Dosing session %(number)s: %(day)s", number=mark.number, day=said.day(mark.day))
        _sub(marker, "title", said.words(title))
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
        # A label that would touch the one before it is left out (the line and its
        # title still mark the session).
        label = f"S{mark.number}"
        half = len(label) * geo.layout.font * 0.35
        if geo.x(mark.day) - half >= last_label_end + LABEL_GAP:
            last_label_end = geo.x(mark.day) + half
            _sub(
                marker,
                "text",
                label,
                x=x,
                y=_num(geo.y_top - 8),
                text_anchor="middle",
                fill="#6a5acd",
                **{"class": "chart-session-label"},
            )


def _draw_scores(svg: ET.Element, rows: Sequence[ChartRow], geo: _Geometry, said: _Said) -> None:
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
        w, day = said.words, said.day(row.day)
        title = (
            N_("%(day)s: %(score)s (%(band)s), flagged", day=day, score=row.total, band=w(row.band))
            if row.flagged
            else N_("%(day)s: %(score)s (%(band)s)", day=day, score=row.total, band=w(row.band))
        )
        _sub(point, "title", w(title))
