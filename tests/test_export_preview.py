"""The picture of the export in the docs: the demo course's summary, first two PDF pages.

`make screenshots` writes it to
docs/screenshots/export-preview.png with the pages' screenshots; without it
the picture goes to a temporary folder, and the test still checks that the
PDF a clinician gets for the demo course renders, cover first.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from flask import Flask
from PIL import Image, ImageStat
from sqlalchemy import select

from journal import export
from journal.core.actor import Actor
from journal.export.model import ExportOptions
from journal.models import Course, User
from tests.conftest import create_demo, runtime, work_in
from tests.export_helpers import pdf_text

DPI = 72  # an A4 page is then about 595 x 842 pixels
GAP = 16


def demo_summary_pdf(app: Flask) -> bytes:
    """The PDF the demo clinician downloads for the demo patient's course, default options."""
    create_demo(app)
    rt = runtime(app)
    with rt.database.session() as db:
        clinician = db.scalars(select(User).where(User.email == "rivera@demo.example")).one()
        course = db.scalars(
            select(Course)
            .join(User, User.id == Course.patient_id)
            .where(User.email == "jordan@demo.example")
        ).one()
        file = export.export_course(
            work_in(rt, db, Actor(clinician)),
            course.id,
            "pdf",
            ExportOptions(),
            clinic_name=rt.settings.clinic_name,
            zone=rt.settings.zone,
            catalogue=rt.clinical.instruments,
            checklist=rt.clinical.screening,
        ).file()
    return file.content


def first_pages(pdf: bytes, out: Path) -> list[Image.Image]:
    """Pages 1 and 2 as pictures, through poppler's pdftoppm (Debian's poppler-utils),
    which reads the PDF from its standard input."""
    if shutil.which("pdftoppm") is None:
        pytest.fail("pdftoppm not found: apt-get install -y poppler-utils")
    subprocess.run(
        ["pdftoppm", "-f", "1", "-l", "2", "-r", str(DPI), "-png", "-", str(out / "page")],
        input=pdf,
        check=True,
        capture_output=True,
    )
    return [Image.open(p).convert("RGB") for p in sorted(out.glob("page-*.png"))]


def side_by_side(pages: list[Image.Image]) -> Image.Image:
    width = sum(p.width for p in pages) + GAP * (len(pages) + 1)
    height = max(p.height for p in pages) + 2 * GAP
    sheet = Image.new("RGB", (width, height), (222, 226, 224))
    x = GAP
    for p in pages:
        sheet.paste(p, (x, GAP))
        x += p.width + GAP
    return sheet


def test_the_demo_course_summary_makes_the_docs_picture(app: Flask, tmp_path: Path) -> None:
    content = demo_summary_pdf(app)
    text = pdf_text(content)
    assert "Treatment-course summary" in text and "Jordan Lake" in text
    pages = first_pages(content, tmp_path)
    # Two A4 pages, portrait (210 x 297 mm at 72 dpi, give or take a pixel of rounding).
    assert len(pages) == 2 and all(
        abs(p.width - 595) <= 1 and abs(p.height - 842) <= 1 for p in pages
    )
    # Printed pages, not blank ones: each has dark text on its light paper.
    assert all(ImageStat.Stat(p.convert("L")).extrema[0][0] < 80 for p in pages)
    out = Path(os.environ.get("JOURNAL_SCREENSHOTS") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    side_by_side(pages).save(out / "export-preview.png", optimize=True)
    assert (out / "export-preview.png").stat().st_size > 20_000
