"""The counterfeit model: an image head, a combiner, and Platt calibration, all in torch.

1. Image head: logistic regression on the mean EfficientNet-Lite0 embedding of a listing's
   photos (1280 numbers), trained on the verdicts. The backbone stays frozen: with a few
   hundred labels, a linear head on ImageNet features trains in seconds on a CPU.
2. Combiner: logistic regression on the standardised image logit and the tabular evidence
   (features.TABULAR). The image logits it learns from are out-of-fold, so the combiner
   sees how reliable the head is on listings it was not fitted to.
3. Calibration: Platt scaling (a, b) fitted on a later, separate validation split, so the
   score is a probability: of items scored 0.8, about 80% were judged counterfeit.

The artifact is an .npz of plain arrays plus a JSON header (loaded with allow_pickle=False).
Reasons are the largest positive contributions (weight x standardised value) in words.
"""
from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass

import numpy as np
import torch

from vision.counterfeit.features import TABULAR, Evidence

INPUTS = ("image", *TABULAR)
FORMAT = "counterfeit-v1"
# A contribution (in logit units) must reach this to be worth telling a reviewer.
REASON_MIN_CONTRIBUTION = 0.4
MAX_REASONS = 3


@dataclass(frozen=True)
class Logistic:
    weights: np.ndarray
    bias: float
    losses: list[float]


def fit_logistic(x: np.ndarray, y: np.ndarray, *, weight_decay: float, epochs: int,
                 lr: float = 0.05, seed: int = 0) -> Logistic:
    """Full-batch Adam on the class-balanced logistic loss (fakes are rare)."""
    torch.manual_seed(seed)
    features = torch.from_numpy(np.ascontiguousarray(x, np.float32))
    targets = torch.from_numpy(y.astype(np.float32))
    positives = float(targets.sum())
    pos_weight = torch.tensor((len(targets) - positives) / max(positives, 1.0))
    weights = torch.zeros(features.shape[1], requires_grad=True)
    bias = torch.zeros(1, requires_grad=True)
    optimiser = torch.optim.Adam([weights, bias], lr=lr)
    losses = []
    for _ in range(epochs):
        optimiser.zero_grad()
        logits = features @ weights + bias
        loss = torch.nn.functional.binary_cross_entropy_with_logits(
            logits, targets, pos_weight=pos_weight) + weight_decay * (weights ** 2).sum()
        loss.backward()
        optimiser.step()
        losses.append(round(float(loss.detach()), 5))
    return Logistic(weights.detach().numpy().copy(), float(bias.detach()), losses)


def fit_platt(logits: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """sigmoid(a * logit + b) fitted to the observed rate of counterfeits (unweighted)."""
    z = torch.from_numpy(logits.astype(np.float32))
    targets = torch.from_numpy(y.astype(np.float32))
    a = torch.ones(1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    optimiser = torch.optim.LBFGS([a, b], lr=0.5, max_iter=200)

    def closure():
        optimiser.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(a * z + b, targets)
        loss.backward()
        return loss

    optimiser.step(closure)
    return float(a.detach()), float(b.detach())


@dataclass(frozen=True)
class CounterfeitModel:
    image_weights: np.ndarray       # (EMBEDDING_DIM,)
    image_bias: float
    mean: np.ndarray                # (len(INPUTS),): standardisation of the combiner inputs
    std: np.ndarray
    weights: np.ndarray             # (len(INPUTS),)
    bias: float
    platt_a: float
    platt_b: float

    def image_logit(self, embeddings: np.ndarray) -> np.ndarray:
        return embeddings @ self.image_weights + self.image_bias

    def standardised(self, evidence: list[Evidence]) -> np.ndarray:
        embeddings = np.stack([e.embedding for e in evidence])
        raw = np.column_stack([self.image_logit(embeddings),
                               np.stack([e.tabular for e in evidence])])
        return (raw - self.mean) / self.std

    def logits(self, evidence: list[Evidence]) -> np.ndarray:
        return self.standardised(evidence) @ self.weights + self.bias

    def probabilities(self, evidence: list[Evidence]) -> np.ndarray:
        return calibrated(self.logits(evidence), self.platt_a, self.platt_b)

    def contributions(self, evidence: list[Evidence]) -> np.ndarray:
        """(items, inputs): how much each input pushed each item's logit."""
        return self.standardised(evidence) * self.weights

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.to_bytes()).hexdigest()

    def to_bytes(self) -> bytes:
        header = {"format": FORMAT, "inputs": list(INPUTS), "image_bias": self.image_bias,
                  "bias": self.bias, "platt_a": self.platt_a, "platt_b": self.platt_b}
        buffer = io.BytesIO()
        np.savez(buffer, header=np.array(json.dumps(header, sort_keys=True)),
                 image_weights=self.image_weights.astype(np.float32),
                 mean=self.mean.astype(np.float32), std=self.std.astype(np.float32),
                 weights=self.weights.astype(np.float32))
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> CounterfeitModel:
        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            header = json.loads(str(arrays["header"]))
            if header.get("format") != FORMAT or header.get("inputs") != list(INPUTS):
                raise ValueError("not a counterfeit model artifact of this version")
            return cls(image_weights=arrays["image_weights"], image_bias=header["image_bias"],
                       mean=arrays["mean"], std=arrays["std"], weights=arrays["weights"],
                       bias=header["bias"], platt_a=header["platt_a"],
                       platt_b=header["platt_b"])


def calibrated(logits: np.ndarray, a: float, b: float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-(a * logits + b)))


def reasons_for(evidence: Evidence, contributions: np.ndarray) -> tuple[str, ...]:
    """The inputs that pushed this item's risk up the most, in plain words."""
    ranked = sorted(((float(c), name) for c, name in zip(contributions, INPUTS, strict=True)
                     if c >= REASON_MIN_CONTRIBUTION), reverse=True)
    words = (_describe(name, evidence.facts) for _, name in ranked)
    return tuple(text for text in words if text)[:MAX_REASONS]


def _describe(name: str, facts: dict[str, float]) -> str | None:
    if name == "image":
        return "photo details look like counterfeits the team has caught"
    if name == "looks_like_known_fakes":
        return "photos are closer to known fakes of the brand than to authenticated ones"
    if name == "price_vs_norm":
        ratio = facts["price_ratio"]
        if not ratio or ratio >= 1:
            return None
        return f"price {round((1 - ratio) * 100)}% below the brand's median"
    if name == "seller_strikes":
        return _count(facts["strikes"], "seller has {} strike", "seller has {} strikes")
    if name == "seller_counterfeit_verdicts":
        return _count(facts["counterfeit_verdicts"], "seller had {} item judged counterfeit",
                      "seller had {} items judged counterfeit")
    if name == "seller_account_age":
        return f"seller's account was {round(facts['account_age_days'])} days old at listing"
    if name == "seller_dispute_losses":
        return _count(facts["dispute_losses"], "seller lost {} dispute", "seller lost {} disputes")
    return None


def _count(value: float, one: str, many: str) -> str | None:
    n = round(value)
    if n <= 0:
        return None
    return (one if n == 1 else many).format(n)


def train_model(train: list[Evidence], y_train: np.ndarray, validation: list[Evidence],
                y_validation: np.ndarray, params: dict) -> tuple[CounterfeitModel,
                                                                  dict[str, list[float]]]:
    embeddings = np.stack([e.embedding for e in train])
    tabular = np.stack([e.tabular for e in train])
    fit_head = _head_fitter(params)
    out_of_fold = _out_of_fold_logits(embeddings, y_train, params["folds"], fit_head)
    head = fit_head(embeddings, y_train)
    raw = np.column_stack([out_of_fold, tabular])
    mean = raw.mean(axis=0)
    std = np.where(raw.std(axis=0) > 1e-6, raw.std(axis=0), 1.0)
    combiner = fit_logistic((raw - mean) / std, y_train, epochs=params["epochs"],
                            weight_decay=params["combiner_weight_decay"], seed=params["seed"])
    uncalibrated = CounterfeitModel(head.weights, head.bias, mean, std, combiner.weights,
                                    combiner.bias, 1.0, 0.0)
    if len(set(y_validation.tolist())) == 2:
        a, b = fit_platt(uncalibrated.logits(validation), y_validation)
    else:  # nothing to calibrate against: fall back to the training rate
        a, b = fit_platt(((raw - mean) / std) @ combiner.weights + combiner.bias, y_train)
    model = CounterfeitModel(head.weights, head.bias, mean, std, combiner.weights,
                             combiner.bias, a, b)
    return model, {"image_train_loss": head.losses, "combiner_train_loss": combiner.losses}


def _head_fitter(params: dict):
    def fit(x: np.ndarray, y: np.ndarray) -> Logistic:
        return fit_logistic(x, y, weight_decay=params["image_weight_decay"],
                            epochs=params["epochs"], seed=params["seed"])
    return fit


def _out_of_fold_logits(x: np.ndarray, y: np.ndarray, folds: int, fit) -> np.ndarray:
    logits = np.zeros(len(y), np.float32)
    fold_of = np.arange(len(y)) % folds
    for fold in range(folds):
        held, rest = fold_of == fold, fold_of != fold
        if len(set(y[rest].tolist())) < 2:
            continue  # a fold without both classes teaches nothing; leave its logits at 0
        head = fit(x[rest], y[rest])
        logits[held] = x[held] @ head.weights + head.bias
    return logits
