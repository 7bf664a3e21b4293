"""The web app and a worker started as separate OS processes, as an operator or a
supervisor starts them, share one Redis every time: an uploaded photo is signed, a timer
fires and a refund job runs, ten rounds in a row, each with fresh processes that race to
start, and each after the worker has idled past a Redis client's socket timeout.

On the embedded default neither process is told where Redis is: both must find the
instance's one embedded server.  With REDIS_URL set (CI), both use that server.
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import time
from datetime import timedelta

import cv2
import numpy as np
import pytest
from rq.job import Job
from sqlalchemy import create_engine, text

from foundation import clock, jobs, redis_conn
from foundation.maintenance import purge_old_sessions
from tests.conftest import _empty_postgres
from tests.deployment import Deployment

ROUNDS = 10
# Longer than redis-py's default socket timeout (5 s), the one a blocking dequeue outlived.
IDLE_SECONDS = 6
CONNECTION_ERRORS = ("could not connect to Redis", "Timeout reading from socket",
                     "Connection closed by server", "Error while reading")


@pytest.fixture
def deployments(tmp_path, backing_services):
    """Deployments on one migrated database (a copy of the suite's migrated SQLite template
    on the embedded default), each in an instance folder of its own, so each starts from no
    Redis at all."""
    external_db = os.environ.get("DATABASE_URL", "")
    database_url = external_db or f"sqlite:///{tmp_path / 'app.db'}"
    made: list[Deployment] = []

    def make(name: str) -> Deployment:
        instance = tmp_path / name
        instance.mkdir()
        deployment = Deployment(instance=instance, database_url=database_url,
                                redis_url=os.environ.get("REDIS_URL", ""),
                                extra_env={"PERIODIC_BEAT_SECONDS": "2"})
        made.append(deployment)
        return deployment

    if external_db:
        _empty_postgres(external_db)
    else:
        shutil.copy(backing_services["template"], tmp_path / "app.db")
    yield make
    for deployment in made:
        deployment.stop()
        redis_conn.release_embedded(str(deployment.instance))
        redis_conn.stop_embedded_if_unused(str(deployment.instance))


def test_separate_web_and_worker_processes_share_one_redis_every_time(deployments):
    seller = None
    delays = []
    rounds = [deployments(f"round-{number}") for number in range(ROUNDS)]
    for number, deployment in enumerate(rounds):
        deployment.start()
        if seller is None:
            _, seller = deployment.register()
        delays.append(_one_round(deployment, seller, number))
        deployment.signal_stop()  # the next round need not wait for this one to end
    for deployment in rounds:
        deployment.stop()
        assert _connection_errors(deployment) == []
        if not deployment.redis_url:
            assert redis_conn.running_embedded_servers(str(deployment.instance)) == 0
    print(f"upload to signature over {ROUNDS} rounds: "
          f"{', '.join(f'{d:.2f}' for d in delays)} s")


def _one_round(deployment: Deployment, seller: str, number: int) -> float:
    """Idle, then upload a photo, fire a timer and run a refund; the upload's seconds to
    its signature."""
    time.sleep(IDLE_SECONDS)
    started = time.monotonic()
    listing_id, photo_id = _listing_with_photo(deployment, seller, number)
    deployment.wait_until(lambda: _signed(deployment, photo_id), 60,
                          f"photo {photo_id} to be signed (round {number})")
    delay = time.monotonic() - started
    _timer_fires(deployment)
    _refund_job_runs(deployment, listing_id)
    _release_this_process(deployment)
    return delay


def test_the_embedded_server_is_one_and_stops_when_its_last_process_leaves(deployments):
    if os.environ.get("REDIS_URL"):
        pytest.skip("a configured Redis is the operator's to run")
    deployment = deployments("status")
    deployment.start()
    url = redis_conn.embedded_url(str(deployment.instance))
    status = deployment.run_cli("rq-status", "--json").stdout
    assert f'"redis": "{url}"' in status
    assert redis_conn.running_embedded_servers(str(deployment.instance)) == 1
    deployment.stop()
    redis_conn.release_embedded(str(deployment.instance))
    assert redis_conn.running_embedded_servers(str(deployment.instance)) == 0


def _connection_errors(deployment: Deployment) -> list[str]:
    return [line for line in deployment.log("worker").splitlines()
            if any(marker in line for marker in CONNECTION_ERRORS)]


def _listing_with_photo(deployment: Deployment, token: str, seed: int) -> tuple[int, int]:
    listing = deployment.request("POST", "/api/v1/listings", {
        "title": f"Chikankari kurta {seed}", "description": "Hand embroidered, worn twice.",
        "brand": "Lucknow Looms", "category": "kurtas", "size": "M",
        "condition": "like_new", "colour": "white", "price_paise": 250_000}, token)
    assert listing.status == 201, listing.body
    listing_id = listing.body["id"]
    photo = deployment.upload(f"/api/v1/listings/{listing_id}/photos", _photo(seed), token)
    assert photo.status == 201, photo.body
    published = deployment.request("POST", f"/api/v1/listings/{listing_id}/publish",
                                   token=token)
    assert published.status == 200, published.body
    return listing_id, photo.body["id"]


def _photo(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    image = np.full((640, 480, 3), rng.integers(150, 230, 3), np.uint8)
    for _ in range(12):
        centre = tuple(int(v) for v in rng.integers(40, 440, 2))
        colour = tuple(int(v) for v in rng.integers(0, 255, 3))
        cv2.circle(image, centre, int(rng.integers(10, 90)), colour, -1)
    return cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()


def _signed(deployment: Deployment, photo_id: int) -> bool:
    engine = _engine(deployment)
    with engine.connect() as connection:
        return connection.execute(text(
            "SELECT count(*) FROM vision_photo_signatures WHERE photo_id = :id"),
            {"id": photo_id}).scalar() == 1


def _timer_fires(deployment: Deployment) -> None:
    """A timer armed from a third process (as the CLI would) fires in the worker."""
    jobs.init(redis_conn.connect(deployment.redis_url, str(deployment.instance)))
    timer = purge_old_sessions.enqueue_now(at=clock.now() + timedelta(seconds=1))
    deployment.wait_until(lambda: _finished(timer.id), 60, "the timer to fire")


def _refund_job_runs(deployment: Deployment, listing_id: int) -> None:
    _, buyer = deployment.register()
    order = deployment.request("POST", "/api/v1/orders", {
        "listing_id": listing_id, "payment_method": "test_card_ok"}, buyer)
    assert order.status == 201, order.body
    cancelled = deployment.request("POST", f"/api/v1/orders/{order.body['id']}/cancel",
                                   {"reason": "ordered the wrong size"}, buyer)
    assert cancelled.status == 200, cancelled.body
    deployment.wait_until(lambda: _refund_finished(deployment, order.body["id"]), 60,
                          f"the refund job of order {order.body['id']}")


def _finished(job_id: str) -> bool:
    return Job.fetch(job_id, connection=jobs.connection()).is_finished


def _refund_finished(deployment: Deployment, order_id: int) -> bool:
    """The worker delivered the order's refund effect and the provider (its own store in
    the deployment's instance folder) holds that refund."""
    with _engine(deployment).connect() as connection:
        delivered = connection.execute(text(
            "SELECT reference FROM outbox_effects WHERE order_id = :id AND kind = 'card_refund'"
            " AND state = 'delivered'"), {"id": order_id}).scalars().all()
    store = deployment.instance / "providers" / "payments.sqlite3"
    if not delivered or not store.exists():
        return False
    with sqlite3.connect(store) as provider:
        received = provider.execute("SELECT count(*) FROM refunds WHERE reference = ?",
                                    (delivered[0],)).fetchone()[0]
    return received == 1


def _release_this_process(deployment: Deployment) -> None:
    """This test process joined the embedded server like a CLI; leave it, so that the next
    round's processes race to start a fresh one."""
    if not deployment.redis_url:
        redis_conn.release_embedded(str(deployment.instance))


_engines: dict[str, object] = {}


def _engine(deployment: Deployment):
    if deployment.database_url not in _engines:
        _engines[deployment.database_url] = create_engine(deployment.database_url)
    return _engines[deployment.database_url]
