"""Words people read for the closed sets of values: one list for pages and exports."""

from __future__ import annotations

from journal.models import Phase, SessionStatus, Visibility


def N_(words: str) -> str:
    """Marks words for the catalogues (journal/translations, `make strings`); the web
    layer translates them where it shows them (journal/web/filters.py)."""
    return words


PHASE_LABELS = {
    Phase.PREPARATION: N_("Preparation"),
    Phase.IN_SESSION: N_("In-session insights"),
    Phase.INTEGRATION: N_("Integration"),
}
VISIBILITY_LABELS = {
    Visibility.PRIVATE: N_("Private: only you"),
    Visibility.CARE_TEAM: N_("Shared with the care team"),
    Visibility.CLINICIAN_ONLY: N_("Clinicians only"),
}
SHORT_VISIBILITY = {
    Visibility.PRIVATE: N_("Private"),
    Visibility.CARE_TEAM: N_("Care team"),
    Visibility.CLINICIAN_ONLY: N_("Clinicians only"),
}
STATUS_LABELS = {
    SessionStatus.SCHEDULED: N_("Scheduled"),
    SessionStatus.COMPLETED: N_("Completed"),
    SessionStatus.CANCELLED: N_("Cancelled"),
}
