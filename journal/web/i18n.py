"""The language a page is shown in: the person's own choice, else their browser's
(Accept-Language) among the languages the clinic offers, else the clinic's default.

Strings are marked with Flask-Babel's `gettext` / `lazy_gettext` (`_` in templates);
the catalogues are journal/translations/<code>/LC_MESSAGES/messages.po, compiled at
install (`make install`), extracted and updated with `make strings`.
"""

from __future__ import annotations

from flask import Flask, request
from flask_babel import Babel, get_locale, gettext
from flask_babel.speaklater import LazyString
from flask_login import current_user
from markupsafe import Markup, escape

from journal.config import LANGUAGES
from journal.core.catalogues import number_in
from journal.core.labels import DayInWords, Phrase
from journal.web import context

# Written right to left; none of the journal's languages is yet.
RIGHT_TO_LEFT = frozenset({"ar", "fa", "he", "ur"})


def translate(words: str) -> str:
    """Words marked in the domain with `N_` (journal/core/labels.py), in the page's
    language, with a `Phrase`'s values put into the translated sentence (a value that
    is itself a Phrase is translated first; whole numbers get the language's grouping;
    a day is written as the language writes it)."""
    if isinstance(words, DayInWords):
        return words.in_language(str(get_locale() or "en"))
    if isinstance(words, Phrase):
        values = {k: _value(v) for k, v in words.values.items()}
        return str(gettext(words.words, **values))
    return str(gettext(words))


def _value(value: object) -> object:
    if isinstance(value, Phrase):
        return translate(value)
    return number_in(value, str(get_locale() or "en"))


class LazyWords(LazyString):
    """Read when shown, and escaped on the page like any text (Flask-Babel's lazy
    strings count as markup)."""

    def __html__(self) -> Markup:
        return escape(str(self))


def lazy_words(marked: str) -> LazyWords:
    """`translate` when the text is read: a form's fields and choices, made at import,
    from words the domain marked (a clinic's own words read as written)."""
    return LazyWords(translate, marked)


def select_language() -> str:
    settings = context.runtime().settings
    offered = settings.languages
    if current_user.is_authenticated:
        own = current_user.user.language
        if own in offered:
            return str(own)
    return request.accept_languages.best_match(offered) or settings.default_language


def init_i18n(app: Flask) -> None:
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = "translations"
    app.config["BABEL_DEFAULT_TIMEZONE"] = context.runtime_of(app).settings.timezone
    Babel(app, locale_selector=select_language)

    @app.context_processor
    def language() -> dict[str, object]:
        code = str(get_locale() or "en")
        return {
            "page_lang": code,
            "page_dir": "rtl" if code in RIGHT_TO_LEFT else "ltr",
            "languages_offered": [(c, LANGUAGES[c]) for c in context.runtime().settings.languages],
        }
