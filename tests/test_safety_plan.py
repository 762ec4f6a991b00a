"""The safety plan, from the outside: the patient and the care team's clinicians write
it together through the page; every save keeps the version before it; a stale form is
refused with both texts kept; outsiders, other patients and admins get "not found";
it is sealed at rest, rotated, erased with the patient, linked from Get help now for
its patient only, printable, audited by kind, and its form needs the CSRF token."""

from __future__ import annotations

import html
import re

import pytest
from flask import Flask
from sqlalchemy import select

from journal.clinical.safety_plan import SECTION_KEYS, SECTION_MAX, PlanText
from journal.config import Settings
from journal.core.vault import Vault
from journal.keyrotation import SEALED, rotate_data_keys, verify_all
from journal.models import AuditEvent, Course, SafetyPlan, SafetyPlanVersion
from tests.conftest import PG_URL, Clinic, runtime
from tests.helpers import Browser
from tests.scene import count_rows, marker
from tests.test_review_at_rest import database_hits

VERSION_FIELD = re.compile(r'<input id="version" name="version" type="hidden" value="(\d*)">')


def plan_url(clinic: Clinic, page: str = "") -> str:
    return f"/courses/{clinic.course.id}/safety-plan" + (f"/{page}" if page else "")


def plan_form(version: str = "", **sections: str) -> dict[str, str]:
    data = dict.fromkeys(SECTION_KEYS, "")
    data.update(
        warning_signs="Sleeping badly; pulling away from friends (fictional).",
        reasons="My dog Biscuit, and the garden in spring (fictional).",
    )
    data.update(sections)
    data["version"] = version
    return data


def save(b: Browser, clinic: Clinic, version: str = "", **sections: str) -> None:
    r = b.post(plan_url(clinic, "edit"), plan_form(version, **sections))
    assert r.status_code == 302, r.get_data(as_text=True)
    assert r.location.endswith(plan_url(clinic))


def stored(app: Flask, clinic: Clinic) -> tuple[int, PlanText] | None:
    rt = runtime(app)
    with rt.database.session() as s:
        row = s.scalar(select(SafetyPlan).where(SafetyPlan.course_id == clinic.course.id))
        if row is None:
            return None
        text = Vault(s, rt.ring).open_column(row, "content", clinic.patient.id)
        return row.version, PlanText.from_json(text)


def current(app: Flask, clinic: Clinic) -> tuple[int, PlanText]:
    found = stored(app, clinic)
    assert found is not None, "no plan was saved"
    return found


def shown(page: str) -> str:
    return html.unescape(page)


@pytest.fixture
def patient(clinic: Clinic) -> Browser:
    return clinic.world.browser(clinic.patient)


@pytest.fixture
def clinician(clinic: Clinic) -> Browser:
    return clinic.world.browser(clinic.clinician)


# -- writing together ------------------------------------------------------------------


def test_the_patient_and_a_care_team_clinician_write_and_read_it_together(
    clinic: Clinic, patient: Browser, clinician: Browser
) -> None:
    assert "There is no safety plan yet." in patient.text(plan_url(clinic))
    assert "Write the plan" in patient.text(plan_url(clinic))
    save(patient, clinic, coping="A walk round the block; the breathing app (fictional).")
    page = shown(clinician.text(plan_url(clinic)))
    assert "Sleeping badly; pulling away from friends (fictional)." in page
    assert "A walk round the block; the breathing app (fictional)." in page
    assert f"saved by {clinic.patient.name}" in page
    # The clinic's crisis lines beside step 5, as tel: links (the shipped US default).
    assert 'href="tel:988"' in page and 'href="tel:911"' in page
    save(clinician, clinic, "1", helpers="My sister Ana, 555-0100 (fictional).")
    page = shown(patient.text(plan_url(clinic)))
    assert "My sister Ana, 555-0100 (fictional)." in page
    assert "A walk round the block" not in page  # the clinician's version replaced it
    assert f"Version 2, saved by {clinic.clinician.name}" in page
    version, text = current(clinic.world.app, clinic)
    assert version == 2
    assert text["helpers"] == "My sister Ana, 555-0100 (fictional)."


def test_every_save_keeps_the_version_before_it(
    clinic: Clinic, patient: Browser, clinician: Browser
) -> None:
    save(patient, clinic, environment="First words (fictional).")
    assert "Earlier versions" not in patient.text(plan_url(clinic))
    save(clinician, clinic, "1", environment="Second words (fictional).")
    save(patient, clinic, "2", environment="Third words (fictional).")
    assert count_rows(clinic.world.app, SafetyPlanVersion) == 2
    assert "Earlier versions" in patient.text(plan_url(clinic))
    page = shown(clinician.text(plan_url(clinic, "history")))
    assert "The current version is number 3" in page
    first, second = page.index("Version 2"), page.index("Version 1")
    assert first < second  # newest first
    assert "Second words (fictional)." in page[first:second]
    assert f"Saved by {clinic.clinician.name}" in page[first:second]
    assert "First words (fictional)." in page[second:]
    assert f"Saved by {clinic.patient.name}" in page[second:]


def test_a_stale_form_is_refused_and_both_texts_are_kept(
    clinic: Clinic, patient: Browser, clinician: Browser
) -> None:
    save(patient, clinic, coping="Mine, first (fictional).")
    save(clinician, clinic, "1", coping="The clinician's change (fictional).")
    # The patient's form was opened at version 1.
    r = patient.post(plan_url(clinic, "edit"), plan_form("1", coping="Mine, again (fictional)."))
    assert r.status_code == 409
    page = shown(r.get_data(as_text=True))
    assert f"{clinic.clinician.name} saved the plan while you were writing" in page
    assert "The clinician's change (fictional)." in page  # theirs, shown
    assert "Mine, again (fictional).</textarea>" in page  # mine, kept in the form
    # The form now builds on the version the patient has just been shown.
    assert VERSION_FIELD.findall(page) == ["2"]
    version, text = current(clinic.world.app, clinic)
    assert version == 2
    assert text["coping"] == "The clinician's change (fictional)."
    # Having seen theirs, the patient saves over it on purpose: nothing was lost.
    save(patient, clinic, "2", coping="Both, combined (fictional).")
    assert count_rows(clinic.world.app, SafetyPlanVersion) == 2
    # Two first plans written at once: the second is refused too.
    r = clinician.post(plan_url(clinic, "edit"), plan_form("", coping="A rival first plan."))
    assert r.status_code == 409


def test_text_over_the_limit_is_refused_with_a_clear_message_and_kept(
    clinic: Clinic, patient: Browser
) -> None:
    long = "Fictional words. " * (SECTION_MAX // 17 + 1)
    assert len(long.strip()) > SECTION_MAX
    r = patient.post(plan_url(clinic, "edit"), plan_form(reasons=long))
    assert r.status_code == 400
    page = shown(r.get_data(as_text=True))
    assert f"the limit is {SECTION_MAX:,}" in page
    assert long.strip() in page  # the text is kept in the form
    assert stored(clinic.world.app, clinic) is None
    empty = dict.fromkeys(SECTION_KEYS, "   ")
    r = patient.post(plan_url(clinic, "edit"), {**empty, "version": ""})
    assert r.status_code == 400
    assert "Write at least one step" in r.get_data(as_text=True)
    assert stored(clinic.world.app, clinic) is None


# -- who may not -------------------------------------------------------------------


def test_other_patients_outside_clinicians_and_admins_get_not_found(
    clinic: Clinic, patient: Browser
) -> None:
    secret = marker("plan")
    save(patient, clinic, warning_signs=f"W {secret}")
    world = clinic.world
    for person in (clinic.other_patient, clinic.other_clinician, clinic.admin):
        b = world.browser(person)
        for page in ("", "edit", "history", "print"):
            r = b.get(plan_url(clinic, page))
            assert r.status_code == 404, (person.role, page, r.status_code)
            assert secret not in r.get_data(as_text=True)
        r = b.post(plan_url(clinic, "edit"), plan_form("1", warning_signs="Taken over"))
        assert r.status_code == 404, (person.role, r.status_code)
        # Their own Get-help page does not point at someone else's plan.
        assert "safety-plan" not in b.text("/help")
    version, text = current(world.app, clinic)
    assert version == 1 and secret in text["warning_signs"]


def test_a_closed_course_keeps_its_plan_readable_but_not_editable(
    clinic: Clinic, patient: Browser, clinician: Browser
) -> None:
    save(patient, clinic)
    assert clinician.post(f"/courses/{clinic.course.id}/status/closed").status_code == 302
    page = patient.text(plan_url(clinic))
    assert "My dog Biscuit" in page and "Change the plan" not in page
    assert patient.get(plan_url(clinic, "edit")).status_code == 403
    r = patient.post(plan_url(clinic, "edit"), plan_form("1", reasons="Changed"))
    assert r.status_code == 403
    version, text = current(clinic.world.app, clinic)
    assert version == 1 and text["reasons"] != "Changed"


def test_the_form_needs_its_csrf_token(clinic: Clinic, patient: Browser) -> None:
    r = patient.client.post(plan_url(clinic, "edit"), data=plan_form())
    assert r.status_code == 400
    other = Browser(clinic.world.app)
    r = patient.client.post(
        plan_url(clinic, "edit"), data={"csrf_token": other.token(), **plan_form()}
    )
    assert r.status_code == 400
    assert stored(clinic.world.app, clinic) is None


# -- where it is reached, and on paper ----------------------------------------------------


def test_get_help_links_to_the_plan_of_the_signed_in_patient_only(
    clinic: Clinic, patient: Browser, clinician: Browser
) -> None:
    link = f'href="{plan_url(clinic)}"'
    assert "safety-plan" not in patient.text("/help")  # no plan yet: no link
    save(patient, clinic)
    assert link in patient.text("/help")
    assert "safety-plan" not in Browser(clinic.world.app).get("/help").get_data(as_text=True)
    assert "safety-plan" not in clinician.text("/help")
    # The course pages of both link to it in one step.
    assert link in patient.text(f"/courses/{clinic.course.id}")
    assert link in clinician.text(f"/courses/{clinic.course.id}")


def test_the_print_view_holds_the_plan_and_no_navigation(clinic: Clinic, patient: Browser) -> None:
    save(patient, clinic, professionals="Dr Example at the clinic, 555-0199 (fictional).")
    assert plan_url(clinic, "print") in patient.text(plan_url(clinic))
    page = shown(patient.text(plan_url(clinic, "print")))
    assert "Dr Example at the clinic, 555-0199 (fictional)." in page
    assert "My dog Biscuit" in page
    assert 'href="tel:988"' in page
    assert 'class="topbar"' not in page and 'aria-label="Main"' not in page
    assert "Sign out" not in page and 'class="footer"' not in page
    assert 'class="no-print crumbs"' in page  # the way back is not printed
    css = clinic.world.app.test_client().get("/static/css/app.css").get_data(as_text=True)
    assert "@media print" in css and ".no-print" in css


# -- audit, at rest, rotation, erasure ------------------------------------------------------


def test_saves_and_reads_are_audited_by_kind_only(
    clinic: Clinic, patient: Browser, clinician: Browser
) -> None:
    secret = marker("audit")
    save(patient, clinic, coping=f"C {secret}")
    save(clinician, clinic, "1", coping=f"C {secret} 2")
    clinician.text(plan_url(clinic))
    with runtime(clinic.world.app).database.session() as s:
        events = list(s.scalars(select(AuditEvent).where(AuditEvent.object_type == "safety_plan")))
    actions = [e.action for e in events]
    assert actions.count("safety_plan.create") == 1
    assert actions.count("safety_plan.update") == 1
    assert "read" in actions
    assert all(e.subject_id == clinic.patient.id for e in events)
    log = patient.text("/account/access-log")
    assert "your safety plan" in log and clinic.clinician.name in log
    assert secret not in log


def test_nothing_of_the_plan_is_readable_at_rest(
    clinic: Clinic, patient: Browser, clinician: Browser, settings: Settings
) -> None:
    words = {key: marker(key[:6]) for key in SECTION_KEYS}
    save(patient, clinic, **{k: f"First {m}" for k, m in words.items()})
    later = {key: marker(key[:6]) for key in SECTION_KEYS}
    save(clinician, clinic, "1", **{k: f"Then {m}" for k, m in later.items()})
    history = clinician.text(plan_url(clinic, "history"))
    current = clinician.text(plan_url(clinic))
    assert all(m in history for m in words.values())
    assert all(m in current for m in later.values())
    found, tables = database_hits(
        clinic.world.app, {**words, **{f"{k}2": m for k, m in later.items()}}
    )
    assert {"safety_plans", "safety_plan_versions"} <= tables
    assert found == {}
    if PG_URL:
        return  # PostgreSQL's files are the server's; every column was read above
    db_file = settings.instance_path / "journal.sqlite3"
    files = [db_file, db_file.with_name(db_file.name + "-wal")]
    needles = [m.encode() for m in (*words.values(), *later.values())]
    for checkpointed in (False, True):  # in the write-ahead log, then folded into the file
        if checkpointed:
            with runtime(clinic.world.app).database.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        data = b"".join(p.read_bytes() for p in files if p.exists())
        assert clinic.patient.email.encode() in data  # the scan reads what is stored
        assert [n for n in needles if n in data] == []


def test_the_plan_is_rotated_with_the_data_keys(
    clinic: Clinic, patient: Browser, clinician: Browser
) -> None:
    assert {SafetyPlan, SafetyPlanVersion} <= {t.model for t in SEALED}
    save(patient, clinic)
    save(clinician, clinic, "1", coping="After rotation too (fictional).")
    rt = runtime(clinic.world.app)
    with rt.database.session() as s:
        before = bytes(s.scalars(select(SafetyPlanVersion.content)).one())
    rotate_data_keys(rt.database, rt.ring)
    with rt.database.session() as s:
        assert bytes(s.scalars(select(SafetyPlanVersion.content)).one()) != before
    checked, failures = verify_all(rt.database, rt.ring)
    assert checked > 0 and failures == []
    assert "After rotation too (fictional)." in shown(patient.text(plan_url(clinic)))
    assert "My dog Biscuit" in patient.text(plan_url(clinic, "history"))


def test_erasing_the_patient_removes_the_plan_and_its_versions(
    clinic: Clinic, patient: Browser, clinician: Browser
) -> None:
    save(patient, clinic)
    save(clinician, clinic, "1", coping="Kept until the erasure (fictional).")
    world = clinic.world
    other = world.browser(clinic.other_patient)
    r = other.post(
        f"/courses/{clinic.other_course.id}/safety-plan/edit", plan_form(reasons="Stays")
    )
    assert r.status_code == 302
    admin = world.browser(clinic.admin)
    r = admin.post(
        f"/admin/users/{clinic.patient.id}/erase",
        {"reason": "patient's request", "confirm_email": clinic.patient.email},
    )
    assert r.status_code == 302, r.get_data(as_text=True)
    assert count_rows(world.app, SafetyPlanVersion) == 0
    assert count_rows(world.app, SafetyPlan) == 1  # the other patient's
    assert count_rows(world.app, Course, Course.patient_id == clinic.patient.id) == 0
