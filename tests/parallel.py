"""Isolation of pytest-xdist workers on the configured PostgreSQL and Redis.

`make test` runs the suite in several worker processes.  On the embedded default each
worker already has its own SQLite files and its own embedded redis-server (both live under
the worker's own temp folder).  A configured DATABASE_URL and REDIS_URL, though, are one
database each, which every test empties first: two workers sharing them would empty each
other's data mid-test.  So each worker gets a database of its own, named after the
configured one (`ci_db` -> `ci_db_gw1`), created empty here and dropped when the worker's
session ends, and the Redis database numbered after the configured one (db 12 -> 12, 13...).

This runs when tests/conftest.py is imported, before anything reads the environment, and
rewrites DATABASE_URL / REDIS_URL in os.environ so that the processes tests start (workers,
web apps) inherit the worker's own databases too."""
from __future__ import annotations

import os

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

REDIS_DATABASES = 16  # redis-server's default `databases`


def worker_number() -> int | None:
    """0, 1, ... inside an xdist worker ("gw0", "gw1", ...); None without xdist."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return int(worker[2:]) if worker.startswith("gw") else None


def isolate_this_worker() -> None:
    number = worker_number()
    if number is None:
        return
    if os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = _own_postgres_database(os.environ["DATABASE_URL"], number)
    if os.environ.get("REDIS_URL"):
        os.environ["REDIS_URL"] = _own_redis_database(os.environ["REDIS_URL"], number)


def drop_this_workers_database() -> None:
    """Drop the database `isolate_this_worker` made (connections from the finished session
    are forced off: nothing may use it any more)."""
    url = os.environ.get("DATABASE_URL", "")
    if worker_number() is None or not url:
        return
    name = make_url(url).database
    with _maintenance_connection(url) as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _own_postgres_database(url: str, number: int) -> str:
    parsed = make_url(url)
    if not parsed.drivername.startswith("postgresql"):
        raise RuntimeError(f"parallel tests know how to isolate PostgreSQL only, not "
                           f"{parsed.drivername}: run `make test PYTEST_WORKERS=`")
    name = f"{parsed.database}_gw{number}"
    with _maintenance_connection(url) as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    return parsed.set(database=name).render_as_string(hide_password=False)


def _maintenance_connection(url: str):
    engine = create_engine(make_url(url).set(database="postgres"),
                           isolation_level="AUTOCOMMIT", poolclass=None)
    return _DisposingConnection(engine)


class _DisposingConnection:
    """A connection to the server's maintenance database that leaves no pool behind."""

    def __init__(self, engine):
        self._engine = engine
        self._connection = None

    def __enter__(self):
        self._connection = self._engine.connect()
        return self._connection

    def __exit__(self, *exc):
        self._connection.close()
        self._engine.dispose()


def _own_redis_database(url: str, number: int) -> str:
    base, _, database = url.rpartition("/")
    first = int(database) if database.isdigit() else 0
    own = first + number
    if own >= REDIS_DATABASES or not base.startswith(("redis://", "rediss://")):
        raise RuntimeError(
            f"REDIS_URL {url!r} leaves no Redis database for worker gw{number} (it uses db "
            f"{first} + worker number, up to {REDIS_DATABASES - 1}): pick a lower database "
            f"or fewer workers (PYTEST_WORKERS='-n 2')")
    return f"{base}/{own}"
