"""The consent record's checkboxes: the shipped list, or the clinic's own file."""

from __future__ import annotations

from pathlib import Path

from journal.clinical.checklist import ItemFile, load_item_file
from journal.core.definitions import CONTENT_ROOT

BUILT_IN_FILE = CONTENT_ROOT / "checklists" / "consent.toml"


def load_consent_items(path: Path | None = None) -> ItemFile:
    """The clinic's list when a setting names one (it replaces the shipped one)."""
    return load_item_file(path or BUILT_IN_FILE)
