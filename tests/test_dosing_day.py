"""The dosing day as a clinic records it: drug and modality, the timed vitals series
with its flags, the pre-session checklist and discharge criteria, dose sense (the
notice outside the clinic's range, one refusal rule whichever unit was typed),
completing the session from its record, carry-over from the previous session, and
the patient's own view of their record, on a page and in their export."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from journal.clinical.dose import DoseRules, dose_notice, refusal
from journal.clinical.session_records import (
    ROUTES,
    ReadingInput,
    RecordChoices,
    RecordData,
    RecordInput,
    check_record,
)
from journal.clinical.vitals import (
    POINT_40_MINUTES,
    POINT_DISCHARGE,
    POINT_OTHER,
    POINT_PRE_DOSE,
    BpThresholds,
    Vitals,
    VitalsPoint,
    series_breaches,
)
from journal.config import ConfigError, load_settings
from journal.core.errors import ValidationError
from journal.core.vault import Vault
from journal.models import DosingSession, SafetyFlag, SessionRecord, SessionStatus
from tests.conftest import Clinic, runtime
from tests.export_helpers import export, validate
from tests.scene import count_rows, marker
from tests.test_session_record import record_form, record_url, stored

# -- the series and its flags ----------------------------------------------------------


def point(kind: str, bp: str, time: str | None = None) -> VitalsPoint:
    s, d = (int(n) for n in bp.split("/"))
    return VitalsPoint(kind, Vitals(s, d), time)


@pytest.mark.parametrize(
    ("series", "expected"),
    [
        # a pre-dose reading: at or above 140/90 by either number, or 180/110
        ([point(POINT_PRE_DOSE, "139/89")], []),
        ([point(POINT_PRE_DOSE, "140/89")], [("pre", "pre_dose")]),
        ([point(POINT_PRE_DOSE, "139/90")], [("pre", "pre_dose")]),
        ([point(POINT_PRE_DOSE, "180/100")], [("pre", "any_reading")]),
        # every reading after the dose: 180/110, or a rise of 20% over the baseline
        ([point(POINT_DISCHARGE, "179/109")], []),
        ([point(POINT_DISCHARGE, "180/109")], [("discharge", "any_reading")]),
        ([point(POINT_OTHER, "170/110")], [("other_1", "any_reading")]),
        ([point(POINT_PRE_DOSE, "100/70"), point(POINT_DISCHARGE, "119/83")], []),
        (
            [point(POINT_PRE_DOSE, "100/70"), point(POINT_DISCHARGE, "120/70")],
            [("discharge", "rise")],
        ),
        (
            [point(POINT_PRE_DOSE, "100/70"), point(POINT_OTHER, "100/84")],
            [("other_1", "rise")],
        ),
        # the baseline is the last pre-dose reading before: a re-check after rest
        (
            [
                point(POINT_PRE_DOSE, "150/95"),
                point(POINT_PRE_DOSE, "120/80"),
                point(POINT_40_MINUTES, "144/80"),
                point(POINT_DISCHARGE, "143/80"),
            ],
            [("pre", "pre_dose"), ("post", "rise")],
        ),
        # three readings, each checked; one flag per reading, the more serious rule
        (
            [
                point(POINT_PRE_DOSE, "142/88"),
                point(POINT_40_MINUTES, "185/112"),
                point(POINT_DISCHARGE, "171/90"),
            ],
            [("pre", "pre_dose"), ("post", "any_reading"), ("discharge", "rise")],
        ),
    ],
)
def test_each_reading_of_the_series_is_checked_at_the_edges(
    series: list[VitalsPoint], expected: list[tuple[str, str]]
) -> None:
    assert [(b.reading, b.rule) for b in series_breaches(series)] == expected


def test_the_series_words_and_the_clinics_thresholds() -> None:
    series = [point(POINT_PRE_DOSE, "100/70"), point(POINT_DISCHARGE, "125/70", "12:05")]
    (breach,) = series_breaches(series)
    assert breach.label == (
        "Blood pressure 125/70 at discharge at 12:05 "
        "(a rise of 20% or more over 100/70 before the dose)"
    )
    assert series_breaches(series, BpThresholds(rise_percent=30)) == []


def test_a_day_of_three_readings_raises_each_flag_once(clinic: Clinic) -> None:
    clinician = clinic.world.browser(clinic.clinician)
    form = record_form(
        clinic,
        r0_time="09:50",
        pre_systolic="150",
        pre_diastolic="92",
        r0_spo2="98",
        r0_breathing_rate="14",
        r1_time="10:45",
        r1_systolic="186",
        r1_diastolic="100",
        r2_time="12:00",
        r2_systolic="130",
        r2_diastolic="84",
        r2_spo2="97",
    )
    assert clinician.post(record_url(clinic), form).status_code == 302
    page = clinician.text(record_url(clinic))
    pre = "Pre-dose, 09:50:</strong> BP 150/92 mmHg, heart rate 72/min, SpO2 98%, breathing 14/min"
    assert pre in page
    assert "At discharge, 12:00:</strong> BP 130/84 mmHg, SpO2 97%" in page
    assert 'id="bp-flag-pre"' in page and 'id="bp-flag-post"' in page
    assert "bp-flag-discharge" not in page
    assert count_rows(clinic.world.app, SafetyFlag) == 2
    form["version"] = "1"
    assert clinician.post(record_url(clinic), form).status_code == 302
    assert count_rows(clinic.world.app, SafetyFlag) == 2  # raised once


# -- dose sense --------------------------------------------------------------------------

WEIGHT = Decimal("70")
# (route, dose, unit, weight, notice: None, "below" or "above")
EDGES = [
    # intravenous and intramuscular, 0.5-1.0 mg/kg; typed in mg/kg, and in mg at 70 kg
    *[
        case
        for route in ("intravenous", "intramuscular")
        for case in (
            (route, "0.49", "mg_per_kg", WEIGHT, "below"),
            (route, "0.5", "mg_per_kg", WEIGHT, None),
            (route, "1.0", "mg_per_kg", WEIGHT, None),
            (route, "1.01", "mg_per_kg", WEIGHT, "above"),
            (route, "34.9", "mg", WEIGHT, "below"),
            (route, "35", "mg", WEIGHT, None),
            (route, "70", "mg", WEIGHT, None),
            (route, "70.1", "mg", WEIGHT, "above"),
        )
    ],
    ("intravenous", "5", "mg_per_kg", WEIGHT, "above"),  # a tenfold slip
    ("intravenous", "350", "mg", WEIGHT, "above"),
    # intranasal esketamine, 28-84 mg; in mg, and in mg/kg at 70 kg
    ("intranasal", "27.9", "mg", None, "below"),
    ("intranasal", "28", "mg", None, None),
    ("intranasal", "84", "mg", None, None),
    ("intranasal", "84.1", "mg", None, "above"),
    ("intranasal", "0.39", "mg_per_kg", WEIGHT, "below"),  # 27.3 mg
    ("intranasal", "0.4", "mg_per_kg", WEIGHT, None),  # 28 mg
    ("intranasal", "1.2", "mg_per_kg", WEIGHT, None),  # 84 mg
    ("intranasal", "1.21", "mg_per_kg", WEIGHT, "above"),  # 84.7 mg
    # sublingual and oral, 50-500 mg; in mg, and in mg/kg at 100 kg
    *[
        case
        for route in ("sublingual", "oral")
        for case in (
            (route, "49.9", "mg", None, "below"),
            (route, "50", "mg", None, None),
            (route, "500", "mg", None, None),
            (route, "500.1", "mg", None, "above"),
            (route, "0.49", "mg_per_kg", Decimal("100"), "below"),
            (route, "0.5", "mg_per_kg", Decimal("100"), None),
            (route, "5", "mg_per_kg", Decimal("100"), None),
            (route, "5.01", "mg_per_kg", Decimal("100"), "above"),
        )
    ],
]


@pytest.mark.parametrize(("route", "dose", "unit", "weight", "side"), EDGES)
def test_each_dose_notice_at_its_ranges_edges(
    route: str, dose: str, unit: str, weight: Decimal | None, side: str | None
) -> None:
    raw = RecordInput(
        route=route,
        dose=dose,
        dose_unit=unit,
        weight_kg="" if weight is None else str(weight),
    )
    data = check_record(raw, set())  # saved: a notice is never a form error
    notice = data.dose_notice(DoseRules.of(None))
    if side is None:
        assert notice is None
    else:
        assert notice is not None and notice.above == (side == "above")
        label = ROUTES[route][:1].lower() + ROUTES[route][1:]
        assert f"is {side} the clinic's usual range for {label} doses" in notice.label


def test_the_clinic_sets_its_own_ranges_and_lists(tmp_path: Path) -> None:
    defaults = load_settings(tmp_path, environ={})
    assert defaults.record_drugs == ("Racemic ketamine", "Esketamine")
    assert defaults.record_modalities == ("In clinic", "At home with a support person")
    (tmp_path / "config.toml").write_text(
        'dose_range_intravenous = "0.3-0.8 mg/kg"\nrecord_drugs = ["Ketamine (generic)"]\n'
    )
    own = load_settings(tmp_path, environ={"JOURNAL_RECORD_MODALITIES": "Clinic; Home"})
    assert own.record_drugs == ("Ketamine (generic)",)
    assert own.record_modalities == ("Clinic", "Home")
    rules = DoseRules.of(own)
    assert rules.ranges["intravenous"].words == "0.3 to 0.8 mg/kg"
    assert rules.ranges["intranasal"].words == "28 to 84 mg"  # the default kept
    notice = dose_notice("intravenous", "IV", Decimal("0.9"), "mg_per_kg", WEIGHT, rules)
    assert notice is not None and notice.above
    for bad in ("0.5 to 1 mg/kg", "1.0-0.5 mg/kg", "0.5-1.0 grams", "-1 mg"):
        with pytest.raises(ConfigError, match="dose_range_oral"):
            load_settings(tmp_path, environ={"JOURNAL_DOSE_RANGE_ORAL": bad})


@pytest.mark.parametrize(
    ("dose", "unit", "weight", "refused"),
    [
        # 20 mg/kg with a weight, 2,000 mg in any case: the same whichever unit was typed
        ("2000", "mg", "70", True),  # 28.6 mg/kg
        ("28.6", "mg_per_kg", "70", True),
        ("1400", "mg", "70", False),  # 20 mg/kg
        ("20", "mg_per_kg", "70", False),
        ("1400.7", "mg", "70", True),  # 20.01 mg/kg
        ("20.01", "mg_per_kg", "70", True),
        ("2500", "mg", "250", True),  # 10 mg/kg, but 2,500 mg
        ("10", "mg_per_kg", "250", True),
        ("2000", "mg", "", False),  # no weight: the mg rule alone
        ("2000.1", "mg", "", True),
    ],
)
def test_one_refusal_rule_for_mg_and_mg_per_kg(
    dose: str, unit: str, weight: str, refused: bool
) -> None:
    raw = RecordInput(route="oral", dose=dose, dose_unit=unit, weight_kg=weight)
    rules = DoseRules.of(None)
    found = refusal(Decimal(dose), unit, Decimal(weight) if weight else None, rules)
    assert (found is not None) is refused
    if refused:
        with pytest.raises(ValidationError) as caught:
            check_record(raw, RecordChoices(set()))
        assert "cannot be right" in caught.value.errors["dose"]
    else:
        check_record(raw, RecordChoices(set()))


def test_a_dose_outside_the_range_is_saved_with_a_notice(clinic: Clinic) -> None:
    clinician = clinic.world.browser(clinic.clinician)
    form = record_form(clinic, route="intravenous", dose="5", dose_unit="mg_per_kg")
    r = clinician.post(record_url(clinic), form)
    assert r.status_code == 302  # not a form error
    page = clinician.text(record_url(clinic))
    assert "350.0 mg (5 mg/kg, weight used 70 kg)" in page  # mg and mg/kg together
    assert 'id="dose-notice"' in page
    notice = "The dose, 5.00 mg/kg, is above the clinic&#39;s usual range for intravenous (IV)"
    assert notice in page
    assert "(0.5 to 1.0 mg/kg)" in page
    r = clinician.post(record_url(clinic), record_form(clinic, dose="2000", version="1"))
    assert r.status_code == 400 and "cannot be right" in r.get_data(as_text=True)
    patient = clinic.world.browser(clinic.patient)
    mine = patient.text(f"/courses/{clinic.course.id}/sessions/{clinic.past.id}/dosing-record")
    assert "350.0 mg" in mine and "usual range" not in mine
    # The clinician's export says it too, in every format; the patient's never does.
    said = "is above the clinic's usual range for intravenous (IV) doses (0.5 to 1.0 mg/kg)"
    document = export(clinician, clinic.course.id).get_json()
    validate(document)
    records = [s["clinical_record"] for s in document["sessions"] if "clinical_record" in s]
    assert [r["dose_notice"] for r in records if r["dose_notice"]] == [
        f"The dose, 5.00 mg/kg, {said}. Please check it; it was saved as given"
    ]
    assert said in export(clinician, clinic.course.id, "md").get_data(as_text=True)
    assert "is above the clinic&#39;s usual range" in export(
        clinician, clinic.course.id, "html"
    ).get_data(as_text=True)
    for fmt in ("json", "md"):
        assert "usual range" not in export(patient, clinic.course.id, fmt).get_data(as_text=True)


# -- completing the session, carry-over, more rows ----------------------------------------


def status_of(clinic: Clinic, session: DosingSession) -> SessionStatus:
    with runtime(clinic.world.app).database.session() as s:
        found = s.get(DosingSession, session.id)
        assert found is not None
        return found.status


def test_a_complete_record_completes_its_session_and_can_undo_it(clinic: Clinic) -> None:
    clinician = clinic.world.browser(clinic.clinician)
    url = f"/courses/{clinic.course.id}/sessions/{clinic.upcoming.id}/record"
    assert status_of(clinic, clinic.upcoming) == SessionStatus.SCHEDULED
    page = clinician.text(url)
    assert 'name="completed" type="checkbox" value="y">' in page  # a future session: unticked
    form = record_form(clinic)
    form.pop("completed")
    assert clinician.post(url, form).status_code == 302
    assert status_of(clinic, clinic.upcoming) == SessionStatus.SCHEDULED
    form.update(completed="y", version="1")
    assert clinician.post(url, form).status_code == 302
    assert status_of(clinic, clinic.upcoming) == SessionStatus.COMPLETED
    assert 'name="completed" type="checkbox" value="y"' in clinician.text(url)
    timeline = clinician.text(f"/courses/{clinic.course.id}")
    assert timeline.count(">Completed</span>") == 2
    from tests.export_helpers import export

    md = export(clinician, clinic.course.id, "md").get_data(as_text=True)
    assert "Scheduled" not in md
    form.pop("completed")
    form["version"] = "2"
    assert clinician.post(url, form).status_code == 302  # a mistake, undone
    assert status_of(clinic, clinic.upcoming) == SessionStatus.SCHEDULED


def test_a_new_record_starts_from_the_previous_sessions(clinic: Clinic) -> None:
    clinician = clinic.world.browser(clinic.clinician)
    url = f"/courses/{clinic.course.id}/sessions/{clinic.upcoming.id}/record"
    fresh = clinician.text(url)
    assert '<option selected value="mg">mg</option>' in fresh  # the default unit
    assert "carried over" not in fresh
    form = record_form(
        clinic,
        route="intravenous",
        weight_kg="82.5",
        drug="Esketamine",
        modality="At home with a support person",
    )
    assert clinician.post(record_url(clinic), form).status_code == 302
    page = clinician.text(url)
    assert "carried over from session 1's record" in page
    assert 'value="82.5"' in page
    assert 'checked id="route-0" name="route" type="radio" value="intravenous"' in page
    assert 'value="Esketamine"' in page.split('checked id="drug-', 1)[1][:60]
    assert 'value="At home with a support person"' in page.split('checked id="modality-', 1)[1][:90]
    # Saving it as shown (with a dose) needs nothing more.
    carried = record_form(clinic, route="intravenous", weight_kg="82.5", dose="41")
    assert clinician.post(url, carried).status_code == 302


def test_more_rows_keeps_what_was_typed_and_saves_nothing(clinic: Clinic) -> None:
    clinician = clinic.world.browser(clinic.clinician)
    form = record_form(clinic, r3_systolic="133", r3_diastolic="81", more_rows="1")
    r = clinician.post(record_url(clinic), form)
    page = r.get_data(as_text=True)
    assert r.status_code == 200
    assert count_rows(clinic.world.app, SessionRecord) == 0
    assert "Reading 9" in page and "Reading 10" not in page
    assert 'name="rows" type="hidden" value="9"' in page
    assert 'id="r3_systolic" inputmode="numeric" name="r3_systolic" type="text" value="133"' in page
    assert "Please correct" not in page


# -- the patient's own record ------------------------------------------------------------


def test_the_patient_reads_their_record_without_the_clinicians_notes(clinic: Clinic) -> None:
    words = {
        n: marker(n) for n in ("setting", "other", "reading", "check", "discharge", "criterion")
    }
    clinician = clinic.world.browser(clinic.clinician)
    form = record_form(
        clinic,
        setting=f"S {words['setting']}",
        side_effects_other=f"O {words['other']}",
        r0_note=f"R {words['reading']}",
        check_fasting="yes",
        check_changes="no",
        check_changes_note=f"C {words['check']}",
        discharge_walking="yes",
        discharge_escort_present_note=f"E {words['criterion']}",
        discharge_time="12:10",
        discharge_notes=f"D {words['discharge']}",
    )
    assert clinician.post(record_url(clinic), form).status_code == 302
    url = f"/courses/{clinic.course.id}/sessions/{clinic.past.id}/dosing-record"
    patient = clinic.world.browser(clinic.patient)
    timeline = patient.text(f"/courses/{clinic.course.id}")
    assert url in timeline and "/record" not in timeline
    page = patient.text(url)
    for shown in (
        "Racemic ketamine",
        "In clinic",
        "Intramuscular (IM)",
        "35 mg (0.50 mg/kg, weight used 70 kg)",
        "BP 128/82 mmHg, heart rate 72/min",
        "Fasting as instructed: <strong>Yes</strong>",
        "Walking unaided: <strong>Yes</strong>",
        words["criterion"],
        "12:10",
        words["discharge"],
    ):
        assert shown in page, shown
    private = ("setting", "other", "reading", "check")
    for name in private:
        assert words[name] not in page, name
    assert "Dissociation" not in page and "6 of 10" not in page and "Nausea" not in page
    # Only their own: not another patient, not a clinician's page; the clinician outside
    # the care team and the admin find nothing.
    assert clinic.world.browser(clinic.other_patient).get(url).status_code == 404
    assert clinician.get(url).status_code == 403
    assert clinic.world.browser(clinic.other_clinician).get(url).status_code == 403
    assert clinic.world.browser(clinic.admin).get(url).status_code == 403
    upcoming = f"/courses/{clinic.course.id}/sessions/{clinic.upcoming.id}/dosing-record"
    assert patient.get(upcoming).status_code == 404  # no record yet

    from tests.export_helpers import export

    data = json.loads(patient.post("/account/export", {"format": "json"}).data)
    (record,) = [
        s["dosing_record"] for c in data["courses"] for s in c["sessions"] if "dosing_record" in s
    ]
    assert record["drug"] == "Racemic ketamine" and record["dose_mg"] == "35"
    assert record["vitals"][0]["blood_pressure"] == "128/82"
    assert "note" not in record["vitals"][0] and "flag" not in record["vitals"][0]
    assert record["discharge_time"] == "12:10"
    text = json.dumps(data, ensure_ascii=False)
    for md_or_html in ("md", "html"):
        text += export(patient, clinic.course.id, md_or_html).get_data(as_text=True)
    assert words["discharge"] in text and words["criterion"] in text
    for name in private:
        assert words[name] not in text, name
    clinician_json = json.loads(export(clinician, clinic.course.id, "json").data)
    (full,) = [s["clinical_record"] for s in clinician_json["sessions"] if "clinical_record" in s]
    assert full["vitals"][0]["note"] == f"R {words['reading']}"
    assert full["pre_session_checklist"][1] == {
        "item": "Changes since the last session",
        "answer": "No",
        "note": f"C {words['check']}",
    }


def test_a_record_of_the_old_shape_opens_and_exports(clinic: Clinic) -> None:
    """A record stored before the series: one reading before the dose, one after."""
    clinician = clinic.world.browser(clinic.clinician)
    assert clinician.post(record_url(clinic), record_form(clinic)).status_code == 302
    old = {
        "route": "intramuscular",
        "dose": "35",
        "dose_unit": "mg",
        "weight_kg": "70",
        "time_given": "10:15",
        "adjuncts": "",
        "pre": {"systolic": 150, "diastolic": 92, "heart_rate": 72},
        "post": {"systolic": 130, "diastolic": 80, "heart_rate": None},
        "side_effects": ["nausea"],
        "side_effects_other": "",
        "dissociation": 5,
        "setting": "",
        "clinicians_present": [],
        "discharge_notes": "Left with a friend.",
    }
    rt = runtime(clinic.world.app)
    with rt.database.session() as s:
        row = s.scalars(select(SessionRecord)).one()
        row.content = Vault(s, rt.ring).seal_column(
            row, "content", clinic.patient.id, json.dumps(old)
        )
        s.commit()
    data = stored(clinic.world.app, clinic)
    assert data is not None
    assert [(r.point, r.vitals.systolic) for r in data.readings] == [
        ("pre_dose", 150),
        ("about_40_minutes", 130),
    ]
    assert RecordData.from_json(data.to_json()) == data
    page = clinician.text(record_url(clinic))
    assert "Pre-dose:</strong> BP 150/92 mmHg, heart rate 72/min" in page
    assert "About 40 minutes after the dose:</strong> BP 130/80 mmHg" in page
    assert 'id="bp-flag-pre"' in page
    assert 'name="r0_systolic" type="text" value="150"' in page
    from tests.export_helpers import export

    md = export(clinician, clinic.course.id, "md").get_data(as_text=True)
    assert "150/92, HR 72 (at or above 140/90)" in md


def test_reading_input_blank_rows_are_left_out() -> None:
    raw = RecordInput(
        route="oral",
        dose="100",
        dose_unit="mg",
        readings=(
            ReadingInput(point="pre_dose"),
            ReadingInput(point="about_40_minutes", heart_rate="80"),
            ReadingInput(point="other"),
        ),
    )
    data = check_record(raw, set())
    assert [(r.point, r.vitals.heart_rate) for r in data.readings] == [("about_40_minutes", 80)]
