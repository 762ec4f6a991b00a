"""Words people read for the closed sets of values: one list for pages and exports."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from typing import Any

from babel.dates import format_date

from journal.models import Phase, SessionStatus, Visibility


class Phrase(str):
    """Words with named values (`%(limit)s`): reads as the English with the values put
    in, and keeps the marked words and the values so each language can put them into
    its own sentence (journal/web/i18n.py `translate`, journal/core/catalogues.py)."""

    __slots__ = ("values", "words")
    words: str
    values: dict[str, object]

    def __new__(cls, words: str, values: Mapping[str, object]) -> Phrase:
        # Whole numbers read with their thousands marked, as each language marks them.
        english = {k: f"{v:,}" if type(v) is int else v for k, v in values.items()}
        phrase = super().__new__(cls, words % english if values else words)
        phrase.words = words
        phrase.values = dict(values)
        return phrase

    def __getnewargs__(self) -> tuple[str, dict[str, object]]:  # type: ignore[override]
        """Copied and pickled as its words and values, not as its English."""
        return self.words, self.values


class DayInWords(Phrase):
    """A day inside a sentence ("Date: Sat 05 Dec 2026 → Sun 06 Dec 2026"; short: "5 Mar
    2026"): reads as the English, and is compared as that text; `translate`
    (journal/web/i18n.py) and `Words` (journal/core/catalogues.py) write it as the
    reader's language does ("sam. 5 déc. 2026"; short: "5 mars 2026")."""

    __slots__ = ("day", "short")
    day: date
    short: bool

    def __new__(cls, day: date, short: bool = False) -> DayInWords:
        english = f"{day.day} {day:%b %Y}" if short else day.strftime("%a %d %b %Y")
        text = super().__new__(cls, english, {})
        text.day = day  # type: ignore[attr-defined]
        text.short = short  # type: ignore[attr-defined]
        return text  # type: ignore[return-value]

    def __getnewargs__(self) -> tuple[date, bool]:  # type: ignore[override]
        """Copied and pickled as its day."""
        return (self.day, self.short)

    def in_language(self, language: str) -> str:
        if language.split("_")[0] == "en":
            return str(self)
        pattern = "d MMM y" if self.short else "EEE d MMM y"
        return str(format_date(self.day, pattern, locale=language))


# Marks a kept Phrase (`kept`), so that reading it back gives the Phrase, not its English.
_KEPT = "\x1ephrase:"


def kept(words: str) -> str:
    """Words to keep (sealed in a row) that each reader sees later in their own
    language: a Phrase is kept with its marked words and values; other text as it is."""
    return (
        _KEPT + json.dumps(_tree(words), ensure_ascii=False) if isinstance(words, Phrase) else words
    )


def read_kept(text: str) -> str:
    """What `kept` wrote: the Phrase again (reading as the same English), or the text."""
    return _phrase(json.loads(text.removeprefix(_KEPT))) if text.startswith(_KEPT) else text


def _tree(phrase: Phrase) -> dict[str, object]:
    values = {k: _tree(v) if isinstance(v, Phrase) else v for k, v in phrase.values.items()}
    return {"words": phrase.words, "values": values}


def _phrase(tree: dict[str, Any]) -> Phrase:
    values = {k: _phrase(v) if isinstance(v, dict) else v for k, v in tree["values"].items()}
    return Phrase(str(tree["words"]), values)


def N_(words: str, **values: object) -> str:
    """Marks words for the catalogues (journal/translations, `make strings`); the web
    layer translates them where it shows them (journal/web/i18n.py `translate`).
    With values, the words name them (`%(limit)s`) and a `Phrase` carries them."""
    return Phrase(words, values) if values else words


PHASE_LABELS = {
    Phase.PREPARATION: N_("Preparation"),
    Phase.IN_SESSION: N_("In-session insights"),
    Phase.INTEGRATION: N_("Integration"),
}
VISIBILITY_LABELS = {
    Visibility.PRIVATE: N_("Private: only you"),
    Visibility.CARE_TEAM: N_("Shared with the care team"),
    Visibility.CLINICIAN_ONLY: N_("Clinicians only"),
}
SHORT_VISIBILITY = {
    Visibility.PRIVATE: N_("Private"),
    Visibility.CARE_TEAM: N_("Care team"),
    Visibility.CLINICIAN_ONLY: N_("Clinicians only"),
}
STATUS_LABELS = {
    SessionStatus.SCHEDULED: N_("Scheduled"),
    SessionStatus.COMPLETED: N_("Completed"),
    SessionStatus.CANCELLED: N_("Cancelled"),
}
