"""The PDF typeset by Typst: pages, running head, page numbers, bookmarks, paper sizes,
the sessions table, scripts and fonts, passphrase protection and a clear failure.

The documents are the hand-built ones of test_export_snapshots.py (fixed, fictional);
each test typesets as few of them as it needs (one Typst process each)."""

from __future__ import annotations

import io
import logging
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fontTools.ttLib import TTCollection, TTFont
from pypdf import PdfReader
from sqlalchemy import select

from journal import typeset
from journal.export import render_pdf
from journal.export.model import (
    AccountInfo,
    ClinicalRecord,
    CourseDocument,
    EntryRecord,
    PatientDataDocument,
    Scope,
)
from journal.export.pdf import data
from journal.models import AuditEvent, Role
from tests.conftest import Clinic, runtime
from tests.export_helpers import export, is_file
from tests.test_export import make_stale
from tests.test_export_snapshots import PATIENT, ZONE, at, document, uid

HEADER = "Mira Quell (fictional) · course started 01 Mar 2031"
# Points: A4 is 210 x 297 mm, Letter 8.5 x 11 inches.
PAPER = {"a4": (595.3, 841.9), "letter": (612.0, 792.0)}
# pdftotext marks right-to-left runs with embedding controls (U+202B ... U+202C); they
# are its way of reporting direction, not characters of the PDF's text.
BIDI_MARKS = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e"))


def pdftotext(pdf: bytes, *args: str) -> str:
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext not found: apt-get install -y poppler-utils")
    done = subprocess.run(["pdftotext", *args, "-", "-"], input=pdf, capture_output=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.decode("utf-8").translate(BIDI_MARKS)


def pages(pdf: bytes) -> list[str]:
    return pdftotext(pdf).split("\f")[:-1]


def outline(pdf: bytes) -> list[tuple[int, str, int]]:
    """(depth, title, page index) of every bookmark, in order."""
    reader = PdfReader(io.BytesIO(pdf))
    found: list[tuple[int, str, int]] = []

    def walk(items: list[Any], depth: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
            else:
                found.append((depth, item.title, reader.get_destination_page_number(item)))

    walk(reader.outline, 0)
    return found


def with_entries(doc: CourseDocument, entries: tuple[EntryRecord, ...]) -> CourseDocument:
    first = replace(doc.sessions[0], entries=entries)
    return replace(doc, sessions=(first, *doc.sessions[1:]))


def plain_entry(n: int, title: str, body: str) -> EntryRecord:
    base = document().sessions[0].entries[0]
    return replace(
        base,
        id=uid(500 + n),
        title=title,
        body=body,
        intentions=(),
        revisions=(),
        comments=(),
        reviews=(),
        themes=(),
    )


RECORD = ClinicalRecord(
    route="Intramuscular",
    dose_mg="52.5",
    dose_mg_per_kg="0.75",
    pre_bp="144/91",
    pre_heart_rate=88,
    post_bp="150/95",
    post_heart_rate=92,
    side_effects=("nausea", "dizziness", "blurred vision"),
    dissociation=7,
    bp_flag=True,
    side_effects_other="felt cold",
)


def test_a_course_has_its_head_numbers_and_bookmarks_on_every_page() -> None:
    pdf = render_pdf.render_course(document(with_notes=True))
    texts = pages(pdf)
    assert len(texts) >= 2
    for number, text in enumerate(texts, 1):
        assert f"Page {number} of {len(texts)}" in text
        assert HEADER in text and "Confidential: mental-health record" in text
    marks = outline(pdf)
    depths = {title.split(":")[0]: depth for depth, title, _ in marks}
    assert depths["Treatment-course summary"] == 0
    assert depths["Dosing sessions"] == depths["Session 1"] == depths["Session 2"] == 1
    assert depths["Preparation"] == 2  # the phases nest under their session
    whole = " ".join(" ".join(texts).split())
    # People are named, the exporter too: the file is read by others than its exporter.
    assert "You" not in whole.replace("Your", "")
    assert "Dr. Ana Fictus (fictional) · 04 Mar 2031, 15:30" in whole
    assert "Comment by Dr. Ana Fictus (fictional)" in whole
    # Sessions flow: two short sessions share the cover's page, no page break of their own.
    short = with_entries(document(Scope.PATIENT), (plain_entry(1, "Short", "A line."),))
    starts = {t.split(":")[0]: page for _, t, page in outline(render_pdf.render_course(short))}
    assert starts["Session 1"] == starts["Session 2"] == 0


@pytest.mark.parametrize("size", ["a4", "letter"])
def test_paper_size_and_a_sessions_table_that_keeps_dates_and_doses_on_one_line(
    size: str,
) -> None:
    doc = document()
    doc = replace(doc, sessions=tuple(replace(s, clinical=RECORD) for s in doc.sessions))
    pdf = render_pdf.render_course(doc, page_size=size)
    box = PdfReader(io.BytesIO(pdf)).pages[0].mediabox
    assert (float(box.width), float(box.height)) == pytest.approx(PAPER[size], abs=0.5)
    # pdftotext -bbox: one word per line, with its box; a value on one line has one top.
    words = [
        (line.split('yMin="')[1].split('"')[0], line.rsplit(">", 2)[-2].split("<")[0])
        for line in pdftotext(pdf, "-f", "1", "-l", "1", "-bbox").splitlines()
        if "<word " in line
    ]
    for value in ("04 Mar 2031, 11:30", "52.5 mg (0.75 mg/kg)"):
        parts = value.split()
        tops = [
            {words[i + k][0] for k in range(len(parts))}
            for i in range(len(words) - len(parts) + 1)
            if [w for _, w in words[i : i + len(parts)]] == parts
        ]
        assert tops and all(len(t) == 1 for t in tops), (value, tops)


def test_the_patients_own_data_has_its_cover_once_and_every_course() -> None:
    first = document(Scope.PATIENT_PRIVATE)
    second = replace(first, course=replace(first.course, id=uid(8)))
    account = AccountInfo(PATIENT.id, PATIENT.name, "mira@clinic.example", Role.PATIENT, at(1))
    doc = PatientDataDocument(
        at(20, 12), "Harbour Clinic (fictional)", ZONE, account, (first, second)
    )
    pdf = render_pdf.render_patient_data(doc, page_size="letter")
    text = pdftotext(pdf)
    assert text.count("mira@clinic.example") == 1
    assert text.count("Everything in my journal") >= 2  # the cover and the running head
    marks = outline(pdf)
    assert [d for d, t, _ in marks if t == "Treatment-course summary"] == [1, 1]
    assert marks[0][:2] == (0, "Everything in my journal")


def test_a_protected_pdf_opens_only_with_its_passphrase() -> None:
    passphrase = "a long fictional passphrase"
    plain, _ = render_pdf.typeset(data.course_summary(document(), "a4"), timestamp=0)
    pdf = render_pdf.protect(plain, passphrase)
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.is_encrypted
    assert not reader.decrypt("the wrong passphrase, fictional")
    assert reader.decrypt(passphrase)
    assert reader.trailer["/Encrypt"]["/V"] == 5  # AES-256 (PDF 2.0 security handler)
    opened = [p.extract_text() for p in reader.pages]
    assert opened == [p.extract_text() for p in PdfReader(io.BytesIO(plain)).pages]


# One sample per script the PDF must set; each comes back from pdftotext as written.
SCRIPTS = {
    "Latin": "Grüße, Zoë: naïve café, façade, Łódź",
    "Greek": "Καλημέρα, ψυχή μου",
    "Cyrillic": "Доброе утро, душа моя",
    "Arabic": "صباح الخير يا روحي",
    "Hebrew": "בוקר טוב נשמה שלי",
    "Chinese": "早上好，我的心很安静",
    "Japanese": "おはよう、静かな心です",
    "Korean": "좋은 아침이에요 마음",
    "Emoji": "🌊🌱😊❤️",
}


def _cmap(path: Path) -> set[int]:
    if path.suffix == ".ttc":
        fonts = TTCollection(str(path), lazy=True).fonts[:1]  # one face: they share a cmap
    else:
        fonts = [TTFont(str(path), lazy=True)]
    return {code for font in fonts for code in font.getBestCmap()}


def test_every_script_is_set_in_the_named_fonts_and_reads_back_as_written() -> None:
    entries = tuple(
        plain_entry(n, f"Sample {name}", t) for n, (name, t) in enumerate(SCRIPTS.items())
    )
    pdf, warnings = render_pdf.typeset(data.course_summary(with_entries(document(), entries), "a4"))
    assert warnings == []
    lines = {line.strip() for line in pdftotext(pdf).splitlines()}
    for name, sample in SCRIPTS.items():
        assert sample in lines, name
    # Only the template's fonts are in the file: none the host had by chance.
    listed = subprocess.run(["pdffonts", "-"], input=pdf, capture_output=True).stdout.decode()
    names = {row.split()[0].split("+")[-1] for row in listed.splitlines()[2:]}
    assert names <= {
        "NotoSans-Regular",
        "NotoSans-Bold",
        "NotoSansArabic-Regular",
        "NotoSansHebrew-Regular",
        "NotoSansCJKsc-Regular-Identity-H",
        "[none]",  # the colour emoji, as a Type 3 font
    }, names
    # And those fonts have a glyph for every character (Typst shows a box, silently,
    # for one no font has).
    covered = set().union(*(_cmap(typeset.FONT_ROOT / f) for f in typeset.FONT_FILES))
    text = "".join(SCRIPTS.values()).replace("\ufe0f", "")  # a selector, not a glyph
    assert {c for c in text if ord(c) not in covered} == set()


def test_every_named_font_is_there_and_named_in_the_install_hint() -> None:
    assert typeset.missing_fonts() == ()
    for package in ("fonts-noto-core", "fonts-noto-cjk", "fonts-noto-color-emoji"):
        assert package in typeset.INSTALL_HINT


def test_a_typesetting_failure_is_a_clear_error_and_sends_nothing(
    clinic: Clinic, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(render_pdf.PdfFailed) as failed:
        render_pdf.typeset({"paper": "a4"})  # the template needs more than this
    assert "does not contain key" in failed.value.cause
    with monkeypatch.context() as patched:  # a typesetting that runs away is stopped
        patched.setattr(render_pdf, "TIMEOUT_S", 0.001)
        with pytest.raises(render_pdf.PdfFailed, match=r"ran 0\.001 s"):
            render_pdf.typeset(data.course_summary(document(), "a4"))
    monkeypatch.setattr(data, "course_summary", lambda doc, paper: {"paper": paper})
    caplog.set_level(logging.ERROR, logger="journal.export")
    r = export(clinic.world.browser(clinic.clinician), clinic.course.id, "pdf")
    assert r.status_code == 500 and not is_file(r) and r.mimetype == "text/html"
    page = r.get_data(as_text=True)
    assert "The PDF could not be made" in page and "template" in page
    assert "PDF export failed" in caplog.text and "does not contain key" in caplog.text
    # The export was recorded before typesetting began (the unit of work commits first).
    with runtime(clinic.world.app).database.session() as s:
        assert s.scalars(select(AuditEvent.action).where(AuditEvent.action == "export.pdf")).all()


def test_the_page_size_is_a_choice_on_the_form_with_the_clinics_default(clinic: Clinic) -> None:
    browser = clinic.world.browser(clinic.clinician)
    page = browser.get(f"/courses/{clinic.course.id}/export").get_data(as_text=True)
    assert 'name="page_size"' in page and 'value="letter"' in page
    rt = runtime(clinic.world.app)
    rt.settings = rt.settings.with_changes(pdf_page_size="letter")
    r = export(browser, clinic.course.id, "pdf")
    box = PdfReader(io.BytesIO(r.data)).pages[0].mediabox
    assert (float(box.width), float(box.height)) == pytest.approx(PAPER["letter"], abs=0.5)
    r = export(browser, clinic.course.id, "pdf", page_size="a4")
    box = PdfReader(io.BytesIO(r.data)).pages[0].mediabox
    assert (float(box.width), float(box.height)) == pytest.approx(PAPER["a4"], abs=0.5)
    assert export(browser, clinic.course.id, "pdf", page_size="a3").status_code == 400
    make_stale(clinic)  # the re-login form carries the choice over
    r = export(browser, clinic.course.id, "pdf", page_size="a4")
    assert r.status_code == 401 and 'name="page_size" value="a4"' in r.get_data(as_text=True)
