"""Checklist 26 and 27: care-team changes and closing a course take effect on the
next request; the admin manages accounts and courses without reading content."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

from sqlalchemy import select

from journal.models import (
    CareTeamMember,
    CareTeamProposal,
    Course,
    DosingSession,
    Entry,
    Role,
    User,
)
from tests.conftest import Clinic, entry_form, new_entry_id, runtime
from tests.helpers import PASSWORD, Browser, mailed_link
from tests.scene import build_scene, count_rows, fresh_entry, leaks, marker

NEW_PASSWORD = "lantern meadow quietly orbits"
STARTED_ON = "2026-01-05"


def path_of(location: str) -> str:
    return urlsplit(location).path


def team_of(clinic: Clinic, course: Course) -> set[str]:
    with runtime(clinic.world.app).database.session() as s:
        ids = s.scalars(
            select(CareTeamMember.clinician_id).where(CareTeamMember.course_id == course.id)
        )
        return {str(i) for i in ids}


# -- care teams ---------------------------------------------------------------------


def agree(clinic: Clinic, who: User, course: Course, proposed: User) -> None:
    """`who` agrees to the admin's proposal of `proposed` for the course's care team."""
    with runtime(clinic.world.app).database.session() as s:
        proposal = s.scalars(
            select(CareTeamProposal.id).where(
                CareTeamProposal.course_id == course.id,
                CareTeamProposal.clinician_id == proposed.id,
                CareTeamProposal.decided_at.is_(None),
            )
        ).one()
    r = clinic.world.browser(who).post(f"/care-team/proposals/{proposal}/agree")
    assert r.status_code == 302, r.status_code


def test_removed_clinician_loses_the_course_on_the_next_request(clinic: Clinic) -> None:
    scene = build_scene(clinic)
    course = clinic.course
    colleague = clinic.world.user(Role.CLINICIAN)
    admin = clinic.world.browser(clinic.admin)
    r = admin.post(f"/admin/courses/{course.id}", {"email": colleague.email})
    assert r.status_code == 302
    assert path_of(r.location) == f"/admin/courses/{course.id}"
    agree(clinic, clinic.clinician, course, colleague)  # someone on the team agrees

    removed = clinic.world.browser(clinic.clinician)
    stays = clinic.world.browser(colleague)
    assert scene["conly"].current.markers[0] in removed.text(f"/courses/{course.id}")
    assert clinic.patient.name in removed.text("/")
    stays.text(f"/courses/{course.id}")

    page = admin.text(f"/admin/courses/{course.id}")
    remove_url = f"/admin/courses/{course.id}/team/{clinic.clinician.id}/remove"
    assert f'action="{remove_url}"' in page
    r = admin.post(remove_url)
    assert r.status_code == 302
    assert path_of(r.location) == f"/admin/courses/{course.id}"
    assert str(clinic.clinician.id) not in team_of(clinic, course)

    # The very next request, with the same signed-in browser.
    r = removed.get(f"/courses/{course.id}")
    assert r.status_code == 404
    assert not leaks(r, dict.fromkeys(scene["conly"].markers, "content"))
    for url in (
        f"/entries/{scene['conly'].id}",
        f"/entries/{scene['cshared'].id}/edit",
        f"/entries/{scene['pshared'].id}",
        f"/courses/{course.id}/entries/new",
        f"/courses/{course.id}/sessions/new",
    ):
        assert removed.get(url).status_code == 404, url
    before = count_rows(clinic.world.app, Entry)
    r = removed.post(f"/courses/{course.id}/entries/new", entry_form(clinic.past))
    assert r.status_code == 404
    r = removed.post(f"/courses/{course.id}/status/closed")
    assert r.status_code == 404
    assert count_rows(clinic.world.app, Entry) == before
    assert clinic.patient.name not in removed.text("/")

    # The colleague who stays on the team keeps access.
    assert scene["conly"].current.markers[0] in stays.text(f"/courses/{course.id}")

    # Proposed again, access returns at once when the colleague on the team agrees.
    r = admin.post(f"/admin/courses/{course.id}", {"email": clinic.clinician.email})
    assert r.status_code == 302
    assert removed.get(f"/courses/{course.id}").status_code == 404
    agree(clinic, colleague, course, clinic.clinician)
    assert removed.get(f"/courses/{course.id}").status_code == 200


# -- closing a course ---------------------------------------------------------------


def test_closed_course_is_read_only_until_reopened(clinic: Clinic) -> None:
    app = clinic.world.app
    course = clinic.course
    patient = clinic.world.browser(clinic.patient)
    clinician = clinic.world.browser(clinic.clinician)
    new_url = f"/courses/{course.id}/entries/new"

    r = patient.post(new_url, entry_form(clinic.past, title="Before closing"))
    assert r.status_code == 302
    own = new_entry_id(r.location)
    patient.text(new_url)  # the form is open in the patient's browser...

    # The patient cannot close or reopen a course.
    assert patient.post(f"/courses/{course.id}/status/closed").status_code == 403

    r = clinician.post(f"/courses/{course.id}/status/closed")
    assert r.status_code == 302
    assert path_of(r.location) == f"/courses/{course.id}"
    entries_before = count_rows(app, Entry)
    sessions_before = count_rows(app, DosingSession)

    # ...and is refused on the next request.
    r = patient.post(new_url, entry_form(clinic.past, title="After closing"))
    assert r.status_code == 302
    assert path_of(r.location) == f"/courses/{course.id}"
    r = patient.get(new_url)
    assert r.status_code == 302
    assert path_of(r.location) == f"/courses/{course.id}"
    assert patient.get(f"/entries/{own}/edit").status_code == 403
    r = patient.post(f"/entries/{own}/edit", entry_form(clinic.past, title="Changed", version="1"))
    assert r.status_code == 403
    saved = fresh_entry(app, own)
    assert saved is not None and saved.version == 1

    r = clinician.post(new_url, entry_form(clinic.past, title="Clinician after closing"))
    assert r.status_code == 302
    assert path_of(r.location) == f"/courses/{course.id}"
    r = clinician.post(
        f"/courses/{course.id}/sessions/new",
        {"scheduled_at": "2030-03-01T10:00", "number": "", "status": "scheduled"},
    )
    assert r.status_code == 403
    r = clinician.post(
        f"/courses/{course.id}/sessions/{clinic.upcoming.id}/edit",
        {"scheduled_at": "2030-03-01T10:00", "number": "2", "status": "cancelled"},
    )
    assert r.status_code == 403
    assert count_rows(app, Entry) == entries_before
    assert count_rows(app, DosingSession) == sessions_before
    with runtime(app).database.session() as s:
        upcoming = s.get(DosingSession, clinic.upcoming.id)
        assert upcoming is not None and upcoming.status.value == "scheduled"

    # Still readable, with no way to write.
    timeline = patient.text(f"/courses/{course.id}")
    assert "Before closing" in timeline
    assert "/entries/new" not in timeline and f"/entries/{own}/edit" not in timeline
    assert f'href="/entries/{own}/edit"' not in patient.text(f"/entries/{own}")
    staff_view = clinician.text(f"/courses/{course.id}")
    assert f"/courses/{course.id}/status/active" in staff_view
    assert f"/courses/{course.id}/status/closed" not in staff_view

    assert patient.post(f"/courses/{course.id}/status/active").status_code == 403
    r = clinician.post(f"/courses/{course.id}/status/active")
    assert r.status_code == 302
    r = patient.post(new_url, entry_form(clinic.past, title="After reopening"))
    assert r.status_code == 302
    assert path_of(r.location).startswith("/entries/")
    assert count_rows(app, Entry) == entries_before + 1
    assert patient.get(f"/entries/{own}/edit").status_code == 200


# -- accounts ------------------------------------------------------------------------


def create_account(admin: Browser, name: str, email: str, role: Role) -> str:
    """The admin makes the account; its owner chooses a password through the link
    e-mailed to them. Returns that password."""
    r = admin.post("/admin/users/new", {"name": name, "email": email, "role": role.value})
    assert r.status_code == 302, r.get_data(as_text=True)
    path = mailed_link(admin.app, email)
    owner = Browser(admin.app)
    owner.get(path)
    r = owner.post(path, {"password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert r.status_code == 302
    return NEW_PASSWORD


def test_admin_creates_an_account_whose_owner_chooses_the_password(clinic: Clinic) -> None:
    app = clinic.world.app
    admin = clinic.world.browser(clinic.admin)
    email = "new-patient@clinic.example"
    password = create_account(admin, "Robin Example (test)", email, Role.PATIENT)

    with runtime(app).database.session() as s:
        user = s.scalar(select(User).where(User.email == email))
        assert user is not None
        assert user.role == Role.PATIENT and not user.must_change_password and user.active
    listing = admin.text("/admin/users")
    assert "Robin Example (test)" in listing and password not in listing
    # A second account with the same email is refused.
    r = admin.post("/admin/users/new", {"name": "Twin", "email": email, "role": "patient"})
    assert r.status_code == 200 and "already" in r.get_data(as_text=True)

    newcomer = Browser(app)
    assert newcomer.login(email, password).status_code == 302
    r = newcomer.get("/")
    assert r.status_code == 200  # a patient without a course sees their empty journal
    assert "no course of treatment yet" in r.get_data(as_text=True)


def test_admin_creates_a_clinician_account(clinic: Clinic) -> None:
    admin = clinic.world.browser(clinic.admin)
    password = create_account(
        admin, "Sam Example (test)", "new-clinician@clinic.example", Role.CLINICIAN
    )
    b = Browser(clinic.world.app)
    assert b.login("new-clinician@clinic.example", password).status_code == 302
    r = b.get("/courses/new")  # staff set up two-factor sign-in before anything else
    assert r.status_code == 302 and path_of(r.location) == "/account/two-factor"


def test_deactivated_user_is_signed_out_at_once(clinic: Clinic) -> None:
    app = clinic.world.app
    admin = clinic.world.browser(clinic.admin)
    patient = clinic.world.browser(clinic.patient)
    clinician = clinic.world.browser(clinic.clinician)
    patient.text(f"/courses/{clinic.course.id}")
    clinician.text(f"/courses/{clinic.course.id}/sessions/new")  # a form left open

    for user in (clinic.patient, clinic.clinician):
        r = admin.post(f"/admin/users/{user.id}/deactivate")
        assert r.status_code == 302 and path_of(r.location) == "/admin/users"

    r = patient.get(f"/courses/{clinic.course.id}")
    assert r.status_code == 302 and path_of(r.location) == "/login"
    sessions_before = count_rows(app, DosingSession)
    r = clinician.post(
        f"/courses/{clinic.course.id}/sessions/new",
        {"scheduled_at": "2030-03-01T10:00", "number": "", "status": "scheduled"},
    )
    assert r.status_code == 302 and path_of(r.location) == "/login"
    assert count_rows(app, DosingSession) == sessions_before

    assert Browser(app).login(clinic.patient.email).status_code == 200  # refused
    r = admin.post(f"/admin/users/{clinic.patient.id}/activate")
    assert r.status_code == 302
    # The old browser session stays ended; a new sign-in works.
    assert path_of(patient.get("/").location) == "/login"
    assert Browser(app).login(clinic.patient.email, PASSWORD).status_code == 302


def test_admin_cannot_deactivate_themself(clinic: Clinic) -> None:
    admin = clinic.world.browser(clinic.admin)
    r = admin.post(f"/admin/users/{clinic.admin.id}/deactivate")
    assert r.status_code == 302
    assert admin.get("/admin/users").status_code == 200


# -- courses made by the admin ----------------------------------------------------------


def test_admin_creates_a_course_with_a_care_team_and_never_reads_it(clinic: Clinic) -> None:
    app = clinic.world.app
    world = clinic.world
    patient = world.user(Role.PATIENT)
    first = world.user(Role.CLINICIAN)
    second = world.user(Role.CLINICIAN)
    admin = world.browser(clinic.admin)

    r = admin.post(
        "/admin/courses/new",
        {
            "patient_email": patient.email,
            "clinician_emails": f"{first.email}, {second.email.upper()}",
            "started_on": STARTED_ON,
        },
    )
    assert r.status_code == 302, r.get_data(as_text=True)
    course_path = path_of(r.location)
    assert course_path.startswith("/admin/courses/")
    course_id = course_path.rsplit("/", 1)[-1]
    with runtime(app).database.session() as s:
        course = s.get(Course, uuid.UUID(course_id))
        assert course is not None and course.patient_id == patient.id
    assert team_of(clinic, course) == {str(first.id), str(second.id)}
    team_page = admin.text(course_path)
    assert patient.name in team_page and first.name in team_page and second.name in team_page

    # The care team works with it; the patient writes in it.
    staff = world.browser(first)
    assert patient.name in staff.text("/")
    r = staff.post(
        f"/courses/{course_id}/sessions/new",
        {"scheduled_at": "2030-03-01T10:00", "number": "", "status": "scheduled"},
    )
    assert r.status_code == 302, r.get_data(as_text=True)
    words = world.browser(patient)
    shared, private = marker("adminshared"), marker("adminprivate")
    entry_ids = []
    for secret, visibility in ((shared, "care_team"), (private, "private")):
        r = words.post(
            f"/courses/{course_id}/entries/new",
            entry_form(None, title=f"Title {secret}", body=f"Body {secret}", visibility=visibility),
        )
        assert r.status_code == 302, r.get_data(as_text=True)
        entry_ids.append(new_entry_id(r.location))
    assert shared in world.browser(second).text(f"/courses/{course_id}")

    # The admin sees who and when, never what.
    forbidden = {shared: "care-team entry", private: "private entry"}
    for url in ("/admin/users", "/admin/courses", course_path):
        r = admin.get(url)
        assert not leaks(r, forbidden), url
    for url in (
        f"/courses/{course_id}",
        *[f"/entries/{e}" for e in entry_ids],
        *[f"/entries/{e}/history" for e in entry_ids],
    ):
        r = admin.get(url)
        assert r.status_code in (403, 404), url
        assert not leaks(r, forbidden), url


def test_admin_course_needs_a_patient_and_clinicians(clinic: Clinic) -> None:
    admin = clinic.world.browser(clinic.admin)
    before = count_rows(clinic.world.app, Course)
    for data in (
        {"patient_email": clinic.clinician.email, "clinician_emails": clinic.clinician.email},
        {"patient_email": clinic.patient.email, "clinician_emails": clinic.other_patient.email},
    ):
        r = admin.post("/admin/courses/new", {**data, "started_on": STARTED_ON})
        assert r.status_code == 200
        assert 'class="error"' in r.get_data(as_text=True)
    assert count_rows(clinic.world.app, Course) == before
