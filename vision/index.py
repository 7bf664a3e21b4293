"""`DuplicateIndex`: find the photos a new photo is a copy of, at catalogue scale.

    index = DuplicateIndex.load(path)            # or DuplicateIndex() for a new, empty one
    index.add(photo_id, signature)               # replaces an earlier signature of that id
    matches = index.query(signature, k=5)        # best first; Match.is_duplicate decides
    index.remove(photo_id)
    index.save(path)                             # incremental: a journal record
    index.refresh()                              # catch up with another writer's saves

Two FAISS indexes answer "which photos might this be": a binary index of PDQ hashes
(Hamming distance) and an index of embeddings (cosine). Each returns
`thresholds.candidates_per_signal` neighbours for the query, its mirror image and each
tile of a collage; the union is verified with vision.matching.verify (keypoint inliers,
aligned fine detail and CIELAB colour), which is what makes a duplicate call precise.

Both FAISS indexes (vision.global_index) are exact (flat) below
`IndexSettings.approximate_from` photos (50,000), so small catalogues, the tests and the
matching benchmark see exact neighbours. When an index reaches that size it trains on the
photos it holds (deterministically) and moves them into approximate indexes: the
embeddings into PCA-256 -> IVF-4096 -> SQ8 (nprobe 32), the PDQ hashes into a binary
IVF-1024 (nprobe 64); later adds and removals go into those incrementally. The flat
embedding index would be 5 GB at 1M photos and scan all of it per query view; the flat PDQ
index alone took 2.7 ms p50 / 5.1 ms p99 for a view and its mirror. At 1M generated photos the
approximate pair answers candidates() within the goal of p99 <= 5 ms on one core
(docs/BENCHMARKS.md, `python -m bench.vision_duplicates --index-scale-only`).

Only the global signals live in memory. What verification needs per photo (keypoints, the
thumbnails) is kept in one small file per photo under `items/` and read for the few
candidates of a query, so memory stays at about 5 KB a photo while the indexes are exact
and a few hundred bytes once they are approximate; the last 4,096 items read
stay decoded in an LRU cache, since the same popular photos come up as candidates again.
A candidate is only aligned when its embedding is near enough
(MatchThresholds.verify_min_cosine), and verification stops at the first alignment that
verifies, so most of a query's candidates cost one cheap correlation or nothing.

The directory layout (format 4; a snapshot is named by a random id in its manifest):
    manifest.json            format version, thresholds, the snapshot's id, and which kind
                             each FAISS index is (flat, or trained: on how many photos,
                             with which settings)
    ids-<snap>.npy           the snapshot's photo ids (int64)
    pdq-<snap>.faissbin      IndexBinaryIDMap2 over IndexBinaryFlat(256), or IndexBinaryIVF
    embedding-<snap>.faiss   IndexIDMap2 over IndexFlatIP(1280), or PCA -> IVF-SQ8
    journal-<snap>.log       the saves since the snapshot, one checksummed record each
                             (the ids added, the ids removed: vision.index_journal)
    items/<id>.npz           the rest of each signature (keypoints, the detail and
                             colour thumbnails), and the PDQ hash and embedding a replay reads

load() reads the snapshot the manifest names and replays its journal; refresh() replays
only the records a copy has not seen (or reads the newer snapshot when another writer
wrote one). A save that changed photos appends one record (the items first, then the
record, flushed to disk; the removed photos' items are deleted after it) while the
journal stays within `journal_limit` ids (JOURNAL_LIMIT, 10,000); past it, or when an
index switched to approximate, or when saved to another directory, the save writes a new
snapshot: every file under the new id, flushed, then the manifest renamed into place,
then the old snapshot's files deleted. A crash at any point leaves the last complete
snapshot and the complete records of its journal readable; a torn last record is
ignored, and the next save writes over it. At 1M photos a snapshot is about 340 MB and a
journaled one-photo save a few kilobytes (docs/BENCHMARKS.md).
"""
from __future__ import annotations

import json
import os
import uuid
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from foundation.errors import Conflict, NotFound, ValidationFailed
from foundation.files import fsync_directory
from vision.global_index import DEFAULT_SETTINGS, EmbeddingIndex, IndexSettings, PdqIndex
from vision.index_journal import Record, append_record, final_states, read_records
from vision.matching import (
    DEFAULT_THRESHOLDS,
    MatchThresholds,
    Signature,
    stored_arrays,
    verify,
    view_of_arrays,
)

# 2: items carry the colour thumbnail. 3: the FAISS indexes may be the trained approximate
# ones (vision.global_index), described in the manifest. A saved index of another format is
# refused (index_format_mismatch); vision.index_store then rebuilds it from the database rows.
# 4: a snapshot (files named by its id, the ids in a .npy) plus a journal of later saves.
FORMAT_VERSION = 4
# The most ids the journal records before a save writes a fresh snapshot instead. Replaying
# a journaled id reads its item file; at this bound a full load replays 10,000 of them
# (docs/BENCHMARKS.md: what that costs beside reading a 1M-photo snapshot).
JOURNAL_LIMIT = 10_000
_ITEM_CACHE = 4096


@dataclass(frozen=True, slots=True)
class Match:
    photo_id: int
    score: float                 # the verified score (matching.combined_score), -1..1
    is_duplicate: bool
    alignment: str               # how the photos were aligned ("identity", "keypoints", ...)
    fired: tuple[str, ...]       # signals past their thresholds: pdq, embedding, keypoints,
    #                              correlation
    signals: dict[str, float] = field(default_factory=dict)


class DuplicateIndex:
    def __init__(self, thresholds: MatchThresholds = DEFAULT_THRESHOLDS,
                 directory: str | os.PathLike | None = None,
                 settings: IndexSettings = DEFAULT_SETTINGS, *,
                 journal_limit: int = JOURNAL_LIMIT):
        if isinstance(journal_limit, bool) or not isinstance(journal_limit, int) \
                or journal_limit < 0:
            raise ValidationFailed("journal_limit must be a non-negative integer.",
                                   code="invalid_journal_limit")
        self.thresholds = thresholds
        self.journal_limit = journal_limit
        self._settings = settings
        self._pdq = PdqIndex(settings)
        self._embeddings = EmbeddingIndex(settings)
        self._ids: set[int] = set()
        self._directory = Path(directory) if directory else None
        # Which snapshot in _directory memory is, and how far into its journal: a save
        # appends one record to it, refresh() replays only what lies past the offset.
        self._snapshot: str | None = None
        self._snapshot_kinds: dict = {}
        self._journal_offset = 0
        self._journal_ids = 0
        # Photos bulk-added without items (the scale benchmark) cannot be journaled.
        self._needs_snapshot = False
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
        self._add_globals(np.array([photo_id], np.int64), signature.pdq.reshape(1, -1),
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
        self._unsaved.pop(photo_id, None)
        self._cache.pop(photo_id, None)
        self._removed.add(photo_id)

    def _index_globals(self, ids: np.ndarray, pdq: np.ndarray, vectors: np.ndarray) -> None:
        """Bulk-add new ids' PDQ hashes and embeddings, without items: the scale benchmark
        adds a million generated ones (it measures candidates(), not verification). With
        no items to replay them from, the next save writes a snapshot."""
        self._add_globals(ids, pdq, vectors)
        self._needs_snapshot = True

    def _add_globals(self, ids: np.ndarray, pdq: np.ndarray, vectors: np.ndarray) -> None:
        if not self._ids.isdisjoint(int(i) for i in np.asarray(ids).ravel()):
            raise ValidationFailed("Some of these photos are indexed already; add() "
                                   "replaces one.", code="photo_already_indexed")
        if len(np.asarray(pdq)) != len(np.asarray(vectors)):
            raise ValidationFailed("One PDQ hash per embedding.", code="invalid_pdq")
        PdqIndex._checked_rows(pdq)          # both checked before either index changes
        self._embeddings.add(ids, vectors)
        self._pdq.add(ids, pdq)
        self._ids.update(int(i) for i in ids)

    # --- queries --------------------------------------------------------------------------

    def candidates(self, signature: Signature) -> dict[int, set[str]]:
        """Photo ids the global indexes propose, each with the indexes that proposed it."""
        found: dict[int, set[str]] = {}
        if not self._ids:
            return found
        k = min(self.thresholds.candidates_per_signal, len(self._ids))
        views = [view for whole in (signature, *signature.parts)
                 for view in (whole.view, whole.mirrored) if view is not None]
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

    @property
    def ids(self) -> frozenset[int]:
        return frozenset(self._ids)

    def save(self, directory: str | os.PathLike) -> None:
        """Write the index's changes to `directory`: one journal record when it holds this
        index's snapshot and the journal stays within `journal_limit` ids, else a fresh
        snapshot (which empties the journal). Nothing is written when nothing changed."""
        directory = Path(directory)
        (directory / "items").mkdir(parents=True, exist_ok=True)
        if self._journal_applies(directory):
            if self._unsaved or self._removed:
                self._append_to_journal(directory)
            return
        if self._saved_here_before(directory):
            self._refuse_if_stale(directory)
        self._write_snapshot(directory)

    def refresh(self) -> bool:
        """Catch up with what other writers saved to this index's directory since it was
        loaded or last refreshed: replay only the journal's new records while the snapshot
        is the one it knows, else read the newer snapshot and its journal. True when it
        read a snapshot."""
        if self._unsaved or self._removed or self._needs_snapshot:
            raise Conflict("The duplicate index has unsaved changes; save it before "
                           "refreshing.", code="index_has_unsaved_changes")
        if self._directory is None or self._snapshot is None:
            raise NotFound("This duplicate index was never saved or loaded.",
                           code="index_not_found")
        manifest = _read_manifest(self._directory)
        read_snapshot = manifest["snapshot"] != self._snapshot
        if read_snapshot:
            self._read_snapshot(self._directory, manifest)
        self._replay_journal()
        return read_snapshot

    @classmethod
    def load(cls, directory: str | os.PathLike, thresholds: MatchThresholds | None = None,
             settings: IndexSettings = DEFAULT_SETTINGS,
             journal_limit: int = JOURNAL_LIMIT) -> DuplicateIndex:
        """The index saved in `directory` (its snapshot, then its journal replayed), with
        its saved thresholds unless others given. FAISS indexes saved approximate stay so,
        searched with `settings`' nprobes."""
        directory = Path(directory)
        manifest = _read_manifest(directory)
        index = cls(thresholds or MatchThresholds(**manifest["thresholds"]), directory,
                    settings, journal_limit=journal_limit)
        index._read_snapshot(directory, manifest)
        index._replay_journal()
        return index

    # --- the journal ----------------------------------------------------------------------

    def _saved_here_before(self, directory: Path) -> bool:
        return (self._snapshot is not None and self._directory is not None
                and directory.resolve() == self._directory.resolve())

    def _refuse_if_stale(self, directory: Path) -> bool:
        """Refuse (index_stale) to save over what another writer saved since this copy
        read the directory: a new snapshot, or records past our offset. False when the
        manifest is lost or damaged: memory is then the last complete state to write."""
        try:
            on_disk = _read_manifest(directory)["snapshot"]
        except (NotFound, ValidationFailed, ValueError, KeyError):
            return False
        if on_disk != self._snapshot or read_records(self._journal_path(),
                                                     self._journal_offset)[0]:
            raise Conflict("Another writer saved the duplicate index since this copy read "
                           "it; refresh it before saving.", code="index_stale")
        return True

    def _journal_applies(self, directory: Path) -> bool:
        """Whether this save can be a journal record. Not when: the directory holds another
        index (or none); photos were bulk-added without items to replay them from; an
        index switched to approximate (a replay must never train); the bound is passed."""
        return (self._saved_here_before(directory)
                and not self._needs_snapshot
                and self._describe() == self._snapshot_kinds
                and self._journal_ids + len(self._unsaved) + len(self._removed)
                <= self.journal_limit)

    def _append_to_journal(self, directory: Path) -> None:
        if not self._refuse_if_stale(directory):
            self._write_snapshot(directory)
            return
        self._write_unsaved_items(directory)   # on disk before the record names them
        record = Record(tuple(sorted(self._unsaved)), tuple(sorted(self._removed)))
        self._journal_offset = append_record(self._journal_path(), self._journal_offset,
                                             record)
        self._journal_ids += record.size
        self._delete_items(directory, self._removed)   # after: the record no longer needs them
        self._unsaved.clear()
        self._removed.clear()

    def _replay_journal(self) -> None:
        """Apply the journal's records past the offset memory reflects. Records are folded
        into each id's last state first, so an id added and later removed is never read
        (its item file is gone)."""
        records, end = read_records(self._journal_path(), self._journal_offset)
        if not records:
            self._journal_offset = end
            return
        final = final_states(records)
        added = np.array([i for i, kept in final.items() if kept], np.int64)
        if len(added):   # read before memory changes: a missing item leaves it as it was
            pdq, vectors = self._read_globals(added)
        present = np.array([i for i in final if i in self._ids], np.int64)
        if len(present):
            self._pdq.remove(present)
            self._embeddings.remove(present)
            self._ids.difference_update(int(i) for i in present)
        for photo_id in final:
            self._cache.pop(photo_id, None)
        if len(added):
            self._add_globals(added, pdq, vectors)
        self._journal_offset = end
        self._journal_ids += sum(record.size for record in records)

    def _read_globals(self, photo_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pdq, vectors = [], []
        for photo_id in photo_ids:
            path = self._item_path(self._directory, int(photo_id))
            try:
                with np.load(path, allow_pickle=False) as data:   # reads only these two
                    pdq.append(data["pdq"])
                    vectors.append(data["embedding"])
            except FileNotFoundError:
                raise ValidationFailed(f"The duplicate index's journal names photo "
                                       f"{photo_id}, whose item file is missing; rebuild it.",
                                       code="index_corrupt") from None
        return np.stack(pdq), np.stack(vectors)

    def _journal_path(self) -> Path:
        return self._directory / f"journal-{self._snapshot}.log"

    # --- the snapshot ---------------------------------------------------------------------

    def _write_snapshot(self, directory: Path) -> None:
        """Every file of a new snapshot under new names, then the manifest naming them (the
        one rename that switches), then the old snapshot's files: a crash anywhere leaves
        the last complete snapshot and its journal readable."""
        if self._directory is not None and directory.resolve() != self._directory.resolve():
            for photo_id in self._ids - set(self._unsaved):  # copy items saved elsewhere
                _write_item(self._item_path(directory, photo_id), self.signature(photo_id))
        self._write_unsaved_items(directory)
        snapshot = uuid.uuid4().hex[:16]
        _durably(directory / f"ids-{snapshot}.npy",
                 lambda path: _save_npy(path, np.array(sorted(self._ids), np.int64)))
        _durably(directory / f"pdq-{snapshot}.faissbin",
                 lambda path: self._pdq.write(str(path)))
        _durably(directory / f"embedding-{snapshot}.faiss",
                 lambda path: self._embeddings.write(str(path)))
        manifest = {"format_version": FORMAT_VERSION, "snapshot": snapshot,
                    "thresholds": asdict(self.thresholds), **self._describe()}
        _durably(directory / "manifest.json",
                 lambda path: path.write_text(json.dumps(manifest)))
        fsync_directory(directory)
        self._delete_items(directory, self._removed)
        _delete_other_snapshots(directory, snapshot)
        self._directory = directory
        self._became_snapshot(snapshot)
        self._unsaved.clear()
        self._removed.clear()

    def _read_snapshot(self, directory: Path, manifest: dict) -> None:
        snapshot = manifest["snapshot"]
        pdq = PdqIndex.read(str(directory / f"pdq-{snapshot}.faissbin"),
                            manifest.get("pdq_index", {}), self._settings)
        embeddings = EmbeddingIndex.read(str(directory / f"embedding-{snapshot}.faiss"),
                                         manifest.get("embedding_index", {}), self._settings)
        ids = np.load(directory / f"ids-{snapshot}.npy", allow_pickle=False)
        if len(pdq) != len(ids) or len(embeddings) != len(ids):
            raise ValidationFailed(f"Duplicate index in {directory} is inconsistent; "
                                   f"rebuild it.", code="index_corrupt")
        self._pdq, self._embeddings = pdq, embeddings
        self._ids = {int(i) for i in ids}
        self._cache.clear()
        self._became_snapshot(snapshot)

    def _became_snapshot(self, snapshot: str) -> None:
        """Memory now is exactly `snapshot`, with none of its journal."""
        self._snapshot = snapshot
        self._snapshot_kinds = self._describe()
        self._journal_offset = 0
        self._journal_ids = 0
        self._needs_snapshot = False

    def _describe(self) -> dict:
        return {"pdq_index": self._pdq.describe(),
                "embedding_index": self._embeddings.describe()}

    def _write_unsaved_items(self, directory: Path) -> None:
        """The changed photos' items, flushed to disk with their directory entries: a
        record (or manifest) that names them is only written after this."""
        for photo_id, signature in self._unsaved.items():
            path = self._item_path(directory, photo_id)
            _write_item(path, signature)
            with open(path, "rb") as written:
                os.fsync(written.fileno())
        if self._unsaved:
            fsync_directory(directory / "items")

    def _delete_items(self, directory: Path, photo_ids) -> None:
        for photo_id in photo_ids:
            self._item_path(directory, photo_id).unlink(missing_ok=True)

    @staticmethod
    def _item_path(directory: Path | None, photo_id: int) -> Path:
        if directory is None:
            raise NotFound(f"Photo {photo_id} has no saved signature.", code="photo_not_indexed")
        return directory / "items" / f"{photo_id}.npz"


@dataclass(frozen=True, slots=True)
class SavedIndexStatus:
    """What the index saved in a directory holds, read without loading its FAISS files:
    for the console's Re-index page and `flask vision index-status`."""
    photos: int
    snapshot: str
    saved_at: datetime             # the snapshot's manifest, UTC
    pdq_kind: str                  # "flat", or the approximate kind once trained
    embedding_kind: str
    trained_on: int                # photos the approximate indexes learned from; 0 if flat
    approximate_from: int
    journal_records: int
    journal_ids: int
    journal_limit: int
    snapshot_bytes: int

    @property
    def journal_share(self) -> float:
        """How full the journal is: at 1.0 the next save writes a new snapshot."""
        return self.journal_ids / self.journal_limit if self.journal_limit else 1.0


def saved_status(directory: str | os.PathLike,
                 journal_limit: int = JOURNAL_LIMIT) -> SavedIndexStatus:
    """The saved index's status (NotFound index_not_found when none is saved,
    index_format_mismatch for another format). Complete journal records only, as a load
    would replay them."""
    directory = Path(directory)
    manifest = _read_manifest(directory)
    snapshot = manifest["snapshot"]
    snapshot_files = [directory / f"{stem}-{snapshot}{suffix}" for stem, suffix in
                      (("ids", ".npy"), ("pdq", ".faissbin"), ("embedding", ".faiss"))]
    ids = np.load(snapshot_files[0], mmap_mode="r", allow_pickle=False)
    records, _ = read_records(directory / f"journal-{snapshot}.log")
    final = final_states(records)
    touched = np.fromiter(final, np.int64, len(final))
    already = int(np.isin(touched, ids).sum()) if len(touched) else 0
    photos = len(ids) - already + sum(final.values())
    embedding_index = manifest.get("embedding_index", {})
    return SavedIndexStatus(
        photos=photos, snapshot=snapshot,
        saved_at=datetime.fromtimestamp((directory / "manifest.json").stat().st_mtime,
                                        UTC),
        pdq_kind=manifest.get("pdq_index", {}).get("kind", "flat"),
        embedding_kind=embedding_index.get("kind", "flat"),
        trained_on=int(embedding_index.get("trained_on", 0)),
        approximate_from=int(embedding_index.get("settings", {}).get(
            "approximate_from", DEFAULT_SETTINGS.approximate_from)),
        journal_records=len(records), journal_ids=sum(r.size for r in records),
        journal_limit=journal_limit,
        snapshot_bytes=sum(path.stat().st_size for path in snapshot_files))


def _read_manifest(directory: Path) -> dict:
    manifest_path = directory / "manifest.json"
    if not manifest_path.is_file():
        raise NotFound(f"No duplicate index in {directory}.", code="index_not_found")
    manifest = json.loads(manifest_path.read_text())
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ValidationFailed(
            f"Duplicate index format {manifest.get('format_version')} is not "
            f"{FORMAT_VERSION}; rebuild it.", code="index_format_mismatch")
    return manifest


def _delete_other_snapshots(directory: Path, snapshot: str) -> None:
    """Files of earlier snapshots (and format 3's unnamed ones) once the manifest no
    longer names them."""
    for pattern in ("ids-*.npy", "pdq-*.faissbin", "embedding-*.faiss", "journal-*.log"):
        for path in directory.glob(pattern):
            if f"-{snapshot}." not in path.name:
                path.unlink(missing_ok=True)
    for legacy in ("pdq.faissbin", "embedding.faiss"):
        (directory / legacy).unlink(missing_ok=True)


def _check_id(photo_id: int) -> int:
    if isinstance(photo_id, bool) or not isinstance(photo_id, int | np.integer) or photo_id < 0:
        raise ValidationFailed("Photo ids are non-negative integers.", code="invalid_photo_id")
    return int(photo_id)


def _durably(path: Path, write) -> None:
    """Write to a temporary name, flush it to disk, then rename: the name only ever holds
    a complete file."""
    temporary = path.with_name(path.name + ".tmp")
    write(temporary)
    with open(temporary, "rb+") as written:
        os.fsync(written.fileno())
    os.replace(temporary, path)


def _save_npy(path: Path, array: np.ndarray) -> None:
    with open(path, "wb") as file:       # a file object: np.save would append ".npy"
        np.save(file, array, allow_pickle=False)


def _write_item(path: Path, signature: Signature) -> None:
    view = signature.view
    temporary = path.with_name(path.name + ".tmp.npz")
    np.savez(temporary, pdq_quality=np.int32(signature.pdq_quality), phash=signature.phash,
             pdq=view.pdq, embedding=view.embedding, **stored_arrays(signature))
    os.replace(temporary, path)


def _read_item(path: Path) -> Signature:
    with np.load(path, allow_pickle=False) as data:
        view, trim, size = view_of_arrays(data, data["pdq"], data["embedding"])
        return Signature(pdq_quality=int(data["pdq_quality"]), phash=data["phash"],
                         trim=trim, size=size, view=view)
