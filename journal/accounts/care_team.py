"""Who joins an existing care team, and with whose agreement.

The admin keeps the clinic running but holds no one's trust in the therapy: it
may propose a clinician for a course's care team, and the clinician joins only
when a clinician already on that team agrees, or the patient does (the clinic's
`care_team_consent` setting chooses which; the patient decides when the team is
empty). The patient sees the proposal at once, on their course page and their
access log, and is told by e-mail.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select

from journal.accounts import audit
from journal.accounts.accounts import normalise_email
from journal.accounts.policy import administers, keeps_a_journal, require, treats
from journal.core.actor import Actor
from journal.core.catalogues import reader_words
from journal.core.errors import NotFound, ValidationError
from journal.core.labels import N_, Phrase
from journal.core.mail import Mail
from journal.core.work import Work
from journal.db import atomic, new_id, utcnow
from journal.models import CareTeamMember, CareTeamProposal, Course, Role, User

AUDIT_TYPE = "care_team"  # object_id: the clinician concerned
# Who proposed, when not a clinician of the team: marked words (a `Phrase`, which pages
# translate), where a clinician's name is plain text read as written.
ADMINISTRATION = Phrase(N_("the clinic's administration"), {})


@dataclass(frozen=True)
class Proposal:
    proposal: CareTeamProposal
    course: Course
    patient: User
    clinician: User

    def proposer(self, work: Work) -> str:
        """Who proposed: a clinician of the team by name, or the clinic's administration
        (`ADMINISTRATION`, a `Phrase`)."""
        by = work.db.get(User, self.proposal.proposed_by) if self.proposal.proposed_by else None
        return by.name if by is not None and treats(by) else ADMINISTRATION


def team_ids(work: Work, course_id: uuid.UUID) -> set[uuid.UUID]:
    return set(
        work.db.scalars(
            select(CareTeamMember.clinician_id).where(CareTeamMember.course_id == course_id)
        )
    )


def _record(work: Work, action: str, course: Course, clinician_id: uuid.UUID) -> None:
    audit.record(
        work.db,
        action,
        actor=work.actor,
        object_type=AUDIT_TYPE,
        object_id=clinician_id,
        subject_id=course.patient_id,
    )


@atomic
def propose(work: Work, course_id: uuid.UUID, email: str) -> None:
    """The admin proposes a clinician for the course's care team."""
    require(administers(work.actor.user))
    course = work.db.get(Course, course_id)
    if course is None:
        raise NotFound()
    clinician = work.db.scalar(
        select(User).where(User.email == normalise_email(email), User.role == Role.CLINICIAN)
    )
    if clinician is None or not clinician.active:
        raise ValidationError({"email": N_("No active clinician account has this email.")})
    if clinician.id in team_ids(work, course_id):
        raise ValidationError({"email": N_("This clinician is already on the care team.")})
    if _pending(work, course_id, clinician.id) is not None:
        raise ValidationError({"email": N_("This clinician has already been proposed.")})
    _propose(work, course, clinician, by=None)


def propose_colleagues(work: Work, course: Course, colleagues: list[User]) -> None:
    """A clinician opening a course names colleagues, and the clinic asks the patient:
    each becomes a proposal the patient decides on (see `courses.create_course`)."""
    for clinician in colleagues:
        _propose(work, course, clinician, by=work.actor.user.name)


def _propose(work: Work, course: Course, clinician: User, *, by: str | None) -> None:
    """`by`: the proposing clinician's name; None for the clinic's administration."""
    proposal = CareTeamProposal(
        id=new_id(),
        course_id=course.id,
        clinician_id=clinician.id,
        proposed_by=work.actor.id,
        proposed_at=utcnow(),
    )
    work.db.add(proposal)
    _record(work, "care_team.propose", course, clinician.id)
    patient = work.db.get(User, course.patient_id)
    assert patient is not None
    work.send_mail(_news_for_patient(work, proposal, patient, clinician, by))


def _news_for_patient(
    work: Work, proposal: CareTeamProposal, patient: User, clinician: User, by: str | None
) -> Mail:
    clinic = work.settings.clinic_name
    w = reader_words(work.settings, patient.language)
    news = (
        N_(
            "%(by)s proposed %(clinician)s to join your care team. You decide whether they "
            "join; until then they cannot see your journal."
        )
        if work.settings.care_team_consent == "patient"
        else N_(
            "%(by)s proposed %(clinician)s to join your care team. A clinician already on "
            "your care team decides whether they join; until then they cannot see your "
            "journal."
        )
    )
    return Mail(
        kind="care_team",
        key=f"care_team:{proposal.id}",
        user_id=patient.id,
        to=patient.email,
        subject=w(
            N_("A new clinician is proposed for your care team at %(clinic)s"), clinic=clinic
        ),
        body=(
            w(N_("Hello %(name)s,"), name=patient.name)
            + "\n\n"
            + w(
                news,
                by=w(N_("The clinic's administration")) if by is None else by,
                clinician=clinician.name,
            )
            + "\n\n"
            + w(
                N_("You can see your care team on your journal's page: %(url)s"),
                url=f"{work.settings.base_url}/",
            )
            + "\n"
        ),
    )


def _pending(work: Work, course_id: uuid.UUID, clinician_id: uuid.UUID) -> CareTeamProposal | None:
    return work.db.scalar(
        select(CareTeamProposal).where(
            CareTeamProposal.course_id == course_id,
            CareTeamProposal.clinician_id == clinician_id,
            CareTeamProposal.decided_at.is_(None),
        )
    )


def may_decide(work: Work, course: Course, actor: Actor) -> bool:
    """The patient when the clinic asks the patient (or the team is empty); otherwise a
    clinician on the team."""
    team = team_ids(work, course.id)
    if work.settings.care_team_consent == "patient" or not team:
        return keeps_a_journal(actor.user) and actor.id == course.patient_id
    return treats(actor.user) and actor.id in team


def pending_for_course(work: Work, course_id: uuid.UUID) -> list[Proposal]:
    """Proposals waiting on a course (shown to its patient and its care team)."""
    rows = work.db.execute(
        select(CareTeamProposal, Course, User)
        .join(Course, Course.id == CareTeamProposal.course_id)
        .join(User, User.id == CareTeamProposal.clinician_id)
        .where(CareTeamProposal.course_id == course_id, CareTeamProposal.decided_at.is_(None))
        .order_by(CareTeamProposal.proposed_at)
    ).all()
    found = []
    for proposal, course, clinician in rows:
        patient = work.db.get(User, course.patient_id)
        assert patient is not None
        found.append(Proposal(proposal, course, patient, clinician))
    return found


@atomic
def decide(work: Work, proposal_id: uuid.UUID, agree: bool) -> Proposal:
    proposal = work.db.get(CareTeamProposal, proposal_id)
    if proposal is None or proposal.decided_at is not None:
        raise NotFound()
    course = work.db.get(Course, proposal.course_id)
    assert course is not None
    if not may_decide(work, course, work.actor):
        raise NotFound()
    proposal.decided_at = utcnow()
    proposal.decided_by = work.actor.id
    proposal.agreed = agree
    if agree and proposal.clinician_id not in team_ids(work, course.id):
        work.db.add(CareTeamMember(course_id=course.id, clinician_id=proposal.clinician_id))
    _record(work, "care_team.add" if agree else "care_team.decline", course, proposal.clinician_id)
    clinician = work.db.get(User, proposal.clinician_id)
    patient = work.db.get(User, course.patient_id)
    assert clinician is not None and patient is not None
    return Proposal(proposal, course, patient, clinician)
