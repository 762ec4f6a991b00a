"""Reaching people outside the app: the e-mail the worker sends, and when."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from sqlalchemy import select

from journal.accounts.accounts import normalise_email
from journal.core.catalogues import Words, reader_words
from journal.models import User

if TYPE_CHECKING:
    from journal.core.work import Work

__all__ = ["ngettext", "reader_words", "words_for"]


def words_for(work: Work, user_id: uuid.UUID | None, address: str) -> Words:
    """A message's words in its reader's language: the account's it goes to, or the one
    with its address (the safety contact's, when they have an account)."""
    language = work.db.scalar(
        select(User.language).where(User.id == user_id)
        if user_id is not None
        else select(User.language).where(User.email == normalise_email(address))
    )
    return reader_words(work.settings, language)


def ngettext(one: str, many: str, count: int, words: Words, **values: object) -> str:
    """`words.plural(one, many, count)`, under the name `make strings` reads as a plural:
    both forms are extracted as one message, with the language's plural forms."""
    return words.plural(one, many, count, **values)
