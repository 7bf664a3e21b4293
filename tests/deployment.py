"""The app as an operator runs it: `flask run` and `flask worker` as separate OS processes
on one instance folder, driven over HTTP from outside (the README's "Operating it").

Neither process is handed a Redis URL on the embedded default: each must find the
instance's one embedded server on its own, whoever starts first.
"""
from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from foundation.config import PROJECT_ROOT

PASSWORD = "correct-horse-battery-staple"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def flask_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "flask", "--app", "wsgi", *args]


@dataclass
class Response:
    status: int
    body: dict


@dataclass
class Deployment:
    """One instance folder; `start()` launches the web app and a worker side by side."""

    instance: Path
    database_url: str
    redis_url: str = ""
    extra_env: dict[str, str] = field(default_factory=dict)
    # One worker process per entry: the queues it serves ("" for all), the first named
    # "worker", the others "worker2", "worker3", ...
    worker_queues: tuple[str, ...] = ("",)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    signalled: list[subprocess.Popen] = field(default_factory=list)
    port: int = 0

    @property
    def env(self) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items()
               if key not in ("REDIS_URL", "DATABASE_URL")}
        env.update(INSTANCE_PATH=str(self.instance), DATABASE_URL=self.database_url,
                   SECRET_KEY="deployment-test-" + "k" * 40, APP_ENV="development",
                   PASSWORD_HASH_TIME_COST="1", PASSWORD_HASH_MEMORY_KIB="1024",
                   PASSWORD_HASH_PARALLELISM="1", PYTHONUNBUFFERED="1", **self.extra_env)
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        return env

    def run_cli(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        result = subprocess.run(flask_command(*args), cwd=PROJECT_ROOT, env=self.env,
                                capture_output=True, text=True, timeout=timeout)
        assert result.returncode == 0, result.stderr[-3000:]
        return result

    def log_path(self, name: str) -> Path:
        return self.instance / f"{name}.log"

    def start(self) -> None:
        """Start every process at once, so that none is sure to be first."""
        self.port = free_port()
        commands = {
            "worker" if number == 1 else f"worker{number}":
                flask_command("worker", *(["--queues", queues] if queues else []))
            for number, queues in enumerate(self.worker_queues, start=1)}
        commands["web"] = flask_command("run", "--no-reload", "--no-debugger", "--host",
                                        "127.0.0.1", "--port", str(self.port))
        for name, command in commands.items():
            log = self.log_path(name).open("a")
            self.processes[name] = subprocess.Popen(
                command, cwd=PROJECT_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)
        self.wait_until(self._web_answers, 120, "the web app to answer")

    def signal_stop(self) -> None:
        """Ask both processes to stop (SIGTERM, as a supervisor does); don't wait."""
        for process in self.processes.values():
            # A second SIGTERM would turn an RQ worker's warm shutdown into a cold one.
            if process.poll() is None and process not in self.signalled:
                os.killpg(process.pid, signal.SIGTERM)
                self.signalled.append(process)

    def stop(self) -> None:
        self.signal_stop()
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes.clear()
        self.signalled.clear()

    def assert_running(self) -> None:
        for name, process in self.processes.items():
            assert process.poll() is None, (
                f"{name} exited ({process.returncode}):\n{self.log(name)[-3000:]}")

    def log(self, name: str) -> str:
        path = self.log_path(name)
        return path.read_text(errors="replace") if path.exists() else ""

    def wait_until(self, condition, seconds: float, what: str):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.assert_running()
            value = condition()
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError(f"waited {seconds} s for {what}; worker log:\n"
                             f"{self.log('worker')[-3000:]}")

    def _web_answers(self) -> bool:
        try:
            return self.request("GET", "/healthz").status == 200
        except OSError:
            return False

    # --- HTTP, as the apps speak it ------------------------------------------------------

    def request(self, method: str, path: str, body: dict | None = None,
                token: str | None = None) -> Response:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if data is not None else {}
        return self._send(method, path, data, headers, token)

    def upload(self, path: str, photo: bytes, token: str) -> Response:
        boundary = uuid.uuid4().hex
        data = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"photo\"; "
                f"filename=\"photo.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n").encode() \
            + photo + f"\r\n--{boundary}--\r\n".encode()
        return self._send("POST", path, data,
                          {"Content-Type": f"multipart/form-data; boundary={boundary}"}, token)

    def _send(self, method: str, path: str, data: bytes | None, headers: dict,
              token: str | None) -> Response:
        if token:
            headers = {**headers, "Authorization": f"Bearer {token}"}
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data,
                                         headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                return Response(answer.status, _json(answer.read()))
        except urllib.error.HTTPError as error:
            return Response(error.code, _json(error.read()))

    def register(self) -> tuple[int, str]:
        name = f"m{secrets.token_hex(4)}"
        answer = self.request("POST", "/api/v1/auth/register", {
            "email": f"{name}@example.in", "username": name, "password": PASSWORD})
        assert answer.status == 201, answer.body
        return answer.body["user"]["id"], answer.body["token"]


def _json(raw: bytes) -> dict:
    try:
        return json.loads(raw) if raw else {}
    except ValueError:
        return {"raw": raw[:500].decode(errors="replace")}
