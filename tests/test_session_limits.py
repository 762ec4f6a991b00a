"""Login sessions end when idle too long or too old (checklist 20, 22)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from journal.db import utcnow
from journal.models import LoginSession
from tests.conftest import Clinic, committing, runtime


def _age(clinic: Clinic, **values: object) -> None:
    with committing(runtime(clinic.world.app)) as db:
        db.execute(update(LoginSession).values(**values))
        db.commit()


@pytest.mark.parametrize(
    ("who", "idle_minutes", "still_in"),
    [
        ("clinician", 29, True),
        ("clinician", 31, False),
        ("patient", 59, True),
        ("patient", 61, False),
    ],
)
def test_idle_timeout(clinic: Clinic, who: str, idle_minutes: int, still_in: bool) -> None:
    b = clinic.world.browser(getattr(clinic, who))
    _age(clinic, last_seen_at=utcnow() - timedelta(minutes=idle_minutes))
    response = b.get(f"/courses/{clinic.course.id}")
    assert (response.status_code == 200) is still_in
    if not still_in:
        assert response.location.endswith("/login")


def test_absolute_lifetime_ends_an_active_session(clinic: Clinic) -> None:
    b = clinic.world.browser(clinic.patient)
    # Active a minute ago, but signed in 13 hours ago: over the 12-hour lifetime.
    _age(
        clinic,
        created_at=utcnow() - timedelta(hours=13),
        last_seen_at=utcnow() - timedelta(minutes=1),
    )
    assert b.get("/").location.endswith("/login")


def test_activity_keeps_a_session_alive(clinic: Clinic) -> None:
    b = clinic.world.browser(clinic.patient)
    _age(clinic, last_seen_at=utcnow() - timedelta(minutes=50))
    assert b.get(f"/courses/{clinic.course.id}").status_code == 200
    with runtime(clinic.world.app).database.session() as db:
        seen = db.scalars(select(LoginSession.last_seen_at)).all()
    assert seen and max(seen) > utcnow() - timedelta(minutes=5)  # the request touched it
