"""Typeset HTML into PDF with WeasyPrint, in this process or as a worker process.

As a worker (`python -m journal.typeset`) it reads one JSON request from its
standard input ({"html", "stylesheets"}) and writes a JSON header line
({"pages", "bookmarks"}) and the PDF bytes to its standard output: the
document travels through pipes only, never through a file. This module
imports WeasyPrint and nothing of the app, so a worker starts in about half a
second and its memory is given back when it exits.
"""

from __future__ import annotations

import io
import json
import sys
from dataclasses import dataclass
from typing import NoReturn

# (level, label, page index, x, y): a heading's bookmark, in CSS pixels from the top left.
Bookmark = tuple[int, str, int, float, float]


@dataclass(frozen=True)
class Typeset:
    pdf: bytes
    pages: int
    bookmarks: list[Bookmark]


def _no_fetching(url: str, *args: object, **kwargs: object) -> NoReturn:
    raise ValueError("the export loads no external resources")


def typeset(html: str, stylesheets: list[str]) -> Typeset:
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    fonts = FontConfiguration()  # one for the document and its stylesheets
    css = [CSS(string=s, font_config=fonts) for s in stylesheets]
    document = HTML(string=html, url_fetcher=_no_fetching).render(
        stylesheets=css, font_config=fonts
    )
    bookmarks = [
        (level, label, index, x, y)
        for index, page in enumerate(document.pages)
        for level, label, (x, y), _state in page.bookmarks
    ]
    out = io.BytesIO()
    document.write_pdf(out)
    return Typeset(out.getvalue(), len(document.pages), bookmarks)


def main() -> None:
    import weasyprint  # noqa: F401 (loaded while the parent still makes the HTML)

    request = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    done = typeset(request["html"], request["stylesheets"])
    header = json.dumps({"pages": done.pages, "bookmarks": done.bookmarks})
    sys.stdout.buffer.write(header.encode("utf-8") + b"\n" + done.pdf)
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    main()
