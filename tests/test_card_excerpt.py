"""The timeline card's excerpt is sealed with the entry when it is saved: the card shows
the same words as before, from the sealed excerpt, and an entry saved before excerpts
were kept (none stored) still shows its excerpt, made when read."""

from __future__ import annotations

from sqlalchemy import update

from journal.core.rendering import plain_excerpt
from journal.models import Entry
from tests.conftest import Clinic, entry_form, new_entry_id

BODY = "A *walk* by the fictional lake, and [a note](https://example.invalid) " + "calm " * 80


def _save(clinic: Clinic, title: str) -> Entry:
    b = clinic.world.browser(clinic.patient)
    r = b.post(
        f"/courses/{clinic.course.id}/entries/new",
        entry_form(clinic.upcoming, title=title, body=BODY),
    )
    assert r.status_code == 302, r.get_data(as_text=True)
    entry = clinic.world.db.get(Entry, new_entry_id(r.location))
    assert entry is not None
    return entry


def test_the_card_shows_the_excerpt_sealed_with_the_entry(clinic: Clinic) -> None:
    entry = _save(clinic, "By the lake")
    assert entry.excerpt is not None and b"calm" not in entry.excerpt  # sealed
    opened = clinic.world.vault.open_column(entry, "excerpt", clinic.patient.id)
    assert opened == plain_excerpt(BODY) and opened.endswith("…")
    page = clinic.world.browser(clinic.patient).text(f"/courses/{clinic.course.id}")
    assert "A walk by the fictional lake, and a note calm calm" in page


def test_an_entry_without_a_stored_excerpt_still_shows_one(clinic: Clinic) -> None:
    entry = _save(clinic, "")  # untitled: its first words stand in for the title too
    clinic.world.db.execute(update(Entry).where(Entry.id == entry.id).values(excerpt=None))
    clinic.world.commit()
    page = clinic.world.browser(clinic.clinician).text(f"/courses/{clinic.course.id}")
    assert "A walk by the fictional lake, and a note calm calm" in page
    assert f">{plain_excerpt(BODY, 60)}<" in page  # the stand-in title
