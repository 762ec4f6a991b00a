"""A long PDF is typeset in parts by worker processes and joined: the joined file
must be the same document as one typeset whole (pages, numbers, header, bookmarks)."""

from __future__ import annotations

import io
from dataclasses import replace
from typing import Any

from pypdf import PdfReader

from journal.export import render_pdf
from journal.export.model import AccountInfo, PatientDataDocument, Scope
from journal.models import Role
from tests.test_export_snapshots import PATIENT, ZONE, at, document, uid

HEADER = "Mira Quell (fictional) · course started 01 Mar 2031"


def pages(pdf: bytes, passphrase: str | None = None) -> list[str]:
    reader = PdfReader(io.BytesIO(pdf))
    if passphrase is not None:
        reader.decrypt(passphrase)
    return [page.extract_text() for page in reader.pages]


def outline(pdf: bytes) -> list[tuple[int, str, int]]:
    """(depth, title, page index) of every bookmark, in order."""
    reader = PdfReader(io.BytesIO(pdf))
    found: list[tuple[int, str, int]] = []

    def walk(items: list[Any], depth: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
            else:
                page = reader.get_destination_page_number(item)
                found.append((depth, item.title, page))

    walk(reader.outline, 0)
    return found


def test_a_course_typeset_in_parts_is_the_document_typeset_whole() -> None:
    doc = document()
    whole = render_pdf.render_course(doc, parts=1)
    joined = render_pdf.render_course(doc, parts=3)  # cover, session 1, session 2
    assert pages(joined) == pages(whole)
    assert outline(joined) == outline(whole)
    texts = pages(joined)
    assert len(texts) >= 3
    for number, text in enumerate(texts, 1):
        assert f"Page {number} of {len(texts)}" in text
        assert HEADER in text
    depths = {title.split(":")[0]: depth for depth, title, _ in outline(joined)}
    assert depths["Treatment-course summary"] == 0
    assert depths["Session 1"] == depths["Session 2"] == 1  # nested under the summary


def test_patient_data_in_parts_keeps_its_cover_once_and_every_course() -> None:
    first = document(Scope.PATIENT_PRIVATE)
    second = replace(first, course=replace(first.course, id=uid(8)))
    account = AccountInfo(PATIENT.id, PATIENT.name, "mira@clinic.example", Role.PATIENT, at(1))
    doc = PatientDataDocument(
        at(20, 12), "Harbour Clinic (fictional)", ZONE, account, (first, second)
    )
    whole = render_pdf.render_patient_data(doc, parts=1)
    joined = render_pdf.render_patient_data(doc, parts=4)
    assert pages(joined) == pages(whole)
    assert outline(joined) == outline(whole)
    text = "\n".join(pages(joined))
    assert text.count("Everything in my journal") >= 1
    assert text.count("mira@clinic.example") == 1
    assert text.count("Treatment-course summary") >= 2


def test_a_protected_pdf_in_parts_opens_only_with_its_passphrase() -> None:
    passphrase = "a long fictional passphrase"
    pdf = render_pdf.render_course(document(), passphrase, parts=2)
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.is_encrypted
    assert not reader.decrypt("the wrong passphrase, fictional")
    assert pages(pdf, passphrase) == pages(render_pdf.render_course(document(), parts=1))
