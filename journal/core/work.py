"""The unit of work: one per request, CLI command, job or test.

It holds what every service needs (the database session, the vault, the actor,
the clock, the settings and the clinic's content) and is the one place that
commits. Services add and flush; the unit commits once, at its end, or keeps
nothing when it ends in an error.

A unit that only reads (a GET) may still cause a write: the audit row of a read,
a login's last-seen time, "last looked". Those are queued with
`journal.db.write_soon` and written when the unit ends, in a second, short write
transaction that the unit opens itself: on SQLite a read snapshot cannot safely
turn into a write while other processes write, and taking the write lock for a
whole page would make every reader queue.
"""

from __future__ import annotations

import copy
import logging
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from journal.core.actor import Actor
from journal.core.mail import Mail
from journal.core.queue import QUEUE_ERRORS
from journal.core.vault import Vault
from journal.db import (
    Database,
    after_commit,
    begin_write,
    new_id,
    take_after_commit_hooks,
    take_deferred_writes,
    take_undo_actions,
    utcnow,
)
from journal.models.messages import PENDING, Message

if TYPE_CHECKING:
    from journal.clinical.content import ClinicalContent
    from journal.config import Settings
    from journal.crypto import MasterKeyRing

log = logging.getLogger(__name__)


class NoActor(RuntimeError):
    """A service that acts for a person was called by a unit acting for nobody."""


class Work:
    def __init__(
        self,
        database: Database,
        ring: Callable[[], MasterKeyRing],
        settings: Settings,
        clinical: ClinicalContent,
        *,
        write: bool,
        actor: Actor | Callable[[], Actor | None] | None = None,
        clock: Callable[[], datetime] = utcnow,
        session: Session | None = None,
        enqueue: Callable[[uuid.UUID], None] | None = None,
    ) -> None:
        self.database = database
        self._enqueue = enqueue  # hands a message to the task queue's worker
        self.settings = settings
        self.clinical = clinical
        self.write = write
        self.clock = clock
        self._actor = actor
        self._ring = ring
        self._db: Session | None = session  # given: a test's own session
        self._vault: Vault | None = None

    @property
    def actor(self) -> Actor:
        """Who the unit acts for. A request finds out lazily (the signed-in person is
        known only once the session is loaded, which itself reads the database)."""
        found = self._actor() if callable(self._actor) else self._actor
        if found is None:
            raise NoActor("this unit of work acts for nobody")
        return found

    def another_unit(self, *, write: bool = True) -> Work:
        """A unit of its own beside this one (same database, keys and actor): for work
        that must not share this unit's fate, such as filling an index after a read."""
        return Work(
            self.database,
            self._ring,
            self.settings,
            self.clinical,
            write=write,
            actor=self._actor,
            clock=self.clock,
            enqueue=self._enqueue,
        )

    def acting_as(self, actor: Actor) -> Work:
        """The same unit (one transaction, one vault) acting for someone else: a
        command or the demo that works for several people at once."""
        other = copy.copy(self)
        other._db, other._vault = self.db, self.vault
        other._actor = actor
        return other

    @property
    def db(self) -> Session:
        if self._db is None:
            self._db = self.database.session(write=self.write)
        return self._db

    @property
    def vault(self) -> Vault:
        if self._vault is None:
            self._vault = Vault(self.db, self._ring())
        return self._vault

    def now(self) -> datetime:
        return self.clock()

    def send_mail(self, mail: Mail) -> bool:
        """Write the message in this unit; once it commits, the worker sends it. A
        refused or failed operation sends nothing, and a message already written under
        the same key is not written again (False)."""
        if self.db.scalar(select(Message.id).where(Message.key == mail.key)) is not None:
            return False
        message = Message(
            id=new_id(),
            key=mail.key,
            kind=mail.kind,
            to_user_id=mail.user_id,
            to_address=mail.to,
            subject=mail.subject,
            body=mail.body,
            link_id=mail.link_id,
            attachment_name=mail.attachment.filename if mail.attachment else None,
            attachment_type=mail.attachment.content_type if mail.attachment else None,
            attachment=mail.attachment.data if mail.attachment else None,
            status=PENDING,
            attempts=0,
            created_at=utcnow(),
        )
        try:
            with self.db.begin_nested():  # a clash costs this message, not the whole unit
                self.db.add(message)
                self.db.flush()
        except IntegrityError:
            return False  # another worker's scan wrote the same message a moment ago
        self.hand_over(message.id)
        return True

    def hand_over(self, message_id: uuid.UUID) -> None:
        """Give a message to the worker once this unit commits."""
        enqueue = self._enqueue
        if enqueue is not None:
            after_commit(self.db, lambda: _hand_over(enqueue, message_id))

    def commit(self) -> None:
        """Keep what the unit did: its transaction, then the writes its reads caused,
        then what waits for the commit (files, the write-ahead log)."""
        if self._db is None:
            return
        db = self._db
        db.commit()
        take_undo_actions(db)  # committed: nothing to put back any more
        queued = take_deferred_writes(db)
        if queued:
            begin_write(db)
            for write in queued:
                write(db)
            db.commit()
        _run_all(take_after_commit_hooks(db))

    def discard(self) -> None:
        """Keep none of the unit's changes (an error page, a failed command). In a unit
        that reads, what its reads queued (the audit rows of what was read, "last
        looked") is still written when it ends; a unit that writes wrote them at once,
        and they go with the rest."""
        if self._db is not None:
            self._db.rollback()
            for action in reversed(take_undo_actions(self._db)):
                action()
            take_after_commit_hooks(self._db)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
        self._db = None
        self._vault = None

    def __enter__(self) -> Work:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *_rest: object) -> None:
        try:
            if exc_type is None:
                self.commit()
            else:
                self.discard()
                self.commit()  # the audit rows of reads made before the failure
        finally:
            self.close()


def _hand_over(enqueue: Callable[[uuid.UUID], None], message_id: uuid.UUID) -> None:
    """A queue that cannot take the job now loses nothing: the message waits in the
    database, and the worker's periodic scan hands it over again."""
    try:
        enqueue(message_id)
    except QUEUE_ERRORS as exc:  # the queue's storage or broker is down
        log.error("could not queue a message: %s", type(exc).__name__)


def _run_all(actions: list[Callable[[], None]]) -> None:
    """Each one runs even if one before it failed, and a failure still propagates.
    ExitStack's loop, not recursion: a scan's unit hands over a message per patient."""
    with ExitStack() as stack:
        for action in reversed(actions):  # the stack runs them last in, first out
            stack.callback(action)
