"""Search from the outside: the same visibility as every page, highlighted matches,
a clinician's caseload or one course, any input answered or refused clearly, and
every search that shows someone else's words on the audit trail."""

from __future__ import annotations

import html
import uuid

import pytest
from sqlalchemy import select

from journal.models import AuditEvent, Role, SessionStatus, Visibility
from tests.conftest import Clinic, entry_form, new_entry_id, runtime
from tests.helpers import Browser
from tests.scene import Scene, build_scene, linked_entries, write

COMMON = "written"  # in the body of every entry of the scene


def search(b: Browser, q: str, course: uuid.UUID | None = None) -> tuple[int, str]:
    r = b.search(q, course)
    return r.status_code, r.get_data(as_text=True)


def readable_ids(scene: Scene, who: str, *courses: uuid.UUID) -> set[uuid.UUID]:
    user = getattr(scene.clinic, who)
    return {w.id for w in scene.readable(user) if not courses or w.course.id in courses}


# -- what a search finds ------------------------------------------------------------------


def test_patient_finds_own_private_and_shared_entries_never_clinician_only(
    clinic: Clinic,
) -> None:
    scene = build_scene(clinic)
    b = scene.world.browser(clinic.patient)
    status, page = search(b, COMMON)
    assert status == 200
    expected = readable_ids(scene, "patient")
    assert {scene[k].id for k in ("pprivate", "pshared", "cwasonly")} <= expected
    assert linked_entries(page) == expected
    assert scene["conly"].id not in linked_entries(page)
    for label in ("conly", "cwasonly"):
        first = scene[label].versions[0].markers[1]  # the body while clinician-only
        status, page = search(b, first)
        assert status == 200 and linked_entries(page) == set(), label
    # Each title of what the patient may read finds its entry, highlighted.
    for w in scene.readable(clinic.patient):
        title = w.current.markers[0]
        status, page = search(b, title)
        assert linked_entries(page) == {w.id}, w.label
        assert f"<mark>{title}</mark>" in page


def test_matches_are_marked_whatever_their_case(clinic: Clinic) -> None:
    b = clinic.world.browser(clinic.patient)
    r = b.post(
        f"/courses/{clinic.course.id}/entries/new",
        entry_form(
            clinic.past,
            title="Fictional Harbour",
            body="The harbour lights, <b>then</b> the HARBOUR bell.",
        ),
    )
    assert r.status_code == 302
    entry_id = new_entry_id(r.location)
    status, page = search(b, "hArBoUr bell")
    assert status == 200
    assert linked_entries(page) == {entry_id}
    assert "<mark>Harbour</mark>" in page
    assert "<mark>harbour</mark>" in page and "<mark>HARBOUR</mark>" in page
    assert "<mark>bell</mark>" in page
    assert "<b>then</b>" not in page  # the entry's words are escaped in the snippet
    # Every word must match.
    assert linked_entries(search(b, "harbour absentword")[1]) == set()


def test_clinician_searches_the_caseload_but_no_other_course(clinic: Clinic) -> None:
    scene = build_scene(clinic)
    world = scene.world
    third_patient = world.user(Role.PATIENT)
    third = world.course(third_patient, clinic.clinician)
    world.session(third, clinic.clinician, -3, SessionStatus.COMPLETED)
    extra = write(world, third_patient, third, Visibility.CARE_TEAM, label="third")
    hidden = write(world, third_patient, third, Visibility.PRIVATE, label="thirdprivate")

    b = world.browser(clinic.clinician)
    status, page = search(b, COMMON)
    assert status == 200
    found = linked_entries(page)
    assert found == readable_ids(scene, "clinician") | {extra.id}
    assert hidden.id not in found
    assert not found & {w.id for w in scene.written.values() if w.course == clinic.other_course}
    assert clinic.patient.name in page and third_patient.name in page
    assert clinic.other_patient.name not in page

    # One course only.
    status, page = search(b, COMMON, third.id)
    assert status == 200 and linked_entries(page) == {extra.id}
    status, page = search(b, COMMON, clinic.course.id)
    assert linked_entries(page) == readable_ids(scene, "clinician", clinic.course.id)


@pytest.mark.parametrize(
    ("who", "course_attr"),
    [
        ("other_clinician", "course"),
        ("clinician", "other_course"),
        ("patient", "other_course"),
        ("other_patient", "course"),
    ],
)
def test_searching_someone_elses_course_is_not_found(
    clinic: Clinic, who: str, course_attr: str
) -> None:
    scene = build_scene(clinic)
    b = scene.world.browser(getattr(clinic, who))
    course = getattr(clinic, course_attr)
    status, page = search(b, COMMON, course.id)
    assert status == 404
    assert linked_entries(page) == set()
    forbidden = scene.forbidden_markers(getattr(clinic, who))
    assert [m for m in forbidden if m in page] == []
    assert search(b, COMMON, uuid.uuid4())[0] == 404
    r = b.search(COMMON, "not-a-course")
    assert r.status_code == 404


def test_admin_cannot_search(clinic: Clinic) -> None:
    b = clinic.world.browser(clinic.admin)
    assert search(b, COMMON)[0] == 403
    assert search(b, COMMON, clinic.course.id)[0] == 403


# -- any input: answered, or refused with a clear message ----------------------------------

GOOD = [
    "a",
    "x" * 200,
    " ".join(["w"] * 10),
    "<script>alert(1)</script>",
    "\"'><img src=x onerror=alert(1)>",
    "Straße",
    "STRASSE",
    "🌊",
    "🌊 Straße ǅ",
    "%00",
    "\u202ereversed",
    "a\u0301",
    "Ⅻ ﬁ İ",
    "\\ % _ * ? [ ]",
    "' OR 1=1 --",
    "   padded   ",
]
REFUSED = {
    "x" * 201: "Use at most 200 characters.",
    "y" * 5000: "Use at most 200 characters.",
    " ".join(str(n) for n in range(11)): "Use at most 10 words.",
}


@pytest.mark.parametrize("who", ["patient", "clinician"])
def test_any_query_is_answered_or_refused_clearly(clinic: Clinic, who: str) -> None:
    patient = clinic.world.browser(clinic.patient)
    r = patient.post(
        f"/courses/{clinic.course.id}/entries/new",
        entry_form(clinic.past, title="Fictional Straße", body="Waves 🌊 and <script> tags"),
    )
    assert r.status_code == 302
    entry_id = new_entry_id(r.location)
    b = clinic.world.browser(getattr(clinic, who))

    for q in ("", "   "):
        status, page = search(b, q)
        assert status == 200 and 'class="error"' not in page and "<mark>" not in page
    for q in GOOD:
        for course in (None, clinic.course.id):
            status, page = search(b, q, course)
            assert status == 200, q
            assert 'class="error"' not in page, q
            assert "<script>alert" not in page and "<img src=x" not in page
    for q, message in REFUSED.items():
        status, page = search(b, q)
        assert status == 400, q[:20]
        assert f'<p class="error" id="q-error">{message}</p>' in page
        assert linked_entries(page) == set()
    for q in ("straße", "STRASSE", "strasse", "🌊", "<script>", "waves 🌊"):
        status, page = search(b, q)
        assert status == 200 and linked_entries(page) == {entry_id}, q
    # The query comes back in the box, escaped.
    page = search(b, "<script>alert(1)</script>")[1]
    assert f'value="{html.escape("<script>alert(1)</script>")}"' in page


def test_a_query_with_a_nul_or_control_character_is_no_error(clinic: Clinic) -> None:
    b = clinic.world.browser(clinic.patient)
    for raw in ("a%00b", "%01%02", "%7F", "tab%09tab", "line%0Abreak", "%ED%A0%80", "%FF"):
        r = b.client.post(
            "/search",
            data=f"csrf_token={b.token()}&q={raw}",
            content_type="application/x-www-form-urlencoded",
        )
        assert r.status_code in (200, 400), raw
        if r.status_code == 400:
            assert 'class="error"' in r.get_data(as_text=True)


# -- searches are reads, on the audit trail -------------------------------------------------


def search_events(clinic: Clinic) -> list[tuple[uuid.UUID | None, uuid.UUID | None, uuid.UUID]]:
    with runtime(clinic.world.app).database.session() as s:
        rows = s.execute(
            select(AuditEvent.actor_id, AuditEvent.subject_id, AuditEvent.object_id)
            .where(AuditEvent.action == "read", AuditEvent.object_type == "search")
            .order_by(AuditEvent.seq)
        ).all()
    return [(a, b, uuid.UUID(str(c))) for a, b, c in rows]


def test_a_clinicians_search_is_a_read_of_each_course_it_shows(clinic: Clinic) -> None:
    scene = build_scene(clinic)
    world = scene.world
    third_patient = world.user(Role.PATIENT)
    third = world.course(third_patient, clinic.clinician)
    world.session(third, clinic.clinician, -3, SessionStatus.COMPLETED)
    write(world, third_patient, third, Visibility.CARE_TEAM, label="third")

    patient = world.browser(clinic.patient)
    assert search(patient, COMMON)[0] == 200
    assert search_events(clinic) == []  # the patient's own course

    clinician = world.browser(clinic.clinician)
    assert search(clinician, "nothingmatchesthis")[0] == 200
    assert search_events(clinic) == []  # nothing shown, nothing read

    assert search(clinician, scene["pshared"].current.markers[0])[0] == 200
    assert search_events(clinic) == [(clinic.clinician.id, clinic.patient.id, clinic.course.id)]

    assert search(clinician, COMMON)[0] == 200
    events = search_events(clinic)
    assert len(events) == 3
    assert set(events[1:]) == {
        (clinic.clinician.id, clinic.patient.id, clinic.course.id),
        (clinic.clinician.id, third_patient.id, third.id),
    }
    page = patient.text("/account/access-log")
    assert clinic.clinician.name in page
    assert "entries (in search results)" in page


def test_search_never_opens_psychotherapy_notes_or_comments(clinic: Clinic) -> None:
    scene = build_scene(clinic)
    for who in ("patient", "clinician"):
        b = scene.world.browser(getattr(clinic, who))
        for x in scene.extras:
            if x.kind in ("note", "staff_comment", "comment", "reply"):
                status, page = search(b, x.marker)
                assert status == 200
                assert linked_entries(page) == set(), (who, x.kind)
                assert f"<mark>{x.marker}</mark>" not in page


def test_matches_are_marked_in_text_whose_case_folding_changes_its_length(
    clinic: Clinic,
) -> None:
    """ß folds to "ss" and İ to two characters: the marks still land on the match, in
    the title and in the snippet, however many such letters come before it."""
    b = clinic.world.browser(clinic.patient)
    r = b.post(
        f"/courses/{clinic.course.id}/entries/new",
        entry_form(
            clinic.past,
            title="Fictional Straße İzmir",
            body="Große Füße " * 30 + "then the Meer at last, and the Straße again.",
        ),
    )
    assert r.status_code == 302
    entry_id = new_entry_id(r.location)
    for q, marked in (
        ("meer", ["<mark>Meer</mark>"]),
        ("STRASSE", ["<mark>Straße</mark>"]),
        ("i̇zmir", ["<mark>İzmir</mark>"]),
        ("füsse meer", ["<mark>Füße</mark>"]),  # the snippet is around the first match
    ):
        status, page = search(b, q)
        assert status == 200, q
        if marked:
            assert linked_entries(page) == {entry_id}, q
        for m in marked:
            assert m in page, (q, m)


def test_intentions_and_outcome_reflections_are_found_as_their_entrys_words(
    clinic: Clinic,
) -> None:
    from tests.test_intentions import integrate, intention_ids, prepare

    app = clinic.world.app
    patient = clinic.world.browser(clinic.patient)
    prep = prepare(clinic, patient, "Meet the heron 5521 gently")
    (heron,) = intention_ids(app, prep)
    shared = integrate(
        clinic, patient, **{f"outcome-{heron}": "partly", f"reflection-{heron}": "kestrel 8812"}
    )
    private = integrate(
        clinic,
        patient,
        visibility="private",
        **{f"outcome-{heron}": "addressed", f"reflection-{heron}": "osprey 4407"},
    )
    for q, entry in (("heron 5521", prep), ("kestrel 8812", shared), ("osprey 4407", private)):
        status, page = search(patient, q)
        assert status == 200 and linked_entries(page) == {entry}, q
        assert f"<mark>{q.split()[0]}</mark>" in page  # the snippet shows where it matched
    clinician = clinic.world.browser(clinic.clinician)
    assert linked_entries(search(clinician, "kestrel")[1]) == {shared}
    assert linked_entries(search(clinician, "osprey")[1]) == set()  # a private entry's words
