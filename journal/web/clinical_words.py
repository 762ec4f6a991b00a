"""The clinical words on the pages: labels the domain marks with `N_` (routes, side
effects, checklist items, safety-plan steps, flags...) and the words of the shipped
data files (journal/core/data_words.py), in the page's language.

`translate` (journal/web/i18n.py) also translates the values of a `Phrase` that are
phrases themselves (a blood-pressure flag names when the reading was taken and the
threshold it passed, each its own marked words). In templates, the app-wide `words`
filter (journal/web/filters.py); in forms built at import, `lazy_words` (read at
request time). A clinic's own words (its added checklist items) are not in the
catalogues and read as written.
"""

from __future__ import annotations

from flask_babel.speaklater import LazyString
from markupsafe import Markup, escape

from journal.web.i18n import translate

# The name the pages and forms import it by, beside `lazy_words`.
words = translate


class LazyWords(LazyString):
    """Read when shown, and escaped on the page like any text (Flask-Babel's lazy
    strings count as markup)."""

    def __html__(self) -> Markup:
        return escape(str(self))


def lazy_words(marked: str) -> LazyWords:
    """`translate` when the text is read (a form's fields and choices, made at import)."""
    return LazyWords(translate, marked)
