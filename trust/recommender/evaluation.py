"""Offline metrics on a time split: NDCG@k, recall@k and MAP@k with bootstrap intervals.

Binary relevance: a listing is relevant to a member when they interacted with it after
the cut.  Intervals resample members (the unit that varies), 1,000 times by default.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def ndcg_at_k(ranked: Sequence[int], relevant: set[int], k: int) -> float:
    gains = sum(1.0 / math.log2(i + 2) for i, x in enumerate(ranked[:k]) if x in relevant)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(k, len(relevant))))
    return gains / ideal if ideal else 0.0


def recall_at_k(ranked: Sequence[int], relevant: set[int], k: int) -> float:
    if not relevant:
        return 0.0
    return len(set(ranked[:k]) & relevant) / min(k, len(relevant))


def ap_at_k(ranked: Sequence[int], relevant: set[int], k: int) -> float:
    hits, total = 0, 0.0
    for i, x in enumerate(ranked[:k]):
        if x in relevant:
            hits += 1
            total += hits / (i + 1)
    return total / min(k, len(relevant)) if relevant else 0.0


def evaluate(pages: dict[int, Sequence[int]], truth: dict[int, set[int]], k: int = 12,
             *, resamples: int = 1000, seed: int = 7) -> dict[str, dict[str, float]]:
    members = sorted(m for m in truth if truth[m])
    per_metric = {
        f"ndcg@{k}": [ndcg_at_k(pages.get(m, ()), truth[m], k) for m in members],
        f"recall@{k}": [recall_at_k(pages.get(m, ()), truth[m], k) for m in members],
        f"map@{k}": [ap_at_k(pages.get(m, ()), truth[m], k) for m in members]}
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(members), size=(resamples, len(members))) if members else None
    result = {}
    for name, values in per_metric.items():
        arr = np.asarray(values)
        if picks is None:
            result[name] = {"mean": 0.0, "ci95": [0.0, 0.0]}
            continue
        means = arr[picks].mean(axis=1)
        result[name] = {"mean": round(float(arr.mean()), 4),
                        "ci95": [round(float(np.percentile(means, 2.5)), 4),
                                 round(float(np.percentile(means, 97.5)), 4)]}
    result["members"] = len(members)
    return result
