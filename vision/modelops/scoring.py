"""Scoring with the registry's models: the champion answers, a shadow scores beside it.

    scores = score_subjects(s, "duplicate", [12, 13])   # {id: Score} from the champion
    comparison = compare_shadow(s, shadow_version_id)   # agreement, deltas, flags each

Loaded scorers are cached by (kind, the artifact's SHA-256), so a version is loaded once per
process however often it scores, and a new champion is picked up on the next call.
"""
from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from foundation import clock
from foundation.errors import Conflict, ValidationFailed
from vision.modelops import services
from vision.modelops.kinds import Score, Scorer
from vision.modelops.models import ModelVersion, ShadowScore, VersionStatus

log = logging.getLogger(__name__)
CACHE_SIZE = 8
MAX_SUBJECTS = 1000
_scorers: OrderedDict[tuple[str, str], Scorer] = OrderedDict()


def scorer_of(version: ModelVersion) -> Scorer:
    key = (version.kind, version.artifact_sha256)
    if key in _scorers:
        _scorers.move_to_end(key)
        return _scorers[key]
    scorer = services.kind_named(version.kind).load(version.artifact)
    _scorers[key] = scorer
    while len(_scorers) > CACHE_SIZE:
        _scorers.popitem(last=False)
    return scorer


def champion_scorer(s: Session, kind: str) -> tuple[ModelVersion, Scorer] | None:
    version = services.champion(s, kind)
    return None if version is None else (version, scorer_of(version))


def score_subjects(s: Session, kind: str, subject_ids: list[int]) -> dict[int, Score]:
    """The champion's scores; when a shadow runs, its scores are recorded beside them.

    A failing shadow is logged and never costs the champion's answer."""
    ids = _subject_ids(subject_ids)
    loaded = champion_scorer(s, services.kind_named(kind).name)
    if loaded is None:
        raise Conflict(f"{kind} has no champion: promote a version first.",
                       code="no_champion")
    version, scorer = loaded
    scores = scorer.score(s, ids)
    challenger = services.shadow(s, version.kind)
    if challenger is not None:
        try:
            record_shadow_scores(s, challenger, version, scores, ids)
        except Exception:  # noqa: BLE001 - the challenger is on trial, the champion is not
            log.exception("shadow %s failed to score", challenger.label)
    return scores


def record_shadow_scores(s: Session, challenger: ModelVersion, champion: ModelVersion,
                         champion_scores: dict[int, Score], ids: list[int]) -> None:
    with s.begin_nested():
        theirs = scorer_of(challenger).score(s, ids)
        now = clock.now()
        for subject_id in ids:
            if subject_id in theirs:
                mine = champion_scores.get(subject_id)
                s.add(ShadowScore(version_id=challenger.id, champion_version_id=champion.id,
                                  subject_id=subject_id, score=theirs[subject_id].value,
                                  champion_score=mine.value if mine else None,
                                  scored_at=now))
        s.flush()


def _subject_ids(subject_ids: Any) -> list[int]:
    if not isinstance(subject_ids, list) or not subject_ids \
            or len(subject_ids) > MAX_SUBJECTS \
            or not all(isinstance(i, int) and not isinstance(i, bool) for i in subject_ids):
        raise ValidationFailed(f"subject_ids must be a list of 1 to {MAX_SUBJECTS} ids",
                               code="bad_subject_ids")
    return list(dict.fromkeys(subject_ids))


@dataclass(frozen=True)
class Comparison:
    shadow: ModelVersion
    champion_label: str | None
    shadow_threshold: float
    champion_threshold: float
    items: int
    agreement: float | None          # share of items both flag or both pass
    mean_delta: float | None         # shadow minus champion
    mean_abs_delta: float | None
    champion_flags: int
    shadow_flags: int
    only_champion: int
    only_shadow: int
    biggest_differences: list[dict]
    delta_histogram: list[tuple[str, int]]


def compare_shadow(s: Session, version_id: Any, limit: int = 20) -> Comparison:
    """Champion against shadow on the same items: what each scored and would flag."""
    version = services.get_version(s, version_id)
    rows = list(s.execute(select(ShadowScore.subject_id, ShadowScore.score,
                                 ShadowScore.champion_score, ShadowScore.champion_version_id)
                          .where(ShadowScore.version_id == version.id,
                                 ShadowScore.champion_score.is_not(None))
                          .order_by(ShadowScore.id)))
    champion_version = _compared_champion(s, version, rows)
    t_shadow = services.threshold_of_version(s, version)
    t_champion = (services.threshold_of_version(s, champion_version) if champion_version
                  else services.current_threshold(s, version.kind))
    theirs = np.array([r.score for r in rows], dtype=np.float64)
    mine = np.array([r.champion_score for r in rows], dtype=np.float64)
    flag_shadow, flag_champion = theirs >= t_shadow, mine >= t_champion
    delta = theirs - mine
    order = np.argsort(-np.abs(delta))[:limit]
    return Comparison(
        shadow=version, champion_label=champion_version.label if champion_version else None,
        shadow_threshold=t_shadow, champion_threshold=t_champion, items=len(rows),
        agreement=float(np.mean(flag_shadow == flag_champion)) if rows else None,
        mean_delta=float(delta.mean()) if rows else None,
        mean_abs_delta=float(np.abs(delta).mean()) if rows else None,
        champion_flags=int(flag_champion.sum()), shadow_flags=int(flag_shadow.sum()),
        only_champion=int((flag_champion & ~flag_shadow).sum()),
        only_shadow=int((flag_shadow & ~flag_champion).sum()),
        biggest_differences=[{"subject_id": rows[i].subject_id, "shadow": float(theirs[i]),
                              "champion": float(mine[i]), "delta": float(delta[i])}
                             for i in order],
        delta_histogram=_histogram(delta))


def _compared_champion(s: Session, version: ModelVersion, rows: list) -> ModelVersion | None:
    """The champion the shadow scored beside most recently (else the kind's current one)."""
    if rows and rows[-1].champion_version_id is not None:
        return s.get(ModelVersion, rows[-1].champion_version_id)
    current = services.champion(s, version.kind)
    return current if current is not None and current.status == VersionStatus.CHAMPION \
        else None


def _histogram(delta: np.ndarray) -> list[tuple[str, int]]:
    edges = [-1.0, -0.5, -0.2, -0.05, 0.05, 0.2, 0.5, 1.0]
    counts, _ = np.histogram(np.clip(delta, -1, 1), bins=edges)
    return [(f"{lo:+.2f}..{hi:+.2f}", int(c))
            for lo, hi, c in zip(edges[:-1], edges[1:], counts, strict=True)]
