"""Real threads for race tests on PostgreSQL: callables released together by a barrier,
their results and errors collected for the main thread to judge."""
from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import pytest
from sqlalchemy.orm import Session

from foundation import db
from foundation.errors import DomainError


def postgresql_only(reason: str) -> list:
    """`pytestmark` for a module of races that need PostgreSQL (SQLite serialises writers
    and ignores FOR UPDATE): marked `postgres`, skipped unless DATABASE_URL names it."""
    return [
        pytest.mark.postgres,
        pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgresql"),
                           reason=reason),
    ]


def run_in_threads(calls: Sequence[Callable[[], Any]]) -> tuple[list, list[BaseException]]:
    """Run each callable in its own thread, all released at the same moment; wait for all.
    Returns the results in the callables' order (None where a call raised) and the
    exceptions raised, in the order they happened."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        barrier.wait()
        try:
            results[i] = calls[i]()
        except BaseException as error:  # collected so the main thread can fail the test
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


def results_in_threads(calls: Sequence[Callable[[], Any]]) -> list:
    """run_in_threads, but the first error any call raised is raised here."""
    results, errors = run_in_threads(calls)
    if errors:
        raise errors[0]
    return results


def all_at_once(workers: int, work: Callable[[Session, int], Any]) -> list:
    """Run work(s, i) for i in range(workers), each in its own thread and unit of work,
    all released together; each result, or the code of the DomainError that refused it.
    Any other error is raised here."""
    def attempt(i: int):
        try:
            with db.unit_of_work() as s:
                return work(s, i)
        except DomainError as refused:
            return refused.code

    return results_in_threads([partial(attempt, i) for i in range(workers)])
