"""A long PDF export made by the worker (journal/export/jobs.py): queued, typeset by a
worker run in this process, shown on a page that reloads itself, downloaded by the
person who asked alone, kept sealed, and deleted when its time is out.

The rule is forced with `pdf_queue_above_kb = 0` (every PDF goes to the worker); the
queue is a Huey queue in memory that the test empties itself, job by job, as the
worker would."""

from __future__ import annotations

import io
import logging
import re
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from huey import MemoryHuey
from pypdf import PdfReader
from sqlalchemy import func, select, update

from journal.accounts import form_tokens
from journal.core.work import Work
from journal.db import utcnow
from journal.export import jobs, render_pdf
from journal.export.pdf import data
from journal.journaling import entries
from journal.journaling.entries import EntryInput
from journal.models import AuditEvent, ExportJob, Phase, Visibility
from journal.notify.jobs import register_exports
from journal.runtime import Runtime
from tests.conftest import PG_URL, Clinic, runtime
from tests.export_helpers import export, is_file
from tests.test_export_pdf import pdftotext

MARKER = "Quillfeather-lantern-7391 (fictional)"
PASSPHRASE = "correct horse battery staple (fictional)"


def worker_queue(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> MemoryHuey:
    """Every PDF to the worker, through a queue the test runs by hand."""
    queue = MemoryHuey("export-test", immediate=False, results=False)
    monkeypatch.setattr(rt, "settings", rt.settings.with_changes(pdf_queue_above_kb=0))
    monkeypatch.setattr(rt, "enqueue_export", register_exports(queue, lambda: rt.work(write=True)))
    return queue


def run_worker(queue: MemoryHuey) -> int:
    """What `flask worker` does with each job waiting: returns how many it ran."""
    ran = 0
    while (task := queue.dequeue()) is not None:
        queue.execute(task)
        ran += 1
    return ran


def job_id_of(location: str) -> uuid.UUID:
    found = re.fullmatch(r".*/exports/([0-9a-f-]{36})", location)
    assert found, location
    return uuid.UUID(found.group(1))


def the_job(rt: Runtime, job_id: uuid.UUID) -> ExportJob | None:
    with rt.database.session() as s:
        return s.get(ExportJob, job_id)


def stored_bytes(rt: Runtime) -> bytes:
    """What the database keeps on disk (SQLite: the file and its log), or on
    PostgreSQL every sealed value of the table."""
    if PG_URL:
        with rt.database.session() as s:
            rows = s.execute(select(ExportJob.data, ExportJob.pdf)).all()
        return b"".join(v for row in rows for v in row if v)
    path = Path(rt.settings.database_url.removeprefix("sqlite:///"))
    return b"".join(
        p.read_bytes() for p in (path, path.with_name(path.name + "-wal")) if p.exists()
    )


def same_text(pdf: bytes) -> str:
    """The PDF's text with the times of day left out (two exports a minute apart)."""
    return re.sub(r"\d\d:\d\d", "HH:MM", pdftotext(pdf))


def write_marked_entry(clinic: Clinic) -> None:
    world = clinic.world
    entries.create_entry(
        world.as_(clinic.patient),
        clinic.course.id,
        EntryInput(
            phase=Phase.INTEGRATION,
            title="After the session",
            body=f"The word I keep is {MARKER}.",
            visibility=Visibility.CARE_TEAM,
        ),
    )
    world.commit()


def test_a_long_pdf_is_queued_typeset_by_the_worker_and_fetched_by_its_requester_alone(
    clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt = runtime(clinic.world.app)
    write_marked_entry(clinic)
    world = clinic.world
    browser = world.browser(clinic.clinician)
    synchronous = export(browser, clinic.course.id, "pdf")
    assert is_file(synchronous)  # a short PDF: made at once, as before

    queue = worker_queue(rt, monkeypatch)
    asked = export(browser, clinic.course.id, "pdf")
    assert asked.status_code == 302 and not is_file(asked)
    job_id = job_id_of(asked.location)
    # Recorded as the synchronous export is, when it is asked for.
    with rt.database.session() as s:
        actions = s.scalars(
            select(AuditEvent.action).where(AuditEvent.object_id == clinic.course.id)
        )
        assert list(actions).count("export.pdf") == 2

    page = browser.get(asked.location)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Queued" in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)  # no inline script
    assert page.headers["Refresh"] == "3"  # reloads itself, no script needed
    assert "does not seem to be running" not in html
    # Only the words' sealed form is kept: the entry is nowhere in the database's bytes.
    assert MARKER.encode() not in stored_bytes(rt)

    # Nobody else sees the page or the file: not the patient, a colleague, or an admin.
    for other in (clinic.patient, clinic.other_clinician, clinic.admin):
        stranger = world.browser(other)
        assert stranger.get(asked.location).status_code == 404
        assert stranger.post(f"{asked.location}/download").status_code == 404
    # Not ready yet: no file.
    early = browser.post(f"{asked.location}/download")
    assert early.status_code == 409 and not is_file(early)

    # A worker that does not run: after a minute the page says so.
    with rt.database.session(write=True) as s:
        s.execute(update(ExportJob).values(created_at=utcnow() - timedelta(minutes=2)))
        s.commit()
    html = browser.get(asked.location).get_data(as_text=True)
    assert "the export worker does not seem to be running; ask your administrator" in html.lower()

    # The worker takes it; while it typesets, the page says so.
    seen: list[str] = []
    typeset = render_pdf.typeset_json

    def watched(document: bytes, timestamp: int | None = None) -> tuple[bytes, list[str]]:
        seen.append(browser.get(asked.location).get_data(as_text=True))
        return typeset(document, timestamp)

    monkeypatch.setattr(render_pdf, "typeset_json", watched)
    assert run_worker(queue) == 1
    assert "Typesetting" in seen[0]
    job = the_job(rt, job_id)
    assert job is not None and job.status == "ready" and job.data is None and job.pdf
    assert MARKER.encode() not in stored_bytes(rt)
    assert rt.enqueue_export(job_id) is None and run_worker(queue) == 1  # twice: nothing more
    assert the_job(rt, job_id).status == "ready"  # type: ignore[union-attr]

    ready = browser.get(asked.location)
    html = ready.get_data(as_text=True)
    assert "Ready" in html and "Refresh" not in ready.headers and 'name="passphrase"' not in html
    file = browser.post(f"{asked.location}/download")
    assert is_file(file) and file.mimetype == "application/pdf"
    assert same_text(file.data) == same_text(synchronous.data)
    assert MARKER in pdftotext(file.data)

    # Deleted when its time is out: the worker's sweep, with the clock moved on.
    with rt.work(write=True) as work:
        assert jobs.sweep(work) == []  # not yet
    later = utcnow() + timedelta(minutes=rt.settings.pdf_keep_minutes + 1)
    sweeping = Work(
        rt.database, rt.keys.ring, rt.settings, rt.clinical, write=True, clock=lambda: later
    )
    with sweeping as work:
        jobs.sweep(work)
    assert the_job(rt, job_id) is None
    assert browser.get(asked.location).status_code == 404

    # ... or its page, opened after its time: it says so once, and it is gone.
    again = job_id_of(export(browser, clinic.course.id, "pdf").location)
    run_worker(queue)
    with rt.database.session(write=True) as s:
        s.execute(update(ExportJob).values(expires_at=utcnow() - timedelta(seconds=1)))
        s.commit()
    gone = browser.get(f"/exports/{again}")
    assert gone.status_code == 410 and "has now been deleted" in gone.get_data(as_text=True)
    assert the_job(rt, again) is None
    assert browser.post(f"/exports/{again}/download").status_code == 404


def test_a_passphrase_is_asked_at_download_and_never_kept(
    clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt = runtime(clinic.world.app)
    queue = worker_queue(rt, monkeypatch)
    browser = clinic.world.browser(clinic.patient)  # the patient's own data
    sent = {
        "format": "pdf",
        "protect": "y",
        "passphrase": PASSPHRASE,
        "passphrase_again": PASSPHRASE,
        "form_token": form_tokens.new_token(),
    }
    asked = browser.post("/account/export", sent)
    assert asked.status_code == 302
    # The same POST sent again (a resend) leads to the same job, not a second one.
    assert browser.post("/account/export", sent).location == asked.location
    run_worker(queue)
    assert PASSPHRASE.encode() not in stored_bytes(rt)
    html = browser.get(asked.location).get_data(as_text=True)
    assert "Ready" in html and 'name="passphrase"' in html
    refused = browser.post(f"{asked.location}/download")
    assert refused.status_code == 400 and not is_file(refused)
    differ = browser.post(
        f"{asked.location}/download", {"passphrase": PASSPHRASE, "passphrase_again": "other"}
    )
    assert differ.status_code == 400 and "differ" in differ.get_data(as_text=True)
    file = browser.post(
        f"{asked.location}/download", {"passphrase": PASSPHRASE, "passphrase_again": PASSPHRASE}
    )
    assert is_file(file)
    reader = PdfReader(io.BytesIO(file.data))
    assert reader.is_encrypted and reader.decrypt(PASSPHRASE)
    assert clinic.patient.name in reader.pages[0].extract_text()
    with rt.database.session() as s:
        assert s.scalar(select(func.count()).select_from(ExportJob)) == 1


def test_a_failed_typesetting_says_what_failed_and_keeps_nothing(
    clinic: Clinic, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    rt = runtime(clinic.world.app)
    queue = worker_queue(rt, monkeypatch)
    monkeypatch.setattr(data, "course_summary", lambda doc, paper: {"paper": paper})
    browser = clinic.world.browser(clinic.clinician)
    asked = export(browser, clinic.course.id, "pdf")
    caplog.set_level(logging.ERROR, logger="journal.export")
    run_worker(queue)
    assert "PDF export failed" in caplog.text and "does not contain key" in caplog.text
    job = the_job(rt, job_id_of(asked.location))
    assert job is not None and job.status == "failed" and job.pdf is None and job.data is None
    page = browser.get(asked.location)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Refresh" not in page.headers
    assert "could not be made" in html and "template" in html and "Download" not in html
    sent = browser.post(f"{asked.location}/download")
    assert sent.status_code == 409 and not is_file(sent)


def test_the_sweep_gives_up_on_a_stopped_typesetting_and_hands_over_a_lost_job(
    clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt = runtime(clinic.world.app)
    queue = worker_queue(rt, monkeypatch)
    browser = clinic.world.browser(clinic.clinician)
    stopped = job_id_of(export(browser, clinic.course.id, "pdf").location)
    lost = job_id_of(export(browser, clinic.course.id, "pdf").location)
    while queue.dequeue() is not None:  # the queue loses both jobs
        pass
    long_ago = utcnow() - timedelta(minutes=5)
    with rt.database.session(write=True) as s:
        s.execute(
            update(ExportJob)
            .where(ExportJob.id == stopped)
            .values(status="typesetting", started_at=long_ago)
        )
        s.execute(update(ExportJob).where(ExportJob.id == lost).values(created_at=long_ago))
        s.commit()
    (sweep,) = [t for t in queue.read_periodic(utcnow()) if t.name == "journal.sweep_exports"]
    queue.execute(sweep)  # the worker's periodic sweep
    failed = the_job(rt, stopped)
    assert failed is not None and failed.status == "failed" and failed.data is None
    assert "stopped" in browser.get(f"/exports/{stopped}").get_data(as_text=True)
    assert run_worker(queue) == 1  # handed over again by the sweep, and made
    assert the_job(rt, lost).status == "ready"  # type: ignore[union-attr]
