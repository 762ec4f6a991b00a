"""Encrypted columns are declared once, on the models: every binary column is either
sealed (with a key scope) or plain on purpose, key rotation reads the declaration, and
the vault refuses to seal or open a column that is not declared sealed."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import Column, LargeBinary, MetaData, Table

from journal.core.vault import Vault, column_context
from journal.db import Base
from journal.keyrotation import SEALED
from journal.models import DataKey, KeyScope, PsychotherapyNote
from journal.models.sealed import PLAIN_BYTES
from journal.models.sealed import SEALED as SEALED_INFO
from tests.conftest import World


def undeclared_binary_columns(metadata: MetaData) -> list[str]:
    return [
        f"{table.name}.{column.name}"
        for table in metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, LargeBinary)
        and SEALED_INFO not in column.info
        and PLAIN_BYTES not in column.info
    ]


def test_every_binary_column_is_declared_sealed_or_plain() -> None:
    assert undeclared_binary_columns(Base.metadata) == []


def test_the_check_finds_an_undeclared_binary_column() -> None:
    sample = MetaData()
    Table(
        "samples",
        sample,
        Column("words", LargeBinary, info={SEALED_INFO: KeyScope.JOURNAL}),
        Column("wrapped", LargeBinary, info={PLAIN_BYTES: "a wrapped key"}),
        Column("forgotten", LargeBinary),
    )
    assert undeclared_binary_columns(sample) == ["samples.forgotten"]


# What the security model says is sealed, with which key scope, and through which
# tables a row reaches the person whose key seals it: written out here on its own,
# so a model that loses a declaration, or gains one, fails this test.
J, N, A = KeyScope.JOURNAL, KeyScope.NOTES, KeyScope.ADMIN
EXPECTED = {
    # Earlier versions of session records and screenings, each the whole JSON value.
    "clinical_versions": (("content",), J, ("courses",)),
    "comments": (("quote", "body"), J, ("courses",)),
    # The consent record and its kept versions: each whole record as one JSON value.
    "consent_versions": (("content",), J, ("courses",)),
    "consents": (("content",), J, ("courses",)),
    "courses": (("indication",), J, ()),
    "drafts": (("content",), J, ("courses",)),
    "entries": (("title", "body", "mood", "excerpt"), J, ("courses",)),
    "entry_revisions": (("title", "body", "mood"), J, ("entries", "courses")),
    # An erasure's reason outlives the patient's keys: the erasing admin's key.
    "erasures": (("reason",), A, ()),
    # A long PDF export the worker makes: its data, then the file, under the patient's key.
    "export_jobs": (("data", "pdf"), J, ()),
    "intention_outcomes": (("reflection",), J, ("courses",)),
    "intentions": (("text",), J, ("courses",)),
    "note_disclosures": (("reason",), N, ("courses",)),
    "psychotherapy_notes": (("body",), N, ("courses",)),
    "questionnaire_responses": (("result",), J, ("courses",)),
    # What raised a flag (response, questionnaire, rule, time), not only its words;
    # and what a clinician did about it when acknowledging it.
    "safety_flags": (("detail", "source", "acknowledgement"), J, ("courses",)),
    # The safety plan and its kept versions: each whole plan as one JSON value.
    "safety_plan_versions": (("content",), J, ("courses",)),
    "safety_plans": (("content",), J, ("courses",)),
    # Each re-check of the screening before a session.
    "screening_rechecks": (("content",), J, ("courses",)),
    "screenings": (("content",), J, ("courses",)),
    # The search index: each course's words in shards, under the patient's journal key.
    "search_shards": (("payload",), J, ("courses",)),
    "session_records": (("content",), J, ("courses",)),
    "themes": (("name",), J, ("courses",)),
    "totp_credentials": (("secret",), J, ()),
}


def test_the_declaration_seals_what_the_security_model_says() -> None:
    derived = {
        t.model.__tablename__: (t.columns, t.scope, tuple(j[0].__tablename__ for j in t.joins))
        for t in SEALED
    }
    assert derived == EXPECTED
    owners = {t.model.__tablename__: str(t.owner) for t in SEALED}
    assert owners.pop("totp_credentials") == "TotpCredential.user_id"
    assert owners.pop("erasures") == "Erasure.erased_by"
    assert owners.pop("export_jobs") == "ExportJob.owner_id"
    assert set(owners.values()) == {"Course.patient_id"}
    # A wrapped data key is binary but not content: declared plain, never sealed.
    assert PLAIN_BYTES in DataKey.__table__.c.wrapped.info


def test_the_vault_refuses_an_undeclared_column(world: World) -> None:
    vault: Vault = world.vault
    with pytest.raises(ValueError, match="not declared sealed"):
        column_context("courses", "status", uuid.uuid4(), uuid.uuid4(), 1)
    with pytest.raises(ValueError, match="not declared sealed"):
        column_context("entries", "titel", uuid.uuid4(), uuid.uuid4(), 1)
    note = PsychotherapyNote(id=uuid.uuid4(), version=1)
    owner = uuid.uuid4()
    sealed = vault.for_scope(KeyScope.NOTES).seal_column(note, "body", owner, "fictional")
    assert sealed and b"fictional" not in sealed
    with pytest.raises(ValueError, match="not declared sealed"):
        vault.seal_column(note, "course_id", owner, "fictional")
    # A psychotherapy note is sealed with notes keys only, never the journal's.
    with pytest.raises(ValueError, match="not sealed with journal keys"):
        vault.seal_column(note, "body", owner, "fictional")
