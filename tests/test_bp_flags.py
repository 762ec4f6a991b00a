"""Blood pressure past the clinic's thresholds, from the outside: a session record saved
through its page with a reading at or above the pre-dose pair (140/90), the "any
reading" pair (180/110) or a post-dose rise of 20% is marked on the record and the
timeline and raises one safety flag (what raised it sealed) that the caseload counts
and a clinician acknowledges; the thresholds are the clinic's settings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from journal.config import ConfigError, load_settings
from journal.core.labels import read_kept
from journal.core.vault import Vault
from journal.models import SafetyFlag, SessionRecord
from tests.conftest import Clinic, runtime
from tests.helpers import Browser
from tests.test_session_record import record_form, record_url

OPEN_ONE = '1<span class="visually-hidden"> open safety flag</span>'
OPEN_TWO = '2<span class="visually-hidden"> open safety flags</span>'


@pytest.fixture
def clinician(clinic: Clinic) -> Browser:
    return clinic.world.browser(clinic.clinician)


def save(b: Browser, clinic: Clinic, pre: str, post: str, version: str = "") -> str:
    """Save the record with these readings ("" for none), then read its page."""
    pre_s, pre_d = pre.split("/") if pre else ("", "")
    post_s, post_d = post.split("/") if post else ("", "")
    form = record_form(
        clinic,
        pre_systolic=pre_s,
        pre_diastolic=pre_d,
        post_systolic=post_s,
        post_diastolic=post_d,
        version=version,
    )
    r = b.post(record_url(clinic), form)
    assert r.status_code == 302, r.get_data(as_text=True)
    return b.text(record_url(clinic))


def flags(clinic: Clinic) -> list[tuple[SafetyFlag, str, dict[str, object]]]:
    """Every flag with its detail (kept as marked words, read back as English) and its
    source opened, oldest first."""
    rt = runtime(clinic.world.app)
    with rt.database.session() as s:
        vault = Vault(s, rt.ring)
        found = [
            (
                f,
                read_kept(vault.open_column(f, "detail", clinic.patient.id)),
                json.loads(vault.open_column(f, "source", clinic.patient.id)),
            )
            for f in s.scalars(select(SafetyFlag))
        ]
    return sorted(found, key=lambda t: str(t[2]["raised_at"]))


def details(clinic: Clinic) -> list[str]:
    return [d for _, d, _ in flags(clinic)]


PRE = "before the dose (at or above 140/90)"
ANY = "(at or above 180/110)"


@pytest.mark.parametrize(
    ("pre", "post", "expected"),
    [
        # pre-dose at or above 140/90: either number
        ("139/89", "", []),
        ("140/89", "", [f"Blood pressure 140/89 {PRE}"]),
        ("139/90", "", [f"Blood pressure 139/90 {PRE}"]),
        # any reading at or above 180/110 (no pre-dose reading: no rise to measure)
        ("", "179/109", []),
        ("", "180/110", [f"Blood pressure 180/110 after the dose {ANY}"]),
        ("", "180/100", [f"Blood pressure 180/100 after the dose {ANY}"]),
        ("", "170/110", [f"Blood pressure 170/110 after the dose {ANY}"]),
        ("180/100", "", [f"Blood pressure 180/100 before the dose {ANY}"]),
        (
            "",
            "185/115",
            [f"Blood pressure 185/115 after the dose {ANY}"],
        ),
        # a rise of 20% over the pre-dose reading, systolic or diastolic
        ("100/70", "119/70", []),
        ("100/70", "100/83", []),
        (
            "100/70",
            "120/70",
            [
                "Blood pressure 120/70 after the dose "
                "(a rise of 20% or more over 100/70 before the dose)"
            ],
        ),
        (
            "100/70",
            "100/84",
            [
                "Blood pressure 100/84 after the dose "
                "(a rise of 20% or more over 100/70 before the dose)"
            ],
        ),
        # both readings flagged; the more serious rule wins for each reading
        (
            "150/95",
            "185/115",
            [f"Blood pressure 150/95 {PRE}", f"Blood pressure 185/115 after the dose {ANY}"],
        ),
    ],
)
def test_each_reading_is_checked_at_the_edges(
    clinic: Clinic, clinician: Browser, pre: str, post: str, expected: list[str]
) -> None:
    page = save(clinician, clinic, pre, post)
    timeline = clinician.text(f"/courses/{clinic.course.id}")
    caseload = clinician.text("/")
    flag_list = clinician.text(f"/courses/{clinic.course.id}/questionnaires")
    assert page.count('class="flag bp-flag"') == len(expected)
    assert timeline.count("badge flag-badge bp-flag") == len(expected)
    for label in expected:
        assert f"<strong>Flag:</strong> {label}." in page
        assert label in timeline
        assert label in flag_list
    assert sorted(details(clinic)) == sorted(expected)
    if not expected:
        assert "open safety flag" not in caseload
        assert "safety flag to look at" not in timeline
    else:
        assert (OPEN_ONE if len(expected) == 1 else OPEN_TWO) in caseload
        assert "to look at" in timeline


def test_a_flag_names_its_source_sealed(clinic: Clinic, clinician: Browser) -> None:
    save(clinician, clinic, "", "185/115")
    ((flag, detail, source),) = flags(clinic)
    assert detail == "Blood pressure 185/115 after the dose (at or above 180/110)"
    assert source["origin"] == "vitals"
    assert source["reading"] == "post" and source["rule_id"] == "any_reading"
    with runtime(clinic.world.app).database.session() as s:
        record_id = s.scalar(select(SessionRecord.id))
    assert source["record_id"] == str(record_id)
    assert flag.course_id == clinic.course.id and flag.acknowledged_at is None
    assert flag.source is not None
    for plain in (b"vitals", b"185", b"any_reading", b"Blood pressure"):
        assert plain not in bytes(flag.source) and plain not in bytes(flag.detail)


def test_saving_again_raises_no_second_flag_and_a_worse_reading_does(
    clinic: Clinic, clinician: Browser
) -> None:
    save(clinician, clinic, "150/95", "150/95")
    assert details(clinic) == [f"Blood pressure 150/95 {PRE}"]
    # The same breach saved again (another value past the same line, another field
    # changed): still one flag.
    save(clinician, clinic, "152/95", "150/95", version="1")
    save(clinician, clinic, "150/95", "150/95", version="2")
    assert len(flags(clinic)) == 1
    # A worse reading of the same kind raises its own flag.
    save(clinician, clinic, "185/95", "150/95", version="3")
    assert details(clinic) == [
        f"Blood pressure 150/95 {PRE}",
        f"Blood pressure 185/95 before the dose {ANY}",
    ]
    # Back down to the pre-dose line: that reading was flagged already.
    save(clinician, clinic, "150/95", "150/95", version="4")
    assert len(flags(clinic)) == 2
    assert OPEN_TWO in clinician.text("/")


def test_a_corrected_reading_leaves_the_flag_for_a_clinician_to_acknowledge(
    clinic: Clinic, clinician: Browser
) -> None:
    save(clinician, clinic, "", "185/115")
    page = save(clinician, clinic, "", "130/80", version="1")
    timeline = clinician.text(f"/courses/{clinic.course.id}")
    # The corrected reading is no longer marked...
    assert 'class="flag bp-flag"' not in page
    assert "bp-flag" not in timeline
    # ...but the flag it raised stays open until a clinician acknowledges it.
    ((flag, _, _),) = flags(clinic)
    assert OPEN_ONE in clinician.text("/")
    assert "safety flag to look at" in timeline
    outsider = clinic.world.browser(clinic.other_clinician)
    assert outsider.post(f"/flags/{flag.id}/acknowledge").status_code == 404
    ack = clinician.post(f"/flags/{flag.id}/acknowledge", {"action": "called_patient"})
    assert ack.status_code == 302
    assert "open safety flag" not in clinician.text("/")
    listed = clinician.text(f"/courses/{clinic.course.id}/questionnaires")
    assert "Blood pressure 185/115 after the dose (at or above 180/110)" in listed
    assert f"acknowledged by {clinic.clinician.name}" in listed
    # Saving the same breach again after the acknowledgement raises nothing new.
    save(clinician, clinic, "", "185/115", version="2")
    assert len(flags(clinic)) == 1
    assert "open safety flag" not in clinician.text("/")


def test_the_patient_sees_no_flag(clinic: Clinic, clinician: Browser) -> None:
    save(clinician, clinic, "150/95", "185/115")
    patient = clinic.world.browser(clinic.patient)
    timeline = patient.text(f"/courses/{clinic.course.id}")
    assert "Blood pressure" not in timeline and "bp-flag" not in timeline
    assert "Safety flags" not in patient.text(f"/courses/{clinic.course.id}/questionnaires")


def test_the_clinics_thresholds_replace_the_defaults(clinic: Clinic, clinician: Browser) -> None:
    rt = runtime(clinic.world.app)
    rt.settings = rt.settings.with_changes(
        bp_pre_dose_systolic=130,
        bp_pre_dose_diastolic=85,
        bp_any_systolic=160,
        bp_any_diastolic=100,
        bp_rise_percent=10,
    )
    page = save(clinician, clinic, "130/80", "")
    assert "Blood pressure 130/80 before the dose (at or above 130/85)" in page
    page = save(clinician, clinic, "100/70", "110/70", version="1")
    rise = "Blood pressure 110/70 after the dose (a rise of 10% or more over 100/70 before"
    rise += " the dose)"
    assert rise in page
    assert rise in clinician.text(f"/courses/{clinic.course.id}")
    page = save(clinician, clinic, "", "160/90", version="2")
    assert "Blood pressure 160/90 after the dose (at or above 160/100)" in page
    assert len(flags(clinic)) == 3
    # A rise the defaults would not flag is one here, and under 10% is none.
    page = save(clinician, clinic, "100/70", "109/70", version="3")
    assert "bp-flag" not in page
    assert len(flags(clinic)) == 3


def test_the_thresholds_are_read_from_the_config_file_and_the_environment(
    tmp_path: Path,
) -> None:
    defaults = load_settings(tmp_path, environ={})
    assert (
        defaults.bp_pre_dose_systolic,
        defaults.bp_pre_dose_diastolic,
        defaults.bp_any_systolic,
        defaults.bp_any_diastolic,
        defaults.bp_rise_percent,
    ) == (140, 90, 180, 110, 20)
    (tmp_path / "config.toml").write_text("bp_any_systolic = 170\nbp_rise_percent = 25\n")
    own = load_settings(tmp_path, environ={"JOURNAL_BP_PRE_DOSE_DIASTOLIC": "85"})
    assert (own.bp_any_systolic, own.bp_rise_percent, own.bp_pre_dose_diastolic) == (170, 25, 85)
    with pytest.raises(ConfigError, match="bp_rise_percent must be from 1 to 100"):
        load_settings(tmp_path, environ={"JOURNAL_BP_RISE_PERCENT": "0"})
    with pytest.raises(ConfigError, match="bp_any_diastolic must be a whole number"):
        load_settings(tmp_path, environ={"JOURNAL_BP_ANY_DIASTOLIC": "high"})


def test_every_export_marks_each_reading_at_the_clinics_thresholds(
    clinic: Clinic, clinician: Browser
) -> None:
    from tests.export_helpers import export, flat, pdf_text, validate

    rt = runtime(clinic.world.app)
    rt.settings = rt.settings.with_changes(bp_pre_dose_systolic=130, bp_any_systolic=170)
    save(clinician, clinic, "132/80", "175/90")
    data = json.loads(export(clinician, clinic.course.id, "json").data)
    validate(data)
    (record,) = [s["clinical_record"] for s in data["sessions"] if "clinical_record" in s]
    assert record["bp_flags"] == [
        {"reading": "pre", "threshold": "at or above 130/90"},
        {"reading": "post", "threshold": "at or above 170/110"},
    ]
    assert record["pre_dose_bp_at_or_above_140_90"] is False  # the fixed key keeps its rule
    md = export(clinician, clinic.course.id, "md").get_data(as_text=True)
    pre, post = "132/80, HR 72 (at or above 130/90)", "175/90, HR 80 (at or above 170/110)"
    assert pre in md and post in md  # in the sessions table
    html = export(clinician, clinic.course.id, "html").get_data(as_text=True)
    assert pre in html and post in html
    pdf = flat(pdf_text(export(clinician, clinic.course.id, "pdf").data))
    assert "132/80,HR72(atorabove130/90)" in pdf and "175/90,HR80(atorabove170/110)" in pdf
