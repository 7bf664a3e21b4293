"""Counts that pages show and that cost too much to recount on every request (a GROUP BY
over a 100k-row queue), kept in the app's Redis for a few seconds.

PAGE_COUNTS_CACHE_SECONDS says how long; 0 recounts every time (the test settings, where
a page must show the count right after the change that made it).  Redis being away never
fails a page: the count is then made from the database as if nothing were kept.
"""
from __future__ import annotations

import json
from collections.abc import Callable

import redis

from foundation import jobs
from foundation.config import current as settings

KEY_PREFIX = "page-counts:"


def remembered(name: str, count: Callable[[], dict[str, int]]) -> dict[str, int]:
    seconds = settings().PAGE_COUNTS_CACHE_SECONDS
    if seconds <= 0:
        return count()
    key = KEY_PREFIX + name
    try:
        kept = jobs.connection().get(key)
    except redis.RedisError:
        kept = None
    if kept is not None:
        return json.loads(kept)
    value = count()
    try:
        jobs.connection().set(key, json.dumps(value), ex=seconds)
    except redis.RedisError:
        pass  # the next request counts again
    return value
