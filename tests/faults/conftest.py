"""A deployment of our own for each fault test: a redis-server we can crash, `flask
worker` processes we can SIGKILL, and this process driving the app in-process on the same
database, Redis and instance folder (so it shares the workers' media store and the
providers' own stores).

The Redis is always ours, also where CI sets REDIS_URL: a test that restarts Redis may
not restart a server others use.  The database is DATABASE_URL where it is set
(PostgreSQL in CI), else a copy of the suite's migrated SQLite template."""
from __future__ import annotations

import os
import shutil

import pytest

from foundation import clock, db
from foundation.config import Settings
from tests.conftest import _empty_postgres
from tests.faults.harness import Cluster, RedisServer

BEAT_SECONDS = "1"


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path / "redis").start()
    yield server
    server.stop()


@pytest.fixture
def cluster(tmp_path, backing_services, redis_server):
    external_db = os.environ.get("DATABASE_URL", "")
    if external_db:
        _empty_postgres(external_db)
        database_url = external_db
    else:
        shutil.copy(backing_services["template"], tmp_path / "app.db")
        database_url = f"sqlite:///{tmp_path / 'app.db'}"
    instance = tmp_path / "instance"
    instance.mkdir()
    deployment = Cluster(instance=instance, database_url=database_url,
                         redis_url=redis_server.url,
                         extra_env={"PERIODIC_BEAT_SECONDS": BEAT_SECONDS,
                                    # a failed or lost delivery comes back within the test
                                    "OUTBOX_SWEEP_GRACE_SECONDS": "5",
                                    "OUTBOX_RETRY_BASE_SECONDS": "1"})
    yield deployment
    deployment.stop()


@pytest.fixture
def settings(cluster, redis_server) -> Settings:
    """This process's settings: the cluster's database, Redis and instance folder."""
    return Settings.from_env(
        environ={}, APP_ENV="test", INSTANCE_PATH=str(cluster.instance),
        DATABASE_URL=cluster.database_url, REDIS_URL=redis_server.url,
        SECRET_KEY="deployment-test-" + "k" * 40,
        PASSWORD_HASH_TIME_COST=1, PASSWORD_HASH_MEMORY_KIB=1024,
        PASSWORD_HASH_PARALLELISM=1, PERIODIC_BEAT_SECONDS=int(BEAT_SECONDS))


@pytest.fixture
def app(settings):
    from console import create_app

    application = create_app(settings)
    yield application
    clock.freeze(None)
    db.dispose_all()
