"""Unit tests of the backup keys (journal.crypto.backup_keys): a key per owner,
each deletable on its own, in a file that changes only when one is deleted."""

from __future__ import annotations

import json
import multiprocessing
import stat
import uuid
from pathlib import Path

import pytest

from journal.crypto import KeyFileError, new_data_key, unwrap_data_key, wrap_data_key
from journal.crypto.backup_keys import BackupKeys, create_backup_keys, forget_owners


@pytest.fixture
def key_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "keys"
    directory.mkdir(mode=0o700)
    return directory


def _bits(owner: uuid.UUID) -> str:
    return format(owner.int, "0128b")


def _neighbours(owner: uuid.UUID) -> list[uuid.UUID]:
    """Ids whose leaves sit as close to the owner's as a tree allows: the sibling
    leaf, and ids that part from it at every depth."""
    return [uuid.UUID(int=owner.int ^ (1 << shift)) for shift in range(128)]


def test_each_owner_gets_a_distinct_stable_key() -> None:
    keys = BackupKeys.new()
    owners = [uuid.uuid4() for _ in range(50)]
    derived = [keys.key_for(o) for o in owners]
    assert all(k is not None and len(k) == 32 for k in derived)
    assert len(set(derived)) == len(owners)
    assert derived == [keys.key_for(o) for o in owners]  # the same key every time
    assert BackupKeys.new().key_for(owners[0]) != derived[0]  # and another tree's differs


def test_forgetting_an_owner_keeps_every_other_key_and_nothing_derives_theirs() -> None:
    keys = BackupKeys.new()
    erased = uuid.uuid4()
    others = [*_neighbours(erased), *(uuid.uuid4() for _ in range(50))]
    before = {o: keys.key_for(o) for o in others}

    after = keys.forget([erased])

    assert after.key_for(erased) is None
    assert {o: after.key_for(o) for o in others} == before
    assert keys.key_for(erased) is not None  # the old object is unchanged
    # The root is gone; what is stored are the 128 siblings of the path, none of
    # them above the erased leaf, so nothing stored derives it.
    assert "" not in after.nodes
    assert len(after.nodes) == 128
    path = _bits(erased)
    assert not any(path.startswith(prefix) for prefix in after.nodes)
    assert keys.key_for(erased) not in after.nodes.values()
    assert after.forget([erased]).nodes == after.nodes  # forgetting again changes nothing


def test_forgetting_many_owners() -> None:
    keys = BackupKeys.new()
    erased = [uuid.uuid4() for _ in range(20)]
    kept = [uuid.uuid4() for _ in range(20)]
    before = {o: keys.key_for(o) for o in kept}
    after = keys.forget(erased[:10]).forget(erased[10:])
    assert all(after.key_for(o) is None for o in erased)
    assert {o: after.key_for(o) for o in kept} == before
    assert len(after.nodes) <= 20 * 128


def test_a_backup_key_wraps_a_data_key_that_only_it_unwraps() -> None:
    keys = BackupKeys.new()
    owner = uuid.uuid4()
    data_key = new_data_key()
    backup_key = keys.key_for(owner)
    assert backup_key is not None
    wrapped = wrap_data_key(backup_key, data_key)
    assert unwrap_data_key(backup_key, wrapped, key_id="k") == data_key


def test_the_file_is_private_round_trips_and_is_never_overwritten(key_dir: Path) -> None:
    path = key_dir / "backup-keys.json"
    made = create_backup_keys(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = BackupKeys.load(path)
    assert loaded == made
    with pytest.raises(KeyFileError, match="refusing to overwrite"):
        create_backup_keys(path)
    replaced = create_backup_keys(path, replace=True)  # keys retire-backups
    assert replaced.tree_id != made.tree_id
    assert BackupKeys.load(path) == replaced


def test_the_file_is_refused_when_others_may_read_it_or_it_is_malformed(key_dir: Path) -> None:
    path = key_dir / "backup-keys.json"
    create_backup_keys(path)
    path.chmod(0o644)
    with pytest.raises(KeyFileError, match="permissions"):
        BackupKeys.load(path)
    path.chmod(0o600)
    body = json.loads(path.read_text())
    body["nodes"] = {"012": body["nodes"][""]}
    path.write_text(json.dumps(body))
    with pytest.raises(KeyFileError, match="malformed"):
        BackupKeys.load(path)
    with pytest.raises(KeyFileError, match="missing"):
        BackupKeys.load(key_dir / "nothing.json")


def test_forget_owners_writes_the_file_only_when_something_is_deleted(key_dir: Path) -> None:
    path = key_dir / "backup-keys.json"
    assert forget_owners(path, [uuid.uuid4()]) == 0  # no file yet: nothing to delete
    assert not path.exists()
    create_backup_keys(path)
    erased = uuid.uuid4()
    assert forget_owners(path, [erased, erased]) == 1
    assert BackupKeys.load(path).key_for(erased) is None
    written = path.read_bytes()
    assert forget_owners(path, [erased]) == 0
    assert path.read_bytes() == written
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def _forget_each(path: str, owners: list[str]) -> None:
    for owner in owners:
        forget_owners(Path(path), [uuid.UUID(owner)])


def test_erasures_in_several_processes_at_once_all_stick(key_dir: Path) -> None:
    """Workers erasing at the same moment each read, change and write the file; the
    lock on the key folder keeps one from writing over another's deletion."""
    path = key_dir / "backup-keys.json"
    create_backup_keys(path)
    groups = [[str(uuid.uuid4()) for _ in range(8)] for _ in range(4)]
    context = multiprocessing.get_context("fork")
    processes = [context.Process(target=_forget_each, args=(str(path), g)) for g in groups]
    for p in processes:
        p.start()
    for p in processes:
        p.join(timeout=60)
        assert p.exitcode == 0
    keys = BackupKeys.load(path)
    assert [o for g in groups for o in g if keys.key_for(uuid.UUID(o)) is not None] == []
