"""The learned ranker: a logistic regression over the features, fitted with L-BFGS.

Why logistic and not a deep model: a dozen meaningful features, a few thousand labelled
pairs per training, a CPU; a linear model on standardised features trains in well under a
second, cannot overfit that data much, and its weights are readable in the console.  Its
probability is the base score the trust re-ranking multiplies (positive, so a demotion
always lowers an item).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .features import FEATURES

L2 = 1e-2


@dataclass(frozen=True)
class Ranker:
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    bias: float

    def score(self, x: np.ndarray) -> np.ndarray:
        z = (x - self.mean) / self.scale @ self.coef + self.bias
        return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))

    def to_json(self) -> dict[str, Any]:
        return {"features": list(FEATURES), "mean": self.mean.round(6).tolist(),
                "scale": self.scale.round(6).tolist(), "coef": self.coef.round(6).tolist(),
                "bias": round(float(self.bias), 6)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Ranker:
        if list(data["features"]) != list(FEATURES):
            raise ValueError("the stored ranker was trained on other features; train again")
        return cls(np.asarray(data["mean"]), np.asarray(data["scale"]),
                   np.asarray(data["coef"]), float(data["bias"]))

    def weights_by_feature(self) -> dict[str, float]:
        return {name: round(float(w), 4) for name, w in zip(FEATURES, self.coef, strict=True)}


def fit_ranker(x: np.ndarray, y: np.ndarray, negative_rate: float = 1.0,
               ) -> tuple[Ranker, list[float]]:
    """Logistic regression; returns the ranker and its loss curve.

    The score must be a calibrated probability, not a class-balanced one: trust multiplies
    it, and a factor of 1.1 should move an item as far as a tenth more chance of interest,
    not past every candidate of a saturated 0.8-0.9 band.  Negatives are subsampled for
    training (`negative_rate` of them kept), so the intercept is corrected by
    log(negative_rate), the standard correction for case-control sampling."""
    from scipy.optimize import minimize  # the batch's import, kept off the request path

    if len(np.unique(y)) < 2:
        raise ValueError("training needs both positive and negative examples")
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    xs = (x - mean) / scale
    sample_weight = np.ones(len(y))
    curve: list[float] = []

    def loss(params: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = params[:-1], params[-1]
        z = xs @ w + b
        p = 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))
        eps = 1e-12
        value = -np.mean(sample_weight * (y * np.log(p + eps) + (1 - y) * np.log(1 - p + eps)))
        value += L2 * float(w @ w) / 2
        residual = sample_weight * (p - y) / len(y)
        grad = np.concatenate([xs.T @ residual + L2 * w, [residual.sum()]])
        return value, grad

    result = minimize(loss, np.zeros(xs.shape[1] + 1), jac=True, method="L-BFGS-B",
                      options={"maxiter": 200},
                      callback=lambda p: curve.append(round(float(loss(p)[0]), 6)))
    bias = float(result.x[-1]) + float(np.log(max(negative_rate, 1e-9)))
    return Ranker(mean, scale, result.x[:-1], bias), curve
