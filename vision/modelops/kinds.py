"""The contract between the model registry and each kind of model it manages.

The registry (training runs, versions, evaluation, thresholds, shadow, promote/rollback)
knows nothing of what a model looks at; a kind knows nothing of versions or promotion.
A kind trains from the platform's own labels and returns bytes plus held-out scores; the
registry stores the bytes, evaluates the scores, and later asks the kind to load them.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.orm import Session

# (done, total, message): called as training goes, so the run's row can show progress.
Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class Score:
    value: float                        # calibrated probability of the positive class
    reasons: tuple[str, ...] = ()       # human-readable, most important first


@dataclass(frozen=True)
class HeldOut:
    """Scores of the held-out labelled items, for the registry's evaluation."""
    subject_ids: list[int]              # e.g. listing ids
    labels: list[int]                   # 1 = positive (counterfeit / duplicate)
    scores: list[float]                 # the trained model's calibrated scores


@dataclass(frozen=True)
class Trained:
    artifact: bytes                     # everything `load` needs, self-contained
    held_out: HeldOut
    data_snapshot: dict[str, Any]       # what it was trained on: counts, cut-off, id digest
    params: dict[str, Any]              # the parameters actually used (defaults filled in)
    curves: dict[str, list[float]] = field(default_factory=dict)  # e.g. {"train_loss": [...]}


class Scorer(Protocol):
    def score(self, s: Session, subject_ids: list[int]) -> dict[int, Score]: ...


class ModelKind(Protocol):
    name: str                           # "counterfeit", "duplicate", ...
    subject: str                        # what subject ids are: "listing", "photo_pair", ...

    def default_params(self) -> dict[str, Any]: ...

    def train(self, s: Session, params: dict[str, Any], progress: Progress) -> Trained: ...

    def load(self, artifact: bytes) -> Scorer: ...


KINDS: dict[str, ModelKind] = {}


def register_kind(kind: ModelKind) -> ModelKind:
    if kind.name in KINDS and KINDS[kind.name] is not kind:
        raise ValueError(f"model kind {kind.name!r} is registered twice")
    KINDS[kind.name] = kind
    return kind


def get_kind(name: str) -> ModelKind:
    if name not in KINDS:
        raise LookupError(f"unknown model kind {name!r}; known: {', '.join(sorted(KINDS))}")
    return KINDS[name]
