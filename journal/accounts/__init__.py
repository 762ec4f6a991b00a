"""People and access: accounts and passwords, two-factor sign-in, courses with their
care teams and dosing sessions, the access rules (policy.py), the audit trail and
the erasure of a patient."""
