"""Get help now (issue 16, item 5) and the clinician's note (item 8).

/help answers everyone, signed in or not, with the emergency number first and the
crisis lines as tel: links; every page a patient opens, and the sign-in page, links
to it; the crisis message after a PHQ-9 item 9 answer links to it and prints no
band; the app warns while the shipped crisis help is in place. A clinician's note
written with the form's defaults is for clinicians only.
"""

from __future__ import annotations

import logging
import re
import uuid
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask import Flask

from journal import create_app, crisis
from journal.config import ConfigError, Settings, load_settings
from journal.crisis import DEFAULT_CRISIS_RESOURCES, CrisisLine
from tests.conftest import Clinic, entry_form, new_entry_id, point_at, register_keys, runtime
from tests.helpers import Browser
from tests.security_helpers import rules, url_for_rule

HELP_LINK = 'href="/help"'
ASSIGNMENT_LINK = re.compile(r'href="/questionnaires/([0-9a-f-]{36})/answer"')
TEL_LINK = re.compile(r'href="(tel:[^"]*)"')

# A clinic that has set all of its own crisis help.
OWN_LINE = CrisisLine("Our on-call clinician", "+1 514 555 0100", "Weekdays, 9 to 5.", "qc")
OWN_TEXT = "Call our on-call clinician, or 911 if you are in danger."


def configured(settings: Settings) -> Settings:
    return settings.with_changes(
        crisis_locale="qc", crisis_lines=(OWN_LINE,), crisis_resources=OWN_TEXT
    )


# -- the page ------------------------------------------------------------------


def test_help_answers_signed_out_with_the_emergency_number_first(app: Flask) -> None:
    r = Browser(app).get("/help")
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    # Unconfigured: the shipped United States numbers, each a tel: link.
    assert TEL_LINK.findall(page) == ["tel:911", "tel:988"]  # emergency first
    assert "988 Suicide &amp; Crisis Lifeline" in page
    assert "not watched around the clock" in page
    assert 'href="/login"' in page  # back to sign in, nothing of anyone's journal


@pytest.mark.parametrize(
    ("locale", "tels", "words"),
    [
        ("us", ["tel:911", "tel:988"], ["988 Suicide"]),
        ("fr", ["tel:112", "tel:3114"], ["numéro national de prévention du suicide"]),
        ("qc", ["tel:911", "tel:18662773553"], ["1-866-APPELLE", "1-866-277-3553"]),
    ],
)
def test_each_shipped_locale_has_its_numbers(
    app: Flask, settings: Settings, locale: str, tels: list[str], words: list[str]
) -> None:
    point_at(app, settings.with_changes(crisis_locale=locale))
    page = Browser(app).get("/help").get_data(as_text=True)
    assert TEL_LINK.findall(page) == tels
    for w in words:
        assert w in page


def test_a_clinics_own_lines_and_emergency_number_replace_the_shipped_ones(
    app: Flask, settings: Settings
) -> None:
    point_at(app, configured(settings).with_changes(emergency_number="112"))
    page = Browser(app).get("/help").get_data(as_text=True)
    assert TEL_LINK.findall(page) == ["tel:112", "tel:+15145550100"]
    assert "Our on-call clinician" in page and "Weekdays, 9 to 5." in page
    assert "APPELLE" not in page  # the clinic's list replaces the shipped one


def test_a_signed_in_patient_opens_help_too(clinic: Clinic) -> None:
    page = clinic.world.browser(clinic.patient).text("/help")
    assert "tel:988" in page and "My journal" in page  # their navigation, as on every page


# -- one step from every page -----------------------------------------------------


def test_the_sign_in_page_links_to_help(app: Flask) -> None:
    page = Browser(app).text("/login")
    assert HELP_LINK in page
    assert "Get help now" in page


def _assignment(clinic: Clinic, patient: Browser) -> str:
    clinician = clinic.world.browser(clinic.clinician)
    r = clinician.post(
        f"/courses/{clinic.course.id}/questionnaires", {"instrument_id": "phq9", "cadence": "once"}
    )
    assert r.status_code == 302
    (assignment,) = ASSIGNMENT_LINK.findall(patient.text(f"/courses/{clinic.course.id}"))
    return assignment


def test_every_page_a_patient_opens_links_to_help(clinic: Clinic) -> None:
    app = clinic.world.app
    patient = clinic.world.browser(clinic.patient)
    made = patient.post(f"/courses/{clinic.course.id}/entries/new", entry_form(clinic.past))
    ids = {
        "course_id": clinic.course.id,
        "session_id": clinic.past.id,
        "entry_id": new_entry_id(made.location),
        "user_id": clinic.patient.id,
        "assignment_id": uuid.UUID(_assignment(clinic, patient)),
    }
    opened: set[str] = set()
    for rule, method in rules(app):
        if method != "GET" or rule.endpoint == "static":
            continue
        url = url_for_rule(app, rule, ids)
        r = patient.get(url)
        if r.status_code in {301, 302, 303} or r.mimetype != "text/html":
            continue  # a redirect shows no page; a download is a file, not a page
        assert "attachment" not in r.headers.get("Content-Disposition", ""), url
        assert HELP_LINK in r.get_data(as_text=True), (url, r.status_code)
        if r.status_code == 200:
            opened.add(str(rule.endpoint))
    # The walk really went through the patient's pages (and 403/404 pages were checked too).
    assert {
        "courses.timeline",
        "entries.view",
        "entries.new_entry",
        "questionnaires.answer",
        "questionnaires.course",
        "access_log.page",
        "export.my_data",
        "help.page",
    } <= opened, opened
    assert len(opened) >= 15, opened


# -- the crisis message after a PHQ-9 item 9 answer ----------------------------------


VOID = frozenset({"area", "br", "col", "embed", "hr", "img", "input", "link", "meta", "wbr"})


class _Element(HTMLParser):
    """The inner HTML of the first element whose class list holds `wanted`."""

    def __init__(self, wanted: str) -> None:
        super().__init__(convert_charrefs=False)
        self.wanted = wanted
        self.depth = 0
        self.found: list[str] = []
        self.done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = " ".join(v or "" for k, v in attrs if k == "class").split()
        if self.depth:
            self.depth += tag not in VOID
            self.found.append(self.get_starttag_text() or "")
        elif not self.done and self.wanted in classes:
            self.depth = 1

    def handle_endtag(self, tag: str) -> None:
        if self.depth:
            self.depth -= 1
            if self.depth == 0:
                self.done = True
            else:
                self.found.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.found.append(data)


def inner(page: str, css_class: str) -> str:
    parser = _Element(css_class)
    parser.feed(page)
    assert parser.done, f"no complete element of class {css_class}"
    return "".join(parser.found)


def test_the_crisis_message_links_to_help_and_prints_no_band(clinic: Clinic) -> None:
    patient = clinic.world.browser(clinic.patient)
    link = f"/questionnaires/{_assignment(clinic, patient)}/answer"
    answers = {f"q{n}": "0" for n in range(1, 9)} | {"q9": "1", "difficulty": ""}
    r = patient.post(link, answers, follow_redirects=True)
    assert r.status_code == 200
    done = r.get_data(as_text=True)
    message = inner(done, "crisis")
    assert HELP_LINK in message
    assert runtime(clinic.world.app).settings.crisis_resources in message  # still shown
    assert TEL_LINK.findall(message) == ["tel:911", "tel:988"]
    # The score is kept for the scores page, never printed beside the crisis message:
    # 1 of 27 is "Minimal" (0-4).
    for band_text in ("PHQ-9: 1", "of 27", "Minimal"):
        assert band_text not in done
    assert "not watched around the clock" in message


def test_an_answer_without_a_flag_still_shows_its_score(clinic: Clinic) -> None:
    patient = clinic.world.browser(clinic.patient)
    link = f"/questionnaires/{_assignment(clinic, patient)}/answer"
    r = patient.post(
        link, {f"q{n}": "0" for n in range(1, 10)} | {"difficulty": ""}, follow_redirects=True
    )
    done = r.get_data(as_text=True)
    assert "0 of 27 (Minimal)" in done
    assert 'class="crisis"' not in done


# -- the warning while the shipped crisis help is in place ------------------------------


def _start(settings: Settings) -> None:
    app = create_app(settings)
    runtime(app).database.dispose()


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "journal.help" and r.levelno == logging.WARNING
    ]


def test_start_up_warns_while_the_shipped_crisis_help_is_in_place(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    register_keys(settings)
    caplog.set_level(logging.WARNING, logger="journal.help")

    _start(settings)
    (warning,) = _warnings(caplog)
    for name in ("crisis_locale", "crisis_lines", "crisis_resources"):
        assert name in warning

    caplog.clear()
    _start(settings.with_changes(crisis_resources=OWN_TEXT))  # part of it set
    (warning,) = _warnings(caplog)
    assert "crisis_resources" not in warning and "crisis_lines" in warning

    caplog.clear()
    _start(configured(settings))
    assert _warnings(caplog) == []


def test_the_admin_sees_a_notice_until_the_clinic_sets_its_own(
    clinic: Clinic, settings: Settings
) -> None:
    notice = "The crisis help is still the shipped default"
    admin = clinic.world.browser(clinic.admin)
    for url in ("/admin/users", "/admin/courses", "/admin/audit"):
        page = admin.text(url)
        assert notice in page, url
        assert "crisis_lines is not set" in page
    for person in (clinic.patient, clinic.clinician):  # an admin's notice, nobody else's
        assert notice not in clinic.world.browser(person).text("/help")

    point_at(clinic.world.app, configured(settings))
    assert notice not in clinic.world.browser(clinic.admin).text("/admin/users")


# -- settings ------------------------------------------------------------------------


def _load(tmp_path: Path, toml: str, **env: str) -> Settings:
    instance = tmp_path / "inst"
    instance.mkdir(exist_ok=True)
    (instance / "config.toml").write_text(toml)
    return load_settings(instance, environ={f"JOURNAL_{k.upper()}": v for k, v in env.items()})


def test_crisis_settings_are_read_from_config_toml(tmp_path: Path) -> None:
    s = _load(
        tmp_path,
        'crisis_locale = "fr"\n'
        'crisis_resources = "Appelez le 3114."\n'
        "[[crisis_lines.fr]]\n"
        'label = "Notre permanence"\nnumber = "01 23 45 67 89"\nnote = "En semaine."\n'
        "[[crisis_lines.us]]\n"
        'label = "Elsewhere"\nnumber = "988"\n',
    )
    shown = crisis.help_for(s)
    assert shown.emergency_number == "112"
    assert [(x.label, x.href) for x in shown.lines] == [("Notre permanence", "tel:0123456789")]
    assert crisis.defaults_in_place(s) == []

    # A plain list is for the clinic's locale; the environment picks the locale.
    s = _load(tmp_path, '[[crisis_lines]]\nlabel = "Line"\nnumber = "3114"\n', crisis_locale="FR")
    assert s.crisis_locale == "fr"
    assert [x.number for x in crisis.help_for(s).lines] == ["3114"]

    # Nothing set: the shipped defaults, and all of them named as defaults.
    s = _load(tmp_path, "")
    assert s.crisis_resources == DEFAULT_CRISIS_RESOURCES
    assert crisis.help_for(s) == crisis.CrisisHelp(
        "us", "the United States", "911", crisis.SHIPPED["us"].lines
    )
    assert len(crisis.defaults_in_place(s)) == 3


@pytest.mark.parametrize(
    ("toml", "why"),
    [
        ('[[crisis_lines]]\nlabel = "A"\nnumbr = "988"\n', "unknown key 'numbr'"),
        ('[[crisis_lines]]\nlabel = "A"\nnumber = "call us"\n', "not a phone number"),
        ('[[crisis_lines]]\nlabel = ""\nnumber = "988"\n', "a label of 1 to"),
        ('[[crisis_lines]]\nlabel = "A"\nnumber = "1234 5678 9012 3456"\n', "2 to 15 digits"),
        ('crisis_lines = "988"\n', "must be a list of lines"),
        ('crisis_locale = "de"\n', "ships no emergency number"),
        (
            'crisis_locale = "de"\nemergency_number = "112"\n',
            "ships no crisis lines: add \\[\\[crisis_lines.de\\]\\]",
        ),
        ('emergency_number = "nine one one!"\n', "emergency_number: .* is not a phone number"),
        ('crisis_locale = "Québec!"\n', "not a locale"),
    ],
)
def test_crisis_settings_that_cannot_be_shown_are_refused(
    tmp_path: Path, toml: str, why: str
) -> None:
    with pytest.raises(ConfigError, match=why):
        _load(tmp_path, toml)


def test_a_locale_of_the_clinics_own(tmp_path: Path) -> None:
    s = _load(
        tmp_path,
        'crisis_locale = "de"\nemergency_number = "112"\n'
        '[[crisis_lines.de]]\nlabel = "Telefonseelsorge"\nnumber = "0800 111 0 111"\n',
    )
    shown = crisis.help_for(s)
    assert (shown.emergency_href, shown.lines[0].href) == ("tel:112", "tel:08001110111")


# -- the clinician's note --------------------------------------------------------------


class _FormDefaults(HTMLParser):
    """What a browser sends for a form left as it opened: hidden fields, checked radios,
    selected (or first) options, textareas' text."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        name = a.get("name", "")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in {"radio", "checkbox"}:
                if "checked" in a:
                    self.values[name] = a.get("value", "on")
            elif kind != "submit":
                self.values[name] = a.get("value", "")
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select:
            if self._select not in self.values or "selected" in a:
                self.values[self._select] = a.get("value", "")
        elif tag == "textarea":
            self._textarea = name
            self.values[name] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.values[self._textarea] += data


def form_defaults(page: str) -> dict[str, str]:
    parser = _FormDefaults()
    parser.feed(page.split('id="entry-form"', 1)[1].split("</form>", 1)[0])
    return parser.values


def test_the_clinician_note_is_for_clinicians_unless_shared(clinic: Clinic) -> None:
    clinician = clinic.world.browser(clinic.clinician)
    timeline = clinician.text(f"/courses/{clinic.course.id}")
    note_link = f"/courses/{clinic.course.id}/entries/new?phase=integration"
    assert f'href="{note_link}">Add a clinician note (clinicians only)</a>' in timeline

    form = clinician.text(note_link)
    assert form_defaults(form)["visibility"] == "clinician_only"
    assert "Clinicians only: the patient cannot read this" in form
    assert "Shared: the patient can read this" in form  # sharing is a choice, said plainly
    assert "Shared with the care team" not in form

    data = form_defaults(form) | {"title": "Note kept among us", "body": "A fictional note."}
    r = clinician.post(note_link, data)
    assert r.status_code == 302, r.get_data(as_text=True)
    note = new_entry_id(r.location)

    patient = clinic.world.browser(clinic.patient)
    assert patient.get(f"/entries/{note}").status_code in {403, 404}
    assert "Note kept among us" not in patient.text(f"/courses/{clinic.course.id}")
    assert "Note kept among us" in clinician.text(f"/entries/{note}")


def test_the_patient_still_shares_with_the_care_team_by_default(clinic: Clinic) -> None:
    form = clinic.world.browser(clinic.patient).text(
        f"/courses/{clinic.course.id}/entries/new?phase=integration"
    )
    assert form_defaults(form)["visibility"] == "care_team"
    assert "Shared with the care team" in form and "Private: only you" in form
    assert "clinician_only" not in form
