"""The dosing-session record, from the outside: care-team clinicians write it through
the page; bad input is a form error with nothing saved; mg/kg is worked out; a pre-dose
blood pressure at or above 140/90 is flagged on the record and the timeline (the
other thresholds and the safety flags: tests/test_bp_flags.py); the
patient (who reads their part on a page of their own: tests/test_dosing_day.py) and
clinicians outside the care team cannot reach it; it is encrypted at rest,
rotated with the data keys and erased with the patient."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlalchemy import func, select

from journal.clinical.session_records import RecordData
from journal.config import Settings
from journal.core.vault import Vault
from journal.keyrotation import SEALED, rotate_data_keys, verify_all
from journal.models import AuditEvent, Course, SessionRecord
from tests.conftest import Clinic, runtime
from tests.helpers import Browser
from tests.scene import count_rows, marker
from tests.test_review_at_rest import database_hits


def record_url(clinic: Clinic) -> str:
    return f"/courses/{clinic.course.id}/sessions/{clinic.past.id}/record"


def record_form(clinic: Clinic, **overrides: str | list[str]) -> dict[str, str | list[str]]:
    data: dict[str, str | list[str]] = {
        "route": "intramuscular",
        "dose": "35",
        "dose_unit": "mg",
        "weight_kg": "70",
        "time_given": "10:15",
        "adjuncts": "Ondansetron 4 mg (fictional)",
        "drug": "Racemic ketamine",
        "modality": "In clinic",
        "rows": "6",
        "r0_point": "pre_dose",
        "r0_systolic": "128",
        "r0_diastolic": "82",
        "r0_heart_rate": "72",
        "r1_point": "about_40_minutes",
        "r1_systolic": "142",
        "r1_diastolic": "88",
        "r1_heart_rate": "80",
        "r2_point": "discharge",
        "r3_point": "other",
        "r4_point": "other",
        "r5_point": "other",
        "completed": "y",
        "side_effects": ["nausea", "dizziness"],
        "side_effects_other": "",
        "dissociation": "6",
        "setting": "Music, eyeshades, a blanket.",
        "clinicians_present": [str(clinic.clinician.id)],
        "discharge_notes": "Left with a friend driving.",
        "version": "",
    }
    # "pre_systolic" names the first row (pre-dose), "post_systolic" the second (about
    # 40 minutes after): the two readings of the record before the series.
    for name, value in overrides.items():
        row = {"pre_": "r0_", "post_": "r1_"}.get(name[: name.find("_") + 1])
        data[name.replace(name[: name.find("_") + 1], row, 1) if row else name] = value
    return data


def stored(app: Flask, clinic: Clinic) -> RecordData | None:
    rt = runtime(app)
    with rt.database.session() as s:
        row = s.scalar(select(SessionRecord).where(SessionRecord.session_id == clinic.past.id))
        if row is None:
            return None
        return RecordData.from_json(
            Vault(s, rt.ring).open_column(row, "content", clinic.patient.id)
        )


def save(b: Browser, clinic: Clinic, **overrides: str | list[str]) -> str:
    r = b.post(record_url(clinic), record_form(clinic, **overrides))
    assert r.status_code == 302, r.get_data(as_text=True)
    return b.text(record_url(clinic))


@pytest.fixture
def clinician(clinic: Clinic) -> Browser:
    return clinic.world.browser(clinic.clinician)


# -- writing and reading -------------------------------------------------------------


def test_a_clinician_records_a_session_and_reads_it_back(
    clinic: Clinic, clinician: Browser
) -> None:
    assert "Record this session" in clinician.text(record_url(clinic))
    page = save(clinician, clinic)
    assert "Intramuscular (IM)" in page
    assert "35 mg (0.50 mg/kg, weight used 70 kg)" in page
    assert "BP 128/82 mmHg, heart rate 72/min" in page
    assert "Nausea, Dizziness" in page
    assert "6 of 10" in page
    assert "Ondansetron 4 mg (fictional)" in page
    assert clinic.clinician.name in page
    data = stored(clinic.world.app, clinic)
    assert data is not None
    assert data.clinicians_present == (clinic.clinician.id,)
    assert data.time_given == "10:15"
    assert count_rows(clinic.world.app, SessionRecord) == 1


def test_a_record_is_changed_in_place_and_a_stale_form_is_refused(
    clinic: Clinic, clinician: Browser
) -> None:
    save(clinician, clinic)
    save(clinician, clinic, dose="40", version="1")
    data = stored(clinic.world.app, clinic)
    assert data is not None and str(data.dose) == "40"
    assert count_rows(clinic.world.app, SessionRecord) == 1
    stale = clinician.post(record_url(clinic), record_form(clinic, dose="50", version="1"))
    assert stale.status_code == 400
    assert "changed by someone else" in stale.get_data(as_text=True)
    data = stored(clinic.world.app, clinic)
    assert data is not None and str(data.dose) == "40"


def test_mg_per_kg_is_worked_out_both_ways(clinic: Clinic, clinician: Browser) -> None:
    page = save(
        clinician, clinic, route="intravenous", dose="0.5", dose_unit="mg_per_kg", weight_kg="82.5"
    )
    assert "41.3 mg (0.5 mg/kg, weight used 82.5 kg)" in page
    page = save(clinician, clinic, route="intravenous", dose="33", weight_kg="66", version="1")
    assert "33 mg (0.50 mg/kg, weight used 66 kg)" in page
    page = save(clinician, clinic, route="sublingual", dose="200", weight_kg="", version="2")
    assert "200 mg</dd>" in page and "mg/kg" not in page.split("Dose</dt>", 1)[1][:60]


# -- bad input: clear errors, nothing saved -------------------------------------------

BAD = [
    ({"pre_systolic": "20"}, "r0_systolic", "not possible"),
    ({"post_systolic": "400"}, "r1_systolic", "not possible"),
    ({"pre_diastolic": ""}, "r0_diastolic", "both numbers"),
    ({"pre_heart_rate": "7.5"}, "r0_heart_rate", "whole number"),
    ({"post_heart_rate": "300"}, "r1_heart_rate", "not possible"),
    ({"r2_spo2": "49"}, "r2_spo2", "not possible"),
    ({"r2_spo2": "101"}, "r2_spo2", "not possible"),
    ({"r2_breathing_rate": "3"}, "r2_breathing_rate", "not possible"),
    ({"r2_breathing_rate": "61"}, "r2_breathing_rate", "not possible"),
    ({"r3_point": "later", "r3_heart_rate": "70"}, "r3_point", "when the reading"),
    ({"r2_time": "9.30", "r2_spo2": "97"}, "r2_time", "hours and minutes"),
    ({"r2_note": "x" * 501, "r2_spo2": "97"}, "r2_note", "the limit is 500"),
    ({"drug": "Nitrous oxide"}, "drug", "one of those listed"),
    ({"modality": "By post"}, "modality", "one of those listed"),
    ({"check_fasting": "maybe"}, "check_fasting", "yes or no"),
    ({"discharge_walking": "perhaps"}, "discharge_walking", "yes or no"),
    ({"discharge_time": "7pm"}, "discharge_time", "hours and minutes"),
    ({"dose_unit": ""}, "dose_unit", "unit of the dose"),
    ({"dose_unit": "grams"}, "dose_unit", "mg or mg/kg"),
    ({"dose": ""}, "dose", "give the dose"),
    ({"dose": "35mg"}, "dose", "number above zero"),
    ({"dose": "0"}, "dose", "number above zero"),
    ({"route": "intravenous", "weight_kg": ""}, "weight_kg", "weight used"),
    ({"route": "intramuscular", "weight_kg": ""}, "weight_kg", "weight used"),
    ({"route": "oral", "dose_unit": "mg_per_kg", "weight_kg": ""}, "weight_kg", "weight used"),
    ({"weight_kg": "5"}, "weight_kg", "weight in kg"),
    ({"route": ""}, "route", "choose the route"),
    ({"route": "rectal"}, "route", "routes listed"),
    ({"time_given": "25:99"}, "time_given", "hours and minutes"),
    ({"dissociation": "11"}, "dissociation", "0 to 10"),
    ({"side_effects": ["nausea", "hiccups"]}, "side_effects", "from the list"),
    ({"adjuncts": "x" * 1001}, "adjuncts", "the limit is 1,000"),
]


@pytest.mark.parametrize(("change", "name", "message"), BAD)
def test_bad_input_is_a_form_error_and_nothing_is_saved(
    clinic: Clinic, clinician: Browser, change: dict[str, str], name: str, message: str
) -> None:
    before = count_rows(clinic.world.app, AuditEvent)
    r = clinician.post(record_url(clinic), record_form(clinic, **change))
    page = r.get_data(as_text=True)
    assert r.status_code == 400, page
    error = re.search(rf'<p class="error" id="{name}-error">([^<]*)</p>', page)
    assert error, f"no error shown beside {name}"
    assert message.lower() in error.group(1).lower()
    assert count_rows(clinic.world.app, SessionRecord) == 0
    # Nothing was written but the read of the page itself: no create event.
    actions = _actions(clinic.world.app)
    assert "session_record.create" not in actions
    assert count_rows(clinic.world.app, AuditEvent) == before


def test_a_bad_change_leaves_the_saved_record_as_it_was(clinic: Clinic, clinician: Browser) -> None:
    save(clinician, clinic)
    r = clinician.post(
        record_url(clinic), record_form(clinic, pre_systolic="400", dose="90", version="1")
    )
    assert r.status_code == 400
    data = stored(clinic.world.app, clinic)
    assert data is not None and str(data.dose) == "35" and data.pre.systolic == 128


def test_only_care_team_clinicians_can_be_named_present(clinic: Clinic, clinician: Browser) -> None:
    outsider = str(clinic.other_clinician.id)
    for value in (outsider, "not-a-uuid", str(clinic.patient.id)):
        r = clinician.post(record_url(clinic), record_form(clinic, clinicians_present=[value]))
        assert r.status_code == 400
        assert "from the care team" in r.get_data(as_text=True)
    assert count_rows(clinic.world.app, SessionRecord) == 0


# -- the blood-pressure flag -------------------------------------------------------


@pytest.mark.parametrize(
    ("systolic", "diastolic", "flagged"),
    [("140", "90", True), ("140", "80", True), ("130", "90", True), ("139", "89", False)],
)
def test_a_pre_dose_reading_at_or_above_140_90_is_flagged(
    clinic: Clinic, clinician: Browser, systolic: str, diastolic: str, flagged: bool
) -> None:
    page = save(clinician, clinic, pre_systolic=systolic, pre_diastolic=diastolic)
    timeline = clinician.text(f"/courses/{clinic.course.id}")
    label = f"Blood pressure {systolic}/{diastolic} before the dose (at or above 140/90)"
    assert (label in page) is flagged
    assert ('id="bp-flag-pre"' in page) is flagged
    assert (label in timeline) is flagged
    assert "Session record" in timeline


def test_the_flag_never_blocks_and_a_high_post_dose_reading_is_flagged(
    clinic: Clinic, clinician: Browser
) -> None:
    page = save(
        clinician,
        clinic,
        pre_systolic="182",
        pre_diastolic="112",
        post_systolic="190",
        post_diastolic="115",
    )
    assert "Blood pressure 182/112 before the dose (at or above 180/110)" in page
    assert "Blood pressure 190/115 after the dose (at or above 180/110)" in page
    assert count_rows(clinic.world.app, SessionRecord) == 1
    page = save(clinician, clinic, post_systolic="190", post_diastolic="115", version="1")
    assert "before the dose (at or above" not in page
    assert "Blood pressure 190/115 after the dose (at or above 180/110)" in page


# -- who may see it --------------------------------------------------------------


def test_the_patient_never_reaches_the_clinicians_record(
    clinic: Clinic, clinician: Browser
) -> None:
    """The patient reads their part on a page of their own (tests/test_dosing_day.py)."""
    secret = marker("setting")
    save(clinician, clinic, setting=f"Notes {secret}", pre_systolic="150")
    patient = clinic.world.browser(clinic.patient)
    assert patient.get(record_url(clinic)).status_code in (403, 404)
    r = patient.post(record_url(clinic), record_form(clinic, dose="99", version="1"))
    assert r.status_code in (403, 404)
    timeline = patient.text(f"/courses/{clinic.course.id}")
    assert secret not in timeline
    assert "at or above 140/90" not in timeline and "Session record" not in timeline
    assert "/record" not in timeline
    data = stored(clinic.world.app, clinic)
    assert data is not None and str(data.dose) == "35"


def test_a_clinician_outside_the_care_team_gets_404(clinic: Clinic, clinician: Browser) -> None:
    save(clinician, clinic)
    other = clinic.world.browser(clinic.other_clinician)
    assert other.get(record_url(clinic)).status_code == 404
    r = other.post(record_url(clinic), record_form(clinic, dose="99", version="1"))
    assert r.status_code == 404
    # The session under another course's id is not found either.
    wrong = f"/courses/{clinic.other_course.id}/sessions/{clinic.past.id}/record"
    assert other.get(wrong).status_code == 404
    data = stored(clinic.world.app, clinic)
    assert data is not None and str(data.dose) == "35"


def test_reads_and_writes_are_audited_without_content(clinic: Clinic, clinician: Browser) -> None:
    save(clinician, clinic)
    save(clinician, clinic, dose="40", version="1")
    actions = _actions(clinic.world.app)
    assert actions.count("session_record.create") == 1
    assert actions.count("session_record.update") == 1
    assert ("read", "session_record") in _reads(clinic.world.app)


def _actions(app: Flask) -> list[str]:
    with runtime(app).database.session() as s:
        return list(s.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))


def _reads(app: Flask) -> list[tuple[str, str | None]]:
    with runtime(app).database.session() as s:
        return [(a, t) for a, t in s.execute(select(AuditEvent.action, AuditEvent.object_type))]


# -- at rest, key rotation, erasure --------------------------------------------------


def test_nothing_of_the_record_is_readable_at_rest(clinic: Clinic, clinician: Browser) -> None:
    words = {name: marker(name) for name in ("adjuncts", "other", "setting", "discharge")}
    save(
        clinician,
        clinic,
        adjuncts=f"A {words['adjuncts']}",
        side_effects_other=f"O {words['other']}",
        setting=f"S {words['setting']}",
        discharge_notes=f"D {words['discharge']}",
    )
    page = clinician.text(record_url(clinic))
    assert all(w in page for w in words.values())
    found, tables = database_hits(clinic.world.app, words)
    assert "session_records" in tables
    assert found == {}
    with runtime(clinic.world.app).database.engine.connect() as conn:
        content = conn.execute(select(SessionRecord.__table__.c.content)).scalar_one()
    for plain in (b"intramuscular", b"128", b"nausea", b"route"):
        assert plain not in bytes(content)


def test_the_record_is_listed_for_key_rotation_and_survives_it(
    clinic: Clinic, clinician: Browser, settings: Settings
) -> None:
    assert SessionRecord in {t.model for t in SEALED}
    save(clinician, clinic)
    rt = runtime(clinic.world.app)
    with rt.database.session() as s:
        before = bytes(s.scalars(select(SessionRecord.content)).one())
    rotate_data_keys(rt.database, rt.ring)
    with rt.database.session() as s:
        after = bytes(s.scalars(select(SessionRecord.content)).one())
    assert after != before
    checked, failures = verify_all(rt.database, rt.ring)
    assert checked > 0 and failures == []
    assert "35 mg" in clinician.text(record_url(clinic))


def test_erasing_the_patient_removes_the_record(clinic: Clinic, clinician: Browser) -> None:
    save(clinician, clinic)
    admin = clinic.world.browser(clinic.admin)
    r = admin.post(
        f"/admin/users/{clinic.patient.id}/erase",
        {"reason": "patient's request", "confirm_email": clinic.patient.email},
    )
    assert r.status_code == 302, r.get_data(as_text=True)
    assert count_rows(clinic.world.app, SessionRecord) == 0
    assert count_rows(clinic.world.app, Course, Course.patient_id == clinic.patient.id) == 0


def test_erasure_of_another_patient_leaves_the_record(clinic: Clinic, clinician: Browser) -> None:
    save(clinician, clinic)
    admin = clinic.world.browser(clinic.admin)
    r = admin.post(
        f"/admin/users/{clinic.other_patient.id}/erase",
        {"reason": "patient's request", "confirm_email": clinic.other_patient.email},
    )
    assert r.status_code == 302
    with runtime(clinic.world.app).database.session() as s:
        assert s.scalar(select(func.count()).select_from(SessionRecord)) == 1
    assert "35 mg" in clinician.text(record_url(clinic))


def test_a_closed_course_shows_the_record_without_a_form(
    clinic: Clinic, clinician: Browser
) -> None:
    save(clinician, clinic)
    r = clinician.post(f"/courses/{clinic.course.id}/status/closed")
    assert r.status_code == 302
    page = clinician.text(record_url(clinic))
    assert "35 mg" in page and "Save the record" not in page
    r = clinician.post(record_url(clinic), record_form(clinic, dose="99", version="1"))
    assert r.status_code == 403


def test_the_patients_access_log_names_the_record_but_shows_nothing_of_it(
    clinic: Clinic, clinician: Browser
) -> None:
    secret = marker("setting")
    save(clinician, clinic, setting=f"S {secret}")
    patient = clinic.world.browser(clinic.patient)
    log = patient.text("/account/access-log")
    assert "the clinical record of a dosing session" in log
    assert clinic.clinician.name in log
    assert secret not in log and "/record" not in log
