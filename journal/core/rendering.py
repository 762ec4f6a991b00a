"""Markdown to safe HTML: raw HTML off in the renderer, then an nh3 allow-list.

cmarkgfm (the C CommonMark reference) renders a typical entry in well under a
millisecond; with its default options raw HTML is omitted and unsafe link
schemes are dropped, and nh3 then removes anything outside the allow-list.
"""

from __future__ import annotations

import html

import cmarkgfm
import nh3
from cmarkgfm.cmark import Options

_TAGS = {
    "p",
    "br",
    "hr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "strong",
    "em",
    "del",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}
_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
_OPTIONS = Options.CMARK_OPT_VALIDATE_UTF8 | Options.CMARK_OPT_STRIKETHROUGH_DOUBLE_TILDE
# Built once: nh3.clean() with options builds a new cleaner on every call,
# which costs more than the cleaning itself. Cleaners hold no state between calls.
_CLEANER = nh3.Cleaner(
    tags=_TAGS,
    attributes=_ATTRIBUTES,
    url_schemes={"http", "https", "mailto"},
    link_rel="noopener noreferrer nofollow",
    strip_comments=True,
)
_TEXT_ONLY = nh3.Cleaner(tags=set(), strip_comments=True)


def render_markdown(text: str) -> str:
    raw = cmarkgfm.github_flavored_markdown_to_html(text, options=_OPTIONS)
    return _CLEANER.clean(raw)


def plain_text(text: str) -> str:
    """Markdown as the words a reader sees, whitespace collapsed (for quotes and search)."""
    raw = cmarkgfm.github_flavored_markdown_to_html(text, options=_OPTIONS)
    plain = html.unescape(_TEXT_ONLY.clean(raw))
    return " ".join(plain.split())


STAND_IN_CHARS = 60  # characters of the body that stand in for a missing title


def stand_in_title(body: str) -> str:
    """What stands in for an entry's missing title: its first words."""
    return plain_excerpt(body, STAND_IN_CHARS) or "Untitled"


def plain_excerpt(text: str, limit: int = 240) -> str:
    """The first words of an entry as plain text, for cards and lists."""
    # A card shows the first few hundred characters, so render only a generous head
    # of a long entry, cut at a space. If the head's words reach well past the card,
    # markup broken at the cut cannot reach what the card shows; else render it all.
    plain = ""
    if len(text) > limit * 4:
        plain = plain_text(text[: limit * 4].rsplit(maxsplit=1)[0])
    if len(plain) < 2 * limit:
        plain = plain_text(text)
    if len(plain) <= limit:
        return plain
    return plain[:limit].rsplit(" ", 1)[0] + "…"
