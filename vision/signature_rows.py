"""A `Signature` as columns of vision_photo_signatures and back, so that the duplicate
index can be rebuilt from the database alone (the on-disk index is only a cache).

`details` is an npz archive (vision.matching.stored_arrays): the keypoints, the colour
thumbnail and the detail thumbnail (a JPEG). A row signed by an earlier engine loads with
a grey thumbnail and without a detail thumbnail (and maybe without colour): matching then
judges its pairs conservatively, at MatchThresholds.grey_only_threshold, until a re-index
(which ENGINE_VERSION's bump asks for) signs the photo again."""
from __future__ import annotations

import io

import numpy as np

from vision.matching import Signature, stored_arrays, view_of_arrays
from vision.models import ENGINE_VERSION, PhotoSignature


def fill_row(row: PhotoSignature, signature: Signature) -> None:
    view = signature.view
    row.pdq = view.pdq.tobytes()
    row.pdq_quality = int(signature.pdq_quality)
    row.phash = signature.phash.tobytes()
    row.embedding = np.asarray(view.embedding, np.float32).tobytes()
    buffer = io.BytesIO()
    np.savez(buffer, **stored_arrays(signature))
    row.details = buffer.getvalue()
    row.engine_version = ENGINE_VERSION


def signature_of_row(row: PhotoSignature) -> Signature:
    with np.load(io.BytesIO(row.details), allow_pickle=False) as details:
        view, trim, size = view_of_arrays(details, np.frombuffer(row.pdq, np.uint8).copy(),
                                          np.frombuffer(row.embedding, np.float32).copy())
    return Signature(pdq_quality=int(row.pdq_quality), phash=np.frombuffer(
        row.phash, np.uint8).copy(), trim=trim, size=size, view=view)
