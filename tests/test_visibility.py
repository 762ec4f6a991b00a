"""Checklist 25 and the product's visibility table.

| private        | its author only                                         |
| care team      | the patient and the clinicians on the course's care team |
| clinician-only | clinicians on the care team; never the patient           |
Admins read none of them.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from journal.core.actor import Actor
from journal.core.errors import ValidationError
from journal.journaling import entries, timeline
from journal.journaling.entries import EntryInput
from journal.models import DosingSession, Entry, Phase, Visibility
from tests.conftest import Clinic, committing, entry_form, new_entry_id, runtime, work_in
from tests.helpers import Browser
from tests.scene import Scene, build_scene, count_rows, fresh_entry, leaks, linked_entries, marker


def entry_count(scene: Scene, user_attr: str) -> int:
    """The timeline's count of entries, as the service gives it to any page."""
    user = getattr(scene.clinic, user_attr)
    rt = runtime(scene.app)
    with committing(rt) as s:
        view = timeline.course_timeline(work_in(rt, s, Actor(user)), scene.clinic.course.id)
        return view.entry_count


def assert_absent(page: str, markers: tuple[str, ...], what: str) -> None:
    shown = [m for m in markers if m in page]
    assert not shown, f"{what}: {shown}"


def assert_present(page: str, markers: tuple[str, ...], what: str) -> None:
    missing = [m for m in markers if m not in page]
    assert not missing, f"{what}: {missing}"


# -- the patient and clinician-only entries -----------------------------------------


def test_patient_never_sees_clinician_only_entries(clinic: Clinic) -> None:
    scene = build_scene(clinic)
    b = scene.world.browser(clinic.patient)
    page = b.text(f"/courses/{clinic.course.id}")

    expected = {scene[k].id for k in ("pshared", "pprivate", "pwasprivate", "cshared", "cwasonly")}
    assert linked_entries(page) == expected
    for label in ("pshared", "pprivate", "pwasprivate", "cshared", "cwasonly"):
        assert scene[label].current.markers[0] in page, label
    assert_absent(page, scene["conly"].markers, "clinician-only entry on the patient's timeline")
    assert_absent(page, scene["cwasonly"].earlier[0].markers, "clinician-only earlier version")

    for url in (f"/entries/{scene['conly'].id}", f"/entries/{scene['conly'].id}/history"):
        r = b.get(url)
        assert r.status_code == 404, url
        assert not leaks(r, scene.forbidden_markers(clinic.patient))

    # Once shared, the entry is readable, but not the version written clinician-only.
    history = b.text(f"/entries/{scene['cwasonly'].id}/history")
    assert scene["cwasonly"].current.markers[0] in history  # the current title heads the page
    assert_absent(history, scene["cwasonly"].earlier[0].markers, "clinician-only version")
    assert "No earlier versions." in history

    # Counts: the timeline counts only what the patient may read.
    assert entry_count(scene, "patient") == len(expected)
    assert entry_count(scene, "clinician") == 5  # pshared pwasprivate cshared conly cwasonly


def test_patient_sees_every_earlier_version_of_their_own_entry(clinic: Clinic) -> None:
    scene = build_scene(clinic)
    b = scene.world.browser(clinic.patient)
    history = b.text(f"/entries/{scene['pwasprivate'].id}/history")
    assert_present(history, scene["pwasprivate"].earlier[0].markers, "own earlier version")
    assert scene["pwasprivate"].current.markers[0] in history


# -- the clinician and private entries ---------------------------------------------


def test_clinician_never_sees_private_entries(clinic: Clinic) -> None:
    scene = build_scene(clinic)
    b = scene.world.browser(clinic.clinician)
    page = b.text(f"/courses/{clinic.course.id}")

    expected = {scene[k].id for k in ("pshared", "pwasprivate", "cshared", "conly", "cwasonly")}
    assert linked_entries(page) == expected
    assert_absent(page, scene["pprivate"].markers, "private entry on the clinician's timeline")
    assert_absent(page, scene["pwasprivate"].earlier[0].markers, "private earlier version")

    for url in (f"/entries/{scene['pprivate'].id}", f"/entries/{scene['pprivate'].id}/history"):
        r = b.get(url)
        assert r.status_code == 404, url
        assert not leaks(r, scene.forbidden_markers(clinic.clinician))


def test_entry_shared_after_being_private_keeps_its_private_past(clinic: Clinic) -> None:
    """Written private, then edited to care team, through the pages."""
    b = clinic.world.browser(clinic.patient)
    first, second = marker("first"), marker("second")
    r = b.post(
        f"/courses/{clinic.course.id}/entries/new",
        entry_form(clinic.past, title=f"Just for me {first}", body=first, visibility="private"),
    )
    assert r.status_code == 302, r.get_data(as_text=True)
    entry_id = new_entry_id(r.location)

    clinician = clinic.world.browser(clinic.clinician)
    assert clinician.get(f"/entries/{entry_id}").status_code == 404

    r = b.post(
        f"/entries/{entry_id}/edit",
        entry_form(
            clinic.past,
            title=f"Now shared {second}",
            body=second,
            visibility="care_team",
            version="1",
        ),
    )
    assert r.status_code == 302, r.get_data(as_text=True)

    assert second in clinician.text(f"/entries/{entry_id}")
    history = clinician.text(f"/entries/{entry_id}/history")
    assert second in history
    assert first not in history, "the private first version was shown to the clinician"
    assert first not in clinician.text(f"/courses/{clinic.course.id}")

    own = b.text(f"/entries/{entry_id}/history")
    assert first in own and second in own


# -- the admin reads nothing ---------------------------------------------------------


def test_admin_sees_names_but_never_content(clinic: Clinic) -> None:
    scene = build_scene(clinic)
    admin = scene.world.browser(clinic.admin)
    forbidden = scene.forbidden_markers(clinic.admin)
    every_marker = [m for w in scene.written.values() for m in w.markers]
    extras = [x.marker for x in scene.extras]
    assert set(forbidden) == {*every_marker, *extras, *scene.indications.values()}

    users = admin.get("/admin/users")
    assert users.status_code == 200
    assert not leaks(users, forbidden)
    for person in scene.users:
        assert person.name in users.get_data(as_text=True)

    for course, patient, clinician in (
        (clinic.course, clinic.patient, clinic.clinician),
        (clinic.other_course, clinic.other_patient, clinic.other_clinician),
    ):
        r = admin.get(f"/admin/courses/{course.id}")
        assert r.status_code == 200
        assert not leaks(r, forbidden)
        page = r.get_data(as_text=True)
        assert patient.name in page and clinician.name in page

    for c in scene.courses:
        for url in (f"/courses/{c.id}", f"/courses/{c.id}/entries/new"):
            r = admin.get(url)
            assert r.status_code in (403, 404), url
            assert not leaks(r, forbidden), url
    for w in scene.written.values():
        for url in (f"/entries/{w.id}", f"/entries/{w.id}/history", f"/entries/{w.id}/edit"):
            r = admin.get(url)
            assert r.status_code in (403, 404), url
            assert not leaks(r, forbidden), url


def test_admin_course_list_shows_names_but_no_content(clinic: Clinic) -> None:
    scene = build_scene(clinic)
    admin = scene.world.browser(clinic.admin)
    r = admin.get("/admin/courses")
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert clinic.patient.name in page and clinic.other_patient.name in page
    assert clinic.clinician.name in page
    assert not leaks(r, scene.forbidden_markers(clinic.admin))


# -- who may choose which visibility ---------------------------------------------------


@pytest.mark.parametrize(
    ("who", "refused", "offered"),
    [
        ("patient", "clinician_only", ("care_team", "private")),
        ("clinician", "private", ("care_team", "clinician_only")),
    ],
)
def test_writer_cannot_choose_a_visibility_not_theirs(
    clinic: Clinic, who: str, refused: str, offered: tuple[str, ...]
) -> None:
    b = clinic.world.browser(getattr(clinic, who))
    url = f"/courses/{clinic.course.id}/entries/new"
    form = b.text(url)
    for value in offered:
        assert f'value="{value}"' in form
    assert f'value="{refused}"' not in form

    before = count_rows(clinic.world.app, Entry)
    title = marker("refused")
    r = b.post(url, entry_form(clinic.past, title=title, visibility=refused))
    assert r.status_code == 200
    assert 'class="error"' in r.get_data(as_text=True)
    assert count_rows(clinic.world.app, Entry) == before

    # The same rule holds when an entry is edited.
    r = b.post(url, entry_form(clinic.past, title="Mine", visibility="care_team"))
    assert r.status_code == 302
    entry_id = new_entry_id(r.location)
    r = b.post(
        f"/entries/{entry_id}/edit",
        entry_form(clinic.past, title=title, visibility=refused, version="1"),
    )
    assert r.status_code == 200
    saved = fresh_entry(clinic.world.app, entry_id)
    assert saved is not None
    assert saved.version == 1 and saved.visibility == Visibility.CARE_TEAM


@pytest.mark.parametrize(
    ("who", "refused"),
    [("patient", Visibility.CLINICIAN_ONLY), ("clinician", Visibility.PRIVATE)],
)
def test_service_refuses_a_visibility_not_theirs(
    clinic: Clinic, who: str, refused: Visibility
) -> None:
    """The rule lives in the service too, not only in the form's radio buttons."""
    world = clinic.world
    with pytest.raises(ValidationError) as raised:
        entries.create_entry(
            world.as_(getattr(clinic, who)),
            clinic.course.id,
            EntryInput(phase=Phase.INTEGRATION, title="Refused", body="", visibility=refused),
        )
    world.db.rollback()
    assert "visibility" in raised.value.errors
    assert count_rows(world.app, Entry) == 0


# -- ids posted by the client are ignored ------------------------------------------------


@pytest.mark.parametrize("who", ["patient", "clinician"])
def test_posted_owner_fields_are_ignored(clinic: Clinic, who: str) -> None:
    me = getattr(clinic, who)
    someone_else = clinic.clinician if who == "patient" else clinic.patient
    b = clinic.world.browser(me)
    planted = uuid.uuid4()
    spoof = {
        "patient_id": str(clinic.other_patient.id),
        "author_id": str(someone_else.id),
        "updated_by": str(someone_else.id),
        "course_id": str(clinic.other_course.id),
        "id": str(planted),
        "entry_id": str(planted),
        "created_at": "2001-01-01T00:00:00",
    }
    r = b.post(
        f"/courses/{clinic.course.id}/entries/new",
        {**entry_form(clinic.past, title="Spoof attempt"), **spoof},
    )
    assert r.status_code == 302, r.get_data(as_text=True)
    entry_id = new_entry_id(r.location)
    assert entry_id != planted
    saved = fresh_entry(clinic.world.app, entry_id)
    assert saved is not None
    assert saved.author_id == me.id and saved.updated_by == me.id
    assert saved.course_id == clinic.course.id
    assert saved.created_at.year != 2001
    page = b.text(f"/entries/{entry_id}")
    assert me.name in page
    assert count_rows(clinic.world.app, Entry, Entry.course_id == clinic.other_course.id) == 0

    # Editing: the same fields are ignored, the author stays the author.
    r = b.post(
        f"/entries/{entry_id}/edit",
        {**entry_form(clinic.past, title="Spoofed edit", version="1"), **spoof},
    )
    assert r.status_code == 302, r.get_data(as_text=True)
    saved = fresh_entry(clinic.world.app, entry_id)
    assert saved is not None
    assert saved.version == 2
    assert saved.author_id == me.id and saved.updated_by == me.id
    assert saved.course_id == clinic.course.id


def test_session_of_another_course_is_refused(clinic: Clinic) -> None:
    """A session id is an object id posted by the client: one from another course is refused."""
    b = clinic.world.browser(clinic.patient)
    with runtime(clinic.world.app).database.session() as s:
        foreign = s.scalar(
            select(DosingSession.id).where(DosingSession.course_id == clinic.other_course.id)
        )
    assert foreign is not None
    data = entry_form(clinic.past, title="Wrong session")
    data["session_id"] = str(foreign)
    r = b.post(f"/courses/{clinic.course.id}/entries/new", data)
    assert r.status_code == 200
    assert count_rows(clinic.world.app, Entry) == 0


# -- only the author edits -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "who", "statuses"),
    [
        ("pshared", "clinician", {403}),
        ("cshared", "patient", {403}),
        ("pshared", "other_patient", {404}),
        ("pshared", "other_clinician", {404}),
        ("cshared", "other_clinician", {404}),
        ("pshared", "admin", {403, 404}),
    ],
)
def test_only_the_author_may_edit(clinic: Clinic, label: str, who: str, statuses: set[int]) -> None:
    scene = build_scene(clinic)
    w = scene[label]
    b: Browser = scene.world.browser(getattr(clinic, who))
    url = f"/entries/{w.id}/edit"
    r = b.get(url)
    assert r.status_code in statuses
    r = b.post(url, entry_form(clinic.past, title="Not my words", version="1"))
    assert r.status_code in statuses
    saved = fresh_entry(scene.app, w.id)
    assert saved is not None and saved.version == 1
    if who in ("clinician", "patient"):
        page = b.text(f"/entries/{w.id}")  # readable, but offers no edit button
        assert f'href="/entries/{w.id}/edit"' not in page
    author = scene.world.browser(w.author)
    assert f'href="/entries/{w.id}/edit"' in author.text(f"/entries/{w.id}")
