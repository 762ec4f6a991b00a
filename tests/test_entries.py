"""Writing entries: default session linking, intentions, editing with history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from journal.db import utcnow
from journal.journaling.entries import default_session, suggested_phase
from journal.models import DosingSession, Entry, EntryRevision, Intention, Phase, SessionStatus
from tests.conftest import Clinic, entry_form, new_entry_id

NOW = utcnow().replace(microsecond=0)


def _session(days: float, status: SessionStatus, number: int = 1) -> DosingSession:
    return DosingSession(number=number, scheduled_at=NOW + timedelta(days=days), status=status)


class TestDefaultSession:
    sessions = [  # noqa: RUF012
        _session(-14, SessionStatus.COMPLETED, 1),
        _session(-7, SessionStatus.COMPLETED, 2),
        _session(-3, SessionStatus.CANCELLED, 3),
        _session(4, SessionStatus.SCHEDULED, 4),
        _session(11, SessionStatus.SCHEDULED, 5),
    ]

    def test_preparation_goes_to_the_next_scheduled_session(self) -> None:
        assert default_session(self.sessions, Phase.PREPARATION, NOW).number == 4  # type: ignore[union-attr]

    def test_integration_goes_to_the_last_completed_session(self) -> None:
        assert default_session(self.sessions, Phase.INTEGRATION, NOW).number == 2  # type: ignore[union-attr]

    def test_in_session_prefers_a_session_today(self) -> None:
        today = [*self.sessions, _session(0.1, SessionStatus.SCHEDULED, 6)]
        assert default_session(today, Phase.IN_SESSION, NOW).number == 6  # type: ignore[union-attr]
        assert default_session(self.sessions, Phase.IN_SESSION, NOW).number == 2  # type: ignore[union-attr]

    def test_cancelled_sessions_are_never_chosen(self) -> None:
        only_cancelled = [_session(1, SessionStatus.CANCELLED)]
        assert default_session(only_cancelled, Phase.PREPARATION, NOW) is None

    def test_fallbacks_when_nothing_fits(self) -> None:
        future_only = [_session(5, SessionStatus.SCHEDULED, 1)]
        assert default_session(future_only, Phase.INTEGRATION, NOW).number == 1  # type: ignore[union-attr]
        past_only = [_session(-5, SessionStatus.COMPLETED, 1)]
        assert default_session(past_only, Phase.PREPARATION, NOW).number == 1  # type: ignore[union-attr]
        assert default_session([], Phase.PREPARATION, NOW) is None

    def test_suggested_phase(self) -> None:
        assert suggested_phase(self.sessions, NOW) == Phase.INTEGRATION
        soon = [*self.sessions[:2], _session(2, SessionStatus.SCHEDULED, 3)]
        assert suggested_phase(soon, NOW) == Phase.PREPARATION
        today = [_session(0.2, SessionStatus.SCHEDULED)]
        assert suggested_phase(today, NOW) == Phase.IN_SESSION


@pytest.mark.parametrize(
    ("phase", "expected"), [("preparation", "upcoming"), ("integration", "past")]
)
def test_web_entry_without_session_is_linked_by_date(
    clinic: Clinic, phase: str, expected: str
) -> None:
    b = clinic.world.browser(clinic.patient)
    r = b.post(f"/courses/{clinic.course.id}/entries/new", entry_form(None, phase=phase))
    assert r.status_code == 302, r.get_data(as_text=True)
    entry = clinic.world.db.get(Entry, new_entry_id(r.location))
    assert entry is not None
    assert entry.session_id == getattr(clinic, expected).id


def test_writer_can_choose_another_session(clinic: Clinic) -> None:
    b = clinic.world.browser(clinic.patient)
    data = entry_form(clinic.upcoming, phase="integration")
    r = b.post(f"/courses/{clinic.course.id}/entries/new", data)
    entry = clinic.world.db.get(Entry, new_entry_id(r.location))
    assert entry is not None and entry.session_id == clinic.upcoming.id


def test_preparation_entry_keeps_its_intentions(clinic: Clinic) -> None:
    b = clinic.world.browser(clinic.patient)
    data = entry_form(
        None, phase="preparation", intentions="Stay with the fear\n\n  Breathe slowly  \n"
    )
    r = b.post(f"/courses/{clinic.course.id}/entries/new", data)
    entry_id = new_entry_id(r.location)
    page = b.text(f"/entries/{entry_id}")
    assert "Stay with the fear" in page and "Breathe slowly" in page
    rows = clinic.world.db.scalars(select(Intention).where(Intention.entry_id == entry_id)).all()
    assert len(rows) == 2
    timeline = b.text(f"/courses/{clinic.course.id}")
    assert "Stay with the fear" in timeline


def test_editing_keeps_every_earlier_version(clinic: Clinic) -> None:
    b = clinic.world.browser(clinic.patient)
    r = b.post(f"/courses/{clinic.course.id}/entries/new", entry_form(clinic.past, title="First"))
    entry_id = new_entry_id(r.location)
    for n, title in enumerate(["Second", "Third"], start=1):
        data = entry_form(clinic.past, title=title, body=f"Body {title}", version=str(n))
        r = b.post(f"/entries/{entry_id}/edit", data)
        assert r.status_code == 302, r.get_data(as_text=True)
    entry = clinic.world.db.get(Entry, entry_id)
    clinic.world.db.refresh(entry)
    assert entry is not None and entry.version == 3
    revisions = clinic.world.db.scalars(
        select(EntryRevision).where(EntryRevision.entry_id == entry_id)
    ).all()
    assert sorted(r.entry_version for r in revisions) == [1, 2]
    history = b.text(f"/entries/{entry_id}/history")
    assert "Version 2: Second" in history and "Version 1: First" in history
    assert "Third" in b.text(f"/entries/{entry_id}")


def test_a_stale_edit_is_refused_and_nothing_is_lost(clinic: Clinic) -> None:
    b = clinic.world.browser(clinic.patient)
    r = b.post(f"/courses/{clinic.course.id}/entries/new", entry_form(clinic.past, title="Mine"))
    entry_id = new_entry_id(r.location)
    b.post(f"/entries/{entry_id}/edit", entry_form(clinic.past, title="Tab one", version="1"))
    r = b.post(f"/entries/{entry_id}/edit", entry_form(clinic.past, title="Tab two", version="1"))
    assert r.status_code == 200
    assert "changed elsewhere" in r.get_data(as_text=True)
    assert "Tab one" in b.text(f"/entries/{entry_id}")


def test_clinician_sees_the_patients_shared_entry_on_the_timeline(clinic: Clinic) -> None:
    patient = clinic.world.browser(clinic.patient)
    patient.post(
        f"/courses/{clinic.course.id}/entries/new",
        entry_form(clinic.past, title="Shared reflection"),
    )
    clinician = clinic.world.browser(clinic.clinician)
    assert "Shared reflection" in clinician.text(f"/courses/{clinic.course.id}")
