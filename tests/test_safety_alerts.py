"""A new safety flag reaches every clinician on the care team by e-mail, again while
nobody acknowledges it, then the clinic's safety contact; no message says more than
that a journal needs attention."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select

from journal.db import utcnow
from journal.models import CareTeamMember, Message, SafetyFlag
from journal.notify import alerts
from tests.conftest import Clinic, runtime
from tests.helpers import Browser, mails_to
from tests.test_questionnaires import _answers, _assign, _due_link

CONTACT = "safety-contact@clinic.example"


def raise_a_flag(clinic: Clinic) -> Browser:
    clinician = _assign(clinic)
    patient = clinic.world.browser(clinic.patient)
    r = patient.post(_due_link(patient, clinic), _answers([0] * 8 + [2]), follow_redirects=True)
    assert r.status_code == 200
    return clinician


def scan(clinic: Clinic, minutes_later: float = 0) -> int:
    rt = runtime(clinic.world.app)
    with rt.work(write=True) as work:
        return alerts.scan(work, now=utcnow() + timedelta(minutes=minutes_later))


def alerts_to(clinic: Clinic, address: str) -> list[str]:
    return [m for m in mails_to(clinic.world.app, address) if "needs" in m]


def test_every_clinician_on_the_team_is_alerted_once_with_no_clinical_words(
    clinic: Clinic,
) -> None:
    colleague = clinic.world.user(clinic.clinician.role)
    clinic.world.join_team(clinic.course, colleague)
    raise_a_flag(clinic)
    assert scan(clinic) == 2
    assert scan(clinic) == 0  # a second scan (or a second worker) sends nothing again
    for person in (clinic.clinician, colleague):
        (body,) = alerts_to(clinic, person.email)
        assert "needs a clinician's attention" in body
        for word in ("PHQ", "item 9", clinic.patient.name, "suicid", "score"):
            assert word not in body
    # Nobody outside the team, and not the patient.
    for outsider in (clinic.other_clinician, clinic.patient, clinic.admin):
        assert alerts_to(clinic, outsider.email) == []


def test_an_open_flag_is_alerted_again_then_escalated_and_acknowledging_stops_it(
    clinic: Clinic,
) -> None:
    rt = runtime(clinic.world.app)
    rt.settings = rt.settings.with_changes(
        alert_repeat_minutes=60, alert_escalate_minutes=240, safety_contact=CONTACT
    )
    raise_a_flag(clinic)
    scan(clinic)
    assert scan(clinic, minutes_later=30) == 0
    assert scan(clinic, minutes_later=61) == 1  # the reminder to the one clinician
    assert len(alerts_to(clinic, clinic.clinician.email)) == 2
    assert alerts_to(clinic, CONTACT) == []
    assert scan(clinic, minutes_later=241) == 1  # escalated to the safety contact
    (escalated,) = alerts_to(clinic, CONTACT)
    assert "safety contact" in escalated and clinic.patient.name not in escalated
    assert scan(clinic, minutes_later=600) == 0  # each round once

    with rt.database.session(write=True) as s:
        flag = s.scalars(select(SafetyFlag)).one()
        flag.acknowledged_at, flag.acknowledged_by = utcnow(), clinic.clinician.id
        s.commit()
    other = clinic.world.user(clinic.clinician.role)
    clinic.world.join_team(clinic.course, other)
    assert scan(clinic, minutes_later=700) == 0  # acknowledged: nobody more is alerted
    assert alerts_to(clinic, other.email) == []


def test_without_a_safety_contact_nothing_is_escalated(clinic: Clinic) -> None:
    raise_a_flag(clinic)
    scan(clinic)
    assert scan(clinic, minutes_later=10_000) == 1  # the reminder only
    with runtime(clinic.world.app).database.session() as s:
        sent = list(s.scalars(select(Message.to_address).where(Message.kind == alerts.KIND)))
    assert sent == [clinic.clinician.email] * 2


def test_with_nobody_left_on_the_team_the_safety_contact_is_told_at_once(
    clinic: Clinic,
) -> None:
    rt = runtime(clinic.world.app)
    rt.settings = rt.settings.with_changes(safety_contact=CONTACT)
    raise_a_flag(clinic)
    with rt.database.session(write=True) as s:
        s.execute(delete(CareTeamMember).where(CareTeamMember.course_id == clinic.course.id))
        s.commit()
    assert scan(clinic) == 1
    (told,) = alerts_to(clinic, CONTACT)
    assert "safety contact" in told
