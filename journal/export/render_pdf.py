"""PDF: the document model typeset by Typst, in memory, optionally encrypted.

The template (pdf/template/summary.typ) is the only Typst source; the document
reaches it as one JSON value (pdf/data.py, with entries' Markdown as plain
nodes, pdf/nodes.py), so nothing a person wrote is read as Typst markup or
code. Typst runs in a process of its own for each PDF (journal/typeset.py says
why), fed through a pipe; its root is the template's folder, so it may read no
file outside it, the template reads none and imports nothing (so nothing is
fetched either), and its fonts are the ones typeset.py names, never the host's
others. Nothing touches the disk: the PDF comes back through a pipe, and the
passphrase protection (AES-256, through pypdf) reads and writes in memory.

Typst numbers the pages ("Page n of m") and writes the bookmarks from the
headings itself; a 1,000-entry course takes about two seconds.
"""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

from journal import typeset as typesetter
from journal.core.errors import Unavailable
from journal.core.labels import N_
from journal.export.model import CourseDocument, PatientDataDocument
from journal.export.pdf import data

log = logging.getLogger("journal.export")
# Figures of the last PDF typeset by this process (for the benchmark; no content).
last_typeset: dict[str, float | None] = {"peak_mb": None}

PAGE_SIZES = ("a4", "letter")
# Under gunicorn's 30-second worker timeout (docs/deployment.md), so a typesetting that
# runs away ends in a clear error page, not a killed worker; a 1,000-entry course takes 2 s.
TIMEOUT_S = 25
# The typesetting process; -B: it writes no bytecode either, so it opens nothing to write.
COMMAND = [sys.executable, "-B", "-m", "journal.typeset"]


class PdfFailed(Exception):
    """Typesetting failed. `what` is for the person (no content, no detail; marked for
    the catalogues, translated where it is shown);
    `cause` is for the log: Typst's message (about the template: what it could not
    do and where) or how the process ended."""

    def __init__(self, what: str, cause: str) -> None:
        super().__init__(cause)
        self.what = what
        self.cause = cause


def missing_fonts() -> tuple[str, ...]:
    return typesetter.missing_fonts()


def check_typesetter() -> None:
    """Unavailable, naming what to install, when the PDF's fonts are not there."""
    missing = missing_fonts()
    if missing:
        raise Unavailable(f"{typesetter.INSTALL_HINT}; not found: {', '.join(missing)}")


@dataclass(frozen=True)
class Prepared:
    """A document as the template reads it (JSON, UTF-8), ready to be typeset here or by
    the worker (journal/export/jobs.py): its size is what decides which."""

    data: bytes
    timestamp: int


def prepare(document: dict[str, Any], timestamp: int) -> Prepared:
    return Prepared(json.dumps(document, ensure_ascii=False).encode("utf-8"), timestamp)


def typeset(document: dict[str, Any], *, timestamp: int | None = None) -> tuple[bytes, list[str]]:
    """The PDF of the template's data, and Typst's warnings (also logged)."""
    return typeset_json(json.dumps(document, ensure_ascii=False).encode("utf-8"), timestamp)


def typeset_json(data: bytes, timestamp: int | None = None) -> tuple[bytes, list[str]]:
    """The PDF of the template's data given as JSON (UTF-8), and Typst's warnings."""
    check_typesetter()
    request = json.dumps({"timestamp": timestamp}).encode("utf-8") + b"\n" + data
    try:
        done = subprocess.run(  # noqa: S603 (our own module; the document goes to stdin)
            COMMAND,
            input=request,
            capture_output=True,
            timeout=TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise PdfFailed(
            N_("typesetting the PDF took too long"), f"the typesetting process ran {TIMEOUT_S} s"
        ) from None
    header, _, pdf = done.stdout.partition(b"\n")
    if done.returncode == typesetter.TYPST_FAILED:
        cause = str(json.loads(header).get("error", "unknown"))
        raise PdfFailed(N_("the PDF's template or fonts failed"), cause)
    if done.returncode != 0 or not pdf.startswith(b"%PDF"):
        # Only the exception's type is logged: a message (a Rust panic's, say) may quote text.
        last = (done.stderr.decode("utf-8", "replace").strip().splitlines() or [""])[-1]
        raise PdfFailed(
            N_("the PDF could not be made"),
            f"the typesetting process ended with status {done.returncode} "
            f"({last.split(':')[0][:100] or 'no error output'})",
        )
    figures = json.loads(header)
    warnings = [str(w) for w in figures.get("warnings", [])]
    for message in warnings:
        log.warning("PDF typesetting: %s", message)
    last_typeset["peak_mb"] = figures.get("peak_mb")
    log.info(
        "PDF typeset: %d bytes, typesetting process peak %s MB", len(pdf), figures.get("peak_mb")
    )
    return pdf, warnings


def protect(pdf: bytes, passphrase: str) -> bytes:
    """The passphrase is both user and owner password: the file opens only with it."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.encrypt(user_password=passphrase, owner_password=passphrase, algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def finish(prepared: Prepared, passphrase: str | None = None) -> bytes:
    pdf, _ = typeset_json(prepared.data, prepared.timestamp)
    return protect(pdf, passphrase) if passphrase else pdf


def prepare_course(doc: CourseDocument, page_size: str = "a4") -> Prepared:
    return prepare(data.course_summary(doc, page_size), int(doc.generated_at.timestamp()))


def prepare_patient_data(doc: PatientDataDocument, page_size: str = "a4") -> Prepared:
    return prepare(data.patient_data(doc, page_size), int(doc.generated_at.timestamp()))


def render_course(
    doc: CourseDocument, passphrase: str | None = None, *, page_size: str = "a4"
) -> bytes:
    return finish(prepare_course(doc, page_size), passphrase)


def render_patient_data(
    doc: PatientDataDocument, passphrase: str | None = None, *, page_size: str = "a4"
) -> bytes:
    return finish(prepare_patient_data(doc, page_size), passphrase)
