"""A clinician joins an existing care team only with the agreement of someone who already
holds the patient's trust: a clinician on the team, or the patient, as the clinic chooses.
The patient sees every proposal at once."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, select

from journal.models import CareTeamMember, CareTeamProposal, Role, User
from tests.conftest import Clinic, runtime
from tests.helpers import Browser, mails_to


def propose(clinic: Clinic, clinician: User) -> uuid.UUID:
    admin = clinic.world.browser(clinic.admin)
    r = admin.post(f"/admin/courses/{clinic.course.id}", {"email": clinician.email})
    assert r.status_code == 302
    page = admin.text(f"/admin/courses/{clinic.course.id}")
    assert "Waiting for agreement" in page and clinician.name in page
    with runtime(clinic.world.app).database.session() as s:
        return s.scalars(
            select(CareTeamProposal.id).where(CareTeamProposal.clinician_id == clinician.id)
        ).one()


def team(clinic: Clinic) -> set[uuid.UUID]:
    with runtime(clinic.world.app).database.session() as s:
        return set(
            s.scalars(
                select(CareTeamMember.clinician_id).where(
                    CareTeamMember.course_id == clinic.course.id
                )
            )
        )


def decide(b: Browser, proposal: uuid.UUID, choice: str) -> int:
    return b.post(f"/care-team/proposals/{proposal}/{choice}").status_code


def test_a_clinician_on_the_team_agrees_and_the_patient_sees_it_all(clinic: Clinic) -> None:
    newcomer = clinic.world.user(Role.CLINICIAN, name="Dr Newcomer (test)")
    proposal = propose(clinic, newcomer)
    patient = clinic.world.browser(clinic.patient)
    page = patient.text(f"/courses/{clinic.course.id}")
    assert "Proposed for the care team" in page and "Dr Newcomer (test)" in page
    assert f"/care-team/proposals/{proposal}/agree" not in page  # not the patient's to decide
    assert any("Dr Newcomer (test)" in m for m in mails_to(clinic.world.app, clinic.patient.email))
    log = patient.text("/account/access-log")
    assert "Proposed a new clinician for" in log and "your care team (Dr Newcomer (test))" in log

    # Nobody else decides: not the patient here, not the newcomer, not an outsider.
    for who in (clinic.patient, newcomer, clinic.other_clinician):
        assert decide(clinic.world.browser(who), proposal, "agree") == 404
    assert newcomer.id not in team(clinic)
    assert clinic.world.browser(newcomer).get(f"/courses/{clinic.course.id}").status_code == 404

    clinician = clinic.world.browser(clinic.clinician)
    assert f"/care-team/proposals/{proposal}/agree" in clinician.text(
        f"/courses/{clinic.course.id}"
    )
    assert decide(clinician, proposal, "agree") == 302
    assert newcomer.id in team(clinic)
    assert clinic.world.browser(newcomer).get(f"/courses/{clinic.course.id}").status_code == 200
    assert "Added a clinician to" in patient.text("/account/access-log")
    # Decided once: the proposal is gone from the page and cannot be decided again.
    assert decide(clinician, proposal, "decline") == 404
    assert "Proposed for the care team" not in patient.text(f"/courses/{clinic.course.id}")


def test_when_the_clinic_asks_the_patient_only_the_patient_decides(clinic: Clinic) -> None:
    rt = runtime(clinic.world.app)
    rt.settings = rt.settings.with_changes(care_team_consent="patient")
    newcomer = clinic.world.user(Role.CLINICIAN)
    proposal = propose(clinic, newcomer)
    assert decide(clinic.world.browser(clinic.clinician), proposal, "agree") == 404
    patient = clinic.world.browser(clinic.patient)
    assert "They join only if you agree" in patient.text(f"/courses/{clinic.course.id}")
    assert decide(patient, proposal, "decline") == 302
    assert newcomer.id not in team(clinic)
    assert "Declined a proposed clinician" not in patient.text("/account/access-log")  # own act
    with runtime(clinic.world.app).database.session() as s:
        row = s.get(CareTeamProposal, proposal)
        assert row is not None and row.agreed is False and row.decided_by == clinic.patient.id


def test_with_nobody_left_on_the_team_the_patient_decides(clinic: Clinic) -> None:
    with runtime(clinic.world.app).database.session(write=True) as s:
        s.execute(delete(CareTeamMember).where(CareTeamMember.course_id == clinic.course.id))
        s.commit()
    newcomer = clinic.world.user(Role.CLINICIAN)
    proposal = propose(clinic, newcomer)
    assert decide(clinic.world.browser(clinic.patient), proposal, "agree") == 302
    assert team(clinic) == {newcomer.id}


def test_proposing_someone_already_on_the_team_or_twice_is_refused(clinic: Clinic) -> None:
    admin = clinic.world.browser(clinic.admin)
    url = f"/admin/courses/{clinic.course.id}"
    r = admin.post(url, {"email": clinic.clinician.email})
    assert r.status_code == 200 and "already on the care team" in r.get_data(as_text=True)
    newcomer = clinic.world.user(Role.CLINICIAN)
    propose(clinic, newcomer)
    r = admin.post(url, {"email": newcomer.email})
    assert r.status_code == 200 and "already been proposed" in r.get_data(as_text=True)
    r = admin.post(url, {"email": clinic.patient.email})
    assert r.status_code == 200 and "No active clinician" in r.get_data(as_text=True)


def test_a_removed_clinician_cannot_come_back_through_a_new_course(clinic: Clinic) -> None:
    admin = clinic.world.browser(clinic.admin)
    url = f"/admin/courses/{clinic.course.id}/team/{clinic.clinician.id}/remove"
    assert admin.post(url).status_code == 302
    form = {"patient_email": clinic.patient.email, "started_on": "2031-02-03"}
    r = clinic.world.browser(clinic.clinician).post("/courses/new", form)
    assert r.status_code == 200 and "No patient referred to you" in r.get_data(as_text=True)


def test_when_the_clinic_asks_the_patient_a_clinicians_colleagues_are_proposals(
    clinic: Clinic,
) -> None:
    rt = runtime(clinic.world.app)
    rt.settings = rt.settings.with_changes(care_team_consent="patient")
    colleague = clinic.world.user(Role.CLINICIAN, name="Dr Colleague (test)")
    form = {
        "patient_email": clinic.patient.email,
        "started_on": "2031-02-03",
        "colleagues": colleague.email,
    }
    r = clinic.world.browser(clinic.clinician).post("/courses/new", form)
    assert r.status_code == 302, r.get_data(as_text=True)
    course_path = r.location
    assert clinic.world.browser(colleague).get(course_path).status_code == 404
    assert any("Dr Colleague (test)" in m for m in mails_to(clinic.world.app, clinic.patient.email))
    page = clinic.world.browser(clinic.patient).text(course_path)
    assert f"Dr Colleague (test), proposed by {clinic.clinician.name}" in page
