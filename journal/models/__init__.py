"""Typed SQLAlchemy models. No Flask, no I/O, no business flows."""

from journal.models.accounts import LoginSession, User
from journal.models.audit import AuditEvent, AuditHead
from journal.models.courses import CareTeamMember, Course, DosingSession
from journal.models.drafts import Draft
from journal.models.enums import (
    CourseStatus,
    KeyScope,
    OutcomeStatus,
    Phase,
    Role,
    SessionStatus,
    ThemeKind,
    Visibility,
)
from journal.models.erasure import Erasure
from journal.models.journal import Entry, EntryRevision, Intention, IntentionOutcome
from journal.models.keys import DataKey, MasterKeyRecord
from journal.models.notes import PsychotherapyNote
from journal.models.prompts import ClinicPrompt, PromptAssignment
from journal.models.review import Comment, CommentRead, CourseVisit, EntryReview
from journal.models.themes import EntryTheme, Theme
from journal.models.twofactor import RecoveryCode, TotpCredential

__all__ = [
    "AuditEvent",
    "AuditHead",
    "CareTeamMember",
    "ClinicPrompt",
    "Comment",
    "CommentRead",
    "Course",
    "CourseStatus",
    "CourseVisit",
    "DataKey",
    "DosingSession",
    "Draft",
    "Entry",
    "EntryReview",
    "EntryRevision",
    "EntryTheme",
    "Erasure",
    "Intention",
    "IntentionOutcome",
    "KeyScope",
    "LoginSession",
    "MasterKeyRecord",
    "OutcomeStatus",
    "Phase",
    "PromptAssignment",
    "PsychotherapyNote",
    "RecoveryCode",
    "Role",
    "SessionStatus",
    "Theme",
    "ThemeKind",
    "TotpCredential",
    "User",
    "Visibility",
]
