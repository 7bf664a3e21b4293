"""The "duplicate" kind: calibrating duplicate matching and tuning its thresholds per edit.

The labelled set is drawn, not collected: catalogue products photographed by the seed's
renderer (a few share a shoot, so their rooms and light match: hard negatives), each
photo edited by every edit of the suite (vision.edits). A pair (edited copy, catalogue
photo) is a positive when the copy came from that photo, a negative otherwise; both are
scored by vision.matching.verify (the aligned grey correlation of an alignment whose colours
agree, -1..1; -1 where the colour check refuses every alignment, as for the same drawn
garment in another colour).

Training fits a logistic calibration of that correlation on the training photos'
pairs (the loss per epoch is the version's training curve) and, per edit type, the
threshold with the most recall at `target_precision`. Held-out pairs come from photos
training never saw. The artifact is JSON: the calibration, the per-edit thresholds and
the recipe of the set, so `load` can score the same pairs again (the shadow hook).

Subjects are pair ids: query * (1 + negatives_per_query) + slot, slot 0 the positive.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from foundation.errors import ValidationFailed
from marketplace_core.seed import generate_catalog, render_product
from vision.edits import EDIT_NAMES, apply_edit
from vision.matching import Signature, Verification, signatures_of, verify
from vision.modelops.evaluation import choose_threshold
from vision.modelops.kinds import HeldOut, Progress, Score, Trained

ARTIFACT_FORMAT = 1
SHOOTS = 3                  # products share one of this many shoots (room, light, framing)
SIGNATURE_BATCH = 16
LIMITS = {"photos": (4, 64), "side": (128, 512), "negatives_per_query": (1, 8),
          "epochs": (1, 2000)}


@dataclass(frozen=True)
class Recipe:
    """Everything that fixes the labelled pairs; the same recipe draws the same pixels."""
    seed: int
    photos: int
    side: int
    edits: tuple[str, ...]
    negatives_per_query: int

    def as_dict(self) -> dict[str, Any]:
        return {"seed": self.seed, "photos": self.photos, "side": self.side,
                "edits": list(self.edits), "negatives_per_query": self.negatives_per_query}


@dataclass(frozen=True)
class Pair:
    pair_id: int
    query: int              # index of the edited copy
    photo: int              # index of the catalogue photo it is compared with
    source: int             # the catalogue photo the copy was made from
    edit: str
    label: int


class PairSet:
    """The drawn photos, their edited copies and the labelled pairs of a recipe."""

    def __init__(self, recipe: Recipe):
        self.recipe = recipe
        self.queries = [(source, edit) for source in range(recipe.photos)
                        for edit in recipe.edits]
        rng = np.random.default_rng([recipe.seed, 6])
        self.pairs: list[Pair] = []
        slots = 1 + recipe.negatives_per_query
        for q, (source, edit) in enumerate(self.queries):
            others = [p for p in range(recipe.photos) if p != source]
            chosen = rng.choice(others, size=recipe.negatives_per_query, replace=False)
            for slot, photo in enumerate([source, *(int(p) for p in chosen)]):
                self.pairs.append(Pair(q * slots + slot, q, photo, source, edit,
                                       int(photo == source)))
        self._signatures: tuple[list[Signature], list[Signature]] | None = None

    def pair(self, pair_id: int) -> Pair:
        if not 0 <= pair_id < len(self.pairs):
            raise ValidationFailed(f"pair {pair_id} is not in this duplicate set "
                                   f"(0..{len(self.pairs) - 1})", code="unknown_subject")
        return self.pairs[pair_id]

    def signatures(self, progress: Progress | None = None):
        """(catalogue signatures, query signatures), computed once per set."""
        if self._signatures is None:
            photos = self._draw_photos()
            copies = [apply_edit(edit, photos[source], self.recipe.seed + q)
                      for q, (source, edit) in enumerate(self.queries)]
            catalogue = signatures_of(photos, with_mirror=False)
            queries: list[Signature] = []
            for start in range(0, len(copies), SIGNATURE_BATCH):
                queries += signatures_of(copies[start:start + SIGNATURE_BATCH])
                if progress:
                    progress(len(queries), len(copies), "signatures of the edited copies")
            self._signatures = (catalogue, queries)
        return self._signatures

    def raw_score(self, pair: Pair) -> tuple[float, str]:
        result = self.verification(pair)
        return float(result.score), result.alignment

    def verification(self, pair: Pair) -> Verification:
        catalogue, queries = self.signatures()
        return verify(queries[pair.query], catalogue[pair.photo])

    def _draw_photos(self) -> list[np.ndarray]:
        specs = generate_catalog(self.recipe.photos, seed=self.recipe.seed)
        side = self.recipe.side
        return [render_product(spec, angle="front", size=(side, side),
                               rng_seed=self.recipe.seed * 31 + i % SHOOTS)
                for i, spec in enumerate(specs)]


@lru_cache(maxsize=4)
def pair_set(recipe: Recipe) -> PairSet:
    return PairSet(recipe)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -60, 60)))


def log_loss(p: np.ndarray, y: np.ndarray) -> float:
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


@dataclass(frozen=True)
class Calibration:
    """P(duplicate) = sigmoid(slope * (correlation - center) / scale + intercept)."""
    slope: float
    intercept: float
    center: float = 0.0
    scale: float = 1.0

    def __call__(self, raw: np.ndarray | float) -> np.ndarray:
        z = (np.asarray(raw, dtype=np.float64) - self.center) / self.scale
        return sigmoid(self.slope * z + self.intercept)

    def as_dict(self) -> dict[str, float]:
        return {"slope": self.slope, "intercept": self.intercept, "center": self.center,
                "scale": self.scale}


def fit_calibration(raw: np.ndarray, labels: np.ndarray, *, epochs: int, learning_rate: float,
                    l2: float, progress: Progress | None = None
                    ) -> tuple[Calibration, list[float]]:
    """Logistic regression on one feature by gradient descent; the loss of every epoch.

    The feature is standardised first (duplicates crowd just under 1.0, so a raw slope
    would need to be large and slow to reach); the L2 penalty keeps the slope finite when
    the training pairs separate perfectly."""
    center = float(np.mean(raw))
    scale = float(np.std(raw)) or 1.0
    z = (raw - center) / scale
    slope, intercept = 1.0, 0.0
    losses = []
    for epoch in range(epochs):
        p = sigmoid(slope * z + intercept)
        losses.append(log_loss(p, labels) + l2 * slope ** 2 / 2)
        error = p - labels
        slope -= learning_rate * (float(np.mean(error * z)) + l2 * slope)
        intercept -= learning_rate * float(np.mean(error))
        if progress and (epoch + 1) % max(epochs // 10, 1) == 0:
            progress(epoch + 1, epochs, "fitting the calibration")
    return Calibration(slope, intercept, center, scale), losses


class DuplicateScorer:
    def __init__(self, calibration: Calibration, thresholds: dict[str, float],
                 recipe: Recipe):
        self.calibration = calibration
        self.thresholds = thresholds
        self.recipe = recipe

    def probability(self, correlation: float) -> float:
        """For the duplicate pipeline: the calibrated probability of a verified pair."""
        return float(self.calibration(correlation))

    def score(self, s: Session, subject_ids: list[int]) -> dict[int, Score]:
        pairs = pair_set(self.recipe)
        out = {}
        for pair_id in subject_ids:
            pair = pairs.pair(int(pair_id))
            result = pairs.verification(pair)
            out[int(pair_id)] = Score(self.probability(result.score),
                                      _explanation(result) + (f"edit: {pair.edit}",))
        return out


def _explanation(result: Verification) -> tuple[str, ...]:
    """What decided a pair's score: the verified score and how the photos were aligned, and
    the grey correlation and colour disagreement behind a refusal."""
    words = [f"verified score {result.score:.3f} ({result.alignment})"]
    signals = result.signals
    if result.score < signals.get("correlation", result.score):
        words.append(f"grey correlation {signals['correlation']:.3f}")
    if "colour_disagreement" in signals:
        words.append(f"colour disagreement {signals['colour_disagreement']:.2f}")
    return tuple(words)


class DuplicateKind:
    name = "duplicate"
    subject = "photo_pair"

    def default_params(self) -> dict[str, Any]:
        return {"seed": 7, "photos": 8, "side": 256, "edits": list(EDIT_NAMES),
                "negatives_per_query": 2, "held_out_fraction": 0.5, "epochs": 300,
                "learning_rate": 2.0, "l2": 0.001, "target_precision": 0.99}

    def check_params(self, params: dict[str, Any]) -> dict[str, Any]:
        """Optional beyond the contract: the registry calls it before queueing a run."""
        return checked_params({**self.default_params(), **params})

    def train(self, s: Session, params: dict[str, Any], progress: Progress) -> Trained:
        params = checked_params({**self.default_params(), **params})
        recipe = recipe_of(params)
        pairs = pair_set(recipe)
        held = held_out_mask(pairs, params["held_out_fraction"], recipe.seed)
        if held.all() or not held.any():
            raise ValidationFailed("the held-out fraction leaves no photos on one side",
                                   code="bad_params")
        progress(0, len(pairs.queries), "drawing and editing photos")
        pairs.signatures(progress)
        raw = np.empty(len(pairs.pairs))
        for i, pair in enumerate(pairs.pairs):
            raw[i] = pairs.raw_score(pair)[0]
            if (i + 1) % 50 == 0 or i + 1 == len(pairs.pairs):
                progress(i + 1, len(pairs.pairs), "verifying pairs")
        labels = np.array([p.label for p in pairs.pairs], dtype=np.float64)
        calibration, losses = fit_calibration(
            raw[~held], labels[~held], epochs=params["epochs"],
            learning_rate=params["learning_rate"], l2=params["l2"], progress=progress)
        calibrated = calibration(raw)
        thresholds = per_edit_thresholds(pairs, calibrated, labels, ~held,
                                         params["target_precision"])
        artifact = {"format": ARTIFACT_FORMAT, "recipe": recipe.as_dict(),
                    "calibration": calibration.as_dict(),
                    "thresholds": thresholds}
        held_pairs = [p for p, h in zip(pairs.pairs, held, strict=True) if h]
        return Trained(
            artifact=json.dumps(artifact, sort_keys=True).encode(),
            held_out=HeldOut(subject_ids=[p.pair_id for p in held_pairs],
                             labels=[p.label for p in held_pairs],
                             scores=[float(v) for v in calibrated[held]]),
            data_snapshot=snapshot(pairs, held),
            params=params,
            curves={"train_loss": losses,
                    "held_out_loss": [log_loss(calibrated[held], labels[held])]})

    def load(self, artifact: bytes) -> DuplicateScorer:
        try:
            data = json.loads(artifact)
            if data["format"] != ARTIFACT_FORMAT:
                raise ValueError(f"artifact format {data['format']}")
            calibration = Calibration(**{name: float(data["calibration"][name])
                                         for name in ("slope", "intercept", "center",
                                                      "scale")})
            if calibration.scale <= 0:
                raise ValueError("the calibration's scale must be positive")
            recipe = recipe_of(checked_params({**self.default_params(), **data["recipe"]}))
            thresholds = {str(k): float(v) for k, v in data["thresholds"].items()}
        except (ValueError, KeyError, TypeError) as exc:
            raise ValidationFailed(f"not a duplicate-kind artifact: {exc}",
                                   code="bad_artifact") from exc
        return DuplicateScorer(calibration, thresholds, recipe)


def checked_params(params: dict[str, Any]) -> dict[str, Any]:
    """The parameters with their types checked, or ValidationFailed naming each bad one."""
    errors: dict[str, str] = {}
    out = dict(params)
    for name, (lo, hi) in LIMITS.items():
        value = params.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
            errors[name] = f"a whole number from {lo} to {hi}"
    for name, lo, hi in (("held_out_fraction", 0.1, 0.9), ("learning_rate", 1e-4, 100.0),
                         ("l2", 0.0, 10.0), ("target_precision", 0.01, 1.0)):
        value = params.get(name)
        if not isinstance(value, (int, float)) or isinstance(value, bool) \
                or not lo <= value <= hi:
            errors[name] = f"a number from {lo:g} to {hi:g}"
        else:
            out[name] = float(value)
    if not isinstance(params.get("seed"), int) or isinstance(params.get("seed"), bool) \
            or not 0 <= params["seed"] < 2 ** 31:
        errors["seed"] = "a whole number from 0"
    edits = params.get("edits")
    if not isinstance(edits, list) or not edits or any(e not in EDIT_NAMES for e in edits):
        errors["edits"] = f"a non-empty list of: {', '.join(EDIT_NAMES)}"
    unknown = set(params) - set(DuplicateKind().default_params())
    for name in sorted(unknown):
        errors[name] = "not a parameter of the duplicate kind"
    if errors:
        raise ValidationFailed("The training parameters are not valid.", code="bad_params",
                               fields=errors)
    return out


def recipe_of(params: dict[str, Any]) -> Recipe:
    return Recipe(seed=params["seed"], photos=params["photos"], side=params["side"],
                  edits=tuple(params["edits"]),
                  negatives_per_query=params["negatives_per_query"])


def held_out_mask(pairs: PairSet, fraction: float, seed: int) -> np.ndarray:
    """Pairs whose edited copy comes from a held-out photo: training never sees its pixels."""
    rng = np.random.default_rng([seed, 11])
    n_held = max(1, round(pairs.recipe.photos * fraction))
    held_photos = set(rng.permutation(pairs.recipe.photos)[:n_held].tolist())
    return np.array([p.source in held_photos for p in pairs.pairs])


def per_edit_thresholds(pairs: PairSet, calibrated: np.ndarray, labels: np.ndarray,
                        train: np.ndarray, target_precision: float) -> dict[str, float]:
    """Per edit type, the training pairs' threshold of most recall at the precision
    (0.5 where none reaches it: the calibrated even odds)."""
    edits = np.array([p.edit for p in pairs.pairs])
    out = {}
    for edit in pairs.recipe.edits:
        rows = train & (edits == edit)
        choice = choose_threshold(calibrated[rows], labels[rows], target_precision)
        out[edit] = choice.threshold if choice.threshold is not None else 0.5
    return out


def snapshot(pairs: PairSet, held: np.ndarray) -> dict[str, Any]:
    ids = ",".join(str(p.pair_id) for p, h in zip(pairs.pairs, held, strict=True) if h)
    return {"recipe": pairs.recipe.as_dict(), "pairs": len(pairs.pairs),
            "positives": sum(p.label for p in pairs.pairs),
            "held_out_pairs": int(held.sum()), "training_pairs": int((~held).sum()),
            "held_out_ids_sha256": hashlib.sha256(ids.encode()).hexdigest(),
            # Read by the registry to evaluate, and let analysts tune, per edit type.
            "held_out_edit_types": [p.edit for p, h in zip(pairs.pairs, held, strict=True)
                                    if h]}


DUPLICATE = DuplicateKind()
