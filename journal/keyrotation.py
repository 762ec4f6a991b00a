"""Master-key and data-key rotation, resumable after a crash at any point.

Master key: a new key is registered, then added to the key file as the
active one; data keys are re-wrapped in batches; old master keys leave the
file only when no data key uses them any more. Data keys: each owner gets a
new key and the old one stops being used for new text; every ciphertext
under the old key is re-encrypted in batches; the old key is deleted only
when nothing refers to it. Run the same command again after a crash and it
carries on where it stopped.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import secrets
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from journal.config import Settings
from journal.core.vault import Vault
from journal.crypto import (
    DecryptionError,
    FieldContext,
    MasterKeyRing,
    unwrap_data_key,
    wrap_data_key,
)
from journal.crypto.keys import KEY_BYTES, new_master_key_id
from journal.db import Database, utcnow
from journal.models import (
    DataKey,
    MasterKeyRecord,
)
from journal.models.sealed_tables import SealedTable, sealed_tables

BATCH = 2000
# Tables whose rows are large: a search shard holds up to a few hundred KB of words,
# so 2,000 of them at once would hold hundreds of MB in memory.
WIDE_ROW_BATCH = {"search_shards": 16}
# Re-encryption is CPU work in Python: one process per core, up to four.
WORKERS = min(4, os.cpu_count() or 1)
Checkpoint = Callable[[str], None]  # called between steps; tests use it to simulate a crash


def _no_crash(_: str) -> None:
    return None


# -- master key ----------------------------------------------------------------


@dataclass(frozen=True)
class MasterRotation:
    active_id: str
    rewrapped: int
    retired: list[str]


def rotate_master_key(
    settings: Settings,
    database: Database,
    *,
    batch: int = BATCH,
    step: Checkpoint = _no_crash,
    settle: float | None = None,
) -> MasterRotation:
    """Rotate the master key; `settle` (by default the setting key_propagation_seconds)
    is how long a change to the key file takes to reach every server that reads it.

    Once the new key is in the file as the active one, the rotation waits that long
    before re-wrapping: from then on no server wraps a new data key with the old key.
    A server that has not seen the new file yet and meets a re-wrapped data key reads
    the file again at once (journal/runtime.py). The old key leaves the file only
    when no data key in the database uses it (checked again after the last batch, in
    case a request that began before the wait made one)."""
    path = settings.master_key_path
    wait = settings.key_propagation_seconds if settle is None else settle
    ring = MasterKeyRing.load(path)
    if len(ring.keys) == 1:  # not under way: start one
        new_id = new_master_key_id()
        new_ring = MasterKeyRing(
            active_id=new_id,
            keys={**ring.keys, new_id: secrets.token_bytes(KEY_BYTES)},
            audit_key=ring.audit_key,
        )
        with database.session(write=True) as db:
            db.add(MasterKeyRecord(id=new_id, check_value=new_ring.check_value(new_id)))
            db.commit()
        step("registered")
        new_ring.save(path)
        ring = new_ring
        step("saved")
    if wait > 0:
        time.sleep(wait)
    rewrapped = 0
    while True:
        with database.session(write=True) as db:
            rows = db.scalars(
                select(DataKey).where(DataKey.master_key_id != ring.active_id).limit(batch)
            ).all()
            if not rows:
                break
            for row in rows:
                key = unwrap_data_key(ring.key(row.master_key_id), row.wrapped, key_id=str(row.id))
                row.wrapped = wrap_data_key(ring.active_key, key)
                row.master_key_id = ring.active_id
            db.commit()
            rewrapped += len(rows)
        step("batch")
    old = [k for k in ring.keys if k != ring.active_id]
    with database.session(write=True) as db:
        db.execute(
            update(MasterKeyRecord)
            .where(MasterKeyRecord.id.in_(old), MasterKeyRecord.retired_at.is_(None))
            .values(retired_at=utcnow())
        )
        db.commit()
    step("retired")
    MasterKeyRing(ring.active_id, {ring.active_id: ring.active_key}, ring.audit_key).save(path)
    return MasterRotation(ring.active_id, rewrapped, old)


# -- data keys -----------------------------------------------------------------


# Every encrypted column, as the models declare them (journal.models.sealed).
SEALED = sealed_tables()


@dataclass(frozen=True)
class DataRotation:
    owners: int
    reencrypted: int
    deleted_keys: int


def rotate_data_keys(
    database: Database,
    ring: MasterKeyRing,
    owners: Iterable[uuid.UUID] | None = None,
    *,
    batch: int = BATCH,
    step: Checkpoint = _no_crash,
    workers: int = 1,
) -> DataRotation:
    """Give each owner a new data key and re-encrypt everything under the old ones.

    With several workers, each is a forked process re-encrypting its own range
    of row ids (`step` is then not called from the re-encryption).
    """
    with database.session(write=True) as db:
        wanted = (
            set(owners)
            if owners is not None
            else set(db.scalars(select(DataKey.owner_id).distinct()))
        )
        for owner in sorted(wanted):
            if not _under_way(db, owner):
                scopes = set(
                    db.scalars(
                        select(DataKey.scope).where(
                            DataKey.owner_id == owner, DataKey.retired_at.is_(None)
                        )
                    )
                )
                db.execute(
                    update(DataKey)
                    .where(DataKey.owner_id == owner, DataKey.retired_at.is_(None))
                    .values(retired_at=utcnow())
                )
                for scope in sorted(scopes):  # a new key in every scope the owner uses
                    Vault(db, ring, scope).create_key(owner)
        db.commit()
    step("new keys")
    retired = _retired_keys(database, wanted)
    only = None if owners is None else wanted  # every owner: no filter needed
    if workers > 1:
        count = _reencrypt_in_workers(database, ring, only, retired, batch, workers)
    else:
        count = sum(
            _reencrypt(database, ring, table, only, retired, batch, step) for table in SEALED
        )
    with database.session(write=True) as db:
        still_used = _referenced(db, retired)
        doomed = [k for k in retired if k not in still_used]
        if doomed:
            db.execute(delete(DataKey).where(DataKey.id.in_(doomed)))
        db.commit()
    step("deleted")
    return DataRotation(len(wanted), count, len(doomed))


def _under_way(db: Session, owner: uuid.UUID) -> bool:
    """An earlier run already gave this owner a new key and retired the old."""
    return (
        db.scalar(
            select(DataKey.id)
            .where(DataKey.owner_id == owner, DataKey.retired_at.is_not(None))
            .limit(1)
        )
        is not None
    )


def _retired_keys(database: Database, owners: set[uuid.UUID]) -> set[uuid.UUID]:
    with database.session() as db:
        return set(
            db.scalars(
                select(DataKey.id).where(
                    DataKey.owner_id.in_(owners), DataKey.retired_at.is_not(None)
                )
            )
        )


def _rows(
    db: Session,
    table: SealedTable,
    owners: set[uuid.UUID] | None,
    after: uuid.UUID | None,
    batch: int,
) -> list[tuple[Any, uuid.UUID]]:
    """One batch of rows (with their owner) after `after`; all owners when None."""
    stmt = select(table.model, table.owner)
    for target, on in table.joins:
        stmt = stmt.join(target, on)
    if owners is not None:
        stmt = stmt.where(table.owner.in_(owners))
    if after is not None:
        stmt = stmt.where(table.model.id > after)
    return [(r, o) for r, o in db.execute(stmt.order_by(table.model.id).limit(batch))]


Span = tuple[uuid.UUID | None, uuid.UUID | None]  # row ids from (inclusive) .. to (exclusive)
EVERY_ROW: Span = (None, None)


def id_spans(count: int) -> list[Span]:
    """`count` ranges covering every id; ids are random, so each holds about as many rows."""
    cuts = [uuid.UUID(int=(i << 128) // count) for i in range(1, count)]
    bounds = [None, *cuts, None]
    return list(itertools.pairwise(bounds))


def _blob_rows(
    db: Session,
    table: SealedTable,
    owners: set[uuid.UUID] | None,
    after: uuid.UUID | None,
    batch: int,
    span: Span = EVERY_ROW,
) -> list[Any]:
    """One batch of (id, version, owner, *encrypted columns) tuples after `after`;
    all owners when `owners` is None (then the rows are walked in primary-key
    order without a sort, which an owner filter would need).

    Plain columns rather than ORM objects: rotation touches every row, and
    building objects cost more than the cryptography.
    """
    model = table.model
    stmt = select(model.id, model.version, table.owner, *(getattr(model, c) for c in table.columns))
    for target, on in table.joins:
        stmt = stmt.join(target, on)
    if owners is not None:
        stmt = stmt.where(table.owner.in_(owners))
    low, high = span
    if after is not None or low is not None:
        stmt = stmt.where(model.id > after if after is not None else model.id >= low)
    if high is not None:
        stmt = stmt.where(model.id < high)
    return list(db.execute(stmt.order_by(model.id).limit(batch)).all())


def _reencrypt(
    database: Database,
    ring: MasterKeyRing,
    table: SealedTable,
    owners: set[uuid.UUID] | None,
    retired: set[uuid.UUID],
    batch: int,
    step: Checkpoint,
    span: Span = EVERY_ROW,
) -> int:
    """Re-seal every value under a retired key, a batch at a time.

    Each batch is read and re-sealed outside any write lock, then written with
    one executemany UPDATE that applies to a row only if its stored values are
    still the ones that were read: a row someone changed in between keeps
    their change (what they wrote is sealed with the new key, or the old key
    stays until a later run, see _referenced). So workers can re-seal at the
    same time and only the short writes queue. A value already under a new
    key is left alone, so a run after a crash skips what is done.
    """
    name = table.model.__tablename__
    batch = min(batch, WIDE_ROW_BATCH.get(name, batch))
    target = table.model.__table__
    old = {k.bytes for k in retired}
    change = (
        update(target)
        .where(
            target.c.id == bindparam("row_id"),
            *(target.c[c].is_not_distinct_from(bindparam(f"old_{c}")) for c in table.columns),
        )
        .values({c: bindparam(f"new_{c}") for c in table.columns})
    )
    done, after = 0, None
    while True:
        with database.session() as db:
            rows = _blob_rows(db, table, owners, after, batch, span)
            if not rows:
                return done
            vault = Vault(db, ring, table.scope)
            vault.preload({row[2] for row in rows})
            params = []
            for row_id, version, owner, *blobs in rows:
                values, changed = {"row_id": row_id}, False
                for column, blob in zip(table.columns, blobs, strict=True):
                    values[f"old_{column}"] = blob
                    if blob is not None and _key_bytes(blob) in old:
                        ctx = FieldContext(name, column, row_id, owner, version)
                        blob = vault.reseal(blob, ctx)
                        changed = True
                        done += 1
                    values[f"new_{column}"] = blob
                if changed:
                    params.append(values)
        step(f"resealed {name}")  # a batch of this table, not yet written
        if params:
            with database.session(write=True) as db:
                db.execute(change, params)
                db.commit()
        after = rows[-1][0]
        step("batch")


def _reencrypt_in_workers(
    database: Database,
    ring: MasterKeyRing,
    owners: set[uuid.UUID] | None,
    retired: set[uuid.UUID],
    batch: int,
    workers: int,
) -> int:
    """Re-encrypt in forked processes, one range of row ids each.

    Forked, so the master keys reach the workers in memory, never through a
    file or a pipe; only counts come back. The parent closes its database
    connections first: a connection must not be shared across a fork.
    """
    context = multiprocessing.get_context("fork")
    counts = context.SimpleQueue()

    def work(span: Span) -> None:
        finished = False
        try:
            own = Database(database.url)
            counts.put(
                sum(
                    _reencrypt(own, ring, t, owners, retired, batch, _no_crash, span)
                    for t in SEALED
                )
            )
            own.dispose()
            finished = True
        finally:
            # No cleanup of what was inherited from the parent, and no traceback:
            # the parent reports the failure (an error's text may quote SQL values).
            os._exit(0 if finished else 1)

    database.dispose()
    processes = [context.Process(target=work, args=(span,)) for span in id_spans(workers)]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    if any(p.exitcode != 0 for p in processes):
        raise RuntimeError("a re-encryption worker failed: run the rotation again to finish it")
    return sum(counts.get() for _ in processes)


def _referenced(db: Session, retired: set[uuid.UUID]) -> set[uuid.UUID]:
    """Retired keys some stored value still uses (e.g. a value sealed by a request
    that started before the rotation). The database compares the key id in
    each value's header (bytes 2 to 17), so nothing is decrypted or loaded."""
    if not retired:
        return set()
    old = [k.bytes for k in retired]
    used: set[uuid.UUID] = set()
    for table in SEALED:
        for name in table.columns:
            header = func.substr(getattr(table.model, name), 2, 16)
            for key in db.scalars(select(header).where(header.in_(old)).distinct()):
                used.add(uuid.UUID(bytes=bytes(key)))
    return used


def _key_bytes(blob: bytes) -> bytes:
    """The data-key id in a blob's header, as bytes (cheaper than a UUID per value)."""
    return bytes(blob[1:17])


@dataclass(frozen=True)
class Failure:
    table: str
    row_id: uuid.UUID
    column: str
    reason: str


def verify_all(database: Database, ring: MasterKeyRing) -> tuple[int, list[Failure]]:
    """Decrypt every stored value; report the ones that fail, by id (never content)."""
    checked, failures = 0, []
    with database.session() as db:
        for table in SEALED:
            vault = Vault(db, ring, table.scope)
            after = None
            while rows := _rows(db, table, None, after, BATCH):
                for row, owner in rows:
                    for column in table.columns:
                        if getattr(row, column) is None:
                            continue
                        checked += 1
                        try:
                            vault.open_column(row, column, owner)
                        except DecryptionError as exc:
                            failures.append(
                                Failure(table.model.__tablename__, row.id, column, exc.reason)
                            )
                after = rows[-1][0].id
    return checked, failures
