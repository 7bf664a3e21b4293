"""Many claims by each of many reviewers at once, for the per-reviewer claim limit:
every attempt in its own thread and unit of work, all released together."""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from foundation.errors import DomainError
from tests.concurrency import results_in_threads


def claims_all_at_once(reviewer_ids: list[int], attempts_each: int,
                       claim: Callable[[int], int | None]) -> list[tuple[int, int | str | None]]:
    """Run `claim(reviewer_id)` attempts_each times per reviewer, every attempt in a thread
    of its own; (reviewer, the claimed id, None, or the refusal's code) per attempt."""
    def attempt(reviewer_id: int) -> tuple[int, int | str | None]:
        try:
            return reviewer_id, claim(reviewer_id)
        except DomainError as refused:
            return reviewer_id, refused.code

    calls = [lambda r=r: attempt(r) for r in reviewer_ids for _ in range(attempts_each)]
    return results_in_threads(calls)


def claims_per_reviewer(outcomes: list[tuple[int, int | str | None]]) -> Counter:
    return Counter(reviewer for reviewer, claimed in outcomes if isinstance(claimed, int))
