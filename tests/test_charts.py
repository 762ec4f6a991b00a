"""Trend charts: the SVG parsed back and measured (bands, points, session marks, axes),
for no, one and many points, equal dates and scores at the ends of the scale."""

from __future__ import annotations

import dataclasses
import itertools
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import pytest

from journal.clinical.charts import ScorePoint, TrendChart, trend_chart
from journal.clinical.instruments import BUILT_IN_FOLDER, Catalogue, Instrument, load_catalogue

NS = {"svg": "http://www.w3.org/2000/svg"}
# The plot area: x from 56 to 624 with points inset by 14 (70 to 610); y from 28 to 256.
X_FIRST, X_LAST, X_MIDDLE = 70.0, 610.0, 340.0
Y_TOP, Y_BOTTOM = 28.0, 256.0


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(BUILT_IN_FOLDER)


@pytest.fixture(scope="module")
def phq9(catalogue: Catalogue) -> Instrument:
    return catalogue.get("phq9")


def parse(chart: TrendChart) -> ET.Element:
    return ET.fromstring(chart.svg)


def phq9_y(score: float) -> float:
    return round(Y_BOTTOM - score / 27 * (Y_BOTTOM - Y_TOP), 1)


def circles(root: ET.Element) -> list[ET.Element]:
    return root.findall(".//svg:circle", NS)


def floats(element: ET.Element, *names: str) -> tuple[float, ...]:
    return tuple(float(element.get(n, "nan")) for n in names)


def test_accessible_title_and_description(phq9: Instrument) -> None:
    chart = trend_chart(
        phq9,
        [ScorePoint(date(2026, 1, 1), 18), ScorePoint(date(2026, 1, 31), 9)],
        [date(2026, 1, 10)],
        chart_id="phq9-trend",
    )
    root = parse(chart)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "phq9-trend-title phq9-trend-desc"
    title, desc = list(root)[:2]
    assert title.tag.endswith("title") and title.get("id") == "phq9-trend-title"
    assert desc.tag.endswith("desc") and desc.get("id") == "phq9-trend-desc"
    assert title.text == chart.title == "PHQ-9 scores over the course"
    assert (
        desc.text
        == chart.description
        == (
            "PHQ-9: 2 scores from 1 Jan 2026 to 31 Jan 2026, on a scale of 0 to 27. "
            "Latest 9 (Mild). 1 dosing session marked."
        )
    )


def test_band_rectangles_cover_the_scale_without_gaps(phq9: Instrument) -> None:
    root = parse(trend_chart(phq9, [ScorePoint(date(2026, 1, 1), 3)]))
    rects = root.findall(".//svg:rect", NS)
    assert [(r.get("data-min"), r.get("data-max")) for r in rects] == [
        ("0", "4"),
        ("5", "9"),
        ("10", "14"),
        ("15", "19"),
        ("20", "27"),
    ]
    assert [r.get("class") for r in rects] == [f"chart-band chart-band-{n}" for n in range(1, 6)]
    # Band 5-9 spans scores 4.5 to 9.5: hand-computed from the 228-pixel-high plot.
    assert floats(rects[1], "y", "height") == (phq9_y(9.5), round(5 / 27 * 228, 1))
    assert floats(rects[0], "y")[0] + floats(rects[0], "height")[0] == Y_BOTTOM
    assert floats(rects[-1], "y") == (Y_TOP,)
    for lower, upper in itertools.pairwise(rects):
        upper_bottom = float(upper.get("y", "")) + float(upper.get("height", ""))
        assert upper_bottom == pytest.approx(float(lower.get("y", "")), abs=0.11)
    labels = [r.find("svg:title", NS) for r in rects]
    assert [t.text for t in labels if t is not None][1] == "Mild: 5 to 9"


def test_two_bands_take_the_lightest_and_strongest_tone(catalogue: Catalogue) -> None:
    root = parse(trend_chart(catalogue.get("pcl5"), []))
    rects = root.findall(".//svg:rect", NS)
    assert [r.get("class") for r in rects] == ["chart-band chart-band-1", "chart-band chart-band-5"]
    # 0-32 spans 0 to 32.5 of 80: 256 - 32.5/80*228 = 163.375
    assert floats(rects[0], "y") == (163.4,)


def test_points_are_placed_by_date_and_score(phq9: Instrument) -> None:
    points = [
        ScorePoint(date(2026, 1, 31), 9),
        ScorePoint(date(2026, 1, 1), 27),
        ScorePoint(date(2026, 1, 16), 0, flagged=True),
    ]
    chart = trend_chart(phq9, points)
    root = parse(chart)
    placed = [(floats(c, "cx", "cy"), c.get("data-day"), c.get("class")) for c in circles(root)]
    assert placed == [
        ((X_FIRST, Y_TOP), "2026-01-01", "chart-point"),
        ((X_MIDDLE, Y_BOTTOM), "2026-01-16", "chart-point chart-point-flagged"),
        ((X_LAST, 180.0), "2026-01-31", "chart-point"),
    ]
    line = root.find(".//svg:polyline", NS)
    assert line is not None
    assert line.get("points") == "70.0,28.0 340.0,256.0 610.0,180.0"
    assert [(r.day, r.total, r.band, r.flagged) for r in chart.rows] == [
        (date(2026, 1, 1), 27, "Severe", False),
        (date(2026, 1, 16), 0, "Minimal", True),
        (date(2026, 1, 31), 9, "Mild", False),
    ]
    assert all(r.max_score == 27 for r in chart.rows)


def test_session_markers_sit_on_their_dates(phq9: Instrument) -> None:
    chart = trend_chart(
        phq9,
        [ScorePoint(date(2026, 1, 1), 10), ScorePoint(date(2026, 1, 31), 5)],
        [date(2026, 1, 16), date(2026, 1, 1)],
    )
    root = parse(chart)
    marks = root.findall(".//svg:g[@class='chart-session']", NS)
    assert [m.get("data-day") for m in marks] == ["2026-01-01", "2026-01-16"]
    lines = [m.find("svg:line", NS) for m in marks]
    assert [floats(ln, "x1", "x2", "y1", "y2") for ln in lines if ln is not None] == [
        (X_FIRST, X_FIRST, Y_TOP, Y_BOTTOM),
        (X_MIDDLE, X_MIDDLE, Y_TOP, Y_BOTTOM),
    ]
    texts = [m.find("svg:text", NS) for m in marks]
    assert [t.text for t in texts if t is not None] == ["S1", "S2"]
    titles = [m.find("svg:title", NS) for m in marks]
    assert [t.text for t in titles if t is not None][1] == "Dosing session 2: 16 Jan 2026"
    assert [(s.number, s.day) for s in chart.sessions] == [
        (1, date(2026, 1, 1)),
        (2, date(2026, 1, 16)),
    ]


def test_sessions_outside_the_scores_widen_the_time_axis(phq9: Instrument) -> None:
    root = parse(
        trend_chart(phq9, [ScorePoint(date(2026, 1, 16), 4)], [date(2026, 1, 1), date(2026, 1, 31)])
    )
    (point,) = circles(root)
    assert floats(point, "cx") == (X_MIDDLE,)
    ticks = root.findall(".//svg:text[@class='chart-tick chart-tick-x']", NS)
    assert [t.text for t in ticks] == ["1 Jan 2026", "31 Jan 2026"]  # as on every page


def test_no_points(phq9: Instrument) -> None:
    chart = trend_chart(phq9, [])
    root = parse(chart)
    assert circles(root) == []
    assert root.find(".//svg:polyline", NS) is None
    assert len(root.findall(".//svg:rect", NS)) == 5  # the bands still give the scale
    empty = root.find(".//svg:text[@class='chart-empty']", NS)
    assert empty is not None and empty.text == "No scores yet"
    assert chart.rows == ()
    assert chart.description == "No PHQ-9 scores yet."
    assert root.findall(".//svg:text[@class='chart-tick chart-tick-x']", NS) == []


def test_no_points_but_sessions(phq9: Instrument) -> None:
    chart = trend_chart(phq9, [], [date(2026, 2, 1)])
    root = parse(chart)
    (mark,) = root.findall(".//svg:g[@class='chart-session']", NS)
    line = mark.find("svg:line", NS)
    assert line is not None and floats(line, "x1") == (X_MIDDLE,)
    assert chart.description == "No PHQ-9 scores yet. 1 dosing session marked."


def test_one_point(phq9: Instrument) -> None:
    chart = trend_chart(phq9, [ScorePoint(date(2026, 3, 3), 14)])
    root = parse(chart)
    (point,) = circles(root)
    assert floats(point, "cx", "cy") == (X_MIDDLE, phq9_y(14))
    assert root.find(".//svg:polyline", NS) is None
    ticks = root.findall(".//svg:text[@class='chart-tick chart-tick-x']", NS)
    assert [(t.text, t.get("x")) for t in ticks] == [("3 Mar 2026", "340.0")]
    assert chart.description == (
        "PHQ-9: 1 score on 3 Mar 2026, on a scale of 0 to 27. Latest 14 (Moderate)."
    )


def test_equal_dates_share_an_x_and_keep_their_order(phq9: Instrument) -> None:
    day = date(2026, 4, 1)
    points = [ScorePoint(day, 20), ScorePoint(day, 5), ScorePoint(date(2026, 4, 11), 7)]
    chart = trend_chart(phq9, points)
    root = parse(chart)
    placed = [floats(c, "cx", "cy") for c in circles(root)]
    assert placed == [(X_FIRST, phq9_y(20)), (X_FIRST, phq9_y(5)), (X_LAST, phq9_y(7))]
    assert [r.total for r in chart.rows] == [20, 5, 7]


def test_all_points_on_one_day(phq9: Instrument) -> None:
    day = date(2026, 4, 1)
    root = parse(trend_chart(phq9, [ScorePoint(day, 0), ScorePoint(day, 27)]))
    assert [floats(c, "cx", "cy") for c in circles(root)] == [
        (X_MIDDLE, Y_BOTTOM),
        (X_MIDDLE, Y_TOP),
    ]


def test_many_points(phq9: Instrument) -> None:
    points = [ScorePoint(date(2026, 1, 1 + n), n % 28) for n in range(28)]
    root = parse(trend_chart(phq9, points))
    assert len(circles(root)) == 28
    line = root.find(".//svg:polyline", NS)
    assert line is not None and len(line.get("points", "").split()) == 28
    xs = [floats(c, "cx")[0] for c in circles(root)]
    assert xs == sorted(xs) and xs[0] == X_FIRST and xs[-1] == X_LAST
    assert [floats(c, "cy")[0] for c in circles(root)][27] == phq9_y(27)


def test_y_axis_ticks_at_band_starts_and_ends(phq9: Instrument) -> None:
    root = parse(trend_chart(phq9, []))
    ticks = root.findall(".//svg:text[@class='chart-tick chart-tick-y']", NS)
    assert [t.text for t in ticks] == ["0", "5", "10", "15", "20", "27"]
    labels = root.findall(".//svg:text[@class='chart-axis-label']", NS)
    assert [t.text for t in labels] == ["Score", "Date"]


def test_output_is_deterministic_and_ignores_input_order(phq9: Instrument) -> None:
    points = [ScorePoint(date(2026, 1, d), d % 20) for d in (3, 17, 9, 25)]
    first = trend_chart(phq9, points, [date(2026, 1, 5), date(2026, 1, 19)])
    again = trend_chart(phq9, list(reversed(points)), [date(2026, 1, 19), date(2026, 1, 5)])
    assert first.svg == again.svg
    assert first == again


def test_text_is_escaped(phq9: Instrument) -> None:
    odd = dataclasses.replace(phq9, short_title='<script>alert("x")</script> & co')
    chart = trend_chart(odd, [ScorePoint(date(2026, 1, 1), 3)])
    assert "<script" not in chart.svg
    assert "&lt;script&gt;" in chart.svg and "&amp; co" in chart.svg
    title = parse(chart).find("svg:title", NS)
    assert (
        title is not None
        and title.text == '<script>alert("x")</script> & co scores over the course'
    )


def test_no_style_attributes_or_elements(phq9: Instrument) -> None:
    """The Content-Security-Policy forbids inline styles: presentation attributes only."""
    chart = trend_chart(phq9, [ScorePoint(date(2026, 1, 1), 3, flagged=True)], [date(2026, 1, 2)])
    for element in parse(chart).iter():
        assert "style" not in element.attrib
        assert not element.tag.endswith("style")
        assert not element.tag.endswith("script")


def test_scores_outside_the_scale_are_refused(phq9: Instrument) -> None:
    with pytest.raises(ValueError, match="outside"):
        trend_chart(phq9, [ScorePoint(date(2026, 1, 1), 28)])
    with pytest.raises(ValueError, match="outside"):
        trend_chart(phq9, [ScorePoint(date(2026, 1, 1), -1)])


def test_the_chart_id_must_be_simple(phq9: Instrument) -> None:
    with pytest.raises(ValueError, match="chart_id"):
        trend_chart(phq9, [], chart_id='x" onload="y')


def test_every_class_the_chart_uses_is_styled(phq9: Instrument) -> None:
    """The classes in the SVG have rules in app.css, so light and dark themes apply."""
    css = (Path(__file__).resolve().parent.parent / "static" / "css" / "app.css").read_text()
    chart = trend_chart(
        phq9,
        [ScorePoint(date(2026, 1, 1), 3, flagged=True), ScorePoint(date(2026, 1, 9), 22)],
        [date(2026, 1, 2)],
    )
    drawings = (parse(chart), ET.fromstring(chart.svg_narrow))
    used = {c for root in drawings for e in root.iter() for c in e.get("class", "").split()}
    structural = {"chart-bands", "chart-axes", "chart-sessions", "chart-scores", "chart-band"}
    structural |= {"chart-band-labels"}
    structural |= {"chart-session", "chart-axis-x", "chart-axis-y", "chart-tick-x", "chart-tick-y"}
    missing = sorted(c for c in used - structural if f".{c} " not in css and f".{c}," not in css)
    assert missing == []


# -- on a phone -------------------------------------------------------------------


def test_a_narrow_drawing_keeps_its_text_at_phone_size(phq9: Instrument) -> None:
    """Drawn 300 units wide with 13-unit text: shown about 300 px wide on a 360 px
    screen, its text stays at 12 px or more, where the wide one would shrink to 6."""
    chart = trend_chart(
        phq9,
        [ScorePoint(date(2026, 1, 1), 18), ScorePoint(date(2026, 1, 31), 9)],
        [date(2026, 1, 10)],
        chart_id="phq9-trend",
    )
    wide, narrow = parse(chart), ET.fromstring(chart.svg_narrow)
    assert wide.get("viewBox") == "0 0 640 300" and wide.get("font-size") == "12"
    assert narrow.get("viewBox") == "0 0 300 260" and narrow.get("font-size") == "13"
    assert "trend-chart-narrow" in (narrow.get("class") or "")
    assert narrow.get("aria-labelledby") == "phq9-trend-narrow-title phq9-trend-narrow-desc"
    assert ET.fromstring(chart.svg_narrow).find("svg:desc", NS) is not None
    labels = [t.text for t in narrow.findall(".//svg:text[@class='chart-axis-label']", NS)]
    assert labels == []  # "Score" and "Date" would crowd the ticks; the caption says them
    assert [len(circles(root)) for root in (wide, narrow)] == [2, 2]


def test_band_names_are_drawn_over_session_lines_with_a_halo(phq9: Instrument) -> None:
    chart = trend_chart(phq9, [ScorePoint(date(2026, 1, 1), 4)], [date(2026, 1, 1)])
    for root in (parse(chart), ET.fromstring(chart.svg_narrow)):
        groups = [g.get("class") for g in root.findall("svg:g", NS)]
        assert groups.index("chart-band-labels") > groups.index("chart-sessions")
        assert groups.index("chart-band-labels") < groups.index("chart-scores")
        for label in root.findall(".//svg:text[@class='chart-band-label']", NS):
            assert label.get("paint-order") == "stroke" and label.get("stroke-width") == "3"


def test_session_labels_that_would_touch_are_left_out(phq9: Instrument) -> None:
    days = [date(2026, 1, d) for d in (1, 2, 3, 20)]
    chart = trend_chart(phq9, [ScorePoint(date(2026, 1, 1), 4)], days)
    # A day is 28 units apart on the wide drawing, 12 on the narrow one; a label is 17.
    wide = ["S1", "S2", "S3", "S4"]
    for root, shown in (
        (parse(chart), wide),
        (ET.fromstring(chart.svg_narrow), ["S1", "S3", "S4"]),
    ):
        marks = root.findall(".//svg:g[@class='chart-session']", NS)
        assert len(marks) == 4  # every session keeps its line and its title
        labels = [m.find("svg:text", NS) for m in marks]
        assert [t.text for t in labels if t is not None] == shown
