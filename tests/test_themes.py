"""Themes from the outside: tagging, the theme page in session order, encrypted
names, visibility with their entries, and who may take a tag off."""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import select

from journal.models import EntryTheme, Theme
from tests.conftest import Clinic, entry_form, new_entry_id, runtime
from tests.helpers import Browser
from tests.scene import build_scene, count_rows, linked_entries, marker
from tests.test_review_at_rest import database_hits

THEME_LINK_RE = re.compile(r'href="/themes/([0-9a-f-]{36})"')


def write_entry(b: Browser, clinic: Clinic, session: object = None, **form: str) -> uuid.UUID:
    r = b.post(
        f"/courses/{clinic.course.id}/entries/new",
        entry_form(session or clinic.past, **form),  # type: ignore[arg-type]
    )
    assert r.status_code == 302, r.get_data(as_text=True)
    return new_entry_id(r.location)


def tag(b: Browser, entry_id: uuid.UUID, name: str, kind: str = "feelings") -> int:
    return b.post(f"/entries/{entry_id}/themes", {"kind": kind, "name": name}).status_code


def theme_id(clinic: Clinic, entry_id: uuid.UUID) -> uuid.UUID:
    with runtime(clinic.world.app).database.session() as s:
        ids = s.scalars(select(EntryTheme.theme_id).where(EntryTheme.entry_id == entry_id)).all()
    assert len(ids) == 1
    return ids[0]


def tagged(clinic: Clinic, entry_id: uuid.UUID) -> int:
    return count_rows(clinic.world.app, EntryTheme, EntryTheme.entry_id == entry_id)


def test_a_theme_page_lists_its_entries_in_session_order(clinic: Clinic) -> None:
    patient = clinic.world.browser(clinic.patient)
    clinician = clinic.world.browser(clinic.clinician)
    # Written newest session first, so creation order and session order differ.
    later = write_entry(
        patient, clinic, clinic.upcoming, title="Fictional later", phase="preparation"
    )
    after = write_entry(patient, clinic, title="Fictional after", phase="integration")
    before = write_entry(patient, clinic, title="Fictional before", phase="preparation")
    staff = write_entry(clinician, clinic, title="Fictional staff view", phase="in_session")
    name = f"Sea {marker('sea')}"
    assert tag(patient, later, name) == 302
    assert tag(patient, after, name.upper()) == 302  # the same theme, whatever the case
    assert tag(patient, before, f"  {name}  ") == 302
    assert tag(clinician, staff, name) == 302
    assert count_rows(clinic.world.app, Theme) == 1
    assert tag(patient, later, name) == 302  # tagging twice changes nothing
    assert tagged(clinic, later) == 1

    page = patient.text(f"/entries/{later}")
    (link,) = set(THEME_LINK_RE.findall(page))
    assert name in page
    theme_page = patient.text(f"/themes/{link}")
    order = [theme_page.index(f'href="/entries/{i}"') for i in (before, staff, after, later)]
    assert order == sorted(order)
    assert "4 entries, in session order." in theme_page
    listing = patient.text(f"/courses/{clinic.course.id}/themes")
    assert f'href="/themes/{link}"' in listing and name in listing
    assert clinician.text(f"/themes/{link}").count('href="/entries/') == 4


def test_theme_names_are_encrypted(clinic: Clinic) -> None:
    patient = clinic.world.browser(clinic.patient)
    entry_id = write_entry(patient, clinic, title="Fictional tagged")
    names = {"person": marker("person"), "place": marker("place")}
    assert tag(patient, entry_id, f"Aunt {names['person']}", kind="people") == 302
    assert tag(patient, entry_id, f"Shore {names['place']}", kind="places") == 302
    page = patient.text(f"/entries/{entry_id}")
    assert all(m in page for m in names.values())
    found, tables = database_hits(clinic.world.app, names)
    assert {"themes", "entry_themes"} <= tables
    assert found == {}


def test_a_theme_only_on_a_clinician_only_entry_is_invisible_to_the_patient(
    clinic: Clinic,
) -> None:
    scene = build_scene(clinic)
    patient = scene.world.browser(clinic.patient)
    clinician = scene.world.browser(clinic.clinician)
    hidden = marker("hidden")
    assert tag(clinician, scene["conly"].id, f"Staff {hidden}", kind="images") == 302
    hidden_id = next(
        uuid.UUID(t)
        for t in THEME_LINK_RE.findall(clinician.text(f"/entries/{scene['conly'].id}"))
        if hidden in clinician.text(f"/themes/{t}")
    )
    listing = patient.text(f"/courses/{clinic.course.id}/themes")
    assert hidden not in listing and str(hidden_id) not in listing
    r = patient.get(f"/themes/{hidden_id}")
    assert r.status_code == 404 and hidden not in r.get_data(as_text=True)
    assert hidden in clinician.text(f"/courses/{clinic.course.id}/themes")

    # Once the same theme is on a shared entry, the patient sees that entry only.
    assert tag(clinician, scene["cshared"].id, f"staff {hidden}", kind="images") == 302
    page = patient.text(f"/themes/{hidden_id}")
    assert linked_entries(page) == {scene["cshared"].id}
    assert scene["conly"].current.markers[0] not in page
    assert "1 entry, in session order." in page


@pytest.mark.parametrize("who", ["other_clinician", "other_patient", "admin"])
def test_outsiders_reach_no_theme(clinic: Clinic, who: str) -> None:
    scene = build_scene(clinic)
    b = scene.world.browser(getattr(clinic, who))
    for x in scene.extras:
        if x.kind == "theme" and x.course == clinic.course:
            r = b.get(f"/themes/{x.object_id}")
            assert r.status_code == 404 and x.marker not in r.get_data(as_text=True)
            assert x.entry is not None
            url = f"/entries/{x.entry.id}/themes/{x.object_id}/remove"
            assert b.post(url).status_code == 404
            assert tagged(clinic, x.entry.id) == 1
            assert tag(b, x.entry.id, "Planted") == 404
    assert b.get(f"/courses/{clinic.course.id}/themes").status_code == 404
    assert b.get(f"/themes/{uuid.uuid4()}").status_code == 404
    assert count_rows(scene.app, Theme, Theme.course_id == clinic.course.id) == 2


def test_untagging(clinic: Clinic) -> None:
    patient = clinic.world.browser(clinic.patient)
    clinician = clinic.world.browser(clinic.clinician)
    entry_id = write_entry(patient, clinic, title="Fictional tags")
    assert tag(clinician, entry_id, "Fictional calm") == 302
    by_clinician = theme_id(clinic, entry_id)
    remove = f"/entries/{entry_id}/themes/{by_clinician}/remove"
    assert f'action="{remove}"' in patient.text(f"/entries/{entry_id}")
    # The patient takes off a tag the clinician added.
    r = patient.post(remove)
    assert r.status_code == 302 and r.location.endswith(f"/entries/{entry_id}#themes")
    assert tagged(clinic, entry_id) == 0
    assert patient.post(remove).status_code == 404  # already gone
    # The clinician may not take off the patient's own tag; the patient may.
    assert tag(patient, entry_id, "Fictional mine") == 302
    mine = theme_id(clinic, entry_id)
    assert clinician.post(f"/entries/{entry_id}/themes/{mine}/remove").status_code == 403
    assert tagged(clinic, entry_id) == 1
    assert patient.post(f"/entries/{entry_id}/themes/{mine}/remove").status_code == 302
    assert tagged(clinic, entry_id) == 0
    # A theme id of another entry, or none at all.
    other = write_entry(patient, clinic, title="Fictional other")
    assert tag(patient, other, "Fictional elsewhere") == 302
    elsewhere = theme_id(clinic, other)
    assert patient.post(f"/entries/{entry_id}/themes/{elsewhere}/remove").status_code == 404
    assert patient.post(f"/entries/{entry_id}/themes/{uuid.uuid4()}/remove").status_code == 404
    assert tagged(clinic, other) == 1


def test_bad_theme_input_is_refused(clinic: Clinic) -> None:
    patient = clinic.world.browser(clinic.patient)
    clinician = clinic.world.browser(clinic.clinician)
    entry_id = write_entry(patient, clinic, title="Fictional tagged")
    kept = marker("kept")
    for kind, name in (
        ("feelings", ""),
        ("feelings", "   "),
        ("feelings", kept + "x" * 60),
        ("moods", f"Fictional {kept}"),
        ("", f"Fictional {kept}"),
    ):
        r = patient.post(f"/entries/{entry_id}/themes", {"kind": kind, "name": name})
        assert r.status_code == 400, (kind, name)
        page = r.get_data(as_text=True)
        assert 'class="error"' in page
        if name.strip():
            assert name in page
    private = write_entry(patient, clinic, title="Fictional private", visibility="private")
    assert tag(clinician, private, "Fictional") == 404
    assert tag(clinician, uuid.uuid4(), "Fictional") == 404
    assert count_rows(clinic.world.app, Theme) == 0

    assert clinician.post(f"/courses/{clinic.course.id}/status/closed").status_code == 302
    assert tag(patient, entry_id, "After closing") == 403
    assert count_rows(clinic.world.app, Theme) == 0
