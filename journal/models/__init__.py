"""Typed SQLAlchemy models. No Flask, no I/O, no business flows."""

from journal.models.accounts import LoginSession, PasswordLink, Referral, User
from journal.models.audit import AuditEvent, AuditHead
from journal.models.clinical import Screening, SessionRecord
from journal.models.clinical_versions import ClinicalVersion, VersionKind
from journal.models.consent import Consent, ConsentVersion
from journal.models.courses import CareTeamMember, CareTeamProposal, Course, DosingSession
from journal.models.drafts import Draft
from journal.models.enums import (
    Cadence,
    CourseStatus,
    KeyScope,
    OutcomeStatus,
    Phase,
    QuestionnaireSlot,
    Role,
    SessionStatus,
    ThemeKind,
    Visibility,
)
from journal.models.erasure import Erasure
from journal.models.export_jobs import ExportJob
from journal.models.form_tokens import FormToken
from journal.models.journal import Entry, EntryRevision, Intention, IntentionOutcome
from journal.models.keys import DataKey, MasterKeyRecord
from journal.models.measures import QuestionnaireAssignment, QuestionnaireResponse, SafetyFlag
from journal.models.messages import Message, ReminderPreferences
from journal.models.notes import NoteDisclosure, PsychotherapyNote
from journal.models.prompts import ClinicPrompt, PromptAssignment
from journal.models.review import Comment, CommentRead, CourseVisit, EntryReview
from journal.models.safety_plan import SafetyPlan, SafetyPlanVersion
from journal.models.screening_rechecks import ScreeningRecheck
from journal.models.search import SearchShard
from journal.models.themes import EntryTheme, Theme
from journal.models.twofactor import RecoveryCode, TotpCredential

__all__ = [
    "AuditEvent",
    "AuditHead",
    "Cadence",
    "CareTeamMember",
    "CareTeamProposal",
    "ClinicPrompt",
    "ClinicalVersion",
    "Comment",
    "CommentRead",
    "Consent",
    "ConsentVersion",
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
    "ExportJob",
    "FormToken",
    "Intention",
    "IntentionOutcome",
    "KeyScope",
    "LoginSession",
    "MasterKeyRecord",
    "Message",
    "NoteDisclosure",
    "OutcomeStatus",
    "PasswordLink",
    "Phase",
    "PromptAssignment",
    "PsychotherapyNote",
    "QuestionnaireAssignment",
    "QuestionnaireResponse",
    "QuestionnaireSlot",
    "RecoveryCode",
    "Referral",
    "ReminderPreferences",
    "Role",
    "SafetyFlag",
    "SafetyPlan",
    "SafetyPlanVersion",
    "Screening",
    "ScreeningRecheck",
    "SearchShard",
    "SessionRecord",
    "SessionStatus",
    "Theme",
    "ThemeKind",
    "TotpCredential",
    "User",
    "VersionKind",
    "Visibility",
]
