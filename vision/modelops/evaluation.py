"""Evaluation of a model's held-out scores: plain numpy, no database, no web.

A score at or above a threshold is a flag. Every curve is computed at the distinct scores
(a threshold between two equal scores does not exist), highest first, so ties are never
split in a way no real threshold could produce.

    metrics = evaluate(scores, labels, threshold=0.5)     # JSON-ready dict for a version
    choice = choose_threshold(scores, labels, 0.9, recent_scores=s, recent_days=7)
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from foundation.errors import ValidationFailed

MAX_CURVE_POINTS = 200  # what a version row keeps and a chart draws


@dataclass(frozen=True)
class Sweep:
    """Counts at every distinct score used as a threshold, highest threshold first."""
    thresholds: np.ndarray
    tp: np.ndarray
    fp: np.ndarray
    positives: int
    negatives: int


@dataclass(frozen=True)
class ThresholdChoice:
    threshold: float | None
    precision: float | None
    recall: float | None
    flagged_held_out: int | None
    flags_per_day: float | None
    reason: str                     # why it is this threshold, or why there is none

    def as_dict(self) -> dict:
        return asdict(self)


def as_arrays(scores, labels) -> tuple[np.ndarray, np.ndarray]:
    """Scores as float64 and labels as 0/1 ints, refusing what cannot be evaluated."""
    s = np.asarray(scores, dtype=np.float64).ravel()
    y = np.asarray(labels).ravel()
    if s.size == 0 or s.size != y.size:
        raise ValidationFailed(f"need as many labels as scores, and some of each "
                               f"(got {s.size} scores, {y.size} labels)", code="bad_scores")
    if not np.all(np.isfinite(s)):
        raise ValidationFailed("scores must be finite numbers", code="bad_scores")
    if not np.all((y == 0) | (y == 1)):
        raise ValidationFailed("labels must be 0 or 1", code="bad_labels")
    return s, y.astype(np.int64)


def sweep(scores, labels) -> Sweep:
    s, y = as_arrays(scores, labels)
    order = np.argsort(-s, kind="stable")
    s, y = s[order], y[order]
    tp = np.cumsum(y)
    fp = np.cumsum(1 - y)
    # The last index of each run of equal scores: flagging at that score flags all of them.
    ends = np.r_[np.nonzero(np.diff(s))[0], s.size - 1]
    return Sweep(thresholds=s[ends], tp=tp[ends], fp=fp[ends], positives=int(y.sum()),
                 negatives=int(y.size - y.sum()))


def pr_curve(scores, labels) -> list[dict]:
    """[{threshold, precision, recall}] at each distinct score, highest first."""
    sw = sweep(scores, labels)
    precision = sw.tp / (sw.tp + sw.fp)
    recall = sw.tp / sw.positives if sw.positives else np.zeros_like(precision)
    return [{"threshold": float(t), "precision": float(p), "recall": float(r)}
            for t, p, r in zip(sw.thresholds, precision, recall, strict=True)]


def roc_curve(scores, labels) -> list[dict]:
    """[{threshold, fpr, tpr}] from (0, 0) (nothing flagged) to (1, 1) (everything)."""
    sw = sweep(scores, labels)
    if sw.positives == 0 or sw.negatives == 0:
        return []
    points = [{"threshold": float("inf"), "fpr": 0.0, "tpr": 0.0}]
    points += [{"threshold": float(t), "fpr": float(f / sw.negatives),
                "tpr": float(p / sw.positives)}
               for t, p, f in zip(sw.thresholds, sw.tp, sw.fp, strict=True)]
    return points


def auc(roc: list[dict]) -> float | None:
    """Area under the ROC curve (trapezoids; a tie counts half), None with one class only."""
    if not roc:
        return None
    fpr = np.array([p["fpr"] for p in roc])
    tpr = np.array([p["tpr"] for p in roc])
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))


def calibration_bins(scores, labels, n_bins: int = 10) -> list[dict]:
    """Reliability: equal-width score bins with their mean score and observed rate.

    A calibrated model's bins lie on the diagonal (mean score == positive rate)."""
    s, y = as_arrays(scores, labels)
    if n_bins < 1:
        raise ValidationFailed("n_bins must be at least 1", code="bad_bins")
    clipped = np.clip(s, 0.0, 1.0)
    index = np.minimum((clipped * n_bins).astype(int), n_bins - 1)
    bins = []
    for b in range(n_bins):
        members = index == b
        count = int(members.sum())
        bins.append({"lo": b / n_bins, "hi": (b + 1) / n_bins, "count": count,
                     "mean_score": float(clipped[members].mean()) if count else None,
                     "positive_rate": float(y[members].mean()) if count else None})
    return bins


def brier(scores, labels) -> float:
    s, y = as_arrays(scores, labels)
    return float(np.mean((np.clip(s, 0.0, 1.0) - y) ** 2))


def confusion(scores, labels, threshold: float) -> dict[str, int]:
    s, y = as_arrays(scores, labels)
    flagged = s >= threshold
    return {"tp": int(np.sum(flagged & (y == 1))), "fp": int(np.sum(flagged & (y == 0))),
            "fn": int(np.sum(~flagged & (y == 1))), "tn": int(np.sum(~flagged & (y == 0)))}


def choose_threshold(scores, labels, target_precision: float, *, recent_scores=None,
                     recent_days: float | None = None) -> ThresholdChoice:
    """The threshold with the most recall whose precision is at least `target_precision`
    (among equal recalls, the highest threshold: the fewest flags), and the flags a day it
    would raise on `recent_scores` spread over `recent_days`.

    No threshold (None) with the reason when there are no positives or none reaches it."""
    if not 0.0 < target_precision <= 1.0:
        raise ValidationFailed("the target precision must be above 0 and at most 1",
                               code="bad_target", fields={"target_precision": "0 < x <= 1"})
    sw = sweep(scores, labels)
    if sw.positives == 0:
        return _no_threshold("the held-out items have no positives, so recall is undefined")
    precision = sw.tp / (sw.tp + sw.fp)
    recall = sw.tp / sw.positives
    meets = precision >= target_precision - 1e-12
    if not meets.any():
        return _no_threshold(f"no threshold reaches precision {target_precision:g}; the best "
                             f"is {precision.max():.3f} at threshold "
                             f"{sw.thresholds[int(np.argmax(precision))]:.4f}")
    best_recall = recall[meets].max()
    # Highest threshold first, so the first index with the best recall flags the least.
    i = int(np.nonzero(meets & (recall == best_recall))[0][0])
    threshold = float(sw.thresholds[i])
    return ThresholdChoice(
        threshold=threshold, precision=float(precision[i]), recall=float(recall[i]),
        flagged_held_out=int(sw.tp[i] + sw.fp[i]),
        flags_per_day=flags_per_day(recent_scores, recent_days, threshold),
        reason=f"most recall ({recall[i]:.3f}) at precision >= {target_precision:g}")


def flags_per_day(recent_scores, recent_days: float | None, threshold: float) -> float | None:
    """How many of the recently scored items a threshold would flag, per day."""
    if recent_scores is None or not recent_days or recent_days <= 0:
        return None
    recent = np.asarray(recent_scores, dtype=np.float64)
    return float(np.sum(recent >= threshold) / recent_days)


def _no_threshold(reason: str) -> ThresholdChoice:
    return ThresholdChoice(threshold=None, precision=None, recall=None, flagged_held_out=None,
                           flags_per_day=None, reason=reason)


def evaluate(scores, labels, threshold: float = 0.5) -> dict:
    """Everything a version keeps about its held-out scores (JSON-ready)."""
    s, y = as_arrays(scores, labels)
    roc = roc_curve(s, y)
    return {"count": int(s.size), "positives": int(y.sum()), "auc": auc(roc),
            "pr": thin(pr_curve(s, y)), "roc": thin(roc_for_json(roc)),
            "calibration": calibration_bins(s, y), "brier": brier(s, y),
            "threshold": float(threshold), "confusion": confusion(s, y, threshold)}


def roc_for_json(roc: list[dict]) -> list[dict]:
    """JSON has no infinity: the "flag nothing" point gets a threshold of None."""
    return [{**p, "threshold": None if np.isinf(p["threshold"]) else p["threshold"]}
            for p in roc]


def thin(points: list[dict], limit: int = MAX_CURVE_POINTS) -> list[dict]:
    """At most `limit` points, evenly spaced, always keeping both ends."""
    if len(points) <= limit:
        return points
    keep = np.unique(np.linspace(0, len(points) - 1, limit).round().astype(int))
    return [points[i] for i in keep]
