"""Closed sets of values stored in clear (they are structure, not content)."""

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    CLINICIAN = "clinician"
    PATIENT = "patient"


class CourseStatus(StrEnum):
    ACTIVE = "active"
    CLOSED = "closed"


class SessionStatus(StrEnum):
    SCHEDULED = "scheduled"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class Phase(StrEnum):
    PREPARATION = "preparation"
    IN_SESSION = "in_session"
    INTEGRATION = "integration"


class Visibility(StrEnum):
    PRIVATE = "private"
    CARE_TEAM = "care_team"
    CLINICIAN_ONLY = "clinician_only"


class KeyScope(StrEnum):
    """Which data of an owner a data key protects."""

    JOURNAL = "journal"
    NOTES = "notes"  # psychotherapy notes: a key of their own, never the journal's
    # What an admin records about a patient that must outlive the patient's keys (an
    # erasure's reason): sealed with the admin's own key of this scope.
    ADMIN = "admin"


class ThemeKind(StrEnum):
    PEOPLE = "people"
    FEELINGS = "feelings"
    IMAGES = "images"
    PLACES = "places"


class Cadence(StrEnum):
    """How often an assigned questionnaire comes due."""

    ONCE = "once"
    BEFORE_EACH_SESSION = "before_each_session"
    AFTER_EACH_SESSION = "after_each_session"
    END_OF_COURSE = "end_of_course"
    FOLLOW_UP = "follow_up"  # at the months after the course's end the clinician chose


class QuestionnaireSlot(StrEnum):
    """Which due moment an answered questionnaire fills (journal/clinical/questionnaires.py)."""

    ONCE = "once"
    BEFORE_SESSION = "before_session"
    AFTER_SESSION = "after_session"
    END_OF_COURSE = "end_of_course"
    FOLLOW_UP = "follow_up"


class OutcomeStatus(StrEnum):
    """How an intention went, as its writer saw it after a session."""

    ADDRESSED = "addressed"
    PARTLY = "partly"
    NOT_YET = "not_yet"
