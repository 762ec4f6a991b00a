"""The export holds the dosing-session records (a clinician's export only) and the
questionnaire trends (both scopes: they are the patient's own answers)."""

from __future__ import annotations

import json

from journal.clinical import questionnaires, session_records
from tests.conftest import Clinic, runtime
from tests.export_helpers import export, flat, pdf_text, validate


def _record_and_answers(clinic: Clinic) -> None:
    world = clinic.world
    session_records.save_record(
        world.as_(clinic.clinician),
        clinic.course.id,
        clinic.past.id,
        session_records.RecordInput(
            route="intramuscular",
            dose="0.75",
            dose_unit="mg_per_kg",
            weight_kg="70",
            readings=(
                session_records.ReadingInput("pre_dose", "", "144", "91", "76"),
                session_records.ReadingInput("about_40_minutes", "", "130", "82"),
            ),
            side_effects=("nausea",),
            side_effects_other="Tingling hands",
            dissociation="6",
            time_given="10:40",
            adjuncts="Ondansetron 4 mg",
            setting="Quiet music\nEyeshades; support person Sam Fiction",
            clinicians_present=(str(clinic.clinician.id),),
            discharge_notes="Ride home with a friend",
        ),
        expected_version=None,
    )
    catalogue = runtime(world.app).clinical.instruments
    row = questionnaires.assign(
        world.as_(clinic.clinician), catalogue, clinic.course.id, "gad7", "once"
    )
    answers: dict[str, object] = {f"q{n}": v for n, v in enumerate([2, 2, 1, 1, 2, 1, 2], 1)}
    questionnaires.submit(world.as_(clinic.patient), catalogue, row.id, answers)


def test_the_clinicians_export_has_the_session_record_and_the_trend(clinic: Clinic) -> None:
    _record_and_answers(clinic)
    clinician = clinic.world.browser(clinic.clinician)
    r = export(clinician, clinic.course.id, "json")
    assert r.status_code == 200
    data = json.loads(r.data)
    validate(data)
    (past,) = [s for s in data["sessions"] if s["id"] == str(clinic.past.id)]
    record = past["clinical_record"]
    # 0.75 mg/kg for 70 kg is 52.5 mg, by hand.
    assert record["dose_mg"] == "52.5" and record["dose_mg_per_kg"] == "0.75"
    assert record["blood_pressure_before"] == "144/91"
    assert record["pre_dose_bp_at_or_above_140_90"] is True
    assert record["dissociation"] == 6
    assert record["side_effects_other"] == "Tingling hands"
    assert record["weight_kg"] == "70" and record["time_given"] == "10:40"
    assert record["adjuncts"] == "Ondansetron 4 mg"
    assert record["setting"] == "Quiet music\nEyeshades; support person Sam Fiction"
    assert record["clinicians_present"] == [clinic.clinician.name]
    assert record["discharge_notes"] == "Ride home with a friend"
    others = [s for s in data["sessions"] if s["id"] != str(clinic.past.id)]
    assert all("clinical_record" not in s for s in others)
    (gad7,) = data["questionnaires"]
    # 2+2+1+1+2+1+2 = 11: "Moderate" (10-14).
    assert [(s["total"], s["band"]) for s in gad7["scores"]] == [(11, "Moderate")]

    md = export(clinician, clinic.course.id, "md").get_data(as_text=True)
    assert "52.5 mg (0.75 mg/kg)" in md and "144/91, HR 76 (at or above 140/90)" in md
    assert "11 of 21" in md
    assert "Nausea; Tingling hands" in md
    assert "- Setting: Quiet music\n  Eyeshades; support person Sam Fiction" in md
    assert f"- Clinicians present: {clinic.clinician.name}" in md
    assert "- Discharge notes: Ride home with a friend" in md
    assert "- Time given: 10:40" in md and "- Adjunct medications: Ondansetron 4 mg" in md
    html = export(clinician, clinic.course.id, "html").get_data(as_text=True)
    assert '<dt>Discharge notes</dt><dd class="keep-lines">Ride home with a friend</dd>' in html
    pdf = flat(pdf_text(export(clinician, clinic.course.id, "pdf").data))
    assert "52.5mg" in pdf and "144/91" in pdf and "11of21" in pdf
    assert "Ridehomewithafriend" in pdf and "supportpersonSamFiction" in pdf
    assert "Weightusedforthedose70kg" in pdf


def test_the_patients_export_has_the_trend_and_only_their_part_of_the_record(
    clinic: Clinic,
) -> None:
    """The patient's own part of the record (tests/test_dosing_day.py has the rest):
    dose, vitals, discharge; never the clinicians' rating, observations or setting."""
    _record_and_answers(clinic)
    patient = clinic.world.browser(clinic.patient)
    data = json.loads(export(patient, clinic.course.id, "json").data)
    validate(data)
    assert all("clinical_record" not in s for s in data["sessions"])
    (past,) = [s for s in data["sessions"] if "dosing_record" in s]
    assert past["dosing_record"]["dose_mg"] == "52.5"
    assert "dissociation" not in past["dosing_record"]
    assert [s["total"] for s in data["questionnaires"][0]["scores"]] == [11]
    for fmt in ("md", "html"):
        page = export(patient, clinic.course.id, fmt).get_data(as_text=True)
        assert "144/91" in page and "52.5" in page and "Ride home" in page
        assert "Sam Fiction" not in page and "Tingling" not in page and "6/10" not in page
        assert "11 of 21" in page
    pdf = flat(pdf_text(export(patient, clinic.course.id, "pdf").data))
    assert "144/91" in pdf and "52.5" in pdf and "Ridehome" in pdf
    assert "SamFiction" not in pdf and "Tingling" not in pdf
    mine = json.loads(patient.post("/account/export", {"format": "json"}).data)
    sessions = [s for c in mine["courses"] for s in c["sessions"]]
    assert all("clinical_record" not in s for s in sessions)
    assert [s["dosing_record"]["dose_mg"] for s in sessions if "dosing_record" in s] == ["52.5"]
