"""Learning the ranker from the interactions themselves.

The interactions before `as_of` are cut in time once more: what members did before the
inner cut builds the state (profiles, popularity, ALS) exactly as the precompute would,
and what they did after it labels that state's candidates (1: the member went on to
interact with it).  So the ranker learns what predicts the *next* interactions from the
features available at the time, never from the future it is scored on.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .catalogue import Catalogue
from .interactions import Interaction, time_split
from .model import AlsParams, build_state, member_features
from .ranker import Ranker, fit_ranker

NEGATIVES_PER_MEMBER = 40
MAX_TRAINING_MEMBERS = 4000
LABEL_FRACTION = 0.25

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class TrainedRanker:
    ranker: Ranker
    loss_curve: list[float]
    metrics: dict[str, float]


def train_ranker(cat: Catalogue, interactions: list[Interaction],
                 follows: dict[int, set[int]], *, seed: int = 7,
                 als: AlsParams = AlsParams(),
                 progress: Progress | None = None) -> TrainedRanker:
    if len(interactions) < 20:
        raise ValueError("too few interactions to learn from (need at least 20)")
    history, future, cut = time_split(interactions, LABEL_FRACTION)
    # Follows are used as they are now: few, slow to change, and carry no label.
    state = build_state(cat, history, follows, cut, als=als)
    labels = _labels(future)
    members = sorted(m for m in labels if m in state.profiles)
    rng = np.random.default_rng(seed)
    if len(members) > MAX_TRAINING_MEMBERS:
        members = sorted(rng.choice(members, MAX_TRAINING_MEMBERS, replace=False).tolist())
    xs, ys = [], []
    covered = total = 0
    negatives_seen = negatives_kept = 0
    for done, member in enumerate(members, start=1):
        positions, x, _sources = member_features(state, member)
        wanted = labels[member]
        y = np.fromiter((int(cat.ids[p]) in wanted for p in positions), dtype=float,
                        count=len(positions))
        covered += int(y.sum())
        total += len(wanted)
        keep = _sample(y, rng)
        negatives_seen += int((y == 0).sum())
        negatives_kept += int((y[keep] == 0).sum())
        xs.append(x[keep])
        ys.append(y[keep])
        if progress and (done % 200 == 0 or done == len(members)):
            progress(done, len(members), "features")
    x_all, y_all = np.vstack(xs), np.concatenate(ys)
    ranker, curve = fit_ranker(x_all, y_all, negatives_kept / max(1, negatives_seen))
    return TrainedRanker(ranker, curve, {
        "training_members": len(members), "training_pairs": int(len(y_all)),
        "positives": int(y_all.sum()),
        "candidate_recall": round(covered / total, 4) if total else 0.0,
        "interactions": len(interactions), "label_cut": cut.isoformat()})


def _labels(future: list[Interaction]) -> dict[int, set[int]]:
    labels: dict[int, set[int]] = defaultdict(set)
    for i in future:
        labels[i.member_id].add(i.listing_id)
    return labels


def _sample(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    positives = np.flatnonzero(y > 0)
    negatives = np.flatnonzero(y == 0)
    if len(negatives) > NEGATIVES_PER_MEMBER:
        negatives = rng.choice(negatives, NEGATIVES_PER_MEMBER, replace=False)
    return np.r_[positives, negatives].astype(np.int64)
