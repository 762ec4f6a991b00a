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


def test_rotation_covers_every_declared_column_with_its_scope() -> None:
    declared = {
        (table.name, column.name): column.info[SEALED_INFO]
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if SEALED_INFO in column.info
    }
    rotated = {(t.model.__tablename__, c): t.scope for t in SEALED for c in t.columns}
    assert rotated == declared
    assert declared[("psychotherapy_notes", "body")] == KeyScope.NOTES
    assert ("entries", "title") in declared and ("courses", "indication") in declared
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
