"""Impressions of served pages: one RPUSH per page, written to `rec_impressions` in batches.

Why not an insert per request: the feed otherwise writes nothing, and on SQLite the
insert and its commit (an fsync) were about 5 ms of a 20 ms request; on PostgreSQL two
more round trips.  The page goes to Redis after the request commits (a page that was
not served is not an impression), and `flush_impressions` moves the buffer into the
table: the periodic job below, and the exposure dashboard before it reads.

A flush is safe to retry or to run twice at once:
  1. a lock (SET NX, expiring) lets one flush at a time through;
  2. the buffer is renamed to an in-flight list (atomic: pages served meanwhile start a
     new buffer); an in-flight list left by a flush that died is taken again first;
  3. its pages are inserted, skipping page keys already in the table (a flush that
     committed but died before step 4), and a unique index on (page_key, position)
     backs that up;
  4. after the commit the in-flight list is dropped and the lock released.
"""
from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterable
from datetime import datetime

import redis
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from foundation import db, jobs

from .models import FeedImpression

BUFFER = "rec:impressions:buffer"
INFLIGHT = "rec:impressions:inflight"
LOCK = "rec:impressions:flush-lock"
LOCK_SECONDS = 30   # a flush that rolled back holds it until it expires
CHUNK = 500
log = logging.getLogger(__name__)

# Deletes the lock only if this flush still holds it (it may have expired and been taken).
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


def buffer_page(s: Session, member_id: int, served_at: datetime,
                rows: Iterable[tuple[int, int, int, bool, str, str]]) -> None:
    """Queue a served page: rows of (listing, seller, position, flagged, seller tier,
    source).  Pushed once the request's transaction commits; never on rollback."""
    payload = json.dumps({"key": uuid.uuid4().hex, "member": member_id,
                          "served_at": served_at.isoformat(), "rows": [list(r) for r in rows]})
    if not s.in_transaction():
        s.begin()   # so that the coming commit (even of no rows) runs the push
    db.after_commit(s, lambda: _push(payload))


def _push(payload: str) -> None:
    try:
        jobs.connection().rpush(BUFFER, payload)
    except redis.RedisError:
        # Exposure statistics lose one page; the member still gets their feed.
        log.warning("feed impressions not buffered: Redis unavailable", exc_info=True)


def buffered_pages() -> int:
    """Pages waiting to be written (the buffer and any in-flight batch)."""
    r = jobs.connection()
    return int(r.llen(BUFFER)) + int(r.llen(INFLIGHT))


def flush_impressions(s: Session) -> int:
    """Write the buffered pages into `rec_impressions` in this unit of work; the number of
    rows written.  Returns 0 at once when another flush holds the lock."""
    r = jobs.connection()
    token = uuid.uuid4().hex
    if not r.set(LOCK, token, nx=True, ex=LOCK_SECONDS):
        return 0
    try:
        if not r.exists(INFLIGHT) and r.exists(BUFFER):
            r.rename(BUFFER, INFLIGHT)
        pages = [json.loads(raw) for raw in r.lrange(INFLIGHT, 0, -1)]
        written = _insert_new_pages(s, pages)
    except BaseException:
        _release(r, token)
        raise
    db.after_commit(s, lambda: _done(r, token))
    return written


def _insert_new_pages(s: Session, pages: list[dict]) -> int:
    if not pages:
        return 0
    keys = [page["key"] for page in pages]
    written_before: set[str] = set()
    for start in range(0, len(keys), CHUNK):
        written_before.update(s.scalars(select(FeedImpression.page_key).distinct().where(
            FeedImpression.page_key.in_(keys[start:start + CHUNK]))))
    rows = [_row(page, row) for page in pages if page["key"] not in written_before
            for row in page["rows"]]
    for start in range(0, len(rows), CHUNK):
        s.execute(insert(FeedImpression), rows[start:start + CHUNK])
    return len(rows)


def _row(page: dict, row: list) -> dict:
    listing_id, seller_id, position, flagged, tier, source = row
    return {"member_id": page["member"], "listing_id": listing_id, "seller_id": seller_id,
            "position": position, "flagged": bool(flagged), "seller_tier": tier,
            "source": source, "served_at": datetime.fromisoformat(page["served_at"]),
            "page_key": page["key"]}


def _done(r: redis.Redis, token: str) -> None:
    r.delete(INFLIGHT)
    _release(r, token)


def _release(r: redis.Redis, token: str) -> None:
    r.eval(_RELEASE, 1, LOCK, token)
