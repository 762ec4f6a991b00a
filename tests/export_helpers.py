"""Helpers for the export tests: posting the export form, reading the files."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import jsonschema
from pypdf import PdfReader
from werkzeug.test import TestResponse

from tests.helpers import Browser

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "docs" / "export.schema.json"


def schema() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SCHEMA_PATH.read_text())
    return data


def validate(data: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator(schema()).validate(data)


def export(browser: Browser, course_id: object, fmt: str = "json", **options: Any) -> TestResponse:
    return browser.post(f"/courses/{course_id}/export", {"format": fmt, **options})


def is_file(response: TestResponse) -> bool:
    return response.headers.get("Content-Disposition", "").startswith("attachment;")


def pdf_text(content: bytes, passphrase: str | None = None) -> str:
    reader = PdfReader(io.BytesIO(content))
    if passphrase is not None:
        reader.decrypt(passphrase)
    return "\n".join(page.extract_text() for page in reader.pages)


def flat(text: str) -> str:
    """PDF text without line breaks and hyphens, for finding markers that wrapped."""
    return "".join(text.split())
