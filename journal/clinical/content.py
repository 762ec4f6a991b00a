"""The clinical content a running app offers, loaded and checked once at start-up.

Questionnaires come from the shipped folder `journal/instruments/` and from
the clinic's own `instruments/` folder inside the instance folder (if it
exists); the prompt library and the screening checklist are the shipped ones.
Any broken file raises `DefinitionError` naming it, and the app does not start.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from journal.clinical import checklist, instruments, prompt_library


@dataclass(frozen=True)
class ClinicalContent:
    instruments: instruments.Catalogue
    prompts: prompt_library.PromptLibrary
    screening: checklist.Checklist


def load_clinical_content(instance_path: Path) -> ClinicalContent:
    return ClinicalContent(
        instruments=instruments.load_catalogue(
            instruments.BUILT_IN_FOLDER, instance_path / instruments.CLINIC_FOLDER_NAME
        ),
        prompts=prompt_library.load_library(prompt_library.BUILT_IN_FOLDER),
        screening=checklist.load_checklist(),
    )
