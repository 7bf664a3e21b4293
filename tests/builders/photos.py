"""Real photos: seeded JPEGs of shapes, the seed generator's product photos (the same
pixels every call, optionally edited the way copiers edit them), and uploads of them."""
from __future__ import annotations

import io
import itertools
from functools import lru_cache

import cv2
import numpy as np

from disputes.evidence import Upload
from marketplace_core.seed import encode_jpeg, generate_catalog, render_product
from vision.edits import apply_edit

PRODUCT_SIDE = 480
_seeds = itertools.count(500)


def next_seed() -> int:
    """A seed no earlier photo of this process used."""
    return next(_seeds)


def jpeg_bytes(seed: int = 0, size: tuple[int, int] = (480, 640)) -> bytes:
    """A real photo-like JPEG: gradients and shapes, different for every seed."""
    rng = np.random.default_rng(seed)
    height, width = size
    image = np.zeros((height, width, 3), np.uint8)
    image[:] = rng.integers(120, 230, 3)
    for _ in range(6):
        centre = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        colour = tuple(int(c) for c in rng.integers(0, 255, 3))
        cv2.circle(image, centre, int(rng.integers(20, 120)), colour, -1)
    ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    return buffer.tobytes()


def photo(seed: int | None = None) -> Upload:
    """A JPEG as the disputes services take an uploaded photo."""
    return Upload(jpeg_bytes(next_seed() if seed is None else seed), "image/jpeg")


def photo_parts(count: int = 1) -> list[tuple]:
    """`count` real JPEGs as multipart file parts for the field 'photos'."""
    return [(io.BytesIO(jpeg_bytes(next_seed())), f"photo{i}.jpg", "image/jpeg")
            for i in range(count)]


@lru_cache(maxsize=16)
def product_photo(product: int) -> np.ndarray:
    """Product number `product` photographed once (the same pixels every call)."""
    spec = generate_catalog(8, seed=61)[product]
    return render_product(spec, angle="front", size=(PRODUCT_SIDE, PRODUCT_SIDE),
                          rng_seed=spec.item_seed)


def photo_bytes(product: int, edit: str | None = None) -> bytes:
    image = product_photo(product)
    if edit is not None:
        image = apply_edit(edit, image, seed=product)
    return encode_jpeg(image, 92)
