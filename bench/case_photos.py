"""Dispute evidence: does the comparison tell a buyer's copy of a listing photo from a new
photo of another garment, and what does one case cost the vision worker?

    python -m bench.case_photos --photos ../shared/real-photos/clothing-dataset-cc0 \
        --cases 30 --json bench/out/case_photos.json

Each simulated case takes one category folder of real photos: the listing has two photos
(a, b); the buyer sends an edited copy of b (the edits cycle through --edits) and a photo of
another garment of the same category (c). The engine work of the compare_case_photos job is
timed per case, wall and CPU (the intake on every photo, the signatures, `verify` of each
buyer photo against each listing photo; no database), and the answers are checked: the copy must be
"same photo" with b as its best match, the other garment "not the same photo". The
embedding cosines of both kinds say how far "looks like the same kind of item" can be
trusted. Photos are read in place, never copied.
"""
from __future__ import annotations

# The media package must load before anything imports cv2 (it sets OpenCV's pixel limit).
import marketplace_core.media  # noqa: F401  isort: skip

import argparse
import os
import time
from pathlib import Path

import cv2
import numpy as np

from bench.common import percentiles, progress, write_json
from marketplace_core.media import ImageRejected, inspect_and_normalise, to_bgr_array
from marketplace_core.seed import encode_jpeg
from vision.case_photos import ListingPhoto, best_match
from vision.edits import apply_edit
from vision.matching import signatures_of

DEFAULT_EDITS = ("jpeg_75", "crop_10", "gamma", "resize_0.5", "watermark", "rotate_4")


def decoded(data: bytes) -> np.ndarray:
    """Through the media intake, as the job reads a stored photo."""
    return to_bgr_array(inspect_and_normalise(data))


def edited_copy(data: bytes, edit: str, seed: int) -> bytes:
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    return encode_jpeg(apply_edit(edit, image, seed=seed), 90)


def cases(root: Path, count: int) -> list[tuple[str, list[bytes]]]:
    """(category, [a, b, c]) per case, cycling through the category folders."""
    folders = sorted(p for p in root.iterdir() if p.is_dir())
    photos = {folder.name: sorted(folder.glob("*.jpg")) for folder in folders}
    chosen = []
    for n in range(count):
        name = folders[n % len(folders)].name
        start = 3 * (n // len(folders))
        paths = photos[name][start:start + 3]
        if len(paths) == 3:
            chosen.append((name, [path.read_bytes() for path in paths]))
    return chosen


def one_case(photos: list[bytes], edit: str, seed: int) -> dict:
    a, b, c = photos
    start, cpu_start = time.perf_counter(), time.process_time()
    listing_images = [decoded(a), decoded(b)]
    buyer_images = [decoded(edited_copy(b, edit, seed)), decoded(c)]
    listing = [ListingPhoto(0, position, signature) for position, signature in
               enumerate(signatures_of(listing_images, with_mirror=False))]
    answers = [best_match(query, listing) for query in signatures_of(buyer_images)]
    elapsed_ms = (time.perf_counter() - start) * 1000
    cpu_ms = (time.process_time() - cpu_start) * 1000
    (copy_match, copy), (_, other) = answers
    return {"ms": elapsed_ms, "cpu_ms": cpu_ms, "edit": edit,
            "copy_found": copy.is_duplicate and copy_match.position == 1,
            "other_called_same": other.is_duplicate,
            "copy_score": copy.score, "other_score": other.score,
            "copy_cosine": copy.signals.get("embedding_cosine"),
            "other_cosine": other.signals.get("embedding_cosine")}


def run(args: argparse.Namespace) -> dict:
    chosen = cases(Path(args.photos), args.cases)
    rows, skipped = [], 0
    for n, (_, photos) in enumerate(progress(chosen, len(chosen), "cases")):
        try:
            rows.append(one_case(photos, args.edits[n % len(args.edits)], seed=n))
        except ImageRejected:
            skipped += 1
    missed = [row["edit"] for row in rows if not row["copy_found"]]
    return {
        "cases": len(rows), "skipped_by_intake": skipped,
        "copies_found": sum(row["copy_found"] for row in rows),
        "copies_missed_by_edit": {edit: missed.count(edit) for edit in sorted(set(missed))},
        "other_garments_called_same_photo": sum(row["other_called_same"] for row in rows),
        # wall time depends on what else the machine runs; CPU time of this process less so
        "ms_per_case": percentiles([row["ms"] for row in rows]),
        "cpu_ms_per_case": percentiles([row["cpu_ms"] for row in rows]),
        "copy_cosine": percentiles([row["copy_cosine"] for row in rows]),
        "other_cosine": percentiles([row["other_cosine"] for row in rows]),
        "max_other_score": round(max(row["other_score"] for row in rows), 4),
        "min_copy_score": round(min(row["copy_score"] for row in rows), 4),
        "cores_available": os.cpu_count(),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", required=True, help="a folder of category folders of JPEGs")
    parser.add_argument("--cases", type=int, default=30)
    parser.add_argument("--edits", nargs="+", default=list(DEFAULT_EDITS))
    parser.add_argument("--json", default=None, help="write the JSON result here")
    args = parser.parse_args(argv)
    if args.cases < 1:
        parser.error("--cases must be positive")
    write_json(args.json, run(args))


if __name__ == "__main__":
    main()
