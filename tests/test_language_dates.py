"""Dates, times and plurals in the page's language: Babel's locale data for the
names of days and months, the catalogue's plural forms for counts."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask import Flask
from flask_babel import force_locale, ngettext

from journal.web.filters import clock, day, day_month, short_day, when
from tests.conftest import Clinic, runtime
from tests.test_language import FRENCH, offer_french

FR_MONTHS = ("janv.", "févr.", "mars", "avr.", "mai", "juin")
FR_MONTHS += ("juil.", "août", "sept.", "oct.", "nov.", "déc.")
FR_WEEKDAYS = ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim.")
CATALOGUE = Path(__file__).parent.parent / "journal/translations/fr/LC_MESSAGES/messages.po"
# A day of every month, then a week for every weekday.
MOMENTS = [datetime(2026, m, m + 2, m + 8, 4 * m, tzinfo=UTC) for m in range(1, 13)]
MOMENTS += [datetime(2026, 11, d, 12, 0, tzinfo=UTC) for d in range(1, 8)]


@contextmanager
def page_in(app: Flask, language: str) -> Iterator[None]:
    with app.test_request_context("/"), force_locale(language):
        yield


def french_day(d: date) -> str:
    return f"{d.day} {FR_MONTHS[d.month - 1]} {d.year}"


def test_english_dates_and_times_are_as_they_were(app: Flask) -> None:
    with page_in(app, "en"):
        for moment in MOMENTS:
            assert when(moment) == moment.strftime("%a %d %b %Y, %H:%M")
            assert day(moment) == day(moment.date()) == moment.strftime("%a %d %b %Y")
            assert short_day(moment.date()) == moment.strftime("%d %b %Y")
            assert day_month(moment.date()) == moment.strftime("%d %b")
            assert clock(moment) == moment.strftime("%H:%M")
        assert when(None) == day(None) == short_day(None) == ""
        rt = runtime(app)
        rt.settings = rt.settings.with_changes(timezone="America/Montreal")
        assert when(datetime(2026, 12, 5, 3, 10, tzinfo=UTC)) == "Fri 04 Dec 2026, 22:10"


@pytest.mark.parametrize(
    ("show", "value", "shown"),
    [
        (when, datetime(2026, 12, 5, 9, 10, tzinfo=UTC), "sam. 5 déc. 2026 à 09:10"),
        (day, datetime(2026, 12, 5, 9, 10, tzinfo=UTC), "sam. 5 déc. 2026"),
        (day, date(2026, 9, 1), "mar. 1 sept. 2026"),
        (short_day, date(2026, 2, 14), "14 févr. 2026"),
        (day_month, date(2026, 8, 3), "3 août"),
        (clock, datetime(2026, 7, 14, 21, 5, tzinfo=UTC), "21:05"),
        (when, None, ""),
    ],
)
def test_french_dates_use_french_names(
    app: Flask, show: Callable[[date | None], str], value: date | None, shown: str
) -> None:
    with page_in(app, "fr"):
        assert show(value) == shown
        for moment in MOMENTS:
            weekday = FR_WEEKDAYS[moment.weekday()]
            assert day(moment) == f"{weekday} {french_day(moment)}"
            assert day_month(moment) == f"{moment.day} {FR_MONTHS[moment.month - 1]}"


def test_another_language_takes_its_medium_forms(app: Flask) -> None:
    with page_in(app, "de"):
        moment = datetime(2026, 12, 5, 9, 10, tzinfo=UTC)
        assert (when(moment), day(moment), day_month(moment)) == (
            "05.12.2026, 09:10",
            "Sa., 5. Dez. 2026",
            "5. Dez.",
        )


def test_a_french_page_shows_french_dates(clinic: Clinic) -> None:
    offer_french(clinic)
    b = clinic.world.browser(clinic.patient)
    page = b.get(f"/courses/{clinic.course.id}", headers=FRENCH).get_data(as_text=True)
    started = clinic.course.started_on
    assert '<html lang="fr"' in page and french_day(started) in page
    assert started.strftime("%d %b %Y") not in page
    upcoming = clinic.upcoming.scheduled_at.astimezone(UTC)  # the clinic's zone
    weekday = FR_WEEKDAYS[upcoming.weekday()]
    assert f"{weekday} {french_day(upcoming)} à {upcoming:%H:%M}" in page


def _plural_messages() -> list[tuple[str, str, tuple[str, ...]]]:
    with CATALOGUE.open("rb") as f:
        catalogue = read_po(f)
    return [
        (m.id[0], m.id[1], tuple(m.string))
        for m in catalogue
        if isinstance(m.id, tuple) and all(m.string) and not m.fuzzy
    ]


def test_every_french_plural_takes_the_singular_for_zero_and_one(app: Flask) -> None:
    """French says "0 entrée", "1 entrée", "2 entrées": every plural message of the
    catalogue, as the pages get it, with its first form for 0 and 1, its last for 2."""
    messages = _plural_messages()
    assert len(messages) >= 5
    with page_in(app, "fr"):
        assert [ngettext("%(num)d day", "%(num)d days", n) for n in (0, 1, 2)] == [
            "0 jour",
            "1 jour",
            "2 jours",
        ]
        for singular, plural, forms in messages:
            names = set(re.findall(r"%\((\w+)\)", singular + plural)) - {"num"}
            values: dict[str, object] = dict.fromkeys(names, "x")
            for n, form in ((0, forms[0]), (1, forms[0]), (2, forms[-1])):
                if "count" in values:
                    values["count"] = n
                expected = form % {**values, "num": n}
                assert ngettext(singular, plural, n, **values) == expected, (singular, n)
