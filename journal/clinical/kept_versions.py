"""Saving a sealed clinical form whose every earlier version is kept (the safety plan,
the consent record): one row holds the version in use, and each save first copies
the one it replaces into a row of its own, sealed again under that row's id."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol, TypeVar

from journal.core.errors import ConflictError
from journal.core.work import Work


class VersionedRow(Protocol):
    __tablename__: str
    id: uuid.UUID
    version: int
    updated_by: uuid.UUID
    updated_at: datetime
    content: bytes


Row = TypeVar("Row", bound=VersionedRow)


def save_keeping_versions(
    work: Work,
    owner: uuid.UUID,
    row: Row | None,
    *,
    create: Callable[[], Row],
    keep: Callable[[Row], Any],
    expected_version: int | None,
    content: str,
    now: datetime,
) -> tuple[Row, bool]:
    """Write `content` into `row` (a new one from `create` when None), after keeping the
    version it replaces (`keep` makes the row that holds it). A form opened at another
    version than the row's is refused (`ConflictError`), so nobody's save is lost.
    Returns the row and whether it is new (the caller audits the save)."""
    if row is None:
        if expected_version is not None:
            raise ConflictError()  # the form edited a record that is not there
        row = create()
        work.db.add(row)
        created = True
    else:
        if expected_version != row.version:
            raise ConflictError()
        kept = keep(row)
        # Sealed again under the kept row's own id: a value is bound to its row.
        kept.content = work.vault.seal_column(
            kept, "content", owner, work.vault.open_column(row, "content", owner)
        )
        work.db.add(kept)
        row.version += 1
        row.updated_by = work.actor.id
        row.updated_at = now
        created = False
    row.content = work.vault.seal_column(row, "content", owner, content)
    work.db.flush()
    return row, created
