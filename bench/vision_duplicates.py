"""False flags among distinct photos, and recall of seller-edited copies: ours, PDQ and pHash.

    python -m bench.vision_duplicates --images ../shared/real-photos/clothing-dataset-cc0 \
        --json bench/out/dup-real.json
    python -m bench.vision_duplicates --set studio-cutouts --json bench/out/dup-cutouts.json
    python -m bench.vision_duplicates --set generated-same-pose --json bench/out/dup-gen.json
    python -m bench.vision_duplicates --make-set studio-cutouts /tmp/dupsets/studio-cutouts
    python -m bench.vision_duplicates --make-images bench/out/photos --count 400
    python -m bench.vision_duplicates --index-scale-only --json bench/out/vision-index-scale.json

`--images` takes any folder of JPEG, PNG or WebP photos, searched recursively. Every file
goes through the marketplace's untrusted-image intake (inspect_and_normalise) as in
production; byte-identical files are removed first and refused ones are listed.

1. False flags, the first figure: every distinct photo is indexed (vision.index.DuplicateIndex)
   and queried against all the others, its own id excluded, with `only_duplicates=True` as
   the upload path asks. Any duplicate reported between two distinct photos is a false flag.
   Reported: photos flagged (count and share), pairs, and every pair with its score,
   alignment and signals (in the JSON; the worst are printed). PDQ at Hamming <= 31 (Meta's
   recommended distance) and pHash at <= 6 (the bar the bench fitted on the real CC0 photos
   for zero false pairs) are counted on the same photos.
2. Recall: a seeded sample of `--sources` originals is edited by bench/seller_edits.py (the
   edits sellers make: resizes, recompressions, colour, overlays, crops, pad, rotation,
   mirror, screenshot, collages with other photos of the set). Each copy goes through the
   intake (a refusal, such as a quarter-size copy under the intake's 200 px minimum, is
   reported as skipped with its reason) and is queried against the index of all originals:
   found when the engine calls its source a duplicate. An original other than the source
   (and other than a collage's other tiles) called a duplicate is a wrong match.

`--set NAME` runs on a studio-style hard-negative set (bench/photo_sets.py) under
/tmp/dupsets/NAME, making it first when it is missing; `--make-set NAME DIR` writes one.
`--make-images` renders generated product photos (marketplace_core.seed).
--index-scale-only measures DuplicateIndex.candidates() against --index-size GENERATED
embeddings and hashes (bench/vision_index_scale.py); --index-journal-only what a save and
a stale worker's catch-up cost with the snapshot and with its journal
(bench/vision_index_journal.py).
"""
from __future__ import annotations

# The media package must load before anything imports cv2 (it sets OpenCV's pixel limit).
import marketplace_core.media  # noqa: F401  isort: skip

import argparse
import hashlib
import json
import multiprocessing
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
from bench.photo_sets import DEFAULT_REAL_PHOTOS, DEFAULT_SET_ROOT, SET_NAMES, make_set
from bench.seller_edits import COLLAGE_TILES, EDIT_NAMES, EditNotPossible, make_copy
from bench.vision_index_journal import journal_scale, print_journal_summary
from bench.vision_index_scale import index_scale, print_summary
from marketplace_core.media import ImageRejected, inspect_and_normalise, to_bgr_array
from marketplace_core.media._opencv import cv2
from vision import hashing
from vision.index import DuplicateIndex
from vision.matching import DEFAULT_THRESHOLDS, signatures_of

PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}
GOALS = {"false_flag_share_at_most": 0.001, "pooled_recall": 0.95, "every_edit_recall": 0.90}
FRESH_PROCESSES = multiprocessing.get_context("spawn")
MAX_REPORTED = 50   # duplicates asked of the index per query: more than any photo has


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


# --- the photos ---------------------------------------------------------------------------

def photo_paths(directory: str) -> list[Path]:
    """Every photo under `directory`, recursively (one subfolder per label is common),
    symbolic links followed, in a stable order."""
    root = Path(directory)
    if not root.is_dir():
        raise SystemExit(f"{directory} is not a folder")
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in PHOTO_SUFFIXES
                  and p.is_file())


def distinct_files(paths: list[Path]) -> tuple[list[Path], int]:
    """The paths with byte-identical files removed (the first of each kept), and how many
    were removed: two copies of one file are one photo, not a false flag."""
    seen: set[str] = set()
    kept = []
    for path in paths:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest not in seen:
            seen.add(digest)
            kept.append(path)
    return kept, len(paths) - len(kept)


def _rejection(error: ImageRejected) -> str:
    return f"intake refused it: {error.code}"


def _sign(path: str) -> dict:
    """One original through the intake, then its signature and baseline hashes."""
    try:
        image = _intake_or_raise(Path(path).read_bytes())
    except ImageRejected as error:
        return {"path": path, "rejected": _rejection(error)}
    signature = signatures_of([image], with_mirror=True)[0]
    pdq = hashing.pdq(image)
    return {"path": path, "signature": signature, "pdq": pdq.bits, "pdq_quality": pdq.quality,
            "phash": hashing.phash(image), "size": [image.shape[1], image.shape[0]]}


def _intake_or_raise(data: bytes) -> np.ndarray:
    return to_bgr_array(inspect_and_normalise(data))


# --- querying, in worker processes that each load the saved index once --------------------

_WORKER_INDEX: DuplicateIndex | None = None
_WORKER_NEAR_MISSES = False


def _init_query_worker(directory: str, near_misses: bool) -> None:
    global _WORKER_INDEX, _WORKER_NEAR_MISSES
    _init_worker()
    _WORKER_INDEX = DuplicateIndex.load(directory)
    _WORKER_NEAR_MISSES = near_misses


def _duplicates(signature, exclude: int | None = None) -> list[dict]:
    """What the engine reports as duplicates of `signature`, as the upload path asks
    (`only_duplicates=True`); with near misses, every verified candidate, each marked
    with the engine's call."""
    matches = _WORKER_INDEX.query(signature, k=MAX_REPORTED, exclude=exclude,
                                  only_duplicates=not _WORKER_NEAR_MISSES)
    return [{"id": m.photo_id, "score": round(float(m.score), 4),
             "duplicate": bool(m.is_duplicate), "alignment": m.alignment,
             "fired": list(m.fired),
             "signals": {k: round(float(v), 4) for k, v in m.signals.items()}}
            for m in matches]


def _query_originals(chunk: list[tuple[int, object]]) -> list[tuple[int, list[dict]]]:
    return [(photo_id, _duplicates(signature, exclude=photo_id))
            for photo_id, signature in chunk]


def _query_copies(task: dict) -> list[dict]:
    """Every edit of one source: made, put through the intake (a refusal is a skip with
    its reason), signed and queried against the index of all originals."""
    source = _intake_or_raise(Path(task["path"]).read_bytes())
    others = [_intake_or_raise(Path(p).read_bytes()) for p in task["other_paths"]]
    out = []
    for name in task["edits"]:
        tiles = COLLAGE_TILES.get(name, 1) - 1
        row = {"source": task["id"], "edit": name,
               "co_tiles": task["other_ids"][:tiles]}
        try:
            data = make_copy(name, source, task["seed"], others[:tiles])
            copy = _intake_or_raise(data)
        except (ImageRejected, EditNotPossible) as error:
            reason = (_rejection(error) if isinstance(error, ImageRejected) else str(error))
            out.append({**row, "skipped": reason})
            continue
        signature = signatures_of([copy], with_mirror=True)[0]
        pdq = hashing.pdq(copy)
        out.append({**row, "size": [copy.shape[1], copy.shape[0]],
                    "duplicates": _duplicates(signature), "pdq": pdq.bits,
                    "phash": hashing.phash(copy)})
    return out


# --- counting -----------------------------------------------------------------------------

def false_flags(reported: dict[int, list[dict]], photos: int) -> dict:
    """Distinct photos the engine called duplicates of each other. `reported` maps each
    queried photo's id to the duplicates reported for it (its own id already excluded);
    a pair is counted once whichever side found it, with its best score."""
    pairs: dict[tuple[int, int], dict] = {}
    for query_id, matches in reported.items():
        for match in matches:
            if match["id"] == query_id or not match.get("duplicate", True):
                continue
            key = (min(query_id, match["id"]), max(query_id, match["id"]))
            if key not in pairs or match["score"] > pairs[key]["score"]:
                pairs[key] = {"a": key[0], "b": key[1], "queried": query_id, **match}
    return _flag_summary(sorted(pairs.values(), key=lambda p: -p["score"]), photos)


def hardest_pairs(reported: dict[int, list[dict]], count: int) -> list[dict]:
    """The `count` best-scoring pairs of distinct photos, duplicates or not: where the
    threshold sits against the hardest negatives (asked with --near-misses)."""
    best: dict[tuple[int, int], dict] = {}
    for query_id, matches in reported.items():
        for match in matches:
            key = (min(query_id, match["id"]), max(query_id, match["id"]))
            if match["id"] != query_id and (key not in best
                                            or match["score"] > best[key]["score"]):
                best[key] = {"a": key[0], "b": key[1], "queried": query_id, **match}
    return sorted(best.values(), key=lambda p: -p["score"])[:count]


def _flag_summary(pairs: list[dict], photos: int) -> dict:
    flagged = {p["a"] for p in pairs} | {p["b"] for p in pairs}
    return {"photos_flagged": len(flagged),
            "share_of_photos": round(len(flagged) / photos, 5) if photos else None,
            "pairs": len(pairs), "pair_list": pairs}


def hash_false_flags(bits: np.ndarray, max_distance: int, photos: int) -> dict:
    """Pairs of distinct photos whose hashes lie within `max_distance` bits."""
    distances = hashing.hamming_matrix(bits, bits)
    a, b = np.nonzero(np.triu(distances <= max_distance, k=1))
    pairs = sorted(({"a": int(i), "b": int(j), "distance": int(distances[i, j])}
                    for i, j in zip(a, b, strict=True)), key=lambda p: p["distance"])
    return _flag_summary(pairs, photos)


def recall_table(rows: list[dict], found_key: str) -> dict:
    """Recall per edit and pooled over the copies the intake accepted; an edit with no
    accepted copy has recall None and says why it was skipped."""
    per_edit, skipped = {}, {}
    for name in EDIT_NAMES:
        made = [r for r in rows if r["edit"] == name and "skipped" not in r]
        refused = [r["skipped"] for r in rows if r["edit"] == name and "skipped" in r]
        per_edit[name] = (round(sum(r[found_key] for r in made) / len(made), 4)
                          if made else None)
        if refused:
            skipped[name] = {"copies": len(refused),
                             "reasons": sorted(set(refused))}
    made = [r for r in rows if "skipped" not in r]
    pooled = round(sum(r[found_key] for r in made) / len(made), 4) if made else None
    measured = [v for v in per_edit.values() if v is not None]
    return {"pooled": pooled, "worst_edit": min(measured) if measured else None,
            "per_edit": per_edit, "skipped": skipped, "copies": len(made)}


def score_copies(rows: list[dict], index_pdq: np.ndarray, index_phash: np.ndarray,
                 pdq_distance: int, phash_distance: int) -> None:
    """Marks each copy found / wrongly matched by ours, PDQ and pHash. A wrong match is
    another original called a duplicate of the copy, except a collage's other tiles
    (those are in the copy)."""
    for row in rows:
        if "skipped" in row:
            continue
        allowed = {row["source"], *row["co_tiles"]}
        found_ids = {m["id"] for m in row["duplicates"] if m.get("duplicate", True)}
        row["ours_found"] = row["source"] in found_ids
        row["ours_wrong"] = sorted(found_ids - allowed)
        source_match = [m for m in row["duplicates"] if m["id"] == row["source"]]
        row["ours_score"] = source_match[0]["score"] if source_match else None
        for name, bits, limit, table in (("pdq", row["pdq"], pdq_distance, index_pdq),
                                         ("phash", row["phash"], phash_distance, index_phash)):
            distances = hashing.hamming_matrix(bits.reshape(1, -1), table)[0]
            row[f"{name}_distance"] = int(distances[row["source"]])
            row[f"{name}_found"] = bool(distances[row["source"]] <= limit)
            row[f"{name}_wrong"] = sorted(set(np.flatnonzero(distances <= limit).tolist())
                                          - allowed)


# --- the run ------------------------------------------------------------------------------

def _timed(seconds: dict, stage: str):
    class Stage:
        def __enter__(self):
            self.started = time.perf_counter()

        def __exit__(self, *exc):
            seconds[stage] = round(time.perf_counter() - self.started, 1)
            print(f"{stage}: {seconds[stage]} s", file=sys.stderr, flush=True)
    return Stage()


def run(args) -> dict:
    seconds: dict[str, float] = {}
    with _timed(seconds, "read_and_dedupe"):
        found = photo_paths(args.images)
        paths, identical = distinct_files(found)
        if args.limit:
            random.Random(args.seed).shuffle(paths)
            paths = sorted(paths[:args.limit])
    if len(paths) < 2:
        raise SystemExit(f"{args.images} has {len(paths)} distinct photos; need at least 2")
    # Fresh interpreters, not forks: a fork of a process whose OpenCV or torch thread pools
    # already ran (a test that drew photos first) can hang in the child.
    pool_args = {"max_workers": args.workers, "mp_context": FRESH_PROCESSES}
    with _timed(seconds, "intake_and_sign"), ProcessPoolExecutor(
            initializer=_init_worker, **pool_args) as pool:
        signed = list(pool.map(_sign, [str(p) for p in paths], chunksize=4))
    rejected = [{"path": s["path"], "reason": s["rejected"]} for s in signed if "rejected" in s]
    photos = [s for s in signed if "rejected" not in s]
    index = DuplicateIndex(DEFAULT_THRESHOLDS)
    for photo_id, photo in enumerate(photos):
        index.add(photo_id, photo["signature"])
    index_pdq = np.stack([p["pdq"] for p in photos])
    index_phash = np.stack([p["phash"] for p in photos])

    with tempfile.TemporaryDirectory() as directory:
        index.save(directory)
        worker = {"initializer": _init_query_worker,
                  "initargs": (directory, args.near_misses > 0), **pool_args}
        with _timed(seconds, "all_against_all"), ProcessPoolExecutor(**worker) as pool:
            items = [(i, p["signature"]) for i, p in enumerate(photos)]
            chunks = [items[i:i + 8] for i in range(0, len(items), 8)]
            reported = dict(pair for chunk in pool.map(_query_originals, chunks)
                            for pair in chunk)
        ours = false_flags(reported, len(photos))
        if args.near_misses:
            ours["hardest_pairs"] = hardest_pairs(reported, args.near_misses)
        pdq = hash_false_flags(index_pdq, args.pdq_distance, len(photos))
        phash = hash_false_flags(index_phash, args.phash_distance, len(photos))

        with _timed(seconds, "edited_copies"), ProcessPoolExecutor(**worker) as pool:
            tasks = _copy_tasks(photos, args)
            rows = [row for rows in pool.map(_query_copies, tasks) for row in rows]
    score_copies(rows, index_pdq, index_phash, args.pdq_distance, args.phash_distance)
    names = [str(Path(p["path"]).relative_to(args.images)) if _under(p["path"], args.images)
             else p["path"] for p in photos]
    for result in (ours, pdq, phash):
        for pair in result["pair_list"] + result.get("hardest_pairs", []):
            pair["photo_a"], pair["photo_b"] = names[pair["a"]], names[pair["b"]]
    return {
        "images_dir": str(args.images),
        "counts": {"files": len(found), "byte_identical_removed": identical,
                   "distinct_photos": len(paths), "rejected_by_intake": len(rejected),
                   "indexed": len(photos), "sources_edited": len(tasks),
                   "edits": list(args.edits), "copies": len(rows)},
        "false_flags": {
            "ours": ours,
            f"pdq_{args.pdq_distance}": pdq,
            f"phash_{args.phash_distance}": phash,
        },
        "recall": {method: recall_table(rows, f"{method}_found")
                   for method in ("ours", "pdq", "phash")},
        "wrong_matches_of_copies": {method: sum(1 for r in rows if r.get(f"{method}_wrong"))
                                    for method in ("ours", "pdq", "phash")},
        "copies": [_copy_record(r, names) for r in rows],
        "rejected": rejected,
        "thresholds": {"ours": asdict(DEFAULT_THRESHOLDS), "pdq_distance": args.pdq_distance,
                       "phash_distance": args.phash_distance},
        **({"throughput": _throughput(photos, args)} if args.throughput_seconds else {}),
        "goals": GOALS,
        "seconds": seconds,
        "workers": args.workers,
        "seed": args.seed,
    }


def _throughput(photos: list[dict], args) -> dict:
    return {"what": "one core, end to end from the normalised JPEG; 'hashes' = reduced "
                    "decode + trim + PDQ + pHash, 'signature' = the full index signature",
            **hashing_throughput([p["path"] for p in photos[:20]], args.throughput_seconds),
            "faiss_binary_flat": binary_index_latency(args.index_size, 300, args.seed)}


def _under(path: str, directory: str) -> bool:
    try:
        Path(path).relative_to(directory)
    except ValueError:
        return False
    return True


def _copy_tasks(photos: list[dict], args) -> list[dict]:
    """A seeded sample of sources, each with the other photos its collages tile."""
    rng = random.Random(args.seed)
    ids = list(range(len(photos)))
    sources = sorted(rng.sample(ids, min(args.sources, len(ids))))
    tasks = []
    for source in sources:
        others = rng.sample([i for i in ids if i != source], min(3, len(ids) - 1))
        tasks.append({"id": source, "path": photos[source]["path"], "seed": args.seed + source,
                      "edits": list(args.edits), "other_ids": others,
                      "other_paths": [photos[i]["path"] for i in others]})
    return tasks


def _copy_record(row: dict, names: list[str]) -> dict:
    """A copy's outcome for the JSON, without its hashes."""
    record = {k: v for k, v in row.items() if k not in ("pdq", "phash", "duplicates")}
    record["source_photo"] = names[row["source"]]
    if "duplicates" in row:
        record["wrong_matches"] = [{**m, "photo": names[m["id"]]} for m in row["duplicates"]
                                   if m["id"] in row.get("ours_wrong", [])]
        source = [m for m in row["duplicates"] if m["id"] == row["source"]]
        if source:
            record["source_match"] = source[0]
    return record


# --- the report ---------------------------------------------------------------------------

def _cell(value) -> str:
    return f"{'skipped':>9}" if value is None else f"{value:>9.4f}"


def print_report(result: dict, worst: int = 10) -> None:
    counts = result["counts"]
    print(f"\n{result['images_dir']}: {counts['files']} files, "
          f"{counts['byte_identical_removed']} byte-identical removed, "
          f"{counts['distinct_photos']} distinct photos used, "
          f"{counts['rejected_by_intake']} refused by the intake, {counts['indexed']} indexed")
    print("\nFALSE FLAGS among distinct photos (all against all)")
    for method, flags in result["false_flags"].items():
        share = flags["share_of_photos"] or 0.0
        print(f"  {method:<10} {flags['photos_flagged']:>5} photos flagged "
              f"({100 * share:.2f}%), {flags['pairs']} pairs")
    pairs = result["false_flags"]["ours"]["pair_list"]
    if pairs:
        print(f"\n  ours, worst {min(worst, len(pairs))} of {len(pairs)} pairs:")
    for pair in pairs[:worst]:
        signals = ", ".join(f"{k} {v:g}" for k, v in pair["signals"].items())
        print(f"    {pair['score']:.4f} {pair['alignment']:<16} {pair['photo_a']}  "
              f"{pair['photo_b']}  ({signals})")
    hardest = result["false_flags"]["ours"].get("hardest_pairs", [])
    if hardest:
        print(f"\n  ours, the {min(worst, len(hardest))} best-scoring distinct pairs, flagged "
              "or not:")
    for pair in hardest[:worst]:
        print(f"    {pair['score']:.4f} {'FLAG' if pair['duplicate'] else '    '} "
              f"{pair['photo_a']}  {pair['photo_b']}")
    recall = result["recall"]
    print(f"\nRECALL of edited copies ({counts['sources_edited']} sources, "
          f"{counts['copies']} copies)")
    print(f"  {'edit':<14}" + "".join(f"{m:>9}" for m in recall))
    for name in counts["edits"]:
        print(f"  {name:<14}" + "".join(_cell(recall[m]["per_edit"][name]) for m in recall))
    print(f"  {'pooled':<14}" + "".join(_cell(recall[m]["pooled"]) for m in recall))
    print(f"  {'wrong match':<14}" + "".join(f"{result['wrong_matches_of_copies'][m]:>9}"
                                            for m in recall))
    for name, skip in recall["ours"]["skipped"].items():
        print(f"  skipped: {name} x{skip['copies']}: {'; '.join(skip['reasons'])}")
    print("\nseconds: " + ", ".join(f"{k} {v}" for k, v in result["seconds"].items())
          + f" ({result['workers']} workers)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--images", help="folder of photos (searched recursively)")
    source.add_argument("--set", choices=SET_NAMES,
                        help=f"a hard-negative set under {DEFAULT_SET_ROOT} (made first if "
                             "missing)")
    parser.add_argument("--make-set", nargs=2, metavar=("NAME", "DIR"),
                        help=f"write hard-negative set NAME ({', '.join(SET_NAMES)}) into DIR")
    parser.add_argument("--real-photos", default=DEFAULT_REAL_PHOTOS,
                        help="the real photos the studio-cutouts set is cut from")
    parser.add_argument("--set-size", type=int, default=None,
                        help="photos in a made set (default: the set's own)")
    parser.add_argument("--json", default=None, help="write the JSON result here")
    parser.add_argument("--make-images", metavar="DIR", help="render generated photos here")
    parser.add_argument("--count", type=int, default=400)
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--sources", type=int, default=40,
                        help="originals edited for the recall part")
    parser.add_argument("--limit", type=int, default=0,
                        help="use a seeded sample of this many distinct photos (0: all)")
    parser.add_argument("--edits", default=",".join(EDIT_NAMES),
                        help="comma-separated edits for the recall part")
    parser.add_argument("--pdq-distance", type=int, default=31)
    parser.add_argument("--phash-distance", type=int, default=6)
    parser.add_argument("--worst", type=int, default=10, help="false-flag pairs printed")
    parser.add_argument("--near-misses", type=int, default=0, metavar="N",
                        help="also list the N best-scoring distinct pairs, flagged or not, "
                             "and each copy's score against its source (for choosing "
                             "thresholds; asks the index for every verified candidate)")
    parser.add_argument("--throughput-seconds", type=float, default=0.0,
                        help="also time hashing and signing on one core (0: skip)")
    parser.add_argument("--index-size", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--index-scale-only", action="store_true",
                        help="only measure candidates() at --index-size generated photos")
    parser.add_argument("--index-scale-queries", type=int, default=500,
                        help="queries for the index-scale measurement")
    parser.add_argument("--index-journal-only", action="store_true",
                        help="only measure saves and catch-ups (snapshot against journal) "
                             "at --index-size generated photos")
    args = parser.parse_args(argv)
    if args.index_size < 1 or args.index_scale_queries < 0:
        parser.error("--index-size must be positive and --index-scale-queries not negative")
    args.edits = tuple(e for e in args.edits.split(",") if e)
    unknown = set(args.edits) - set(EDIT_NAMES)
    if unknown or args.sources < 0 or args.limit < 0:
        parser.error(f"unknown edits {sorted(unknown)}; use {', '.join(EDIT_NAMES)}"
                     if unknown else "--sources and --limit must not be negative")
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
    if args.make_set:
        name, directory = args.make_set
        if name not in SET_NAMES:
            parser.error(f"unknown set {name!r}; use one of {', '.join(SET_NAMES)}")
        make_set(name, directory, real_photos=args.real_photos, size=args.set_size,
                 workers=args.workers, seed=args.seed)
    if args.set:
        args.images = str(Path(DEFAULT_SET_ROOT, args.set))
        if not photo_paths_exist(args.images):
            make_set(args.set, args.images, real_photos=args.real_photos, size=args.set_size,
                     workers=args.workers, seed=args.seed)
    if args.images:
        result = run(args)
        result["cores_available"] = os.cpu_count()
        _write(args.json, result)
        print_report(result, args.worst)
    elif not (args.make_images or args.make_set):
        parser.error("give --images DIR or --set NAME (and --json OUT), or --make-set NAME "
                     "DIR, or --make-images DIR")


def photo_paths_exist(directory: str) -> bool:
    return Path(directory).is_dir() and any(photo_paths(directory))


def _write(path: str | None, result: dict) -> None:
    """The JSON result, without printing it (the report is the table)."""
    if path:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        Path(path).write_text(json.dumps(result, indent=1, default=_plain) + "\n")
        print(f"wrote {path}")


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


if __name__ == "__main__":
    main()
