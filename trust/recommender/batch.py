"""The batch: train a ranker, precompute every member's candidates.

Both read the marketplace as of a moment (`as_of`: now in production, the cut in the
benchmark) and write only at the end, so a failure leaves the previous candidates
serving.  Precompute replaces each member's single candidates row.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from foundation import clock

from .catalogue import load_catalogue
from .interactions import load_follows, load_interactions
from .model import build_state, score_candidates
from .models import MemberCandidates, RecommendationRun, RecommenderModel
from .ranker import Ranker
from .training import TrainedRanker, train_ranker

CANDIDATES_PER_MEMBER = 200
POPULAR_STORED = 200

Progress = Callable[[int, int, str], None]


def _quiet(_done: int, _total: int, _message: str) -> None:
    return None


def train_model(s: Session, run: RecommendationRun, *, as_of: datetime | None = None,
                progress: Progress = _quiet) -> RecommenderModel:
    return _store_model(s, run, _train(s, as_of, progress))


def _train(s: Session, as_of: datetime | None, progress: Progress) -> TrainedRanker:
    progress(0, 1, "reading interactions")
    cat = load_catalogue(s)
    interactions = load_interactions(s, until=as_of)
    follows = load_follows(s, until=as_of)
    return train_ranker(cat, interactions, follows, progress=progress)


def _store_model(s: Session, run: RecommendationRun, trained: TrainedRanker
                 ) -> RecommenderModel:
    """Written after the last progress report: on SQLite the job's first write holds the
    database until its commit, and progress goes through a side session."""
    model = RecommenderModel(run_id=run.id, ranker=trained.ranker.to_json(),
                             metrics={**trained.metrics,
                                      "weights": trained.ranker.weights_by_feature()},
                             loss_curve=trained.loss_curve)
    s.add(model)
    s.flush()
    run.model_id = model.id
    run.metrics = dict(trained.metrics)
    return model


def latest_model(s: Session) -> RecommenderModel | None:
    return s.scalars(select(RecommenderModel).order_by(RecommenderModel.id.desc()).limit(1)
                     ).first()


def precompute(s: Session, run: RecommendationRun, *, as_of: datetime | None = None,
               progress: Progress = _quiet) -> int:
    """Every member with interests gets their top candidates; returns how many members.
    Trains a ranker first when none exists yet."""
    model = latest_model(s)
    trained = None if model is not None else _train(s, as_of, progress)
    ranker = trained.ranker if trained is not None else Ranker.from_json(model.ranker)
    progress(0, 1, "fitting ALS and profiles")
    cat = load_catalogue(s)
    interactions = load_interactions(s, until=as_of)
    follows = load_follows(s, until=as_of)
    data_until = as_of or clock.now()
    state = build_state(cat, interactions, follows, as_of, at_ts=data_until.timestamp())
    members = sorted(state.profiles)
    rows = []
    for done, member in enumerate(members, start=1):
        top = score_candidates(state, ranker, member, CANDIDATES_PER_MEMBER)
        rows.append({"member_id": member, "run_id": run.id,
                     "candidates": [[lid, seller, round(score, 6), source]
                                    for lid, seller, score, source in top],
                     "profile": state.profiles[member].to_json(), "data_until": data_until,
                     "computed_at": clock.now()})
        if done % 250 == 0 or done == len(members):
            progress(done, len(members), "scoring members")
    if trained is not None:
        model = _store_model(s, run, trained)
    for row in rows:
        row["model_id"] = model.id
    run.popular = [[int(cat.ids[p]), int(cat.seller[p]), round(float(state.popularity[p]), 3)]
                   for p in state.popular[:POPULAR_STORED]]
    run.model_id = model.id
    run.metrics = {**dict(run.metrics or {}), "members": len(rows),
                   "live_listings": int(state.live.sum()), "interactions": len(interactions)}
    _replace_candidates(s, rows)
    return len(rows)


def _replace_candidates(s: Session, rows: list[dict]) -> None:
    s.execute(delete(MemberCandidates))
    for i in range(0, len(rows), 1000):
        s.execute(insert(MemberCandidates), rows[i:i + 1000])
    s.flush()
