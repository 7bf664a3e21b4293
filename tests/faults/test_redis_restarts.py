"""A real redis-server stopped (SIGKILL, nothing saved) and started again while work is in
flight.  Redis runs without persistence here, as the embedded default and many production
servers configured as a cache do: every queued, scheduled and running job's record is gone
after the restart.  What brings the work back is the database: the outbox's sweep for
money, the photo sweep for signatures, and the beat that fires every sweep again at once
when its time-slot keys vanished with the data."""
from __future__ import annotations

import random
import threading
import time
from functools import partial

import redis

from tests.faults import shop
from tests.faults.effects import (
    drained,
    outbox_rows,
    reconcile,
    refunded_per_order_at_provider,
    signed,
    wait_for,
)

RECOVERY_SECONDS = 150


def test_photos_queued_when_redis_restarts_are_all_signed(app, cluster, redis_server):
    cluster.start_worker("worker", queues="photos,vision")
    seller = shop.member("seller")
    photo_ids = []
    for _ in range(4):
        listing_id = shop.listing(seller, real_photo=True)
        photo_ids += [shop.add_photo(seller, listing_id) for _ in range(5)]
    redis_server.restart()   # the queued jobs and the claims of the running one vanish
    wait_for(cluster, lambda: all(signed(p) for p in photo_ids), RECOVERY_SECONDS,
             "every photo to be signed after the restart")


def test_every_refund_of_a_burst_through_redis_restarts_reaches_the_provider_once(
        app, settings, cluster, redis_server):
    """Orders, cancellations and dispute refunds (full and split) and releases, while Redis
    is restarted three times; two workers, one of them killed once too."""
    cluster.start_worker("worker-1")
    cluster.start_worker("worker-2")
    agent = shop.staff_member(settings)
    restarts = Restarter(redis_server, times=3, every=1.5).start()
    outcomes = burst(agent, orders=12, seed=14)
    cluster.kill_worker("worker-2")
    cluster.restart_worker("worker-2")
    restarts.join()
    assert redis_server.restarts == 3
    wait_for(cluster, drained, RECOVERY_SECONDS, "the outbox to drain after the restarts")
    assert {str(row.state) for row in outbox_rows()} == {"delivered"}
    ledger = shop.ledger_refunds()
    assert len(ledger) >= outcomes["refunding"] > 0
    assert refunded_per_order_at_provider() == ledger
    assert shop.books_problems() == []
    report = reconcile(cluster)
    assert report["exit_status"] == 0, report
    assert report["refunds"]["missing"] == [] and report["refunds"]["duplicated"] == []
    assert report["refunds"]["ledger"] == report["refunds"]["provider"] == len(ledger)


class Restarter(threading.Thread):
    """Restarts Redis `times` times, `every` seconds apart, beside the burst."""

    def __init__(self, server, *, times: int, every: float):
        super().__init__(daemon=True)
        self.server, self.times, self.every = server, times, every

    def run(self) -> None:
        for _ in range(self.times):
            time.sleep(self.every)
            self.server.restart(down_seconds=0.5)

    def start(self) -> Restarter:
        super().start()
        return self


def burst(agent: int, *, orders: int, seed: int) -> dict[str, int]:
    """Orders driven to each money outcome in turn; a step that meets Redis down is tried
    again, as a client would (a committed step is not repeated: its state moved on)."""
    rng = random.Random(seed)
    counts = {"refunding": 0, "released": 0}
    for number in range(orders):
        sale = with_retries(shop.sale)
        kind = number % 4
        if kind == 0:
            with_retries(partial(shop.cancel, sale))
            counts["refunding"] += 1
            continue
        with_retries(partial(shop.deliver, sale))
        if kind == 1:
            with_retries(partial(shop.close_case, sale, agent, "refund_without_return"))
            counts["refunding"] += 1
        elif kind == 2:
            part = rng.randrange(1_000, shop.PRICE)
            with_retries(partial(shop.close_case, sale, agent, "split", part))
            counts["refunding"] += 1
        else:
            with_retries(partial(shop.close_case, sale, agent, "release_to_seller"))
            counts["released"] += 1
    return counts


def with_retries(step, tries: int = 20):
    for attempt in range(tries):
        try:
            return step()
        except redis.RedisError:
            if attempt == tries - 1:
                raise
            time.sleep(0.3)
    return None
