"""Master-key bookkeeping in the database: registration and the start-up check."""

from __future__ import annotations

from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session

from journal.crypto import KeyFileError, MasterKeyRing
from journal.models import DataKey, MasterKeyRecord

# In a backup file only (journal.maintenance): the id of the backup keys its data keys
# are wrapped with. `restore` unwraps them and drops the table.
SEALED_BACKUP_TABLE = "sealed_backup"


class NotInitialised(Exception):
    """The database has no tables yet."""


def register_master_key(db: Session, ring: MasterKeyRing) -> None:
    """Bind a new database to the key file by storing the key's check value.

    Only a database with no master key yet is bound this way; a database that
    already knows its keys is never re-bound to another key file here.
    """
    if db.scalar(select(MasterKeyRecord.id).limit(1)) is None:
        db.add(MasterKeyRecord(id=ring.active_id, check_value=ring.check_value(ring.active_id)))
        db.flush()


def verify_master_keys(db: Session, ring: MasterKeyRing) -> None:
    """Refuse a key file that does not belong to this database.

    Every master key that still wraps a data key must be in the file and match
    its stored check value; the file's active key must be registered.
    """
    tables = inspect(db.connection())
    if not tables.has_table(MasterKeyRecord.__tablename__):
        raise NotInitialised("the database is not initialised; run 'flask --app journal init'")
    if tables.has_table(SEALED_BACKUP_TABLE):
        raise KeyFileError(
            "the database is a backup copy whose data keys are sealed with the backup keys; "
            "put a backup in place with 'flask --app journal restore', not by copying it"
        )
    records = {r.id: r for r in db.scalars(select(MasterKeyRecord))}
    in_use = set(db.scalars(select(DataKey.master_key_id).distinct()))
    for key_id in in_use | ({ring.active_id} & records.keys()):
        if key_id not in ring.keys:
            raise KeyFileError(f"master key {key_id} used by this database is not in the key file")
        if key_id not in records or not ring.matches(key_id, records[key_id].check_value):
            raise KeyFileError(f"master key {key_id} does not match this database's check value")
    if ring.active_id not in records:
        raise KeyFileError(
            f"the key file's active key {ring.active_id} is not registered with this database"
        )


def health(db: Session, ring: MasterKeyRing) -> dict[str, str]:
    """A cheap readiness check: the database answers and the active key matches."""
    db.execute(text("SELECT 1"))
    record = db.get(MasterKeyRecord, ring.active_id)
    if record is None or not ring.matches(ring.active_id, record.check_value):
        raise KeyFileError("active master key does not match")
    return {"status": "ok", "database": "ok", "keys": "ok"}
