"""PDF: the HTML template typeset by WeasyPrint, in memory, optionally encrypted.

Nothing is written to disk: WeasyPrint writes into memory, and the joining,
numbering and passphrase protection (AES-256, through pypdf) read and write
in memory. WeasyPrint may fetch nothing (see journal/typeset.py).

A long document is typeset in parts, one worker process per CPU (at most
`WORKERS`), each part sent to its worker and back through pipes; the parts'
pages are then joined in order. Typesetting is the slow step (WeasyPrint lays
out some 20 pages per second per core), so this nearly halves the time when
two cores are free. Whatever the number of parts, the joined file gets its bookmarks
rebuilt from all the parts' headings (so sessions nest under their course)
and its "Page n of m" stamped once the total is known; a part cannot number
its own pages, it does not know how many come before or after it.
"""

from __future__ import annotations

import ctypes.util
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache

from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    Fit,
    IndirectObject,
    NameObject,
)

from journal.core.errors import Unavailable
from journal.export.model import CourseDocument, PatientDataDocument
from journal.export.render_html import (
    Part,
    course_html,
    patient_data_html,
    stylesheet,
)
from journal.export.size import Unit, split, units_of
from journal.typeset import Typeset, typeset

WORKERS = min(2, os.cpu_count() or 1)
# Below this much text (characters, see size.py) starting workers costs more than it saves.
PARALLEL_FROM = 60_000
WORKER_TIMEOUT_S = 300

# On paper the running head is in every page's margin, so the cover need not repeat it.
# Fixed margin-box widths spare WeasyPrint measuring their text on every page;
# the page number is stamped after joining (see _number_pages).
PDF_ONLY = """
.running-head { font-size: 0; line-height: 0; margin: 0; }
@page {
  @top-left { width: 70%; }
  @top-right { width: 30%; text-align: right; }
  @bottom-left { width: 70%; }
  @bottom-right { content: none; }
}
"""
NUMBER_SIZE_PT = 8.5
NUMBER_RIGHT_PT = 18 / 25.4 * 72  # the page's right margin, 18 mm
NUMBER_BASELINE_PT = 25.4  # the bottom margin box's baseline, as WeasyPrint sets it
# Helvetica's advance widths (per 1000 units) for the characters of "Page 12 of 340".
HELVETICA = {"P": 667, "a": 556, "g": 556, "e": 556, " ": 278, "o": 556, "f": 278}


def _stylesheets() -> list[str]:
    return [stylesheet(), PDF_ONLY]


def _start_worker() -> subprocess.Popen[bytes]:
    # Started before the parts' HTML is made, so its imports overlap with that work.
    return subprocess.Popen(
        [sys.executable, "-m", "journal.typeset"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _finish_in_worker(worker: subprocess.Popen[bytes], html: str) -> Typeset:
    request = json.dumps({"html": html, "stylesheets": _stylesheets()}).encode("utf-8")
    out, _ = worker.communicate(request, timeout=WORKER_TIMEOUT_S)
    if worker.returncode != 0:
        # The worker's error output may quote the document: never pass it on.
        raise RuntimeError(f"the PDF worker failed (exit status {worker.returncode})")
    header, _, pdf = out.partition(b"\n")
    figures = json.loads(header)
    bookmarks = [
        (int(a), str(b), int(c), float(d), float(e)) for a, b, c, d, e in figures["bookmarks"]
    ]
    return Typeset(pdf, int(figures["pages"]), bookmarks)


# WeasyPrint loads Pango and fontconfig when it is first imported; without them the
# import fails with a bare OSError. Checked once per process, before any typesetting.
SYSTEM_LIBRARIES = ("pango-1.0", "pangoft2-1.0", "fontconfig")
INSTALL_HINT = (
    "PDF export needs the system libraries Pango and fontconfig "
    "(Debian and Ubuntu: apt-get install libpango-1.0-0 libpangoft2-1.0-0 fontconfig "
    "fonts-dejavu-core fonts-noto-core)"
)


@cache
def missing_libraries() -> tuple[str, ...]:
    return tuple(name for name in SYSTEM_LIBRARIES if ctypes.util.find_library(name) is None)


def check_typesetter() -> None:
    """Unavailable, naming what to install, when the typesetter cannot load."""
    missing = missing_libraries()
    if missing:
        raise Unavailable(f"{INSTALL_HINT}; not found: {', '.join(missing)}")


def _typeset_parts(count: int, html_of: Callable[[int], str]) -> list[Typeset]:
    """Part i's HTML is `html_of(i)`; one part is typeset here, more in workers."""
    check_typesetter()
    if count == 1:
        return [typeset(html_of(0), _stylesheets())]
    workers = [_start_worker() for _ in range(count)]
    try:
        htmls = [html_of(i) for i in range(count)]
        with ThreadPoolExecutor(count) as pool:
            return list(pool.map(_finish_in_worker, workers, htmls))
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()


def _number_pages(writer: PdfWriter) -> None:
    """Stamp "Page n of m" at the bottom right of every page, in Helvetica (a font
    every PDF reader has, so nothing is embedded)."""
    font = writer._add_object(
        DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type1"),
                NameObject("/BaseFont"): NameObject("/Helvetica"),
                NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
            }
        )
    )
    save = DecodedStreamObject()
    save.set_data(b"q\n")
    save_ref = writer._add_object(save)
    total = len(writer.pages)
    for number, page in enumerate(writer.pages, 1):
        text = f"Page {number} of {total}"
        width = sum(HELVETICA.get(c, 556) for c in text) * NUMBER_SIZE_PT / 1000
        x = float(page.mediabox.right) - NUMBER_RIGHT_PT - width
        stamp = DecodedStreamObject()
        stamp.set_data(
            f"\nQ q BT /KapPageNumber {NUMBER_SIZE_PT} Tf 0.333 0.380 0.373 rg "
            f"{x:.2f} {NUMBER_BASELINE_PT} Td ({text}) Tj ET Q\n".encode("ascii")
        )
        resources = page["/Resources"].get_object()
        assert isinstance(resources, DictionaryObject)
        fonts = resources.setdefault(NameObject("/Font"), DictionaryObject()).get_object()
        assert isinstance(fonts, DictionaryObject)
        fonts[NameObject("/KapPageNumber")] = font
        contents = page.raw_get("/Contents")
        resolved = contents.get_object()
        streams = list(resolved) if isinstance(resolved, ArrayObject) else [contents]
        page[NameObject("/Contents")] = ArrayObject([save_ref, *streams, writer._add_object(stamp)])


def _outline(writer: PdfWriter, parts: list[Typeset]) -> None:
    """Bookmarks from every part's headings, nested by heading level across parts."""
    stack: list[tuple[int, IndirectObject]] = []
    offset = 0
    for part in parts:
        for level, label, index, x, y in part.bookmarks:
            page = writer.pages[offset + index]
            top = float(page.mediabox.top) - y * 0.75  # CSS px to PDF points, from the bottom
            while stack and stack[-1][0] >= level:
                stack.pop()
            item = writer.add_outline_item(
                title=label,
                page_number=offset + index,
                parent=stack[-1][1] if stack else None,
                fit=Fit.xyz(left=x * 0.75, top=top),
            )
            stack.append((level, item))
        offset += part.pages


def _join(parts: list[Typeset], passphrase: str | None) -> bytes:
    first = PdfReader(io.BytesIO(parts[0].pdf))
    writer = PdfWriter()
    for part in parts:
        writer.append(PdfReader(io.BytesIO(part.pdf)), import_outline=False)
    if first.metadata:
        writer.add_metadata(dict(first.metadata))
    writer.page_mode = "/UseOutlines"
    _outline(writer, parts)
    _number_pages(writer)
    if passphrase:
        # The passphrase is both user and owner password: the file opens only with it.
        writer.encrypt(user_password=passphrase, owner_password=passphrase, algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _groups(units: list[Unit], parts: int | None) -> list[list[Unit]]:
    size = sum(u.size for u in units)
    count = parts if parts is not None else (WORKERS if size >= PARALLEL_FROM else 1)
    return split(units, count)


def _as_parts(group: list[Unit]) -> list[Part]:
    """Consecutive units of one course become one part of the template."""
    out: list[Part] = []
    for unit in group:
        if out and out[-1][0] is unit.course:
            doc, head, shown = out[-1]
            out[-1] = (doc, head, (*(shown or ()), *unit.sessions))
        else:
            out.append((unit.course, unit.head, unit.sessions))
    return out


def render_course(
    doc: CourseDocument, passphrase: str | None = None, *, parts: int | None = None
) -> bytes:
    """`parts`: typeset in this many parts (default: by the document's length)."""
    groups = _groups(units_of([doc]), parts)

    def html_of(i: int) -> str:
        return course_html(doc, embed_css=False, parts=_as_parts(groups[i]))

    return _join(_typeset_parts(len(groups), html_of), passphrase)


def render_patient_data(
    doc: PatientDataDocument, passphrase: str | None = None, *, parts: int | None = None
) -> bytes:
    groups = _groups(units_of(list(doc.courses)), parts) or [[]]

    def html_of(i: int) -> str:
        return patient_data_html(doc, embed_css=False, parts=_as_parts(groups[i]), head=i == 0)

    return _join(_typeset_parts(len(groups), html_of), passphrase)
