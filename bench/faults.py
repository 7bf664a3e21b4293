"""Money through faults: N orders through checkout, delivery, disputes (refunds, splits,
releases), acceptance, payouts and cancellations, while worker processes are killed with
SIGKILL at random moments, Redis is crashed and restarted (no persistence: its queued jobs
vanish) and the payment provider and the bank fail a share of calls.  Then the outbox
drains and `flask reconcile --json` compares the ledger with what the provider and the
bank received.

    .venv/bin/python -m bench.faults --orders 300 --json /tmp/faults.json

Goal: 0 missing, 0 duplicated, 0 unbalanced.  Reported: throughput of the driven flows,
the longest (and p50/p95) delay from an effect's commit to its delivery, the kills and
restarts done, and how often references were sent again (the faults at work).
"""
from __future__ import annotations

import marketplace_core.media  # noqa: F401  isort: skip

import argparse
import random
import secrets
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis
from rq import Worker
from sqlalchemy.exc import OperationalError

from bench.common import percentiles, write_json
from console import create_app
from foundation import db, jobs
from foundation.config import Settings
from foundation.migrations import upgrade
from marketplace_core.orders import payments, payouts
from tests.faults import shop
from tests.faults.effects import drained, outbox_rows, reconcile, revive_exited, wait_for
from tests.faults.harness import Cluster, RedisServer

FLOWS = ("cancel", "refund", "split", "release", "accept")


@dataclass(eq=False)
class Chaos(threading.Thread):
    """Kills workers and restarts Redis at random moments until both quotas are met and
    the driver says stop; starts again any worker that died (as a supervisor would)."""

    cluster: Cluster
    server: RedisServer
    kills: int
    restarts: int
    spread_seconds: float
    rng: random.Random
    done: threading.Event = field(default_factory=threading.Event)
    log: dict = field(default_factory=lambda: {"horse": 0, "worker": 0, "redis": 0,
                                               "revived": 0})

    def __post_init__(self):
        super().__init__(daemon=True)

    def run(self) -> None:
        events = ["kill"] * self.kills + ["restart"] * self.restarts
        self.rng.shuffle(events)
        gap = self.spread_seconds / max(1, len(events))
        for event in events:
            self._sleep(self.rng.uniform(0.3, 1.7) * gap)
            if event == "kill":
                self._kill()
            else:
                self.server.restart(down_seconds=self.rng.uniform(0.2, 1.5))
                self.log["redis"] += 1
        while not self.done.is_set():
            self._sleep(0.5)

    def _sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.log["revived"] += len(revive_exited(self.cluster))
            time.sleep(0.1)

    def _kill(self) -> None:
        name = self.rng.choice(self.cluster.worker_names())
        if self.rng.random() < 0.5 and self.cluster.kill_horse(name) is not None:
            self.log["horse"] += 1
            return
        self.cluster.kill_worker(name)
        self.log["worker"] += 1
        self.cluster.restart_worker(name)


def with_retries(step, *args, tries: int = 40):
    """A client's retry of a step that met Redis down or the database busy."""
    for attempt in range(tries):
        try:
            return step(*args)
        except (redis.RedisError, OperationalError):
            if attempt == tries - 1:
                raise
            time.sleep(0.25)
    return None


def drive(flow: str, agent: int, rng: random.Random) -> None:
    sale = with_retries(shop.sale)
    with_retries(shop.set_bank_account, sale.seller_id)
    if flow == "cancel":
        with_retries(shop.cancel, sale)
        return
    with_retries(shop.deliver, sale)
    if flow == "accept":
        with_retries(shop.accept, sale)
    elif flow == "refund":
        with_retries(shop.close_case, sale, agent, "refund_without_return")
    elif flow == "split":
        with_retries(shop.close_case, sale, agent, "split", rng.randrange(1_000, shop.PRICE))
    else:
        with_retries(shop.close_case, sale, agent, "release_to_seller")


def delays_ms() -> list[float]:
    return [(row.delivered_at - row.created_at).total_seconds() * 1000
            for row in outbox_rows() if row.delivered_at is not None]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--restarts", type=int, default=5)
    parser.add_argument("--faults", default="timeout=0.04,error=0.03,lost=0.03",
                        help="PROVIDER_FAULTS for the workers (10%% of calls fail)")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--drain-timeout", type=float, default=600)
    parser.add_argument("--no-anchor", action="store_true",
                        help="skip the same run without faults (the anchor of the ratios)")
    parser.add_argument("--json", dest="json_out")
    args = parser.parse_args(argv)
    result = {"command": "python -m bench.faults " + " ".join(sys.argv[1:]),
              "with_faults": run(args, faulty=True)}
    if not args.no_anchor:
        anchor = run(args, faulty=False)
        result["anchor_without_faults"] = anchor
        faulty = result["with_faults"]
        result["ratios_faults_to_anchor"] = {
            "orders_per_second": round(faulty["orders_per_second"]
                                       / anchor["orders_per_second"], 2),
            "max_delay": round(faulty["delay_commit_to_delivery_ms"]["max"]
                               / anchor["delay_commit_to_delivery_ms"]["max"], 2),
            "p50_delay": round(faulty["delay_commit_to_delivery_ms"]["p50"]
                               / anchor["delay_commit_to_delivery_ms"]["p50"], 2)}
    write_json(args.json_out, result)
    return result


def run(args, *, faulty: bool) -> dict:
    """One run on a fresh database, Redis and instance folder: with the faults, or
    (`faulty` off) the same orders with none, as the anchor."""
    rng = random.Random(args.seed)
    kills, restarts = (args.kills, args.restarts) if faulty else (0, 0)
    provider_faults = args.faults if faulty else ""
    folder = Path(tempfile.mkdtemp(prefix="bench-faults-"))
    database_url = f"sqlite:///{folder / 'app.db'}"
    upgrade(database_url)
    db.dispose_all()
    server = RedisServer(folder / "redis").start()
    instance = folder / "instance"
    instance.mkdir()
    cluster = Cluster(instance=instance, database_url=database_url, redis_url=server.url,
                      extra_env={"PERIODIC_BEAT_SECONDS": "1",
                                 "OUTBOX_SWEEP_GRACE_SECONDS": "5"})
    settings = Settings.from_env(
        environ={}, APP_ENV="development", INSTANCE_PATH=str(instance),
        DATABASE_URL=database_url, REDIS_URL=server.url,
        SECRET_KEY="bench-faults-" + secrets.token_hex(24), PASSWORD_HASH_TIME_COST=1,
        PASSWORD_HASH_MEMORY_KIB=1024, PASSWORD_HASH_PARALLELISM=1,
        VISION_SIGN_ON_UPLOAD=False)
    app = create_app(settings)
    try:
        with app.app_context():
            for number in range(args.workers):
                cluster.start_worker(f"worker-{number}", PROVIDER_FAULTS=provider_faults,
                                     VISION_SIGN_ON_UPLOAD="false")
            agent = shop.staff_member(settings)
            wait_for(cluster, lambda: len(Worker.all(connection=jobs.connection()))
                     >= args.workers, 120, "the workers to start")
            flows = [FLOWS[i % len(FLOWS)] for i in range(args.orders)]
            rng.shuffle(flows)
            # Spread the faults over the expected drive (about 0.5 s an order here).
            chaos = Chaos(cluster, server, kills, restarts,
                          spread_seconds=max(30.0, args.orders * 0.5), rng=rng)
            chaos.start()
            started = time.monotonic()
            for number, flow in enumerate(flows, 1):
                drive(flow, agent, rng)
                if number % 50 == 0:
                    with_retries(shop.run_payouts)
                if number % 25 == 0:
                    sys.stderr.write(f"\r{number}/{args.orders} orders driven, "
                                     f"faults so far {chaos.log}")
            with_retries(shop.run_payouts)
            drive_seconds = time.monotonic() - started
            sys.stderr.write("\nwaiting for the chaos quota and the outbox to drain\n")
            while chaos.is_alive() and (chaos.log["horse"] + chaos.log["worker"] < kills
                                        or chaos.log["redis"] < restarts):
                time.sleep(0.5)
            deadline = time.monotonic() + args.drain_timeout
            while not drained() and time.monotonic() < deadline:
                revive_exited(cluster)
                time.sleep(1)
            chaos.done.set()
            drained_seconds = time.monotonic() - started
            report = reconcile(cluster)
            return summarise(args, provider_faults, flows, chaos.log, drive_seconds,
                             drained_seconds, report)
    finally:
        cluster.stop()
        server.stop()
        db.dispose_all()
        shutil.rmtree(folder, ignore_errors=True)


def summarise(args, provider_faults: str, flows: list[str], chaos: dict,
              drive_seconds: float, drained_seconds: float, report: dict) -> dict:
    rows = outbox_rows()
    states: dict[str, dict[str, int]] = {}
    for row in rows:
        by_state = states.setdefault(str(row.kind), {})
        by_state[str(row.state)] = by_state.get(str(row.state), 0) + 1
    sent = [*payments.provider().requests_sent("refund").values(),
            *payouts.bank().requests_sent().values()]
    delays = delays_ms()
    return {
        "orders": args.orders, "workers": args.workers, "provider_faults": provider_faults,
        "flows": {flow: flows.count(flow) for flow in FLOWS},
        "faults_done": {"horse_kills": chaos["horse"], "worker_kills": chaos["worker"],
                        "redis_restarts": chaos["redis"],
                        "workers_revived_after_dying": chaos["revived"]},
        "drive_seconds": round(drive_seconds, 1),
        "orders_per_second": round(args.orders / drive_seconds, 2),
        "seconds_until_drained": round(drained_seconds, 1),
        "effects": states,
        "references_sent_again": sum(n - 1 for n in sent if n > 1),
        "delay_commit_to_delivery_ms": {**percentiles(delays), "max": round(max(delays), 1)}
        if delays else {},
        "reconcile": {side: {"ledger": report[side]["ledger"],
                             "provider": report[side]["provider"],
                             "missing": len(report[side]["missing"]),
                             "duplicated": len(report[side]["duplicated"]),
                             "mismatched": len(report[side].get("mismatched", []))}
                      for side in ("refunds", "payouts")},
        "reconcile_exit_status": report["exit_status"],
        "dead_effects": len(report.get("dead", [])),
        "unbalanced": len(shop.books_problems()),
    }


if __name__ == "__main__":
    main()
