"""Declarative base, engine set-up and sessions.

On SQLite: WAL, a busy timeout, secure_delete, foreign keys, and write
transactions that start with BEGIN IMMEDIATE so concurrent writers queue on
the busy timeout instead of failing with "database is locked".
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLITE_BUSY_TIMEOUT_S = 30
_IMMEDIATE = "journal_begin_immediate"
# Keys of Session.info (see journal.core.work, which runs what they hold).
_WRITES = "journal_write_unit"
_DEFERRED = "journal_deferred_writes"
_AFTER_COMMIT = "journal_after_commit"
_UNDO = "journal_undo_if_rolled_back"


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> uuid.UUID:
    return uuid.uuid4()


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC without zone (portable) and always returns aware UTC datetimes."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UUIDPrimaryKey:
    """UUID ids are made in Python so a row's id is known before insert (AAD)."""

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Errors never carry the statement's values (they may be content or emails)."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S}, hide_parameters=True, **kwargs
        )
        _configure_sqlite(engine)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_pre_ping=True, hide_parameters=True, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control away from the driver so BEGIN is ours.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA secure_delete=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(_IMMEDIATE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def begin_write(session: Session) -> None:
    """Start the session's next transaction with the write lock (SQLite), so a
    read-then-write inside it cannot fail on a stale snapshot."""
    session.connection(execution_options={_IMMEDIATE: True})


P = ParamSpec("P")
R = TypeVar("R")


class UnitLike(Protocol):
    """A unit of work (journal.core.work.Work), seen from below it: what holds a session."""

    @property
    def db(self) -> Session: ...


S = TypeVar("S", bound=Session | UnitLike)


def atomic(operation: Callable[Concatenate[S, P], R]) -> Callable[Concatenate[S, P], R]:
    """A service operation that changes data: all of it or none. It runs in a savepoint
    of the unit of work, rolled back if it refuses (raises), so a form shown again with
    its errors keeps nothing of the attempt while the unit commits the rest."""

    @wraps(operation)
    def run(unit: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
        db = unit if isinstance(unit, Session) else unit.db
        undo: list[Callable[[], None]] = db.info.setdefault(_UNDO, [])
        hooks: list[Callable[[], None]] = db.info.setdefault(_AFTER_COMMIT, [])
        marks = len(undo), len(hooks)
        try:
            with db.begin_nested():
                return operation(unit, *args, **kwargs)
        except BaseException:
            _undo_since(undo, hooks, marks)
            raise

    return run


def _undo_since(
    undo: list[Callable[[], None]], hooks: list[Callable[[], None]], marks: tuple[int, int]
) -> None:
    """What a refused operation changed outside the rows goes too, and what it asked
    to do after the commit is dropped."""
    for action in reversed(undo[marks[0] :]):
        action()
    del undo[marks[0] :], hooks[marks[1] :]


def if_rolled_back(session: Session, action: Callable[[], None]) -> None:
    """Put back something held in memory (a data key the vault made) if the rows it
    goes with are rolled back: by a refused operation, or by a discarded unit."""
    session.info.setdefault(_UNDO, []).append(action)


def take_undo_actions(session: Session) -> list[Callable[[], None]]:
    actions: list[Callable[[], None]] = session.info.pop(_UNDO, [])
    return actions


def write_soon(session: Session, write: Callable[[Session], None]) -> None:
    """A write that a read causes (an audit row, a last-seen time): at once in a unit
    that writes; in a unit that reads, when the unit ends, in a short write transaction
    of its own (a read snapshot on SQLite cannot safely become a write)."""
    if session.info.get(_WRITES):
        write(session)
    else:
        session.info.setdefault(_DEFERRED, []).append(write)


def take_deferred_writes(session: Session) -> list[Callable[[Session], None]]:
    """Take the writes queued by write_soon (the unit of work runs them)."""
    queued: list[Callable[[Session], None]] = session.info.pop(_DEFERRED, [])
    return queued


def after_commit(session: Session, action: Callable[[], None]) -> None:
    """Something outside the database that must follow the unit's commit, never
    precede it (the erasure ledger, folding the write-ahead log)."""
    session.info.setdefault(_AFTER_COMMIT, []).append(action)


def take_after_commit_hooks(session: Session) -> list[Callable[[], None]]:
    hooks: list[Callable[[], None]] = session.info.pop(_AFTER_COMMIT, [])
    return hooks


def checkpoint(engine: Engine | Connection) -> bool:
    """Fold the SQLite write-ahead log into the database file and empty it,
    so deleted pages (overwritten with zeros by secure_delete) leave no copy.
    False when a reader held the log open until the busy timeout ran out."""
    if engine.dialect.name != "sqlite":
        return True
    if isinstance(engine, Connection):
        engine = engine.engine
    with engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        busy, _, _ = raw.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        return bool(busy == 0)


class Database:
    """An engine plus a variant whose transactions take the write lock at once."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        # Handed to every session (e.g. the audit key the audit service signs with).
        self.session_info: dict[str, Any] = {}
        self.engine = make_engine(url, **engine_kwargs)
        self.write_engine = self.engine.execution_options(**{_IMMEDIATE: True})

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def session(self, *, write: bool = False) -> Session:
        bind = self.write_engine if write else self.engine
        info = {**self.session_info, _WRITES: write}
        return Session(bind=bind, expire_on_commit=False, autoflush=False, info=info)

    def checkpoint(self) -> bool:
        return checkpoint(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()
