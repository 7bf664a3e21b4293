"""The persistent duplicate index, shared safely by every vision worker.

The database (vision_photo_signatures) is the truth; the DuplicateIndex on disk under
<INSTANCE_PATH>/vision/duplicate-index is a cache of its `indexed` rows. Two rules make
that safe with any number of workers:

- One writer at a time: every load-change-save happens under a Redis lock, so two
  workers can never each save an index missing the other's additions (a lost update).
- Catch up when stale, and reconcile on every snapshot read: a worker keeps the index in
  memory while the save generation (a Redis counter bumped by every save, under the lock)
  is the one it saved last; when another worker saved since, it refreshes: it replays
  the journal records written since (DuplicateIndex.refresh), or reads the new snapshot
  when another worker compacted. After reading a snapshot it adds the signed photos the
  index lacks (from their rows) and drops the ids whose listing photo no longer exists.
  A missing or damaged index is rebuilt from the rows the same way.

A catch-up from the journal alone skips that reconcile: the records are what other
workers changed under the lock on copies that were themselves reconciled when read, so
memory ends as theirs did. Reconciling costs a query of every signed photo id (at 1M rows
0.84 s on SQLite, against 0.03 s to replay 100 saves: docs/BENCHMARKS.md) per catch-up,
which is what the journal is there to avoid. What only a reconcile
repairs (a job that rolled back after saving, whose retry did not come) is repaired at
the next snapshot read: a compaction, a new worker process, or a damaged index.

The lock is released before the job's transaction commits, so another worker may see a
photo in the index before its signature row is visible. That is why reconcile drops only
photos that are gone from listing_photos, never "indexed but not yet signed" ones; and a
job that rolls back after saving leaves a real photo in the index, which its retry
re-adds (an add replaces).
"""
from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from foundation import jobs
from foundation.config import current as settings
from foundation.errors import Conflict, NotFound, ValidationFailed
from marketplace_core.listings.models import ListingPhoto
from vision.index import DuplicateIndex, SavedIndexStatus
from vision.index import saved_status as index_saved_status
from vision.matching import DEFAULT_THRESHOLDS
from vision.models import PhotoSignature, SignatureState
from vision.signature_rows import signature_of_row

log = logging.getLogger(__name__)
LOCK_SECONDS = 600          # longer than any batch holds it; a dead holder's lock expires
_RECONCILE_CHUNK = 500


@dataclass
class _Cached:
    directory: Path
    index: DuplicateIndex
    generation: int | None              # the save generation this copy is


_cache: dict[Path, _Cached] = {}


def index_directory() -> Path:
    return Path(settings().INSTANCE_PATH) / "vision" / "duplicate-index"


@contextlib.contextmanager
def locked_index(s: Session) -> Iterator[DuplicateIndex]:
    """The current index, exclusively; saved when the block ends without an error."""
    directory = index_directory()
    lock = jobs.connection().lock(f"vision:duplicate-index:{directory}", timeout=LOCK_SECONDS,
                                  blocking_timeout=LOCK_SECONDS)
    if not lock.acquire():
        raise TimeoutError("the duplicate index stayed locked too long")
    generation_key = _generation_key(directory)
    try:
        cached = _current(s, directory, _generation(generation_key))
        try:
            yield cached.index
            cached.index.save(directory)
            cached.generation = int(jobs.connection().incr(generation_key))
        except BaseException:
            _cache.pop(directory, None)   # memory may hold changes the disk does not
            raise
    finally:
        with contextlib.suppress(Exception):  # an expired lock is already gone
            lock.release()


def hold_copy(s: Session) -> None:
    """Load this process's copy of the saved index, or catch it up, without the lock and
    without ever saving: for a worker whose forked horses inherit the copy
    (vision.prefork).  The save generation is read before the files, so the copy holds at
    least what that generation saved (a save writes its files, then counts); a horse that
    finds the generation moved on catches up under the lock.  A copy that cannot be
    brought up to date cleanly (no index saved yet, a snapshot replaced while read) is
    dropped: the horse then loads the index under the lock, as a cold process does."""
    directory = index_directory()
    generation = _generation(_generation_key(directory))
    cached = _cache.get(directory)
    if cached is not None and generation is not None and cached.generation == generation:
        return
    try:
        if cached is None:
            cached = _Cached(directory, DuplicateIndex.load(directory,
                                                            thresholds=DEFAULT_THRESHOLDS),
                             generation)
            reconcile(s, cached.index)
        elif cached.index.refresh():
            reconcile(s, cached.index)
    except NotFound:   # nothing saved yet: nothing to hold, and nothing worth a log line
        _cache.pop(directory, None)
        return
    except Exception as exc:  # noqa: BLE001 - a damaged FAISS file raises RuntimeError and others
        _cache.pop(directory, None)
        log.info("duplicate index not held by this worker (%s: %s); its jobs load it",
                 type(exc).__name__, exc)
        return
    cached.generation = generation
    _cache[directory] = cached


def saved_status() -> SavedIndexStatus | None:
    """The shared index as saved (no lock needed: the manifest is replaced by a rename and
    only complete journal records are read); None when none is saved yet or it is of an
    older format that the next job rebuilds."""
    try:
        return index_saved_status(index_directory())
    except (NotFound, ValidationFailed):
        return None


def forget_cached_index() -> None:
    """Drop what this process holds in memory (tests, and after a directory is wiped)."""
    _cache.clear()


def _current(s: Session, directory: Path, generation: int | None) -> _Cached:
    cached = _cache.get(directory)
    if cached is not None and generation is not None and cached.generation == generation:
        return cached
    if cached is not None and _caught_up(s, cached.index):
        cached.generation = generation
        return cached
    index = _load_or_empty(directory)
    reconcile(s, index)
    cached = _Cached(directory, index, generation)
    _cache[directory] = cached
    return cached


def _caught_up(s: Session, index: DuplicateIndex) -> bool:
    """Bring a stale copy up to date in place; False when it cannot be (a full load
    follows)."""
    try:
        read_snapshot = index.refresh()
    except (NotFound, ValidationFailed, Conflict) as exc:
        log.warning("duplicate index copy could not catch up (%s); loading it", exc.code)
        return False
    except Exception:  # noqa: BLE001 - a damaged FAISS file raises RuntimeError and others
        log.exception("duplicate index copy could not catch up; loading it")
        return False
    if read_snapshot:
        reconcile(s, index)
    return True


def _generation_key(directory: Path) -> str:
    return f"vision:duplicate-index-generation:{directory}"


def _generation(key: str) -> int | None:
    value = jobs.connection().get(key)
    return None if value is None else int(value)


def _load_or_empty(directory: Path) -> DuplicateIndex:
    """The saved index, or an empty one to rebuild."""
    try:
        return DuplicateIndex.load(directory, thresholds=DEFAULT_THRESHOLDS)
    except (NotFound, ValidationFailed) as exc:
        log.warning("duplicate index at %s unusable (%s); rebuilding from the database",
                    directory, exc.code)
    except Exception:  # noqa: BLE001 - a damaged FAISS file raises RuntimeError and others
        log.exception("duplicate index at %s unreadable; rebuilding from the database",
                      directory)
    return DuplicateIndex(DEFAULT_THRESHOLDS)


def reconcile(s: Session, index: DuplicateIndex) -> tuple[int, int]:
    """Make the index hold every signed photo and no deleted one; returns (added,
    dropped)."""
    in_index = index.ids
    signed = set(s.scalars(select(PhotoSignature.photo_id).where(
        PhotoSignature.state == SignatureState.INDEXED)))
    missing = sorted(signed - in_index)
    for start in range(0, len(missing), _RECONCILE_CHUNK):
        rows = s.scalars(select(PhotoSignature).where(
            PhotoSignature.photo_id.in_(missing[start:start + _RECONCILE_CHUNK])))
        for row in rows:
            index.add(row.photo_id, signature_of_row(row))
    extra = in_index - signed
    existing = _existing_photos(s, extra)
    gone = sorted(extra - existing)
    for photo_id in gone:
        index.remove(photo_id)
    if missing or gone:
        log.info("duplicate index reconciled: %d added, %d dropped", len(missing), len(gone))
    return len(missing), len(gone)


def _existing_photos(s: Session, photo_ids: set[int]) -> set[int]:
    found: set[int] = set()
    ordered = sorted(photo_ids)
    for start in range(0, len(ordered), _RECONCILE_CHUNK):
        found.update(s.scalars(select(ListingPhoto.id).where(
            ListingPhoto.id.in_(ordered[start:start + _RECONCILE_CHUNK]))))
    return found
