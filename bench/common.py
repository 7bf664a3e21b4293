"""Shared helpers for benchmarks: timing, percentiles, a progress bar, JSON output."""
from __future__ import annotations

import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterable


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)

    def at(q: float) -> float:
        index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
        return round(ordered[index], 2)

    return {"p50": at(0.50), "p95": at(0.95), "p99": at(0.99),
            "mean": round(statistics.fmean(ordered), 2), "n": len(ordered)}


def time_calls(call: Callable[[], object], repeat: int, warmup: int = 5) -> list[float]:
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def progress(items: Iterable, total: int, label: str):
    """A plain progress bar on stderr (benchmarks run outside Flask's CLI)."""
    width = 30
    for done, item in enumerate(items, 1):
        yield item
        if done == total or done % max(1, total // 100) == 0:
            filled = int(width * done / total)
            sys.stderr.write(f"\r{label:<28} [{'#' * filled}{'.' * (width - filled)}] "
                             f"{done}/{total}")
            sys.stderr.flush()
    sys.stderr.write("\n")


def write_json(path: str | None, result: dict) -> None:
    text = json.dumps(result, indent=2)
    print(text)
    if path:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "w") as fh:
            fh.write(text + "\n")
