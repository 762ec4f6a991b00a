"""Template filters: local times, labels, Markdown."""

from __future__ import annotations

from datetime import date, datetime
from functools import cache

from babel import Locale
from babel.dates import DateTimePattern, parse_pattern
from flask import Flask
from flask_babel import format_number, get_locale, gettext
from markupsafe import Markup

from journal.core.labels import (
    PHASE_LABELS,
    SHORT_VISIBILITY,
    STATUS_LABELS,
    VISIBILITY_LABELS,
)
from journal.core.rendering import render_markdown
from journal.models import Phase, SessionStatus, Visibility

__all__ = ["PHASE_LABELS", "SHORT_VISIBILITY", "STATUS_LABELS", "VISIBILITY_LABELS"]
from journal.web import context
from journal.web.i18n import translate


def local(value: datetime) -> datetime:
    return value.astimezone(context.runtime().settings.zone)


# Dates and times in the page's language, from Babel's locale data (CLDR), never from
# hand-made month names. English keeps the look the journal always had, the same as
# strftime's "%a %d %b %Y, %H:%M" ("Sat 05 Dec 2026, 09:10"; CLDR's "en" abbreviations
# are strftime's, "Sep" included, which tests/test_language_dates.py checks for every
# month and weekday); French reads "sam. 5 déc. 2026 à 09:10"; any other language takes
# its own medium forms.
DATE_PATTERNS: dict[str, dict[str, str]] = {
    "en": {
        "when": "EEE dd MMM y, HH:mm",
        "day": "EEE dd MMM y",
        "short_day": "dd MMM y",
        "day_month": "dd MMM",
        "clock": "HH:mm",
    },
    "fr": {
        "when": "EEE d MMM y 'à' HH:mm",
        "day": "EEE d MMM y",
        "short_day": "d MMM y",
        "day_month": "d MMM",
        "clock": "HH:mm",
    },
}
ENGLISH = Locale("en")


def _medium(locale: Locale, kind: str) -> str:
    """A language without patterns of its own: its medium forms."""
    medium_day = locale.date_formats["medium"].pattern
    hour = locale.time_formats["short"].pattern
    skeletons = locale.datetime_skeletons
    weekday = skeletons["yMMMEd"].pattern if "yMMMEd" in skeletons else medium_day
    forms: dict[str, str] = {
        "when": locale.datetime_formats["medium"].replace("{1}", medium_day).replace("{0}", hour),
        "day": weekday,
        "short_day": medium_day,
        "day_month": skeletons["MMMd"].pattern if "MMMd" in skeletons else medium_day,
        "clock": hour,
    }
    return forms[kind]


@cache
def _pattern(code: str, kind: str) -> DateTimePattern:
    """Parsed once per language and form: the timeline shows hundreds of dates."""
    own = DATE_PATTERNS.get(code) or DATE_PATTERNS.get(code.split("_")[0])
    return parse_pattern(own[kind] if own else _medium(Locale.parse(code), kind))


def _formatted(value: date | None, kind: str) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = local(value)
    locale = get_locale() or ENGLISH
    return _pattern(str(locale), kind).apply(value, locale)


def when(value: datetime | None) -> str:
    """Day and time: "Sat 05 Dec 2026, 09:10", "sam. 5 déc. 2026 à 09:10"."""
    return _formatted(value, "when")


def day(value: date | None) -> str:
    """A day with its weekday: "Sat 05 Dec 2026", "sam. 5 déc. 2026"."""
    return _formatted(value, "day")


def short_day(value: date | None) -> str:
    """A day: "05 Dec 2026", "5 déc. 2026"."""
    return _formatted(value, "short_day")


def day_month(value: date | None) -> str:
    """A day of this year or the next: "05 Dec", "5 déc."."""
    return _formatted(value, "day_month")


def clock(value: datetime | None) -> str:
    """A time of day: "09:10"."""
    return _formatted(value, "clock")


def iso(value: datetime) -> str:
    return local(value).isoformat(timespec="minutes")


def markdown(text: str) -> Markup:
    # Safe: render_markdown omits raw HTML and cleans the result with nh3's allow-list.
    return Markup(render_markdown(text))  # noqa: S704


def init_filters(app: Flask) -> None:
    app.jinja_env.filters.update(
        when=when,
        day=day,
        short_day=short_day,
        day_month=day_month,
        clock=clock,
        iso=iso,
        markdown=markdown,
        phase_label=lambda p: gettext(PHASE_LABELS[Phase(p)]),
        visibility_label=lambda v: gettext(VISIBILITY_LABELS[Visibility(v)]),
        visibility_short=lambda v: gettext(SHORT_VISIBILITY[Visibility(v)]),
        status_label=lambda s: gettext(STATUS_LABELS[SessionStatus(s)]),
        # Words marked in the domain (`N_`), in the page's language: `{{ x.label|words }}`.
        words=translate,
        # A whole number as the page's language writes it: 10,000 / 10 000.
        number=format_number,
    )

    @app.context_processor
    def globals_() -> dict[str, object]:
        return {"clinic_name": context.runtime().settings.clinic_name}
