"""Amendment history (issue 20): a session record and the screening keep every earlier
version, sealed, with who saved it and when; the history page and the clinician's
export say what each version changed, in words; the patient's export holds none of
it; erasure removes the kept versions. The diff itself is checked on hand-made
records, the record of one reading before and one after the dose against the series."""

from __future__ import annotations

import json
from datetime import date

from journal.clinical import safety_plan
from journal.clinical.amendments import Facts, Row, changes, numbered_rows
from journal.clinical.checklist import load_checklist
from journal.clinical.screenings import ScreeningData, screening_facts
from journal.clinical.session_records import RecordData, record_facts
from journal.models import ClinicalVersion, Role, VersionKind
from tests.conftest import Clinic, runtime
from tests.export_helpers import export
from tests.helpers import Browser
from tests.scene import count_rows, marker
from tests.test_review_at_rest import database_hits
from tests.test_screening import form as screening_form
from tests.test_session_record import record_form, record_url

# -- the diff, on hand-made versions ------------------------------------------------

OLD_SHAPE = {  # one reading before the dose and one after: a record before the series
    "route": "intramuscular",
    "dose": "60",
    "dose_unit": "mg",
    "weight_kg": "70",
    "time_given": "10:15",
    "pre": {"systolic": 150, "diastolic": 95, "heart_rate": 72},
    "post": {"systolic": 150, "diastolic": 95, "heart_rate": 80},
    "side_effects": ["nausea"],
    "dissociation": 5,
}


def series(**changes: object) -> dict[str, object]:
    reading = {"time": None, "heart_rate": None, "spo2": None, "breathing_rate": None}
    data: dict[str, object] = {
        **{k: v for k, v in OLD_SHAPE.items() if k not in ("pre", "post")},
        "readings": [
            {**reading, "point": "pre_dose", "systolic": 150, "diastolic": 95, "heart_rate": 72},
            {
                **reading,
                "point": "about_40_minutes",
                "systolic": 145,
                "diastolic": 92,
                "heart_rate": 80,
            },
            {**reading, "point": "discharge", "time": "12:05", "systolic": 130, "diastolic": 80},
        ],
    }
    data.update(changes)
    return data


def record(raw: dict[str, object]) -> Facts:
    return record_facts(RecordData.from_json(json.dumps(raw)), {})


def test_the_diff_of_two_records_in_words() -> None:
    # Unchanged, in either shape: nothing to say.
    assert changes(record(OLD_SHAPE), record(OLD_SHAPE)) == ()
    assert changes(record(series()), record(series())) == ()
    # The old shape against the series: the reading after the dose changed, one added.
    found = changes(record(OLD_SHAPE), record(series(dose="70")))
    assert found == (
        "Dose: 60 mg → 70 mg",
        "Dose per kg: 0.86 mg/kg → 1.00 mg/kg",
        "Vitals at about 40 minutes: 150/95 → 145/92",
        "Vitals at discharge: added (130/80, at 12:05)",
    )
    # A field filled and one emptied; a checklist answer; the side effects.
    before = series(adjuncts="", checks=[{"item": "pregnancy_possible", "answer": "no"}])
    after = series(
        adjuncts="Ondansetron 4 mg (fictional)",
        checks=[{"item": "pregnancy_possible", "answer": "yes", "note": "test booked"}],
        side_effects=[],
        dissociation=None,
    )
    assert changes(record(before), record(after)) == (
        "Adjunct medications: none → Ondansetron 4 mg (fictional)",
        "Pregnancy possible: no → yes",
        "Pregnancy possible, note: none → test booked",
        "Side effects: Nausea → none",
        "Dissociation: 5 of 10 → none",
    )
    # A reading removed, a repeated point numbered, parts of one reading changed.
    extra = {
        "point": "other",
        "time": "11:00",
        "systolic": 140,
        "diastolic": 90,
        "heart_rate": None,
        "spo2": 97,
        "breathing_rate": None,
        "note": "",
    }
    three = series()["readings"]
    assert isinstance(three, list)
    more = series(readings=[*three, extra, {**extra, "time": "11:30", "spo2": 98}])
    fewer = series(
        readings=[*three[:2], {**extra, "time": "11:05", "spo2": 99, "note": "after a walk"}]
    )
    assert changes(record(more), record(fewer)) == (
        "Vitals at another time: at 11:00 → 11:05; SpO2 97% → 99%; note none → after a walk",
        "Vitals at discharge: removed (130/80, at 12:05)",
        "Vitals at another time (2): removed (140/90, at 11:30, SpO2 98%)",
    )


def test_the_diff_at_its_edges() -> None:
    empty = Facts(())
    assert changes(empty, empty) == ()
    # A field only one version has (a checklist item added to or dropped from the list).
    assert changes(Facts((("A", "yes"),)), empty) == ("A: yes → none",)
    assert changes(empty, Facts((("A", "yes"),))) == ("A: none → yes",)
    assert changes(Facts((("A", ""),)), empty) == ()
    # A row with nothing in it, added and removed.
    blank = Facts((), (Row("R", (("", ""),)),))
    assert changes(empty, blank) == ("R: added (none)",)
    assert changes(blank, empty) == ("R: removed (none)",)
    assert [r.label for r in numbered_rows([("X", ()), ("Y", ()), ("X", ())])] == [
        "X",
        "Y",
        "X (2)",
    ]
    # The screening: an answer and a note, the review date.
    checklist = load_checklist()
    answers = {i.id: "no" for i in checklist.items}
    day = "2026-11-20"
    before = ScreeningData(answers, {}, date.fromisoformat(day), checklist.version)
    after = ScreeningData(
        {**answers, "breastfeeding": "yes"},
        {"breastfeeding": "since October"},
        date.fromisoformat("2026-11-21"),
        checklist.version,
    )
    assert changes(screening_facts(before, checklist), screening_facts(after, checklist)) == (
        "Breastfeeding: no → yes",
        "Breastfeeding, note: none → since October",
        "Reviewed on: Fri 20 Nov 2026 → Sat 21 Nov 2026",
    )


# -- kept, shown, exported, sealed and erased -----------------------------------------


def test_each_amendment_is_kept_shown_exported_sealed_and_erased(clinic: Clinic) -> None:
    world, app = clinic.world, clinic.world.app
    clinician = world.browser(clinic.clinician)
    colleague = world.user(Role.CLINICIAN)
    world.join_team(clinic.course, colleague)
    other = world.browser(colleague)
    first = marker("setting")
    history_url = record_url(clinic) + "/history"

    def save(b: Browser, **changes: str) -> None:
        r = b.post(record_url(clinic), record_form(clinic, **changes))
        assert r.status_code == 302, r.get_data(as_text=True)

    save(clinician, setting=f"Music {first}")
    assert history_url in clinician.text(record_url(clinic))
    page = clinician.text(history_url)
    assert "Version 1 (now)" in page and "First recorded." in page
    changed = {"dose": "40", "setting": "Music, eyeshades"}
    save(other, **changed, version="1")
    save(clinician, **changed, post_systolic="150", post_diastolic="95", version="2")
    assert count_rows(app, ClinicalVersion, ClinicalVersion.kind == VersionKind.SESSION_RECORD) == 2

    page = clinician.text(history_url)
    v3, rest = page.split("Version 2", 1)
    v2, v1 = rest.split("Version 1", 1)
    assert "Version 3 (now)" in v3 and f"Saved by {clinic.clinician.name}" in v3
    assert "Vitals at about 40 minutes: 142/88 → 150/95" in v3 and "Dose:" not in v3
    assert f"Saved by {colleague.name}" in v2
    assert "Dose: 35 mg → 40 mg" in v2 and "Dose per kg: 0.50 mg/kg → 0.57 mg/kg" in v2
    assert f"Setting: Music {first} → Music, eyeshades" in v2
    assert "First recorded." in v1 and f"Music {first}" in v1  # the first version in full

    # The screening, corrected once: its history page.
    screening_url = f"/courses/{clinic.course.id}/screening"
    for data in (
        screening_form(),
        screening_form({"breastfeeding": "yes"}, version="1"),
    ):
        assert clinician.post(screening_url, data).status_code == 302
    assert screening_url + "/history" in clinician.text(screening_url)
    page = clinician.text(screening_url + "/history")
    assert "Breastfeeding: no → yes" in page and "Version 2 (now)" in page

    # Nobody outside the care team reaches either history; the patient neither.
    for who in (clinic.other_clinician, clinic.admin, clinic.patient):
        b = world.browser(who)
        for url in (history_url, screening_url + "/history"):
            r = b.get(url)
            assert r.status_code in (403, 404) and first not in r.get_data(as_text=True), who

    # In the clinician's export; not in the patient's.
    data = json.loads(export(clinician, clinic.course.id, "json").get_data(as_text=True))
    (session,) = [s for s in data["sessions"] if s["id"] == str(clinic.past.id)]
    history = session["clinical_record"]["history"]
    assert [v["version"] for v in history] == [3, 2, 1]
    assert history[1]["saved_by"] == colleague.name
    assert "Dose: 35 mg → 40 mg" in history[1]["changes"] and history[2]["changes"] == []
    assert "Breastfeeding: no → yes" in data["screening"]["history"][0]["changes"]
    markdown = export(clinician, clinic.course.id, "md").get_data(as_text=True)
    assert "History of the record" in markdown and "Dose: 35 mg → 40 mg" in markdown
    assert f"Music {first}" in markdown and "History of the screening" in markdown
    patient = world.browser(clinic.patient)
    own = export(patient, clinic.course.id, "json").get_data(as_text=True)
    assert first not in own and '"history"' not in own and "Dose: 35 mg" not in own
    assert json.loads(own)["sessions"]  # the patient's export has the sessions

    # The safety plan and the consent record, which kept versions already, say what
    # each version changed too.
    safety_plan.save_plan(
        world.as_(clinic.patient), clinic.course.id, {"coping": "A walk"}, expected_version=None
    )
    safety_plan.save_plan(
        world.as_(clinic.clinician),
        clinic.course.id,
        {"coping": "A walk by the river"},
        expected_version=1,
    )
    world.db.commit()
    page = clinician.text(f"/courses/{clinic.course.id}/safety-plan/history")
    assert "2. Things I can do on my own: A walk → A walk by the river" in page
    consent_url = f"/courses/{clinic.course.id}/consent"
    for n, document in enumerate(("Fictional consent v1", "Fictional consent v2")):
        data = {
            "document_version": document,
            "consented_on": "2026-11-20",
            "witness_id": str(clinic.clinician.id),
            "checked": [],
            "version": str(n) if n else "",
        }
        assert clinician.post(consent_url + "/edit", data).status_code == 302
    page = world.browser(clinic.patient).text(consent_url)
    assert "Consent document: Fictional consent v1 → Fictional consent v2" in page

    # Sealed at rest: the first version's words are nowhere in clear, in the database
    # or in any file of the instance folder (the database file and its log).
    found, tables = database_hits(app, {"first": first})
    assert "clinical_versions" in tables and found == {}
    files = runtime(app).settings.instance_path.rglob("*")
    for path in (p for p in files if p.is_file()):
        assert first.encode() not in path.read_bytes(), path.name

    # Erased with the patient.
    r = world.browser(clinic.admin).post(
        f"/admin/users/{clinic.patient.id}/erase",
        {"reason": "patient's request", "confirm_email": clinic.patient.email},
    )
    assert r.status_code == 302
    assert count_rows(app, ClinicalVersion) == 0
