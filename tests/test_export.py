"""Issue 5: the treatment-course summary export and the patient's own data export,
tested from the outside (HTTP), with the marked clinic of tests/scene.py."""

from __future__ import annotations

import io
import json
import re
from datetime import timedelta

import pytest
from pypdf import PdfReader
from pypdf.errors import FileNotDecryptedError
from sqlalchemy import select, update

from journal.db import utcnow
from journal.export import render_pdf
from journal.models import AuditEvent, DosingSession, LoginSession, Phase, Role, Visibility
from tests.conftest import Clinic, committing, runtime
from tests.export_helpers import export, flat, is_file, pdf_text, validate
from tests.helpers import PASSWORD, second_factor_code
from tests.scene import Scene, build_scene, write


def readable_markers(scene: Scene, user_attr: str, *, private: bool) -> tuple[set[str], set[str]]:
    """(must appear, must never appear) in this person's export of the first course,
    worked out from the product's visibility table (tests/scene.py), not from policy.py."""
    user = getattr(scene.clinic, user_attr)
    present: set[str] = set()
    for w in scene.written.values():
        if w.course.id != scene.clinic.course.id:
            continue
        for version in w.versions:
            shown = scene.may_read(user, w.course, w.author, version.visibility)
            if version.visibility == Visibility.PRIVATE and not private:
                shown = False
            if shown:
                present.update(version.markers)
    everything = {m for w in scene.written.values() for m in w.markers}
    absent = (everything - present) | set(scene.forbidden_markers(user))
    return present, absent


def check(text: str, present: set[str], absent: set[str]) -> None:
    missing = sorted(m for m in present if m not in text)
    leaked = sorted(m for m in absent if m in text)
    assert not missing, f"missing: {missing}"
    assert not leaked, f"leaked: {leaked}"


# -- scopes: each export holds exactly what it may ------------------------------------


@pytest.mark.parametrize(
    ("who", "private"), [("clinician", False), ("patient", False), ("patient", True)]
)
def test_json_export_holds_exactly_what_the_exporter_may_see(
    clinic: Clinic, who: str, private: bool
) -> None:
    scene = build_scene(clinic)
    b = scene.world.browser(getattr(clinic, who))
    extra = {"include_private": "y"} if private else {}
    r = export(b, clinic.course.id, "json", **extra)
    assert r.status_code == 200, r.get_data(as_text=True)[:500]
    assert is_file(r) and r.mimetype == "application/json"
    text = r.get_data(as_text=True)
    present, absent = readable_markers(scene, who, private=private)
    check(text, present, absent)
    data = json.loads(text)
    validate(data)
    assert data["format_version"] == 1
    assert (
        data["scope"]["scope"]
        == {
            ("clinician", False): "clinician",
            ("patient", False): "patient",
            ("patient", True): "patient_private",
        }[(who, private)]
    )
    assert scene.indications[clinic.course.id] in data["course"]["indication"]
    assert scene.indications[clinic.other_course.id] not in text


@pytest.mark.parametrize("fmt", ["pdf", "html", "md"])
def test_every_format_keeps_the_clinicians_scope(clinic: Clinic, fmt: str) -> None:
    scene = build_scene(clinic)
    b = scene.world.browser(clinic.clinician)
    r = export(b, clinic.course.id, fmt)
    assert r.status_code == 200 and is_file(r)
    text = flat(pdf_text(r.data)) if fmt == "pdf" else r.get_data(as_text=True)
    present, absent = readable_markers(scene, "clinician", private=False)
    check(text, present, absent)


def test_patient_pdf_with_private_entries(clinic: Clinic) -> None:
    scene = build_scene(clinic)
    b = scene.world.browser(clinic.patient)
    r = export(b, clinic.course.id, "pdf", include_private="y")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    present, absent = readable_markers(scene, "patient", private=True)
    check(flat(pdf_text(r.data)), present, absent)


def test_a_clinician_cannot_ask_for_private_entries(clinic: Clinic) -> None:
    scene = build_scene(clinic)
    b = scene.world.browser(clinic.clinician)
    r = export(b, clinic.course.id, "json", include_private="y")
    assert r.status_code == 400 and not is_file(r)
    assert scene["pprivate"].markers[0] not in r.get_data(as_text=True)


@pytest.mark.parametrize("who", ["other_clinician", "other_patient", "admin"])
def test_outsiders_get_404_and_no_file(clinic: Clinic, who: str) -> None:
    scene = build_scene(clinic)
    b = scene.world.browser(getattr(clinic, who))
    url = f"/courses/{clinic.course.id}/export"
    assert b.get(url).status_code in (403, 404)
    r = export(b, clinic.course.id, "json")
    assert r.status_code == 404
    assert not is_file(r)
    assert scene["cshared"].markers[0] not in r.get_data(as_text=True)


def test_the_file_is_sent_safely_and_audited_without_content(clinic: Clinic) -> None:
    scene = build_scene(clinic)
    b = scene.world.browser(clinic.clinician)
    r = export(b, clinic.course.id, "pdf")
    assert r.status_code == 200
    disposition = r.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="course-summary-')
    assert disposition.endswith('.pdf"')
    for part in clinic.patient.name.split():
        assert part not in disposition
    assert r.headers["Cache-Control"] == "no-store"
    with runtime(scene.app).database.session() as s:
        events = list(s.scalars(select(AuditEvent).where(AuditEvent.action.like("export.%"))))
    assert [(e.action, e.object_type, e.object_id, e.subject_id, e.actor_id) for e in events] == [
        ("export.pdf", "course.clinician", clinic.course.id, clinic.patient.id, clinic.clinician.id)
    ]
    row = " ".join(str(v) for v in vars(events[0]).values())
    assert not any(m in row for m in scene["cshared"].markers)


# -- options ---------------------------------------------------------------------------


def test_phases_and_sessions_narrow_the_export(clinic: Clinic) -> None:
    scene = build_scene(clinic)
    b = scene.world.browser(clinic.clinician)
    r = export(b, clinic.course.id, "json", phases=["in_session"])
    text = r.get_data(as_text=True)
    assert scene["conly"].markers[0] in text  # in-session
    assert scene["cshared"].markers[0] not in text  # integration
    r = export(b, clinic.course.id, "json", span="sessions", sessions=[str(clinic.upcoming.id)])
    data = json.loads(r.data)
    assert [s["id"] for s in data["sessions"]] == [str(clinic.upcoming.id)]
    assert scene["pshared"].markers[0] in r.get_data(as_text=True)  # preparation, upcoming
    assert scene["cshared"].markers[0] not in r.get_data(as_text=True)  # past session


def test_a_date_range_picks_the_sessions_dated_in_it(clinic: Clinic) -> None:
    b = clinic.world.browser(clinic.clinician)
    today = utcnow().date()
    r = export(
        b,
        clinic.course.id,
        "json",
        span="dates",
        date_from=(today - timedelta(days=10)).isoformat(),
        date_to=today.isoformat(),
    )
    assert r.status_code == 200
    assert [s["id"] for s in json.loads(r.data)["sessions"]] == [str(clinic.past.id)]


@pytest.mark.parametrize(
    ("data", "field_message"),
    [
        ({"format": "docx"}, "Choose one of the listed formats"),
        ({"format": "json", "span": "dates"}, "Give a start date"),
        (
            {"format": "json", "span": "dates", "date_from": "2030-05-02", "date_to": "2030-05-01"},
            "The end date is before the start date",
        ),
        ({"format": "json", "span": "sessions"}, "Choose at least one dosing session"),
        ({"format": "json", "span": "sessions", "sessions": "not-a-uuid"}, "of this course"),
        (
            {"format": "pdf", "protect": "y", "passphrase": "short", "passphrase_again": "short"},
            "at least 12 characters",
        ),
        (
            {"format": "md", "protect": "y", "passphrase": "x" * 20, "passphrase_again": "x" * 20},
            "for PDF files",
        ),
        (
            {"format": "pdf", "protect": "y", "passphrase": "x" * 20, "passphrase_again": "y" * 20},
            "passphrases differ",
        ),
    ],
)
def test_bad_input_gets_a_clear_message_and_no_file(
    clinic: Clinic, data: dict[str, str], field_message: str
) -> None:
    b = clinic.world.browser(clinic.clinician)
    r = b.post(f"/courses/{clinic.course.id}/export", data)
    assert r.status_code == 400 and not is_file(r)
    assert field_message in r.get_data(as_text=True)


def test_sessions_of_another_course_are_refused(clinic: Clinic) -> None:
    b = clinic.world.browser(clinic.clinician)
    with runtime(clinic.world.app).database.session() as s:
        foreign = s.scalar(
            select(DosingSession.id).where(DosingSession.course_id == clinic.other_course.id)
        )
    r = export(b, clinic.course.id, "json", span="sessions", sessions=[str(foreign)])
    assert r.status_code == 400 and not is_file(r)
    assert "Choose dosing sessions of this course." in r.get_data(as_text=True)


def test_a_course_with_no_entries_exports_a_short_document(clinic: Clinic) -> None:
    b = clinic.world.browser(clinic.other_clinician)
    for fmt in ("json", "md", "html", "pdf"):
        r = export(b, clinic.other_course.id, fmt)
        assert r.status_code == 200 and is_file(r), fmt
        if fmt == "json":
            data = json.loads(r.data)
            validate(data)
            assert len(data["sessions"]) == 1 and data["sessions"][0]["entries"] == []
        elif fmt == "pdf":
            text = pdf_text(r.data)
            assert "Treatment-course summary" in text
            assert "Nothing written for this session" in text
            assert len(PdfReader(io.BytesIO(r.data)).pages) <= 3


# -- passphrase ------------------------------------------------------------------------


def test_a_protected_pdf_opens_only_with_its_passphrase(clinic: Clinic) -> None:
    scene = build_scene(clinic)
    b = scene.world.browser(clinic.clinician)
    phrase = "blue kettle over the hill"
    r = export(b, clinic.course.id, "pdf", protect="y", passphrase=phrase, passphrase_again=phrase)
    assert r.status_code == 200 and is_file(r)
    assert scene["cshared"].markers[0].encode() not in r.data
    reader = PdfReader(io.BytesIO(r.data))
    assert reader.is_encrypted
    assert reader.decrypt("wrong passphrase, surely") == 0
    with pytest.raises(FileNotDecryptedError):
        _ = reader.pages[0].extract_text()
    encryption = reader.trailer["/Encrypt"]
    assert encryption["/V"] == 5 and encryption["/R"] == 6  # AES-256
    assert scene["cshared"].markers[0] in flat(pdf_text(r.data, phrase))


# -- recent sign-in --------------------------------------------------------------------


def make_stale(clinic: Clinic) -> None:
    with committing(runtime(clinic.world.app)) as s:
        old = utcnow() - timedelta(minutes=30)
        s.execute(update(LoginSession).values(authenticated_at=old))
        s.commit()


def test_a_stale_sign_in_gets_the_relogin_form_then_the_file_with_its_options(
    clinic: Clinic,
) -> None:
    scene = build_scene(clinic)
    b = scene.world.browser(clinic.clinician)
    make_stale(clinic)
    url = f"/courses/{clinic.course.id}/export"
    options = {
        "format": "json",
        "span": "sessions",
        "sessions": [str(clinic.upcoming.id)],
        "phases": ["preparation"],
    }
    r = b.post(url, options)
    assert r.status_code == 401 and not is_file(r)
    page = r.get_data(as_text=True)
    assert 'name="password"' in page
    assert f'name="sessions" value="{clinic.upcoming.id}"' in page
    assert scene["pshared"].markers[0] not in page

    wrong = b.post(url, {**options, "password": "not the password", "code": "000000"})
    assert wrong.status_code == 401 and not is_file(wrong)
    assert "did not match" in wrong.get_data(as_text=True)

    code = second_factor_code(clinic.clinician.email)
    r = b.post(url, {**options, "password": PASSWORD, "code": code})
    assert r.status_code == 200 and is_file(r), r.get_data(as_text=True)[:300]
    data = json.loads(r.data)
    assert [s["id"] for s in data["sessions"]] == [str(clinic.upcoming.id)]
    assert data["scope"]["options"]["phases"] == ["preparation"]
    # The sign-in counts as recent again.
    assert is_file(export(b, clinic.course.id, "md"))


def test_a_stale_protected_export_asks_for_the_passphrase_again(clinic: Clinic) -> None:
    b = clinic.world.browser(clinic.patient)
    make_stale(clinic)
    phrase = "a long enough passphrase"
    r = export(b, clinic.course.id, "pdf", protect="y", passphrase=phrase, passphrase_again=phrase)
    assert r.status_code == 401
    page = r.get_data(as_text=True)
    assert phrase not in page
    assert 'name="passphrase"' in page and 'name="protect" value="y"' in page
    r = export(
        b,
        clinic.course.id,
        "pdf",
        protect="y",
        passphrase=phrase,
        passphrase_again=phrase,
        password=PASSWORD,
    )
    assert r.status_code == 200 and PdfReader(io.BytesIO(r.data)).is_encrypted


# -- the patient's own data ------------------------------------------------------------


def test_patient_data_export_holds_everything_they_wrote_and_may_see(clinic: Clinic) -> None:
    scene = build_scene(clinic)
    second = clinic.world.course(clinic.patient, clinic.other_clinician)
    clinic.world.session(second, clinic.other_clinician, -2)
    later = write(
        clinic.world,
        clinic.patient,
        second,
        Visibility.PRIVATE,
        label="second",
        phase=Phase.INTEGRATION,
    )
    b = scene.world.browser(clinic.patient)
    r = b.post("/account/export", {"format": "json"})
    assert r.status_code == 200 and is_file(r)
    assert r.headers["Content-Disposition"].startswith('attachment; filename="my-journal-')
    text = r.get_data(as_text=True)
    data = json.loads(text)
    validate(data)
    assert data["kind"] == "patient_data" and len(data["courses"]) == 2
    present, absent = readable_markers(scene, "patient", private=True)
    check(text, present | set(later.markers), absent)

    pdf = b.post("/account/export", {"format": "pdf"})
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    check(flat(pdf_text(pdf.data)), present | set(later.markers), absent)


def test_patient_data_export_is_for_patients_only(clinic: Clinic) -> None:
    for who in ("clinician", "admin"):
        b = clinic.world.browser(getattr(clinic, who))
        assert b.get("/account/export").status_code == 403
        r = b.post("/account/export", {"format": "json"})
        assert r.status_code == 403 and not is_file(r)


def test_patient_data_export_refuses_other_formats(clinic: Clinic) -> None:
    b = clinic.world.browser(clinic.patient)
    r = b.post("/account/export", {"format": "md"})
    assert r.status_code == 400 and not is_file(r)
    assert "Choose one of the listed formats" in r.get_data(as_text=True)


def test_the_export_pages_show_the_options(clinic: Clinic) -> None:
    b = clinic.world.browser(clinic.patient)
    page = b.text(f"/courses/{clinic.course.id}/export")
    for name in (
        "format",
        "span",
        "date_from",
        "date_to",
        "sessions",
        "phases",
        "include_private",
        "protect",
        "passphrase",
    ):
        assert f'name="{name}"' in page, name
    for phase in ("preparation", "in_session", "integration"):
        assert f'name="phases" value="{phase}" checked' in page
    assert f'name="sessions" value="{clinic.upcoming.id}"' in page
    staff = clinic.world.browser(clinic.clinician).text(f"/courses/{clinic.course.id}/export")
    assert 'name="include_private"' not in staff
    assert 'name="format"' in b.text("/account/export")


def test_a_course_without_sessions_and_a_patient_without_courses(clinic: Clinic) -> None:
    world = clinic.world
    newcomer = world.user(Role.PATIENT)
    b = world.browser(newcomer)
    r = b.post("/account/export", {"format": "json"})
    assert r.status_code == 200 and is_file(r)
    data = json.loads(r.data)
    validate(data)
    assert data["courses"] == []
    assert b.post("/account/export", {"format": "pdf"}).mimetype == "application/pdf"

    course = world.course(newcomer, clinic.clinician)
    staff = world.browser(clinic.clinician)
    for fmt in ("json", "md", "pdf"):
        r = export(staff, course.id, fmt)
        assert r.status_code == 200 and is_file(r), fmt
    assert "No dosing sessions in this export." in export(staff, course.id, "md").get_data(
        as_text=True
    )


def test_a_missing_pdf_font_is_a_clear_page_not_a_500(
    clinic: Clinic, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Without its fonts the PDF cannot be typeset: the page says so (503), the log names
    what to install, nothing is recorded as exported, and other formats still work."""
    gone = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc (fonts-noto-cjk)"
    monkeypatch.setattr(render_pdf, "missing_fonts", lambda: (gone,))
    clinician, patient = (
        clinic.world.browser(clinic.clinician),
        clinic.world.browser(clinic.patient),
    )

    def exports() -> int:
        with runtime(clinic.world.app).database.session() as s:
            found = s.scalars(select(AuditEvent).where(AuditEvent.action.like("export.%")))
            return len(list(found))

    for browser, url in [
        (clinician, f"/courses/{clinic.course.id}/export"),
        (patient, "/account/export"),
    ]:
        r = browser.post(url, {"format": "pdf"})
        assert r.status_code == 503, url
        assert "Not available on this server" in r.get_data(as_text=True)
        assert r.mimetype == "text/html"
    assert "apt-get install fonts-noto-core fonts-noto-cjk" in caplog.text and gone in caplog.text
    assert exports() == 0
    r = clinician.post(f"/courses/{clinic.course.id}/export", {"format": "html"})
    assert r.status_code == 200 and r.mimetype == "text/html"
    assert exports() == 1


@pytest.mark.security_review(finding=10)
def test_the_html_file_carries_its_own_strict_content_security_policy(clinic: Clinic) -> None:
    """Opened from a disk, the file has no server headers: its own policy lets it load,
    run and send nothing (styles are embedded)."""
    r = export(clinic.world.browser(clinic.clinician), clinic.course.id, "html")
    page = r.get_data(as_text=True)
    policy = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert policy is not None
    rules = dict(rule.strip().split(" ", 1) for rule in policy.group(1).split(";"))
    assert rules["default-src"] == "'none'" and rules["form-action"] == "'none'"
    assert "script-src" not in rules and "<script" not in page
    assert page.index("Content-Security-Policy") < page.index("<style")
