"""The "counterfeit" model kind (vision.modelops.kinds): trains on the authentication
team's verdicts, oldest first, split in time into training, validation (calibration) and
held-out parts, and loads back into a scorer of listings."""
from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from foundation.errors import ValidationFailed
from vision.counterfeit import features
from vision.counterfeit.features import Evidence, Label
from vision.counterfeit.model import CounterfeitModel, reasons_for, train_model
from vision.counterfeit.watched import enqueue_rescoring
from vision.modelops.kinds import HeldOut, Progress, Score, Trained

DEFAULT_PARAMS: dict[str, Any] = {
    "train_share": 0.6,            # oldest verdicts: fit the image head and the combiner
    "validation_share": 0.2,       # next: Platt calibration; the newest rest is held out
    "image_weight_decay": 1e-3,
    "combiner_weight_decay": 1e-2,
    "epochs": 300,
    "folds": 3,
    "seed": 0,
    "min_per_class": 3,            # fewer counterfeit (or authentic) verdicts: refuse
}
GATHER_CHUNK = 32  # listings whose photos go through the network together


class CounterfeitScorer:
    def __init__(self, model: CounterfeitModel):
        self.model = model
        self.digest = model.digest

    def score(self, s: Session, subject_ids: list[int]) -> dict[int, Score]:
        evidence = list(features.gather(s, subject_ids).values())
        return self.score_evidence(evidence)

    def score_evidence(self, evidence: list[Evidence]) -> dict[int, Score]:
        if not evidence:
            return {}
        values = self.model.probabilities(evidence)
        pushes = self.model.contributions(evidence)
        return {e.listing_id: Score(round(float(v), 4), reasons_for(e, push))
                for e, v, push in zip(evidence, values, pushes, strict=True)}


class CounterfeitKind:
    name = "counterfeit"
    subject = "listing"

    def default_params(self) -> dict[str, Any]:
        return dict(DEFAULT_PARAMS)

    def champion_changed(self, s: Session) -> None:
        """A new champion rescores every listing it watches, once the promotion commits."""
        enqueue_rescoring(s)

    def train(self, s: Session, params: dict[str, Any], progress: Progress) -> Trained:
        used = checked_params(params)
        labels = features.platform_labels(s)
        _require_enough(labels, used["min_per_class"])
        evidence = _gather_with_progress(s, labels, progress)
        labels = [label for label in labels if label.listing_id in evidence]
        train, validation, held_out = time_split(labels, used)
        progress(len(labels), len(labels) + 1, "fitting")
        model, curves = train_model(
            [evidence[x.listing_id] for x in train], _targets(train),
            [evidence[x.listing_id] for x in validation], _targets(validation), used)
        held_scores = CounterfeitScorer(model).score_evidence(
            [evidence[x.listing_id] for x in held_out])
        progress(len(labels) + 1, len(labels) + 1, "trained")
        return Trained(
            artifact=model.to_bytes(),
            held_out=HeldOut(subject_ids=[x.listing_id for x in held_out],
                             labels=[int(x.counterfeit) for x in held_out],
                             scores=[held_scores[x.listing_id].value for x in held_out]),
            data_snapshot=snapshot(train, validation, held_out), params=used, curves=curves)

    def load(self, artifact: bytes) -> CounterfeitScorer:
        return CounterfeitScorer(CounterfeitModel.from_bytes(artifact))


def checked_params(params: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(params) - set(DEFAULT_PARAMS))
    if unknown:
        raise ValidationFailed("Unknown training parameters: " + ", ".join(unknown) + ".",
                               fields=dict.fromkeys(unknown, "unknown"))
    used = {**DEFAULT_PARAMS, **params}
    problems = {}
    for name in ("train_share", "validation_share"):
        if not isinstance(used[name], int | float) or not 0 < used[name] < 1:
            problems[name] = "must be a share between 0 and 1"
    if not problems and used["train_share"] + used["validation_share"] >= 1:
        problems["validation_share"] = "training and validation must leave a held-out part"
    for name in ("epochs", "folds", "min_per_class"):
        if not isinstance(used[name], int) or isinstance(used[name], bool) or used[name] < 2:
            problems[name] = "must be a whole number of at least 2"
    for name in ("image_weight_decay", "combiner_weight_decay"):
        if not isinstance(used[name], int | float) or used[name] < 0:
            problems[name] = "must be zero or more"
    if problems:
        raise ValidationFailed("Invalid training parameters.", fields=problems)
    return used


def time_split(labels: list[Label], params: dict[str, Any]
               ) -> tuple[list[Label], list[Label], list[Label]]:
    """Oldest verdicts train, the next calibrate, the newest are held out: the model is
    judged on decisions made after everything it learnt from."""
    first = round(len(labels) * params["train_share"])
    second = first + round(len(labels) * params["validation_share"])
    return labels[:first], labels[first:second], labels[second:]


def snapshot(train: list[Label], validation: list[Label], held_out: list[Label]) -> dict:
    def part(labels: list[Label]) -> dict:
        return {"listings": len(labels), "counterfeit": sum(x.counterfeit for x in labels),
                "from": labels[0].decided_at.isoformat() if labels else None,
                "to": labels[-1].decided_at.isoformat() if labels else None}

    everything = sorted(train + validation + held_out, key=lambda x: x.listing_id)
    digest = hashlib.sha256(",".join(f"{x.listing_id}:{int(x.counterfeit)}"
                                     for x in everything).encode()).hexdigest()
    return {"source": "authentication verdicts", "train": part(train),
            "validation": part(validation), "held_out": part(held_out),
            "label_digest": digest}


def _require_enough(labels: list[Label], per_class: int) -> None:
    fakes = sum(x.counterfeit for x in labels)
    if fakes < per_class or len(labels) - fakes < per_class:
        raise ValidationFailed(
            f"Not enough verdicts to train on: {fakes} counterfeit and "
            f"{len(labels) - fakes} authentic; at least {per_class} of each are needed.",
            code="not_enough_labels")


def _gather_with_progress(s: Session, labels: list[Label], progress: Progress
                          ) -> dict[int, Evidence]:
    evidence: dict[int, Evidence] = {}
    for start in range(0, len(labels), GATHER_CHUNK):
        chunk = labels[start:start + GATHER_CHUNK]
        evidence.update(features.gather(s, [label.listing_id for label in chunk]))
        progress(start + len(chunk), len(labels) + 1, "reading photos and history")
    return evidence


def _targets(labels: list[Label]) -> np.ndarray:
    return np.array([int(x.counterfeit) for x in labels], np.float32)


COUNTERFEIT = CounterfeitKind()
