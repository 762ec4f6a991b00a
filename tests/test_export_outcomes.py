"""How each intention went, and the screening checklist, in the export: outcomes follow
the visibility of the entry they were written in (and of the entry that set the
intention); the screening is in a clinician's export only, never in a patient's."""

from __future__ import annotations

import json
from typing import Any

from journal.clinical import screenings
from journal.journaling import entries
from journal.journaling.entries import EntryInput
from journal.journaling.intentions import OutcomeInput
from journal.models import OutcomeStatus, Phase, Visibility
from tests.conftest import Clinic, runtime
from tests.export_helpers import export, flat, pdf_text, validate

SHARED_INTENTION = "intentionmarkershared"
PRIVATE_INTENTION = "intentionmarkerprivate"
SHARED_REFLECTION = "reflectionmarkershared"
REFLECTION_ON_PRIVATE_INTENTION = "reflectionmarkeronprivateintention"
REFLECTION_IN_PRIVATE_ENTRY = "reflectionmarkerinprivateentry"
SCREENING_NOTE = "screeningnotemarker"


def _write(clinic: Clinic, phase: Phase, visibility: Visibility, **more: Any) -> Any:
    world = clinic.world
    return entries.create_entry(
        world.as_(clinic.patient),
        clinic.course.id,
        EntryInput(
            phase=phase,
            title=f"A fictional {phase.value} entry",
            body="Fictional words.",
            visibility=visibility,
            session_id=clinic.past.id,
            **more,
        ),
    )


def _scene(clinic: Clinic) -> None:
    world = clinic.world
    shared = _write(clinic, Phase.PREPARATION, Visibility.CARE_TEAM, intentions=[SHARED_INTENTION])
    private = _write(clinic, Phase.PREPARATION, Visibility.PRIVATE, intentions=[PRIVATE_INTENTION])
    shared_id = entries.intentions_of(world.db, [shared.id])[shared.id][0].id
    private_id = entries.intentions_of(world.db, [private.id])[private.id][0].id
    _write(
        clinic,
        Phase.INTEGRATION,
        Visibility.CARE_TEAM,
        outcomes={
            shared_id: OutcomeInput(OutcomeStatus.PARTLY, SHARED_REFLECTION),
            private_id: OutcomeInput(OutcomeStatus.ADDRESSED, REFLECTION_ON_PRIVATE_INTENTION),
        },
    )
    _write(
        clinic,
        Phase.INTEGRATION,
        Visibility.PRIVATE,
        outcomes={shared_id: OutcomeInput(OutcomeStatus.NOT_YET, REFLECTION_IN_PRIVATE_ENTRY)},
    )
    checklist = runtime(world.app).clinical.screening
    screenings.save_screening(
        world.as_(clinic.clinician),
        clinic.course.id,
        checklist,
        screenings.ScreeningInput(
            answers={item.id: "no" for item in checklist.items},
            notes={checklist.items[0].id: SCREENING_NOTE},
            reviewed_on="2025-06-02",
        ),
        expected_version=None,
    )


def _texts(clinic: Clinic, who: str, **options: str) -> dict[str, str]:
    b = clinic.world.browser(getattr(clinic, who))
    return {
        fmt: flat(pdf_text(r.data)) if fmt == "pdf" else r.get_data(as_text=True)
        for fmt in ("json", "md", "html", "pdf")
        for r in [export(b, clinic.course.id, fmt, **options)]
    }


def test_the_clinician_sees_shared_outcomes_and_the_screening(clinic: Clinic) -> None:
    _scene(clinic)
    texts = _texts(clinic, "clinician")
    for fmt, text in texts.items():
        assert SHARED_REFLECTION in text and SCREENING_NOTE in text, fmt
        for marker in (
            PRIVATE_INTENTION,
            REFLECTION_ON_PRIVATE_INTENTION,
            REFLECTION_IN_PRIVATE_ENTRY,
        ):
            assert marker not in text, (fmt, marker)
    data = json.loads(texts["json"])
    validate(data)
    (intention,) = data["intentions"]
    assert [(o["status"], o["reflection"]) for o in intention["outcomes"]] == [
        ("partly", SHARED_REFLECTION)
    ]
    assert data["screening"]["items"][0]["note"] == SCREENING_NOTE
    assert data["screening"]["needs_clinician_review"] is False  # every item answered "no"


def test_the_patient_never_gets_the_screening(clinic: Clinic) -> None:
    _scene(clinic)
    for private, shown in ((False, False), (True, True)):
        options = {"include_private": "y"} if private else {}
        texts = _texts(clinic, "patient", **options)
        for fmt, text in texts.items():
            assert SCREENING_NOTE not in text and "Screening checklist" not in text, fmt
            assert SHARED_REFLECTION in text, fmt
            for marker in (PRIVATE_INTENTION, REFLECTION_IN_PRIVATE_ENTRY):
                assert (marker in text) == shown, (fmt, marker, private)
        data = json.loads(texts["json"])
        validate(data)
        assert "screening" not in data
    own = clinic.world.browser(clinic.patient)
    for fmt in ("json", "pdf"):
        r = own.post("/account/export", {"format": fmt})
        text = flat(pdf_text(r.data)) if fmt == "pdf" else r.get_data(as_text=True)
        assert SCREENING_NOTE not in text and REFLECTION_IN_PRIVATE_ENTRY in text, fmt
