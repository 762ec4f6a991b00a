"""The clinical words on the pages: labels the domain marks with `N_` (routes, side
effects, checklist items, safety-plan steps, flags...) and the words of the shipped
data files (journal/core/data_words.py), in the page's language.

`words` is `translate` (journal/web/i18n.py), which also translates the values of a
`Phrase` that are phrases themselves (a blood-pressure flag names when the reading was
taken and the threshold it passed, each its own marked words). In templates, the
`clinical_words` filter; in forms built at import, `lazy_words` (read at request time).
A clinic's own words (its added checklist items) are not in the catalogues and read as
written.
"""

from __future__ import annotations

from flask_babel.speaklater import LazyString
from markupsafe import Markup, escape

from journal.web.i18n import translate


def words(marked: str) -> str:
    """Marked words in the page's language; a phrase's own phrases with it."""
    return translate(marked)


class LazyWords(LazyString):
    """Read when shown, and escaped on the page like any text (Flask-Babel's lazy
    strings count as markup)."""

    def __html__(self) -> Markup:
        return escape(str(self))


def lazy_words(marked: str) -> LazyWords:
    """`words` when the text is read (a form's fields and choices, made at import)."""
    return LazyWords(words, marked)


def lower_first(text: str) -> str:
    return f"{text[:1].lower()}{text[1:]}"
