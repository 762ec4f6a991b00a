"""The screening a clinic can extend (issue 20): the shipped items the brief asks for, items
a clinic adds in a file of its own (checked at start-up: a broken file stops it, naming the
file and the line), and the re-check before each session ("no change since last time", or
the answers as they are now), each kept sealed with who and when, shown on the screening
page and in the clinician's export. Display only: nothing decides eligibility."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from journal import create_app
from journal.clinical.checklist import load_checklist, load_item_file
from journal.config import ConfigError, Settings
from journal.core.definitions import DefinitionError
from journal.models import AuditEvent, ScreeningRecheck
from tests.conftest import Clinic, register_keys, runtime
from tests.export_helpers import export, validate
from tests.scene import count_rows, marker
from tests.test_review_at_rest import database_hits

NEW_ITEMS = (
    "Bipolar disorder or a history of mania",
    "Aneurysm, arteriovenous malformation or intracerebral bleeding",
    "Raised intracranial or intraocular pressure",
    "Breastfeeding",
    "Current suicidal thoughts with a plan",
    "Bladder or urinary symptoms",
    "Liver disease",
)
CLINIC_FILE = """\
# Our clinic's own items (fictional)
version = "3"

[[items]]
id = "clinic_seizures"
text = "History of seizures (clinic item)"
"""


def write(tmp_path: Path, text: str, name: str = "screening-extra.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# -- the checklist and the clinic's file ------------------------------------------------


BROKEN = [
    # (file text, the line the message names, words of the message)
    ('version = "1"\n\n[[items]]\nid = "a"\ntext = \n', 5, "not valid TOML"),
    ('[[items]]\nid = "a"\ntext = "A"\n\n[[items]]\nid = "b"\nwords = "B"\n', 5, "words"),
    ('[[items]]\nid = "a"\ntext = "A"\n\n[[items]]\nid = "a"\ntext = "Again"\n', 5, "'a'"),
    ('[[items]]\nid = "psychosis"\ntext = "Shipped already"\n', 1, "'psychosis'"),
    ('version = "1"\n[[items]]\nid = "b"\n', 2, "'items[1].text' is missing"),
    ('colour = "blue"\n[[items]]\nid = "b"\ntext = "B"\n', 1, "unknown key 'colour'"),
]


@pytest.mark.parametrize(("content", "line", "words"), BROKEN)
def test_a_broken_clinic_file_is_refused_naming_the_file_and_the_line(
    tmp_path: Path, content: str, line: int, words: str
) -> None:
    path = write(tmp_path, content)
    with pytest.raises(DefinitionError) as caught:
        load_checklist(extra=path)
    message = str(caught.value)
    assert str(path) in message and f"line {line}" in message and words in message, message


def test_the_shipped_items_and_a_clinic_item_in_order(tmp_path: Path) -> None:
    shipped = load_checklist()
    texts = [i.text for i in shipped.items]
    assert set(NEW_ITEMS) <= set(texts) and "Pregnancy" in texts
    assert len({i.id for i in shipped.items}) == len(texts) == 14
    extended = load_checklist(extra=write(tmp_path, CLINIC_FILE))
    assert extended.items[:14] == shipped.items
    assert extended.items[-1].text == "History of seizures (clinic item)"
    assert extended.version == f"{shipped.version}+clinic-3"
    with pytest.raises(DefinitionError, match="is missing"):
        load_item_file(tmp_path / "nowhere.toml")


@pytest.mark.parametrize("setting", ["screening_extra_file", "consent_items_file"])
def test_the_app_does_not_start_with_a_broken_file(settings: Settings, setting: str) -> None:
    register_keys(settings)
    write(settings.instance_path, '[[items]]\nid = "x"\ntext = "X"\nid = "y"\n', "ours.toml")
    with pytest.raises(ConfigError) as caught:
        app = create_app(settings.with_changes(**{setting: "ours.toml"}))
        runtime(app).database.dispose()  # only reached if it wrongly started
    message = str(caught.value)
    assert str(settings.instance_path / "ours.toml") in message and "line 4" in message, message


# -- a clinic item through the pages and the export; the re-checks ------------------------


def form(checklist_ids: list[str], **answers: str) -> dict[str, str]:
    data = {f"answer_{i}": "no" for i in checklist_ids}
    data.update({f"answer_{k}": v for k, v in answers.items()})
    return data


def test_a_clinic_item_is_answered_rechecked_and_exported(
    clinic: Clinic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt = runtime(clinic.world.app)
    checklist = load_checklist(extra=write(tmp_path, CLINIC_FILE))
    monkeypatch.setattr(rt, "clinical", replace(rt.clinical, screening=checklist))
    ids = [i.id for i in checklist.items]
    course = clinic.course.id
    page_url, recheck_url = f"/courses/{course}/screening", f"/courses/{course}/screening/recheck"
    b = clinic.world.browser(clinic.clinician)

    page = b.text(page_url)
    assert "History of seizures (clinic item)" in page and "answer_clinic_seizures" in page
    seizure_note = marker("seizures")
    r = b.post(
        page_url,
        {
            **form(ids, clinic_seizures="yes"),
            "note_clinic_seizures": f"One in 2019 {seizure_note}",
            "reviewed_on": "2026-11-20",
        },
    )
    assert r.status_code == 302, r.get_data(as_text=True)
    page = b.text(page_url)
    assert "Needs clinician review" in page and "History of seizures (clinic item): yes" in page
    assert "Not re-checked yet." in page and recheck_url in page

    # Before the next session: no change, in one click, with a note.
    same_note, changed_note = marker("same"), marker("changed")
    r = b.post(
        recheck_url,
        {"no_change": "1", "session_id": str(clinic.upcoming.id), "note": f"Calm {same_note}"},
    )
    assert r.status_code == 302 and r.location.endswith(page_url)
    # Then something changed: the seizures answer, and a new "yes".
    r = b.get(recheck_url)
    assert r.status_code == 200
    assert re.search(r'name="answer_clinic_seizures" value="yes" checked', r.get_data(as_text=True))
    r = b.post(
        recheck_url,
        {
            **form(ids, clinic_seizures="no", breastfeeding="yes"),
            "session_id": str(clinic.upcoming.id),
            "note": f"Now {changed_note}",
        },
    )
    assert r.status_code == 302, r.get_data(as_text=True)
    # The same answers again count as no change.
    r = b.post(recheck_url, form(ids, clinic_seizures="no", breastfeeding="yes"))
    assert r.status_code == 302

    page = b.text(page_url)
    head = page.split('id="recheck-title"', 1)[0]
    assert "Breastfeeding: yes" in head and "History of seizures" not in head
    assert "History of seizures (clinic item): yes → no" in page
    assert "Breastfeeding: no → yes" in page
    assert page.count("No change since last time</strong>") == 2
    assert f"Calm {same_note}" in page and f"Now {changed_note}" in page
    assert f"before session {clinic.upcoming.number}" in page
    assert page.count(f"By {clinic.clinician.name}") == 3
    for word in ("eligible", "ineligible", "approved", "cleared"):
        assert word not in page.lower()
    assert "needs clinician review" in b.text(f"/courses/{course}")

    # Kept, audited, sealed at rest.
    app = clinic.world.app
    assert count_rows(app, ScreeningRecheck) == 3
    with rt.database.session() as s:
        actions = list(s.scalars(select(AuditEvent.action)))
    assert actions.count("screening.recheck") == 3
    found, tables = database_hits(app, {"same": same_note, "changed": changed_note})
    assert "screening_rechecks" in tables and found == {}

    # In the clinician's export, each format; never in the patient's.
    texts = {fmt: export(b, course, fmt).get_data(as_text=True) for fmt in ("json", "md", "html")}
    data = json.loads(texts["json"])
    validate(data)
    screening = data["screening"]
    assert screening["checklist_version"].endswith("+clinic-3")
    assert {"text": "History of seizures (clinic item)", "answer": "yes"}.items() <= next(
        i for i in screening["items"] if i["text"].startswith("History of seizures")
    ).items()
    assert [r["no_change"] for r in screening["rechecks"]] == [True, False, True]
    changed = screening["rechecks"][1]
    assert changed["checked_by"] == clinic.clinician.name
    assert changed["session_number"] == clinic.upcoming.number
    assert {(c["text"], c["before"], c["after"]) for c in changed["changes"]} == {
        ("History of seizures (clinic item)", "yes", "no"),
        ("Breastfeeding", "no", "yes"),
    }
    for fmt, text in texts.items():
        assert seizure_note in text and same_note in text and changed_note in text, fmt
        assert "Breastfeeding" in text, fmt
    mine = clinic.world.browser(clinic.patient)
    theirs = export(mine, course, "json").get_data(as_text=True)
    assert changed_note not in theirs and "rechecks" not in theirs


def test_only_the_care_team_rechecks(clinic: Clinic) -> None:
    course = clinic.course.id
    url = f"/courses/{course}/screening/recheck"
    b = clinic.world.browser(clinic.clinician)
    # Nothing to re-check before a screening is recorded.
    assert b.get(url).status_code == 404
    assert b.post(url, {"no_change": "1"}).status_code == 404
    ids = [i.id for i in load_checklist().items]
    b.post(f"/courses/{course}/screening", {**form(ids), "reviewed_on": "2026-11-20"})
    # A session of another course, and a note over its limit, are refused.
    other_session = clinic.world.session(clinic.other_course, clinic.other_clinician, 5)
    r = b.post(url, {"no_change": "1", "session_id": str(other_session.id)})
    assert r.status_code == 400 and "session of this course" in r.get_data(as_text=True)
    r = b.post(url, {"no_change": "1", "note": "x" * 1001})
    assert r.status_code == 400
    r = b.post(url, {**form(ids, psychosis=""), "note": ""})
    assert r.status_code == 400 and 'id="answer_psychosis-error"' in r.get_data(as_text=True)
    assert count_rows(clinic.world.app, ScreeningRecheck) == 0
    for who in (clinic.patient, clinic.other_clinician, clinic.other_patient, clinic.admin):
        other = clinic.world.browser(who)
        assert other.get(url).status_code in (403, 404), who.role
        assert other.post(url, {"no_change": "1"}).status_code in (403, 404), who.role
    assert count_rows(clinic.world.app, ScreeningRecheck) == 0
    assert b.post(url, {"no_change": "1"}).status_code == 302
    assert count_rows(clinic.world.app, ScreeningRecheck) == 1
