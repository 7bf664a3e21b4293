"""The duplicate index past its exact size: with approximate_from lowered to 2,000, 3,000
generated photos train the PCA-IVF-SQ8 embedding index, and adds, removals,
replacements, save and load keep working on it. One real photo and its edited copy check
that a duplicate is still found end to end. No database."""
from __future__ import annotations

import marketplace_core.media  # noqa: F401  isort: skip  (sets OpenCV's pixel limit first)

import json

import faiss
import numpy as np
import pytest

from foundation.errors import ValidationFailed
from marketplace_core.media import inspect_and_normalise, to_bgr_array
from marketplace_core.seed import encode_jpeg, generate_catalog, render_product
from tests.builders.signatures import global_signature
from vision import embedding, hashing
from vision.edits import apply_edit
from vision.global_index import FLAT, EmbeddingIndex, IndexSettings, PdqIndex
from vision.index import FORMAT_VERSION, DuplicateIndex
from vision.index_store import _load_or_empty
from vision.matching import Signature, signatures_of

SETTINGS = IndexSettings(approximate_from=2_000, pca_dims=64, lists=64, nprobe=8,
                         pdq_lists=32, pdq_nprobe=8)
APPROXIMATE = EmbeddingIndex.approximate_kind
PHOTOS = 3_000
DIM = embedding.EMBEDDING_DIM


def _unit_rows(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="module")
def vectors() -> np.ndarray:
    """Unit embeddings around 60 clusters, so that the IVF lists mean something."""
    rng = np.random.default_rng(3)
    centres = rng.standard_normal((60, DIM))
    return _unit_rows(centres[rng.integers(0, 60, PHOTOS)]
                      + 0.6 * rng.standard_normal((PHOTOS, DIM)))


@pytest.fixture(scope="module")
def hashes() -> np.ndarray:
    return np.random.default_rng(4).integers(0, 256, (PHOTOS, hashing.PDQ_BITS // 8),
                                             dtype=np.uint8)


def _filled(vectors, hashes, count: int = PHOTOS) -> DuplicateIndex:
    index = DuplicateIndex(settings=SETTINGS)
    for photo_id in range(count):
        index.add(photo_id, global_signature(hashes[photo_id], vectors[photo_id]))
    return index


def _near_copy(vector: np.ndarray, cosine: float, seed: int) -> np.ndarray:
    direction = np.random.default_rng(seed).standard_normal(DIM)
    direction -= (direction @ vector) * vector
    direction /= np.linalg.norm(direction)
    return (cosine * vector + np.sqrt(1 - cosine ** 2) * direction).astype(np.float32)


def _proposed_by_embedding(index: DuplicateIndex, vector: np.ndarray) -> set[int]:
    other = np.zeros(hashing.PDQ_BITS // 8, np.uint8)
    found = index.candidates(global_signature(other, vector))
    return {photo_id for photo_id, signals in found.items() if "embedding" in signals}


def _proposed_by_pdq(index: DuplicateIndex, pdq: np.ndarray) -> set[int]:
    unrelated = np.zeros(DIM, np.float32)
    unrelated[0] = 1.0
    found = index.candidates(global_signature(pdq, unrelated))
    return {photo_id for photo_id, signals in found.items() if "pdq" in signals}


def _flipped(bits: np.ndarray, count: int, seed: int) -> np.ndarray:
    unpacked = np.unpackbits(bits)
    unpacked[np.random.default_rng(seed).choice(hashing.PDQ_BITS, count, replace=False)] ^= 1
    return np.packbits(unpacked)


@pytest.fixture(scope="module")
def approximate(vectors, hashes) -> DuplicateIndex:
    return _filled(vectors, hashes)


def test_the_index_stays_exact_below_the_switch_and_trains_when_it_is_reached(vectors,
                                                                              hashes):
    index = _filled(vectors, hashes, SETTINGS.approximate_from - 1)
    assert index._embeddings.kind == index._pdq.kind == FLAT
    assert index._embeddings.trained_on == index._pdq.trained_on == 0

    index.add(SETTINGS.approximate_from - 1, global_signature(hashes[0], vectors[-1]))

    assert index._embeddings.kind == APPROXIMATE
    assert index._embeddings.trained_on == SETTINGS.approximate_from
    assert index._embeddings.lists == SETTINGS.lists
    assert index._pdq.kind == PdqIndex.approximate_kind
    assert index._pdq.trained_on == SETTINGS.approximate_from
    assert index._pdq.lists == SETTINGS.pdq_lists
    assert len(index._embeddings) == len(index._pdq) == len(index) == SETTINGS.approximate_from


def test_adds_after_the_switch_go_in_without_retraining(approximate, vectors, hashes):
    assert len(approximate) == PHOTOS
    assert approximate._embeddings.trained_on == SETTINGS.approximate_from
    late = PHOTOS - 1                       # added well after training
    assert late in _proposed_by_embedding(approximate, vectors[late])
    assert late in _proposed_by_pdq(approximate, hashes[late])


def test_a_planted_near_duplicate_is_proposed_by_the_approximate_indexes(approximate, vectors,
                                                                         hashes):
    for source in (5, 1_500, 2_900):
        copy = _near_copy(vectors[source], 0.9, seed=source)
        assert source in _proposed_by_embedding(approximate, copy)
        assert source in _proposed_by_pdq(approximate, _flipped(hashes[source], 16, source))


def test_candidates_keep_candidates_per_signal_per_view(approximate, vectors, hashes):
    k = approximate.thresholds.candidates_per_signal
    query = global_signature(hashes[7], vectors[7])
    mirrored = Signature(query.pdq_quality, query.phash, query.trim, query.size, query.view,
                         global_signature(hashes[8], vectors[9]).view)

    found = approximate.candidates(mirrored)

    by_embedding = [p for p, signals in found.items() if "embedding" in signals]
    assert {7, 9} <= set(by_embedding) and len(by_embedding) <= 2 * k
    assert {7, 8} <= {p for p, signals in found.items() if "pdq" in signals}


def test_removal_and_replacement_work_on_the_approximate_index(vectors, hashes):
    index = _filled(vectors, hashes)
    index.remove(100)
    index.add(200, global_signature(hashes[200], vectors[2_999]))   # photo 200 replaced

    assert 100 not in index and len(index) == PHOTOS - 1
    assert 100 not in _proposed_by_embedding(index, vectors[100])
    assert 100 not in _proposed_by_pdq(index, hashes[100])
    assert 200 not in _proposed_by_embedding(index, vectors[200])
    assert {200, 2_999} <= _proposed_by_embedding(index, vectors[2_999])
    assert 200 in _proposed_by_pdq(index, hashes[200])
    assert len(index._embeddings) == len(index._pdq) == len(index)


def test_save_and_load_round_trip_the_approximate_index_incrementally(vectors, hashes,
                                                                      tmp_path):
    index = _filled(vectors, hashes)
    index.save(tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["format_version"] == FORMAT_VERSION == 4
    assert manifest["embedding_index"]["kind"] == APPROXIMATE
    assert manifest["embedding_index"]["trained_on"] == SETTINGS.approximate_from
    assert manifest["pdq_index"]["kind"] == PdqIndex.approximate_kind

    loaded = DuplicateIndex.load(tmp_path, settings=SETTINGS)
    assert loaded._embeddings.kind == APPROXIMATE and len(loaded) == PHOTOS
    assert loaded._pdq.kind == PdqIndex.approximate_kind
    for probe in (0, 1_234, 2_999):
        assert (loaded.candidates(global_signature(hashes[probe], vectors[probe]))
                == index.candidates(global_signature(hashes[probe], vectors[probe])))

    snapshot = tmp_path / f"embedding-{manifest['snapshot']}.faiss"
    unchanged = snapshot.stat().st_mtime_ns
    loaded.save(tmp_path)                   # nothing changed: the FAISS files stay
    assert snapshot.stat().st_mtime_ns == unchanged
    assert not (tmp_path / f"journal-{manifest['snapshot']}.log").exists()

    loaded.remove(10)
    loaded.add(10_000, global_signature(hashes[11], _near_copy(vectors[11], 0.95, seed=11)))
    loaded.save(tmp_path)
    again = DuplicateIndex.load(tmp_path, settings=SETTINGS)

    assert 10 not in again and 10_000 in again and len(again) == PHOTOS
    assert not (tmp_path / "items" / "10.npz").exists()
    assert (tmp_path / "items" / "10000.npz").exists()
    assert 10_000 in _proposed_by_embedding(again, vectors[11])
    assert 10 not in _proposed_by_embedding(again, vectors[10])
    assert 10 not in _proposed_by_pdq(again, hashes[10])
    assert 10_000 in _proposed_by_pdq(again, hashes[11])
    assert again.signature(10_000).pdq.tolist() == hashes[11].tolist()


@pytest.mark.parametrize("kind", [EmbeddingIndex, PdqIndex])
def test_training_does_not_depend_on_the_order_photos_came_in(kind, vectors, hashes):
    rows = vectors if kind is EmbeddingIndex else hashes
    forward, backward = kind(SETTINGS), kind(SETTINGS)
    ids = np.arange(SETTINGS.approximate_from)
    forward.add(ids, rows[ids])
    backward.add(ids[::-1], rows[ids[::-1]])

    assert forward.trained_on == backward.trained_on == SETTINGS.approximate_from
    probes = rows[2_000:2_050]
    assert np.array_equal(forward.search(probes, 10), backward.search(probes, 10))


def test_a_format_2_index_is_refused_and_the_store_rebuilds_it(approximate, tmp_path):
    approximate.save(tmp_path)
    manifest = tmp_path / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"format_version": 4',
                                                     '"format_version": 2'))

    with pytest.raises(ValidationFailed) as refused:
        DuplicateIndex.load(tmp_path, settings=SETTINGS)
    assert refused.value.code == "index_format_mismatch"
    index = _load_or_empty(tmp_path)   # vision.index_store: rebuild from the rows
    assert len(index) == 0


def test_a_manifest_that_misnames_the_embedding_index_is_refused(approximate, tmp_path):
    approximate.save(tmp_path)
    manifest = tmp_path / "manifest.json"
    saved = json.loads(manifest.read_text())
    saved["embedding_index"]["kind"] = FLAT
    manifest.write_text(json.dumps(saved))

    with pytest.raises(ValidationFailed) as refused:
        DuplicateIndex.load(tmp_path, settings=SETTINGS)
    assert refused.value.code == "index_corrupt"


def test_an_edited_copy_of_a_real_photo_is_found_in_the_approximate_index(vectors, hashes):
    spec = generate_catalog(1, seed=62)[0]
    photo = to_bgr_array(inspect_and_normalise(encode_jpeg(
        render_product(spec, angle="front", size=(800, 800), rng_seed=spec.item_seed), 95)))
    copy = to_bgr_array(inspect_and_normalise(encode_jpeg(apply_edit("jpeg_50", photo, 7), 95)))
    original, edited = signatures_of([photo, copy])
    index = _filled(vectors, hashes)
    index.add(50_000, original)

    matches = index.query(edited, k=3, only_duplicates=True)

    assert index._embeddings.kind == APPROXIMATE
    assert [m.photo_id for m in matches] == [50_000]
    assert {"embedding", "correlation"} <= set(matches[0].fired)


@pytest.mark.parametrize("settings", [
    {"pca_dims": 0}, {"pca_dims": DIM + 1}, {"nprobe": 0}, {"lists": True},
    {"approximate_from": 5}, {"training_sample": 2.5}])
def test_bad_index_settings_are_refused(settings):
    with pytest.raises(ValidationFailed) as refused:
        IndexSettings(**settings)
    assert refused.value.code == "invalid_index_settings"


def test_bad_vectors_and_ids_are_refused_with_codes(vectors):
    index = EmbeddingIndex(SETTINGS)
    bad = [((np.array([1]), vectors[:1, :100]), "invalid_embedding"),
           ((np.array([1]), np.full((1, DIM), np.nan, np.float32)), "invalid_embedding"),
           ((np.array([1, 2]), vectors[:1]), "invalid_embedding"),
           ((np.array([-1]), vectors[:1]), "invalid_photo_id"),
           ((np.array([0.5]), vectors[:1]), "invalid_photo_id")]
    with pytest.raises(ValidationFailed) as bad_pdq:
        PdqIndex(SETTINGS).add(np.array([1]), np.zeros((1, 31), np.uint8))
    assert bad_pdq.value.code == "invalid_pdq"
    for (ids, rows), code in bad:
        with pytest.raises(ValidationFailed) as refused:
            index.add(ids, rows)
        assert refused.value.code == code
    with pytest.raises(ValidationFailed) as bad_k:
        index.search(vectors[:1], 0)
    assert bad_k.value.code == "invalid_k"
    assert len(index) == 0


def test_a_bulk_add_of_an_indexed_id_is_refused(vectors, hashes):
    index = _filled(vectors, hashes, 3)
    with pytest.raises(ValidationFailed) as refused:
        index._index_globals(np.array([2, 3]), hashes[2:4], vectors[2:4])
    assert refused.value.code == "photo_already_indexed"
    with pytest.raises(ValidationFailed) as bad_pdq:
        index._index_globals(np.array([3, 4]), hashes[3:5, :16], vectors[3:5])
    assert bad_pdq.value.code == "invalid_pdq"
    assert len(index) == len(index._embeddings) == len(index._pdq) == 3


def test_the_flat_and_approximate_indexes_are_faiss_indexes_of_the_documented_kinds(
        approximate):
    ivf = faiss.extract_index_ivf(approximate._embeddings._index)
    assert ivf.nprobe == SETTINGS.nprobe
    assert isinstance(faiss.downcast_index(approximate._embeddings._index),
                      faiss.IndexPreTransform)
    assert isinstance(approximate._pdq._index, faiss.IndexBinaryIVF)
    assert approximate._pdq._index.nprobe == SETTINGS.pdq_nprobe
