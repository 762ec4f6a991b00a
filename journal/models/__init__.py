"""Typed SQLAlchemy models. No Flask, no I/O, no business flows."""

from journal.models.accounts import LoginSession, User
from journal.models.audit import AuditEvent, AuditHead
from journal.models.courses import CareTeamMember, Course, DosingSession
from journal.models.enums import CourseStatus, KeyScope, Phase, Role, SessionStatus, Visibility
from journal.models.erasure import Erasure
from journal.models.journal import Entry, EntryRevision, Intention
from journal.models.keys import DataKey, MasterKeyRecord
from journal.models.twofactor import RecoveryCode, TotpCredential

__all__ = [
    "AuditEvent",
    "AuditHead",
    "CareTeamMember",
    "Course",
    "CourseStatus",
    "DataKey",
    "DosingSession",
    "Entry",
    "EntryRevision",
    "Erasure",
    "Intention",
    "KeyScope",
    "LoginSession",
    "MasterKeyRecord",
    "Phase",
    "RecoveryCode",
    "Role",
    "SessionStatus",
    "TotpCredential",
    "User",
    "Visibility",
]
