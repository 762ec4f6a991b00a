"""What new users tripped over: a journal always takes words (entries between sessions),
optional titles, the integration form's intentions, deleting one's own entry, the
export form's PDF-only options, and forms that answer a reload sensibly."""

from __future__ import annotations

import json
import re

from sqlalchemy import select

from journal.models import AuditEvent, Entry, OutcomeStatus, Phase, SessionStatus
from tests.conftest import Clinic, entry_form, new_entry_id
from tests.export_helpers import pdf_text
from tests.helpers import Browser


def _write(clinic: Clinic, url_query: str = "", **fields: str) -> Entry:
    b = clinic.world.browser(clinic.patient)
    r = b.post(f"/courses/{clinic.course.id}/entries/new{url_query}", fields)
    assert r.status_code == 302, r.get_data(as_text=True)
    assert re.fullmatch(r"/entries/[0-9a-f-]{36}", r.location)
    entry = clinic.world.db.get(Entry, new_entry_id(r.location))
    assert entry is not None
    return entry


def test_a_patient_with_no_session_yet_can_write(clinic: Clinic) -> None:
    w = clinic.world
    course = w.course(clinic.patient, clinic.clinician)  # a new course: nothing scheduled
    b = w.browser(clinic.patient)
    form = b.text(f"/courses/{course.id}/entries/new?phase=preparation")
    assert "None yet: no session is scheduled" in form
    timeline = b.text(f"/courses/{course.id}")
    assert "Write in your journal" in timeline

    r = b.post(
        f"/courses/{course.id}/entries/new?phase=integration",
        {"title": "Before it all starts", "body": "Nervous, hopeful.", "visibility": "care_team"},
    )
    assert r.status_code == 302, r.get_data(as_text=True)
    assert re.fullmatch(r"/entries/[0-9a-f-]{36}", r.location)
    entry = w.db.get(Entry, new_entry_id(r.location))
    assert entry is not None and entry.session_id is None
    assert entry.phase == Phase.INTEGRATION

    page = b.text(r.location)
    assert "Before the first session is scheduled" in page
    timeline = b.text(f"/courses/{course.id}")
    assert "Before the first session is scheduled" in timeline
    assert "Before it all starts" in timeline
    # The care team reads it in its place too.
    assert "Before it all starts" in w.browser(clinic.clinician).text(f"/courses/{course.id}")


def test_an_entry_between_sessions_sits_in_its_place_by_date(clinic: Clinic) -> None:
    w = clinic.world
    entry = _write(clinic, **entry_form(None, session_id="between", title="A quiet week"))
    assert entry.session_id is None
    b = w.browser(clinic.patient)
    # Written now: after the past session, before the upcoming one.
    label = f"Between sessions {clinic.past.number} and {clinic.upcoming.number}"
    page = b.text(f"/entries/{entry.id}")
    assert label in page
    timeline = b.get(f"/courses/{clinic.course.id}").get_data(as_text=True)
    block = timeline.index(label)
    assert timeline.index(f'id="s-{clinic.past.id}"') < block
    assert block < timeline.index(f'id="s-{clinic.upcoming.id}"')
    assert timeline.index("A quiet week") > block
    # Search and the theme of the entry still find it.
    found = b.search("quiet week", clinic.course.id).get_data(as_text=True)
    assert "<mark>quiet</mark> <mark>week</mark>" in found and "Between sessions" in found


def test_a_clinician_links_it_to_a_session_later(clinic: Clinic) -> None:
    w = clinic.world
    entry = _write(clinic, **entry_form(None, session_id="between", title="Loose words"))
    url = f"/entries/{entry.id}/session"
    # Only someone who may read it, on its course: others are told nothing.
    for outsider in (clinic.other_clinician, clinic.other_patient, clinic.admin):
        r = w.browser(outsider).post(url, {"session_id": str(clinic.past.id)})
        assert r.status_code == 404
    b = w.browser(clinic.clinician)
    page = b.text(f"/entries/{entry.id}")
    assert "Link to this session" in page
    # A session of another course is not a choice.
    other = w.session(clinic.other_course, clinic.other_clinician, 5)
    r = b.post(url, {"session_id": str(other.id)})
    assert r.status_code == 200 and 'id="session_id-error"' in r.get_data(as_text=True)
    w.db.expire_all()
    assert w.db.get(Entry, entry.id).session_id is None  # type: ignore[union-attr]

    r = b.post(url, {"session_id": str(clinic.past.id)})
    assert r.status_code == 302 and r.location == f"/entries/{entry.id}"
    w.db.expire_all()
    linked = w.db.get(Entry, entry.id)
    assert linked is not None and linked.session_id == clinic.past.id and linked.version == 1
    assert w.db.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "entry.attach", AuditEvent.object_id == entry.id
        )
    )
    # Linked once: the form is gone and a second post is refused.
    assert "Link to this session" not in b.text(f"/entries/{entry.id}")
    assert b.post(url, {"session_id": str(clinic.upcoming.id)}).status_code == 403
    # The patient's edit form, opened before, still saves (the words did not change).
    pb = w.browser(clinic.patient)
    r = pb.post(
        f"/entries/{entry.id}/edit",
        entry_form(clinic.past, title="Loose words, edited", version="1"),
    )
    assert r.status_code == 302, r.get_data(as_text=True)
    # The patient's access log says it in words.
    log = pb.text("/account/access-log")
    assert "Linked a dosing session to" in log


def test_exports_keep_entries_written_between_sessions(clinic: Clinic) -> None:
    w = clinic.world
    loose = _write(clinic, **entry_form(None, session_id="between", title="Between the two"))
    b = w.browser(clinic.clinician)
    assert (
        b.post(f"/entries/{loose.id}/themes", {"kind": "images", "name": "Canal"}).status_code
        == 302
    )
    base = f"/courses/{clinic.course.id}/export"
    r = b.post(base, {"format": "json", "span": "all"})
    assert r.status_code == 200, r.get_data(as_text=True)[:400]
    doc = json.loads(r.get_data())
    course = doc["courses"][0] if "courses" in doc else doc
    assert [e["title"] for e in course["between_sessions"]] == ["Between the two"]
    canal = [t for t in course["themes"] if t["name"] == "Canal"]
    assert canal == [{"kind": "images", "name": "Canal", "session_numbers": [], "entries": 1}]
    md = b.post(base, {"format": "md", "span": "all"}).get_data(as_text=True)
    assert "# Written between sessions" in md and "Between the two" in md
    html = b.post(base, {"format": "html", "span": "all"}).get_data(as_text=True)
    assert "Written between sessions" in html and "Between the two" in html
    pdf = b.post(base, {"format": "pdf", "span": "all"})
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert "Written between sessions" in pdf_text(pdf.get_data())
    # An export of chosen sessions leaves them out.
    r = b.post(base, {"format": "json", "span": "sessions", "sessions": str(clinic.past.id)})
    doc = json.loads(r.get_data())
    course = doc["courses"][0] if "courses" in doc else doc
    assert course["between_sessions"] == []


def test_titles_are_optional_and_the_first_words_stand_in(clinic: Clinic) -> None:
    w = clinic.world
    body = "The river was loud this morning and I listened for a long while before walking on."
    entry = _write(clinic, **entry_form(clinic.past, title="", body=body))
    b = w.browser(clinic.patient)
    timeline = b.text(f"/courses/{clinic.course.id}")
    assert "The river was loud this morning and I listened for a long…" in timeline
    assert "<title>The river was loud" in b.text(f"/entries/{entry.id}")
    edit = b.text(f"/entries/{entry.id}/edit")
    title_input = re.search(r'<input[^>]*name="title"[^>]*>', edit)
    assert title_input is not None and 'value=""' in title_input.group(0)  # starts empty
    # Nothing at all is still refused, and nothing is saved.
    before = w.db.scalar(select(Entry.id).order_by(Entry.created_at.desc()))
    r = b.post(
        f"/courses/{clinic.course.id}/entries/new", entry_form(clinic.past, title="", body=" ")
    )
    assert r.status_code == 200 and "Write a few words first" in r.get_data(as_text=True)
    assert w.db.scalar(select(Entry.id).order_by(Entry.created_at.desc())) == before


def test_the_integration_form_asks_first_about_held_unaddressed_intentions(clinic: Clinic) -> None:
    w = clinic.world
    first = w.session(clinic.course, clinic.clinician, -14, SessionStatus.COMPLETED)
    for session, text in (
        (first, "Rest more"),
        (clinic.past, "Call my sister"),
        (clinic.past, "Walk daily"),
        (clinic.upcoming, "Sleep early"),
    ):
        _write(clinic, **entry_form(session, phase="preparation", title=text, intentions=text))
    b = w.browser(clinic.patient)
    page = b.text(f"/courses/{clinic.course.id}/entries/new?phase=integration")
    focus, _, rest = page.partition("Show all intentions")
    # Held and open: most recent first; the next session's intention waits behind "show all".
    assert focus.index("Walk daily") < focus.index("Rest more")
    assert "Call my sister" in focus and "Sleep early" not in focus
    assert "Sleep early" in rest
    # Once addressed, an intention moves behind "show all" too.
    call = re.search(r'<legend>Call my sister.*?name="outcome-([0-9a-f-]{36})"', page, flags=re.S)
    assert call is not None
    r = b.post(
        f"/courses/{clinic.course.id}/entries/new",
        entry_form(
            clinic.past,
            title="It went well",
            **{f"outcome-{call.group(1)}": OutcomeStatus.ADDRESSED.value},
        ),
    )
    assert r.status_code == 302, r.get_data(as_text=True)
    page = b.text(f"/courses/{clinic.course.id}/entries/new?phase=integration")
    focus, _, rest = page.partition("Show all intentions")
    assert "Call my sister" not in focus and "Call my sister" in rest


def test_a_patient_deletes_their_own_entry_and_may_restore_it(clinic: Clinic) -> None:
    w = clinic.world
    shared = _write(clinic, **entry_form(clinic.past, title="Too raw to keep"))
    private = _write(clinic, **entry_form(clinic.past, title="Only mine", visibility="private"))
    b, cb = w.browser(clinic.patient), w.browser(clinic.clinician)
    # The clinician cannot delete a patient's words; nor can anyone else.
    for other in (cb, w.browser(clinic.other_patient)):
        assert other.post(f"/entries/{shared.id}/delete").status_code in (403, 404)
    assert "Delete" in b.text(f"/entries/{shared.id}")
    cb.text(f"/entries/{shared.id}")  # read by the care team before it goes
    ask = b.text(f"/entries/{shared.id}/delete")
    assert "Your care team will see that an entry from this date was deleted" in ask
    assert "for 30 days" in ask
    assert "never knew of it" in b.text(f"/entries/{private.id}/delete")

    r = b.post(f"/entries/{shared.id}/delete")
    assert r.status_code == 302 and r.location == f"/courses/{clinic.course.id}"
    assert b.post(f"/entries/{private.id}/delete").status_code == 302
    # Gone for everyone: the page, the search, the export; a tombstone stays.
    for reader in (b, cb):
        assert reader.get(f"/entries/{shared.id}").status_code == 404
        assert "Too raw" not in reader.search("raw", clinic.course.id).get_data(as_text=True)
    timeline = cb.text(f"/courses/{clinic.course.id}")
    assert "Too raw" not in timeline and "deleted by" in timeline
    assert timeline.count("deleted by") == 1  # the private one stays the patient's alone
    own = b.text(f"/courses/{clinic.course.id}")
    assert own.count("deleted by you") == 2 and "Restore" in own
    export = cb.post(f"/courses/{clinic.course.id}/export", {"format": "md", "span": "all"})
    assert "Too raw" not in export.get_data(as_text=True)
    # The patient's access log keeps who opened it before, named but no longer linked.
    log = b.text("/account/access-log")
    assert "Opened an entry" in log and f"/entries/{shared.id}" not in log

    # Restored: back as it was, for those who could read it.
    assert cb.post(f"/entries/{shared.id}/restore").status_code == 404
    r = b.post(f"/entries/{shared.id}/restore")
    assert r.status_code == 302 and r.location == f"/entries/{shared.id}"
    assert "Too raw to keep" in cb.text(f"/entries/{shared.id}")
    actions = set(w.db.scalars(select(AuditEvent.action).where(AuditEvent.object_id == shared.id)))
    assert {"entry.delete", "entry.restore"} <= actions


def test_the_words_of_a_deleted_entry_are_erased_after_the_clinics_days(clinic: Clinic) -> None:
    from datetime import timedelta

    from journal.journaling import entries
    from journal.models import EntryRevision, Intention

    w = clinic.world
    entry = _write(
        clinic,
        **entry_form(clinic.upcoming, phase="preparation", title="Plan", intentions="Rest"),
    )
    b = w.browser(clinic.patient)
    b.post(f"/entries/{entry.id}/edit", entry_form(clinic.upcoming, title="Plan 2", version="1"))
    assert b.post(f"/entries/{entry.id}/delete").status_code == 302
    w.db.expire_all()
    deleted = w.db.get(Entry, entry.id)
    assert deleted is not None and deleted.deleted_at is not None
    work = w.as_(clinic.patient)
    assert entries.purge_deleted(work, 30, now=deleted.deleted_at + timedelta(days=29)) == 0
    assert entries.purge_deleted(work, 30, now=deleted.deleted_at + timedelta(days=31)) == 1
    w.commit()
    w.db.expire_all()
    erased = w.db.get(Entry, entry.id)
    assert erased is not None and erased.erased_at is not None
    assert w.vault.open_column(erased, "body", clinic.patient.id) == ""
    assert not w.db.scalars(select(EntryRevision).where(EntryRevision.entry_id == entry.id)).all()
    assert not w.db.scalars(select(Intention).where(Intention.entry_id == entry.id)).all()
    # Erased: no longer restorable, the tombstone stays.
    assert b.post(f"/entries/{entry.id}/restore").status_code == 404
    timeline = b.text(f"/courses/{clinic.course.id}")
    assert "deleted by you" in timeline


def test_the_export_form_says_which_options_are_for_a_pdf_only(clinic: Clinic) -> None:
    page = clinic.world.browser(clinic.patient).text(f"/courses/{clinic.course.id}/export")
    # Without scripts the options stay in view, so the legend and a note say what they
    # apply to; js/export-form.js hides them unless PDF is chosen.
    assert "For a PDF only: paper and protection" in page
    assert "cannot be protected with a passphrase" in page
    assert "js/export-form.js" in page and "data-pdf-only" in page


def test_the_forgotten_password_page_can_be_reloaded(clinic: Clinic) -> None:
    b = Browser(clinic.world.app)
    r = b.post("/reset", {"email": clinic.patient.email})
    assert r.status_code == 302 and r.location == "/reset/sent"
    assert "Check your e-mail" in b.text(r.location)
    assert "Check your e-mail" in b.text(r.location)  # a reload: nothing sent again
