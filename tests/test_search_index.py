"""The sealed search index (issue 21): the same answers as searching every entry, kept
up to date by every write in the same unit of work, sealed under the patient's key
(re-sealed by key rotation, gone with an erasure), and the same visibility."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import delete, select, text, update

from journal.accounts.policy import (
    course_access,
    readable_entries_anywhere,
    readable_entries_clause,
)
from journal.crypto import blob_key_id
from journal.journaling import entries, search, search_index
from journal.journaling.entries import EntryInput
from journal.journaling.intentions import OutcomeInput
from journal.keyrotation import rotate_data_keys
from journal.models import (
    Course,
    DataKey,
    Entry,
    Intention,
    IntentionOutcome,
    OutcomeStatus,
    Phase,
    SearchShard,
    User,
    Visibility,
)
from tests.conftest import Clinic, World, postgres_only, runtime
from tests.scene import build_scene, marker, write
from tests.test_search import GOOD


def reference(world: World, user: User, terms: list[str], course: uuid.UUID | None) -> list[str]:
    """What search found before the index: every readable entry opened and matched
    (its title, body, intentions and outcome reflections, casefolded)."""
    db, vault = world.db, world.vault
    clause = (
        readable_entries_clause(course_access(db, user, course))
        if course
        else readable_entries_anywhere(user)
    )
    rows = db.execute(
        select(Entry, Course.patient_id)
        .join(Course, Course.id == Entry.course_id)
        .where(clause)
        .order_by(Entry.created_at.desc(), Entry.id)
    ).all()
    found = []
    for entry, owner in rows:
        texts = [vault.open_column(entry, "title", owner), vault.open_column(entry, "body", owner)]
        for i in db.scalars(
            select(Intention).where(Intention.entry_id == entry.id).order_by(Intention.position)
        ):
            texts.append(vault.open_column(i, "text", owner))
        for o in db.scalars(select(IntentionOutcome).where(IntentionOutcome.entry_id == entry.id)):
            texts.append(vault.open_optional(o, "reflection", owner) or "")
        words = "\n".join(texts).casefold()
        if all(t in words for t in terms):
            found.append(entry.id.hex)
    return found[: search.RESULTS_MAX]


def found(world: World, user: User, q: str, course: uuid.UUID | None = None) -> list[str]:
    results = search.search(world.as_(user), q, course)
    world.commit()
    return [h.entry_id.hex for h in results.hits]


def shard_words(world: World, course: uuid.UUID) -> dict[str, str]:
    """Every shard of a course, opened: entry id (hex) -> indexed words."""
    world.db.expire_all()
    words: dict[str, str] = {}
    owner = world.db.scalar(select(Course.patient_id).where(Course.id == course))
    assert owner is not None
    for shard in world.db.scalars(select(SearchShard).where(SearchShard.course_id == course)):
        opened = search_index.unpack(world.vault.open_column(shard, "payload", owner))
        assert len(opened) == shard.entry_count
        assert not set(opened) & set(words)  # each entry in one shard only
        words.update(opened)
    return words


def entry_input(title: str, body: str, **more: object) -> EntryInput:
    fields: dict[str, object] = {
        "phase": Phase.INTEGRATION,
        "title": title,
        "body": body,
        "visibility": Visibility.CARE_TEAM,
    }
    fields.update(more)
    return EntryInput(**fields)  # type: ignore[arg-type]


# -- the same answers -----------------------------------------------------------------------


def test_the_index_answers_as_searching_every_entry_did(clinic: Clinic) -> None:
    scene = build_scene(clinic)
    world = scene.world
    queries = ["written", "some words", "title", "absentword", *GOOD]
    queries += [m for w in scene.written.values() for m in w.markers]
    queries += [x.marker for x in scene.extras]
    for who in ("patient", "clinician", "other_patient", "other_clinician"):
        user = getattr(clinic, who)
        for q in queries:
            terms = search.parse_query(q)
            assert found(world, user, q) == reference(world, user, terms, None), (who, q)
    for q in queries:
        terms = search.parse_query(q)
        for who in ("patient", "clinician"):
            user = getattr(clinic, who)
            got = found(world, user, q, clinic.course.id)
            assert got == reference(world, user, terms, clinic.course.id), (who, q)
    results = search.search(world.as_(clinic.patient), "written")
    assert results.searched == len(scene.readable(clinic.patient))


def test_visibility_is_the_pages_a_clinician_only_entry_is_indexed_never_shown(
    clinic: Clinic,
) -> None:
    world = clinic.world
    made = {
        v: write(world, author, clinic.course, v, label=v.value)
        for v, author in (
            (Visibility.CLINICIAN_ONLY, clinic.clinician),
            (Visibility.PRIVATE, clinic.patient),
            (Visibility.CARE_TEAM, clinic.patient),
        )
    }
    ids = {v: w.id.hex for v, w in made.items()}
    indexed = shard_words(world, clinic.course.id)
    assert set(ids.values()) <= set(indexed)  # one index per course, whoever may read
    staff, private, shared = (
        made[v].current.markers[0]
        for v in (Visibility.CLINICIAN_ONLY, Visibility.PRIVATE, Visibility.CARE_TEAM)
    )
    assert found(world, clinic.patient, staff) == []
    assert found(world, clinic.patient, private) == [ids[Visibility.PRIVATE]]
    assert found(world, clinic.clinician, staff) == [ids[Visibility.CLINICIAN_ONLY]]
    assert found(world, clinic.clinician, private) == []
    assert found(world, clinic.clinician, shared) == [ids[Visibility.CARE_TEAM]]
    for outsider in (clinic.other_patient, clinic.other_clinician):
        for word in (staff, private, shared):
            assert found(world, outsider, word) == []


# -- kept up to date by each write ----------------------------------------------------------


def test_each_write_updates_the_index_in_its_own_unit(clinic: Clinic) -> None:
    world = clinic.world
    first, second = marker("first"), marker("second")
    entry = entries.create_entry(
        world.as_(clinic.patient),
        clinic.course.id,
        entry_input("Fictional", f"a {first}", between_sessions=True),
    )
    world.commit()
    key = entry.id.hex
    assert first in shard_words(world, clinic.course.id)[key]
    assert found(world, clinic.patient, first) == [key]

    entries.edit_entry(
        world.as_(clinic.patient),
        entry.id,
        entry_input("Fictional", f"b {second}", between_sessions=True),
        expected_version=1,
    )
    world.commit()
    assert found(world, clinic.patient, first) == []
    assert found(world, clinic.patient, second) == [key]
    assert first not in shard_words(world, clinic.course.id)[key]

    entries.attach_entry(world.as_(clinic.clinician), entry.id, clinic.past.id)
    world.commit()
    assert found(world, clinic.patient, second) == [key]

    entries.delete_entry(world.as_(clinic.patient), entry.id, keep_days=30)
    world.commit()
    assert key not in shard_words(world, clinic.course.id)  # out of the index, not hidden
    assert found(world, clinic.patient, second) == []

    entries.restore_entry(world.as_(clinic.patient), entry.id)
    world.commit()
    assert found(world, clinic.patient, second) == [key]

    entries.delete_entry(world.as_(clinic.patient), entry.id, keep_days=30)
    world.commit()
    entries.restore_entry(world.as_(clinic.patient), entry.id)
    world.commit()
    entries.delete_entry(world.as_(clinic.patient), entry.id, keep_days=0)
    world.commit()
    assert key not in shard_words(world, clinic.course.id)
    assert found(world, clinic.patient, second) == []


def test_outcome_reflections_follow_the_intentions_they_are_about(clinic: Clinic) -> None:
    world = clinic.world
    me = world.as_(clinic.patient)
    prep = entries.create_entry(
        me,
        clinic.course.id,
        entry_input(
            "Before", "Fictional", phase=Phase.PREPARATION, intentions=["Meet the heron gently"]
        ),
    )
    world.commit()
    intention = world.db.scalar(select(Intention.id).where(Intention.entry_id == prep.id))
    assert intention is not None
    reflection = marker("kestrel")
    after = entries.create_entry(
        world.as_(clinic.patient),
        clinic.course.id,
        entry_input(
            "After",
            "Fictional",
            outcomes={intention: OutcomeInput(OutcomeStatus.PARTLY, reflection)},
        ),
    )
    world.commit()
    assert found(world, clinic.patient, reflection) == [after.id.hex]
    assert found(world, clinic.patient, "heron") == [prep.id.hex]

    # Taking the intention out of the preparation entry deletes its outcome: the
    # reflection leaves the other entry's indexed words too.
    entries.edit_entry(
        world.as_(clinic.patient),
        prep.id,
        entry_input("Before", "Fictional", phase=Phase.PREPARATION),
        expected_version=1,
    )
    world.commit()
    assert reflection not in shard_words(world, clinic.course.id)[after.id.hex]
    assert found(world, clinic.patient, reflection) == []
    assert found(world, clinic.patient, "heron") == []


def test_a_word_the_index_still_holds_is_not_shown_once_the_entry_lost_it(
    clinic: Clinic,
) -> None:
    """The index narrows the search; each hit is checked against the entry itself."""
    world = clinic.world
    written = write(world, clinic.patient, clinic.course, Visibility.CARE_TEAM, label="held")
    shard = world.db.scalar(select(SearchShard).where(SearchShard.course_id == clinic.course.id))
    assert shard is not None
    held = search_index.unpack(world.vault.open_column(shard, "payload", clinic.patient.id))
    held[written.id.hex] += "\nghostword"
    search_index._store(world.vault, shard, clinic.patient.id, held)
    world.commit()
    assert found(world, clinic.patient, "ghostword") == []
    assert found(world, clinic.patient, written.current.markers[0]) == [written.id.hex]


def test_a_long_course_spreads_over_shards(clinic: Clinic, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search_index, "SHARD_ENTRIES", 3)
    world = clinic.world
    written = [
        write(world, clinic.patient, clinic.course, Visibility.CARE_TEAM, label=f"long{n}")
        for n in range(8)
    ]
    numbers = world.db.scalars(
        select(SearchShard.number)
        .where(SearchShard.course_id == clinic.course.id)
        .order_by(SearchShard.number)
    ).all()
    assert list(numbers) == [0, 1, 2]
    assert len(shard_words(world, clinic.course.id)) == 8
    for w in written:
        assert found(world, clinic.patient, w.current.markers[1]) == [w.id.hex]
    middle = written[4]
    entries.delete_entry(world.as_(clinic.patient), middle.id, keep_days=30)
    world.commit()
    assert found(world, clinic.patient, middle.current.markers[1]) == []
    entries.restore_entry(world.as_(clinic.patient), middle.id)
    world.commit()
    assert found(world, clinic.patient, middle.current.markers[1]) == [middle.id.hex]
    assert len(shard_words(world, clinic.course.id)) == 8
    common = found(world, clinic.patient, "written")
    assert common == reference(world, clinic.patient, ["written"], None) and len(common) == 8


# -- built for what was written before it ----------------------------------------------------


def _forget_the_index(world: World, course: uuid.UUID) -> None:
    """As a database written before revision 0029 looks after upgrading."""
    world.db.execute(delete(SearchShard).where(SearchShard.course_id == course))
    world.db.execute(update(Entry).where(Entry.course_id == course).values(search_shard=None))
    world.commit()


def test_entries_written_before_the_index_are_found_and_then_indexed(clinic: Clinic) -> None:
    world = clinic.world
    written = write(world, clinic.patient, clinic.course, Visibility.CARE_TEAM, label="early")
    _forget_the_index(world, clinic.course.id)
    assert shard_words(world, clinic.course.id) == {}

    # A search is a unit that reads: it finds the entry the slow way, and the index is
    # written when it ends.
    browser = world.browser(clinic.patient)
    page = browser.search(written.current.markers[0]).get_data(as_text=True)
    assert f"/entries/{written.id}" in page
    assert written.id.hex in shard_words(world, clinic.course.id)
    assert found(world, clinic.patient, written.current.markers[1]) == [written.id.hex]


@pytest.mark.skipif(not postgres_only(), reason="row locks: PostgreSQL (SQLite has one writer)")
def test_filling_the_index_after_a_search_never_waits_for_another_writer(
    clinic: Clinic,
) -> None:
    world = clinic.world
    written = write(world, clinic.patient, clinic.course, Visibility.CARE_TEAM, label="held")
    _forget_the_index(world, clinic.course.id)
    database = runtime(world.app).database
    with database.session(write=True) as saving:  # a save of the course, not yet committed
        saving.execute(
            select(Course.id).where(Course.id == clinic.course.id).with_for_update(key_share=True)
        ).one()
        unit = world.as_(clinic.patient)
        unit.db.execute(text("SET LOCAL lock_timeout = '2s'"))  # waiting would fail, not hang
        done = search_index.index_missing(unit.db, unit.vault, [clinic.course.id], waiting=False)
        assert done == 0  # skipped at once, not waited for
        world.db.rollback()
        saving.rollback()
    assert shard_words(world, clinic.course.id) == {}
    # Once the course is free, the next search fills it.
    browser = world.browser(clinic.patient)
    assert f"/entries/{written.id}" in browser.search(written.current.markers[0]).get_data(
        as_text=True
    )
    assert written.id.hex in shard_words(world, clinic.course.id)


def test_the_rebuild_command_indexes_every_course(clinic: Clinic) -> None:
    world = clinic.world
    mine = write(world, clinic.patient, clinic.course, Visibility.CARE_TEAM, label="mine")
    theirs = write(
        world, clinic.other_patient, clinic.other_course, Visibility.PRIVATE, label="theirs"
    )
    for course in (clinic.course.id, clinic.other_course.id):
        _forget_the_index(world, course)
    cli = world.app.test_cli_runner()
    result = cli.invoke(args=["search-index", "rebuild", "--missing"])
    assert result.exit_code == 0, result.output
    assert "2 entries indexed in 2 courses" in result.output
    result = cli.invoke(args=["search-index", "rebuild"])
    assert result.exit_code == 0, result.output
    world.db.expire_all()
    assert mine.id.hex in shard_words(world, clinic.course.id)
    assert theirs.id.hex in shard_words(world, clinic.other_course.id)
    assert world.db.scalar(select(Entry.id).where(Entry.search_shard.is_(None))) is None


# -- sealed like the entries ------------------------------------------------------------------


def test_key_rotation_reseals_the_index_and_search_still_works(clinic: Clinic) -> None:
    world = clinic.world
    written = write(world, clinic.patient, clinic.course, Visibility.CARE_TEAM, label="turn")
    rt = runtime(world.app)
    before = set(world.db.scalars(select(DataKey.id).where(DataKey.owner_id == clinic.patient.id)))
    world.commit()
    rotate_data_keys(rt.database, rt.ring, [clinic.patient.id])
    world.db.expire_all()
    payloads = world.db.scalars(
        select(SearchShard.payload).where(SearchShard.course_id == clinic.course.id)
    ).all()
    assert payloads and not {blob_key_id(p) for p in payloads} & before
    assert found(world, clinic.patient, written.current.markers[1]) == [written.id.hex]


def test_the_index_is_sealed_and_an_erasure_deletes_it(clinic: Clinic) -> None:
    world = clinic.world
    written = write(world, clinic.patient, clinic.course, Visibility.CARE_TEAM, label="gone")
    payload = world.db.scalar(
        select(SearchShard.payload).where(SearchShard.course_id == clinic.course.id)
    )
    assert payload is not None
    for word in written.current.markers:
        assert word.encode() not in payload and word.casefold().encode() not in payload
    admin = world.browser(clinic.admin)
    r = admin.post(
        f"/admin/users/{clinic.patient.id}/erase",
        {"reason": "Fictional request (test)", "confirm_email": clinic.patient.email},
    )
    assert r.status_code == 302, r.get_data(as_text=True)
    with runtime(world.app).database.session() as db:
        left = db.scalar(select(SearchShard.id).where(SearchShard.course_id == clinic.course.id))
        assert left is None
