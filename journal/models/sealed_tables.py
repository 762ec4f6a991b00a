"""What follows from the declaration of sealed columns (journal.models.sealed).

Key rotation, key verification, the vault's checks and the tests read the list of
sealed tables from here; nothing keeps a copy of it by hand.

Whose key seals a row follows from the schema: the patient of the row's course
(through its entry, for an entry's earlier versions), or the row's own user for
rows outside a course (a two-factor secret), unless the declaration names the
row's column that holds the owner (an erasure's reason: the admin who erased).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from journal.db import Base
from journal.models.courses import Course
from journal.models.enums import KeyScope
from journal.models.journal import Entry
from journal.models.sealed import SEALED, SEALED_OWNER


@dataclass(frozen=True)
class SealedTable:
    """A table with encrypted columns and how to find each row's owner."""

    model: Any
    columns: tuple[str, ...]
    owner: Any  # a column expression giving the owner's id, joined as `joins` say
    joins: tuple[Any, ...] = ()
    scope: KeyScope = KeyScope.JOURNAL


def _owner(model: Any, declared: str | None = None) -> tuple[Any, tuple[Any, ...]]:
    if declared is not None:
        return getattr(model, declared), ()
    if model is Course:
        return Course.patient_id, ()
    if hasattr(model, "course_id"):
        return Course.patient_id, ((Course, Course.id == model.course_id),)
    if hasattr(model, "entry_id"):
        joins = ((Entry, Entry.id == model.entry_id), (Course, Course.id == Entry.course_id))
        return Course.patient_id, joins
    if hasattr(model, "user_id"):
        return model.user_id, ()
    raise TypeError(f"{model.__name__} has sealed columns but no owner: no course, entry or user")


@cache
def sealed_tables() -> tuple[SealedTable, ...]:
    """Every model with sealed columns, in table-name order."""
    found = []
    for mapper in sorted(Base.registry.mappers, key=lambda m: str(m.class_.__tablename__)):
        columns = [c for c in mapper.local_table.columns if SEALED in c.info]
        if not columns:
            continue
        scopes = {c.info[SEALED] for c in columns}
        if len(scopes) != 1:
            raise TypeError(f"{mapper.class_.__name__} mixes key scopes in one row")
        declared = {c.info.get(SEALED_OWNER) for c in columns}
        if len(declared) != 1:
            raise TypeError(f"{mapper.class_.__name__} mixes owners in one row")
        owner, joins = _owner(mapper.class_, declared.pop())
        names = tuple(c.key for c in columns)
        found.append(SealedTable(mapper.class_, names, owner, joins, scopes.pop()))
    return tuple(found)


@cache
def sealed_columns() -> dict[tuple[str, str], KeyScope]:
    """(table, column) of every sealed column, with the scope of the key that seals it:
    what the vault may seal and open, and with which keys."""
    return {
        (t.model.__tablename__, column): t.scope for t in sealed_tables() for column in t.columns
    }
