"""Text over a limit is refused whole, never cut: nothing is saved, the text stays in
the form, and the message gives the text's length and the limit. Text at the limit is
saved whole. The limit is said on the page before it is reached, and no field carries
a `maxlength`, at which a browser would cut a paste without a word."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from journal.clinical.prompt_library import MAX_PROMPT_CHARS, THEMES
from journal.clinical.session_records import LONG_TEXT_MAX, SHORT_TEXT_MAX
from journal.journaling import drafts
from journal.journaling.entries import BODY_MAX, INTENTION_MAX, TITLE_MAX
from journal.journaling.intentions import REFLECTION_MAX
from journal.journaling.quick_capture import IMAGE_MAX, PHRASE_MAX
from journal.journaling.themes import NAME_MAX
from journal.models import Phase
from journal.review.comments import COMMENT_MAX, QUOTE_MAX
from journal.review.notes import NOTE_MAX
from tests.conftest import Clinic, entry_form, new_entry_id
from tests.helpers import Browser
from tests.security_helpers import snapshot
from tests.test_session_record import record_form, record_url

WORD = "x"  # no spaces: no service may tidy the text, so a cut would show


def message(length: int, limit: int) -> str:
    return f"is {length:,} characters; the limit is {limit:,}. Nothing was saved yet."


def kept(page: str, text: str) -> bool:
    """The text is in a field of the page, whole: not a character more or less."""
    return re.search(rf'(>|\n|value="){re.escape(text)}(<|")', page) is not None


def write(clinic: Clinic, b: Browser, **form: str) -> uuid.UUID:
    r = b.post(f"/courses/{clinic.course.id}/entries/new", entry_form(clinic.past, **form))
    assert r.status_code == 302, r.get_data(as_text=True)
    return new_entry_id(r.location)


@dataclass(frozen=True)
class Case:
    """A form with a limited field: who posts, where, what else the form needs, and the
    page where the saved text shows."""

    who: str
    limit: int
    field: str
    url: Callable[[Clinic, Browser], str]
    form: Callable[[Clinic, Browser], dict[str, object]]
    shown_at: Callable[[Clinic, str], str]


def _entry_url(c: Clinic, _b: Browser) -> str:
    return f"/courses/{c.course.id}/entries/new"


def _entry_form(**extra: str) -> Callable[[Clinic, Browser], dict[str, object]]:
    return lambda c, _b: dict(entry_form(c.past, **extra))


def _patients_entry(c: Clinic, _b: Browser) -> str:
    return f"/entries/{write(c, c.world.browser(c.patient), body='A passage to quote.')}"


def _comment_url(c: Clinic, b: Browser) -> str:
    return _patients_entry(c, b) + "/comments"


def _quote_url(c: Clinic, _b: Browser) -> str:
    """An entry holding the passage quoted: a quote must be words of the entry."""
    body = WORD * (QUOTE_MAX + 1)
    return f"/entries/{write(c, c.world.browser(c.patient), body=body)}/comments"


def _reply_form(c: Clinic, b: Browser) -> dict[str, object]:
    """A reply by the patient to the clinician's comment on their entry."""
    entry = write(c, b, body="Something to reply about.")
    r = c.world.browser(c.clinician).post(
        f"/entries/{entry}/comments", {"body": "A comment.", "visibility": "care_team"}
    )
    assert r.status_code == 302
    return {"parent_id": r.location.rsplit("#c-", 1)[-1], "_url": f"/entries/{entry}/comments"}


def _reflection_form(c: Clinic, b: Browser) -> dict[str, object]:
    write(c, b, phase="preparation", title="Before", intentions="Breathe slowly")
    page = b.text(f"/courses/{c.course.id}/entries/new?phase=integration")
    (intention,) = set(re.findall(r'name="reflection-([0-9a-f-]{36})"', page))
    return {
        **entry_form(c.past, title="After"),
        f"outcome-{intention}": "partly",
        "_field": f"reflection-{intention}",
    }


def _prompt_form(_c: Clinic, _b: Browser) -> dict[str, object]:
    return {"phase": "preparation", "theme": next(iter(THEMES[Phase.PREPARATION])), "due": ""}


def _record_form(c: Clinic, _b: Browser) -> dict[str, object]:
    return dict(record_form(c))


def _entry_page(_c: Clinic, location: str) -> str:
    return location.split("#")[0]


CASES = {
    "entry title": Case("patient", TITLE_MAX, "title", _entry_url, _entry_form(), _entry_page),
    "entry body": Case("patient", BODY_MAX, "body", _entry_url, _entry_form(), _entry_page),
    "intention": Case(
        "patient",
        INTENTION_MAX,
        "intentions",
        _entry_url,
        _entry_form(phase="preparation"),
        lambda c, _loc: f"/courses/{c.course.id}/intentions",
    ),
    "reflection on an intention": Case(
        "patient", REFLECTION_MAX, "reflection", _entry_url, _reflection_form, _entry_page
    ),
    "comment": Case(
        "clinician",
        COMMENT_MAX,
        "body",
        _comment_url,
        lambda _c, _b: {"visibility": "care_team"},
        _entry_page,
    ),
    "quoted passage": Case(
        "clinician",
        QUOTE_MAX,
        "quote",
        _quote_url,
        lambda _c, _b: {"visibility": "care_team", "body": "On this passage."},
        _entry_page,
    ),
    "reply": Case("patient", COMMENT_MAX, "body", _entry_url, _reply_form, _entry_page),
    "psychotherapy note": Case(
        "clinician",
        NOTE_MAX,
        "body",
        lambda c, _b: f"/courses/{c.course.id}/notes",
        lambda c, _b: {"session_id": str(c.past.id)},
        _entry_page,
    ),
    "theme": Case(
        "patient",
        NAME_MAX,
        "name",
        lambda c, b: _patients_entry(c, b) + "/themes",
        lambda _c, _b: {"kind": "images"},
        _entry_page,
    ),
    "quick capture phrase": Case(
        "patient",
        PHRASE_MAX,
        "phrase",
        lambda c, _b: f"/courses/{c.course.id}/quick",
        lambda _c, _b: {"visibility": "care_team"},
        _entry_page,
    ),
    "quick capture image": Case(
        "patient",
        IMAGE_MAX,
        "image",
        lambda c, _b: f"/courses/{c.course.id}/quick",
        lambda _c, _b: {"visibility": "care_team"},
        _entry_page,
    ),
    "prompt": Case(
        "clinician",
        MAX_PROMPT_CHARS,
        "text",
        lambda _c, _b: "/prompts",
        _prompt_form,
        lambda _c, _loc: "/prompts",
    ),
    **{
        f"session record {name}": Case(
            "clinician",
            limit,
            name,
            lambda c, _b: record_url(c),
            _record_form,
            _entry_page,
        )
        for name, limit in (
            ("adjuncts", SHORT_TEXT_MAX),
            ("side_effects_other", SHORT_TEXT_MAX),
            ("setting", LONG_TEXT_MAX),
            ("discharge_notes", LONG_TEXT_MAX),
        )
    },
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_over_the_limit_nothing_is_saved_and_the_text_is_kept(clinic: Clinic, case: Case) -> None:
    app = clinic.world.app
    b = clinic.world.browser(getattr(clinic, case.who))
    url = case.url(clinic, b)
    form = case.form(clinic, b)
    url = str(form.pop("_url", url))
    name = str(form.pop("_field", case.field))
    before = snapshot(app)

    over = WORD * (case.limit + 1)
    r = b.post(url, {**form, name: over})
    page = html.unescape(r.get_data(as_text=True))
    assert r.status_code in {200, 400, 422}, page[:300]
    assert message(case.limit + 1, case.limit) in page
    assert kept(page, over)
    assert snapshot(app) == before

    whole = WORD * case.limit
    r = b.post(url, {**form, name: whole})
    assert r.status_code == 302, html.unescape(r.get_data(as_text=True))[:2000]
    shown = b.text(case.shown_at(clinic, r.location))
    # Shown whole: a run of exactly `limit` characters (the quote's entry holds more).
    assert re.search(rf"(?<!{WORD}){whole}(?!{WORD})", shown)


def test_line_breaks_count_once_as_the_page_counts_them(clinic: Clinic) -> None:
    """A browser sends each line break as CR LF: a text the page counted at the limit
    is not refused for the extra characters."""
    b = clinic.world.browser(clinic.patient)
    lines = "\r\n".join(["x" * 99] * 3)  # 297 + 2 breaks = 299 as counted on the page
    r = b.post(
        f"/courses/{clinic.course.id}/quick", {"visibility": "care_team", "image": lines + "x"}
    )
    assert r.status_code == 302


def test_an_edit_over_the_limit_keeps_the_saved_version(clinic: Clinic) -> None:
    b = clinic.world.browser(clinic.patient)
    entry = write(clinic, b, body="The first version.")
    over = WORD * (BODY_MAX + 5)
    r = b.post(f"/entries/{entry}/edit", entry_form(clinic.past, body=over, version="1"))
    page = html.unescape(r.get_data(as_text=True))
    assert r.status_code == 200
    assert message(BODY_MAX + 5, BODY_MAX) in page and kept(page, over)
    assert "The first version." in b.text(f"/entries/{entry}")


def test_forms_say_the_limit_and_set_no_maxlength(clinic: Clinic) -> None:
    patient = clinic.world.browser(clinic.patient)
    clinician = clinic.world.browser(clinic.clinician)
    entry = write(clinic, patient, body="Words.")
    commented = clinician.post(
        f"/entries/{entry}/comments", {"body": "A comment.", "visibility": "care_team"}
    )
    assert commented.status_code == 302
    pages = {
        patient: [
            f"/courses/{clinic.course.id}/entries/new?phase=preparation",
            f"/entries/{entry}/edit",
            f"/entries/{entry}",  # the reply box and the theme form
            f"/courses/{clinic.course.id}/quick",
        ],
        clinician: [
            f"/entries/{entry}",
            f"/courses/{clinic.course.id}/notes",
            record_url(clinic),
            "/prompts",
        ],
    }
    for b, urls in pages.items():
        for url in urls:
            page = b.text(url)
            assert "maxlength" not in page, url
            assert re.search(r"Up to [\d,]+ characters\.", page), url
            assert "js/limits.js" in page, url
    entry_page = patient.text(f"/courses/{clinic.course.id}/entries/new")
    assert 'data-limit="50000"' in entry_page and "Up to 50,000 characters." in entry_page


# -- the autosaved draft keeps what the form refuses ---------------------------------------


def test_the_draft_keeps_text_over_the_entry_limit(clinic: Clinic) -> None:
    b = clinic.world.browser(clinic.patient)
    over = WORD * (BODY_MAX * 4)  # some 200 KB pasted
    r = b.post(f"/courses/{clinic.course.id}/draft", {"title": "Long", "body": over})
    assert r.status_code == 200 and r.get_json()["saved"] is True
    page = html.unescape(b.text(f"/courses/{clinic.course.id}/entries/new"))
    assert kept(page, over)


def test_a_draft_past_what_a_draft_keeps_is_refused_with_both_numbers(clinic: Clinic) -> None:
    b = clinic.world.browser(clinic.patient)
    too_much = WORD * (drafts.DRAFT_TEXT_MAX + 1)
    r = b.post(f"/courses/{clinic.course.id}/draft", {"title": "Long", "body": too_much})
    assert r.status_code == 400
    error = r.get_json()["error"]
    assert f"{drafts.DRAFT_TEXT_MAX + 1:,} characters" in error
    assert f"at most {drafts.DRAFT_TEXT_MAX:,}" in error
