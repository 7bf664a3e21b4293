"""Test fixtures on real parts: PostgreSQL and Redis when DATABASE_URL / REDIS_URL are
set (CI), else SQLite and an embedded redis-server.  Every test starts from a
freshly migrated, empty database and an empty Redis database."""
from __future__ import annotations

import os
import shutil
import socket

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

import marketplace_core.media  # noqa: F401  first: caps OpenCV's decoder before any cv2 import
from foundation import clock, db
from foundation.config import Settings
from foundation.migrations import upgrade
from foundation.model_registry import load_all_models
from foundation.redis_conn import embedded_url
from tests.builders.staff import make_staff
from tests.parallel import drop_this_workers_database, isolate_this_worker

isolate_this_worker()  # a pytest-xdist worker's own databases, before anything reads them

EXTERNAL_DB = os.environ.get("DATABASE_URL", "")
EXTERNAL_REDIS = os.environ.get("REDIS_URL", "")


@pytest.fixture(scope="session", autouse=True)
def no_network():
    """Tests must pass with the outside world unreachable: refuse any non-local connect."""
    real_connect = socket.socket.connect

    def guarded(sock, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and not (host.startswith(("127.", "/", "::1", "localhost"))
                                          or host in ("", "0.0.0.0")):
            raise OSError(f"tests may not reach the network ({host})")
        return real_connect(sock, address)

    socket.socket.connect = guarded
    yield
    socket.socket.connect = real_connect


def pytest_sessionfinish(session):
    db.dispose_all()
    drop_this_workers_database()


@pytest.fixture(scope="session")
def backing_services(tmp_path_factory):
    base = tmp_path_factory.mktemp("services")
    redis_url = EXTERNAL_REDIS or embedded_url(str(base))
    if EXTERNAL_DB:
        upgrade(EXTERNAL_DB)
        template = None
    else:
        template = base / "template.db"
        upgrade(f"sqlite:///{template}")
        db.dispose_all()
    return {"redis_url": redis_url, "template": template}


@pytest.fixture
def database_url(backing_services, tmp_path):
    if EXTERNAL_DB:
        _empty_postgres(EXTERNAL_DB)
        yield EXTERNAL_DB
    else:
        path = tmp_path / "test.db"
        shutil.copy(backing_services["template"], path)
        yield f"sqlite:///{path}"
    db.dispose_all()


def _empty_postgres(url: str) -> None:
    """Empty every table and restart every id, as a fresh database would have them.

    TRUNCATE of all 65 tables costs 0.3-1 s a test (a new file per table), most of the
    PostgreSQL run; a test fills a handful of tables, so those are emptied with DELETE,
    with triggers off for this transaction (the append-only ones refuse DELETE, and the
    foreign keys need no order then), and the sequences are reset.  Without the superuser
    rights that switching triggers off needs, everything is truncated as before."""
    tables = [t.name for t in load_all_models().sorted_tables]
    engine = db.engine_for(url)
    try:
        with engine.begin() as connection:
            connection.execute(text("SET LOCAL session_replication_role = replica"))
            for name in _tables_with_rows(connection, tables):
                connection.execute(text(f'DELETE FROM "{name}"'))
            connection.execute(text("SELECT setval(c.oid::regclass, 1, false) FROM pg_class c "
                                    "WHERE c.relkind = 'S'"))
    except DBAPIError:
        with engine.begin() as connection:
            connection.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables)
                                    + " RESTART IDENTITY CASCADE"))


def _tables_with_rows(connection, tables: list[str]) -> list[str]:
    probe = " UNION ALL ".join(
        f"SELECT '{name}' FROM (SELECT 1 FROM \"{name}\" LIMIT 1) AS t{i}"
        for i, name in enumerate(tables))
    return [row[0] for row in connection.execute(text(probe))]


@pytest.fixture
def settings(database_url, backing_services, tmp_path) -> Settings:
    return Settings.from_env(
        environ={}, APP_ENV="test", INSTANCE_PATH=str(tmp_path / "instance"),
        DATABASE_URL=database_url, REDIS_URL=backing_services["redis_url"],
        SECRET_KEY="test-secret-key-" + "x" * 40,
        # Cheap argon2 costs: the suite hashes thousands of passwords (still argon2id).
        PASSWORD_HASH_TIME_COST=1, PASSWORD_HASH_MEMORY_KIB=1024,
        PASSWORD_HASH_PARALLELISM=1,
        # Photo uploads all over the suite would otherwise each run the image pipeline;
        # tests/vision turn it on where it is the subject.
        VISION_SIGN_ON_UPLOAD=False,
        # Pages show counts right after the change that made them; the cache has its test.
        PAGE_COUNTS_CACHE_SECONDS=0)


@pytest.fixture
def app(settings):
    from console import create_app

    application = create_app(settings)
    application.extensions["redis"].flushdb()
    yield application
    clock.freeze(None)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def staff(app, settings):
    """Factory: staff(role) -> (id, email, password) of a new account."""
    def factory(role: str = "admin", **kwargs):
        return make_staff(settings, role, **kwargs)
    return factory
