"""Reaching people outside the app: the e-mail the worker sends, and when."""

from __future__ import annotations

from typing import TYPE_CHECKING

from journal.core.catalogues import Words

if TYPE_CHECKING:
    from journal.config import Settings


def reader_words(settings: Settings, language: str | None) -> Words:
    """The words of a message in its reader's language: their own, when the clinic
    offers it, else the clinic's default (written when the event happens, no page)."""
    chosen = language if language in settings.languages else settings.default_language
    return Words(chosen or "en")


def ngettext(one: str, many: str, count: int, words: Words, **values: object) -> str:
    """`words.plural(one, many, count)`, under the name `make strings` reads as a plural:
    both forms are extracted as one message, with the language's plural forms."""
    return words.plural(one, many, count, **values)
