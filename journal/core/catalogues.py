"""The catalogues read outside a web request: exports made by the worker and e-mails
are written in their reader's language, not in the language of the page that asked.

The web layer uses Flask-Babel for its pages; both read the same compiled catalogues
(journal/translations/<code>/LC_MESSAGES/messages.mo, built by `make install`).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from babel.numbers import format_decimal, get_decimal_symbol
from babel.support import NullTranslations, Translations

from journal.core.labels import DayInWords, Phrase

if TYPE_CHECKING:
    from journal.config import Settings

CATALOGUES = Path(__file__).resolve().parent.parent / "translations"


def number_in(value: object, language: str) -> object:
    """A number as a language writes it: a whole number with its thousands mark
    (10,000 / 10 000), a decimal with its decimal mark and the digits given (0.50 /
    0,50); anything else as it is."""
    if type(value) is int:
        return format_decimal(value, locale=language)
    if isinstance(value, Decimal | float):
        return str(value).replace(".", get_decimal_symbol(language))
    return value


@cache
def translations(language: str) -> NullTranslations:
    """The compiled catalogue of a language; English (the source) reads as written."""
    if language == "en":
        return NullTranslations()
    return Translations.load(str(CATALOGUES), [language])


class Words:
    """Translates marked words into one language: `Words("fr")("Preparation")`."""

    __slots__ = ("_catalogue", "language")

    def __init__(self, language: str) -> None:
        self.language = language
        self._catalogue = translations(language)

    def __call__(self, words: str, **values: object) -> str:
        if isinstance(words, DayInWords):  # a day, as the language writes it
            return words.in_language(self.language)
        if isinstance(words, Phrase):
            values = {**words.values, **values}
            words = words.words
        text: str = self._catalogue.gettext(words)
        return text % self._values(values) if values else text

    def _values(self, values: dict[str, object]) -> dict[str, object]:
        """Values in the language: a Phrase translated, a number as it writes them."""
        return {k: self._value(v) for k, v in values.items()}

    def _value(self, value: object) -> object:
        return self(value) if isinstance(value, Phrase) else number_in(value, self.language)

    def plural(self, one: str, many: str, count: int, **values: object) -> str:
        text: str = self._catalogue.ngettext(one, many, count)
        return text % self._values({"num": count, **values})

    def in_context(self, context: str, words: str) -> str:
        return str(self._catalogue.pgettext(context, words))


def reader_words(settings: Settings, language: str | None) -> Words:
    """The words of a message in its reader's language: their own, when the clinic
    offers it, else the clinic's default (written when the event happens, no page)."""
    chosen = language if language in settings.languages else settings.default_language
    return Words(chosen or "en")


def terminal_language(settings: Settings | None, environ: Mapping[str, str]) -> str:
    """The language of the command line's messages: the terminal's (the first of
    LC_ALL, LC_MESSAGES and LANG that is set, "fr_CA.UTF-8" read as "fr"), when the
    clinic offers it, else the clinic's default. Without settings (they could not be
    read), any language the journal has a catalogue for, else English."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if value := environ.get(name, "").strip():
            code = value.split(".")[0].split("@")[0].replace("-", "_").split("_")[0].lower()
            break
    else:
        code = ""
    if code in ("c", "posix"):  # the portable locale names no language
        code = ""
    if settings is None:
        known = code == "en" or (CATALOGUES / code / "LC_MESSAGES" / "messages.mo").is_file()
        return code if code and known else "en"
    return code if code in settings.languages else settings.default_language or "en"
