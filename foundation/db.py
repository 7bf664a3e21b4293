"""The database: declarative base, engine, the scoped session and units of work.

Services receive the session and only flush; the unit of work around them (a web
request, a job, a CLI command) commits once or rolls back.  Work that must only
happen once the data is durable (enqueuing jobs, sending notifications) is
registered with `after_commit` and dropped on rollback.
"""
from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from sqlalchemy import JSON, DateTime, MetaData, create_engine, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session, sessionmaker
from sqlalchemy.types import TypeDecorator

log = logging.getLogger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# JSON documents: JSONB on PostgreSQL (indexable, compact), JSON text elsewhere.
JSONType = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in Python on every backend (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; use foundation.clock.now()")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


SessionFactory = sessionmaker(expire_on_commit=False)
session: scoped_session[Session] = scoped_session(SessionFactory)
_engines: dict[str, Engine] = {}


def engine_for(url: str) -> Engine:
    """One engine (and pool) per URL per process."""
    if url not in _engines:
        _engines[url] = _create_engine(url)
    return _engines[url]


def _create_engine(url: str) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "savepoint", _sqlite_nest_savepoint)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_nest_savepoint(connection, _name) -> None:
    """Python's sqlite3 opens a transaction only before a write, so reads see the latest
    commit (as PostgreSQL's READ COMMITTED does) -- but a SAVEPOINT after nothing but reads
    would become the outer transaction, and releasing it would commit.  Open the outer
    transaction first so the savepoint stays nested."""
    driver = connection.connection.driver_connection
    if not driver.in_transaction:
        driver.execute("BEGIN")


def configure(url: str) -> Engine:
    """Bind the scoped session to the database at `url`."""
    engine = engine_for(url)
    session.remove()
    SessionFactory.configure(bind=engine)
    return engine


def dispose_all() -> None:
    session.remove()
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()


@contextlib.contextmanager
def unit_of_work() -> Iterator[Session]:
    """Commit what the block did, or roll all of it back; then forget the session."""
    s = session()
    try:
        yield s
        s.commit()
    except BaseException:
        s.rollback()
        raise
    finally:
        session.remove()


def after_commit(s: Session, callback: Callable[[], None]) -> None:
    """Run `callback` once the current transaction has committed; never on rollback."""
    s.info.setdefault("after_commit", []).append(callback)


@event.listens_for(SessionFactory, "after_commit")
def _run_after_commit(s: Session) -> None:
    """Each callback runs whatever the others did: the data is committed, so a failing
    one (Redis unreachable for an enqueue) is logged, and neither stops the callbacks
    after it nor turns the committed unit of work into a failure.  Whatever a callback
    starts must therefore also be reachable from the database (a mark, an outbox row, a
    timer's sweep)."""
    if s.in_nested_transaction():
        return  # only a savepoint was released: the outer transaction may still roll back
    callbacks = s.info.pop("after_commit", [])
    for callback in callbacks:
        try:
            callback()
        except Exception:  # noqa: BLE001 - committed: report it, keep going
            log.exception("an after-commit callback failed; the commit stands")


@event.listens_for(SessionFactory, "after_rollback")
def _drop_after_commit(s: Session) -> None:
    if s.in_nested_transaction():
        return  # a savepoint rolled back: the outer transaction's work may still commit
    s.info.pop("after_commit", None)


_engine_pid = {"pid": os.getpid()}


def reset_after_fork() -> None:
    """A forked RQ work horse must not share the parent's pooled connections."""
    if _engine_pid["pid"] != os.getpid():
        for engine in _engines.values():
            engine.dispose(close=False)
        session.remove()
        _engine_pid["pid"] = os.getpid()
