"""A contact sheet of sample photos, for eyeballing the generator after changes.

    python -m marketplace_core.seed.preview /tmp/seed_contact_sheet.png
"""
from __future__ import annotations

import sys

import cv2
import numpy as np

from .catalog import ProductSpec, counterfeit_twin, genuine_spec
from .photos import render_product

# (model, angle, counterfeit?) chosen to show every family and the authentication close-ups.
SAMPLES = (
    ("maison-vellore-cleo", "front", False),
    ("maison-vellore-cleo", "detail_logo", False),
    ("maison-vellore-cleo", "detail_logo", True),
    ("arcadia-apex", "front", False),
    ("kalinga-loom-banarasi", "front", False),
    ("sitara-couture-noor-lehenga", "front", False),
    ("jaipur-threadworks-anarkali", "front", False),
    ("vasseur-regent", "front", False),
    ("solenne-etoile", "front", False),
    ("pushkar-jutti-mojari", "front", False),
    ("nordhavn-rover", "front", False),
    ("orvella-sera", "label", True),
)


def sample_specs() -> list[tuple[ProductSpec, str]]:
    out = []
    for i, (model_key, angle, fake) in enumerate(SAMPLES):
        spec = genuine_spec(model_key, item_seed=i)
        out.append((counterfeit_twin(spec, seed=i) if fake else spec, angle))
    return out


def contact_sheet(columns: int = 4, tile: int = 512, rng_seed: int = 2024) -> np.ndarray:
    photos = []
    for i, (spec, angle) in enumerate(sample_specs()):
        photo = render_product(spec, angle=angle, size=(tile, tile), rng_seed=rng_seed + i)
        caption = f"{'FAKE ' if spec.counterfeit else ''}{spec.brand_name} / {angle}"
        cv2.rectangle(photo, (0, tile - 26), (tile, tile), (30, 30, 30), -1)
        cv2.putText(photo, caption, (8, tile - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.55,
                    (240, 240, 240), 1, cv2.LINE_AA)
        photos.append(photo)
    while len(photos) % columns:
        photos.append(np.zeros_like(photos[0]))
    rows = [np.hstack(photos[i:i + columns]) for i in range(0, len(photos), columns)]
    return np.vstack(rows)


if __name__ == "__main__":
    path = sys.argv[1] if len(sys.argv) > 1 else "/tmp/seed_contact_sheet.png"
    cv2.imwrite(path, contact_sheet())
    print(path)
