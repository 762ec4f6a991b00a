"""Help for someone in distress: the local emergency number and the crisis lines.

The Get-help page (`/help`) and the message after a PHQ-9 item 9 answer show them.
Each locale ships a documented default (`SHIPPED`); a clinic chooses its locale
(`crisis_locale`) and lists its own lines (`crisis_lines`) and, if it differs, the
emergency number (`emergency_number`) in instance/config.toml. Until it has, the app
warns at start-up and on the admin's pages (`defaults_in_place`).

Plain data and checks: no Flask, no database. journal/config.py reads the settings
through `parse_lines` and `problem`; the web layer shows `help_for(settings)`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from journal.config import Settings

# Shown to a patient whose answers raise a safety flag; each clinic sets its own
# (`crisis_resources` in instance/config.toml, or JOURNAL_CRISIS_RESOURCES).
DEFAULT_CRISIS_RESOURCES = (
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


_FREE_DAY_AND_NIGHT = "Free, day and night, every day of the year."
SHIPPED: dict[str, Locale] = {
    "us": Locale(
        "the United States",
        "911",
        (
            CrisisLine(
                "988 Suicide & Crisis Lifeline",
                "988",
                "Call or text. " + _FREE_DAY_AND_NIGHT,
                "us",
            ),
        ),
    ),
    "fr": Locale(
        "France",
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
        "Québec",
        "911",
        (
            CrisisLine(
                "Suicide prevention line for Québec",
                "1-866-APPELLE",
                _FREE_DAY_AND_NIGHT,
                "qc",
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


def help_for(settings: Settings) -> CrisisHelp:
    """The clinic's lines for its locale, else the shipped ones; its emergency number,
    else the locale's."""
    locale = locale_of(settings)
    shipped = SHIPPED.get(locale)
    own = _own_lines(settings.crisis_lines, locale)
    return CrisisHelp(
        locale=locale,
        place=shipped.name if shipped else "",
        emergency_number=settings.emergency_number or (shipped.emergency_number if shipped else ""),
        lines=own or (shipped.lines if shipped else ()),
    )


def defaults_in_place(settings: Settings) -> list[str]:
    """The crisis settings the clinic has not set yet, in words for the admin."""
    found = []
    locale = locale_of(settings)
    shipped = SHIPPED.get(locale)
    if not settings.crisis_locale:
        found.append(
            f"crisis_locale is not set: the emergency number and lines shown are those "
            f"for {SHIPPED[DEFAULT_LOCALE].name}"
        )
    if not _own_lines(settings.crisis_lines, locale) and shipped is not None:
        found.append(
            f"crisis_lines is not set: only the national lines shipped for {shipped.name} "
            "are shown, none of your clinic's own"
        )
    if settings.crisis_resources.strip() == DEFAULT_CRISIS_RESOURCES:
        found.append(
            "crisis_resources is the shipped text (shown after an answer that raises a safety flag)"
        )
    return found


# -- reading instance/config.toml ---------------------------------------------


class CrisisSettingError(ValueError):
    """A crisis setting the app cannot show; journal/config.py says which."""


def parse_lines(raw: Any, locale: str) -> tuple[CrisisLine, ...]:
    """`crisis_lines` from config.toml: a list of {label, number, note} for the clinic's
    locale, or a table of such lists by locale (`[[crisis_lines.fr]]`)."""
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
    unknown = set(item) - LINE_KEYS
    if unknown:
        raise CrisisSettingError(
            f"{where}: unknown key {sorted(unknown)[0]!r} (label, number and note are known)"
        )
    label, number, note = (str(item.get(k, "")).strip() for k in ("label", "number", "note"))
    if not label or len(label) > LABEL_MAX:
        raise CrisisSettingError(f"{where}: a label of 1 to {LABEL_MAX} characters is needed")
    if len(note) > NOTE_MAX:
        raise CrisisSettingError(f"{where}: the note is longer than {NOTE_MAX} characters")
    number_problem = check_number(number)
    if number_problem:
        raise CrisisSettingError(f"{where}: {number_problem}")
    return CrisisLine(label, number, note, locale)


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
