"""Alembic environment: uses the journal's metadata.

Migrations run through `flask --app journal init` (journal.bootstrap.migrate),
which hands over a connection prepared for the database at hand (on SQLite,
foreign keys off while tables are rebuilt).
"""

from __future__ import annotations

from alembic import context

import journal.models  # noqa: F401  (registers every table on the metadata)
from journal.db import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None or context.is_offline_mode():
    raise SystemExit("run migrations with: flask --app journal init")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,  # SQLite needs batch mode to alter tables
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
