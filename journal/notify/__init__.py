"""Reaching people outside the app: the e-mail the worker sends, and when."""

from __future__ import annotations

from journal.core.catalogues import Words, reader_words

__all__ = ["ngettext", "reader_words"]


def ngettext(one: str, many: str, count: int, words: Words, **values: object) -> str:
    """`words.plural(one, many, count)`, under the name `make strings` reads as a plural:
    both forms are extracted as one message, with the language's plural forms."""
    return words.plural(one, many, count, **values)
