"""Photo signatures for the duplicate index's tests: given global signals (PDQ hash and
embedding), blank local ones, no photo behind them."""
from __future__ import annotations

import numpy as np

from vision.features import LocalFeatures
from vision.matching import Signature, View


def global_signature(pdq: np.ndarray, embedding: np.ndarray) -> Signature:
    view = View(pdq=pdq, embedding=embedding, local=LocalFeatures.empty((64, 64)),
                thumb=np.zeros((8, 8), np.uint8))
    return Signature(pdq_quality=100, phash=np.zeros(8, np.uint8), trim=(0, 0, 0, 0),
                     size=(64, 64), view=view)
