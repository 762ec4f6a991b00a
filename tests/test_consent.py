"""The consent record of a course (issue 20): entered by a care-team clinician (the consent
document's version, the date, a witness from the care team, the clinic's checkboxes, a
note), shown to the care team and to the patient (read only), to nobody else; audited,
sealed at rest, in the clinician's export and the patient's own; an amendment keeps the
version it replaces."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from journal.clinical.consent_items import load_consent_items
from journal.models import AuditEvent, Consent, ConsentVersion, Role
from tests.conftest import Clinic, runtime
from tests.export_helpers import export
from tests.helpers import Browser
from tests.scene import count_rows, marker
from tests.test_review_at_rest import database_hits

DEFAULT_ITEMS = (
    "Risks and side effects explained",
    "Alternatives discussed",
    "May withdraw at any time",
    "Not to drive until the next day",
    "A support person or escort arranged",
)


def url(clinic: Clinic, edit: bool = False) -> str:
    return f"/courses/{clinic.course.id}/consent" + ("/edit" if edit else "")


def form(clinic: Clinic, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "document_version": "Fictional consent v3",
        "consented_on": "2026-11-20",
        "witness_id": str(clinic.clinician.id),
        "checked": ["risks_explained", "may_withdraw"],
        "note": "",
        "version": "",
    }
    data.update(changes)
    return data


@pytest.fixture
def clinician(clinic: Clinic) -> Browser:
    return clinic.world.browser(clinic.clinician)


def test_recorded_shown_amended_and_kept(clinic: Clinic, clinician: Browser) -> None:
    timeline = f"/courses/{clinic.course.id}"
    assert "not recorded</span>" in clinician.text(timeline).split("Consent</a>")[1][:80]
    page = clinician.text(url(clinic, edit=True))
    for text in DEFAULT_ITEMS:
        assert text in page
    # The form offers the care team as witnesses, the clinician entering it first chosen.
    assert re.search(rf'<option[^>]*selected[^>]*value="{clinic.clinician.id}"', page)
    first, second = marker("consent"), marker("amended")
    r = clinician.post(url(clinic, edit=True), form(clinic, note=f"Read twice {first}"))
    assert r.status_code == 302 and r.location.endswith(url(clinic))
    assert "not recorded</span>" not in clinician.text(timeline).split("Consent</a>")[1][:80]

    # The care team and the patient read it; the patient cannot change it.
    colleague = clinic.world.user(Role.CLINICIAN)
    clinic.world.join_team(clinic.course, colleague)
    for who in (clinic.clinician, colleague, clinic.patient):
        page = clinic.world.browser(who).text(url(clinic))
        assert "Fictional consent v3" in page and f"Read twice {first}" in page, who.role
        assert "Fri 20 Nov 2026" in page and clinic.clinician.name in page
        assert "☑ Risks and side effects explained" in page
        assert "☐ Alternatives discussed" in page
    patient = clinic.world.browser(clinic.patient)
    own = patient.text(url(clinic))
    assert "My consent to treatment" in own and url(clinic, edit=True) not in own
    assert url(clinic) in patient.text(f"/courses/{clinic.course.id}")
    assert patient.get(url(clinic, edit=True)).status_code == 403
    assert patient.post(url(clinic, edit=True), form(clinic, version="1")).status_code == 403

    # A colleague amends it, with themself as witness: the first version is kept.
    other = clinic.world.browser(colleague)
    r = other.post(
        url(clinic, edit=True),
        form(
            clinic,
            version="1",
            witness_id=str(colleague.id),
            checked=[i.id for i in load_consent_items().items],
            note=f"Escort named {second}",
        ),
    )
    assert r.status_code == 302, r.get_data(as_text=True)
    page = clinician.text(url(clinic))
    now, earlier = page.split("Earlier versions", 1)
    assert f"Escort named {second}" in now and f"Read twice {first}" not in now
    assert f"Read twice {first}" in earlier and "Version 1" in earlier
    assert f"Saved by {colleague.name}" in now and f"Saved by {clinic.clinician.name}" in earlier
    assert "☐" not in now
    assert count_rows(clinic.world.app, Consent) == 1
    assert count_rows(clinic.world.app, ConsentVersion) == 1

    # A form opened at version 1 does not overwrite version 2.
    stale = clinician.post(url(clinic, edit=True), form(clinic, version="1", note="Stale"))
    assert stale.status_code == 409 and "changed by someone else" in stale.get_data(as_text=True)

    # Audited, and sealed at rest.
    app = clinic.world.app
    with runtime(app).database.session() as s:
        events = list(s.execute(select(AuditEvent.action, AuditEvent.object_type)))
    for action in ("consent.create", "consent.update", "read"):
        assert (action, "consent") in events, action
    found, tables = database_hits(
        app, {"first": first, "second": second, "document": "Fictional consent v3"}
    )
    assert {"consents", "consent_versions"} <= tables and found == {}
    files = runtime(app).settings.instance_path.rglob("*")  # the database file and its log
    for path in (p for p in files if p.is_file()):
        data = path.read_bytes()
        assert first.encode() not in data and second.encode() not in data, path.name

    # In the clinician's export (every format) and the patient's own, both versions.
    texts = {
        fmt: export(clinician, clinic.course.id, fmt).get_data(as_text=True)
        for fmt in ("json", "md", "html")
    }
    for fmt, text in texts.items():
        assert first in text and second in text, fmt
        assert fmt == "json" or "Consent to treatment" in text, fmt
    data = json.loads(texts["json"])["consent"]
    assert data["version"] == 2 and data["witness"] == colleague.name
    assert data["document_version"] == "Fictional consent v3"
    assert data["consented_on"] == "2026-11-20"
    assert all(i["checked"] for i in data["items"])
    assert [v["version"] for v in data["earlier_versions"]] == [1]
    assert [i["checked"] for i in data["earlier_versions"][0]["items"]] == [
        True,
        False,
        True,
        False,
        False,
    ]
    for response in (
        export(patient, clinic.course.id, "json"),
        patient.post("/account/export", {"format": "json"}),
    ):
        text = response.get_data(as_text=True)
        assert first in text and second in text

    # Erased with the patient.
    admin = clinic.world.browser(clinic.admin)
    r = admin.post(
        f"/admin/users/{clinic.patient.id}/erase",
        {"reason": "patient's request", "confirm_email": clinic.patient.email},
    )
    assert r.status_code == 302
    assert count_rows(app, Consent) == 0 and count_rows(app, ConsentVersion) == 0


BAD = [
    ({"document_version": " "}, "document_version", "version of the consent document"),
    ({"document_version": "v" * 101}, "document_version", "the limit is 100"),
    ({"consented_on": "2026-02-30"}, "consented_on", "date of the consent"),
    ({"consented_on": "2099-01-01"}, "consented_on", "not a date to come"),
    ({"witness_id": ""}, "witness_id", "from the care team"),
    ({"note": "n" * 2001}, "note", "the limit is 2,000"),
]


@pytest.mark.parametrize(("change", "name", "message"), BAD)
def test_bad_input_is_a_form_error_and_nothing_is_saved(
    clinic: Clinic, clinician: Browser, change: dict[str, str], name: str, message: str
) -> None:
    r = clinician.post(url(clinic, edit=True), form(clinic, **change))
    page = r.get_data(as_text=True)
    assert r.status_code == 400
    error = re.search(rf'<p class="error" id="{name}-error">([^<]*)</p>', page)
    assert error, f"no error beside {name}"
    assert message in error.group(1)
    assert count_rows(clinic.world.app, Consent) == 0


def test_nobody_else_reaches_it(clinic: Clinic, clinician: Browser) -> None:
    note = marker("consent")
    # A witness outside the care team is refused too.
    r = clinician.post(
        url(clinic, edit=True), form(clinic, witness_id=str(clinic.other_clinician.id))
    )
    assert r.status_code == 400
    assert clinician.post(url(clinic, edit=True), form(clinic, note=note)).status_code == 302
    for who in (clinic.other_clinician, clinic.other_patient, clinic.admin):
        b = clinic.world.browser(who)
        for path in (url(clinic), url(clinic, edit=True)):
            r = b.get(path)
            assert r.status_code == 404 and note not in r.get_data(as_text=True), (who.role, path)
        assert b.post(url(clinic, edit=True), form(clinic, version="1")).status_code == 404
    found = count_rows(clinic.world.app, ConsentVersion)
    assert found == 0


def test_the_clinic_defines_the_checkboxes(
    clinic: Clinic, clinician: Browser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "consent.toml"
    path.write_text(
        'version = "clinic-2"\n\n[[items]]\nid = "music"\n'
        'text = "Music during the session agreed"\n'
    )
    items = load_consent_items(path)
    rt = runtime(clinic.world.app)
    monkeypatch.setattr(rt, "clinical", replace(rt.clinical, consent=items))
    page = clinician.text(url(clinic, edit=True))
    assert "Music during the session agreed" in page and DEFAULT_ITEMS[0] not in page
    r = clinician.post(url(clinic, edit=True), form(clinic, checked=["risks_explained"]))
    assert r.status_code == 400 and "only items of the list" in r.get_data(as_text=True)
    assert (
        clinician.post(url(clinic, edit=True), form(clinic, checked=["music"])).status_code == 302
    )
    assert "☑ Music during the session agreed" in clinician.text(url(clinic))
