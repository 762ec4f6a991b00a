"""The sealed search index under edits that touch several entries of one shard (an
intention's outcomes written elsewhere, erasure), unusual text in the shard layout,
and the prebuilt access rules answering per reader."""

from __future__ import annotations

from sqlalchemy import delete, select

from journal.journaling import entries, search, search_index
from journal.journaling.intentions import OutcomeInput
from journal.models import (
    CareTeamMember,
    Course,
    Entry,
    Intention,
    OutcomeStatus,
    Phase,
    Role,
    SearchShard,
    Visibility,
)
from journal.review.caseload import clinician_notices
from tests.conftest import Clinic, World
from tests.scene import marker, write
from tests.test_search_index import entry_input, found, shard_words


def _prep_with_outcome(clinic: Clinic) -> tuple[Entry, Entry]:
    """A preparation entry with an intention, and a later entry (same course, same
    shard) holding an outcome reflection on it."""
    world = clinic.world
    prep = entries.create_entry(
        world.as_(clinic.patient),
        clinic.course.id,
        entry_input(
            "Before", "Fictional", phase=Phase.PREPARATION, intentions=["Meet the heron gently"]
        ),
    )
    world.commit()
    intention = world.db.scalar(select(Intention.id).where(Intention.entry_id == prep.id))
    assert intention is not None
    after = entries.create_entry(
        world.as_(clinic.patient),
        clinic.course.id,
        entry_input(
            "After",
            "Fictional",
            outcomes={intention: OutcomeInput(OutcomeStatus.PARTLY, marker("kestrel"))},
        ),
    )
    world.commit()
    return prep, after


def test_an_edit_that_also_reindexes_another_entry_keeps_its_own_new_words(
    clinic: Clinic,
) -> None:
    """Editing an entry whose intentions have outcomes in another entry re-indexes both
    in one unit: the second read of the shared shard must not drop the first update."""
    world = clinic.world
    prep, _after = _prep_with_outcome(clinic)
    fresh = marker("newword")
    entries.edit_entry(
        world.as_(clinic.patient),
        prep.id,
        entry_input(
            "Before",
            f"Fictional {fresh}",
            phase=Phase.PREPARATION,
            intentions=["Meet the heron gently"],
        ),
        expected_version=1,
    )
    world.commit()
    assert fresh.casefold() in shard_words(world, clinic.course.id)[prep.id.hex]
    assert found(world, clinic.patient, fresh) == [prep.id.hex]


def test_an_edit_that_drops_the_intention_leaves_no_stale_words_in_the_other_entry(
    clinic: Clinic,
) -> None:
    """Words removed by an edit leave the sealed index of both entries."""
    world = clinic.world
    prep, after = _prep_with_outcome(clinic)
    fresh = marker("swapped")
    entries.edit_entry(
        world.as_(clinic.patient),
        prep.id,
        entry_input("Before", f"Fictional {fresh}", phase=Phase.PREPARATION),
        expected_version=1,
    )
    world.commit()
    words = shard_words(world, clinic.course.id)
    assert "heron" not in words[prep.id.hex]
    assert fresh.casefold() in words[prep.id.hex]
    assert found(world, clinic.patient, fresh) == [prep.id.hex]
    assert found(world, clinic.patient, "kestrel") == []
    assert "kestrel" not in words[after.id.hex]


# -- the layout on unusual text -----------------------------------------------------------


def _shard_text(world: World, course: Course) -> str:
    world.db.expire_all()
    shard = world.db.scalar(select(SearchShard).where(SearchShard.course_id == course.id))
    assert shard is not None
    return world.vault.open_column(shard, "payload", course.patient_id)


def test_unusual_text_keeps_each_entry_to_its_own_words(clinic: Clinic) -> None:
    """Separators, newlines, colons, "ß" (casefolds to two letters), non-BMP characters
    and an empty body: each entry's words stay its own, and a word is found in the
    right entry only."""
    world = clinic.world
    me = world.as_(clinic.patient)
    tag = marker("odd")
    bodies = [
        f"Stra\u00dfe {tag}a\x1fsplit\nline: 1:2 3",
        f"\U0001f33f fern {tag}b \U0001d4d7",
        "",
        f"{tag}c " + "long " * 3000,
    ]
    made = [
        entries.create_entry(
            me, clinic.course.id, entry_input(f"T{n}", body, between_sessions=True)
        )
        for n, body in enumerate(bodies)
    ]
    world.commit()
    text = _shard_text(world, clinic.course)
    held = search_index.unpack(text)
    for entry, body in zip(made, bodies, strict=True):
        title = f"T{made.index(entry)}"
        assert held[entry.id.hex] == search_index.folded_words(title, body, [])
    assert search_index.matching(text, ["strasse"]) == [made[0].id.hex]
    assert search_index.matching(text, ["split"]) == [made[0].id.hex]
    assert found(world, clinic.patient, "strasse") == [made[0].id.hex]
    assert found(world, clinic.patient, f"{tag}b") == [made[1].id.hex]
    assert found(world, clinic.patient, "\U0001d4d7") == [made[1].id.hex]
    assert found(world, clinic.patient, f"{tag}c long") == [made[3].id.hex]
    # A term never matches across two entries' words.
    assert search_index.matching(text, ["3t1"]) == []
    results = search.search(world.as_(clinic.patient), "1:2")
    world.commit()
    assert [h.entry_id for h in results.hits] == [made[0].id]


def test_erasing_an_entry_takes_every_deleted_reflection_out_of_the_index(
    clinic: Clinic,
) -> None:
    """Erasing a preparation entry deletes the outcomes written on its intentions in
    two later entries (same shard): neither reflection may stay in the sealed index."""
    world = clinic.world
    prep = entries.create_entry(
        world.as_(clinic.patient),
        clinic.course.id,
        entry_input("Before", "Fictional", phase=Phase.PREPARATION, intentions=["Walk slowly"]),
    )
    world.commit()
    intention = world.db.scalar(select(Intention.id).where(Intention.entry_id == prep.id))
    assert intention is not None
    later = {}
    for label in ("ploverone", "plovertwo"):
        words = marker(label)
        made = entries.create_entry(
            world.as_(clinic.patient),
            clinic.course.id,
            entry_input(
                "After",
                "Fictional",
                outcomes={intention: OutcomeInput(OutcomeStatus.PARTLY, words)},
            ),
        )
        world.commit()
        later[made.id.hex] = words
    entries.delete_entry(world.as_(clinic.patient), prep.id, keep_days=0)
    world.commit()
    held = shard_words(world, clinic.course.id)
    for key, words in later.items():
        assert words.casefold() not in held[key], "an erased reflection is still indexed"


# -- the prebuilt rules, run for one reader after another ----------------------------------


def test_prebuilt_rules_follow_each_reader_and_a_removed_clinician_sees_nothing(
    clinic: Clinic,
) -> None:
    """The statements built once are run for two clinicians in turn: each gets their
    own answer, and one removed from the care team finds nothing of the course,
    even right after a colleague still on it ran the same statements."""
    world = clinic.world
    colleague = world.user(Role.CLINICIAN)
    world.db.add(CareTeamMember(course_id=clinic.course.id, clinician_id=colleague.id))
    world.commit()
    written = write(world, clinic.patient, clinic.course, Visibility.CARE_TEAM, label="team")
    word = written.current.markers[1]
    assert found(world, clinic.clinician, word) == [written.id.hex]
    assert clinician_notices(world.db, clinic.clinician) >= 1
    world.db.execute(
        delete(CareTeamMember).where(
            CareTeamMember.course_id == clinic.course.id,
            CareTeamMember.clinician_id == clinic.clinician.id,
        )
    )
    world.commit()
    for _ in range(2):
        assert found(world, colleague, word) == [written.id.hex]
        assert clinician_notices(world.db, colleague) >= 1
        assert found(world, clinic.clinician, word) == []
        assert found(world, clinic.other_clinician, word) == []
        assert clinician_notices(world.db, clinic.clinician) == 0


def test_an_entry_written_before_the_index_and_then_edited_is_found(clinic: Clinic) -> None:
    """An entry the index does not hold yet (written before revision 0029), edited while
    an outcome on its intention sits in an indexed entry: it must end up findable, not
    marked as indexed while its shard lacks it."""
    world = clinic.world
    prep, _after = _prep_with_outcome(clinic)
    search_index.drop_entry(world.db, world.vault, prep, clinic.patient.id)  # as before 0029
    world.commit()
    assert prep.id.hex not in shard_words(world, clinic.course.id)
    fresh = marker("late")
    entries.edit_entry(
        world.as_(clinic.patient),
        prep.id,
        entry_input(
            "Before",
            f"Fictional {fresh}",
            phase=Phase.PREPARATION,
            intentions=["Meet the heron gently"],
        ),
        expected_version=1,
    )
    world.commit()
    assert found(world, clinic.patient, fresh) == [prep.id.hex]
