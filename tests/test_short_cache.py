"""Counts a page shows over a whole queue are kept in Redis for a few seconds, recounted
after that, recounted on every request when the setting is 0, and recounted (never an
error) when Redis is away."""
import re
from dataclasses import replace

import redis

from console import create_app
from foundation import jobs
from foundation.short_cache import KEY_PREFIX, remembered
from tests.builders.cases import pending_listing
from tests.builders.members import register
from tests.helpers import signed_in

QUEUED_ONE = r'<span class="auth-count-n">1</span> queued'


def cached_app(settings):
    app = create_app(replace(settings, PAGE_COUNTS_CACHE_SECONDS=15))
    app.extensions["redis"].flushdb()
    return app


class Counter:
    def __init__(self):
        self.calls = 0

    def __call__(self) -> dict[str, int]:
        self.calls += 1
        return {"queued": 100_000 + self.calls, "claimed": 3}


def test_a_count_is_kept_for_the_configured_seconds_then_made_again(settings):
    app = cached_app(settings)
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
    app = cached_app(settings)
    count = Counter()
    with app.app_context():
        working = jobs.connection()
        jobs.init(redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2))
        try:
            assert remembered("queue.counts", count)["queued"] == 100_001
            assert remembered("queue.counts", count)["queued"] == 100_002
        finally:
            jobs.init(working)


def test_the_queue_page_shows_the_kept_counts_until_they_expire(settings, staff):
    app = cached_app(settings)
    client = app.test_client()
    owner = register(client)
    pending_listing(client, owner)
    signed_in(client, staff, "authenticator")
    assert re.search(QUEUED_ONE, client.get("/console/authentication/").get_data(as_text=True))
    second = pending_listing(client, owner)
    page = client.get("/console/authentication/").get_data(as_text=True)
    assert re.search(QUEUED_ONE, page)  # the kept count
    assert f'/console/listings/photo/{second["photos"][0]["id"]}/320' in page  # items are live
    with app.app_context():
        jobs.connection().delete(KEY_PREFIX + "authentication.open_counts")
    page = client.get("/console/authentication/").get_data(as_text=True)
    assert re.search(r'<span class="auth-count-n">2</span> queued', page)
