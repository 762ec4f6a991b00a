"""The clinical content a running app offers, loaded and checked once at start-up.

Questionnaires come from the shipped folder `journal/instruments/` and from
the clinic's own `instruments/` folder inside the instance folder (if it
exists); the prompt library is the shipped one; the screening checklist is the
shipped one with the clinic's added items, and the consent record's checkboxes
the shipped ones or the clinic's (files the settings name).
Any broken file raises `DefinitionError` naming it, and the app does not start.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from journal.clinical import checklist, consent_items, instruments, prompt_library


@dataclass(frozen=True)
class ClinicalContent:
    instruments: instruments.Catalogue
    prompts: prompt_library.PromptLibrary
    screening: checklist.Checklist
    consent: checklist.ItemFile = field(default_factory=consent_items.load_consent_items)


def load_clinical_content(
    instance_path: Path, *, screening_extra: Path | None = None, consent: Path | None = None
) -> ClinicalContent:
    return ClinicalContent(
        instruments=instruments.load_catalogue(
            instruments.BUILT_IN_FOLDER, instance_path / instruments.CLINIC_FOLDER_NAME
        ),
        prompts=prompt_library.load_library(prompt_library.BUILT_IN_FOLDER),
        screening=checklist.load_checklist(extra=screening_extra),
        consent=consent_items.load_consent_items(consent),
    )
