"""Safety alerts: a new safety flag reaches every clinician on the care team by e-mail.

The worker's periodic scan (each minute) looks at the open flags (a PHQ-9 item 9
answer, a blood pressure past its threshold, "I need support"): each care-team
clinician is e-mailed at once, again after `alert_repeat_minutes` while nobody has
acknowledged the flag, and the clinic's `safety_contact` after
`alert_escalate_minutes`. A message says only that a journal needs attention and
links to the journal: no name, no kind of flag, no score. Each message's key
(flag, person, round) makes it one of a kind, so a second scan or a second worker
sends nothing twice.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from sqlalchemy import select

from journal.accounts.courses import care_team
from journal.core.labels import N_
from journal.core.mail import Mail
from journal.core.work import Work
from journal.db import utcnow
from journal.models import SafetyFlag
from journal.models.messages import Message
from journal.notify import words_for

KIND = "safety_alert"
log = logging.getLogger(__name__)


def scan(work: Work, now: datetime | None = None) -> int:
    """Write the alerts that are due; returns how many. The caller's unit commits."""
    now = now or utcnow()
    settings = work.settings
    written = 0
    for flag_id, course_id in work.db.execute(
        select(SafetyFlag.id, SafetyFlag.course_id).where(SafetyFlag.acknowledged_at.is_(None))
    ):
        first = _first_alert_at(work, flag_id)
        due_rounds = [1]
        if first is not None and now - first >= timedelta(minutes=settings.alert_repeat_minutes):
            due_rounds.append(2)
        team = [c for c in care_team(work.db, course_id) if c.active]
        for clinician in team:
            for round_ in due_rounds:
                mail = _alert(work, flag_id, clinician.id, clinician.email, round_)
                written += _write(work, mail)
        escalate = timedelta(minutes=settings.alert_escalate_minutes)
        # With nobody on the care team to tell, the safety contact is told at once.
        overdue = first is not None and now - first >= escalate
        if settings.safety_contact and (overdue or not team):
            written += _write(work, _alert(work, flag_id, None, settings.safety_contact, 0))
        elif not team:
            log.warning("an open safety flag has no active clinician and no safety contact")
    return written


def _first_alert_at(work: Work, flag_id: uuid.UUID) -> datetime | None:
    first: datetime | None = work.db.scalar(
        select(Message.created_at)
        .where(Message.key.like(f"{KIND}:{flag_id}:%"))
        .order_by(Message.created_at)
        .limit(1)
    )
    return first


def _write(work: Work, mail: Mail) -> int:
    return int(work.send_mail(mail))


def _alert(work: Work, flag_id: uuid.UUID, user_id: uuid.UUID | None, to: str, round_: int) -> Mail:
    """In the reader's language: a clinician's own; the safety contact's if they have
    an account, else the clinic's."""
    settings = work.settings
    w = words_for(work, user_id, to)
    who = "escalation" if user_id is None else str(user_id)
    subject = (
        w(N_("A patient's journal needs your attention (reminder: not yet acknowledged)"))
        if round_ == 2
        else w(N_("A patient's journal needs your attention"))
    )
    escalated = (
        w(
            N_(
                "Nobody on the care team has acknowledged it yet; "
                "you are the clinic's safety contact."
            )
        )
        + "\n\n"
        if user_id is None
        else ""
    )
    return Mail(
        kind=KIND,
        key=f"{KIND}:{flag_id}:{who}:{round_}",
        user_id=user_id,
        to=to,
        subject=subject,
        body=(
            w(
                N_("A patient's journal at %(clinic)s needs a clinician's attention."),
                clinic=settings.clinic_name,
            )
            + "\n\n"
            + escalated
            + w(N_("Sign in to see it: %(url)s"), url=f"{settings.base_url}/")
            + "\n\n"
            + w(N_("This message says nothing more on purpose; what happened is in the journal."))
            + "\n"
        ),
    )
