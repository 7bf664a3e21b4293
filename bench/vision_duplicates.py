"""Does our duplicate matching find edited copies at 99.99% precision, against PDQ and pHash?

    python -m bench.vision_duplicates --make-images bench/out/photos --count 400
    python -m bench.vision_duplicates --images bench/out/photos --json bench/out/vision.json
    python -m bench.vision_duplicates --index-scale-only --json bench/out/vision-index-scale.json

`--make-images` renders realistic product photos (1024x1024, about 1 megapixel) with the
project's own generator (marketplace_core.seed), one item per photo, so the benchmark runs
from a clean clone. `--images` takes any folder of JPEG, PNG or WebP photos.

Every photo, and every edited copy, goes through the marketplace's untrusted-image intake
(inspect_and_normalise) first, as in production; files the intake refuses are counted
and skipped. The photos are shuffled (seeded) and split into
  - sources: indexed; each is edited by every edit of vision/edits.py and the copies are
    the queries whose matches we look for;
  - indexed distractors: other photos in the index, which no query copies;
  - unindexed distractors: other photos, edited by every edit too, queried against the
    index, where they must match nothing (an edit like a screenshot frame or padding adds
    the same pixels to unrelated photos, which is what fools global hashes).

How pairs are counted: every (query, indexed photo) pair is one decision, positive when the
query was made from that photo. For each method the threshold is the loosest one at which
precision over all pairs (all edits, all distractors) is still >= the target, and recall is
the share of positive pairs found at it, per edit and pooled. PDQ and pHash score every
pair by Hamming distance on the photo as given (what the published figures measure); ours
scores the pairs its index proposes and verifies (vision.index.DuplicateIndex) and gives
every other pair no match.

It also measures, on one core: end-to-end hashing (decode the normalised 1 MP JPEG at
reduced scale, trim, PDQ, pHash) and the full index signature (plus the embedding and
keypoints) in images a second, and query latency against a FAISS binary flat index of N
random 256-bit hashes (default 1,000,000), and of the full DuplicateIndex query on the
benchmark's index. Under "index_scale" it measures DuplicateIndex.candidates() against an
index of --index-size GENERATED embeddings and hashes (bench/vision_index_scale.py: latency,
memory, build time, recall of the approximate embedding search); --index-scale-only runs
that part alone, and --index-scale-queries 0 leaves it out of a full run.
--index-journal-only measures, at --index-size generated photos, what a save and a stale
worker's catch-up cost with the snapshot and with its journal (bench/vision_index_journal.py).
"""
from __future__ import annotations

# The media package must load before anything imports cv2 (it sets OpenCV's pixel limit).
import marketplace_core.media  # noqa: F401  isort: skip

import argparse
import os
import random
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from pathlib import Path

import numpy as np

from bench.common import percentiles, write_json
from bench.vision_index_journal import journal_scale, print_journal_summary
from bench.vision_index_scale import index_scale, print_summary
from marketplace_core.media import ImageRejected, inspect_and_normalise, to_bgr_array
from marketplace_core.media._opencv import cv2
from vision import hashing
from vision.edits import EDIT_GROUPS, EDIT_NAMES, apply_edit
from vision.index import DuplicateIndex
from vision.matching import DEFAULT_THRESHOLDS, signatures_of

PRECISION_TARGET = 0.9999
PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}
GOALS = {"resize_jpeg_colour": 0.995, "crop5_pad_rotate": 0.90, "pooled": 0.95}


# --- making photos ------------------------------------------------------------------------

def _render(args: tuple) -> list[tuple[str, bytes]]:
    from marketplace_core.seed.photos import angles_for, encode_jpeg, render_product
    specs, size = args
    cv2.setNumThreads(1)
    out = []
    for spec in specs:
        # Mostly covershots, as listings show; some backs and close-ups for variety.
        options = [a for a in ("front", "front", "front", "back", "detail_logo", "label")
                   if a in angles_for(spec.category)]
        angle = options[spec.item_seed % len(options)]
        photo = render_product(spec, angle=angle, size=(size, size), rng_seed=spec.item_seed)
        out.append((f"{spec.item_id}-{angle}.jpg", encode_jpeg(photo, 92)))
    return out


def make_images(directory: str, count: int, size: int, seed: int, workers: int) -> None:
    from marketplace_core.seed.catalog import generate_catalog
    os.makedirs(directory, exist_ok=True)
    specs = generate_catalog(count, seed=seed)
    chunks = [(specs[i::workers * 4], size) for i in range(workers * 4)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for photos in pool.map(_render, chunks):
            for name, data in photos:
                Path(directory, name).write_bytes(data)
    print(f"wrote {count} generated photos ({size}x{size}) to {directory}")


# --- the workers ------------------------------------------------------------------------

def _init_worker() -> None:
    """One thread per library per process: the pool's processes are the parallelism, and
    OpenMP's thread start-up on every single-query FAISS search would dominate it."""
    import faiss
    import torch
    cv2.setNumThreads(1)
    torch.set_num_threads(1)
    faiss.omp_set_num_threads(1)


def _intake(data: bytes) -> np.ndarray | None:
    try:
        return to_bgr_array(inspect_and_normalise(data))
    except ImageRejected:
        return None


def _encode(image: np.ndarray) -> bytes:
    # Edited copies are saved as high-quality JPEGs before upload; the intake re-encodes.
    ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 95])
    return buffer.tobytes()


def _describe(task: tuple) -> list[tuple]:
    """(label, baseline pdq, pdq quality, baseline phash, signature or None) for one photo
    and, when asked, each of its edited copies."""
    path, edits, seed = task
    image = _intake(Path(path).read_bytes())
    if image is None:
        return [("rejected", None, 0, None, None)]
    variants = [("original", image)] if not edits else []
    for name in edits:
        copy = _intake(_encode(apply_edit(name, image, seed)))
        variants.append((name, copy))
    out = []
    usable = [(name, img) for name, img in variants if img is not None]
    signatures = signatures_of([img for _, img in usable], with_mirror=bool(edits))
    for (name, img), signature in zip(usable, signatures, strict=True):
        pdq = hashing.pdq(img)
        out.append((name, pdq.bits, pdq.quality, hashing.phash(img), signature))
    out += [(f"{name}:rejected", None, 0, None, None) for name, img in variants if img is None]
    return out


def _query(task: tuple) -> list[tuple[int, int, float]]:
    directory, queries = task
    index = DuplicateIndex.load(directory)
    out = []
    for row, signature in queries:
        for match in index.query(signature, k=10**6):
            out.append((row, match.photo_id, match.score))
    return out


# --- scoring ----------------------------------------------------------------------------

def loosest_threshold(scores: np.ndarray, positive: np.ndarray, target: float) -> float:
    """The lowest score threshold t at which pairs scoring >= t have precision >= target
    (inf when none has: then nothing is matched)."""
    order = np.argsort(-scores, kind="stable")
    ordered, labels = scores[order], positive[order]
    finite = np.isfinite(ordered)
    ordered, labels = ordered[finite], labels[finite]
    if not len(ordered):
        return float("inf")
    true_pos = np.cumsum(labels)
    taken = np.arange(1, len(labels) + 1)
    # Only the last pair of a run of equal scores is a possible cut.
    last_of_tie = np.append(ordered[1:] != ordered[:-1], True)
    ok = (true_pos / taken >= target) & last_of_tie & (true_pos > 0)
    if not ok.any():
        return float("inf")
    return float(ordered[np.flatnonzero(ok)[-1]])


def recalls(score: np.ndarray, query_source: np.ndarray, query_edit: list[str],
            index_ids: np.ndarray, target: float, threshold: float | None = None) -> dict:
    """Threshold and recall, per edit and pooled, for one method's (query x index) scores;
    at the loosest threshold that keeps the target precision unless one is given."""
    positive = query_source[:, None] == index_ids[None, :]
    if threshold is None:
        threshold = loosest_threshold(score.ravel(), positive.ravel(), target)
    found = (score >= threshold) & positive
    per_edit = {}
    has_source = query_source >= 0
    for name in EDIT_NAMES:
        rows = np.array([e == name for e in query_edit]) & has_source
        per_edit[name] = round(float(found[rows].any(axis=1).mean()), 4) if rows.any() else None
    predicted = score >= threshold
    false_pos = int((predicted & ~positive).sum())
    pooled = float(found[has_source].any(axis=1).mean())
    return {"per_edit": per_edit, "pooled_recall": round(pooled, 4),
            "threshold": threshold, "false_positive_pairs": false_pos,
            "true_positive_pairs": int(found.sum())}


def group_recall(per_edit: dict, names: tuple[str, ...]) -> float | None:
    """The group's worst edit; an edit with no query (the intake refused every copy, as
    it refuses a 0.25 resize of a small photo) is left out and shows as None per edit."""
    measured = [per_edit[n] for n in names if per_edit[n] is not None]
    return round(min(measured), 4) if measured else None


# --- throughput and latency -------------------------------------------------------------

def hashing_throughput(paths: list[str], seconds: float = 8.0) -> dict:
    """Images a second on one core, end to end from the normalised JPEG's bytes: the global
    hashes (reduced decode, trim, PDQ, pHash: vision.hashing.hashes_of_jpeg), and the full
    index signature (full decode, plus the EfficientNet-Lite0 embedding and ORB keypoints)."""
    import torch
    cv2.setNumThreads(1)
    torch.set_num_threads(1)
    normalised = [inspect_and_normalise(Path(p).read_bytes()) for p in paths]
    megapixels = round(float(np.mean([n.width * n.height for n in normalised])) / 1e6, 2)

    def hashes(image):
        hashing.hashes_of_jpeg(image.data)

    def signature(image):
        signatures_of([to_bgr_array(image)], with_mirror=False)

    out = {"megapixels": megapixels}
    for name, call in (("hashes", hashes), ("signature", signature)):
        call(normalised[0])
        done, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            call(normalised[done % len(normalised)])
            done += 1
        out[name] = round(done / (time.perf_counter() - started), 1)
    return out


def binary_index_latency(size: int, queries: int, seed: int) -> dict:
    """PDQ query latency (k=10) against `size` random 256-bit hashes in a FAISS binary flat
    index, one thread; queries are near copies (20 flipped bits) of indexed hashes."""
    import faiss
    faiss.omp_set_num_threads(1)
    rng = np.random.default_rng(seed)
    index = faiss.IndexBinaryFlat(hashing.PDQ_BITS)
    for start in range(0, size, 100_000):
        index.add(rng.integers(0, 256, (min(100_000, size - start), 32), dtype=np.uint8))
    picks = rng.integers(0, size, queries)
    probes = index.reconstruct_n(0, 1)  # warm the code path
    samples = []
    for row in picks:
        probe = index.reconstruct(int(row)).copy()
        bits = np.unpackbits(probe)
        bits[rng.choice(256, 20, replace=False)] ^= 1
        probe = np.packbits(bits).reshape(1, -1)
        started = time.perf_counter()
        _, ids = index.search(probe, 10)
        samples.append((time.perf_counter() - started) * 1000)
        assert ids[0, 0] == row or probes is None
    return {"indexed": size, **percentiles(samples)}


# --- the run ----------------------------------------------------------------------------

def run(args) -> dict:
    paths = sorted(str(p) for p in Path(args.images).iterdir()
                   if p.suffix.lower() in PHOTO_SUFFIXES)
    random.Random(args.seed).shuffle(paths)
    need = args.sources + args.distractors + args.unindexed
    if len(paths) < need:
        sys.exit(f"{args.images} has {len(paths)} photos; this run needs {need} "
                 f"(--sources + --distractors + --unindexed)")
    sources = paths[:args.sources]
    distractors = paths[args.sources:args.sources + args.distractors]
    unindexed = paths[args.sources + args.distractors:need]
    edits = list(EDIT_NAMES)
    tasks = ([(p, [], 0) for p in sources + distractors]
             + [(p, edits, args.seed + i) for i, p in enumerate(sources + unindexed)])
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.workers, initializer=_init_worker) as pool:
        described = list(pool.map(_describe, tasks, chunksize=2))
    describe_s = time.perf_counter() - started

    rejected = sum(1 for rows in described for row in rows if row[0].endswith("rejected"))
    indexed = described[:len(sources) + len(distractors)]
    queried = described[len(sources) + len(distractors):]
    index_ids, index_pdq, index_phash = [], [], []
    index = DuplicateIndex(DEFAULT_THRESHOLDS)
    for photo_id, rows in enumerate(indexed):
        name, pdq, _, phash, signature = rows[0]
        if signature is None:
            continue
        index.add(photo_id, signature)
        index_ids.append(photo_id)
        index_pdq.append(pdq)
        index_phash.append(phash)
    query_source, query_edit, query_sigs, query_pdq, query_phash = [], [], [], [], []
    for task_row, rows in enumerate(queried):
        source_id = task_row if task_row < len(sources) else -1
        if source_id >= 0 and source_id not in index:
            continue
        for name, pdq, _, phash, signature in rows:
            if signature is None:
                continue
            query_source.append(source_id)
            query_edit.append(name)
            query_sigs.append(signature)
            query_pdq.append(pdq)
            query_phash.append(phash)
    index_ids_arr = np.array(index_ids)
    query_source_arr = np.array(query_source)

    started = time.perf_counter()
    ours = np.full((len(query_sigs), len(index_ids)), -np.inf)
    column = {photo_id: col for col, photo_id in enumerate(index_ids)}
    with tempfile.TemporaryDirectory() as directory:
        index.save(directory)
        rows = list(enumerate(query_sigs))
        chunks = [(directory, rows[i::args.workers * 4]) for i in range(args.workers * 4)]
        with ProcessPoolExecutor(max_workers=args.workers, initializer=_init_worker) as pool:
            for found in pool.map(_query, chunks):
                for row, photo_id, score in found:
                    ours[row, column[photo_id]] = score
        _init_worker()  # the latency below is of one query on one core
        loaded = DuplicateIndex.load(directory)
        for sig in query_sigs[:20]:  # warm the item cache, as a long-running worker has it
            loaded.query(sig, k=5)
        latency = [(time.perf_counter(), loaded.query(sig, k=5), time.perf_counter())
                   for sig in query_sigs[:200]]
    query_s = time.perf_counter() - started

    methods = {
        "ours": recalls(ours, query_source_arr, query_edit, index_ids_arr, PRECISION_TARGET),
        "pdq": recalls(-hashing.hamming_matrix(np.stack(query_pdq), np.stack(index_pdq))
                       .astype(float), query_source_arr, query_edit, index_ids_arr,
                       PRECISION_TARGET),
        "phash": recalls(-hashing.hamming_matrix(np.stack(query_phash), np.stack(index_phash))
                         .astype(float), query_source_arr, query_edit, index_ids_arr,
                         PRECISION_TARGET),
    }
    # What the engine calls with its default threshold (the bench's own is fitted to it).
    methods["ours_default"] = recalls(
        ours, query_source_arr, query_edit, index_ids_arr, PRECISION_TARGET,
        threshold=DEFAULT_THRESHOLDS.ncc_threshold)
    for result in methods.values():
        result["groups"] = {group: group_recall(result["per_edit"], names)
                            for group, names in EDIT_GROUPS.items()}
    for hashed in ("pdq", "phash"):
        # Hash scores are negated Hamming distances, so that higher is closer everywhere.
        threshold = methods[hashed]["threshold"]
        methods[hashed]["max_hamming_distance"] = (int(-threshold) if np.isfinite(threshold)
                                                   else None)
    throughput = hashing_throughput(sources[:20], seconds=args.throughput_seconds)
    positives = int((query_source_arr >= 0).sum())
    scale = (index_scale(args.index_size, args.index_scale_queries, args.seed)
             if args.index_scale_queries else None)
    return {
        **({"index_scale": scale} if scale else {}),
        "precision_target": PRECISION_TARGET,
        "methods": methods,
        "images_per_second": throughput["hashes"],
        "cores": 1,
        "throughput": {"what": "one core, end to end from the normalised JPEG; 'hashes' = "
                               "reduced decode + trim + PDQ + pHash, 'signature' = the full index "
                               "signature (adds EfficientNet-Lite0 and ORB)", **throughput},
        "query_latency_ms": {
            "faiss_binary_flat": binary_index_latency(args.index_size, 300, args.seed),
            "duplicate_index_with_verification": {
                "indexed": len(index_ids),
                **percentiles([(end - start) * 1000 for start, _, end in latency])},
        },
        "counts": {"images_dir": args.images, "sources": len(sources),
                   "indexed_distractors": len(distractors), "unindexed_distractors":
                   len(unindexed), "edits": len(edits), "queries": len(query_sigs),
                   "positive_queries": positives, "indexed": len(index_ids),
                   "pairs": len(query_sigs) * len(index_ids), "rejected_by_intake": rejected},
        "goals": GOALS,
        "seconds": {"signatures": round(describe_s, 1), "queries": round(query_s, 1)},
        "workers": args.workers,
        "thresholds": asdict(DEFAULT_THRESHOLDS),
    }


def _threshold_words(method: dict) -> str:
    if "max_hamming_distance" in method:
        return f"ham<={method['max_hamming_distance']}"
    return f"s>={method['threshold']:.3f}"


def _recall_cell(recall: float | None) -> str:
    return f"{'skipped':>13}" if recall is None else f"{recall:>13.4f}"


def print_table(result: dict) -> None:
    methods = result["methods"]
    print(f"\n{'edit':<14}" + "".join(f"{m:>13}" for m in methods))
    for name in EDIT_NAMES:
        print(f"{name:<14}" + "".join(_recall_cell(methods[m]["per_edit"][name])
                                      for m in methods))
    print(f"{'pooled':<14}" + "".join(f"{methods[m]['pooled_recall']:>13.4f}" for m in methods))
    print(f"{'threshold':<14}" + "".join(f"{_threshold_words(methods[m]):>13}" for m in methods))
    print(f"{'false pairs':<14}" + "".join(f"{methods[m]['false_positive_pairs']:>13}"
                                           for m in methods))
    print(f"\nhashing {result['images_per_second']} images/s per core; "
          f"PDQ query p99 {result['query_latency_ms']['faiss_binary_flat']['p99']} ms at "
          f"{result['query_latency_ms']['faiss_binary_flat']['indexed']} hashes")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", help="folder of photos to benchmark on")
    parser.add_argument("--json", default=None, help="write the JSON result here")
    parser.add_argument("--make-images", metavar="DIR", help="render generated photos here")
    parser.add_argument("--count", type=int, default=400)
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--sources", type=int, default=50)
    parser.add_argument("--distractors", type=int, default=200)
    parser.add_argument("--unindexed", type=int, default=30)
    parser.add_argument("--index-size", type=int, default=1_000_000)
    parser.add_argument("--throughput-seconds", type=float, default=8.0)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--index-scale-only", action="store_true",
                        help="only measure candidates() at --index-size generated photos")
    parser.add_argument("--index-scale-queries", type=int, default=500,
                        help="queries for the index-scale measurement (0: skip it)")
    parser.add_argument("--index-journal-only", action="store_true",
                        help="only measure saves and catch-ups (snapshot against journal) "
                             "at --index-size generated photos")
    args = parser.parse_args(argv)
    if args.index_size < 1 or args.index_scale_queries < 0:
        parser.error("--index-size must be positive and --index-scale-queries not negative")
    if args.index_journal_only:
        journal = journal_scale(args.index_size, args.seed)
        write_json(args.json, {"index_journal": journal, "cores_available": os.cpu_count()})
        print_journal_summary(journal)
        return
    if args.index_scale_only:
        scale = index_scale(args.index_size, max(1, args.index_scale_queries), args.seed)
        write_json(args.json, {"index_scale": scale, "cores_available": os.cpu_count()})
        print_summary(scale)
        return
    if args.make_images:
        make_images(args.make_images, args.count, args.size, args.seed, args.workers)
    if args.images:
        result = run(args)
        result["cores_available"] = os.cpu_count()
        write_json(args.json, result)
        print_table(result)
    elif not args.make_images:
        parser.error("give --images DIR (and --json OUT) or --make-images DIR")


if __name__ == "__main__":
    main()
