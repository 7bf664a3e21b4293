"""How fast an uploaded photo becomes a duplicate flag (goal: p50 under 1 s with a warm worker).

    python -m bench.vision_flag_latency --photos ../shared/real-photos/clothing-dataset-cc0 \
        --sizes 1000 100000 --queries 20 --uploads 5 --json bench/out/flag_latency.json

Three measurements, all on real photos (read in place from --photos, never copied):

1. The job's work at 1,000 and 100,000 indexed photos, warm (the image stack imported and
   the model loaded, as in a worker that has signed before), on one core (torch and FAISS
   one thread each): for an edited copy of an indexed real photo, from its stored JPEG
   bytes through the intake, the signature, the index add and the verified query, until
   the flags are decided. p50 and p95 over --queries uploads at each size. The index
   holds --real real signatures (computed from photos) and is filled up to the size with
   GENERATED entries: the embeddings and PDQ hashes of bench/vision_index_scale.py's
   synthetic catalogue in the global indexes (so the candidate search runs at full
   size, approximate past IndexSettings.approximate_from), each carrying the local
   features and thumbnails of one of the real photos for verification (so a generated
   candidate costs what a real one does to verify). 100,000 real signatures cannot be
   computed here in time. What this leaves out (the flag row's insert, the signature row,
   the index's journal save, the job's dequeue and fork) is in 3.
2. The vision queue's throughput on one core: photos a second through the same work, in
   the batches a job signs (vision.tasks.CATCH_UP_BATCH), at the smaller size.
3. End to end through the real path, once: `flask run` and `flask worker` started as
   separate processes (tests/deployment.py) on a fresh database and Redis, --uploads
   originals from one seller and then, for each, another seller's edited copy uploaded
   through the HTTP API; from the start of the copy's upload until its
   vision_duplicate_flags row exists (the worker is warm: it has signed the originals).
   Database and Redis: DATABASE_URL and REDIS_URL when set, else SQLite and the embedded
   Redis in a temporary instance folder.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import tempfile
import time
from pathlib import Path

import cv2
import faiss
import numpy as np
import torch
from rq.job import Job
from rq.registry import FinishedJobRegistry
from sqlalchemy import create_engine, text

from bench.common import percentiles
from bench.vision_index_scale import SyntheticCatalogue
from foundation import redis_conn
from foundation.migrations import upgrade
from marketplace_core.media import inspect_and_normalise, to_bgr_array
from tests.deployment import Deployment
from vision.edits import apply_edit
from vision.index import DuplicateIndex
from vision.matching import DEFAULT_THRESHOLDS, Signature, signatures_of
from vision.pipeline import MATCHES_PER_PHOTO
from vision.tasks import CATCH_UP_BATCH

# Edits a seller uses on a stolen photo that the intake accepts at any photo size.
EDITS = ("jpeg_75", "jpeg_50", "crop_10", "crop_20", "pad_20", "watermark", "gamma",
         "noise", "rotate_4", "flip", "screenshot", "blur")
GENERATED_ID_BASE = 10_000_000
SIGNATURE_BATCH = 16


def _say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def real_photo_paths(folder: Path, count: int, seed: int) -> list[Path]:
    paths = sorted(folder.rglob("*.jpg")) + sorted(folder.rglob("*.jpeg"))
    if len(paths) < count:
        raise SystemExit(f"{folder} holds {len(paths)} photos; {count} are needed")
    random.Random(seed).shuffle(paths)
    return paths[:count]


def _through_intake(data: bytes) -> np.ndarray:
    return to_bgr_array(inspect_and_normalise(data))


def _jpeg(image: np.ndarray) -> bytes:
    return cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()


def _signatures(images: list[np.ndarray]) -> list[Signature]:
    signatures: list[Signature] = []
    for start in range(0, len(images), SIGNATURE_BATCH):
        signatures += signatures_of(images[start:start + SIGNATURE_BATCH])
    return signatures


# --- 1 and 2: the job's work at scale ---------------------------------------------------

def filled_index(size: int, real: list[Signature], carriers: list[Signature],
                 seed: int) -> tuple[DuplicateIndex, float]:
    """An index of the real signatures (ids 1..) plus generated entries up to `size`;
    the seconds the generated adds took."""
    index = DuplicateIndex(DEFAULT_THRESHOLDS)
    for photo_id, signature in enumerate(real, start=1):
        index.add(photo_id, signature)
    generated = size - len(real)
    began = time.perf_counter()
    if generated > 0:
        catalogue = SyntheticCatalogue(generated, chunk=20_000, seed=seed)
        for start, vectors, hashes in catalogue.chunks():
            ids = np.arange(start, start + len(vectors), dtype=np.int64) + GENERATED_ID_BASE
            index._index_globals(ids, hashes, vectors)
            for photo_id in ids:
                # Verification reads a real photo's local features and thumbnails.
                index._unsaved[int(photo_id)] = carriers[int(photo_id) % len(carriers)]
    return index, time.perf_counter() - began


def job_work(index: DuplicateIndex, upload: bytes, photo_id: int) -> tuple[int, float, float]:
    """What sign_photos does for one stored photo, minus the database and the save: the
    intake, the signature, the add and the verified query. (duplicates found, ms to the
    signature, ms of the add and query)"""
    started = time.perf_counter()
    signature = signatures_of([_through_intake(upload)])[0]
    signed = time.perf_counter()
    index.add(photo_id, signature)
    found = index.query(signature, k=MATCHES_PER_PHOTO, exclude=photo_id,
                        only_duplicates=True)
    return len(found), (signed - started) * 1000, (time.perf_counter() - signed) * 1000


def batch_work(index: DuplicateIndex, uploads: list[bytes], first_id: int) -> int:
    """A job's batch: every photo through the intake, the signatures in one batch, then
    each added and queried."""
    signatures = _signatures([_through_intake(data) for data in uploads])
    found = 0
    for offset, signature in enumerate(signatures):
        index.add(first_id + offset, signature)
        found += len(index.query(signature, k=MATCHES_PER_PHOTO, exclude=first_id + offset,
                                 only_duplicates=True))
    return found


def at_scale(folder: Path, sizes: list[int], queries: int, real_count: int,
             seed: int) -> dict:
    torch.set_num_threads(1)
    faiss.omp_set_num_threads(1)
    paths = real_photo_paths(folder, real_count + len(EDITS), seed)
    indexed_paths, carrier_paths = paths[:real_count], paths[real_count:]
    _say(f"signing {len(paths)} real photos")
    began = time.perf_counter()
    indexed_images = [_through_intake(p.read_bytes()) for p in indexed_paths]
    real = _signatures(indexed_images)
    carriers = _signatures([_through_intake(p.read_bytes()) for p in carrier_paths])
    signing_s = time.perf_counter() - began
    rng = np.random.default_rng(seed)
    sources = rng.choice(len(indexed_images), size=queries, replace=False)
    uploads = [_jpeg(apply_edit(EDITS[i % len(EDITS)], indexed_images[s], seed + i))
               for i, s in enumerate(sources)]
    job_work(DuplicateIndex(DEFAULT_THRESHOLDS), uploads[0], 1)    # warm: model loaded
    result = {"real_indexed": len(real), "real_signing_s": round(signing_s, 1),
              "queries": queries, "sizes": {}}
    for size in sizes:
        _say(f"filling an index of {size:,} photos")
        index, generated_s = filled_index(size, real, carriers, seed)
        _say(f"{len(uploads)} uploads against {size:,} indexed photos")
        latencies, signing, querying, found = [], [], [], 0
        for i, upload in enumerate(uploads):
            started = time.perf_counter()
            matches, sign_ms, query_ms = job_work(index, upload, 5_000_000 + i)
            latencies.append((time.perf_counter() - started) * 1000)
            signing.append(sign_ms)
            querying.append(query_ms)
            found += matches > 0
        result["sizes"][str(size)] = {
            "indexed": len(index) - len(uploads), "generated": max(0, size - len(real)),
            "embedding_index": index._embeddings.kind, "fill_s": round(generated_s, 1),
            "ms": percentiles(latencies), "signature_ms": percentiles(signing),
            "add_and_query_ms": percentiles(querying), "copies_found": found}
        if size == min(sizes):
            _say("throughput: one job's batch")
            result["throughput"] = throughput(index, uploads)
    return result


def throughput(index: DuplicateIndex, uploads: list[bytes]) -> dict:
    batch = (uploads * (CATCH_UP_BATCH // len(uploads) + 1))[:CATCH_UP_BATCH]
    started = time.perf_counter()
    batch_work(index, batch, 6_000_000)
    seconds = time.perf_counter() - started
    return {"photos": len(batch), "seconds": round(seconds, 2),
            "photos_per_s": round(len(batch) / seconds, 2)}


# --- 3: end to end through a real worker ------------------------------------------------

WORKER_LAYOUTS = {
    "one": ("",),                                    # one worker on every queue
    "split": ("scheduled,default", "photos,vision"),  # README: a worker for image work
}


def end_to_end(folder: Path, uploads: int, seed: int, layout: str = "one") -> dict:
    paths = real_photo_paths(folder, uploads, seed + 1)
    _say(f"end to end: {uploads} originals, then {uploads} copies, through real workers "
         f"({layout}: {WORKER_LAYOUTS[layout]})")
    with tempfile.TemporaryDirectory(prefix="flag-latency-") as tmp:
        database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp}/app.db"
        upgrade(database_url)
        deployment = Deployment(instance=Path(tmp) / "instance", database_url=database_url,
                                redis_url=os.environ.get("REDIS_URL", ""),
                                worker_queues=WORKER_LAYOUTS[layout])
        deployment.instance.mkdir()
        engine = create_engine(database_url)
        deployment.start()
        try:
            result = _uploads_to_flags(deployment, engine, paths, seed)
            result["workers"] = layout
            _add_worker_steps(result["copy_jobs"], deployment)
            return result
        finally:
            deployment.stop()
            engine.dispose()
            if not deployment.redis_url:
                redis_conn.release_embedded(str(deployment.instance))
                redis_conn.stop_embedded_if_unused(str(deployment.instance))


def _uploads_to_flags(deployment: Deployment, engine, paths: list[Path], seed: int) -> dict:
    _, owner = deployment.register()
    _, copier = deployment.register()
    originals = []
    for number, path in enumerate(paths):
        image = _through_intake(path.read_bytes())
        photo_id = _listing_with_photo(deployment, owner, _jpeg(image), f"original {number}")
        deployment.wait_until(lambda p=photo_id: _signed(engine, p), 120,
                              f"original photo {photo_id} to be signed")
        originals.append(image)
    to_flag, api_ms, copy_photo_ids = [], [], []
    for number, image in enumerate(originals):
        copy = _jpeg(apply_edit(EDITS[number % len(EDITS)], image, seed + number))
        started = time.monotonic()
        photo_id = _listing_with_photo(deployment, copier, copy, f"copy {number}")
        copy_photo_ids.append(photo_id)
        api_ms.append((time.monotonic() - started) * 1000)
        flagged = _wait_for_flag(deployment, engine, photo_id, seconds=60)
        to_flag.append(None if not flagged else (flagged - started) * 1000)
        deployment.wait_until(lambda p=photo_id: _signed(engine, p), 120,
                              f"copy {photo_id} to be signed")
    found = [ms for ms in to_flag if ms is not None]
    # A job's work commits before its horse records it finished: wait for the records.
    deployment.wait_until(lambda: all(job["ran_ms"] is not None for job in
                                      _job_phases(deployment, copy_photo_ids)),
                          60, "the copies' jobs to be recorded finished")
    return {"uploads": len(paths), "flagged": len(found),
            "copy_jobs": _job_phases(deployment, copy_photo_ids),
            "upload_to_flag_ms": [round(ms) if ms else None for ms in to_flag],
            "api_calls_ms": [round(ms) for ms in api_ms],
            "flag_ms": percentiles(found) if found else None,
            "database": engine.url.get_backend_name(),
            "redis": "REDIS_URL" if deployment.redis_url else "embedded"}


def _job_phases(deployment: Deployment, photo_ids: list[int]) -> list[dict]:
    """Where each copy's sign_stored_photo job spent its time, from RQ's own record:
    waiting in the queue (enqueued to started: the dequeue and the fork of the work
    horse) and running (started to ended: the model load in the fork, the work, the
    commit)."""
    connection = redis_conn.connect(deployment.redis_url, str(deployment.instance))
    by_photo = {}
    for job_id in FinishedJobRegistry("photos", connection=connection).get_job_ids():
        job = Job.fetch(job_id, connection=connection)
        # Every job runs through foundation.jobs.execute(task name, args, kwargs).
        if len(job.args) == 3 and job.args[0] == "vision.tasks.sign_stored_photo":
            by_photo[job.args[1][0]] = job
    phases = []
    for photo_id in photo_ids:
        job = by_photo.get(photo_id)
        if job is None or not (job.enqueued_at and job.started_at and job.ended_at):
            phases.append({"photo_id": photo_id, "queued_ms": None, "ran_ms": None})
            continue
        phases.append({"photo_id": photo_id, "job_id": job.id,
                       "queued_ms": round((job.started_at - job.enqueued_at).total_seconds()
                                          * 1000),
                       "ran_ms": round((job.ended_at - job.started_at).total_seconds() * 1000)})
    return phases


STEPS = re.compile(r"\[job (?P<job>[0-9a-f-]{36})\] vision\.pipeline: signed \d+ photos "
                   r"\(\d+ flags\), ms: (?P<steps>.*)$")


def _add_worker_steps(phases: list[dict], deployment: Deployment) -> None:
    """The steps of each copy's job as its work horse logged them (vision.pipeline)."""
    logged = {}
    for name in deployment.processes:
        for line in deployment.log(name).splitlines():
            found = STEPS.search(line)
            if found:
                words = found["steps"].split()
                logged[found["job"]] = {step: int(ms) for step, ms in
                                        zip(words[::2], words[1::2], strict=True)}
    for phase in phases:
        phase["steps_ms"] = logged.get(phase.get("job_id"))


def _listing_with_photo(deployment: Deployment, token: str, photo: bytes, title: str) -> int:
    listing = deployment.request("POST", "/api/v1/listings", {
        "title": f"Cotton top {title}", "description": "Worn twice.", "brand": "Fabindia",
        "category": "tops", "size": "M", "condition": "like_new", "colour": "blue",
        "price_paise": 150_000}, token)
    if listing.status != 201:
        raise RuntimeError(f"listing refused: {listing.body}")
    uploaded = deployment.upload(f"/api/v1/listings/{listing.body['id']}/photos", photo, token)
    if uploaded.status != 201:
        raise RuntimeError(f"photo refused: {uploaded.body}")
    published = deployment.request("POST", f"/api/v1/listings/{listing.body['id']}/publish",
                                   token=token)
    if published.status != 200:
        raise RuntimeError(f"publish refused: {published.body}")
    return uploaded.body["id"]


def _signed(engine, photo_id: int) -> bool:
    with engine.connect() as connection:
        return connection.execute(text(
            "SELECT count(*) FROM vision_photo_signatures WHERE photo_id = :id"),
            {"id": photo_id}).scalar() == 1


def _wait_for_flag(deployment: Deployment, engine, photo_id: int,
                   seconds: float) -> float | None:
    """When the copy's flag row was first seen (monotonic), or None once the photo is
    signed without one (or after `seconds`)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        deployment.assert_running()
        if _signed(engine, photo_id) and not _flag_exists(engine, photo_id):
            return None
        if _flag_exists(engine, photo_id):
            return time.monotonic()
        time.sleep(0.01)
    return None


def _flag_exists(engine, photo_id: int) -> bool:
    with engine.connect() as connection:
        return bool(connection.execute(text(
            "SELECT count(*) FROM vision_duplicate_flags WHERE photo_id = :id"),
            {"id": photo_id}).scalar())


# --- the report -------------------------------------------------------------------------

def print_summary(result: dict) -> None:
    scale = result.get("at_scale")
    if scale:
        print(f"job work, warm, one core ({scale['queries']} edited copies of real photos; "
              f"{scale['real_indexed']} real signatures, the rest GENERATED):")
        for size, row in scale["sizes"].items():
            ms = row["ms"]
            print(f"  {int(size):>7,} indexed ({row['generated']:,} generated, "
                  f"{row['embedding_index']} embedding index): p50 {ms['p50']:.0f} ms, "
                  f"p95 {ms['p95']:.0f} ms (signature p50 {row['signature_ms']['p50']:.0f} ms, "
                  f"add and verified query p50 {row['add_and_query_ms']['p50']:.0f} ms); "
                  f"copies found {row['copies_found']}/{scale['queries']}")
        t = scale["throughput"]
        print(f"  throughput: {t['photos_per_s']:.2f} photos/s on one core "
              f"({t['photos']} photos in {t['seconds']} s, one job's batch)")
    e2e = result.get("end_to_end")
    if e2e:
        print(f"end to end (flask run + flask worker, {e2e['database']}, {e2e['redis']} "
              f"Redis): upload start to flag row, ms: {e2e['upload_to_flag_ms']} "
              f"(of which the three API calls: {e2e['api_calls_ms']})")
        print(f"  workers: {e2e['workers']}; the copies' sign_stored_photo jobs, ms in the "
              "queue / running: "
              + ", ".join(f"{j['queued_ms']}/{j['ran_ms']}" for j in e2e["copy_jobs"]))
        for job in e2e["copy_jobs"]:
            if job.get("steps_ms"):
                print(f"    photo {job['photo_id']}: " + ", ".join(
                    f"{step} {ms}" for step, ms in job["steps_ms"].items()))
        if e2e["flag_ms"]:
            print(f"  p50 {e2e['flag_ms']['p50']:.0f} ms, p95 {e2e['flag_ms']['p95']:.0f} ms, "
                  f"{e2e['flagged']} of {e2e['uploads']} copies flagged")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=Path,
                        default=Path("../shared/real-photos/clothing-dataset-cc0"))
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 100_000])
    parser.add_argument("--queries", type=int, default=20)
    parser.add_argument("--real", type=int, default=200,
                        help="real signatures in the index (the rest is generated)")
    parser.add_argument("--uploads", type=int, default=5,
                        help="end-to-end uploads through a real worker (0: skip)")
    parser.add_argument("--workers", choices=sorted(WORKER_LAYOUTS), default="one",
                        help="end to end: one worker on every queue, or split: one on "
                             "scheduled,default and one on photos,vision")
    parser.add_argument("--skip-scale", action="store_true")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    if not args.photos.is_dir():
        parser.error(f"{args.photos} is not a folder of photos")
    if args.queries < 1 or args.real < args.queries or min(args.sizes) < args.real:
        parser.error("need 1 <= --queries <= --real <= every --sizes")
    result: dict = {"photos": str(args.photos)}
    if not args.skip_scale:
        result["at_scale"] = at_scale(args.photos, sorted(args.sizes), args.queries,
                                      args.real, args.seed)
    if args.uploads > 0:
        result["end_to_end"] = end_to_end(args.photos, args.uploads, args.seed, args.workers)
    print_summary(result)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
