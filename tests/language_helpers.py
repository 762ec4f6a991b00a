"""Finding English left on a page or in a file meant to be in French.

The labels are the catalogue's own: each piece of two words or more of an English
message (between its placeholders and tags) whose French does not hold it. The
demo's people write in English (journal/demo.py): their words are theirs, not labels.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "journal/translations/fr/LC_MESSAGES/messages.po"
PIECES = re.compile(r"%\(\w+\)s|%%|<[^>]*>|\n")


@cache
def _demo_words() -> str:
    return " ".join((ROOT / "journal/demo.py").read_text(encoding="utf-8").split())


@cache
def english_labels() -> tuple[str, ...]:
    with CATALOGUE.open("rb") as f:
        catalogue = read_po(f, locale="fr")
    found = set()
    for message in catalogue:
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        if not message.id or not all(forms):
            continue
        for english in ids:
            for piece in PIECES.split(english):
                piece = " ".join(piece.split()).strip(" .,:;()·")
                if (
                    len(piece.split()) >= 2
                    and "{" not in piece
                    and all(piece not in f for f in forms)
                    and piece not in _demo_words()
                ):
                    found.add(piece)
    return tuple(sorted(found, key=len, reverse=True))


@cache
def _pattern() -> re.Pattern[str]:
    """Any label, as whole words ("a person" is not in "La personne")."""
    return re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, english_labels())) + r")(?!\w)")


def english_left(text: str) -> list[str]:
    """The labels found in `text`, each once."""
    return sorted(set(_pattern().findall(" ".join(text.split()))))
