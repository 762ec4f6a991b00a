"""Pages load with a fixed number of SQL statements, however much there is to show.

Statements are counted with a `before_cursor_execute` listener on the app's
engine (the write engine shares its events), for a small and a large case of
the same page, after one warm-up request of each.
"""

from __future__ import annotations

import pytest
from flask import Flask

from journal.models import Course, Phase, Role, SessionStatus, User, Visibility
from tests.conftest import Clinic, World, runtime
from tests.helpers import Browser
from tests.scene import Written, rewrite, write
from tests.sql_counts import measure, statements, steady_sessions

SMALL, LARGE = 2, 30
FEW_PATIENTS, MANY_PATIENTS = 1, 10


@pytest.fixture(autouse=True)
def steady_login_sessions(app: Flask) -> None:
    steady_sessions(app)


def compare(app: Flask, small: tuple[Browser, str], large: tuple[Browser, str]) -> int:
    """Warm up both pages, then count each; the counts must be equal."""
    for browser, url in (small, large):
        measure(app, browser, url)
    few, many = measure(app, *small), measure(app, *large)
    assert few, "the listener saw no statement"
    extra = [s for s in many if many.count(s) > few.count(s)]
    assert len(few) == len(many), (
        f"{small[1]}: {len(few)} statements, {large[1]}: {len(many)}; repeated:\n"
        + "\n---\n".join(dict.fromkeys(extra))
    )
    return len(few)


def fill(world: World, course: Course, patient: User, clinician: User, n: int) -> list[Written]:
    """n entries of every kind: both authors, all phases and visibilities, with
    intentions and earlier versions."""
    kinds = [
        (patient, Visibility.CARE_TEAM, Phase.PREPARATION, 2),
        (clinician, Visibility.CARE_TEAM, Phase.INTEGRATION, 0),
        (patient, Visibility.PRIVATE, Phase.IN_SESSION, 0),
        (clinician, Visibility.CLINICIAN_ONLY, Phase.INTEGRATION, 0),
        (patient, Visibility.CARE_TEAM, Phase.INTEGRATION, 0),
    ]
    made = []
    for i in range(n):
        author, visibility, phase, intentions = kinds[i % len(kinds)]
        w = write(
            world,
            author,
            course,
            visibility,
            label=f"n{i}",
            phase=phase,
            intentions=intentions,
        )
        if i % 3 == 2:
            rewrite(world, w, visibility)
        made.append(w)
    return made


def courses_of_sizes(clinic: Clinic) -> tuple[Course, Course, list[Written], list[Written]]:
    """Two courses with the same sessions and care team: one with few entries, one with many."""
    world = clinic.world
    other = world.user(Role.PATIENT)
    large = world.course(other, clinic.clinician)
    world.session(large, clinic.clinician, -7, SessionStatus.COMPLETED)
    world.session(large, clinic.clinician, 3)
    small_entries = fill(world, clinic.course, clinic.patient, clinic.clinician, SMALL)
    large_entries = fill(world, large, other, clinic.clinician, LARGE)
    return clinic.course, large, small_entries, large_entries


def readers(clinic: Clinic, role: str, large: Course) -> tuple[Browser, Browser]:
    """Who reads the small and the large course: the clinician of both, or each patient."""
    world = clinic.world
    if role == "clinician":
        b = world.browser(clinic.clinician)
        return b, b
    with runtime(world.app).database.session() as s:
        other = s.get(User, large.patient_id)
    assert other is not None
    return world.browser(clinic.patient), world.browser(other)


@pytest.mark.parametrize("role", ["clinician", "patient"])
def test_timeline_statements_do_not_grow_with_entries(clinic: Clinic, role: str) -> None:
    small, large, _, _ = courses_of_sizes(clinic)
    b_small, b_large = readers(clinic, role, large)
    compare(clinic.world.app, (b_small, f"/courses/{small.id}"), (b_large, f"/courses/{large.id}"))


@pytest.mark.parametrize("role", ["clinician", "patient"])
@pytest.mark.parametrize("suffix", ["", "/history"])
def test_entry_page_statements_do_not_grow(clinic: Clinic, role: str, suffix: str) -> None:
    """The same kind of entry in a course of 2 and of 30 entries."""
    _, large, small_entries, large_entries = courses_of_sizes(clinic)
    b_small, b_large = readers(clinic, role, large)
    # The first entry of each course is the patient's shared preparation with intentions.
    a, z = small_entries[0], large_entries[0]
    compare(
        clinic.world.app,
        (b_small, f"/entries/{a.id}{suffix}"),
        (b_large, f"/entries/{z.id}{suffix}"),
    )


def test_history_statements_do_not_grow_with_versions(clinic: Clinic) -> None:
    world = clinic.world
    once = write(world, clinic.patient, clinic.course, Visibility.CARE_TEAM, label="once")
    often = write(world, clinic.patient, clinic.course, Visibility.CARE_TEAM, label="often")
    rewrite(world, once, Visibility.CARE_TEAM)
    for _ in range(10):
        rewrite(world, often, Visibility.CARE_TEAM)
    b = world.browser(clinic.clinician)
    compare(world.app, (b, f"/entries/{once.id}/history"), (b, f"/entries/{often.id}/history"))


def test_clinician_home_statements_do_not_grow_with_patients(clinic: Clinic) -> None:
    world = clinic.world
    few = world.user(Role.CLINICIAN)
    many = world.user(Role.CLINICIAN)
    for clinician, patients in ((few, FEW_PATIENTS), (many, MANY_PATIENTS)):
        for _ in range(patients):
            course = world.course(world.user(Role.PATIENT), clinician)
            world.session(course, clinician, -7, SessionStatus.COMPLETED)
            world.session(course, clinician, 3)
    b_few, b_many = world.browser(few), world.browser(many)
    assert b_many.text("/").count('href="/courses/') == MANY_PATIENTS + 1  # + "Open a course"
    compare(world.app, (b_few, "/"), (b_many, "/"))


def test_counting_sees_every_statement(clinic: Clinic) -> None:
    """The counter itself: a page that must query more for more rows would be caught."""
    app = clinic.world.app
    b = clinic.world.browser(clinic.patient)
    with statements(app) as seen:
        b.get(f"/courses/{clinic.course.id}")
        b.get(f"/courses/{clinic.course.id}")
    with statements(app) as once:
        b.get(f"/courses/{clinic.course.id}")
    assert len(seen) == 2 * len(once) > 0
