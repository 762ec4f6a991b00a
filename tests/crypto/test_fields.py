"""Unit tests of field encryption (journal.crypto.fields): checklist 2, 3, 4 and 5 at the
lowest level, plus a static check that no fixed IV or counter nonce exists in the code."""

from __future__ import annotations

import ast
import itertools
import uuid
from pathlib import Path

import pytest

import journal.crypto
from journal.crypto import DecryptionError, FieldContext, blob_key_id, decrypt_field, encrypt_field
from journal.crypto.keys import new_data_key

CRYPTO_DIR = Path(journal.crypto.__file__).resolve().parent
JOURNAL_DIR = CRYPTO_DIR.parent

# The documented layout: version (1) | data-key id (16) | nonce (12) | ciphertext + tag (16).
VERSION = slice(0, 1)
KEY_ID = slice(1, 17)
NONCE = slice(17, 29)
HEADER = 29
TAG = 16

TEXT = "Fictional note: the ocean felt close, and I wasn't afraid. ✨"


@pytest.fixture
def key() -> bytes:
    return new_data_key()


@pytest.fixture
def key_id() -> uuid.UUID:
    return uuid.uuid4()


@pytest.fixture
def ctx() -> FieldContext:
    return FieldContext(
        table="entries",
        column="body",
        row_id=uuid.uuid4(),
        owner_id=uuid.uuid4(),
        row_version=1,
    )


@pytest.fixture
def blob(key: bytes, key_id: uuid.UUID, ctx: FieldContext) -> bytes:
    return encrypt_field(key, key_id, TEXT, ctx)


# -- round trip and layout ----------------------------------------------------


@pytest.mark.parametrize("text", ["", "a", TEXT, "x" * 50_000, "line one\nline two\r\n\t\x00"])
def test_round_trip(key: bytes, key_id: uuid.UUID, ctx: FieldContext, text: str) -> None:
    blob = encrypt_field(key, key_id, text, ctx)
    assert decrypt_field(key, blob, ctx) == text


def test_blob_layout(blob: bytes, key_id: uuid.UUID) -> None:
    assert blob[VERSION] == b"\x01"
    assert blob[KEY_ID] == key_id.bytes
    assert blob_key_id(blob) == key_id
    assert len(blob) == HEADER + len(TEXT.encode()) + TAG
    assert TEXT.encode() not in blob


def test_same_text_twice_gives_different_blobs(
    key: bytes, key_id: uuid.UUID, ctx: FieldContext
) -> None:
    first = encrypt_field(key, key_id, TEXT, ctx)
    second = encrypt_field(key, key_id, TEXT, ctx)
    assert first != second
    assert first[NONCE] != second[NONCE]
    assert first[HEADER:] != second[HEADER:]
    assert decrypt_field(key, first, ctx) == decrypt_field(key, second, ctx) == TEXT


def test_nonces_never_repeat(key: bytes, key_id: uuid.UUID, ctx: FieldContext) -> None:
    count = 5_000
    nonces = [encrypt_field(key, key_id, "same text", ctx)[NONCE] for _ in range(count)]
    assert len(set(nonces)) == count
    assert all(len(n) == 12 for n in nonces)
    # Not a counter: consecutive nonces do not differ by a small step.
    as_ints = [int.from_bytes(n, "big") for n in nonces]
    small_steps = sum(1 for a, b in itertools.pairwise(as_ints) if abs(b - a) < 2**32)
    assert small_steps == 0


# -- tampering ----------------------------------------------------------------


def _flip(blob: bytes, index: int) -> bytes:
    changed = bytearray(blob)
    changed[index] ^= 0x01
    return bytes(changed)


def _positions(region: str, length: int) -> range:
    return {
        "version": range(0, 1),
        "key_id": range(1, 17),
        "nonce": range(17, 29),
        "ciphertext": range(HEADER, length - TAG),
        "tag": range(length - TAG, length),
    }[region]


@pytest.mark.parametrize("region", ["version", "key_id", "nonce", "ciphertext", "tag"])
def test_flipped_byte_anywhere_fails(
    key: bytes, blob: bytes, ctx: FieldContext, region: str
) -> None:
    positions = _positions(region, len(blob))
    assert len(positions) > 0
    accepted = []
    for index in positions:
        try:
            decrypt_field(key, _flip(blob, index), ctx)
        except DecryptionError:
            continue
        accepted.append(index)
    assert accepted == [], f"blob with a flipped byte at {accepted} decrypted without error"


@pytest.mark.parametrize(
    "change",
    [
        {"table": "entry_revisions"},
        {"column": "title"},
        {"row_id": uuid.uuid4()},
        {"owner_id": uuid.uuid4()},
        {"row_version": 2},
        {"row_version": 0},
    ],
    ids=["table", "column", "row_id", "owner_id", "row_version_newer", "row_version_older"],
)
def test_blob_decrypted_in_another_place_fails(
    key: bytes, blob: bytes, ctx: FieldContext, change: dict[str, object]
) -> None:
    other = ctx._replace(**change)  # type: ignore[arg-type]
    assert other != ctx
    with pytest.raises(DecryptionError) as caught:
        decrypt_field(key, blob, other)
    assert TEXT not in str(caught.value)
    assert caught.value.where == other.describe()
    # The original place still works: only the move broke it.
    assert decrypt_field(key, blob, ctx) == TEXT


def test_wrong_key_fails(blob: bytes, ctx: FieldContext) -> None:
    with pytest.raises(DecryptionError):
        decrypt_field(new_data_key(), blob, ctx)


@pytest.mark.parametrize("version", [0, 2, 255])
def test_unknown_version_fails(key: bytes, blob: bytes, ctx: FieldContext, version: int) -> None:
    changed = bytes([version]) + blob[1:]
    with pytest.raises(DecryptionError, match="version"):
        decrypt_field(key, changed, ctx)
    with pytest.raises(DecryptionError, match="version"):
        blob_key_id(changed)


def test_truncated_blobs_fail(key: bytes, blob: bytes, ctx: FieldContext) -> None:
    for length in range(len(blob)):
        with pytest.raises(DecryptionError):
            decrypt_field(key, blob[:length], ctx)


def test_extended_blob_fails(key: bytes, blob: bytes, ctx: FieldContext) -> None:
    with pytest.raises(DecryptionError):
        decrypt_field(key, blob + b"\x00", ctx)


def test_error_carries_place_and_key_but_no_content(
    key: bytes, key_id: uuid.UUID, blob: bytes, ctx: FieldContext
) -> None:
    with pytest.raises(DecryptionError) as caught:
        decrypt_field(key, _flip(blob, len(blob) - 1), ctx)
    message = str(caught.value)
    assert str(ctx.row_id) in message
    assert str(key_id) in message
    assert TEXT not in message
    assert blob.hex() not in message


def test_associated_data_names_every_part(ctx: FieldContext) -> None:
    aad = ctx.associated_data().decode()
    for part in (ctx.table, ctx.column, str(ctx.row_id), str(ctx.owner_id), str(ctx.row_version)):
        assert part in aad


# -- static: no fixed IV or counter nonce ------------------------------------


def _is_random_call(node: ast.expr) -> bool:
    """os.urandom(...) or secrets.token_bytes(...)."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and (node.func.value.id, node.func.attr) in {("os", "urandom"), ("secrets", "token_bytes")}
    )


def _functions(tree: ast.AST) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]


def _bindings(function: ast.AST, name: str) -> list[ast.AST]:
    """Every node in the function that binds or changes `name` (assignments, loops, args)."""
    found: list[ast.AST] = []
    for node in ast.walk(function):
        if isinstance(node, ast.Assign):
            if any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
                found.append(node)
        elif isinstance(node, ast.AnnAssign | ast.AugAssign | ast.NamedExpr):
            if isinstance(node.target, ast.Name) and node.target.id == name:
                found.append(node)
        elif isinstance(node, ast.For | ast.AsyncFor | ast.comprehension):
            if any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(node.target)):
                found.append(node)
        elif isinstance(node, ast.arg) and node.arg == name:
            found.append(node)
    return found


def nonce_problems(source: str, filename: str = "<source>") -> tuple[int, list[str]]:
    """Check every `<aead>.encrypt(nonce, ...)` call: its nonce must be a local variable
    bound exactly once in the same function, from os.urandom / secrets.token_bytes, before
    the call. Returns how many calls were checked and what was wrong."""
    tree = ast.parse(source, filename=filename)
    checked, problems = 0, []
    for function in _functions(tree):
        for node in ast.walk(function):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "encrypt"
            ):
                continue
            checked += 1
            where = f"{filename}:{node.lineno}"
            nonce = node.args[0] if node.args else None
            if not isinstance(nonce, ast.Name):
                problems.append(f"{where}: the nonce is not a local variable")
                continue
            bindings = _bindings(function, nonce.id)
            if len(bindings) != 1:
                problems.append(f"{where}: nonce {nonce.id!r} is bound {len(bindings)} times")
                continue
            (binding,) = bindings
            if not (
                isinstance(binding, ast.Assign)
                and _is_random_call(binding.value)
                and binding.lineno < node.lineno
            ):
                problems.append(f"{where}: nonce {nonce.id!r} does not come from os.urandom")
    return checked, problems


def test_every_aead_encrypt_takes_a_fresh_random_nonce() -> None:
    total = 0
    for path in sorted(CRYPTO_DIR.glob("*.py")):
        checked, problems = nonce_problems(path.read_text(), path.name)
        assert problems == []
        total += checked
    assert total >= 1, "no AEAD encrypt call found: the static check looked in the wrong place"


BAD_NONCES = {
    "fixed": """
def seal(key, text):
    nonce = b"\\x00" * 12
    return AESGCM(key).encrypt(nonce, text, None)
""",
    "counter": """
def seal(key, text, counter):
    nonce = counter.to_bytes(12, "big")
    return AESGCM(key).encrypt(nonce, text, None)
""",
    "incremented": """
def seal(key, texts):
    nonce = os.urandom(12)
    out = []
    for text in texts:
        out.append(AESGCM(key).encrypt(nonce, text, None))
        nonce = bytes(12)
    return out
""",
    "passed_in": """
def seal(key, nonce, text):
    return AESGCM(key).encrypt(nonce, text, None)
""",
    "module_constant": """
IV = bytes(12)
def seal(key, text):
    return AESGCM(key).encrypt(IV, text, None)
""",
    "inline": """
def seal(key, text):
    return AESGCM(key).encrypt(b"0" * 12, text, None)
""",
}


@pytest.mark.parametrize("source", BAD_NONCES.values(), ids=BAD_NONCES.keys())
def test_the_static_nonce_check_catches_bad_nonces(source: str) -> None:
    checked, problems = nonce_problems(source)
    assert checked == 1
    assert len(problems) == 1


FORBIDDEN = {
    "Fernet": "Fernet (AES-CBC)",
    "MultiFernet": "Fernet (AES-CBC)",
    "CBC": "CBC mode",
    "ECB": "ECB mode",
    "CTR": "CTR mode",
    "EncryptedType": "sqlalchemy-utils EncryptedType",
    "StringEncryptedType": "sqlalchemy-utils EncryptedType",
}


def test_no_weak_modes_or_fixed_nonces_anywhere() -> None:
    problems = []
    for path in sorted(JOURNAL_DIR.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            name = None
            if isinstance(node, ast.Name):
                name = node.id
            elif isinstance(node, ast.Attribute):
                name = node.attr
            elif isinstance(node, ast.alias):
                name = node.name.rsplit(".", 1)[-1]
            if name in FORBIDDEN:
                problems.append(f"{path.relative_to(JOURNAL_DIR)}:{node.lineno} {FORBIDDEN[name]}")
            # A bytes constant of nonce size used as a name like NONCE / IV.
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and ("NONCE" in t.id.upper() or t.id.upper() == "IV")
                for t in node.targets
            ):
                value = node.value
                if isinstance(value, ast.Constant) and isinstance(value.value, bytes | str):
                    problems.append(f"{path.relative_to(JOURNAL_DIR)}:{node.lineno} fixed nonce")
    assert problems == []


# -- re-encryption (key rotation) ---------------------------------------------


def test_reencrypt_moves_a_value_to_the_new_key(
    key: bytes, key_id: uuid.UUID, ctx: FieldContext, blob: bytes
) -> None:
    from journal.crypto import reencrypt_field

    new_key, new_id = new_data_key(), uuid.uuid4()
    moved = reencrypt_field(key, new_key, new_id, blob, ctx)
    assert blob_key_id(moved) == new_id
    assert moved[NONCE] != blob[NONCE]
    assert decrypt_field(new_key, moved, ctx) == TEXT
    with pytest.raises(DecryptionError):
        decrypt_field(key, moved, ctx)


def test_reencrypt_checks_the_old_value(
    key: bytes, key_id: uuid.UUID, ctx: FieldContext, blob: bytes
) -> None:
    from journal.crypto import reencrypt_field

    elsewhere = ctx._replace(row_id=uuid.uuid4())
    with pytest.raises(DecryptionError):
        reencrypt_field(key, new_data_key(), uuid.uuid4(), blob, elsewhere)
    with pytest.raises(DecryptionError):
        reencrypt_field(new_data_key(), new_data_key(), uuid.uuid4(), blob, ctx)
