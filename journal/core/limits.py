"""Limits on the length of what people write, and the one way to say a text is too long.

Nothing over a limit is cut: the whole text is refused, kept in the form, and the
writer is told its length and the limit, so they can shorten it themselves.
"""

from __future__ import annotations

from journal.core.labels import N_, Phrase


def text_length(text: str) -> int:
    """Characters as the writer sees them. Browsers send a line break in a form as two
    characters (CR LF) but count it as one, so it counts once here too."""
    return len(text) - text.count("\r\n")


# The whole sentence, marked: `what` names the text in words each language agrees with.
THIS_TEXT = N_("This text is %(length)s characters; the limit is %(limit)s. Nothing was saved yet.")


def too_long_message(length: int, limit: int, what: str = THIS_TEXT, **values: object) -> str:
    """`what` is a marked sentence naming `%(length)s` and `%(limit)s` (and any `values`)."""
    return Phrase(what, {**values, "length": length, "limit": limit})


def too_long(text: str, limit: int, what: str = THIS_TEXT, **values: object) -> str | None:
    """The message for a text over `limit` characters, or None when it fits."""
    length = text_length(text)
    return too_long_message(length, limit, what, **values) if length > limit else None


def limit_hint(limit: int) -> str:
    """What a form says beside a field before its limit is reached."""
    return N_("Up to %(limit)s characters.", limit=limit)
