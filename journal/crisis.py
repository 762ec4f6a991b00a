"""Help for someone in distress: the local emergency number and the crisis lines.

The Get-help page (`/help`) and the message after a PHQ-9 item 9 answer show them.
Each locale ships a documented default (`SHIPPED`); a clinic chooses its locale
(`crisis_locale`) and lists its own lines (`crisis_lines`) and, if it differs, the
emergency number (`emergency_number`) in instance/config.toml. Until it has, the app
warns at start-up and on the admin's pages (`defaults_in_place`).

Everything is shown in the reader's language: the shipped text, places, line names
and notes are marked for the catalogues (journal/translations). A clinic's own lines
are written as it likes; each may carry its words in other languages, shown to a
person reading in that language (else the line reads as written):

    [[crisis_lines.qc]]
    label = "Our on-call clinician"
    label_fr = "Notre clinicienne de garde"
    number = "+1 514 555 0100"
    note = "Weekdays, 9 to 5."
    note_fr = "En semaine, de 9 h à 17 h."

Plain data and checks: no Flask, no database. journal/config.py reads the settings
through `parse_lines` and `problem`; the web layer shows `help_for(settings, language)`
and `resources_for(settings, language)`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from journal.core.catalogues import Words
from journal.core.labels import N_

if TYPE_CHECKING:
    from journal.config import Settings

# Shown to a patient whose answers raise a safety flag; each clinic sets its own
# (`crisis_resources` in instance/config.toml, or JOURNAL_CRISIS_RESOURCES).
DEFAULT_CRISIS_RESOURCES = N_(
    "If you are in danger or thinking about ending your life, call your local "
    "emergency number now, or go to the nearest emergency department."
)
DEFAULT_LOCALE = "us"  # until the clinic chooses one

LOCALE_RE = re.compile(r"[a-z][a-z0-9_-]{1,15}")
# What people read: digits, letters (1-866-APPELLE), spaces and - . ( ), a leading +.
NUMBER_RE = re.compile(r"\+?[0-9A-Za-z](?:[0-9A-Za-z .()-]*[0-9A-Za-z])?")
DIAL_MAX = 15  # digits in an international number (E.164)
LABEL_MAX = 120
NOTE_MAX = 300
LINE_KEYS = frozenset({"label", "number", "note"})
# A line's label or note in another language: label_fr, note_fr.
IN_LANGUAGE_RE = re.compile(r"(label|note)_([a-z]{2,3})")

# The letters of a phone keypad.
_KEYPAD = str.maketrans(
    {
        letter: digit
        for digit, letters in {
            "2": "ABC",
            "3": "DEF",
            "4": "GHI",
            "5": "JKL",
            "6": "MNO",
            "7": "PQRS",
            "8": "TUV",
            "9": "WXYZ",
        }.items()
        for letter in letters
    }
)


def dial_digits(number: str) -> str:
    """What a phone dials: letters as on the keypad, a leading + kept, nothing else."""
    mapped = number.upper().translate(_KEYPAD)
    digits = "".join(c for c in mapped if c.isdigit())
    return ("+" + digits) if number.strip().startswith("+") else digits


@dataclass(frozen=True)
class CrisisLine:
    """A line a person can call now."""

    label: str  # who answers: "988 Suicide & Crisis Lifeline"
    number: str  # as people read it: "988", "1-866-APPELLE"
    note: str = ""  # when and how: "Call or text, day and night. Free."
    locale: str = ""  # the locale it is for; empty: the clinic's
    # A clinic's own line in other languages: (language, label, note), either may be "".
    in_languages: tuple[tuple[str, str, str], ...] = ()

    def in_language(self, language: str) -> CrisisLine:
        """The line as a person reading `language` sees it: its own words in that
        language where the clinic wrote them, else as written."""
        for code, label, note in self.in_languages:
            if code == language:
                return replace(self, label=label or self.label, note=note or self.note)
        return self

    @property
    def href(self) -> str:
        return f"tel:{dial_digits(self.number)}"

    @property
    def spelled_out(self) -> str:
        """The digits of a number written with letters, grouped as people read them;
        empty when the number is already digits."""
        if not any(c.isalpha() for c in self.number):
            return ""
        d = dial_digits(self.number)
        if len(d) == 11 and d.startswith("1"):  # North American: 1-866-277-3553
            return f"1-{d[1:4]}-{d[4:7]}-{d[7:]}"
        return d


@dataclass(frozen=True)
class Locale:
    name: str  # where it applies, as people say it
    emergency_number: str
    lines: tuple[CrisisLine, ...]


# The words below are marked for the catalogues and shown in the reader's language
# (`help_for`); a line's name that is a name in one language only is left as it is.
_FREE_DAY_AND_NIGHT = N_("Free, day and night, every day of the year.")
SHIPPED: dict[str, Locale] = {
    "us": Locale(
        N_("the United States"),
        "911",
        (
            CrisisLine(
                N_("988 Suicide & Crisis Lifeline"),
                "988",
                N_("Call or text. Free, day and night, every day of the year."),
                "us",
            ),
        ),
    ),
    "fr": Locale(
        N_("France"),
        "112",
        (
            CrisisLine(
                "3114, numéro national de prévention du suicide",
                "3114",
                _FREE_DAY_AND_NIGHT,
                "fr",
            ),
        ),
    ),
    "qc": Locale(
        N_("Québec"),
        "911",
        (
            CrisisLine(
                N_("Suicide prevention line for Québec"),
                "1-866-APPELLE",
                _FREE_DAY_AND_NIGHT,
                "qc",
            ),
        ),
    ),
    "be": Locale(
        N_("Belgium"),
        "112",
        (
            CrisisLine(
                "Centre de Prévention du Suicide",
                "0800 32 123",
                _FREE_DAY_AND_NIGHT,
                "be",
            ),
        ),
    ),
    "ch": Locale(
        N_("Switzerland"),
        "144",
        (
            CrisisLine(
                N_("La Main Tendue (Die Dargebotene Hand)"),
                "143",
                N_("Day and night, every day of the year; you need not give your name."),
                "ch",
            ),
        ),
    ),
}


@dataclass(frozen=True)
class CrisisHelp:
    """What the Get-help page shows: the emergency number first, then the lines."""

    locale: str
    place: str  # "the United States"; empty for a locale the clinic defined itself
    emergency_number: str
    lines: tuple[CrisisLine, ...]

    @property
    def emergency_href(self) -> str:
        return f"tel:{dial_digits(self.emergency_number)}"


def locale_of(settings: Settings) -> str:
    return settings.crisis_locale or DEFAULT_LOCALE


def _own_lines(lines: Iterable[CrisisLine], locale: str) -> tuple[CrisisLine, ...]:
    return tuple(line for line in lines if line.locale in {"", locale})


def help_for(settings: Settings, language: str = "en") -> CrisisHelp:
    """The clinic's lines for its locale, else the shipped ones; its emergency number,
    else the locale's. In `language`: the shipped words translated, the clinic's own
    lines in that language where it wrote them."""
    locale = locale_of(settings)
    shipped = SHIPPED.get(locale)
    own = _own_lines(settings.crisis_lines, locale)
    w = Words(language)
    if own:
        lines = tuple(line.in_language(language) for line in own)
    else:
        lines = tuple(
            replace(line, label=w(line.label), note=w(line.note) if line.note else "")
            for line in (shipped.lines if shipped else ())
        )
    return CrisisHelp(
        locale=locale,
        place=w(shipped.name) if shipped else "",
        emergency_number=settings.emergency_number or (shipped.emergency_number if shipped else ""),
        lines=lines,
    )


def resources_for(settings: Settings, language: str = "en") -> str:
    """The crisis text shown after an answer that raises a safety flag: the clinic's own
    as written, or the shipped text in `language`."""
    text = settings.crisis_resources
    if text.strip() == DEFAULT_CRISIS_RESOURCES:
        return Words(language)(DEFAULT_CRISIS_RESOURCES)
    return text


def defaults_in_place(settings: Settings, language: str = "en") -> list[str]:
    """The crisis settings the clinic has not set yet, in words for the admin (in
    English for the start-up log)."""
    w = Words(language)
    found = []
    locale = locale_of(settings)
    shipped = SHIPPED.get(locale)
    if not settings.crisis_locale:
        found.append(
            w(
                N_(
                    "crisis_locale is not set: the emergency number and lines shown are "
                    "those for %(place)s"
                ),
                place=w(SHIPPED[DEFAULT_LOCALE].name),
            )
        )
    if not _own_lines(settings.crisis_lines, locale) and shipped is not None:
        found.append(
            w(
                N_(
                    "crisis_lines is not set: only the national lines shipped for %(place)s "
                    "are shown, none of your clinic's own"
                ),
                place=w(shipped.name),
            )
        )
    if settings.crisis_resources.strip() == DEFAULT_CRISIS_RESOURCES:
        found.append(
            w(
                N_(
                    "crisis_resources is the shipped text (shown after an answer that raises "
                    "a safety flag)"
                )
            )
        )
    return found


# -- reading instance/config.toml ---------------------------------------------


class CrisisSettingError(ValueError):
    """A crisis setting the app cannot show; journal/config.py says which."""


def parse_lines(raw: Any, locale: str) -> tuple[CrisisLine, ...]:
    """`crisis_lines` from config.toml: a list of {label, number, note} for the clinic's
    locale, or a table of such lists by locale (`[[crisis_lines.fr]]`). A line may also
    have its label and note in other languages (`label_fr`, `note_fr`)."""
    if raw is None:
        return ()
    if isinstance(raw, list):
        return tuple(_line(item, locale, n) for n, item in enumerate(raw, start=1))
    if isinstance(raw, dict):
        found: list[CrisisLine] = []
        for key, items in raw.items():
            if not isinstance(key, str) or not LOCALE_RE.fullmatch(key):
                raise CrisisSettingError(f"{key!r} is not a locale such as us, fr or qc")
            if not isinstance(items, list):
                raise CrisisSettingError(f"crisis_lines.{key} must be a list of lines")
            found += [_line(item, key, n) for n, item in enumerate(items, start=1)]
        return tuple(found)
    raise CrisisSettingError("must be a list of lines, or a table of such lists by locale")


def _line(item: Any, locale: str, n: int) -> CrisisLine:
    where = f"line {n}" + (f" of {locale}" if locale else "")
    if not isinstance(item, dict):
        raise CrisisSettingError(f"{where}: write it as {{ label = ..., number = ... }}")
    unknown = {k for k in item if k not in LINE_KEYS and not IN_LANGUAGE_RE.fullmatch(str(k))}
    if unknown:
        raise CrisisSettingError(
            f"{where}: unknown key {sorted(unknown)[0]!r} (label, number and note are known, "
            "and label_fr, note_fr for another language)"
        )
    label, number, note = (str(item.get(k, "")).strip() for k in ("label", "number", "note"))
    if not label or len(label) > LABEL_MAX:
        raise CrisisSettingError(f"{where}: a label of 1 to {LABEL_MAX} characters is needed")
    if len(note) > NOTE_MAX:
        raise CrisisSettingError(f"{where}: the note is longer than {NOTE_MAX} characters")
    number_problem = check_number(number)
    if number_problem:
        raise CrisisSettingError(f"{where}: {number_problem}")
    return CrisisLine(label, number, note, locale, _in_languages(item, where))


def _in_languages(item: dict[str, Any], where: str) -> tuple[tuple[str, str, str], ...]:
    """A line's label_xx and note_xx, by language."""
    found: dict[str, dict[str, str]] = {}
    for key, value in item.items():
        matched = IN_LANGUAGE_RE.fullmatch(str(key))
        if matched:
            found.setdefault(matched.group(2), {})[matched.group(1)] = str(value).strip()
    for words in found.values():
        if len(words.get("label", "")) > LABEL_MAX:
            raise CrisisSettingError(f"{where}: a label longer than {LABEL_MAX} characters")
        if len(words.get("note", "")) > NOTE_MAX:
            raise CrisisSettingError(f"{where}: a note longer than {NOTE_MAX} characters")
    return tuple(
        (code, words.get("label", ""), words.get("note", ""))
        for code, words in sorted(found.items())
    )


def check_number(number: str) -> str | None:
    """Why a phone number cannot be shown as a tel: link, or None."""
    if not NUMBER_RE.fullmatch(number) or sum(c.isdigit() for c in number) < 2:
        return (
            f"{number!r} is not a phone number (digits; letters as on a keypad, "
            "spaces, - . ( ) and a leading + if you like)"
        )
    if not 2 <= len(dial_digits(number).lstrip("+")) <= DIAL_MAX:
        return f"{number!r} must have 2 to {DIAL_MAX} digits"
    return None


def problem(locale: str, lines: tuple[CrisisLine, ...], emergency_number: str) -> str | None:
    """What is wrong with the crisis settings as a whole, or None."""
    chosen = locale or DEFAULT_LOCALE
    if not LOCALE_RE.fullmatch(chosen):
        return f"crisis_locale {locale!r} is not a locale such as us, fr or qc"
    if emergency_number:
        number_problem = check_number(emergency_number)
        if number_problem:
            return f"emergency_number: {number_problem}"
    if chosen not in SHIPPED:
        if not emergency_number:
            return (
                f"crisis_locale {chosen!r} ships no emergency number: set emergency_number "
                f"(shipped locales: {', '.join(sorted(SHIPPED))})"
            )
        if not _own_lines(lines, chosen):
            return f"crisis_locale {chosen!r} ships no crisis lines: add [[crisis_lines.{chosen}]]"
    return None
