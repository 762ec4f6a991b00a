from tests.conftest import Clinic, entry_form, new_entry_id


def test_patient_writes_and_reads_an_entry(clinic: Clinic) -> None:
    b = clinic.world.browser(clinic.patient)
    r = b.post(f"/courses/{clinic.course.id}/entries/new", entry_form(clinic.past))
    assert r.status_code == 302, r.get_data(as_text=True)
    entry_id = new_entry_id(r.location)
    page = b.text(f"/entries/{entry_id}")
    assert "A fictional entry" in page
    assert "<em>words</em>" in page
    timeline = b.text(f"/courses/{clinic.course.id}")
    assert "A fictional entry" in timeline
