"""What the simulated payment provider and bank keep: their own SQLite files.

A real gateway's records are not our tables, so the simulators never use the app's models
or session: each keeps a SQLite file of its own (`<PROVIDER_STORE_DIR>/payments.sqlite3`
and `bank.sqlite3`; by default under the instance folder, also on PostgreSQL
deployments), commits what it did before it answers, and answers a reference it has seen
with its first answer.  Every request is also counted per reference, so a retry that
reached the door twice is visible even though it moved money once.

Faults are read from the environment on every call, so that separate worker processes
and a test changing them between runs all see the same: `PROVIDER_FAULTS` holds
probabilities such as `timeout=0.1,error=0.05,lost=0.05` (time out before acting, answer
5xx before acting, act and then lose the answer), `PROVIDER_DELAY_MS` makes every call
slow (so a test can kill a worker in the middle of one).
"""
from __future__ import annotations

import contextlib
import os
import random
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from foundation.config import current as settings


class ProviderUnavailable(Exception):
    """The call did not get an answer: it may or may not have acted (ask again with the
    same reference to find out)."""


class ProviderTimeout(ProviderUnavailable):
    pass


class ProviderError(ProviderUnavailable):
    """A 5xx: the provider refused to act this time."""


FAULT_KINDS = ("timeout", "error", "lost")


def store_dir() -> Path:
    configured = settings().get("PROVIDER_STORE_DIR") or ""
    return Path(configured) if configured else Path(settings().INSTANCE_PATH) / "providers"


@contextlib.contextmanager
def connect(name: str, schema: str) -> Iterator[sqlite3.Connection]:
    """A connection to one simulator's file, its tables created on first use; the block
    runs in one IMMEDIATE transaction, so two callers of one reference take turns."""
    folder = store_dir()
    folder.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(folder / name, timeout=30, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA busy_timeout=30000")
        connection.executescript(schema)
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield connection
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
    finally:
        connection.close()


def read(name: str, schema: str, query: str, params: tuple = ()) -> list[sqlite3.Row]:
    folder = store_dir()
    folder.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(folder / name, timeout=30)
    try:
        connection.row_factory = sqlite3.Row
        connection.executescript(schema)
        return connection.execute(query, params).fetchall()
    finally:
        connection.close()


def count_request(connection: sqlite3.Connection, operation: str, reference: str) -> None:
    connection.execute(
        "INSERT INTO requests (operation, reference, sent) VALUES (?, ?, 1) "
        "ON CONFLICT (operation, reference) DO UPDATE SET sent = sent + 1",
        (operation, reference))


REQUESTS_TABLE = """
CREATE TABLE IF NOT EXISTS requests (
    operation TEXT NOT NULL, reference TEXT NOT NULL, sent INTEGER NOT NULL,
    PRIMARY KEY (operation, reference));
"""


def now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


# --- faults ---------------------------------------------------------------------------

def fault_probabilities(spec: str | None = None) -> dict[str, float]:
    """`timeout=0.1,error=0.05` as {"timeout": 0.1, "error": 0.05, "lost": 0.0}."""
    spec = os.environ.get("PROVIDER_FAULTS", "") if spec is None else spec
    found = dict.fromkeys(FAULT_KINDS, 0.0)
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, _, value = part.partition("=")
        if name.strip() in found:
            found[name.strip()] = float(value)
    return found


def draw_fault() -> str | None:
    """Which fault this call suffers (None for none), drawn from PROVIDER_FAULTS."""
    probabilities = fault_probabilities()
    roll = random.random()
    for kind in FAULT_KINDS:
        if roll < probabilities[kind]:
            return kind
        roll -= probabilities[kind]
    return None


def before_acting(fault: str | None, who: str) -> None:
    """The slow provider's delay, then a time-out or a 5xx that acts on nothing."""
    delay_ms = int(os.environ.get("PROVIDER_DELAY_MS", "0") or 0)
    if delay_ms > 0:
        time.sleep(delay_ms / 1000)
    if fault == "timeout":
        raise ProviderTimeout(f"{who} did not answer in time")
    if fault == "error":
        raise ProviderError(f"{who} answered 503")


def after_acting(fault: str | None, who: str) -> None:
    """The answer lost on the way back, after the act was committed."""
    if fault == "lost":
        raise ProviderTimeout(f"{who} did not answer in time (the request was received)")
