"""Clinical content and records: the questionnaires (instruments, scoring and flags,
as pure functions) and their storage, the screening checklist and screenings, the
dosing-session record, vitals and charts."""
