"""The patient's access log, from the outside: who opened or changed their journal,
read from the audit trail, for the patient only, and nothing of what they may not see."""

from __future__ import annotations

import html
import re
import uuid

import pytest

from tests.conftest import Clinic, entry_form, new_entry_id
from tests.helpers import Browser

ROW_RE = re.compile(r"<tr>\s*<td>(.*?)</tr>", re.S)
TAG_RE = re.compile(r"<[^>]+>")
ENTRY_LINK_RE = re.compile(r'href="/entries/([0-9a-f-]{36})"')
THEME_LINK_RE = re.compile(r'href="/themes/([0-9a-f-]{36})"')


def log_rows(b: Browser) -> list[str]:
    page = b.text("/account/access-log")
    return [html.unescape(" ".join(TAG_RE.sub(" ", row).split())) for row in ROW_RE.findall(page)]


def write_entry(b: Browser, clinic: Clinic, **form: str) -> uuid.UUID:
    r = b.post(f"/courses/{clinic.course.id}/entries/new", entry_form(clinic.past, **form))
    assert r.status_code == 302, r.get_data(as_text=True)
    return new_entry_id(r.location)


def test_an_opened_entry_shows_in_the_patients_log(clinic: Clinic) -> None:
    patient = clinic.world.browser(clinic.patient)
    clinician = clinic.world.browser(clinic.clinician)
    entry_id = write_entry(patient, clinic, title="Fictional opened")
    patient.text(f"/entries/{entry_id}")  # the patient's own reads are not listed
    assert log_rows(patient) == []
    assert "Nobody else has opened your journal yet." in patient.text("/account/access-log")

    clinician.text(f"/entries/{entry_id}")
    rows = log_rows(patient)
    assert len(rows) == 1
    assert rows[0].endswith(f"{clinic.clinician.name} (clinician) Opened an entry")
    page = patient.text("/account/access-log")
    assert f'href="/entries/{entry_id}"' in page
    assert "<time datetime=" in page

    # Other acts on the journal, newest first.
    assert clinician.post(f"/entries/{entry_id}/review").status_code == 302
    r = clinician.post(f"/entries/{entry_id}/comments", {"body": "Fictional comment"})
    assert r.status_code == 302
    r = clinician.post(f"/entries/{entry_id}/themes", {"kind": "places", "name": "Fictional"})
    assert r.status_code == 302
    clinician.text(f"/courses/{clinic.course.id}")
    rows = log_rows(patient)
    assert [r.split("(clinician) ", 1)[1] for r in rows] == [
        "Opened the timeline",
        "Tagged a theme on an entry",
        "Commented on an entry",
        "Marked as read an entry",
        "Opened an entry",
    ]
    actions = " | ".join(rows)
    for words in ("Opened the timeline", "Tagged a theme on", "Commented on", "Marked as read"):
        assert words in actions
    assert all(clinic.clinician.name in r for r in rows)

    # Another patient's log says nothing of this.
    other = clinic.world.browser(clinic.other_patient)
    assert log_rows(other) == []


@pytest.mark.parametrize("who", ["clinician", "other_clinician", "admin"])
def test_only_patients_have_an_access_log(clinic: Clinic, who: str) -> None:
    patient = clinic.world.browser(clinic.patient)
    entry_id = write_entry(patient, clinic, title="Fictional")
    clinic.world.browser(clinic.clinician).text(f"/entries/{entry_id}")
    b = clinic.world.browser(getattr(clinic, who))
    r = b.get("/account/access-log")
    assert r.status_code == 403
    assert clinic.patient.name not in r.get_data(as_text=True)


def test_bad_paging_values_fall_back(clinic: Clinic) -> None:
    patient = clinic.world.browser(clinic.patient)
    for value in ("yesterday", "2026-13-45", "2030-01-01T00:00:00", "%00", "x" * 3000):
        assert patient.get(f"/account/access-log?before={value}").status_code == 200
    assert patient.get("/account/access-log?before=2001-01-01T00:00:00%2B00:00").status_code == 200


def test_the_log_reveals_nothing_the_patient_may_not_see(clinic: Clinic) -> None:
    """Reads and changes of clinician-only entries, clinician-only comments (and replies
    to them) and themes only on clinician-only entries are not the patient's to know of."""
    patient = clinic.world.browser(clinic.patient)
    clinician = clinic.world.browser(clinic.clinician)
    shared = write_entry(patient, clinic, title="Fictional shared")
    staff = write_entry(clinician, clinic, title="Fictional staff", visibility="clinician_only")
    r = clinician.post(
        f"/entries/{staff}/comments", {"body": "Fictional on staff", "visibility": "care_team"}
    )
    assert r.status_code == 302
    clinician.text(f"/entries/{staff}")
    assert clinician.post(f"/entries/{staff}/review").status_code == 302
    url = f"/entries/{staff}/themes"
    assert clinician.post(url, {"kind": "images", "name": "Fictional"}).status_code == 302
    theme = THEME_LINK_RE.findall(clinician.text(f"/entries/{staff}"))[0]
    clinician.text(f"/themes/{theme}")  # a theme only on a clinician-only entry
    r = clinician.post(
        f"/entries/{shared}/comments", {"body": "Fictional aside", "visibility": "clinician_only"}
    )
    assert r.status_code == 302
    aside = r.location.rsplit("#c-", 1)[-1]
    r = clinician.post(f"/entries/{shared}/comments", {"body": "Agreed", "parent_id": aside})
    assert r.status_code == 302

    page = patient.text("/account/access-log")
    assert str(staff) not in page
    assert log_rows(patient) == []

    # For contrast, what the patient may know of is there.
    clinician.text(f"/entries/{shared}")
    r = clinician.post(f"/entries/{shared}/comments", {"body": "Fictional shared comment"})
    assert r.status_code == 302
    # Once the theme is on an entry the patient reads too, opening it is theirs to know.
    url = f"/entries/{shared}/themes"
    assert clinician.post(url, {"kind": "images", "name": "Fictional"}).status_code == 302
    clinician.text(f"/themes/{theme}")
    rows = log_rows(patient)
    assert [row.split("(clinician) ", 1)[1] for row in rows] == [
        "Opened a theme's entries",
        "Tagged a theme on an entry",
        "Commented on an entry",
        "Opened an entry",
        "Opened a theme's entries",  # the earlier opening, now of a theme the patient sees
    ]
    linked = {uuid.UUID(i) for i in ENTRY_LINK_RE.findall(patient.text("/account/access-log"))}
    assert linked == {shared}


def test_older_events_are_one_link_away(clinic: Clinic) -> None:
    patient = clinic.world.browser(clinic.patient)
    clinician = clinic.world.browser(clinic.clinician)
    entry_id = write_entry(patient, clinic, title="Fictional often opened")
    for _ in range(104):
        clinician.text(f"/entries/{entry_id}")
    clinician.text(f"/courses/{clinic.course.id}")  # the newest event
    page = patient.text("/account/access-log")
    first = log_rows(patient)
    assert len(first) == 100 and "Opened the timeline" in first[0]
    older = re.findall(r'<a href="(/account/access-log\?before=[^"]+)">Older</a>', page)
    assert len(older) == 1
    r = patient.get(html.unescape(older[0]))
    assert r.status_code == 200
    rest = [
        " ".join(TAG_RE.sub(" ", row).split()) for row in ROW_RE.findall(r.get_data(as_text=True))
    ]
    assert len(rest) == 5  # 105 events in all, none shown twice or skipped
    assert all(row.endswith("Opened an entry") for row in rest)
    assert "Older</a>" not in r.get_data(as_text=True)


def test_marking_a_sessions_entries_as_read_reads_as_a_sentence(clinic: Clinic) -> None:
    patient = clinic.world.browser(clinic.patient)
    write_entry(patient, clinic, title="Fictional session entry")
    clinician = clinic.world.browser(clinic.clinician)
    url = f"/courses/{clinic.course.id}/sessions/{clinic.past.id}/review"
    assert clinician.post(url).status_code == 302
    (row,) = log_rows(patient)
    assert row.endswith("(clinician) Marked as read the entries of a dosing session")
