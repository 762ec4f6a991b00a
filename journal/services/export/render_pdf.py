"""PDF: the HTML template typeset by WeasyPrint, in memory, optionally encrypted.

Nothing is written to disk: WeasyPrint writes into a BytesIO, and the
passphrase protection (AES-256, through pypdf) reads and writes in memory.
WeasyPrint may fetch nothing: the document has no images or external links to
load, and the fetcher refuses every URL to keep it so.
"""

from __future__ import annotations

import io
from typing import NoReturn

from pypdf import PdfReader, PdfWriter
from weasyprint import CSS, HTML

from journal.services.export.model import CourseDocument, PatientDataDocument
from journal.services.export.render_html import course_html, patient_data_html, stylesheet


def _no_fetching(url: str, *args: object, **kwargs: object) -> NoReturn:
    raise ValueError("the export loads no external resources")


# On paper the running head is in every page's margin, so the cover need not repeat it.
PDF_ONLY = ".running-head { font-size: 0; line-height: 0; margin: 0; }"


def html_to_pdf(html: str) -> bytes:
    out = io.BytesIO()
    HTML(string=html, url_fetcher=_no_fetching).write_pdf(
        out, stylesheets=[CSS(string=stylesheet()), CSS(string=PDF_ONLY)]
    )
    return out.getvalue()


def protect(pdf: bytes, passphrase: str) -> bytes:
    """Encrypt with AES-256: the file opens only with the passphrase."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.encrypt(user_password=passphrase, owner_password=passphrase, algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def render_course(doc: CourseDocument, passphrase: str | None = None) -> bytes:
    pdf = html_to_pdf(course_html(doc, embed_css=False))
    return protect(pdf, passphrase) if passphrase else pdf


def render_patient_data(doc: PatientDataDocument, passphrase: str | None = None) -> bytes:
    pdf = html_to_pdf(patient_data_html(doc, embed_css=False))
    return protect(pdf, passphrase) if passphrase else pdf
