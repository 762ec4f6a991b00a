"""Clinician review from the outside: "read by", "changed since", whole sessions,
and the crawl of every page each person can reach for words they must never see.

Who may read what comes from tests/scene.py (the product's visibility table),
never from journal.accounts.policy.
"""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import select

from journal.models import DosingSession, EntryReview, Role, User
from tests.conftest import Clinic, entry_form, new_entry_id, runtime
from tests.helpers import Browser
from tests.scene import (
    Scene,
    build_scene,
    count_rows,
    has_screening,
    linked_entries,
    marker,
    recorded_session_ids,
    session_ids,
)

THEME_LINK_RE = re.compile(r'href="/themes/([0-9a-f-]{36})"')
NAV_COUNT_RE = re.compile(r'<span class="count" aria-hidden="true">(\d+)</span>')
PATIENT_NOTICE_RE = re.compile(r"\((\d+) new comments?\)")
CLINICIAN_NOTICE_RE = re.compile(
    r"\((\d+) new entr(?:y|ies), (\d+) unread comments?(?:, (\d+) safety flags?)?\)"
)


def write_entry(b: Browser, clinic: Clinic, **form: str) -> uuid.UUID:
    r = b.post(f"/courses/{clinic.course.id}/entries/new", entry_form(clinic.past, **form))
    assert r.status_code == 302, r.get_data(as_text=True)
    return new_entry_id(r.location)


def reviews_of(clinic: Clinic, entry_id: uuid.UUID) -> list[tuple[uuid.UUID, int]]:
    with runtime(clinic.world.app).database.session() as s:
        rows = s.scalars(select(EntryReview).where(EntryReview.entry_id == entry_id))
        return [(r.clinician_id, r.entry_version) for r in rows]


# -- marking one entry reviewed ---------------------------------------------------


def test_patient_sees_read_by_and_changed_since(clinic: Clinic) -> None:
    patient = clinic.world.browser(clinic.patient)
    clinician = clinic.world.browser(clinic.clinician)
    title = marker("reviewed")
    entry_id = write_entry(patient, clinic, title=f"Fictional {title}")
    read_by = f"Read by {clinic.clinician.name}"

    page = patient.text(f"/entries/{entry_id}")
    assert read_by not in page
    assert "Not read by your care team yet." in page
    assert "Mark as reviewed" not in page  # patients see no review button

    assert "Mark as reviewed" in clinician.text(f"/entries/{entry_id}")
    r = clinician.post(f"/entries/{entry_id}/review")
    assert r.status_code == 302
    assert reviews_of(clinic, entry_id) == [(clinic.clinician.id, 1)]
    assert "Mark as reviewed" not in clinician.text(f"/entries/{entry_id}")

    page = patient.text(f"/entries/{entry_id}")
    assert read_by in page
    assert "Not read by your care team yet." not in page
    assert "changed since" not in page
    timeline = patient.text(f"/courses/{clinic.course.id}")
    assert read_by in timeline
    assert "changed since review" not in timeline

    r = patient.post(
        f"/entries/{entry_id}/edit", entry_form(clinic.past, title="Fictional edit", version="1")
    )
    assert r.status_code == 302
    page = patient.text(f"/entries/{entry_id}")
    assert read_by in page and "changed since" in page
    assert "changed since review" in patient.text(f"/courses/{clinic.course.id}")

    # Reviewed again, the mark follows the new version.
    assert "Mark as reviewed" in clinician.text(f"/entries/{entry_id}")
    assert clinician.post(f"/entries/{entry_id}/review").status_code == 302
    assert reviews_of(clinic, entry_id) == [(clinic.clinician.id, 2)]
    assert "changed since" not in patient.text(f"/entries/{entry_id}")
    assert "changed since review" not in patient.text(f"/courses/{clinic.course.id}")


def test_session_review_marks_every_readable_entry_of_that_session(clinic: Clinic) -> None:
    patient = clinic.world.browser(clinic.patient)
    clinician = clinic.world.browser(clinic.clinician)
    first = write_entry(patient, clinic, title="Fictional first")
    second = write_entry(patient, clinic, title="Fictional second", phase="preparation")
    private = write_entry(patient, clinic, title="Fictional private", visibility="private")
    own = write_entry(clinician, clinic, title="Fictional staff", visibility="clinician_only")
    later = patient.post(
        f"/courses/{clinic.course.id}/entries/new",
        entry_form(clinic.upcoming, title="Fictional later", phase="preparation"),
    )
    assert later.status_code == 302
    elsewhere = new_entry_id(later.location)

    url = f"/courses/{clinic.course.id}/sessions/{clinic.past.id}/review"
    assert f'action="{url}"' in clinician.text(f"/courses/{clinic.course.id}")
    r = clinician.post(url, follow_redirects=True)
    assert r.status_code == 200
    assert "Marked 3 entries of this session as reviewed." in r.get_data(as_text=True)
    for entry_id in (first, second, own):
        assert reviews_of(clinic, entry_id) == [(clinic.clinician.id, 1)], entry_id
    assert reviews_of(clinic, private) == []
    assert reviews_of(clinic, elsewhere) == []
    timeline = patient.text(f"/courses/{clinic.course.id}")
    assert timeline.count(f"Read by {clinic.clinician.name}") == 2


@pytest.mark.parametrize("who", ["other_clinician", "patient", "other_patient", "admin"])
def test_review_by_someone_outside_the_care_team_is_refused(clinic: Clinic, who: str) -> None:
    patient = clinic.world.browser(clinic.patient)
    entry_id = write_entry(patient, clinic, title="Fictional to review")
    b = clinic.world.browser(getattr(clinic, who))
    expected = 404 if who == "other_clinician" else 403
    assert b.post(f"/entries/{entry_id}/review").status_code == expected
    url = f"/courses/{clinic.course.id}/sessions/{clinic.past.id}/review"
    assert b.post(url).status_code == expected
    assert count_rows(clinic.world.app, EntryReview) == 0


def test_review_of_an_entry_the_clinician_cannot_read_is_not_found(clinic: Clinic) -> None:
    patient = clinic.world.browser(clinic.patient)
    clinician = clinic.world.browser(clinic.clinician)
    private = write_entry(patient, clinic, title="Fictional private", visibility="private")
    assert clinician.post(f"/entries/{private}/review").status_code == 404
    assert clinician.post(f"/entries/{uuid.uuid4()}/review").status_code == 404
    # A session whose only entry is private, and a session of another course.
    url = f"/courses/{clinic.course.id}/sessions/{clinic.past.id}/review"
    assert clinician.post(url).status_code == 404
    with runtime(clinic.world.app).database.session() as s:
        foreign = s.scalar(
            select(DosingSession.id).where(DosingSession.course_id == clinic.other_course.id)
        )
    url = f"/courses/{clinic.course.id}/sessions/{foreign}/review"
    assert clinician.post(url).status_code == 404
    assert count_rows(clinic.world.app, EntryReview) == 0


# -- the navigation counts ---------------------------------------------------------------


def nav_count(page: str) -> int:
    """The count in the navigation: the wide row and the phone's menu (its button and
    its link) show it, and always the same number."""
    found = NAV_COUNT_RE.findall(page)
    assert len(set(found)) <= 1
    return int(found[0]) if found else 0


def patient_notice(page: str) -> int:
    found = PATIENT_NOTICE_RE.findall(page)
    n = int(found[0]) if found else 0
    assert nav_count(page) == n
    return n


def clinician_notice(page: str) -> tuple[int, int]:
    found = CLINICIAN_NOTICE_RE.findall(page)
    new, unread = (int(found[0][0]), int(found[0][1])) if found else (0, 0)
    flags = int(found[0][2] or 0) if found else 0
    assert nav_count(page) == new + unread + flags
    return new, unread


def expected_unread(scene: Scene, user: User) -> int:
    """Comments and replies by others on entries the user can read (none opened yet)."""
    by_patient = {"reply"}
    mine = by_patient if user.role == Role.PATIENT else {"comment", "staff_comment"}
    return sum(
        1
        for x in scene.extras
        if x.kind in {"comment", "staff_comment", "reply"}
        and x.kind not in mine
        and scene.may_read_extra(user, x)
        and x.course.id in {c.id for c in scene.courses if scene.may_see_course(user, c)}
    )


def test_patient_nav_counts_unread_care_team_comments_only(clinic: Clinic) -> None:
    scene = build_scene(clinic)
    for who in ("patient", "other_patient"):
        user = getattr(clinic, who)
        b = scene.world.browser(user)
        expected = expected_unread(scene, user)
        assert expected == 1  # the shared comment; not the clinician-only one, not on conly
        page = b.text("/search")
        assert patient_notice(page) == expected
        # Opening the entry reads the comment: the count drops to nothing.
        prefix = "" if who == "patient" else "o"
        b.text(f"/entries/{scene[prefix + 'pshared'].id}")
        page = b.text("/search")
        assert patient_notice(page) == 0
        assert "new comment" not in page

    # A new care-team comment counts again; a clinician-only one never does.
    clinician = scene.world.browser(clinic.clinician)
    entry = scene["cshared"].id
    for visibility in ("care_team", "clinician_only"):
        r = clinician.post(
            f"/entries/{entry}/comments",
            {"body": f"Fictional {visibility}", "visibility": visibility},
        )
        assert r.status_code == 302
    b = scene.world.browser(clinic.patient)
    assert patient_notice(b.text("/search")) == 1
    b.text(f"/entries/{entry}")
    assert patient_notice(b.text("/search")) == 0


def test_clinician_nav_counts_new_entries(clinic: Clinic) -> None:
    scene = build_scene(clinic)
    for who in ("clinician", "other_clinician"):
        b = scene.world.browser(getattr(clinic, who))
        # pshared and pwasprivate (shared now) by the patient; the patient's reply.
        assert clinician_notice(b.text("/search")) == (2, 1)
    b = scene.world.browser(clinic.clinician)
    b.text(f"/courses/{clinic.course.id}")
    assert clinician_notice(b.text("/search")) == (0, 1)
    patient = scene.world.browser(clinic.patient)
    write_entry(patient, clinic, title="Fictional new")
    write_entry(patient, clinic, title="Fictional private", visibility="private")
    assert clinician_notice(b.text("/search")) == (1, 1)
    b.text(f"/entries/{scene['pshared'].id}")  # reads the reply
    assert clinician_notice(b.text("/search")) == (1, 0)
    other = scene.world.browser(clinic.other_clinician)
    assert clinician_notice(other.text("/search")) == (2, 1)


# -- the crawl: every page a person can reach ---------------------------------------------


def search_markers(scene: Scene) -> list[str]:
    written = [m for w in scene.written.values() for m in w.markers]
    return [*written, *(x.marker for x in scene.extras), *scene.indications.values()]


def readable_markers(scene: Scene, user: User) -> set[str]:
    found = {m for m in search_markers(scene) if m not in scene.forbidden_markers(user)}
    return found


def crawl(scene: Scene, user: User) -> str:
    """Open every page the user can reach and every id of the scene; fail on any
    forbidden marker. Returns the text of every page that answered 200."""
    b = scene.world.browser(user)
    forbidden = scene.forbidden_markers(user)
    pages: list[str] = []
    problems: list[str] = []

    def visit(url: str, expected: int, query: str = "", course: object = None) -> str:
        r = b.search(query, course) if query else b.get(url, follow_redirects=True)
        body = r.get_data(as_text=True)
        if r.status_code != expected:
            problems.append(f"{url}: {r.status_code}, expected {expected}")
        if query:  # the query is echoed in the search box and the results' heading
            body = body.replace(f'value="{query}"', "").replace(f"“{query}”", "")
        shown = [f"{where} ({m})" for m, where in forbidden.items() if m in body]
        if shown:
            problems.append(f"{url}: {shown}")
        if r.status_code == 200:
            pages.append(body)
        return body

    visit("/", 200)
    theme_links: set[uuid.UUID] = set()
    for course in scene.courses:
        seen = scene.may_see_course(user, course)
        page = visit(f"/courses/{course.id}", 200 if seen else 404)
        if seen:
            expected = {w.id for w in scene.readable(user) if w.course.id == course.id}
            if linked_entries(page) != expected:
                problems.append(f"timeline links {linked_entries(page)} != {expected}")
        page = visit(f"/courses/{course.id}/themes", 200 if seen else 404)
        theme_links |= {uuid.UUID(t) for t in THEME_LINK_RE.findall(page)}
        on_team = user.role == Role.CLINICIAN and seen
        notes = 200 if on_team else 403 if user.role == Role.PATIENT else 404
        visit(f"/courses/{course.id}/notes", notes)
        visit(f"/courses/{course.id}/screening", notes)
        for plan_page in ("", "/edit", "/history", "/print"):  # the patient's and the team's
            visit(f"/courses/{course.id}/safety-plan{plan_page}", 200 if seen else 404)
        visit(f"/courses/{course.id}/screening/recheck", notes)
        screened = notes if has_screening(scene.app, course.id) or notes != 200 else 404
        visit(f"/courses/{course.id}/screening/history", screened)
        visit(f"/courses/{course.id}/consent", 200 if seen else 404)  # the patient's too
        # Entered by the care team; read only for the patient, not found for others.
        consent_form = 200 if on_team else 403 if seen else 404
        visit(f"/courses/{course.id}/consent/edit", consent_form)
        recorded = recorded_session_ids(scene.app, course.id)
        for session_id in session_ids(scene.app, course.id):
            visit(f"/courses/{course.id}/sessions/{session_id}/record", notes)
            # Earlier versions: the care team's, and only where there is a record.
            kept = notes if session_id in recorded or notes != 200 else 404
            visit(f"/courses/{course.id}/sessions/{session_id}/record/history", kept)
            # The patient's part of the record: theirs alone.
            mine = 200 if seen and session_id in recorded else 404
            own = mine if user.role == Role.PATIENT else 403
            visit(f"/courses/{course.id}/sessions/{session_id}/dosing-record", own)
    for w in scene.written.values():
        status = 200 if scene.may_open(user, w) else 404
        visit(f"/entries/{w.id}", status)
        visit(f"/entries/{w.id}/history", status)
    themes = {x.object_id: x for x in scene.extras if x.kind == "theme"}
    allowed = {i for i, x in themes.items() if scene.may_read_extra(user, x)}
    if theme_links != allowed:
        problems.append(f"theme lists link {theme_links}, expected {allowed}")
    for theme_id, x in themes.items():
        visit(f"/themes/{theme_id}", 200 if scene.may_read_extra(user, x) else 404)
    for m in search_markers(scene):
        visit(f"search for {m}", 200, query=m)
        for course in scene.courses:
            if scene.may_see_course(user, course):
                visit(f"search for {m} in {course.id}", 200, query=m, course=course.id)
    if user.role == Role.PATIENT:
        visit("/account/access-log", 200)
    assert problems == []
    return "\n".join(pages)


@pytest.mark.parametrize("who", ["patient", "other_patient", "clinician", "other_clinician"])
def test_every_reachable_page_shows_only_what_its_reader_may_read(clinic: Clinic, who: str) -> None:
    scene = build_scene(clinic)
    user = getattr(clinic, who)
    # Clinicians leave a trail for the patient's access log to show.
    for reader in (clinic.clinician, clinic.other_clinician):
        b = scene.world.browser(reader)
        for w in scene.readable(reader):
            b.text(f"/entries/{w.id}")
    everything = crawl(scene, user)
    # The crawl did see what the reader may see: every marker of it, somewhere.
    missing = readable_markers(scene, user) - {
        m for m in readable_markers(scene, user) if m in everything
    }
    assert missing == set()
    if who in ("patient", "other_patient"):
        assert "Psychotherapy notes" not in everything
        assert "Clinicians only" not in everything


def test_the_navigation_counts_new_entries_up_to_a_cap(
    clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Beyond the cap the count says "N+": counting on would walk every entry."""
    from journal.review import caseload

    monkeypatch.setattr(caseload, "COUNT_CAP", 3)
    patient = clinic.world.browser(clinic.patient)
    for n in range(2):
        write_entry(patient, clinic, title=f"Capped {n}")
    staff = clinic.world.browser(clinic.clinician)
    assert "(2 new entries," in staff.text("/account/password")
    for n in range(2, 5):
        write_entry(patient, clinic, title=f"Capped {n}")
    assert "(2+ new entries," in staff.text("/account/password")
