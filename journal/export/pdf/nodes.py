"""Markdown as a tree of plain nodes, for the Typst template to lay out.

Entries are Markdown. They are rendered to HTML by the same renderer as the pages
(journal/core/rendering.py: cmarkgfm, then nh3's allow-list), and that HTML is read
back here into nodes the template draws with its own functions. No text a person
wrote is ever Typst markup: a node's text is a JSON string, which Typst shows as
it is (`#read(...)`, `$`, `@`, `<label>` and backslashes included).

A node is a string (text) or a dict with a kind `k` and, by kind:
  blocks: p (paragraph: children `c`, direction `d` "rtl" when its first strong
          character is right-to-left), h (heading: level `l`, `c`), ul / ol (items
          `c`, each an `li` with `c`; ol's first number `s`), quote (`c`), pre (code
          block: text `x`), hr, table (rows `c`, each a `tr` of `th` / `td` cells);
  inline: em, strong, del (`c`), code (text `x`), a (link: address `u`, `c`), br.
Nesting deeper than MAX_DEPTH is flattened into its parent (Typst caps the depth
of nested calls, and no reader follows a list 100 levels deep).
"""

from __future__ import annotations

import unicodedata
from html.parser import HTMLParser
from typing import Any

from journal.core.rendering import render_markdown

Node = str | dict[str, Any]

MAX_DEPTH = 12
BLOCKS = {"p", "h", "ul", "ol", "li", "quote", "pre", "hr", "table", "tr", "th", "td"}
# The HTML the renderer allows (journal/core/rendering.py), as node kinds.
KINDS = {
    "p": "p",
    "h1": "h",
    "h2": "h",
    "h3": "h",
    "h4": "h",
    "h5": "h",
    "h6": "h",
    "ul": "ul",
    "ol": "ol",
    "li": "li",
    "blockquote": "quote",
    "pre": "pre",
    "table": "table",
    "tr": "tr",
    "th": "th",
    "td": "td",
    "em": "em",
    "strong": "strong",
    "del": "del",
    "code": "code",
    "a": "a",
}
EMPTY = {"br", "hr"}
RTL = {"R", "AL"}


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root: dict[str, Any] = {"k": "root", "c": []}
        self.stack: list[dict[str, Any]] = [self.root]
        self.skipped: list[str] = []  # end tags to ignore: flattened or unknown elements

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        top = self.stack[-1]
        if tag in EMPTY:
            top["c"].append({"k": tag})
            return
        kind = KINDS.get(tag)
        if kind is None or top["k"] in ("pre", "code"):
            self.skipped.append(tag)  # thead, tbody, or code inside pre: keep the text only
            return
        if len(self.stack) > MAX_DEPTH:
            if kind in BLOCKS and _ends_inline(top["c"]):
                top["c"].append({"k": "br"})  # flattened blocks still start a line
            self.skipped.append(tag)
            return
        node: dict[str, Any] = {"k": kind, "c": []}
        values = dict(attrs)
        if kind == "h":
            node["l"] = int(tag[1])
        elif kind == "a":
            node["u"] = values.get("href") or ""
        elif kind == "ol" and (values.get("start") or "").isdigit():
            node["s"] = int(values["start"] or "1")
        top["c"].append(node)
        self.stack.append(node)

    def handle_endtag(self, tag: str) -> None:
        if tag in EMPTY:
            return
        if self.skipped and self.skipped[-1] == tag:
            self.skipped.pop()
            return
        if len(self.stack) > 1:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.stack[-1]["c"].append(data)


def _ends_inline(children: list[Node]) -> bool:
    """The last thing written is text or an inline element (not a line break)."""
    for child in reversed(children):
        if isinstance(child, str):
            if child.strip():
                return True
            continue
        return bool(child["k"] != "br")
    return False


def _text(node: dict[str, Any]) -> str:
    return "".join(c if isinstance(c, str) else _text(c) for c in node.get("c", ()))


def _direction(node: dict[str, Any]) -> str | None:
    for char in _text(node):
        kind = unicodedata.bidirectional(char)
        if kind in RTL:
            return "rtl"
        if kind == "L":
            return None
    return None


def _is_block(child: Node | None) -> bool:
    return isinstance(child, dict) and child["k"] in BLOCKS


def _tidy(node: dict[str, Any]) -> dict[str, Any]:
    """Whitespace as a browser shows it: runs become one space, and the line breaks
    between blocks go; code keeps its text as written, in `x`."""
    kind = node["k"]
    if kind in ("pre", "code"):
        text = _text(node)
        return {"k": kind, "x": text.removesuffix("\n") if kind == "pre" else text}
    children: list[Node] = []
    for child in node.get("c", ()):
        if isinstance(child, str) and children and isinstance(children[-1], str):
            children[-1] += child  # one run of text, so its whitespace is judged whole
            continue
        children.append(child)
    for i, child in enumerate(children):
        if isinstance(child, str):
            text = " ".join(child.split())
            if child[:1].isspace() and text:
                text = " " + text
            if child[-1:].isspace() and text.strip():
                text += " "
            children[i] = text or " "
        else:
            children[i] = _tidy(child)
    kept: list[Node] = []
    for i, child in enumerate(children):
        before = children[i - 1] if i else None
        if isinstance(child, str):
            after = children[i + 1] if i + 1 < len(children) else None
            if not child.strip() and (
                before is None or after is None or _is_block(before) or _is_block(after)
            ):
                continue
            if isinstance(before, dict) and before["k"] in ("br", *BLOCKS):
                child = child.lstrip()  # a new line starts with what was written
            if _is_block(after):
                child = child.rstrip()
        kept.append(child)
    while kept and isinstance(kept[-1], dict) and kept[-1]["k"] == "br":
        kept.pop()
    if kept and isinstance(kept[0], str):
        kept[0] = kept[0].lstrip()
    if kept and isinstance(kept[-1], str):
        kept[-1] = kept[-1].rstrip()
    out = {k: v for k, v in node.items() if k != "c"}
    if "c" in node:
        out["c"] = [c for c in kept if c != ""]
    if kind in ("p", "h") and _direction(out) == "rtl":
        out["d"] = "rtl"
    return out


def markdown_nodes(text: str) -> list[Node]:
    """The blocks of a Markdown text, as plain nodes."""
    if not text.strip():
        return []
    reader = _Reader()
    reader.feed(render_markdown(text))
    reader.close()
    children: list[Node] = _tidy(reader.root)["c"]
    return children
