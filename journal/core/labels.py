"""Words people read for the closed sets of values: one list for pages and exports."""

from __future__ import annotations

from journal.models import Phase, SessionStatus, Visibility

PHASE_LABELS = {
    Phase.PREPARATION: "Preparation",
    Phase.IN_SESSION: "In-session insights",
    Phase.INTEGRATION: "Integration",
}
VISIBILITY_LABELS = {
    Visibility.PRIVATE: "Private: only you",
    Visibility.CARE_TEAM: "Shared with the care team",
    Visibility.CLINICIAN_ONLY: "Clinicians only",
}
SHORT_VISIBILITY = {
    Visibility.PRIVATE: "Private",
    Visibility.CARE_TEAM: "Care team",
    Visibility.CLINICIAN_ONLY: "Clinicians only",
}
STATUS_LABELS = {
    SessionStatus.SCHEDULED: "Scheduled",
    SessionStatus.COMPLETED: "Completed",
    SessionStatus.CANCELLED: "Cancelled",
}
