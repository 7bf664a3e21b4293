"""One embedded redis-server per instance folder, shared by every process of a checkout:
started by whichever process comes first, never a second beside it, no persistence, and
shut down when its last process leaves.  Real processes, real servers."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import redis

from foundation import redis_conn
from foundation.config import PROJECT_ROOT

JOIN_AND_HOLD = """
import sys, time
from foundation import redis_conn
print(redis_conn.embedded_url(sys.argv[1]), flush=True)
time.sleep(float(sys.argv[2]))
"""


def _joiner(instance, hold_seconds: float) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", JOIN_AND_HOLD, str(instance),
                             str(hold_seconds)], cwd=PROJECT_ROOT, stdout=subprocess.PIPE,
                            text=True)


def _url_of(process: subprocess.Popen) -> str:
    return process.stdout.readline().strip()


@pytest.fixture
def instance(tmp_path):
    folder = tmp_path / "instance"
    yield folder
    redis_conn.release_embedded(str(folder))
    _kill_leftover_server(folder)


def test_processes_starting_together_share_one_server(instance):
    joiners = [_joiner(instance, 3) for _ in range(6)]
    urls = {_url_of(p) for p in joiners}
    assert len(urls) == 1
    assert redis_conn.running_embedded_servers(str(instance)) == 1
    for process in joiners:
        assert process.wait(timeout=60) == 0
    assert redis_conn.running_embedded_servers(str(instance)) == 0


def test_the_server_outlives_a_process_while_another_uses_it(instance):
    short, long = _joiner(instance, 0), _joiner(instance, 60)
    url = _url_of(short)
    assert _url_of(long) == url
    assert short.wait(timeout=60) == 0
    assert redis.Redis.from_url(url).ping()
    long.send_signal(signal.SIGTERM)
    assert long.wait(timeout=30) == 128 + signal.SIGTERM
    assert redis_conn.running_embedded_servers(str(instance)) == 0


def test_a_server_left_by_a_killed_process_is_joined_not_doubled(instance):
    killed = _joiner(instance, 60)
    url = _url_of(killed)
    killed.kill()
    killed.wait(timeout=30)
    assert redis_conn.running_embedded_servers(str(instance)) == 1
    assert redis_conn.embedded_url(str(instance)) == url
    assert redis_conn.running_embedded_servers(str(instance)) == 1
    redis_conn.release_embedded(str(instance))
    assert redis_conn.running_embedded_servers(str(instance)) == 0


def test_an_unused_server_can_be_stopped_and_a_used_one_cannot(instance):
    holder = _joiner(instance, 60)
    _url_of(holder)
    assert redis_conn.stop_embedded_if_unused(str(instance)) is False
    holder.kill()
    holder.wait(timeout=30)
    assert redis_conn.stop_embedded_if_unused(str(instance)) is True
    assert redis_conn.running_embedded_servers(str(instance)) == 0


def test_a_killed_server_is_replaced_and_nothing_was_persisted(instance):
    url = redis_conn.embedded_url(str(instance))
    client = redis_conn.client(url)
    client.set("written-before-the-kill", "1")
    assert client.config_get("save") == {"save": ""}
    assert client.config_get("appendonly") == {"appendonly": "no"}
    _kill_leftover_server(instance)
    redis_conn.release_embedded(str(instance))
    assert redis_conn.embedded_url(str(instance)) == url
    assert redis_conn.running_embedded_servers(str(instance)) == 1
    assert client.get("written-before-the-kill") is None  # the client reconnected
    assert not list((instance / "redis").glob("*.rdb"))


def test_a_deep_instance_folder_gets_a_short_socket_every_process_finds(tmp_path):
    deep = tmp_path / ("nested-folder-" * 8) / "instance"
    url = redis_conn.embedded_url(str(deep))
    try:
        assert len(url) - len("unix://") <= redis_conn.MAX_SOCKET_PATH
        other = _joiner(deep, 0)
        assert _url_of(other) == url
        assert other.wait(timeout=60) == 0
    finally:
        redis_conn.release_embedded(str(deep))
    assert redis_conn.running_embedded_servers(str(deep)) == 0


def test_status_names_the_server_without_its_password():
    configured = redis.Redis.from_url("redis://:s3cret@127.0.0.1:6390/4")
    assert redis_conn.describe(configured) == "redis://127.0.0.1:6390/4"


def test_a_worker_client_never_times_out_a_blocking_dequeue(instance):
    from rq import Worker

    url = redis_conn.embedded_url(str(instance))
    request_client = redis_conn.client(url)
    worker_client = redis_conn.client(url, blocking=True)
    worker = Worker(["default"], connection=worker_client)
    timeout = worker_client.connection_pool.connection_kwargs["socket_timeout"]
    assert timeout > worker.dequeue_timeout
    assert request_client.connection_pool.connection_kwargs["socket_timeout"] == \
        redis_conn.REQUEST_SOCKET_TIMEOUT


def test_a_test_session_leaves_no_redis_server_behind(tmp_path):
    """A whole pytest session on the embedded default (its fixtures start the session's
    server and the app joins it), run as its own process: once it has ended, the server
    it started is gone, instead of piling up under a temp folder that pytest deletes."""
    if os.environ.get("REDIS_URL"):
        pytest.skip("a configured Redis is the operator's to run")
    basetemp = tmp_path / "session"
    env = {key: value for key, value in os.environ.items()
           if key not in ("REDIS_URL", "DATABASE_URL")}
    session = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         f"--basetemp={basetemp}",
         "tests/test_jobs.py::test_a_rolled_back_transaction_enqueues_nothing"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert session.returncode == 0, session.stdout[-3000:] + session.stderr[-3000:]
    services = list(basetemp.glob("services[0-9]*"))
    assert len(services) == 1 and (services[0] / "redis").is_dir()  # it did start one
    assert redis_conn.running_embedded_servers(str(services[0])) == 0


def _kill_leftover_server(instance) -> None:
    pid_file = instance / "redis" / "redis.pid"
    if not pid_file.exists():
        return
    try:
        os.kill(int(pid_file.read_text()), signal.SIGKILL)
    except (ProcessLookupError, ValueError):
        return
    deadline = time.monotonic() + 10
    while redis_conn.running_embedded_servers(str(instance)) and time.monotonic() < deadline:
        time.sleep(0.05)
