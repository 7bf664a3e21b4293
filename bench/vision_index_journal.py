"""What a save and a stale worker's catch-up cost at catalogue scale, snapshot against
journal (vision.index_journal).

    python -m bench.vision_duplicates --index-journal-only --index-size 1000000 \
        --json bench/out/vision-index-journal.json

builds the 1M-photo index as bench/vision_index_scale.py does (the same generated
embeddings and hashes, bulk-added, trained at IndexSettings.approximate_from), then in a
temporary directory on local disk measures:
  - the first save: a full snapshot, which is what every save wrote before the journal
    (time and bytes: the FAISS files, the id file and the manifest);
  - 100 one-photo saves by one writer: each writes the photo's item file and appends one
    journal record (time and bytes each);
  - a stale copy (loaded before those saves) catching up with refresh(), which replays
    the 100 records, against a full load() of the same state (snapshot + replay);
  - one save of a 10,000-photo batch (the journal's bound) and a stale copy's replay of
    it, which is the most a load ever replays;
  - a compaction: the save past the bound, which writes a fresh snapshot;
  - what vision.index_store.reconcile's first query costs at that size (every signed
    photo id), on SQLite: the cost a journal-only catch-up skips.
Photos added after the build have generated global signals and blank local features (the
replay reads only an item's PDQ hash and embedding). Timings are wall-clock on one FAISS
thread; fsync makes them depend on the disk (BENCH_TMP picks the folder, else the
system's temporary one).
"""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np

from bench.vision_index_scale import SyntheticCatalogue, _progress_bar, _rss_mb, build
from vision.features import LocalFeatures
from vision.global_index import IndexSettings
from vision.index import JOURNAL_LIMIT, DuplicateIndex
from vision.index_journal import read_records
from vision.matching import Signature, View

ONE_PHOTO_SAVES = 100


def _generated_signature(catalogue: SyntheticCatalogue, rng) -> Signature:
    vector, pdq = catalogue.outsider(rng)
    view = View(pdq=pdq, embedding=vector, local=LocalFeatures.empty((64, 64)),
                thumb=np.zeros((32, 32), np.uint8))
    return Signature(pdq_quality=100, phash=np.zeros(8, np.uint8), trim=(0, 0, 0, 0),
                     size=(64, 64), view=view)


def _bytes(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())


def _snapshot_bytes(directory: Path) -> int:
    """The snapshot's files and the manifest (items/ are not rewritten by a snapshot)."""
    return sum(p.stat().st_size for p in directory.iterdir() if p.is_file())


def _timed(call) -> tuple[float, object]:
    began = time.perf_counter()
    result = call()
    return time.perf_counter() - began, result


def _same(a: DuplicateIndex, b: DuplicateIndex, probes: list[Signature]) -> bool:
    return a.ids == b.ids and all(a.candidates(p) == b.candidates(p) for p in probes)


def journal_scale(size: int = 1_000_000, seed: int = 6, show_progress: bool = True) -> dict:
    settings = IndexSettings()
    faiss.omp_set_num_threads(1)
    rng = np.random.default_rng(seed)
    catalogue = SyntheticCatalogue(size, chunk=min(settings.approximate_from, 50_000),
                                   seed=seed)
    progress = _progress_bar(size, show_progress)
    writer, timings, _, _ = build(catalogue, settings, np.array([], np.int64), progress)
    if progress:
        progress.close()
    next_id = size
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as name:
        directory = Path(name)
        snapshot_s, _ = _timed(lambda: writer.save(directory))
        snapshot_bytes = _snapshot_bytes(directory)
        load_s, stale = _timed(lambda: DuplicateIndex.load(directory, settings=settings))

        save_s, save_bytes = [], []
        for _ in range(ONE_PHOTO_SAVES):
            writer.add(next_id, _generated_signature(catalogue, rng))
            next_id += 1
            before = _bytes(directory)
            took, _ = _timed(lambda: writer.save(directory))
            save_s.append(took)
            save_bytes.append(_bytes(directory) - before)
        probes = [writer.signature(i) for i in range(size, size + 10)]

        refresh_s, read_snapshot = _timed(stale.refresh)
        caught_up = _same(stale, writer, probes) and not read_snapshot
        full_load_s, loaded = _timed(lambda: DuplicateIndex.load(directory, settings=settings))
        loaded_same = _same(loaded, writer, probes)
        del loaded

        batch = JOURNAL_LIMIT - ONE_PHOTO_SAVES
        for _ in range(batch):
            writer.add(next_id, _generated_signature(catalogue, rng))
            next_id += 1
        batch_save_s, _ = _timed(lambda: writer.save(directory))
        journal_ids = sum(r.size for r in read_records(directory / writer._journal_path().name)[0])
        batch_refresh_s, _ = _timed(stale.refresh)
        bound_load_s, _ = _timed(lambda: DuplicateIndex.load(directory, settings=settings))
        batch_same = _same(stale, writer, probes)

        writer.add(next_id, _generated_signature(catalogue, rng))   # past the bound
        compaction_s, _ = _timed(lambda: writer.save(directory))
        compacted_bytes = _snapshot_bytes(directory)
        compacted = not writer._journal_path().exists()
        rss = _rss_mb()
        writer = stale = None       # release both copies (2 GB) before the query
        reconcile_query_s = signed_ids_query_s(size, directory)

    return {
        "generated": True,
        "indexed": size,
        "journal_limit_ids": JOURNAL_LIMIT,
        "snapshot_save": {"s": round(snapshot_s, 2), "mb": round(snapshot_bytes / 2**20, 1),
                          "what": "the first save: every file of a snapshot, fsynced; "
                                  "what each save wrote before the journal"},
        "one_photo_save": {"ms": _ms_percentiles(save_s),
                           "bytes": {"min": min(save_bytes), "max": max(save_bytes),
                                     "mean": round(float(np.mean(save_bytes)))},
                           "saves": ONE_PHOTO_SAVES,
                           "what": "fsynced item file + one fsynced journal record"},
        "catch_up_after_100_saves": {
            "refresh_s": round(refresh_s, 3), "full_load_s": round(full_load_s, 2),
            "first_load_s": round(load_s, 2), "refresh_equals_writer": caught_up,
            "load_equals_writer": loaded_same},
        "journal_at_its_bound": {
            "ids": journal_ids, "batch_save_s": round(batch_save_s, 2),
            "replay_of_the_batch_s": round(batch_refresh_s, 2),
            "load_with_full_journal_s": round(bound_load_s, 2),
            "refresh_equals_writer": batch_same},
        "compaction": {"s": round(compaction_s, 2), "mb": round(compacted_bytes / 2**20, 1),
                       "journal_emptied": compacted,
                       "what": "the save past the bound: a fresh snapshot of 1M + 10,001 "
                               "photos (mb: its files, items excluded)"},
        "reconcile_signed_ids_query_s": round(reconcile_query_s, 2),
        "build_s": timings["build_s"],
        "process_rss_mb": rss,
        "faiss_threads": 1,
    }


def signed_ids_query_s(size: int, directory: Path) -> float:
    """reconcile()'s query of every signed photo id, over `size` signature rows in a
    SQLite file (only that table; its foreign keys are not enforced here)."""
    from sqlalchemy import create_engine, insert, select
    from sqlalchemy.orm import Session

    import marketplace_core.listings.models  # noqa: F401  (the foreign keys' tables)
    import marketplace_core.members.models  # noqa: F401
    from vision.models import PhotoSignature, SignatureState
    engine = create_engine(f"sqlite:///{directory / 'signatures.db'}")
    PhotoSignature.__table__.create(engine)
    with engine.begin() as connection:
        for start in range(0, size, 100_000):
            connection.execute(insert(PhotoSignature), [
                {"photo_id": i, "listing_id": i // 4, "seller_id": i // 40, "media_key": "k",
                 "state": SignatureState.INDEXED, "engine_version": "2"}
                for i in range(start, min(size, start + 100_000))])
    with Session(engine) as s:
        took, signed = _timed(lambda: set(s.scalars(select(PhotoSignature.photo_id).where(
            PhotoSignature.state == SignatureState.INDEXED))))
    engine.dispose()
    assert len(signed) == size
    return took


def _ms_percentiles(seconds: list[float]) -> dict:
    ms = np.array(seconds) * 1000
    return {q: round(float(np.percentile(ms, p)), 2)
            for q, p in (("p50", 50), ("p95", 95), ("max", 100))}


def print_journal_summary(result: dict) -> None:
    one, catch = result["one_photo_save"], result["catch_up_after_100_saves"]
    bound, snap = result["journal_at_its_bound"], result["snapshot_save"]
    print(f"\nat {result['indexed']:,} generated photos:")
    print(f"  snapshot save {snap['s']} s, {snap['mb']} MB; one-photo journal save p50 "
          f"{one['ms']['p50']} ms, {one['bytes']['mean']} bytes")
    print(f"  stale copy after {one['saves']} saves: refresh {catch['refresh_s']} s, full "
          f"load {catch['full_load_s']} s (equal: {catch['refresh_equals_writer']}, "
          f"{catch['load_equals_writer']})")
    print(f"  journal at its bound ({bound['ids']} ids): replay {bound['replay_of_the_batch_s']}"
          f" s, load {bound['load_with_full_journal_s']} s; compaction "
          f"{result['compaction']['s']} s")
    print(f"  reconcile's query of every signed id (SQLite): "
          f"{result['reconcile_signed_ids_query_s']} s")
