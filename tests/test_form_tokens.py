"""A form posted twice creates one thing: the forms that create carry a one-time token,
and the same POST sent again (a browser's resend, a retry) makes nothing and is sent to
what the first one made."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select, update

from journal.accounts import form_tokens
from journal.db import utcnow
from journal.models import Comment, Entry, FormToken, PsychotherapyNote, SessionRecord
from journal.web.form_tokens import ALREADY_SAVED
from tests.conftest import Clinic, entry_form, runtime
from tests.helpers import Browser
from tests.scene import count_rows
from tests.test_session_record import record_form, record_url

TOKEN_RE = re.compile(r'name="form_token" value="([A-Za-z0-9_-]+)"')


def token_rows(app: Flask) -> list[FormToken]:
    with runtime(app).database.session() as s:
        rows = list(s.scalars(select(FormToken)))
        s.expunge_all()
        return rows


def new_entry(clinic: Clinic) -> str:
    return f"/courses/{clinic.course.id}/entries/new"


def an_entry(clinic: Clinic) -> uuid.UUID:
    r = clinic.world.browser(clinic.patient).post(new_entry(clinic), entry_form(clinic.past))
    assert r.status_code == 302
    return uuid.UUID(r.location.rsplit("/", 1)[-1])


@dataclass(frozen=True)
class Form:
    who: str
    model: type
    url: Callable[[Clinic], str]
    data: Callable[[Clinic], dict[str, object]]


def _reply(clinic: Clinic) -> dict[str, object]:
    entry = an_entry(clinic)
    r = clinic.world.browser(clinic.clinician).post(
        f"/entries/{entry}/comments", {"body": "A comment.", "visibility": "care_team"}
    )
    assert r.status_code == 302
    parent = r.location.rsplit("#c-", 1)[-1]
    return {"body": "A reply.", "parent_id": parent, "_url": f"/entries/{entry}/comments"}


FORMS = {
    "patient's entry": Form("patient", Entry, new_entry, lambda c: dict(entry_form(c.past))),
    "clinician's entry": Form(
        "clinician",
        Entry,
        new_entry,
        lambda c: dict(entry_form(c.past, visibility="clinician_only")),
    ),
    "comment": Form(
        "clinician",
        Comment,
        lambda c: f"/entries/{an_entry(c)}/comments",
        lambda _c: {"body": "A fictional comment.", "visibility": "care_team"},
    ),
    "reply": Form("patient", Comment, lambda _c: "", _reply),
    "psychotherapy note": Form(
        "clinician",
        PsychotherapyNote,
        lambda c: f"/courses/{c.course.id}/notes",
        lambda c: {"session_id": str(c.past.id), "body": "A fictional note."},
    ),
    "session record": Form("clinician", SessionRecord, record_url, lambda c: dict(record_form(c))),
}


@pytest.mark.parametrize("form", FORMS.values(), ids=FORMS.keys())
def test_the_same_post_twice_makes_one_and_leads_to_it(clinic: Clinic, form: Form) -> None:
    app = clinic.world.app
    b = clinic.world.browser(getattr(clinic, form.who))
    data = form.data(clinic)
    url = str(data.pop("_url", "")) or form.url(clinic)
    before = count_rows(app, form.model)
    sent = {**data, "form_token": form_tokens.new_token()}

    first = b.post(url, sent)
    assert first.status_code == 302, first.get_data(as_text=True)[:500]
    again = b.post(url, sent)
    assert again.status_code == 302
    assert again.location == first.location
    assert count_rows(app, form.model) == before + 1
    assert ALREADY_SAVED in b.text(again.location.split("#")[0])


def test_the_forms_that_create_carry_a_token(clinic: Clinic) -> None:
    entry = an_entry(clinic)
    clinician = clinic.world.browser(clinic.clinician)
    assert (
        clinician.post(
            f"/entries/{entry}/comments", {"body": "A comment.", "visibility": "care_team"}
        ).status_code
        == 302
    )
    patient = clinic.world.browser(clinic.patient)
    pages = {
        patient: [new_entry(clinic), f"/entries/{entry}"],  # the entry page: the reply box
        clinician: [
            new_entry(clinic),
            f"/entries/{entry}",
            f"/courses/{clinic.course.id}/notes",
            record_url(clinic),
        ],
    }
    for b, urls in pages.items():
        for url in urls:
            tokens = TOKEN_RE.findall(b.text(url))
            assert tokens and all(form_tokens.is_token(t) for t in tokens), url
    # A new one each time a form is shown, and one per form of a page.
    assert TOKEN_RE.findall(patient.text(new_entry(clinic))) != TOKEN_RE.findall(
        patient.text(new_entry(clinic))
    )
    tokens = TOKEN_RE.findall(clinician.text(f"/entries/{entry}"))  # a comment and a reply
    assert len(tokens) == 2 and len(set(tokens)) == 2


def test_a_token_from_the_page_is_the_one_that_counts(clinic: Clinic) -> None:
    b = clinic.world.browser(clinic.patient)
    (token,) = TOKEN_RE.findall(b.text(new_entry(clinic)))
    sent = {**entry_form(clinic.past), "form_token": token}
    first = b.post(new_entry(clinic), sent)
    assert b.post(new_entry(clinic), sent).location == first.location
    assert count_rows(clinic.world.app, Entry) == 1
    (row,) = token_rows(clinic.world.app)
    assert row.user_id == clinic.patient.id and row.token_hash != token  # kept hashed
    assert row.url == first.location


def test_another_person_cannot_use_a_token(clinic: Clinic) -> None:
    """The clinician sending the patient's token makes their own entry and is not told
    where the patient's went."""
    token = form_tokens.new_token()
    patient = clinic.world.browser(clinic.patient)
    mine = patient.post(new_entry(clinic), {**entry_form(clinic.past), "form_token": token})
    theirs = clinic.world.browser(clinic.clinician).post(
        new_entry(clinic),
        {**entry_form(clinic.past, visibility="clinician_only"), "form_token": token},
    )
    assert theirs.status_code == 302 and theirs.location != mine.location
    assert count_rows(clinic.world.app, Entry) == 2


def test_a_refused_post_records_nothing_and_the_corrected_one_counts(clinic: Clinic) -> None:
    app = clinic.world.app
    b = clinic.world.browser(clinic.patient)
    token = form_tokens.new_token()
    refused = b.post(new_entry(clinic), {**entry_form(clinic.past, mood="0"), "form_token": token})
    assert refused.status_code == 200
    assert TOKEN_RE.findall(refused.get_data(as_text=True)) != [token]  # a fresh one
    assert token_rows(app) == []
    sent = {**entry_form(clinic.past), "form_token": token}
    first = b.post(new_entry(clinic), sent)
    assert first.status_code == 302
    assert b.post(new_entry(clinic), sent).location == first.location
    assert count_rows(app, Entry) == 1


def test_an_expired_token_is_forgotten_and_cleaned_in_the_next_write(clinic: Clinic) -> None:
    """After a day a token is no longer known (the same POST then makes a new entry), and
    every expired row goes when the next token is recorded."""
    app = clinic.world.app
    b = clinic.world.browser(clinic.patient)
    old, other = form_tokens.new_token(), form_tokens.new_token()
    first = b.post(new_entry(clinic), {**entry_form(clinic.past), "form_token": old})
    b.post(new_entry(clinic), {**entry_form(clinic.past), "form_token": other})
    long_ago = utcnow() - form_tokens.KEPT_FOR - timedelta(minutes=1)
    with runtime(app).database.session(write=True) as s:
        s.execute(update(FormToken).values(created_at=long_ago))
        s.commit()

    again = b.post(new_entry(clinic), {**entry_form(clinic.past), "form_token": old})
    assert again.status_code == 302 and again.location != first.location
    assert count_rows(app, Entry) == 3
    (row,) = token_rows(app)  # the expired `other` is gone, `old` recorded afresh
    assert row.url == again.location and row.created_at > long_ago


def test_a_post_without_a_token_still_works(clinic: Clinic) -> None:
    """Older pages and scripts send no token: their POST is served as before."""
    b: Browser = clinic.world.browser(clinic.patient)
    r = b.post(new_entry(clinic), entry_form(clinic.past))
    assert r.status_code == 302
    assert token_rows(clinic.world.app) == []
