"""What patients and clinicians write: entries and their versions, drafts, the
timeline, search, themes, intentions and their outcomes, guided prompts and quick
capture."""
