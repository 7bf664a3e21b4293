"""`DuplicateIndex`: find the photos a new photo is a copy of, at catalogue scale.

    index = DuplicateIndex.load(path)            # or DuplicateIndex() for a new, empty one
    index.add(photo_id, signature)               # replaces an earlier signature of that id
    matches = index.query(signature, k=5)        # best first; Match.is_duplicate decides
    index.remove(photo_id)
    index.save(path)                             # incremental: writes what changed

Two FAISS indexes answer "which photos might this be": a binary index of PDQ hashes
(Hamming distance) and an index of embeddings (cosine). Each returns
`thresholds.candidates_per_signal` neighbours for the query and for its mirror image; the
union is verified with vision.matching.verify (keypoints, aligned correlation and the
colour check), which is what makes a duplicate call precise.

Both FAISS indexes (vision.global_index) are exact (flat) below
`IndexSettings.approximate_from` photos (50,000), so small catalogues, the tests and the
matching benchmark see exact neighbours. When an index reaches that size it trains on the
photos it holds (deterministically) and moves them into approximate indexes: the
embeddings into PCA-256 -> IVF-4096 -> SQ8 (nprobe 32), the PDQ hashes into a binary
IVF-1024 (nprobe 64); later adds and removals go into those incrementally. The flat
embedding index would be 5 GB at 1M photos and scan all of it per query view; the flat PDQ
index alone took 2.7 ms p50 / 5.1 ms p99 for a view and its mirror. At 1M generated photos the
approximate pair answers candidates() within issue 6's p99 <= 5 ms on one core
(docs/BENCHMARKS.md, `python -m bench.vision_duplicates --index-scale-only`).

Only the global signals live in memory. What verification needs per photo (keypoints, the
thumbnails) is kept in one small file per photo under `items/` and read for the few
candidates of a query, so memory stays at about 5 KB a photo while the indexes are exact
and a few hundred bytes once they are approximate; the last 4,096 items read
stay decoded in an LRU cache, since the same popular photos come up as candidates again.
A candidate is only aligned when its embedding is near enough
(MatchThresholds.verify_min_cosine), and verification stops at the first alignment that
verifies, so most of a query's candidates cost one cheap correlation or nothing.

The directory layout (a format version is in manifest.json):
    manifest.json      ids, thresholds, format version, and which kind each FAISS index
                       is (flat, or trained: on how many photos, with which settings)
    pdq.faissbin       IndexBinaryIDMap2 over IndexBinaryFlat(256), or IndexBinaryIVF
    embedding.faiss    IndexIDMap2 over IndexFlatIP(1280), or PCA -> IndexIVFScalarQuantizer
    items/<id>.npz     the rest of each signature (keypoints, grey and colour thumbnails)
Files are written to a temporary name and renamed, so a crash mid-save leaves the last
complete save readable. The FAISS files are only rewritten when a photo was added or
removed since the last save to that directory (they are about 330 MB at 1M photos).
"""
from __future__ import annotations

import json
import os
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from foundation.errors import NotFound, ValidationFailed
from vision.features import LocalFeatures
from vision.global_index import DEFAULT_SETTINGS, EmbeddingIndex, IndexSettings, PdqIndex
from vision.matching import (
    DEFAULT_THRESHOLDS,
    MatchThresholds,
    Signature,
    View,
    verify,
)

# 2: items carry the colour thumbnail. 3: the FAISS indexes may be the trained approximate
# ones (vision.global_index), described in the manifest. A saved index of another format is
# refused (index_format_mismatch); vision.index_store then rebuilds it from the database rows.
FORMAT_VERSION = 3
_ITEM_CACHE = 4096


@dataclass(frozen=True, slots=True)
class Match:
    photo_id: int
    score: float                 # the verified (colour-checked) aligned correlation, -1..1
    is_duplicate: bool
    alignment: str               # how the photos were aligned ("identity", "keypoints", ...)
    fired: tuple[str, ...]       # signals past their thresholds: pdq, embedding, keypoints,
    #                              correlation
    signals: dict[str, float] = field(default_factory=dict)


class DuplicateIndex:
    def __init__(self, thresholds: MatchThresholds = DEFAULT_THRESHOLDS,
                 directory: str | os.PathLike | None = None,
                 settings: IndexSettings = DEFAULT_SETTINGS):
        self.thresholds = thresholds
        self._pdq = PdqIndex(settings)
        self._embeddings = EmbeddingIndex(settings)
        self._ids: set[int] = set()
        self._directory = Path(directory) if directory else None
        # The FAISS files in _directory match memory: a save that changed no photo need
        # not rewrite them (hundreds of MB at 1M photos). load() sets it.
        self._globals_saved = False
        self._unsaved: dict[int, Signature] = {}
        self._removed: set[int] = set()
        self._cache: OrderedDict[int, Signature] = OrderedDict()

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, photo_id: int) -> bool:
        return int(photo_id) in self._ids

    # --- changes --------------------------------------------------------------------------

    def add(self, photo_id: int, signature: Signature) -> None:
        """Index a photo's signature; a second add of the same id replaces the first."""
        photo_id = _check_id(photo_id)
        if photo_id in self._ids:
            self.remove(photo_id)
        signature = signature.without_mirror()
        self._index_globals(np.array([photo_id], np.int64), signature.pdq.reshape(1, -1),
                            signature.embedding.reshape(1, -1))
        self._removed.discard(photo_id)
        self._unsaved[photo_id] = signature
        self._cache.pop(photo_id, None)

    def remove(self, photo_id: int) -> None:
        photo_id = _check_id(photo_id)
        if photo_id not in self._ids:
            raise NotFound(f"Photo {photo_id} is not in the duplicate index.",
                           code="photo_not_indexed")
        selector = np.array([photo_id], np.int64)
        self._pdq.remove(selector)
        self._embeddings.remove(selector)
        self._ids.discard(photo_id)
        self._globals_saved = False
        self._unsaved.pop(photo_id, None)
        self._cache.pop(photo_id, None)
        self._removed.add(photo_id)

    def _index_globals(self, ids: np.ndarray, pdq: np.ndarray, vectors: np.ndarray) -> None:
        """Add new ids' PDQ hashes and embeddings to the FAISS indexes. add() calls it for
        one photo; the scale benchmark calls it with a million generated ones, which have
        no items (it measures candidates(), not verification)."""
        if not self._ids.isdisjoint(int(i) for i in np.asarray(ids).ravel()):
            raise ValidationFailed("Some of these photos are indexed already; add() "
                                   "replaces one.", code="photo_already_indexed")
        if len(np.asarray(pdq)) != len(np.asarray(vectors)):
            raise ValidationFailed("One PDQ hash per embedding.", code="invalid_pdq")
        PdqIndex._checked_rows(pdq)          # both checked before either index changes
        self._embeddings.add(ids, vectors)
        self._pdq.add(ids, pdq)
        self._ids.update(int(i) for i in ids)
        self._globals_saved = False

    # --- queries --------------------------------------------------------------------------

    def candidates(self, signature: Signature) -> dict[int, set[str]]:
        """Photo ids the global indexes propose, each with the indexes that proposed it."""
        found: dict[int, set[str]] = {}
        if not self._ids:
            return found
        k = min(self.thresholds.candidates_per_signal, len(self._ids))
        views = [signature.view] + ([signature.mirrored] if signature.mirrored else [])
        pdq = np.stack([view.pdq for view in views])
        vectors = np.stack([view.embedding for view in views]).astype(np.float32)
        by_pdq = self._pdq.search(pdq, k)
        by_embedding = self._embeddings.search(vectors, k)
        for name, ids in (("pdq", by_pdq), ("embedding", by_embedding)):
            for photo_id in ids.flatten():
                if photo_id >= 0:
                    found.setdefault(int(photo_id), set()).add(name)
        return found

    def query(self, signature: Signature, k: int = 10, *, exclude: int | None = None,
              only_duplicates: bool = False) -> list[Match]:
        """The verified candidates for `signature`, best first, at most k.

        `exclude` leaves out one id (the photo itself, when re-checking an indexed photo).
        With only_duplicates, candidates under the duplicate threshold are dropped."""
        if k < 1:
            raise ValidationFailed("k must be at least 1.", code="invalid_k")
        matches = []
        for photo_id in self.candidates(signature):
            if photo_id == exclude:
                continue
            match = self._verified(photo_id, signature)
            if match.is_duplicate or not only_duplicates:
                matches.append(match)
        matches.sort(key=lambda m: (-m.score, m.photo_id))
        return matches[:k]

    def _verified(self, photo_id: int, signature: Signature) -> Match:
        result = verify(signature, self.signature(photo_id), self.thresholds)
        t = self.thresholds
        s = result.signals
        fired = [name for name, on in (
            ("pdq", s["pdq_distance"] <= t.pdq_distance
             and signature.pdq_quality >= t.pdq_min_quality),
            ("embedding", s["embedding_cosine"] >= t.embedding_cosine),
            ("keypoints", s["inliers"] >= t.min_inliers),
            ("correlation", result.is_duplicate)) if on]
        return Match(photo_id=photo_id, score=result.score, is_duplicate=result.is_duplicate,
                     alignment=result.alignment, fired=tuple(fired), signals=s)

    def signature(self, photo_id: int) -> Signature:
        """The stored signature of an indexed photo (without its mirrored view)."""
        photo_id = _check_id(photo_id)
        if photo_id not in self._ids:
            raise NotFound(f"Photo {photo_id} is not in the duplicate index.",
                           code="photo_not_indexed")
        if photo_id in self._unsaved:
            return self._unsaved[photo_id]
        if photo_id in self._cache:
            self._cache.move_to_end(photo_id)
            return self._cache[photo_id]
        signature = _read_item(self._item_path(self._directory, photo_id))
        self._cache[photo_id] = signature
        if len(self._cache) > _ITEM_CACHE:
            self._cache.popitem(last=False)
        return signature

    # --- persistence ----------------------------------------------------------------------

    def save(self, directory: str | os.PathLike) -> None:
        """Write the index to `directory`. Saving again to the same directory writes only
        the photos added since and deletes the removed ones' files."""
        directory = Path(directory)
        (directory / "items").mkdir(parents=True, exist_ok=True)
        if self._directory is not None and directory.resolve() != self._directory.resolve():
            for photo_id in self._ids - set(self._unsaved):  # copy items saved elsewhere
                _write_item(self._item_path(directory, photo_id), self.signature(photo_id))
        for photo_id, signature in self._unsaved.items():
            _write_item(self._item_path(directory, photo_id), signature)
        for photo_id in self._removed:
            self._item_path(directory, photo_id).unlink(missing_ok=True)
        same_place = (self._directory is not None
                      and directory.resolve() == self._directory.resolve())
        if not (same_place and self._globals_saved):
            _atomic(directory / "pdq.faissbin",
                    lambda path: self._pdq.write(str(path)))
            _atomic(directory / "embedding.faiss",
                    lambda path: self._embeddings.write(str(path)))
        manifest = {"format_version": FORMAT_VERSION, "ids": sorted(self._ids),
                    "thresholds": asdict(self.thresholds),
                    "pdq_index": self._pdq.describe(),
                    "embedding_index": self._embeddings.describe()}
        _atomic(directory / "manifest.json",
                lambda path: path.write_text(json.dumps(manifest)))
        self._directory = directory
        self._globals_saved = True
        self._unsaved.clear()
        self._removed.clear()

    @classmethod
    def load(cls, directory: str | os.PathLike, thresholds: MatchThresholds | None = None,
             settings: IndexSettings = DEFAULT_SETTINGS) -> DuplicateIndex:
        """The index saved in `directory`, with its saved thresholds unless others given.
        FAISS indexes saved approximate stay so, searched with `settings`' nprobes."""
        directory = Path(directory)
        manifest_path = directory / "manifest.json"
        if not manifest_path.is_file():
            raise NotFound(f"No duplicate index in {directory}.", code="index_not_found")
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("format_version") != FORMAT_VERSION:
            raise ValidationFailed(
                f"Duplicate index format {manifest.get('format_version')} is not "
                f"{FORMAT_VERSION}; rebuild it.", code="index_format_mismatch")
        index = cls(thresholds or MatchThresholds(**manifest["thresholds"]), directory,
                    settings)
        index._pdq = PdqIndex.read(str(directory / "pdq.faissbin"),
                                   manifest.get("pdq_index", {}), settings)
        index._embeddings = EmbeddingIndex.read(str(directory / "embedding.faiss"),
                                                manifest.get("embedding_index", {}), settings)
        index._ids = {int(i) for i in manifest["ids"]}
        index._globals_saved = True
        if len(index._pdq) != len(index._ids) or len(index._embeddings) != len(index._ids):
            raise ValidationFailed(f"Duplicate index in {directory} is inconsistent; "
                                   f"rebuild it.", code="index_corrupt")
        return index

    @staticmethod
    def _item_path(directory: Path | None, photo_id: int) -> Path:
        if directory is None:
            raise NotFound(f"Photo {photo_id} has no saved signature.", code="photo_not_indexed")
        return directory / "items" / f"{photo_id}.npz"


def _check_id(photo_id: int) -> int:
    if isinstance(photo_id, bool) or not isinstance(photo_id, int | np.integer) or photo_id < 0:
        raise ValidationFailed("Photo ids are non-negative integers.", code="invalid_photo_id")
    return int(photo_id)


def _atomic(path: Path, write) -> None:
    temporary = path.with_name(path.name + ".tmp")
    write(temporary)
    os.replace(temporary, path)


def _write_item(path: Path, signature: Signature) -> None:
    view = signature.view
    temporary = path.with_name(path.name + ".tmp.npz")
    np.savez(temporary, pdq_quality=np.int32(signature.pdq_quality), phash=signature.phash,
             trim=np.array(signature.trim, np.int32), size=np.array(signature.size, np.int32),
             pdq=view.pdq, embedding=view.embedding, points=view.local.points,
             descriptors=view.local.descriptors, thumb=view.thumb,
             **({} if view.colour is None else {"colour": view.colour}))
    os.replace(temporary, path)


def _read_item(path: Path) -> Signature:
    with np.load(path, allow_pickle=False) as data:
        size = (int(data["size"][0]), int(data["size"][1]))
        view = View(pdq=data["pdq"], embedding=data["embedding"],
                    local=LocalFeatures(data["points"], data["descriptors"], size),
                    thumb=data["thumb"],
                    colour=data["colour"] if "colour" in data.files else None)
        trim = tuple(int(v) for v in data["trim"])
        return Signature(pdq_quality=int(data["pdq_quality"]), phash=data["phash"],
                         trim=trim, size=size, view=view)
