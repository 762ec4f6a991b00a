"""The task queue: Huey, with its storage chosen by `queue_url`.

Empty (the default): a SQLite file in the instance folder, nothing else to start, for
one server. `redis://...`: Redis, for clinics with several app servers and workers.
`immediate://`: each job runs at once in the process that queued it, after the
transaction that caused it has committed (the test suite; no worker needed).
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey
from redis.exceptions import RedisError

if TYPE_CHECKING:
    from journal.config import Settings

QUEUE_FILE = "queue.sqlite3"
IMMEDIATE = "immediate://"
# What handing a job to an unreachable queue raises (its SQLite file, or Redis).
QUEUE_ERRORS = (OSError, sqlite3.Error, RedisError)


def build_queue(settings: Settings) -> Huey:
    url = settings.queue_url
    if url == IMMEDIATE:
        return MemoryHuey("journal", immediate=True, results=False)
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey("journal", url=url, results=False)
    return SqliteHuey("journal", filename=str(settings.instance_path / QUEUE_FILE), results=False)
