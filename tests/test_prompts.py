"""The prompt library as data: the shipped prompts, due timings, and broken files refused."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from journal.clinical.prompt_library import (
    BUILT_IN_FOLDER,
    THEMES,
    Due,
    PromptLibrary,
    load_library,
    load_prompt_file,
)
from journal.core.definitions import DefinitionError
from journal.models.enums import Phase


@pytest.fixture(scope="module")
def library() -> PromptLibrary:
    return load_library(BUILT_IN_FOLDER)


@pytest.mark.parametrize("phase", list(Phase))
def test_each_phase_has_at_least_ten_prompts(library: PromptLibrary, phase: Phase) -> None:
    assert len(library.for_phase(phase)) >= 10


@pytest.mark.parametrize("phase", list(Phase))
def test_every_theme_of_the_brief_has_a_prompt(library: PromptLibrary, phase: Phase) -> None:
    assert {p.theme for p in library.for_phase(phase)} == set(THEMES[phase])


def test_integration_prompts_come_due_at_each_timing(library: PromptLibrary) -> None:
    for prompt in library.for_phase(Phase.INTEGRATION):
        assert prompt.due is not None
    for due in Due:
        assert library.due_at(due), f"no prompt comes due {due}"
    for phase in (Phase.PREPARATION, Phase.IN_SESSION):
        assert all(p.due is None for p in library.for_phase(phase))


def test_ids_are_unique_and_lookups_work(library: PromptLibrary) -> None:
    ids = [p.id for p in library.prompts]
    assert len(ids) == len(set(ids))
    prompt = library.get("prep-hopes")
    assert prompt.phase is Phase.PREPARATION
    assert prompt.theme_label == "Hopes and intentions"
    with pytest.raises(KeyError):
        library.get("no-such-prompt")


def test_quick_capture_prompts_are_short(library: PromptLibrary) -> None:
    """Right after a session typing is hard: the questions themselves stay brief."""
    assert all(len(p.text) <= 120 for p in library.for_phase(Phase.IN_SESSION))


def test_wording_stays_plain_and_non_clinical(library: PromptLibrary) -> None:
    clinical_words = ("symptom", "diagnos", "disorder", "patient", "dosage", "ketamine")
    for prompt in library.prompts:
        lowered = prompt.text.lower()
        assert not [w for w in clinical_words if w in lowered], prompt.id


# -- due dates ----------------------------------------------------------------------

SESSION = date(2026, 3, 10)


def test_next_day_and_week_later() -> None:
    assert Due.NEXT_DAY.due_on(SESSION, None) == date(2026, 3, 11)
    assert Due.WEEK_LATER.due_on(SESSION, None) == date(2026, 3, 17)
    assert Due.NEXT_DAY.due_on(date(2026, 12, 31), None) == date(2027, 1, 1)


def test_before_next_session_is_the_day_before_it() -> None:
    assert Due.BEFORE_NEXT_SESSION.due_on(SESSION, date(2026, 3, 24)) == date(2026, 3, 23)


def test_before_next_session_waits_for_a_next_session() -> None:
    assert Due.BEFORE_NEXT_SESSION.due_on(SESSION, None) is None


def test_before_a_next_session_on_the_following_day_is_not_before_the_first() -> None:
    assert Due.BEFORE_NEXT_SESSION.due_on(SESSION, date(2026, 3, 11)) == date(2026, 3, 11)
    assert Due.BEFORE_NEXT_SESSION.due_on(SESSION, SESSION) == date(2026, 3, 11)


# -- broken files -------------------------------------------------------------------

SAMPLE = """\
phase = "integration"

[[prompts]]
id = "one"
theme = "meaning"
text = "What stays with you?"
due = "next_day"

[[prompts]]
id = "two"
theme = "relationships"
text = "Who did you think of?"
due = "week_later"
"""


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_sample_is_valid(tmp_path: Path) -> None:
    prompts = load_prompt_file(write(tmp_path, "p.toml", SAMPLE))
    assert [(p.id, p.due) for p in prompts] == [("one", Due.NEXT_DAY), ("two", Due.WEEK_LATER)]


BROKEN = {
    "not_toml": (('phase = "integration"', "phase = integration"), "is not valid TOML"),
    "unknown_phase": (('phase = "integration"', 'phase = "aftercare"'), "must be one of"),
    "wrong_theme": (('theme = "meaning"', 'theme = "grounding"'), "the integration themes"),
    "missing_text": (('text = "What stays with you?"\n', ""), "'prompts[1].text' is missing"),
    "empty_text": (('text = "What stays with you?"', 'text = ""'), "must be a non-empty string"),
    "long_text": (('text = "What stays with you?"', f'text = "{"a" * 501}"'), "longer than 500"),
    "missing_due": (('due = "next_day"\n', ""), "'prompts[1].due' is missing"),
    "unknown_due": (('due = "next_day"', 'due = "someday"'), "must be one of next_day"),
    "duplicate_id": (('id = "two"', 'id = "one"'), "prompt id 'one' appears more than once"),
    "bad_id": (('id = "two"', 'id = "Two!"'), "must be lowercase"),
    "unknown_key": (('id = "two"', 'id = "two"\ncolour = "blue"'), "unknown key in 'prompts[2]'"),
    "no_prompts": (
        (SAMPLE[SAMPLE.index("[[prompts]]") :], ""),
        "'prompts' is missing",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_each_broken_prompt_file_is_refused_naming_it(tmp_path: Path, case: str) -> None:
    (old, new), problem = BROKEN[case]
    assert SAMPLE.count(old) == 1
    path = write(tmp_path, f"{case}.toml", SAMPLE.replace(old, new))
    with pytest.raises(DefinitionError) as caught:
        load_prompt_file(path)
    assert caught.value.path == path
    assert problem in caught.value.problem


def test_due_on_a_preparation_prompt_is_refused(tmp_path: Path) -> None:
    text = (
        'phase = "preparation"\n[[prompts]]\n'
        'id = "p"\ntheme = "grounding"\ntext = "x"\ndue = "next_day"\n'
    )
    with pytest.raises(DefinitionError, match="only integration prompts come due"):
        load_prompt_file(write(tmp_path, "prep.toml", text))


def test_the_same_id_in_two_files_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "a.toml", SAMPLE)
    second = write(tmp_path, "b.toml", SAMPLE)
    with pytest.raises(DefinitionError) as caught:
        load_library(tmp_path)
    assert caught.value.path == second
    assert "already used in" in caught.value.problem
