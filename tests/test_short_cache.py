"""Counts a page shows over a whole queue are kept in Redis for a few seconds, recounted
after that, recounted on every request when the setting is 0, and recounted (never an
error) when Redis is away."""
from dataclasses import replace

import redis

from console import create_app
from foundation import jobs
from foundation.short_cache import KEY_PREFIX, remembered


class Counter:
    def __init__(self):
        self.calls = 0

    def __call__(self) -> dict[str, int]:
        self.calls += 1
        return {"queued": 100_000 + self.calls, "claimed": 3}


def test_a_count_is_kept_for_the_configured_seconds_then_made_again(settings):
    app = create_app(replace(settings, PAGE_COUNTS_CACHE_SECONDS=15))
    count = Counter()
    with app.app_context():
        connection = jobs.connection()
        connection.delete(KEY_PREFIX + "queue.counts")
        first = remembered("queue.counts", count)
        assert remembered("queue.counts", count) == first == {"queued": 100_001, "claimed": 3}
        assert count.calls == 1
        assert 0 < connection.ttl(KEY_PREFIX + "queue.counts") <= 15
        connection.delete(KEY_PREFIX + "queue.counts")  # as when the seconds are up
        assert remembered("queue.counts", count) == {"queued": 100_002, "claimed": 3}
        assert count.calls == 2


def test_zero_seconds_counts_on_every_request(app):
    count = Counter()
    with app.app_context():
        assert remembered("queue.counts", count)["queued"] == 100_001
        assert remembered("queue.counts", count)["queued"] == 100_002
        assert not jobs.connection().exists(KEY_PREFIX + "queue.counts")


def test_redis_away_means_counting_not_failing(settings):
    app = create_app(replace(settings, PAGE_COUNTS_CACHE_SECONDS=15))
    count = Counter()
    with app.app_context():
        working = jobs.connection()
        jobs.init(redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2))
        try:
            assert remembered("queue.counts", count)["queued"] == 100_001
            assert remembered("queue.counts", count)["queued"] == 100_002
        finally:
            jobs.init(working)
