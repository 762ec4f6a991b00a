"""The review work of issue 3 in the export of issue 5, tested from the outside.

Comments (with their replies), reviews, themes and psychotherapy notes of
tests/scene.py, looked for in the exported files (JSON, PDF text, Markdown,
HTML). Who may read what comes from the scene's own visibility table
(`may_read_extra`), not from policy.py.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from journal import export
from journal.core.actor import Actor
from journal.core.errors import NotFound
from journal.journaling.entries import EntryInput, edit_entry
from journal.models import AuditEvent, Entry, NoteDisclosure, Phase, Visibility
from journal.review import access_log, review
from tests.conftest import Clinic, committing, runtime, work_in
from tests.export_helpers import export as post_export
from tests.export_helpers import flat, is_file, pdf_text, validate
from tests.scene import Extra, Scene, build_scene, count_rows, marker
from tests.test_no_n_plus_one import courses_of_sizes, statements
from tests.test_review_at_rest import database_hits, file_hits

REASON = "Referral letter for the treating psychiatrist"
FORMATS = ["json", "pdf", "md", "html"]


def text_of(fmt: str, content: bytes) -> str:
    return flat(pdf_text(content)) if fmt == "pdf" else content.decode()


# The scene's marker of a dosing-session record (in its discharge notes) and of the
# screening (an item's note) are in a clinician's export only, by the scene's table
# like every clinical extra.


def extras_of(scene: Scene, kinds: tuple[str, ...]) -> list[Extra]:
    return [x for x in scene.extras if x.course.id == scene.clinic.course.id and x.kind in kinds]


def expected_extras(scene: Scene, who: str, *, notes: bool) -> tuple[set[str], set[str]]:
    """(must appear, must never appear): comments, replies and themes by the scene's
    table; notes only in a clinician's export that includes them."""
    user = getattr(scene.clinic, who)
    present, absent = set(), set()
    for x in scene.extras:
        on_course = x.course.id == scene.clinic.course.id
        if x.kind == "note":
            shown = notes and on_course and scene.may_read_extra(user, x)
        else:
            shown = on_course and scene.may_read_extra(user, x)
        (present if shown else absent).add(x.marker)
    return present, absent


def check(text: str, present: set[str], absent: set[str]) -> None:
    missing = sorted(m for m in present if m not in text)
    leaked = sorted(m for m in absent if m in text)
    assert not missing, f"missing: {missing}"
    assert not leaked, f"leaked: {leaked}"


def with_notes(reason: str = REASON) -> dict[str, str]:
    return {"include_psychotherapy_notes": "y", "notes_reason": reason}


def patients_log(scene: Scene) -> list[access_log.AccessRow]:
    with runtime(scene.app).database.session() as s:
        return access_log.access_log(work_in(runtime(scene.app), s, Actor(scene.clinic.patient)))


def disclosures(scene: Scene) -> int:
    return count_rows(scene.app, NoteDisclosure)


# -- comments, replies and themes: each scope holds exactly what it may ------------------


@pytest.mark.parametrize(
    ("who", "private"), [("clinician", False), ("patient", False), ("patient", True)]
)
def test_comments_and_themes_follow_the_exporters_scope(
    clinic: Clinic, who: str, private: bool, subtests: pytest.Subtests
) -> None:
    scene = build_scene(clinic)  # one scene, every format exported from it
    b = scene.world.browser(getattr(clinic, who))
    present, absent = expected_extras(scene, who, notes=False)
    assert present  # the scene gives each reader something to find
    absent |= set(scene.forbidden_markers(getattr(clinic, who)))
    for fmt in FORMATS:
        with subtests.test(fmt=fmt):
            r = post_export(
                b, clinic.course.id, fmt, **({"include_private": "y"} if private else {})
            )
            assert r.status_code == 200 and is_file(r), r.get_data(as_text=True)[:300]
            check(text_of(fmt, r.data), present, absent)


def test_the_json_nests_replies_and_shows_visibility_only_as_it_is(clinic: Clinic) -> None:
    scene = build_scene(clinic)
    staff = json.loads(post_export(scene.world.browser(clinic.clinician), clinic.course.id).data)
    own = json.loads(post_export(scene.world.browser(clinic.patient), clinic.course.id).data)
    validate(staff)
    validate(own)
    shared_id = str(scene["pshared"].id)

    def comments_of(data: dict[str, Any]) -> list[dict[str, Any]]:
        found = [e for s in data["sessions"] for e in s["entries"] if e["id"] == shared_id]
        assert len(found) == 1
        result: list[dict[str, Any]] = found[0]["comments"]
        return result

    def marker_of(kind: str) -> str:
        return next(x.marker for x in extras_of(scene, (kind,)))

    threads = comments_of(staff)
    assert [c["visibility"] for c in threads] == ["care_team", "clinician_only"]
    first = threads[0]
    assert marker_of("comment") in first["body_markdown"] and first["quote"] == "Some words"
    assert first["author"]["id"] == str(clinic.clinician.id)
    assert [marker_of("reply") in r["body_markdown"] for r in first["replies"]] == [True]
    assert first["replies"][0]["author"]["id"] == str(clinic.patient.id)

    mine = comments_of(own)
    assert [c["visibility"] for c in mine] == ["care_team"]
    assert marker_of("staff_comment") not in json.dumps(own)
    assert len(mine[0]["replies"]) == 1


def test_themes_per_entry_and_the_themes_index(clinic: Clinic) -> None:
    scene = build_scene(clinic)
    data = json.loads(post_export(scene.world.browser(clinic.clinician), clinic.course.id).data)
    numbers = {s["id"]: s["number"] for s in data["sessions"]}
    tagged = {
        e["id"]: (s["id"], e["themes"])
        for s in data["sessions"]
        for e in s["entries"]
        if e["themes"]
    }
    themes = extras_of(scene, ("theme",))
    assert len(themes) == 2
    for x in themes:
        assert x.entry is not None
        session_id, tags = tagged[str(x.entry.id)]
        assert [t["kind"] for t in tags] == ["images"] and x.marker in tags[0]["name"]
        index = [t for t in data["themes"] if x.marker in t["name"]]
        assert len(index) == 1
        assert index[0]["session_numbers"] == [numbers[session_id]]
        assert index[0]["entries"] == 1
    md = post_export(scene.world.browser(clinic.clinician), clinic.course.id, "md").get_data(
        as_text=True
    )
    assert "## Themes" in md


# -- reviews -------------------------------------------------------------------------------


def test_read_by_and_changed_since_review_reach_both_exports(clinic: Clinic) -> None:
    scene = build_scene(clinic)
    world = scene.world
    shared = scene["pshared"]
    review.mark_reviewed(world.as_(clinic.clinician), shared.id)
    for who in ("clinician", "patient"):
        b = world.browser(getattr(clinic, who))
        data = json.loads(post_export(b, clinic.course.id).data)
        entry = next(e for s in data["sessions"] for e in s["entries"] if e["id"] == str(shared.id))
        assert [(r["clinician"], r["changed_since"]) for r in entry["reviews"]] == [
            (clinic.clinician.name, False)
        ]
        pdf = " ".join(pdf_text(post_export(b, clinic.course.id, "pdf").data).split())
        assert f"Read by {clinic.clinician.name} on" in pdf
        assert "changed since review" not in pdf

    row = world.db.get(Entry, shared.id)
    assert row is not None
    edit_entry(
        world.as_(clinic.patient),
        shared.id,
        EntryInput(
            phase=Phase.PREPARATION,
            title="Changed after review",
            body="New words.",
            visibility=Visibility.CARE_TEAM,
        ),
        expected_version=row.version,
    )
    b = world.browser(clinic.patient)
    md = post_export(b, clinic.course.id, "md").get_data(as_text=True)
    assert f"Read by {clinic.clinician.name} on" in md and "(changed since review)" in md
    pdf = " ".join(pdf_text(post_export(b, clinic.course.id, "pdf").data).split())
    assert "changed since review" in pdf


# -- psychotherapy notes -------------------------------------------------------------------


def test_notes_are_left_out_of_a_clinicians_export_without_the_option(
    clinic: Clinic, subtests: pytest.Subtests
) -> None:
    scene = build_scene(clinic)
    notes = {x.marker for x in extras_of(scene, ("note",))}
    assert notes
    for fmt in FORMATS:
        with subtests.test(fmt=fmt):
            r = post_export(scene.world.browser(clinic.clinician), clinic.course.id, fmt)
            assert r.status_code == 200
            text = text_of(fmt, r.data)
            assert not any(m in text for m in notes)
            assert "Psychotherapynotes" not in "".join(text.split())
    assert disclosures(scene) == 0


def test_notes_appear_in_a_marked_section_when_a_clinician_includes_them(
    clinic: Clinic, subtests: pytest.Subtests
) -> None:
    scene = build_scene(clinic)
    present, absent = expected_extras(scene, "clinician", notes=True)
    heading = f"Psychotherapy notes (included by {clinic.clinician.name}: {REASON})"
    b = scene.world.browser(clinic.clinician)
    for n, fmt in enumerate(FORMATS, 1):
        with subtests.test(fmt=fmt):
            r = post_export(b, clinic.course.id, fmt, **with_notes())
            assert r.status_code == 200 and is_file(r), r.get_data(as_text=True)[:300]
            text = text_of(fmt, r.data)
            check(text, present, absent)
            if fmt != "json":
                assert "".join(heading.split()) in "".join(text.split())
            else:
                data = json.loads(r.data)
                validate(data)
                notes = data["scope"]["psychotherapy_notes"]
                assert notes["reason"] == REASON
                assert notes["included_by"]["id"] == str(clinic.clinician.id)
                assert data["scope"]["options"]["include_psychotherapy_notes"] is True
                assert all("psychotherapy_notes" in s for s in data["sessions"])
            assert disclosures(scene) == n  # each export with notes is recorded


def test_the_reason_is_recorded_sealed_and_audited_apart_from_the_patients_log(
    clinic: Clinic,
) -> None:
    scene = build_scene(clinic)
    world = scene.world
    reason = f"Second opinion {marker('reason')}"
    log_before = patients_log(scene)
    r = post_export(world.browser(clinic.clinician), clinic.course.id, "pdf", **with_notes(reason))
    assert r.status_code == 200

    with runtime(scene.app).database.session() as s:
        rows = list(s.scalars(select(NoteDisclosure)))
        events = list(s.scalars(select(AuditEvent).order_by(AuditEvent.seq)))
    assert [(d.course_id, d.exported_by, d.format) for d in rows] == [
        (clinic.course.id, clinic.clinician.id, "pdf")
    ]
    # Encrypted: in no database value, nor in the SQLite files; readable back with the key.
    hits, _ = database_hits(scene.app, {"reason": reason})
    assert hits == {}
    instance = runtime(scene.app).settings.instance_path
    assert file_hits(instance.glob("journal.sqlite3*"), {"reason": reason}) == {}
    with runtime(scene.app).database.session() as s:
        found = export.note_disclosures(
            work_in(runtime(scene.app), s, Actor(clinic.clinician)), clinic.course.id
        )
    assert [text for _, text in found] == [reason]

    exports = [e for e in events if e.action == "export.pdf"]
    note_events = [e for e in events if e.object_type == "note" and e.action == "note.export"]
    assert len(exports) == 1 and exports[0].object_type == "course.clinician"
    assert [(e.object_id, e.subject_id, e.actor_id) for e in note_events] == [
        (rows[0].id, clinic.patient.id, clinic.clinician.id)
    ]
    # The patient's access log shows the export, and leaves the note events out.
    after = patients_log(scene)
    new = after[: len(after) - len(log_before)]
    assert after[len(new) :] == log_before
    assert [(row.action, row.what) for row in new] == [
        ("exported (PDF)", "a summary of your course")
    ]


def test_the_disclosures_are_for_the_care_team_only(clinic: Clinic) -> None:
    scene = build_scene(clinic)
    post_export(scene.world.browser(clinic.clinician), clinic.course.id, "json", **with_notes())
    with runtime(scene.app).database.session() as s:
        for who in ("patient", "other_clinician", "admin"):
            unit = work_in(runtime(scene.app), s, Actor(getattr(clinic, who)))
            with pytest.raises(NotFound):
                export.note_disclosures(unit, clinic.course.id)


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        ("", "Give the reason for including psychotherapy notes (5 to 300 characters)."),
        ("   ", "Give the reason for including psychotherapy notes"),
        ("abcd", "Give the reason for including psychotherapy notes"),
        ("x" * 301, "Give the reason for including psychotherapy notes"),
    ],
)
def test_notes_without_a_proper_reason_get_a_clear_message_and_no_file(
    clinic: Clinic, reason: str, message: str
) -> None:
    scene = build_scene(clinic)
    r = post_export(
        scene.world.browser(clinic.clinician), clinic.course.id, "json", **with_notes(reason)
    )
    assert r.status_code == 400 and not is_file(r)
    assert message in r.get_data(as_text=True)
    assert not any(x.marker in r.get_data(as_text=True) for x in extras_of(scene, ("note",)))
    assert disclosures(scene) == 0


def test_a_reason_of_five_and_of_300_characters_is_accepted(clinic: Clinic) -> None:
    scene = build_scene(clinic)
    b = scene.world.browser(clinic.clinician)
    for reason in ("a" * 5, "b" * 300):
        r = post_export(b, clinic.course.id, "json", **with_notes(reason))
        assert r.status_code == 200 and is_file(r)
    assert disclosures(scene) == 2


@pytest.mark.parametrize("fmt", ["json", "pdf", "md"])
@pytest.mark.parametrize("private", [False, True])
def test_a_patient_posting_the_notes_option_is_refused_and_gets_no_notes(
    clinic: Clinic, fmt: str, private: bool
) -> None:
    """Decided: refused with 400 (like a clinician asking for private entries), no file."""
    scene = build_scene(clinic)
    b = scene.world.browser(clinic.patient)
    extra = {"include_private": "y"} if private else {}
    r = post_export(b, clinic.course.id, fmt, **with_notes(), **extra)
    assert r.status_code == 400 and not is_file(r)
    body = r.get_data(as_text=True)
    assert "Only a clinician on the care team can include psychotherapy notes." in body
    assert not any(x.marker in body for x in extras_of(scene, ("note",)))
    assert disclosures(scene) == 0


def test_the_patients_own_data_export_ignores_a_posted_notes_option(clinic: Clinic) -> None:
    """/account/export has no such option: a posted value is ignored, no note is shown."""
    scene = build_scene(clinic)
    b = scene.world.browser(clinic.patient)
    notes = {x.marker for x in scene.extras if x.kind == "note"}
    for fmt in ("json", "pdf"):
        r = b.post("/account/export", {"format": fmt, **with_notes()})
        assert r.status_code == 200 and is_file(r)
        text = text_of(fmt, r.data)
        assert not any(m in text for m in notes)
        present, absent = expected_extras(scene, "patient", notes=False)
        check(text, present, absent)
    assert disclosures(scene) == 0


def test_another_clinician_gets_404_with_or_without_the_option(clinic: Clinic) -> None:
    scene = build_scene(clinic)
    b = scene.world.browser(clinic.other_clinician)
    for options in ({}, with_notes()):
        r = post_export(b, clinic.course.id, "json", **options)
        assert r.status_code == 404 and not is_file(r)
        assert not any(x.marker in r.get_data(as_text=True) for x in scene.extras)
    assert disclosures(scene) == 0


def test_only_the_clinicians_export_page_offers_the_notes_option(clinic: Clinic) -> None:
    url = f"/courses/{clinic.course.id}/export"
    staff = clinic.world.browser(clinic.clinician).text(url)
    assert 'name="include_psychotherapy_notes"' in staff and 'name="notes_reason"' in staff
    assert "Include psychotherapy notes" in staff
    own = clinic.world.browser(clinic.patient).text(url)
    assert "include_psychotherapy_notes" not in own and "notes_reason" not in own
    assert "sychotherapy" not in own


def test_a_stale_sign_in_carries_the_notes_option_and_reason(clinic: Clinic) -> None:
    from tests.helpers import PASSWORD, second_factor_code
    from tests.test_export import make_stale

    scene = build_scene(clinic)
    b = scene.world.browser(clinic.clinician)
    make_stale(clinic)
    url = f"/courses/{clinic.course.id}/export"
    r = b.post(url, {"format": "json", **with_notes()})
    assert r.status_code == 401
    page = r.get_data(as_text=True)
    assert 'name="include_psychotherapy_notes" value="y"' in page
    assert f'name="notes_reason" value="{REASON}"' in page
    code = second_factor_code(clinic.clinician.email)
    r = b.post(url, {"format": "json", **with_notes(), "password": PASSWORD, "code": code})
    assert r.status_code == 200 and is_file(r)
    assert json.loads(r.data)["scope"]["psychotherapy_notes"]["reason"] == REASON


# -- a fixed number of statements ------------------------------------------------------------


def annotate(clinic: Clinic, entry_ids: list[uuid.UUID]) -> None:
    """A comment, a reply, a theme and a review on every entry the clinician can read."""
    from journal.journaling import themes
    from journal.review import comments
    from journal.review.comments import CommentInput

    world = clinic.world
    staff = Actor(clinic.clinician)
    for entry_id in entry_ids:
        entry = world.db.get(Entry, entry_id)
        assert entry is not None
        if entry.visibility == Visibility.PRIVATE:
            continue
        made = comments.add_comment(
            world.as_actor(staff), entry_id, CommentInput(body="A comment.")
        )
        comments.add_comment(
            world.as_actor(staff), entry_id, CommentInput(body="More.", parent_id=made.id)
        )
        themes.tag_entry(world.as_actor(staff), entry_id, "feelings", f"T{entry_id.hex[:4]}")
        review.mark_reviewed(world.as_actor(staff), entry_id)


@pytest.mark.parametrize("fmt", ["json", "md"])
def test_export_statements_do_not_grow_with_entries_and_comments(clinic: Clinic, fmt: str) -> None:
    small, large, small_entries, large_entries = courses_of_sizes(clinic)
    annotate(clinic, [w.id for w in small_entries])
    annotate(clinic, [w.id for w in large_entries])
    b = clinic.world.browser(clinic.clinician)
    counts = []
    for course in (small, large, small, large):  # warm up both, then count both
        with statements(clinic.world.app) as seen:
            r = post_export(b, course.id, fmt, **with_notes())
        assert r.status_code == 200
        counts.append(len(seen))
    assert counts[2] == counts[3], counts


# -- the disclosure record through key rotation and erasure --------------------------------


def test_a_disclosure_survives_key_rotation_and_goes_with_erasure(clinic: Clinic) -> None:
    from journal.accounts.erasure import remove_patient_rows
    from journal.crypto import blob_key_id
    from journal.keyrotation import rotate_data_keys, verify_all

    scene = build_scene(clinic)
    post_export(scene.world.browser(clinic.clinician), clinic.course.id, "md", **with_notes())
    rt = runtime(scene.app)
    with rt.database.session() as s:
        before = blob_key_id(s.scalars(select(NoteDisclosure)).one().reason)
    rotate_data_keys(rt.database, rt.ring, [clinic.patient.id])
    with rt.database.session() as s:
        assert blob_key_id(s.scalars(select(NoteDisclosure)).one().reason) != before
        found = export.note_disclosures(work_in(rt, s, Actor(clinic.clinician)), clinic.course.id)
    assert [text for _, text in found] == [REASON]
    _, failures = verify_all(rt.database, rt.ring)
    assert failures == []
    with committing(rt) as s:
        remove_patient_rows(s, clinic.patient.id)
        s.commit()
    assert disclosures(scene) == 0
