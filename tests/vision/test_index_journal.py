"""The duplicate index's journal (vision.index_journal): saves append records to it, load
and refresh replay them, a torn record is ignored, compaction writes a fresh snapshot.
Real files and FAISS indexes, generated signatures; no database."""
from __future__ import annotations

import json

import numpy as np
import pytest

from foundation.errors import Conflict, NotFound, ValidationFailed
from tests.builders.signatures import global_signature
from vision import embedding, hashing
from vision.global_index import IndexSettings
from vision.index import DuplicateIndex, _write_item, saved_status
from vision.index_journal import Record, encode, read_records
from vision.index_store import _load_or_empty
from vision.matching import Signature

DIM = embedding.EMBEDDING_DIM


def _signature(seed: int) -> Signature:
    rng = np.random.default_rng(seed)
    vector = rng.standard_normal(DIM).astype(np.float32)
    return global_signature(rng.integers(0, 256, hashing.PDQ_BITS // 8, dtype=np.uint8),
                            vector / np.linalg.norm(vector))


def _filled(count: int = 40, **options) -> DuplicateIndex:
    index = DuplicateIndex(**options)
    for photo_id in range(count):
        index.add(photo_id, _signature(photo_id))
    return index


def _state(index: DuplicateIndex) -> dict:
    """What an index answers: its ids, each one's stored hash, and what each of a few
    probes finds (its own id, by both signals)."""
    return {"ids": sorted(index.ids),
            "pdq": {i: index.signature(i).pdq.tolist() for i in sorted(index.ids)},
            "found": {i: index.candidates(index.signature(i)) for i in sorted(index.ids)[:10]}}


def _manifest(directory) -> dict:
    return json.loads((directory / "manifest.json").read_text())


def _journal(directory):
    return directory / f"journal-{_manifest(directory)['snapshot']}.log"


def _changed(index: DuplicateIndex) -> None:
    """Adds, a removal and a replacement."""
    index.add(100, _signature(100))
    index.add(101, _signature(101))
    index.remove(3)
    index.add(5, _signature(500))


def test_a_small_save_appends_a_record_and_load_replays_it(tmp_path):
    index = _filled()
    index.save(tmp_path)
    snapshot = _manifest(tmp_path)["snapshot"]
    faiss_file = tmp_path / f"embedding-{snapshot}.faiss"
    written = faiss_file.stat().st_mtime_ns

    _changed(index)
    index.save(tmp_path)

    assert _manifest(tmp_path)["snapshot"] == snapshot          # no new snapshot
    assert faiss_file.stat().st_mtime_ns == written
    records, _ = read_records(_journal(tmp_path))
    assert records == [Record(added=(5, 100, 101), removed=(3,))]
    assert not (tmp_path / "items" / "3.npz").exists()
    loaded = DuplicateIndex.load(tmp_path)
    assert _state(loaded) == _state(index)
    assert 3 not in loaded and loaded.signature(5).pdq.tolist() == \
        _signature(500).view.pdq.tolist()
    assert loaded.candidates(_signature(500))[5] == {"pdq", "embedding"}


def test_records_fold_adds_removals_and_replacements_over_several_saves(tmp_path):
    index = _filled()
    index.save(tmp_path)
    index.add(200, _signature(200))
    index.save(tmp_path)
    index.remove(200)                 # its item file goes: the replay must not read it
    index.add(7, _signature(700))
    index.save(tmp_path)
    index.add(200, _signature(201))   # back, with another signature
    index.remove(7)
    index.save(tmp_path)

    records, _ = read_records(_journal(tmp_path))
    assert len(records) == 3
    loaded = DuplicateIndex.load(tmp_path)
    assert _state(loaded) == _state(index)
    assert 7 not in loaded and loaded.signature(200).pdq.tolist() == \
        _signature(201).view.pdq.tolist()


def test_a_torn_last_record_is_ignored_and_overwritten_by_the_next_save(tmp_path):
    index = _filled()
    index.save(tmp_path)
    index.add(100, _signature(100))
    index.save(tmp_path)
    before = _state(DuplicateIndex.load(tmp_path))
    _write_item(tmp_path / "items" / "101.npz", _signature(101))   # crash: items written,
    with open(_journal(tmp_path), "ab") as journal:                # the record half
        journal.write(encode(Record(added=(101,), removed=(4,)))[:-7])

    loaded = DuplicateIndex.load(tmp_path)
    assert _state(loaded) == before and 101 not in loaded and 4 in loaded

    loaded.add(102, _signature(102))
    loaded.save(tmp_path)
    records, end = read_records(_journal(tmp_path))
    assert [r.added for r in records] == [(100,), (102,)]
    assert end == _journal(tmp_path).stat().st_size                # the torn tail is gone
    assert sorted(DuplicateIndex.load(tmp_path).ids) == sorted(index.ids | {102})


def test_a_damaged_record_ends_the_journal(tmp_path):
    index = _filled()
    index.save(tmp_path)
    index.add(100, _signature(100))
    index.save(tmp_path)
    index.add(101, _signature(101))
    index.save(tmp_path)
    data = bytearray(_journal(tmp_path).read_bytes())
    data[-3] ^= 0x01                              # a flipped bit in the last record
    _journal(tmp_path).write_bytes(bytes(data))

    loaded = DuplicateIndex.load(tmp_path)
    assert 100 in loaded and 101 not in loaded


def test_passing_the_bound_writes_a_fresh_snapshot_and_empties_the_journal(tmp_path):
    index = _filled(journal_limit=5)
    index.save(tmp_path)
    first = _manifest(tmp_path)["snapshot"]
    _changed(index)                    # 4 ids: journaled
    index.save(tmp_path)
    assert _manifest(tmp_path)["snapshot"] == first and _journal(tmp_path).exists()

    index.add(102, _signature(102))
    index.add(103, _signature(103))    # 4 + 2 > 5: compacted
    index.save(tmp_path)

    second = _manifest(tmp_path)["snapshot"]
    assert second != first and not _journal(tmp_path).exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == sorted(
        ["manifest.json", f"ids-{second}.npy", f"pdq-{second}.faissbin",
         f"embedding-{second}.faiss"])
    assert _state(DuplicateIndex.load(tmp_path)) == _state(index)


def test_a_stale_copy_catches_up_from_the_journal_alone(tmp_path):
    writer = _filled()
    writer.save(tmp_path)
    stale = DuplicateIndex.load(tmp_path)
    _changed(writer)
    writer.save(tmp_path)
    writer.add(102, _signature(102))
    writer.save(tmp_path)

    assert stale.refresh() is False                   # no snapshot read
    assert _state(stale) == _state(writer)
    assert stale.refresh() is False and _state(stale) == _state(writer)   # nothing new
    stale.add(103, _signature(103))                   # and it can write next
    stale.save(tmp_path)
    assert _state(DuplicateIndex.load(tmp_path)) == _state(stale)


def test_a_stale_copy_reads_a_newer_snapshot_and_its_journal(tmp_path):
    writer = _filled(journal_limit=3)
    writer.save(tmp_path)
    stale = DuplicateIndex.load(tmp_path, journal_limit=3)
    _changed(writer)                  # 4 ids > 3: a new snapshot
    writer.save(tmp_path)
    writer.add(102, _signature(102))  # then a record of it
    writer.save(tmp_path)
    assert read_records(_journal(tmp_path))[0]

    assert stale.refresh() is True
    assert _state(stale) == _state(writer)


def test_a_stale_copy_may_not_save_over_records_it_has_not_seen(tmp_path):
    writer = _filled()
    writer.save(tmp_path)
    stale = DuplicateIndex.load(tmp_path)
    writer.add(100, _signature(100))
    writer.save(tmp_path)

    stale.add(101, _signature(101))
    with pytest.raises(Conflict) as refused:
        stale.save(tmp_path)
    assert refused.value.code == "index_stale"
    with pytest.raises(Conflict) as unsaved:
        stale.refresh()
    assert unsaved.value.code == "index_has_unsaved_changes"
    assert 101 not in DuplicateIndex.load(tmp_path)


def test_a_crash_before_the_manifest_leaves_the_last_snapshot_readable(tmp_path):
    index = _filled()
    index.save(tmp_path)
    index.add(100, _signature(100))
    index.save(tmp_path)
    before = _state(DuplicateIndex.load(tmp_path))
    # A compaction killed after its FAISS and id files, before the manifest's rename:
    # a new snapshot's files (here damaged ones) that no manifest names.
    for name in ("ids-0123456789abcdef.npy", "pdq-0123456789abcdef.faissbin",
                 "embedding-0123456789abcdef.faiss", "manifest.json.tmp"):
        (tmp_path / name).write_bytes(b"half written")

    loaded = DuplicateIndex.load(tmp_path)
    assert _state(loaded) == before
    loaded.journal_limit = 0          # the next compaction sweeps the leftovers away
    loaded.add(101, _signature(101))
    loaded.save(tmp_path)
    assert not list(tmp_path.glob("*0123456789abcdef*"))
    assert 101 in DuplicateIndex.load(tmp_path)


def test_a_save_elsewhere_or_after_a_bulk_add_is_a_snapshot(tmp_path):
    index = _filled()
    index.save(tmp_path / "a")
    index.add(100, _signature(100))
    index.save(tmp_path / "b")        # another directory: a whole snapshot there
    assert not _journal(tmp_path / "b").exists()
    assert _state(DuplicateIndex.load(tmp_path / "b")) == _state(index)

    generated = np.random.default_rng(9).standard_normal((3, DIM)).astype(np.float32)
    index._index_globals(np.array([300, 301, 302]), np.zeros((3, 32), np.uint8),
                         generated / np.linalg.norm(generated, axis=1, keepdims=True))
    snapshot = _manifest(tmp_path / "b")["snapshot"]
    index.save(tmp_path / "b")        # no items to replay those from: a snapshot
    assert _manifest(tmp_path / "b")["snapshot"] != snapshot
    assert {300, 301, 302} <= DuplicateIndex.load(tmp_path / "b").ids


def test_the_switch_to_approximate_is_written_as_a_snapshot_never_journaled(tmp_path):
    settings = IndexSettings(approximate_from=60, pca_dims=16, lists=4, nprobe=4,
                             pdq_lists=4, pdq_nprobe=4, min_points_per_list=5)
    index = _filled(59, settings=settings)
    index.save(tmp_path)
    flat = _manifest(tmp_path)["snapshot"]
    index.add(59, _signature(59))      # the 60th photo: trains
    index.save(tmp_path)

    assert _manifest(tmp_path)["snapshot"] != flat
    assert _manifest(tmp_path)["embedding_index"]["kind"] != "flat"
    loaded = DuplicateIndex.load(tmp_path, settings=settings)
    assert sorted(loaded.ids) == list(range(60))


def test_format_3_is_refused_and_the_store_rebuilds(tmp_path):
    index = _filled(3)
    index.save(tmp_path)
    manifest = _manifest(tmp_path)
    manifest["format_version"] = 3
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))

    with pytest.raises(ValidationFailed) as refused:
        DuplicateIndex.load(tmp_path)
    assert refused.value.code == "index_format_mismatch"
    rebuilt = _load_or_empty(tmp_path)
    assert len(rebuilt) == 0


def test_a_negative_journal_limit_is_refused():
    with pytest.raises(ValidationFailed) as refused:
        DuplicateIndex(journal_limit=-1)
    assert refused.value.code == "invalid_journal_limit"


def test_a_record_whose_item_is_missing_is_refused_and_the_copy_kept(tmp_path):
    writer = _filled()
    writer.save(tmp_path)
    stale = DuplicateIndex.load(tmp_path)
    writer.add(100, _signature(100))
    writer.remove(4)
    writer.save(tmp_path)
    (tmp_path / "items" / "100.npz").unlink()          # damaged on disk

    with pytest.raises(ValidationFailed) as refused:
        stale.refresh()
    assert refused.value.code == "index_corrupt"
    assert 4 in stale and 100 not in stale and len(stale) == 40


def test_a_save_over_a_lost_manifest_writes_a_snapshot_of_memory(tmp_path):
    index = _filled()
    index.save(tmp_path)
    (tmp_path / "manifest.json").write_text("{not json")
    index.add(100, _signature(100))
    index.save(tmp_path)

    assert _state(DuplicateIndex.load(tmp_path)) == _state(index)


def test_a_stale_copy_may_not_compact_over_records_it_has_not_seen(tmp_path):
    writer = _filled()
    writer.save(tmp_path)
    stale = DuplicateIndex.load(tmp_path, journal_limit=0)   # its every save compacts
    writer.add(100, _signature(100))
    writer.save(tmp_path)

    stale.add(101, _signature(101))
    with pytest.raises(Conflict) as refused:
        stale.save(tmp_path)
    assert refused.value.code == "index_stale"
    assert 100 in DuplicateIndex.load(tmp_path)


def test_the_saved_status_counts_the_snapshot_and_its_journal_without_loading(tmp_path):
    with pytest.raises(NotFound):
        saved_status(tmp_path)
    index = _filled()
    index.save(tmp_path)
    status = saved_status(tmp_path)
    assert (status.photos, status.journal_records, status.journal_ids) == (40, 0, 0)
    assert (status.embedding_kind, status.trained_on) == ("flat", 0)
    assert status.snapshot == _manifest(tmp_path)["snapshot"] and status.snapshot_bytes > 0

    _changed(index)                   # +100 +101 -3, 5 replaced
    index.save(tmp_path)
    index.add(102, _signature(102))
    index.remove(102)                 # added and removed again: not a photo
    index.remove(9)
    index.save(tmp_path)
    status = saved_status(tmp_path, journal_limit=20)
    assert status.photos == len(index) == 40
    assert (status.journal_records, status.journal_ids) == (2, 6)   # 102 named as removed
    assert status.journal_share == 6 / 20


def test_the_saved_status_of_a_trained_index_names_its_kinds(tmp_path):
    settings = IndexSettings(approximate_from=60, lists=4, pdq_lists=4, pca_dims=16,
                             min_points_per_list=10)
    index = _filled(70, settings=settings)
    index.save(tmp_path)
    status = saved_status(tmp_path)
    assert (status.pdq_kind, status.embedding_kind) == ("binary_ivf", "pca_ivf_sq8")
    assert (status.trained_on, status.approximate_from, status.photos) == (60, 60, 70)
