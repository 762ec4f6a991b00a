"""Comments on entries and on quoted passages, and replies, through the pages."""

from __future__ import annotations

import html
import uuid

import pytest
from sqlalchemy import select

from journal.models import Comment, SessionStatus, Visibility
from tests.conftest import Clinic, entry_form, new_entry_id, runtime
from tests.helpers import Browser
from tests.scene import build_scene, count_rows, marker


def write_entry(b: Browser, clinic: Clinic, **form: str) -> uuid.UUID:
    r = b.post(f"/courses/{clinic.course.id}/entries/new", entry_form(clinic.past, **form))
    assert r.status_code == 302, r.get_data(as_text=True)
    return new_entry_id(r.location)


def post_comment(
    b: Browser,
    entry_id: uuid.UUID,
    body: str,
    *,
    quote: str = "",
    visibility: str = "care_team",
    parent: uuid.UUID | None = None,
) -> tuple[int, str, uuid.UUID | None]:
    """Returns the status, the page (or the redirect's target) and the new comment's id."""
    data = {"body": body, "quote": quote, "visibility": visibility}
    if parent is not None:
        data["parent_id"] = str(parent)
    r = b.post(f"/entries/{entry_id}/comments", data)
    if r.status_code == 302:
        anchor = r.location.rsplit("#c-", 1)[-1]
        return 302, r.location, uuid.UUID(anchor)
    return r.status_code, r.get_data(as_text=True), None


def stored(clinic: Clinic, comment_id: uuid.UUID) -> Comment:
    with runtime(clinic.world.app).database.session() as s:
        comment = s.get(Comment, comment_id)
        assert comment is not None
        s.expunge(comment)
        return comment


@pytest.fixture
def people(clinic: Clinic) -> tuple[Browser, Browser]:
    return clinic.world.browser(clinic.patient), clinic.world.browser(clinic.clinician)


# -- comments on the whole entry and on a passage ---------------------------------------


def test_whole_entry_and_passage_comments_reach_the_patient(
    clinic: Clinic, people: tuple[Browser, Browser]
) -> None:
    patient, clinician = people
    entry_id = write_entry(
        patient, clinic, body="The sea was **very** loud, then the room went quiet."
    )
    whole, on_passage = marker("whole"), marker("passage")

    status, location, first = post_comment(clinician, entry_id, f"Thank you {whole}")
    assert status == 302 and location.endswith(f"/entries/{entry_id}#c-{first}")
    status, _, second = post_comment(
        clinician, entry_id, f"About this {on_passage}", quote="the room went quiet"
    )
    assert status == 302
    assert first and second
    assert stored(clinic, first).quote is None
    assert stored(clinic, second).quote is not None
    assert stored(clinic, second).visibility == Visibility.CARE_TEAM

    page = patient.text(f"/entries/{entry_id}")
    assert whole in page and on_passage in page
    assert '<blockquote class="passage">the room went quiet</blockquote>' in page
    assert clinic.clinician.name in page
    assert "Save comment" not in page  # patients reply; they write no new comments


@pytest.mark.parametrize(
    ("body", "quote"),
    [
        ("**bold** words and more", "bold words"),
        ("An *emphasised* phrase here", "emphasised phrase"),
        ("A line\nbroken  in   two", "line broken in two"),
        ("Quiet WATER at dawn", "quiet water"),
        ("A [linked](https://example.org/) word", "linked word"),
    ],
)
def test_a_passage_is_found_without_its_markdown_marks(
    clinic: Clinic, people: tuple[Browser, Browser], body: str, quote: str
) -> None:
    patient, clinician = people
    entry_id = write_entry(patient, clinic, body=body)
    status, page, comment_id = post_comment(clinician, entry_id, "On this passage", quote=quote)
    assert status == 302, page
    assert comment_id is not None
    assert html.escape(quote) in patient.text(f"/entries/{entry_id}")


def test_a_passage_not_in_the_entry_is_not_found(
    clinic: Clinic, people: tuple[Browser, Browser]
) -> None:
    patient, clinician = people
    entry_id = write_entry(patient, clinic, body="Only these fictional words.")
    other_id = write_entry(patient, clinic, body="A sentence from another entry.")
    for quote in ("words that were never written", "another entry", "these  fictional wordz"):
        status, _, _ = post_comment(clinician, entry_id, "Where is this?", quote=quote)
        assert status == 404, quote
    assert count_rows(clinic.world.app, Comment) == 0
    assert post_comment(clinician, other_id, "Here", quote="another entry")[0] == 302


# -- who may comment, and where --------------------------------------------------------------


def test_no_comment_on_an_entry_the_writer_cannot_read(
    clinic: Clinic, people: tuple[Browser, Browser]
) -> None:
    patient, clinician = people
    scene = build_scene(clinic)
    before = count_rows(clinic.world.app, Comment)
    private = write_entry(patient, clinic, title="Fictional private", visibility="private")
    assert post_comment(clinician, private, "Hello")[0] == 404
    assert post_comment(clinician, uuid.uuid4(), "Hello")[0] == 404
    outsider = clinic.world.browser(clinic.other_clinician)
    for label in ("pshared", "cshared", "conly"):
        assert post_comment(outsider, scene[label].id, "Hello")[0] == 404, label
    # A patient cannot reach a clinician-only entry, even to reply on it.
    staff_comment = next(
        x.object_id for x in scene.extras if x.kind == "comment" and x.entry == scene["conly"]
    )
    assert post_comment(patient, scene["conly"].id, "Hi", parent=staff_comment)[0] == 404
    assert count_rows(clinic.world.app, Comment) == before


def test_a_patient_writes_no_top_level_comment(
    clinic: Clinic, people: tuple[Browser, Browser]
) -> None:
    patient, clinician = people
    entry_id = write_entry(clinician, clinic, title="Fictional letter")
    own = write_entry(patient, clinic, title="Fictional own")
    for target in (entry_id, own):
        for visibility in ("care_team", "clinician_only", ""):
            status, _, _ = post_comment(patient, target, "My comment", visibility=visibility)
            assert status == 403
    assert count_rows(clinic.world.app, Comment) == 0


def test_patient_replies_to_a_shared_comment_and_the_clinician_sees_it(
    clinic: Clinic, people: tuple[Browser, Browser]
) -> None:
    patient, clinician = people
    entry_id = write_entry(patient, clinic, title="Fictional shared")
    status, _, comment_id = post_comment(clinician, entry_id, "How did that feel?")
    assert status == 302 and comment_id
    answer = marker("reply")
    # A visibility posted with a reply is ignored: the reply has its comment's level.
    status, location, reply_id = post_comment(
        patient, entry_id, f"Lighter {answer}", parent=comment_id, visibility="clinician_only"
    )
    assert status == 302 and reply_id
    assert location.endswith(f"#c-{reply_id}")
    reply = stored(clinic, reply_id)
    assert reply.parent_id == comment_id
    assert reply.visibility == Visibility.CARE_TEAM
    assert reply.author_id == clinic.patient.id
    assert reply.quote is None

    page = clinician.text(f"/entries/{entry_id}")
    assert answer in page
    assert clinic.patient.name in page
    assert answer in patient.text(f"/entries/{entry_id}")
    # A reply to a reply is not a thread of its own.
    assert post_comment(clinician, entry_id, "Nested", parent=reply_id)[0] == 404


def test_replies_to_clinician_only_comments(
    clinic: Clinic, people: tuple[Browser, Browser]
) -> None:
    patient, clinician = people
    entry_id = write_entry(patient, clinic, title="Fictional shared")
    staff = marker("staff")
    status, _, staff_id = post_comment(
        clinician, entry_id, f"For the team {staff}", visibility="clinician_only"
    )
    assert status == 302 and staff_id
    before = count_rows(clinic.world.app, Comment)
    status, page, _ = post_comment(patient, entry_id, "Let me in", parent=staff_id)
    assert status == 404
    assert staff not in page
    assert count_rows(clinic.world.app, Comment) == before

    # A colleague's reply stays clinician-only, whatever level is posted with it.
    answer = marker("staffreply")
    status, _, reply_id = post_comment(
        clinician, entry_id, f"Agreed {answer}", parent=staff_id, visibility="care_team"
    )
    assert status == 302 and reply_id
    assert stored(clinic, reply_id).visibility == Visibility.CLINICIAN_ONLY
    page = patient.text(f"/entries/{entry_id}")
    assert staff not in page and answer not in page
    assert answer in clinician.text(f"/entries/{entry_id}")


def test_unknown_or_malformed_parent_is_not_found(
    clinic: Clinic, people: tuple[Browser, Browser]
) -> None:
    patient, clinician = people
    entry_id = write_entry(patient, clinic, title="Fictional A")
    other_id = write_entry(patient, clinic, title="Fictional B")
    _, _, on_other = post_comment(clinician, other_id, "On B")
    assert on_other
    before = count_rows(clinic.world.app, Comment)
    for parent in (str(uuid.uuid4()), "not-a-uuid", str(on_other)):
        r = patient.post(f"/entries/{entry_id}/comments", {"body": "Hi", "parent_id": parent})
        assert r.status_code == 404, parent
    assert count_rows(clinic.world.app, Comment) == before


# -- bad input keeps what was typed ---------------------------------------------------------


def test_empty_or_too_long_comment_is_refused_and_kept(
    clinic: Clinic, people: tuple[Browser, Browser]
) -> None:
    patient, clinician = people
    entry_id = write_entry(patient, clinic, body="Fictional words to quote.")
    kept = marker("kept")
    for body in ("", "   \n  ", kept + "x" * 5_001):
        status, page, _ = post_comment(clinician, entry_id, body, quote=f"words {kept}")
        assert status == 400, body[:10]
        assert f"words {kept}" in page  # the quote typed stays in its field
        if body.strip():
            assert kept + "x" * 5_001 in page
        assert 'class="error"' in page
    assert count_rows(clinic.world.app, Comment) == 0

    _, _, comment_id = post_comment(clinician, entry_id, "Fictional question")
    assert comment_id
    long_reply = kept + "y" * 5_001
    for body in ("", long_reply):
        status, page, _ = post_comment(patient, entry_id, body, parent=comment_id)
        assert status == 400
        assert 'class="error"' in page
        if body:
            assert long_reply in page
    assert count_rows(clinic.world.app, Comment) == 1


def test_a_too_long_quote_is_refused(clinic: Clinic, people: tuple[Browser, Browser]) -> None:
    patient, clinician = people
    words = "fictional " * 150
    entry_id = write_entry(patient, clinic, body=words)
    status, page, _ = post_comment(clinician, entry_id, "On all of it", quote=words.strip())
    assert status == 400
    assert 'class="error"' in page
    assert count_rows(clinic.world.app, Comment) == 0


def test_closed_course_takes_no_new_comments(
    clinic: Clinic, people: tuple[Browser, Browser]
) -> None:
    patient, clinician = people
    entry_id = write_entry(patient, clinic, title="Fictional before closing")
    _, _, comment_id = post_comment(clinician, entry_id, "Before closing")
    assert comment_id
    assert clinician.post(f"/courses/{clinic.course.id}/status/closed").status_code == 302
    before = count_rows(clinic.world.app, Comment)
    assert post_comment(clinician, entry_id, "After closing")[0] == 403
    assert post_comment(clinician, entry_id, "After", visibility="clinician_only")[0] == 403
    assert post_comment(patient, entry_id, "After closing", parent=comment_id)[0] == 403
    assert count_rows(clinic.world.app, Comment) == before
    page = patient.text(f"/entries/{entry_id}")
    assert "Before closing" in page
    assert "Send reply" not in page
    assert "Save comment" not in clinician.text(f"/entries/{entry_id}")


def test_comment_count_on_the_timeline_follows_visibility(
    clinic: Clinic, people: tuple[Browser, Browser]
) -> None:
    patient, clinician = people
    entry_id = write_entry(patient, clinic, title="Fictional counted")
    post_comment(clinician, entry_id, "One")
    post_comment(clinician, entry_id, "Two", visibility="clinician_only")
    post_comment(clinician, entry_id, "Three", visibility="clinician_only")
    assert "1 comment<" in patient.text(f"/courses/{clinic.course.id}")
    assert "3 comments<" in clinician.text(f"/courses/{clinic.course.id}")
    with runtime(clinic.world.app).database.session() as s:
        levels = sorted(v.value for v in s.scalars(select(Comment.visibility)))
    assert levels == ["care_team", "clinician_only", "clinician_only"]


def test_patient_home_lists_unread_comments_only_on_entries_they_read(clinic: Clinic) -> None:
    world = clinic.world
    second = world.course(clinic.patient, clinic.other_clinician)  # two active courses
    world.session(second, clinic.other_clinician, -2, SessionStatus.COMPLETED)
    patient = world.browser(clinic.patient)
    clinician = world.browser(clinic.clinician)
    colleague = world.browser(clinic.other_clinician)
    first_title, second_title, staff_title = marker("one"), marker("two"), marker("staff")
    mine = write_entry(patient, clinic, title=first_title)
    r = patient.post(
        f"/courses/{second.id}/entries/new", entry_form(None, title=second_title, session_id="")
    )
    assert r.status_code == 302
    theirs = new_entry_id(r.location)
    staff = write_entry(clinician, clinic, title=staff_title, visibility="clinician_only")
    assert post_comment(clinician, mine, "Fictional one")[0] == 302
    assert post_comment(clinician, mine, "Fictional aside", visibility="clinician_only")[0] == 302
    assert post_comment(clinician, staff, "Fictional on staff")[0] == 302
    assert post_comment(colleague, theirs, "Fictional two")[0] == 302
    assert post_comment(colleague, theirs, "Fictional three")[0] == 302

    home = patient.text("/")
    assert "New from your care team" in home
    assert f"1 new comment on “{first_title}”" in home
    assert f"2 new comments on “{second_title}”" in home
    assert staff_title not in home
    timeline = patient.text(f"/courses/{clinic.course.id}")
    assert first_title in timeline and f"on “{second_title}”" not in timeline
    assert staff_title not in timeline

    patient.text(f"/entries/{theirs}")
    home = patient.text("/")
    assert second_title not in home and f"1 new comment on “{first_title}”" in home
    patient.text(f"/entries/{mine}")
    assert "New from your care team" not in patient.text("/")
