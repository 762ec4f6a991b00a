"""The KAP journal: a self-hosted, encrypted journal for ketamine-assisted psychotherapy."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

    from journal.config import Settings


def create_app(settings: Settings | None = None) -> Flask:
    """Build the web app. Refuses to start without its secret key, its master key,
    an initialised database, or with a key file that does not match the database."""
    from journal.app import build_app

    return build_app(settings)
