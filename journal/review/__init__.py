"""What clinicians do with the journal: the caseload, reviews, comments on entries and
passages, psychotherapy notes, and the access log a patient reads."""
