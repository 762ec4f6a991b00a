"""Unit tests of the master key file and data-key wrapping (journal.crypto.keys)."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest

from journal.crypto import (
    DecryptionError,
    KeyFileError,
    MasterKeyRing,
    create_key_file,
    new_data_key,
    recovery_code_mac,
    unwrap_data_key,
    wrap_data_key,
)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def key_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "keys"
    directory.mkdir()
    directory.chmod(0o700)
    return directory


@pytest.fixture
def key_path(key_dir: Path) -> Path:
    return key_dir / "master.json"


def _write(path: Path, body: object) -> Path:
    path.write_text(body if isinstance(body, str) else json.dumps(body))
    path.chmod(0o600)
    return path


def _good_body(key: bytes | None = None, key_id: str = "mk-test") -> dict[str, object]:
    key = new_data_key() if key is None else key
    return {
        "format": 1,
        "active": key_id,
        "keys": [{"id": key_id, "key": base64.b64encode(key).decode()}],
    }


# -- data keys ----------------------------------------------------------------


def test_new_data_keys_are_256_bit_and_distinct() -> None:
    keys = {new_data_key() for _ in range(100)}
    assert len(keys) == 100
    assert all(len(k) == 32 for k in keys)


def test_wrap_unwrap_round_trip() -> None:
    master, data = new_data_key(), new_data_key()
    wrapped = wrap_data_key(master, data)
    assert wrapped != data
    assert data not in wrapped
    assert len(wrapped) == 40  # RFC 3394: 8 bytes longer than the key
    assert unwrap_data_key(master, wrapped, key_id="dk-1") == data


def test_unwrap_with_the_wrong_master_key_fails() -> None:
    wrapped = wrap_data_key(new_data_key(), new_data_key())
    with pytest.raises(DecryptionError) as caught:
        unwrap_data_key(new_data_key(), wrapped, key_id="dk-1")
    assert caught.value.key_id == "dk-1"


@pytest.mark.parametrize("index", [0, 7, 8, 39])
def test_unwrap_of_a_changed_wrapped_key_fails(index: int) -> None:
    master = new_data_key()
    wrapped = bytearray(wrap_data_key(master, new_data_key()))
    wrapped[index] ^= 0x80
    with pytest.raises(DecryptionError):
        unwrap_data_key(master, bytes(wrapped), key_id="dk-1")


# -- the key file -------------------------------------------------------------


def test_create_key_file_makes_a_private_loadable_file(tmp_path: Path) -> None:
    path = tmp_path / "fresh" / "keys" / "master.json"
    ring = create_key_file(path)
    assert _mode(path) == 0o600
    assert _mode(path.parent) == 0o700
    loaded = MasterKeyRing.load(path)
    assert loaded == ring
    assert len(loaded.active_key) == 32
    assert loaded.active_id in loaded.keys


def test_create_key_file_refuses_to_overwrite(key_path: Path) -> None:
    first = create_key_file(key_path)
    before = key_path.read_bytes()
    with pytest.raises(KeyFileError, match="overwrite"):
        create_key_file(key_path)
    assert key_path.read_bytes() == before
    assert MasterKeyRing.load(key_path) == first


def test_two_key_files_hold_different_keys(tmp_path: Path) -> None:
    a = create_key_file(tmp_path / "a" / "master.json")
    b = create_key_file(tmp_path / "b" / "master.json")
    assert a.active_id != b.active_id
    assert a.active_key != b.active_key


def test_save_and_load_keep_several_keys(key_path: Path) -> None:
    ring = MasterKeyRing(active_id="mk-b", keys={"mk-a": new_data_key(), "mk-b": new_data_key()})
    ring.save(key_path)
    assert _mode(key_path) == 0o600
    assert MasterKeyRing.load(key_path) == ring


def test_load_refuses_a_missing_file(key_path: Path) -> None:
    with pytest.raises(KeyFileError, match="missing"):
        MasterKeyRing.load(key_path)


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o700])
def test_load_refuses_a_file_readable_by_others(key_path: Path, mode: int) -> None:
    _write(key_path, _good_body()).chmod(mode)
    with pytest.raises(KeyFileError, match=f"permissions {mode:o}"):
        MasterKeyRing.load(key_path)


@pytest.mark.parametrize("mode", [0o600, 0o400])
def test_load_accepts_an_owner_only_file(key_path: Path, mode: int) -> None:
    _write(key_path, _good_body(key_id="mk-ok")).chmod(mode)
    assert MasterKeyRing.load(key_path).active_id == "mk-ok"


@pytest.mark.parametrize("mode", [0o755, 0o750, 0o711, 0o701])
def test_load_refuses_a_directory_open_to_others(key_dir: Path, key_path: Path, mode: int) -> None:
    _write(key_path, _good_body())
    key_dir.chmod(mode)
    with pytest.raises(KeyFileError, match=f"key directory .* permissions {mode:o}"):
        MasterKeyRing.load(key_path)


MALFORMED = {
    "not_json": "{this is not json",
    "empty": "",
    "a_list": "[]",
    "wrong_format": {**_good_body(), "format": 2},
    "no_keys": {"format": 1, "active": "mk-test"},
    "no_active": {"format": 1, "keys": _good_body()["keys"]},
    "active_not_in_keys": {**_good_body(), "active": "mk-other"},
    "bad_base64": {
        "format": 1,
        "active": "mk-test",
        "keys": [{"id": "mk-test", "key": "not base64!!"}],
    },
    "short_key": _good_body(key=b"k" * 16),
    "long_key": _good_body(key=b"k" * 64),
    "empty_key": _good_body(key=b""),
}


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
def test_load_refuses_a_malformed_file(key_path: Path, body: object) -> None:
    _write(key_path, body)
    with pytest.raises(KeyFileError, match="malformed"):
        MasterKeyRing.load(key_path)


def test_load_refuses_a_short_key_even_when_it_is_not_active(key_path: Path) -> None:
    body = _good_body(key_id="mk-good")
    body["keys"].append({"id": "mk-old", "key": base64.b64encode(b"k" * 31).decode()})  # type: ignore[attr-defined]
    _write(key_path, body)
    with pytest.raises(KeyFileError, match="malformed"):
        MasterKeyRing.load(key_path)


def test_key_error_messages_do_not_quote_the_key(key_path: Path) -> None:
    key = new_data_key()
    body = _good_body(key=key)
    body["format"] = 3
    _write(key_path, body).chmod(0o644)
    encoded = base64.b64encode(key).decode()
    for mode in (0o644, 0o600):
        key_path.chmod(mode)
        with pytest.raises(KeyFileError) as caught:
            MasterKeyRing.load(key_path)
        assert encoded not in str(caught.value)
        assert key.hex() not in str(caught.value)


# -- check values ---------------------------------------------------------------


def test_check_value_is_stable_and_matches_its_key() -> None:
    key = new_data_key()
    ring = MasterKeyRing(active_id="mk-1", keys={"mk-1": key})
    again = MasterKeyRing(active_id="mk-1", keys={"mk-1": bytes(key)})
    value = ring.check_value("mk-1")
    assert len(value) == 32
    int(value, 16)  # hex
    assert value == again.check_value("mk-1")
    assert ring.matches("mk-1", value)
    assert key.hex()[:32] != value
    assert value not in key.hex()


def test_check_value_differs_for_another_key_with_the_same_id() -> None:
    real = MasterKeyRing(active_id="mk-1", keys={"mk-1": new_data_key()})
    forged = MasterKeyRing(active_id="mk-1", keys={"mk-1": new_data_key()})
    stored = real.check_value("mk-1")
    assert forged.check_value("mk-1") != stored
    assert not forged.matches("mk-1", stored)
    assert real.matches("mk-1", stored)


@pytest.mark.parametrize("stored", ["", "0" * 32, "not hex at all"])
def test_matches_refuses_other_values(stored: str) -> None:
    ring = MasterKeyRing(active_id="mk-1", keys={"mk-1": new_data_key()})
    assert not ring.matches("mk-1", stored)


def test_unknown_key_id_is_an_error() -> None:
    ring = MasterKeyRing(active_id="mk-1", keys={"mk-1": new_data_key()})
    with pytest.raises(KeyFileError, match="mk-2"):
        ring.key("mk-2")
    with pytest.raises(KeyFileError):
        ring.check_value("mk-2")
    with pytest.raises(KeyFileError):
        ring.matches("mk-2", ring.check_value("mk-1"))


# -- the recovery-code key --------------------------------------------------------


def test_the_recovery_code_key_comes_from_the_key_files_audit_key(key_path: Path) -> None:
    assert MasterKeyRing(active_id="mk-1", keys={"mk-1": new_data_key()}).recovery_code_key is None
    ring = create_key_file(key_path)
    key = ring.recovery_code_key
    assert key is not None and len(key) == 32
    assert key != ring.audit_key and key not in ring.keys.values()
    assert MasterKeyRing.load(key_path).recovery_code_key == key  # the same after a reload
    other = MasterKeyRing(ring.active_id, dict(ring.keys), new_data_key())
    assert other.recovery_code_key not in (None, key)  # another audit key, another key
    # A new master key (as rotation makes) keeps it: it depends on the audit key alone.
    rotated = MasterKeyRing("mk-new", {"mk-new": new_data_key()}, ring.audit_key)
    assert rotated.recovery_code_key == key


def test_the_recovery_code_mac_needs_the_key() -> None:
    digest = bytes(range(32))
    key = new_data_key()
    mac = recovery_code_mac(key, digest)
    assert len(mac) == 32 and mac == recovery_code_mac(bytes(key), digest)
    assert recovery_code_mac(new_data_key(), digest) != mac
    assert recovery_code_mac(key, bytes(32)) != mac
