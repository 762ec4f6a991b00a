"""The words people read in the shipped data files, for the catalogues (`make strings`).

A Babel extraction method (babel.cfg, `[extractors]`): from a TOML file it gives every
string value of a field people read (`VISIBLE`: titles, labels, texts, help, hints,
options...), whole and exactly as the TOML parser reads it, so that the web layer
translates it by that same text where it shows it. Ids, keys, codes, versions, phases,
themes and timings are not words to translate, and are left out. Strings in a list
under a field people read (`options = ["...", "..."]`) are each a message; tables and
arrays of tables are walked in the file's order.

The questionnaires (journal/instruments) are not extracted this way (babel.cfg does
not name them).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Collection, Iterator, Mapping
from typing import IO, Any

# The fields whose string values are shown on pages.
VISIBLE = frozenset(
    {
        "title",
        "text",
        "label",
        "labels",
        "help",
        "hint",
        "hints",
        "description",
        "question",
        "options",
        "choices",
        "prompt",
        "summary",
    }
)

Found = tuple[int, str | None, str, list[str]]


class _Lines:
    """Where each field's value starts: the next line, from the last one found, that
    sets the field (`key = ...`)."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.at = 0

    def of(self, key: str) -> int:
        pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
        for number in range(self.at, len(self.lines)):
            if pattern.match(self.lines[number]):
                self.at = number + 1
                return number + 1
        return self.at or 1


def visible_strings(data: Mapping[str, Any], text: str = "") -> Iterator[tuple[int, str]]:
    """(line, words) for each string people read in a parsed TOML document, in order."""
    lines = _Lines(text)

    def walk(table: Mapping[str, Any]) -> Iterator[tuple[int, str]]:
        for key, value in table.items():
            if isinstance(value, Mapping):
                yield from walk(value)
            elif isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
                for entry in value:
                    yield from walk(entry)
            elif key in VISIBLE:
                line = lines.of(key)
                values = value if isinstance(value, list) else [value]
                for v in values:
                    if isinstance(v, str) and v.strip():
                        yield line, v
                    elif isinstance(v, Mapping):
                        yield from walk(v)

    yield from walk(data)


def extract(
    fileobj: IO[bytes],
    keywords: Collection[str],
    comment_tags: Collection[str],
    options: Mapping[str, Any],
) -> Iterator[Found]:
    """Babel's extraction method: `(lineno, funcname, message, comments)` per string."""
    text = fileobj.read().decode(options.get("encoding", "utf-8"))
    for line, words in visible_strings(tomllib.loads(text), text):
        yield line, None, words, []
