"""A `Signature` as columns of vision_photo_signatures and back, so that the duplicate
index can be rebuilt from the database alone (the on-disk index is only a cache).

`details` is an npz archive; since engine 2 it holds the colour thumbnail too. A row
signed by an earlier engine loads without one (View.colour None): matching then judges
its pairs by grey alone at MatchThresholds.grey_only_threshold until a re-index (which
ENGINE_VERSION's bump asks for) signs the photo again."""
from __future__ import annotations

import io

import numpy as np

from vision.features import LocalFeatures
from vision.matching import Signature, View
from vision.models import ENGINE_VERSION, PhotoSignature


def fill_row(row: PhotoSignature, signature: Signature) -> None:
    view = signature.view
    row.pdq = view.pdq.tobytes()
    row.pdq_quality = int(signature.pdq_quality)
    row.phash = signature.phash.tobytes()
    row.embedding = np.asarray(view.embedding, np.float32).tobytes()
    buffer = io.BytesIO()
    np.savez(buffer, trim=np.array(signature.trim, np.int32),
             size=np.array(signature.size, np.int32), points=view.local.points,
             descriptors=view.local.descriptors, thumb=view.thumb,
             **({} if view.colour is None else {"colour": view.colour}))
    row.details = buffer.getvalue()
    row.engine_version = ENGINE_VERSION


def signature_of_row(row: PhotoSignature) -> Signature:
    with np.load(io.BytesIO(row.details), allow_pickle=False) as details:
        size = (int(details["size"][0]), int(details["size"][1]))
        view = View(pdq=np.frombuffer(row.pdq, np.uint8).copy(),
                    embedding=np.frombuffer(row.embedding, np.float32).copy(),
                    local=LocalFeatures(details["points"], details["descriptors"], size),
                    thumb=details["thumb"],
                    colour=details["colour"] if "colour" in details.files else None)
        trim = tuple(int(v) for v in details["trim"])
    return Signature(pdq_quality=int(row.pdq_quality), phash=np.frombuffer(
        row.phash, np.uint8).copy(), trim=trim, size=size, view=view)
