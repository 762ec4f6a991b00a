"""Many writers at once: no "database is locked", no lost writes (checklist 36)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from journal.accounts import audit
from journal.journaling.timeline import PAGE_SIZE
from journal.models import Entry
from tests.conftest import Clinic, entry_form, runtime

WRITERS = 8
ENTRIES_EACH = 6


def test_concurrent_writers_lose_nothing(clinic: Clinic) -> None:
    browsers = [clinic.world.browser(clinic.patient) for _ in range(WRITERS)]
    url = f"/courses/{clinic.course.id}/entries/new"

    def write(n: int) -> list[int]:
        b = browsers[n]
        return [
            b.post(url, entry_form(clinic.past, title=f"Writer {n} entry {i}")).status_code
            for i in range(ENTRIES_EACH)
        ]

    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        statuses = [s for batch in pool.map(write, range(WRITERS)) for s in batch]

    assert statuses == [302] * (WRITERS * ENTRIES_EACH)
    db = clinic.world.db
    db.rollback()
    count = db.scalar(
        select(func.count()).select_from(Entry).where(Entry.course_id == clinic.course.id)
    )
    assert count == WRITERS * ENTRIES_EACH
    # Every write was audited, and the concurrent appends form one unbroken chain.
    with runtime(clinic.world.app).database.session() as check:
        report = audit.verify_chain(check)
    assert report.intact, report.problem
    # The timeline shows 20 entries a page: read every page.
    pages = -(-WRITERS * ENTRIES_EACH // PAGE_SIZE)
    timeline = "".join(
        browsers[0].text(f"/courses/{clinic.course.id}?page={p}") for p in range(1, pages + 1)
    )
    for n in range(WRITERS):
        for i in range(ENTRIES_EACH):
            assert f"Writer {n} entry {i}" in timeline
