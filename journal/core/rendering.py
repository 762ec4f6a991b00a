"""Markdown to safe HTML: raw HTML off in the renderer, then an nh3 allow-list.

cmarkgfm (the C CommonMark reference) renders a typical entry in well under a
millisecond; with its default options raw HTML is omitted and unsafe link
schemes are dropped, and nh3 then removes anything outside the allow-list.
"""

from __future__ import annotations

import ctypes
import html

import nh3
from cmarkgfm import _cmark
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

# cmarkgfm's own github_flavored_markdown_to_html (2025.10.22) frees neither the HTML
# that cmark returns nor the parsed document: about 5.5 KB of C memory lost per call,
# which no collection or malloc_trim gets back, so a worker grew with every page it
# served (docs/performance.md, "Worker memory"). The same calls on the same compiled
# library, with both freed: cmark allocates with the C library's malloc, and
# cmark_node_free is exported by the library though cmarkgfm does not declare it.
_LIB, _FFI = _cmark.lib, _cmark.ffi
_NODE_FREE = ctypes.CDLL(_cmark.__file__).cmark_node_free
_NODE_FREE.argtypes, _NODE_FREE.restype = [ctypes.c_void_p], None
_FREE = ctypes.CDLL(None).free
_FREE.argtypes, _FREE.restype = [ctypes.c_void_p], None
_EXTENSIONS = (b"table", b"autolink", b"tagfilter", b"strikethrough", b"tasklist")


def _address(pointer: object) -> int:
    return int(_FFI.cast("uintptr_t", pointer))


def _gfm_to_html(text: str) -> str:
    """cmarkgfm.github_flavored_markdown_to_html(text, options=_OPTIONS), without its leak."""
    options = _OPTIONS | Options.CMARK_OPT_GITHUB_PRE_LANG
    _LIB.cmark_gfm_core_extensions_ensure_registered()
    parser = _LIB.cmark_parser_new(options)
    try:
        for name in _EXTENSIONS:
            _LIB.cmark_parser_attach_syntax_extension(
                parser, _LIB.cmark_find_syntax_extension(name)
            )
        data = text.encode("utf-8")
        _LIB.cmark_parser_feed(parser, data, len(data))
        root = _LIB.cmark_parser_finish(parser)
        try:
            extensions = _LIB.cmark_parser_get_syntax_extensions(parser)
            raw = _LIB.cmark_render_html(root, options, extensions)
            try:
                return str(_FFI.string(raw).decode("utf-8"))
            finally:
                _FREE(_address(raw))
        finally:
            _NODE_FREE(_address(root))
    finally:
        _LIB.cmark_parser_free(parser)


def render_markdown(text: str) -> str:
    raw = _gfm_to_html(text)
    return _CLEANER.clean(raw)


def plain_text(text: str) -> str:
    """Markdown as the words a reader sees, whitespace collapsed (for quotes and search)."""
    raw = _gfm_to_html(text)
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
