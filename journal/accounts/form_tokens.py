"""One-time form tokens: a resent POST answers with what the first one made.

A form that creates something carries a random token made when it is shown. The
first POST with it records the token (as a hash, for the person who posted) with the
address of what it made, in the same transaction as the making; the same POST sent
again finds it and is sent there, making nothing. A token is kept for a day: old ones
are removed whenever a new one is recorded.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete

from journal.core.work import Work
from journal.models import FormToken

KEPT_FOR = timedelta(days=1)
URL_MAX = 500
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,64}")


def new_token() -> str:
    return secrets.token_urlsafe(24)


def is_token(raw: str) -> bool:
    """Only what new_token makes is looked up; anything else is no token at all."""
    return _TOKEN.fullmatch(raw) is not None


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _fresh_since(now: datetime) -> datetime:
    return now - KEPT_FOR


def answered(work: Work, token: str) -> str | None:
    """Where the actor's first POST with this token led, if it was recorded and is fresh.
    Another person's token is unknown here: rows are looked up by the actor too."""
    row = work.db.get(FormToken, (work.actor.id, _hash(token)))
    if row is None or row.created_at < _fresh_since(work.now()):
        return None
    return row.url


def remember(work: Work, token: str, url: str) -> None:
    """Record that the actor's POST with this token led to `url` (a path of this site)."""
    if not url.startswith("/") or url.startswith("//") or len(url) > URL_MAX:
        return  # not one of ours, or too long to keep: the resend is simply not caught
    now = work.now()
    work.db.execute(delete(FormToken).where(FormToken.created_at < _fresh_since(now)))
    digest = _hash(token)
    row = work.db.get(FormToken, (work.actor.id, digest))
    if row is None:
        work.db.add(FormToken(user_id=work.actor.id, token_hash=digest, url=url, created_at=now))
    else:  # the same POST, sent at the same moment, got here first
        row.url, row.created_at = url, now
