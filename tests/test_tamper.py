"""Checklist 4, 5 and 7: stored ciphertexts moved, changed or rolled back with SQL fail
cleanly (generic error page, a log line naming the row, no text and no ciphertext), and
no code path turns a decryption error into a value."""

from __future__ import annotations

import ast
import base64
import logging
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import Table, select, update
from werkzeug.test import TestResponse

import journal
from journal.models import Course, DosingSession, Entry, EntryRevision, Intention
from tests.conftest import Clinic, entry_form, new_entry_id, runtime
from tests.helpers import Browser

JOURNAL_DIR = Path(journal.__file__).resolve().parent
TABLES: dict[str, Table] = {
    "entries": Entry.__table__,  # type: ignore[dict-item]
    "entry_revisions": EntryRevision.__table__,  # type: ignore[dict-item]
    "intentions": Intention.__table__,  # type: ignore[dict-item]
    "courses": Course.__table__,  # type: ignore[dict-item]
}


# -- helpers ------------------------------------------------------------------


def read_blob(app: Flask, table: str, column: str, row_id: uuid.UUID) -> bytes:
    t = TABLES[table]
    with runtime(app).database.engine.connect() as conn:
        value = conn.execute(select(t.c[column]).where(t.c.id == row_id)).scalar_one()
    assert value is not None
    return bytes(value)


def write_blob(app: Flask, table: str, column: str, row_id: uuid.UUID, blob: bytes) -> None:
    t = TABLES[table]
    with runtime(app).database.engine.begin() as conn:
        result = conn.execute(update(t).where(t.c.id == row_id).values({column: blob}))
    assert result.rowcount == 1


def only_row(app: Flask, table: str, **where: object) -> uuid.UUID:
    t = TABLES[table]
    with runtime(app).database.engine.connect() as conn:
        stmt = select(t.c.id).where(*(t.c[k] == v for k, v in where.items()))
        return uuid.UUID(str(conn.execute(stmt).scalar_one()))


def flip(blob: bytes, index: int) -> bytes:
    changed = bytearray(blob)
    changed[index] ^= 0x01
    return bytes(changed)


def assert_clean_failure(
    response: TestResponse,
    caplog: pytest.LogCaptureFixture,
    *,
    where: str,
    texts: list[str],
    blobs: list[bytes],
) -> None:
    """The generic integrity page, no text, no ciphertext; a log line names the row only."""
    page = response.get_data(as_text=True)
    assert response.status_code == 500, page
    assert "could not be read" in page
    for secret in texts:
        assert secret not in page
    for blob in blobs:
        assert blob not in response.get_data()
        assert blob.hex() not in page
        assert base64.b64encode(blob).decode() not in page
        assert blob[29:45].hex() not in page  # a piece of the ciphertext, hex-encoded
    records = [r for r in caplog.records if r.name == "journal.integrity"]
    assert records, "the integrity failure was not logged"
    messages = [r.getMessage() for r in records]
    assert any(where in m for m in messages), (where, messages)
    everything = caplog.text + "\n".join(messages)
    for secret in texts:
        assert secret not in everything
    for blob in blobs:
        assert blob.hex() not in everything
        assert blob[29:45].hex() not in everything
        assert base64.b64encode(blob).decode() not in everything


@dataclass
class Setup:
    app: Flask
    clinic: Clinic
    patient: Browser
    other: Browser
    a: uuid.UUID  # two entries of the patient
    b: uuid.UUID
    c: uuid.UUID  # an entry of another patient
    texts: dict[str, str]

    def all_texts(self) -> list[str]:
        return list(self.texts.values())


def _write(browser: Browser, course_id: uuid.UUID, session_id: uuid.UUID, **form: str) -> uuid.UUID:
    data = entry_form(None, session_id=str(session_id), **form)
    r = browser.post(f"/courses/{course_id}/entries/new", data)
    assert r.status_code == 302, r.get_data(as_text=True)
    return new_entry_id(r.location)


@pytest.fixture
def setup(clinic: Clinic, caplog: pytest.LogCaptureFixture) -> Setup:
    caplog.set_level(logging.INFO)
    texts = {k: uuid.uuid4().hex for k in ("a_t", "a_b", "a_i", "b_t", "b_b", "b_i", "c_t", "c_b")}
    patient = clinic.world.browser(clinic.patient)
    other = clinic.world.browser(clinic.other_patient)
    course, upcoming = clinic.course.id, clinic.upcoming.id
    a = _write(
        patient,
        course,
        upcoming,
        phase="preparation",
        title=f"Fictional A {texts['a_t']}",
        body=f"Fictional body A {texts['a_b']}",
        intentions=f"Fictional intention A {texts['a_i']}",
    )
    b = _write(
        patient,
        course,
        upcoming,
        phase="preparation",
        title=f"Fictional B {texts['b_t']}",
        body=f"Fictional body B {texts['b_b']}",
        intentions=f"Fictional intention B {texts['b_i']}",
    )
    c = _write(
        other,
        clinic.other_course.id,
        _session_of(clinic.world.app, clinic.other_course.id),
        phase="preparation",
        title=f"Fictional C {texts['c_t']}",
        body=f"Fictional body C {texts['c_b']}",
    )
    # Untouched, everything reads.
    for browser, entry, keys in ((patient, a, "a_t a_b a_i"), (patient, b, "b_t b_b b_i")):
        page = browser.text(f"/entries/{entry}")
        assert all(texts[k] in page for k in keys.split())
    assert texts["c_b"] in other.text(f"/entries/{c}")
    caplog.clear()
    return Setup(clinic.world.app, clinic, patient, other, a, b, c, texts)


def _session_of(app: Flask, course_id: uuid.UUID) -> uuid.UUID:
    with runtime(app).database.session() as s:
        return s.scalars(select(DosingSession.id).where(DosingSession.course_id == course_id)).one()


# -- checklist 4: a ciphertext moved to another row, field or patient ---------


def test_body_swapped_into_another_entry_fails(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    blob = read_blob(setup.app, "entries", "body", setup.a)
    original = read_blob(setup.app, "entries", "body", setup.b)
    write_blob(setup.app, "entries", "body", setup.b, blob)

    r = setup.patient.get(f"/entries/{setup.b}")
    assert_clean_failure(
        r,
        caplog,
        where=f"entries.body row {setup.b}",
        texts=setup.all_texts(),
        blobs=[blob, original],
    )
    # The timeline's cards read the excerpt sealed with the body: swapped the same way,
    # it fails there.
    write_blob(setup.app, "entries", "body", setup.b, original)
    excerpt = read_blob(setup.app, "entries", "excerpt", setup.a)
    write_blob(setup.app, "entries", "excerpt", setup.b, excerpt)
    caplog.clear()
    r = setup.patient.get(f"/courses/{setup.clinic.course.id}")
    assert_clean_failure(
        r, caplog, where=f"entries.excerpt row {setup.b}", texts=setup.all_texts(), blobs=[excerpt]
    )
    # The source row is intact and still reads.
    assert setup.texts["a_b"] in setup.patient.text(f"/entries/{setup.a}")


def test_body_swapped_into_the_title_column_fails(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    blob = read_blob(setup.app, "entries", "body", setup.a)
    write_blob(setup.app, "entries", "title", setup.a, blob)

    r = setup.patient.get(f"/entries/{setup.a}")
    assert_clean_failure(
        r, caplog, where=f"entries.title row {setup.a}", texts=setup.all_texts(), blobs=[blob]
    )
    assert setup.texts["b_b"] in setup.patient.text(f"/entries/{setup.b}")


def test_another_patients_body_swapped_in_fails(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    blob = read_blob(setup.app, "entries", "body", setup.c)
    write_blob(setup.app, "entries", "body", setup.a, blob)

    r = setup.patient.get(f"/entries/{setup.a}")
    assert_clean_failure(
        r, caplog, where=f"entries.body row {setup.a}", texts=setup.all_texts(), blobs=[blob]
    )
    # The other patient's entry is untouched and still reads, for them.
    assert setup.texts["c_b"] in setup.other.text(f"/entries/{setup.c}")


def test_intention_swapped_into_another_entry_fails(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    source = only_row(setup.app, "intentions", entry_id=setup.a)
    target = only_row(setup.app, "intentions", entry_id=setup.b)
    blob = read_blob(setup.app, "intentions", "text", source)
    write_blob(setup.app, "intentions", "text", target, blob)

    r = setup.patient.get(f"/entries/{setup.b}")
    assert_clean_failure(
        r, caplog, where=f"intentions.text row {target}", texts=setup.all_texts(), blobs=[blob]
    )


def test_indication_swapped_into_another_course_fails(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    clinic = setup.clinic
    blob = read_blob(setup.app, "courses", "indication", clinic.course.id)
    write_blob(setup.app, "courses", "indication", clinic.other_course.id, blob)

    r = setup.other.get(f"/courses/{clinic.other_course.id}")
    assert_clean_failure(
        r,
        caplog,
        where=f"courses.indication row {clinic.other_course.id}",
        texts=setup.all_texts(),
        blobs=[blob],
    )
    assert "Fictional indication" in setup.patient.text(f"/courses/{clinic.course.id}")


def test_entry_body_swapped_into_a_course_indication_fails(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    course_id = setup.clinic.course.id
    blob = read_blob(setup.app, "entries", "body", setup.a)
    write_blob(setup.app, "courses", "indication", course_id, blob)

    clinician = setup.clinic.world.browser(setup.clinic.clinician)
    r = clinician.get(f"/courses/{course_id}")
    assert_clean_failure(
        r,
        caplog,
        where=f"courses.indication row {course_id}",
        texts=setup.all_texts(),
        blobs=[blob],
    )


# One byte in each part of the stored layout: version | key id | nonce | ciphertext + tag.
FLIPS = {
    "version": 0,
    "key_id": 5,
    "key_id_last": 16,
    "nonce_first": 17,
    "nonce_last": 28,
    "ciphertext_first": 29,
    "ciphertext": 40,
    "tag_first": -16,
    "tag_last": -1,
}


def test_a_flipped_byte_fails(setup: Setup, caplog: pytest.LogCaptureFixture) -> None:
    # The entry's page reads the body; the timeline's card, the excerpt sealed with it.
    pages = {"body": f"/entries/{setup.a}", "excerpt": f"/courses/{setup.clinic.course.id}"}
    for column, url in pages.items():
        blob = read_blob(setup.app, "entries", column, setup.a)
        for part, index in FLIPS.items():
            changed = flip(blob, index)
            write_blob(setup.app, "entries", column, setup.a, changed)
            caplog.clear()
            r = setup.patient.get(url)
            try:
                assert_clean_failure(
                    r,
                    caplog,
                    where=f"entries.{column} row {setup.a}",
                    texts=setup.all_texts(),
                    blobs=[blob, changed],
                )
            except AssertionError as exc:
                raise AssertionError(f"flipped {part} byte of the {column}, {url}: {exc}") from exc
            # Put the original back: it reads again, so only the flip broke it.
            write_blob(setup.app, "entries", column, setup.a, blob)
            assert setup.patient.get(url).status_code == 200
    assert setup.texts["a_b"] in setup.patient.text(f"/entries/{setup.a}")


def test_a_cleared_field_fails_instead_of_reading_as_empty(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    for empty in (b"", b"\x01"):
        write_blob(setup.app, "entries", "body", setup.a, empty)
        r = setup.patient.get(f"/entries/{setup.a}")
        assert_clean_failure(
            r, caplog, where=f"entries.body row {setup.a}", texts=setup.all_texts(), blobs=[]
        )
        caplog.clear()


# -- checklist 5: an older ciphertext of the same entry put back ---------------


def _edit(setup: Setup, entry_id: uuid.UUID, version: int, **form: str) -> None:
    data = entry_form(setup.clinic.upcoming, phase="preparation", version=str(version), **form)
    r = setup.patient.post(f"/entries/{entry_id}/edit", data)
    assert r.status_code == 302, r.get_data(as_text=True)


@pytest.mark.parametrize("columns", [("body",), ("title",), ("title", "body", "mood")])
def test_rolled_back_entry_fails(
    setup: Setup, caplog: pytest.LogCaptureFixture, columns: tuple[str, ...]
) -> None:
    old = {c: read_blob(setup.app, "entries", c, setup.a) for c in columns}
    new = {"title": uuid.uuid4().hex, "body": uuid.uuid4().hex}
    _edit(setup, setup.a, 1, title=f"Revised {new['title']}", body=f"Revised {new['body']}")
    page = setup.patient.text(f"/entries/{setup.a}")
    assert new["body"] in page and setup.texts["a_b"] not in page

    for column, blob in old.items():
        write_blob(setup.app, "entries", column, setup.a, blob)
    texts = [*setup.all_texts(), *new.values()]
    for url in (f"/entries/{setup.a}", f"/entries/{setup.a}/history"):
        r = setup.patient.get(url)
        assert_clean_failure(
            r,
            caplog,
            where=f"entries.{columns[0]} row {setup.a} v2",
            texts=texts,
            blobs=list(old.values()),
        )
        caplog.clear()


def test_revision_ciphertext_put_back_into_the_entry_fails(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    _edit(setup, setup.a, 1, title="Fictional revised title", body="Fictional revised body")
    revision = only_row(setup.app, "entry_revisions", entry_id=setup.a)
    blob = read_blob(setup.app, "entry_revisions", "body", revision)
    write_blob(setup.app, "entries", "body", setup.a, blob)

    r = setup.patient.get(f"/entries/{setup.a}")
    assert_clean_failure(
        r,
        caplog,
        where=f"entries.body row {setup.a} v2",
        texts=[*setup.all_texts(), "Fictional revised body"],
        blobs=[blob],
    )


def test_rolled_back_intention_fails(setup: Setup, caplog: pytest.LogCaptureFixture) -> None:
    intention = only_row(setup.app, "intentions", entry_id=setup.a)
    old = read_blob(setup.app, "intentions", "text", intention)
    _edit(setup, setup.a, 1, title="Fictional A", intentions="Fictional new intention")
    assert "Fictional new intention" in setup.patient.text(f"/entries/{setup.a}")
    write_blob(setup.app, "intentions", "text", intention, old)

    r = setup.patient.get(f"/entries/{setup.a}")
    assert_clean_failure(
        r, caplog, where=f"intentions.text row {intention} v2", texts=setup.all_texts(), blobs=[old]
    )


def test_swapped_revisions_fail(setup: Setup, caplog: pytest.LogCaptureFixture) -> None:
    """Two earlier versions of one entry trading places in the history."""
    _edit(setup, setup.a, 1, title="Fictional second", body="Fictional second body")
    _edit(setup, setup.a, 2, title="Fictional third", body="Fictional third body")
    t = TABLES["entry_revisions"]
    with runtime(setup.app).database.engine.connect() as conn:
        rows = conn.execute(
            select(t.c.id, t.c.body).where(t.c.entry_id == setup.a).order_by(t.c.entry_version)
        ).all()
    assert len(rows) == 2
    (first, first_body), (second, second_body) = rows
    write_blob(setup.app, "entry_revisions", "body", first, bytes(second_body))
    write_blob(setup.app, "entry_revisions", "body", second, bytes(first_body))

    assert "Fictional third body" in setup.patient.text(f"/entries/{setup.a}")
    r = setup.patient.get(f"/entries/{setup.a}/history")
    assert_clean_failure(
        r,
        caplog,
        where="entry_revisions.body row",
        texts=[*setup.all_texts(), "Fictional second body"],
        blobs=[bytes(first_body), bytes(second_body)],
    )


# -- checklist 7 (static): nothing turns a decryption error into a value --------

# Exceptions whose handlers could swallow a DecryptionError (or the crypto errors it wraps).
SWALLOWING = {"DecryptionError", "Exception", "BaseException", "InvalidTag", "InvalidUnwrap"}


def _names(node: ast.expr | None) -> set[str]:
    if node is None:
        return {"BaseException"}  # a bare `except:`
    if isinstance(node, ast.Tuple):
        return set().union(*(_names(e) for e in node.elts))
    if isinstance(node, ast.Name):
        return {node.id}
    if isinstance(node, ast.Attribute):
        return {node.attr}
    return {"?"}


def _reraises(handler: ast.ExceptHandler) -> bool:
    """Ends in `raise` on its only path, and never returns or yields a value."""
    if not handler.body or not isinstance(handler.body[-1], ast.Raise):
        return False
    for node in ast.walk(handler):
        if isinstance(node, ast.Return | ast.Yield | ast.YieldFrom | ast.Continue | ast.Break):
            return False
        if isinstance(node, ast.If | ast.Try | ast.Match | ast.For | ast.While | ast.With):
            return False
    return True


def _is_errorhandler(decorator: ast.expr) -> bool:
    return (
        isinstance(decorator, ast.Call)
        and isinstance(decorator.func, ast.Attribute)
        and decorator.func.attr == "errorhandler"
    )


def _is_error_page_handler(function: ast.FunctionDef) -> bool:
    """`@app.errorhandler(...)` returning `_page(500, ...)` built without the exception."""
    decorated = any(
        isinstance(d, ast.Call)
        and isinstance(d.func, ast.Attribute)
        and d.func.attr == "errorhandler"
        for d in function.decorator_list
    )
    returns = [n for n in ast.walk(function) if isinstance(n, ast.Return)]
    if not decorated or len(returns) != 1 or returns[0].value is None:
        return False
    value = returns[0].value
    exc_names = {a.arg for a in function.args.args}
    uses_exc = any(isinstance(n, ast.Name) and n.id in exc_names for n in ast.walk(value))
    return (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Name)
        and value.func.id == "_page"
        and bool(value.args)
        and isinstance(value.args[0], ast.Constant)
        and value.args[0].value == 500
        and not uses_exc
    )


def _only_reports(handler: ast.ExceptHandler) -> bool:
    """A handler whose whole body is `something.append(...)`: it lists the failure
    (as `keys verify` does) and returns no value in place of the plaintext."""
    return len(handler.body) == 1 and (
        isinstance(handler.body[0], ast.Expr)
        and isinstance(handler.body[0].value, ast.Call)
        and isinstance(handler.body[0].value.func, ast.Attribute)
        and handler.body[0].value.func.attr == "append"
    )


def test_a_handler_that_only_reports_is_told_apart() -> None:
    reporting = "try:\n    f()\nexcept DecryptionError as e:\n    failures.append(e)\n"
    swallowing = "try:\n    x = f()\nexcept DecryptionError:\n    x = ''\n"
    assert swallowing_problems(reporting) == []
    assert swallowing_problems(swallowing) != []


def swallowing_problems(source: str, filename: str = "<source>") -> list[str]:
    tree = ast.parse(source, filename=filename)
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ExceptHandler):
            caught = _names(node.type) & SWALLOWING
            if caught and not _reraises(node) and not _only_reports(node):
                problems.append(f"{filename}:{node.lineno} catches {sorted(caught)}, no re-raise")
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name == "suppress" and set().union(*map(_names, node.args)) & SWALLOWING:
                problems.append(f"{filename}:{node.lineno} suppresses decryption errors")
            if name == "register_error_handler":
                problems.append(f"{filename}:{node.lineno} error handler outside web/errors.py")
        elif isinstance(node, ast.FunctionDef):
            handles = {
                n
                for d in node.decorator_list
                if _is_errorhandler(d)
                for n in set().union(*map(_names, d.args))  # type: ignore[union-attr]
            }
            if handles & SWALLOWING and not (
                filename.endswith("web/errors.py") and _is_error_page_handler(node)
            ):
                problems.append(f"{filename}:{node.lineno} {node.name} handles {sorted(handles)}")
    return problems


def test_no_code_path_turns_a_decryption_error_into_a_value() -> None:
    files = sorted(JOURNAL_DIR.rglob("*.py"))
    assert any(p.name == "vault.py" for p in files)
    problems = []
    for path in files:
        rel = path.relative_to(JOURNAL_DIR.parent).as_posix()
        problems += swallowing_problems(path.read_text(), rel)
    assert problems == []


def test_the_error_page_handlers_are_found() -> None:
    """The static check above really looks at the two catch-all handlers in web/errors.py."""
    source = (JOURNAL_DIR / "web" / "errors.py").read_text()
    tree = ast.parse(source)
    handlers = {
        f.name
        for f in ast.walk(tree)
        if isinstance(f, ast.FunctionDef) and _is_error_page_handler(f)
    }
    assert {"integrity", "unexpected"} <= handlers


BAD = {
    "empty_string": """
def open_or_empty(vault, row):
    try:
        return vault.open_column(row, "body", row.owner)
    except DecryptionError:
        return ""
""",
    "stored_value": """
def open_or_blob(vault, row):
    try:
        text = vault.open_column(row, "body", row.owner)
    except (ValueError, crypto.DecryptionError):
        text = row.body
    return text
""",
    "broad": """
def open_quietly(vault, row):
    try:
        return vault.open_column(row, "body", row.owner)
    except Exception:
        log.warning("could not read")
    return None
""",
    "bare": """
def open_quietly(vault, row):
    try:
        return vault.open_column(row, "body", row.owner)
    except:
        pass
""",
    "conditional_raise": """
def open_sometimes(vault, row, strict):
    try:
        return vault.open_column(row, "body", row.owner)
    except DecryptionError:
        if strict:
            raise
        return row.body
""",
    "suppress": """
def open_quietly(vault, row):
    with contextlib.suppress(DecryptionError):
        return vault.open_column(row, "body", row.owner)
""",
    "handler_returns_blob": """
@app.errorhandler(DecryptionError)
def integrity(exc):
    return _page(500, str(exc))
""",
}


@pytest.mark.parametrize("source", BAD.values(), ids=BAD.keys())
def test_the_static_check_catches_swallowed_errors(source: str) -> None:
    assert swallowing_problems(source, "journal/web/errors.py") != []


def test_the_static_check_allows_a_reraise() -> None:
    source = """
def open_here(vault, blob, ctx):
    try:
        key_id = blob_key_id(blob)
    except DecryptionError as exc:
        raise DecryptionError(exc.reason, where=ctx.describe()) from None
    return key_id
"""
    assert swallowing_problems(source) == []
